"""送温暖 under concurrency, on the real stack: many pay calls at once (different keys, and two
lists in different unions holding the same members) never pay a household twice and never pass
an allocation; allocation changes racing payments never leave children above their parent."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from tests.integration.conftest import Stack
from tests.integration.test_campaigns import Campaigns
from tests.integration.test_enrollment_to_card import Api
from tests.integration.test_relief import Relief

pytestmark = pytest.mark.integration


@pytest.fixture
async def campaigns(stack_env: Stack, http: httpx.AsyncClient) -> AsyncIterator[Campaigns]:
    yield Campaigns(Relief(Api(stack_env, http)))


async def _members(c: Campaigns, union_id: uuid.UUID, n: int) -> list[str]:
    return list(await asyncio.gather(*(c.front_line_member(union_id) for _ in range(n))))


async def _approved_list(c: Campaigns, cid: str, union_id: uuid.UUID, expect: int) -> dict[str, Any]:
    made = c.ok(
        await c.call("POST", f"/campaigns/{cid}/lists", c.cadre(union_id), {"union_id": str(union_id)}), 201
    )
    assert made["entries_count"] == expect, made
    return made  # type: ignore[no-any-return]


async def _sign_off(c: Campaigns, list_id: str, union_id: uuid.UUID) -> None:
    c.ok(await c.call("POST", f"/campaign-lists/{list_id}/submit", c.cadre(union_id, "wang")))
    c.ok(await c.call("POST", f"/campaign-lists/{list_id}/approve", c.cadre(union_id, "li")))


async def _share(dsn: str, list_id: str, member_ids: list[str]) -> None:
    """Members on a second union's list too (they moved after it was drawn up): written straight
    into the list, as no request can put a member of another union on it."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.executemany(
            """INSERT INTO campaign_list_entries (entry_id, list_id, recipient, member_id, grp, amount_fen,
                   source, reason, edited, position)
               VALUES ($1, $2, 'member', $3, 'front_line', 30000, 'added', '调动前已列入', true, 1000)""",
            [(uuid.uuid4(), uuid.UUID(list_id), uuid.UUID(m)) for m in member_ids],
        )
    finally:
        await conn.close()


async def _figures(
    dsn: str, cid: str
) -> tuple[list[asyncpg.Record], list[asyncpg.Record], list[asyncpg.Record]]:
    conn = await asyncpg.connect(dsn)
    try:
        campaign = uuid.UUID(cid)
        payments = await conn.fetch(
            "SELECT recipient_key, union_id, amount_fen FROM campaign_payments WHERE campaign_id = $1",
            campaign,
        )
        allocations = await conn.fetch("SELECT * FROM campaign_allocations WHERE campaign_id = $1", campaign)
        receipts = await conn.fetch(
            "SELECT member_id, count(*) AS n FROM programme_receipts WHERE source_id = $1 GROUP BY member_id",
            campaign,
        )
        return payments, allocations, receipts
    finally:
        await conn.close()


def _check_the_books(payments: list[asyncpg.Record], allocations: list[asyncpg.Record]) -> None:
    """Every allocation within itself; a parent's allocated amount is exactly its children's
    totals; what a union paid is exactly its payments."""
    by_union = {a["union_id"]: a for a in allocations}
    for a in allocations:
        assert a["allocated_fen"] + a["paid_fen"] <= a["total_fen"], dict(a)
        children = [x for x in allocations if x["parent_union_id"] == a["union_id"]]
        assert sum(x["total_fen"] for x in children) == a["allocated_fen"], dict(a)
        paid = sum(p["amount_fen"] for p in payments if p["union_id"] == a["union_id"])
        assert paid == a["paid_fen"], dict(a)
    assert all(p["union_id"] in by_union for p in payments)


async def test_concurrent_payments_never_pay_twice_nor_pass_the_allocation(
    campaigns: Campaigns, stack_env: Stack
) -> None:
    c = campaigns
    units = await c.api.tree()
    city, district, logistics, riders = units["city"], units["district"], units["logistics"], units["riders"]
    at_logistics = await _members(c, logistics, 8)
    at_riders = await _members(c, riders, 4)
    cid = (await c.launch(city, total_fen=2_000_000))["campaign_id"]
    c.ok(await c.allocate(cid, district, city, 1_000_000))
    # Logistics can pay its list once (8 x 300 元), riders theirs and the shared members too.
    c.ok(await c.allocate(cid, logistics, district, 8 * 30_000))
    c.ok(await c.allocate(cid, riders, district, (4 + 8) * 30_000))
    first = await _approved_list(c, cid, logistics, 8)
    second = await _approved_list(c, cid, riders, 4)
    await _share(stack_env.services["relief"].dsn, second["list_id"], at_logistics)
    await _sign_off(c, first["list_id"], logistics)
    await _sign_off(c, second["list_id"], riders)

    calls = [
        c.pay(lst["list_id"], union, f"race-{n}-{uuid.uuid4().hex}")
        for n in range(8)
        for lst, union in ((first, logistics), (second, riders))
    ]
    answers = await asyncio.gather(*calls)
    assert all(a.status_code in (200, 409) for a in answers), [a.text for a in answers]
    paid = [a.json() for a in answers if a.status_code == 200]
    assert sum(p["paid_count"] for p in paid) == 8 + 4  # each recipient once, whoever paid them
    assert sum(1 for p in paid if p["paid_count"]) == 2  # one call per list paid, the rest nothing

    payments, allocations, receipts = await _figures(stack_env.services["relief"].dsn, cid)
    keys = [p["recipient_key"] for p in payments]
    assert len(keys) == len(set(keys)) == 12
    assert {f"member:{m}" for m in at_logistics + at_riders} == set(keys)
    assert all(r["n"] == 1 for r in receipts) and len(receipts) == 12
    _check_the_books(payments, allocations)

    # An allocation too small: every concurrent call refused, nothing paid.
    tight_cid = (await c.launch(city, total_fen=1_000_000))["campaign_id"]
    c.ok(await c.allocate(tight_cid, district, city, 500_000))
    c.ok(await c.allocate(tight_cid, riders, district, 4 * 30_000 - 1))
    tight = await _approved_list(c, tight_cid, riders, 4)
    await _sign_off(c, tight["list_id"], riders)
    refused = await asyncio.gather(
        *(c.pay(tight["list_id"], riders, f"tight-{uuid.uuid4().hex}") for _ in range(6))
    )
    assert {r.status_code for r in refused} == {409}
    assert all(r.json()["remaining_fen"] == 4 * 30_000 - 1 for r in refused)
    payments, allocations, _ = await _figures(stack_env.services["relief"].dsn, tight_cid)
    assert payments == []
    _check_the_books(payments, allocations)


async def test_allocation_changes_racing_payments_never_leave_children_above_their_parent(
    campaigns: Campaigns, stack_env: Stack
) -> None:
    c = campaigns
    units = await c.api.tree()
    city, district, logistics, riders = units["city"], units["district"], units["logistics"], units["riders"]
    await _members(c, logistics, 3)
    await _members(c, riders, 3)
    cid = (await c.launch(city, total_fen=1_000_000))["campaign_id"]
    c.ok(await c.allocate(cid, district, city, 300_000))
    c.ok(await c.allocate(cid, logistics, district, 90_000))
    c.ok(await c.allocate(cid, riders, district, 90_000))
    lists = {u: await _approved_list(c, cid, u, 3) for u in (logistics, riders)}
    for u, lst in lists.items():
        await _sign_off(c, lst["list_id"], u)

    # The district's share shrinks and grows while its children's grow and shrink and both pay.
    changes = [
        c.allocate(cid, district, city, total)
        for total in (180_000, 250_000, 200_000, 400_000, 150_000, 190_000)
    ] + [
        c.allocate(cid, child, district, total)
        for child in (logistics, riders)
        for total in (60_000, 90_000, 120_000, 200_000, 30_000, 100_000)
    ]
    pays = [
        c.pay(lst["list_id"], u, f"mixed-{n}-{uuid.uuid4().hex}")
        for n in range(4)
        for u, lst in lists.items()
    ]
    answers = await asyncio.gather(*changes, *pays)
    assert all(a.status_code in (200, 409) for a in answers), [
        a.text for a in answers if a.status_code >= 500
    ]
    assert all("detail" in a.json() for a in answers if a.status_code == 409)

    payments, allocations, _ = await _figures(stack_env.services["relief"].dsn, cid)
    _check_the_books(payments, allocations)
    keys = [p["recipient_key"] for p in payments]
    assert len(keys) == len(set(keys))
    # A list was paid whole or not at all.
    for u in (logistics, riders):
        assert sum(1 for p in payments if p["union_id"] == u) in (0, 3)
