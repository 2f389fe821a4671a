"""The till's tables over time (issue 18), on the real stack: a person's erasure leaves no member
id or masked name of theirs in the partners service, while their redemption still counts
towards the offer's stock; expired codes are purged, and the redemptions made with them keep
answering their Idempotency-Key."""

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from shared.auth import Role
from tests.integration.conftest import Stack, eventually
from tests.integration.test_enrollment_to_card import Api
from tests.integration.test_erasure import personal_data_found
from tests.integration.test_offers_on_card import keys_of
from tests.integration.test_partners import Partners, offer
from tests.integration.test_till_check import Till, open_code

pytestmark = pytest.mark.integration


async def fetch(dsn: str, query: str, *args: Any) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(dsn)
    try:
        return [dict(r) for r in await conn.fetch(query, *args)]
    finally:
        await conn.close()


async def a_partner_with_offers(s: Stack, http: httpx.AsyncClient, name: str) -> tuple[str, Till]:
    """A partner whose shop has `scarce` (stock 2) and `plain` (no limits), both in 330100."""
    partners = Partners(s, http)
    partner_id, api_key = await partners.register(name)
    shop = f"{partner_id}-shop"
    await partners.merchant(partner_id, shop)
    for body in (offer(shop, "scarce", schema_version=2, stock=2), offer(shop, "plain")):
        r = await partners.submit(api_key, body)
        assert r.status_code == 202, r.text
    return partner_id, Till(s, http, partner_id, api_key)


async def a_member_seeing(api: Api, union: uuid.UUID, partner_id: str) -> uuid.UUID:
    member = await api.enrolled_member(union)
    mid = uuid.UUID(member["member_id"])
    await api.card_when(str(mid), "active")
    me = api.s.headers(Role.MEMBER, member_id=mid)

    async def on_card() -> bool:
        return sorted(await keys_of(api, mid, partner_id, me)) == [
            f"{partner_id}/plain",
            f"{partner_id}/scarce",
        ]

    await eventually(on_card, timeout=30)
    return mid


async def test_an_erased_member_leaves_no_trace_at_the_till_and_their_redemption_still_counts(
    stack_env: Stack, http: httpx.AsyncClient
) -> None:
    s = stack_env
    partner_id, till = await a_partner_with_offers(s, http, "erase")
    api = Api(s, http)
    units = await api.tree()
    gone = await a_member_seeing(api, units["logistics"], partner_id)
    kept = await a_member_seeing(api, units["logistics"], partner_id)

    code = await open_code(s, http, gone)
    verdict = await till.verify(code, "scarce")
    masked = verdict.json()["member"]
    assert verdict.json()["ok"] and "*" in masked
    key = str(uuid.uuid4())
    redeemed = await till.redeem(code, "scarce", key)
    assert redeemed.status_code == 201, redeemed.text
    unused = await open_code(s, http, gone, voucher=f"{partner_id}/plain")  # open, never used
    assert await till.ok(unused, "plain")
    kept_code = await open_code(s, http, kept)
    assert (await till.redeem(kept_code, "scarce")).status_code == 201  # the stock of 2 is used up
    dsn = s.services["partners"].dsn
    kept_rows = await fetch(dsn, "SELECT * FROM redemptions WHERE member_id = $1", kept)
    assert len(kept_rows) == 1

    # The member leaves, then a cadre erases them (enrollment's PersonErased reaches partners).
    cadre = api.cadre(units["logistics"])
    left = await http.post(f"{api.enrollment}/members/{gone}/leave", json={"reason": "离职"}, headers=cadre)
    assert left.status_code == 200, left.text
    erased = await http.post(
        f"{api.enrollment}/members/{gone}/erasure", json={"reason": "本人申请"}, headers=cadre
    )
    assert erased.status_code == 204, erased.text

    async def forgotten() -> bool:
        held = await fetch(
            dsn,
            """SELECT 'code' FROM till_codes WHERE member_id = $1
               UNION ALL SELECT 'redemption' FROM redemptions WHERE member_id = $1""",
            gone,
        )
        return held == []

    await eventually(forgotten, timeout=30)

    # The member id is nowhere in the partners database (the outbox carried their OfferRedeemed:
    # once the relay has published and deleted it). Their masked name: on their redemption
    # below (another member's may read the same, so it is not searched for everywhere).
    async def outbox_empty() -> bool:
        return await fetch(dsn, "SELECT 1 FROM outbox LIMIT 1") == []

    await eventually(outbox_empty, timeout=30)
    assert await personal_data_found(dsn, [str(gone)]) == []
    # The redemption stays, nameless; the other member's is untouched.
    [anonymous] = await fetch(
        dsn, "SELECT * FROM redemptions WHERE redemption_id = $1", uuid.UUID(redeemed.json()["redemption_id"])
    )
    assert (anonymous["member_id"], anonymous["member_masked"]) == (None, "**")
    assert anonymous["offer_id"] == "scarce" and anonymous["partner_id"] == partner_id
    assert await fetch(dsn, "SELECT * FROM redemptions WHERE member_id = $1", kept) == kept_rows
    # It still counts towards the stock: the other member may not take a third.
    again = await open_code(s, http, kept)
    assert not await till.ok(again, "scarce")
    assert (await till.redeem(again, "scarce")).status_code == 409
    assert await till.ok(again, "plain")
    # The erased member's unused code is gone: refused like any unknown code.
    assert not await till.ok(unused, "plain")
    # The partner's list keeps it, nameless; its Idempotency-Key still answers the same redemption.
    listed = (await http.get(f"{till.url}/partner-api/v1/redemptions", headers=till.key)).json()["items"]
    assert [(i["offer_id"], i["member"]) for i in listed] == [
        ("scarce", "**"),
        ("scarce", kept_rows[0]["member_masked"]),
    ]
    retried = await till.redeem(code, "scarce", key)
    assert retried.status_code == 200 and retried.json()["member"] == "**", retried.text
    assert retried.json()["redemption_id"] == redeemed.json()["redemption_id"]


async def test_expired_codes_are_purged_and_their_redemptions_still_answer(
    stack_env: Stack, http: httpx.AsyncClient
) -> None:
    s = stack_env
    partner_id, till = await a_partner_with_offers(s, http, "purge")
    api = Api(s, http)
    mid = await a_member_seeing(api, (await api.tree())["logistics"], partner_id)
    used, unused, fresh = [await open_code(s, http, mid) for _ in range(3)]
    voucher = await open_code(s, http, mid, voucher=f"{partner_id}/scarce")
    key = str(uuid.uuid4())
    redeemed = await till.redeem(used, "plain", key)
    assert redeemed.status_code == 201, redeemed.text

    def digest(code: str) -> str:
        return hashlib.sha256(code.encode()).hexdigest()

    # Time passes (in the database: waiting is no test): three codes expired 11 minutes ago, one
    # just now; the fresh one is still live.
    dsn = s.services["partners"].dsn
    conn = await asyncpg.connect(dsn)
    try:
        long_ago = datetime.now(UTC) - timedelta(minutes=11)
        await conn.execute(
            "UPDATE till_codes SET expires_at = $2 WHERE digest = ANY($1::text[])",
            [digest(c) for c in (used, unused, voucher)], long_ago,
        )  # fmt: skip
    finally:
        await conn.close()
    just_expired = await open_code(s, http, mid)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "UPDATE till_codes SET expires_at = now() - interval '1 second' WHERE digest = $1",
            digest(just_expired),
        )
    finally:
        await conn.close()

    async def purged() -> bool:
        rows = await fetch(dsn, "SELECT digest FROM till_codes WHERE member_id = $1", mid)
        return {r["digest"] for r in rows} == {digest(fresh), digest(just_expired)}

    await eventually(purged, timeout=15)
    # The redemption made with a purged code stays and answers its key; the code redeems no more.
    assert await fetch(dsn, "SELECT count(*) AS n FROM redemptions WHERE member_id = $1", mid) == [{"n": 1}]
    retried = await till.redeem(used, "plain", key)
    assert (retried.status_code, retried.json()) == (200, redeemed.json())
    for code in (used, unused, voucher, just_expired):
        assert not await till.ok(code, "plain")
        assert (await till.redeem(code, "plain")).status_code == 409
    # The live code is untouched and works.
    assert await till.ok(fresh, "plain")
    assert (await till.redeem(fresh, "plain")).status_code == 201
