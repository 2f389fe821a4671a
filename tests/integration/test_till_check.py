"""The merchant's check at the till on the real stack (issue 18): a partner's offer with limits
(contract v2) reaches a member's card; the member opens a card code; the partner's till verifies
and redeems it once, idempotently, within the limits; hardship offers only by voucher; the
redemption is an OfferRedeemed event on the partners topic."""

import asyncio
import hashlib
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from shared.auth import Role
from shared.contracts import decode_event
from shared.contracts.partners import (
    DiscountKind,
    Eligibility,
    OfferCategory,
    OfferDiscount,
    OfferPublishedV1,
    offer_key,
)
from shared.contracts.relief import AidType, CaseApproved, CaseSnapshot, CaseStatus, PlanSummary, Tier
from shared.contracts.topics import PARTNERS_EVENTS, RELIEF_EVENTS
from tests.integration.conftest import Stack, eventually, read_topic
from tests.integration.test_enrollment_to_card import Api
from tests.integration.test_offers_on_card import Partners as CardEvents
from tests.integration.test_offers_on_card import keys_of
from tests.integration.test_partners import Partners, offer

pytestmark = pytest.mark.integration


class Till:
    def __init__(self, s: Stack, http: httpx.AsyncClient, partner_id: str, api_key: str) -> None:
        self.http = http
        self.url = s.services["partners"].url
        self.key = {"Authorization": f"Bearer {api_key}"}
        # A till's browser signs in as partner staff (identity), never with the API key.
        self.staff = s.headers(Role.PARTNER_STAFF, partner_id=partner_id, sub=f"till-{partner_id}")

    async def verify(self, code: str, offer_id: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.http.post(
            f"{self.url}/partner-api/v1/verify",
            json={"code": code, "offer_id": offer_id},
            headers=headers or self.staff,
        )

    async def ok(self, code: str, offer_id: str) -> bool:
        r = await self.verify(code, offer_id)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["message"] == ("可以使用" if body["ok"] else "不可使用")
        assert set(body) == {"ok", "member", "message"}  # nothing about why
        return bool(body["ok"])

    async def redeem(self, code: str, offer_id: str, key: str | None = None) -> httpx.Response:
        return await self.http.post(
            f"{self.url}/partner-api/v1/redemptions",
            json={"code": code, "offer_id": offer_id},
            headers={**self.key, "Idempotency-Key": key or str(uuid.uuid4())},
        )


async def open_code(
    s: Stack, http: httpx.AsyncClient, member_id: uuid.UUID, voucher: str | None = None
) -> str:
    me = s.headers(Role.MEMBER, member_id=member_id)
    url = s.services["partners"].url
    if voucher is None:
        r = await http.post(f"{url}/members/{member_id}/card-codes", headers=me)
    else:
        r = await http.post(f"{url}/members/{member_id}/vouchers", json={"offer_key": voucher}, headers=me)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    left = datetime.fromisoformat(body["expires_at"]) - datetime.now(UTC)
    assert timedelta(seconds=50) < left <= (timedelta(minutes=10) if voucher else timedelta(seconds=60))
    return str(body["code"])


async def test_a_member_redeems_an_offer_at_the_till(
    stack_env: Stack, http: httpx.AsyncClient, kafka_producer: AIOKafkaProducer
) -> None:
    s = stack_env
    partners = Partners(s, http)
    partner_id, api_key = await partners.register("till")
    shop = f"{partner_id}-shop"
    await partners.merchant(partner_id, shop)
    v2 = {"schema_version": 2}
    for body in (
        offer(shop, "daily", **v2, per_member_per_day=1, per_member_per_month=5, stock=100),
        offer(shop, "model", **v2, eligibility="model_workers"),
        offer(shop, "hardship", **v2, eligibility="hardship_households"),
        offer(shop, "plain"),  # version 1 of the message: no limits
        offer(shop, "scarce", **v2, stock=1),
    ):
        r = await partners.submit(api_key, body)
        assert r.status_code == 202, r.text
    till = Till(s, http, partner_id, api_key)

    api = Api(s, http)
    units = await api.tree()
    member = await api.enrolled_member(units["logistics"])  # region 330100, like the offers
    mid = uuid.UUID(member["member_id"])
    await api.card_when(str(mid), "active")
    # In the hardship register (the relief service's event, by hand): the member's card has it.
    snapshot = CaseSnapshot(case_id=uuid.uuid4(), member_id=mid, status=CaseStatus.IN_REGISTER, tier=Tier.RELATIVE,
                            union_id=units["logistics"], aid_year=date.today().year, aid_paid_fen=0)  # fmt: skip
    approved = CaseApproved(case=snapshot, tier=Tier.RELATIVE, approved_at=datetime.now(UTC),
                            plan=PlanSummary(aid_types=[AidType.CONSOLATION],
                                             next_review_due=date.today() + timedelta(days=365)))  # fmt: skip
    relief = CardEvents(s, kafka_producer)
    await relief.publish(RELIEF_EVENTS, approved, subject=str(mid), version=1, source="relief")
    await relief.all_applied()
    me = s.headers(Role.MEMBER, member_id=mid)
    wanted = [f"{partner_id}/{o}" for o in ("hardship", "daily", "plain", "scarce")]

    async def on_card() -> bool:
        return sorted(await keys_of(api, mid, partner_id, me)) == sorted(wanted)

    await eventually(on_card, timeout=30)

    # The card code: verified by the till's staff, redeemed with the API key, once.
    code = await open_code(s, http, mid)
    r = await till.verify(code, "daily")
    assert r.status_code == 200 and r.json()["ok"] is True, r.text
    masked = r.json()["member"]
    assert "*" in masked
    key = str(uuid.uuid4())
    first = await till.redeem(code, "daily", key)
    assert first.status_code == 201, first.text
    redemption = first.json()
    assert (redemption["offer_key"], redemption["member"]) == (f"{partner_id}/daily", masked)
    assert "member_id" not in redemption
    again = await till.redeem(code, "daily", key)
    assert (again.status_code, again.json()) == (200, redemption)
    # The code is used; another key for it, or the same key for another code, is refused.
    assert (await till.redeem(code, "plain")).status_code == 409
    assert not await till.ok(code, "plain")
    assert (await till.redeem(await open_code(s, http, mid), "plain", key)).status_code == 409

    # A second redemption of the daily offer the same (China) day: refused, never saying why.
    second = await open_code(s, http, mid)
    assert not await till.ok(second, "daily")
    refused = await till.redeem(second, "daily")
    assert refused.status_code == 409 and refused.json()["detail"] == "不可使用", refused.text
    # The same code still redeems an offer without limits.
    assert await till.ok(second, "plain")
    assert (await till.redeem(second, "plain")).status_code == 201

    # An expired code (its row expired in the database: waiting 60 s is no test).
    expired = await open_code(s, http, mid)
    conn = await asyncpg.connect(s.services["partners"].dsn)
    try:
        await conn.execute(
            "UPDATE till_codes SET expires_at = now() - interval '1 second' WHERE digest = $1",
            hashlib.sha256(expired.encode()).hexdigest(),
        )
    finally:
        await conn.close()
    assert not await till.ok(expired, "plain")
    assert (await till.redeem(expired, "plain")).status_code == 409
    # An unknown code is a plain no, too.
    assert not await till.ok("x" * 32, "plain")

    # The hardship offer: never by the card code, only by a voucher the member opens.
    card_code = await open_code(s, http, mid)
    assert not await till.ok(card_code, "hardship")
    assert (await till.redeem(card_code, "hardship")).status_code == 409
    voucher = await open_code(s, http, mid, voucher=f"{partner_id}/hardship")
    assert await till.ok(voucher, "hardship")
    assert not await till.ok(voucher, "plain")  # a voucher is for its one offer
    assert (await till.redeem(voucher, "hardship")).status_code == 201

    # Another member, no model-worker honour: their code does not redeem the model workers' offer.
    other = await api.enrolled_member(units["logistics"])
    oid = uuid.UUID(other["member_id"])
    await api.card_when(str(oid), "active")
    other_code = await open_code(s, http, oid)
    assert not await till.ok(other_code, "model")
    assert (await till.redeem(other_code, "model")).status_code == 409
    assert await till.ok(other_code, "daily")
    # The last one in stock, two tills at once: exactly one gets it.
    racing = [await open_code(s, http, mid), await open_code(s, http, oid)]
    assert [await till.ok(c, "scarce") for c in racing] == [True, True]
    raced = await asyncio.gather(*(till.redeem(c, "scarce") for c in racing))
    assert sorted(r.status_code for r in raced) == [201, 409], [r.text for r in raced]
    # Nobody but the member opens their code; a voucher only for an offer on their card.
    url = s.services["partners"].url
    for headers in (
        s.headers(Role.MEMBER, member_id=oid),
        s.headers(Role.ADMIN),
        api.cadre(units["logistics"]),
    ):
        assert (await http.post(f"{url}/members/{mid}/card-codes", headers=headers)).status_code == 403
    r = await http.post(f"{url}/members/{oid}/vouchers", json={"offer_key": f"{partner_id}/hardship"},
                        headers=s.headers(Role.MEMBER, member_id=oid))  # fmt: skip
    assert r.status_code == 409, r.text

    # Not the partner API for a cadre, nor for another partner's offers; bad input is a 4xx.
    cadre = api.cadre(units["logistics"])
    assert (await till.verify(other_code, "daily", cadre)).status_code == 403
    other_partner, other_key = await partners.register("other")
    assert (await till.verify(other_code, "daily", {"Authorization": f"Bearer {other_key}"})).json()[
        "ok"
    ] is False
    for bad in ({"code": "short", "offer_id": "daily"}, {"code": "x" * 32, "offer_id": "has space"}, {"code": 1},
                {"code": "x" * 32, "offer_id": "daily", "extra": 1}):  # fmt: skip
        r = await http.post(f"{till.url}/partner-api/v1/verify", json=bad, headers=till.staff)
        assert r.status_code == 422, (bad, r.text)
    no_key = await http.post(f"{till.url}/partner-api/v1/redemptions", json={"code": "x" * 32, "offer_id": "daily"},
                             headers=till.key)  # fmt: skip
    assert no_key.status_code == 422, no_key.text

    # The partner's own list: masked names, no member ids, in order.
    listed = await http.get(f"{till.url}/partner-api/v1/redemptions", headers=till.key)
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert [i["offer_id"] for i in items] == ["daily", "plain", "hardship", "scarce"]
    assert str(mid) not in listed.text and items[0] == redemption
    assert (
        await http.get(
            f"{till.url}/partner-api/v1/redemptions", headers={"Authorization": f"Bearer {other_key}"}
        )
    ).json()["items"] == []

    # The events: OfferRedeemed on the partners topic, keyed by the member.
    async def redeemed() -> list[dict[str, Any]]:
        found = []
        for record in await read_topic(s.bootstrap, s.topic(PARTNERS_EVENTS)):
            envelope, payload = decode_event(record.value)
            if envelope.event_type == "partners.OfferRedeemed" and envelope.subject == str(mid):
                found.append(payload.model_dump(mode="json"))
        return found if len(found) >= 3 else []

    events = await eventually(redeemed, timeout=30)
    first_event = next(e for e in events if e["redemption_id"] == redemption["redemption_id"])
    assert first_event["offer_key"] == f"{partner_id}/daily" and first_event["member_id"] == str(mid)
    assert first_event["merchant_id"] == shop and first_event["partner_id"] == partner_id
    assert other_partner != partner_id

    # The card's usage history (使用记录): the member sees their redemptions, newest first, with
    # the merchant's name and the offer's title; a cadre reading the same card sees none.
    mine = {e["redemption_id"] for e in events}

    async def used() -> list[dict[str, Any]]:
        r = await http.get(f"{s.services['projector'].url}/cards/{mid}", headers=me)
        assert r.status_code == 200, r.text
        shown: list[dict[str, Any]] = r.json()["redemptions"]
        return shown if mine <= {u["redemption_id"] for u in shown} else []

    shown = await eventually(used, timeout=30)
    assert [u["redeemed_at"] for u in shown] == sorted((u["redeemed_at"] for u in shown), reverse=True)
    daily = next(u for u in shown if u["redemption_id"] == redemption["redemption_id"])
    assert daily["partner_id"] == partner_id and daily["merchant_name"] and daily["offer_title"]
    assert all(u["partner_id"] == partner_id for u in shown)
    as_cadre = await http.get(f"{s.services['projector'].url}/cards/{mid}", headers=cadre)
    assert as_cadre.status_code == 200, as_cadre.text
    assert as_cadre.json()["redemptions"] == [] and as_cadre.json()["membership"] is not None


async def test_offer_published_v1_bytes_still_reach_the_card(
    stack_env: Stack, http: httpx.AsyncClient, kafka_producer: AIOKafkaProducer
) -> None:
    """Version 1 events already on the partners topic (no limits) are upcast and applied."""
    api = Api(stack_env, http)
    member = await api.enrolled_member((await api.tree())["logistics"])
    mid = uuid.UUID(member["member_id"])
    await api.card_when(str(mid), "active")
    p = CardEvents(stack_env, kafka_producer)
    shop = f"{p.partner}-shop"
    await p.merchant(shop, f"{p.partner} 老店", OfferCategory.DINING, "330100")
    key = offer_key(p.partner, "old")
    now = datetime.now(UTC)
    v1 = OfferPublishedV1(
        offer_key=key, partner_id=p.partner, merchant_id=shop, offer_id="old", version=1, title="旧版优惠",
        discount=OfferDiscount(kind=DiscountKind.PERCENT, percent=Decimal(10)), category=OfferCategory.DINING,
        region="330100", valid_from=now - timedelta(days=1), valid_until=now + timedelta(days=9),
        eligibility=Eligibility.ALL_MEMBERS, published_at=now,
    )  # fmt: skip
    await p.publish(PARTNERS_EVENTS, v1, subject=key, version=1)
    await p.all_applied()
    assert await keys_of(api, mid, p.partner, stack_env.headers(Role.MEMBER, member_id=mid)) == [key]
