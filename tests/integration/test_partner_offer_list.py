"""A partner lists its own offers (GET /partner-api/v1/offers, the till's pick-list) on the real
stack: the live ones by default, each state on request, paged by offer id, another partner's
never, nothing about members; hostile queries refused; the same through the web forwarder."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from services.partners.domain.offers import OfferState, offer_state
from shared.auth import Role
from tests.integration.conftest import Stack, eventually
from tests.integration.test_partners import Partners, offer

pytestmark = pytest.mark.integration

FIELDS = {
    "offer_id", "offer_key", "state", "title", "merchant_id", "merchant_name", "eligibility", "valid_from",
    "valid_until", "per_member_per_day", "per_member_per_month", "stock", "version", "updated_at",
}  # fmt: skip


@pytest.fixture
def partners(stack_env: Stack, http: httpx.AsyncClient) -> Partners:
    return Partners(stack_env, http)


async def listed(partners: Partners, key: str, query: str = "") -> dict[str, Any]:
    r = await partners.get(key, f"/offers{query}")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def accepted(partners: Partners, key: str, offer_id: str, version: int = 1) -> None:
    """Wait until this version of the offer is the accepted one."""

    async def reached() -> bool:
        return await partners.offer_version(key, offer_id) == version

    await eventually(reached, timeout=20)


def ids(page: dict[str, Any]) -> list[str]:
    return [item["offer_id"] for item in page["items"]]


async def test_a_partner_lists_its_live_offers_by_default_and_each_state_on_request(
    partners: Partners, stack_env: Stack
) -> None:
    partner_id, key = await partners.register("list")
    shop, gone = f"{partner_id}-shop", f"{partner_id}-gone"
    await partners.merchant(partner_id, shop)
    await partners.merchant(partner_id, gone)
    now = datetime.now(UTC)
    bodies = {
        "a-live": offer(
            shop, "a-live", title="午餐 8.5 折", schema_version=2, per_member_per_day=2, stock=50
        ),
        "b-upcoming": offer(shop, "b-upcoming", valid_from=(now + timedelta(days=10)).isoformat()),
        # Ends a few seconds after it is accepted: then listed as ended, never as live.
        "c-ending": offer(shop, "c-ending", valid_until=(now + timedelta(seconds=12)).isoformat()),
        "d-withdrawn": offer(shop, "d-withdrawn"),
        "e-delisted": offer(gone, "e-delisted"),
        "f-live": offer(shop, "f-live", title="晚餐立减 20 元"),
    }
    for body in bodies.values():
        submitted = await partners.submit(key, body)
        assert submitted.status_code == 202, submitted.text
    for offer_id in bodies:
        await accepted(partners, key, offer_id)
    withdraw = {"action": "withdraw", "merchant_id": shop, "offer_id": "d-withdrawn", "version": 2}
    assert (await partners.submit(key, withdraw)).status_code == 202
    await accepted(partners, key, "d-withdrawn", version=2)
    delisted = await partners.http.post(
        f"{partners.url}/partners/{partner_id}/merchants/{gone}/delist",
        json={"reason": "合同到期"},
        headers=partners.admin,
    )
    assert delisted.status_code == 204, delisted.text

    # Another partner's offer is never in this partner's list.
    other_id, other_key = await partners.register("list-other")
    await partners.merchant(other_id, f"{other_id}-shop")
    assert (await partners.submit(other_key, offer(f"{other_id}-shop", "a-live"))).status_code == 202
    await accepted(partners, other_key, "a-live")

    async def ended() -> list[str]:
        return ids(await listed(partners, key, "?state=ended"))

    assert await eventually(ended, timeout=45, interval=0.5) == ["c-ending"]

    live = await listed(partners, key)
    assert ids(live) == ["a-live", "f-live"]
    assert live["next_after"] is None
    first = live["items"][0]
    assert set(first) == FIELDS  # the offer's own facts only: nothing about any member
    assert first["offer_key"] == f"{partner_id}/a-live"
    assert (first["title"], first["merchant_id"], first["merchant_name"]) == (
        "午餐 8.5 折",
        shop,
        f"商户 {shop}",
    )
    assert (first["per_member_per_day"], first["per_member_per_month"], first["stock"]) == (2, None, 50)
    assert first["state"] == "live" and first["eligibility"] == "all_members"
    assert (
        datetime.fromisoformat(first["valid_from"])
        < datetime.now(UTC)
        < datetime.fromisoformat(first["valid_until"])
    )

    everything = await listed(partners, key, "?state=all")
    states = {item["offer_id"]: item["state"] for item in everything["items"]}
    assert states == {
        "a-live": "live", "b-upcoming": "upcoming", "c-ending": "ended", "d-withdrawn": "withdrawn",
        "e-delisted": "delisted", "f-live": "live",
    }  # fmt: skip
    # The database's state is the domain's rule (domain.offers.offer_state), offer by offer.
    for item in everything["items"]:
        start, end = (
            datetime.fromisoformat(item[k]) if item[k] else None for k in ("valid_from", "valid_until")
        )
        rule = offer_state(
            item["state"] == "withdrawn", item["merchant_id"] != gone, start, end, datetime.now(UTC)
        )
        assert rule is OfferState(item["state"]), item
    for state in ("upcoming", "withdrawn", "delisted"):
        assert ids(await listed(partners, key, f"?state={state}")) == [k for k in bodies if state in k]

    # The partner's staff (a till's browser) see the same list with their own token.
    staff = stack_env.headers(Role.PARTNER_STAFF, partner_id=partner_id, sub=f"till-{partner_id}")
    mine = await partners.http.get(f"{partners.url}/partner-api/v1/offers", headers=staff)
    assert mine.status_code == 200 and ids(mine.json()) == ["a-live", "f-live"], mine.text


async def test_the_offer_list_pages_by_offer_id(partners: Partners) -> None:
    partner_id, key = await partners.register("pages")
    shop = f"{partner_id}-shop"
    await partners.merchant(partner_id, shop)
    names = ["o1", "o2", "o3"]
    for name in names:
        assert (await partners.submit(key, offer(shop, name))).status_code == 202
    for name in names:
        await accepted(partners, key, name)

    seen: list[str] = []
    query = "?limit=2"
    pages = 0
    while True:
        page = await listed(partners, key, query)
        seen += ids(page)
        pages += 1
        if page["next_after"] is None:
            break
        assert page["next_after"] == seen[-1]
        query = f"?limit=2&after={page['next_after']}"
    assert seen == names and pages == 2
    assert ids(await listed(partners, key, "?after=o3")) == []


async def test_hostile_queries_on_the_offer_list_are_refused_with_a_reason(partners: Partners) -> None:
    _, key = await partners.register("hostile")
    for query in (
        "?limit=0",
        "?limit=1001",
        "?limit=99999999999999999999999",
        "?state=everything",
        "?after=../x",
        "?after=" + "a" * 65,
        "?status=all",  # a misspelt filter never widens the answer
    ):
        r = await partners.get(key, f"/offers{query}")
        assert r.status_code in (400, 422), (query, r.status_code, r.text)
        assert r.headers["content-type"] == "application/problem+json", query
    assert (await partners.get(key, "/offers?after=%00")).status_code == 400
    assert (await partners.http.get(f"{partners.url}/partner-api/v1/offers")).status_code == 401
    member = partners.s.headers(Role.MEMBER)
    assert (
        await partners.http.get(f"{partners.url}/partner-api/v1/offers", headers=member)
    ).status_code == 403


async def test_the_till_reaches_the_offer_list_through_the_web_forwarder(
    partners: Partners, stack_env: Stack
) -> None:
    partner_id, key = await partners.register("web-list")
    shop = f"{partner_id}-shop"
    await partners.merchant(partner_id, shop)
    assert (await partners.submit(key, offer(shop, "lunch"))).status_code == 202
    await accepted(partners, key, "lunch")
    web = stack_env.services["web"].url
    staff = stack_env.headers(Role.PARTNER_STAFF, partner_id=partner_id, sub=f"till-{partner_id}")
    r = await partners.http.get(
        f"{web}/api/partners/partner-api/v1/offers?state=live&limit=50", headers=staff
    )
    assert r.status_code == 200, r.text
    assert ids(r.json()) == ["lunch"]
    bad = await partners.http.get(f"{web}/api/partners/partner-api/v1/offers?limit=0", headers=staff)
    assert bad.status_code == 422, bad.text
