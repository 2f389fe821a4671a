"""The partner's statistics (统计, issue 18) on the real stack: partners.OfferRedeemed events (made
here by hand: the contract is the interface) into the projector's per-generation statistics,
read by the partner's own staff and admins only, per offer and per China day, counted once per
redemption id however often it is delivered, never naming a member; an erased member's
redemptions stay counted but no longer among an offer's members; a rebuild gives the same."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from shared.auth import Role
from shared.contracts.enrollment import PersonErased
from shared.contracts.partners import (
    DiscountKind,
    Eligibility,
    OfferCategory,
    OfferDiscount,
    OfferPublished,
    OfferRedeemed,
    offer_key,
)
from shared.contracts.topics import ENROLLMENT_EVENTS, PARTNERS_EVENTS
from tests.integration.conftest import Stack
from tests.integration.test_offers_on_card import Partners
from tests.integration.test_projector_rebuild import run_rebuild

pytestmark = pytest.mark.integration


def china_evening(day: date) -> datetime:
    """16:30 UTC the day before `day` is 00:30 of `day` in China: the day is China's, not UTC's."""
    return datetime(day.year, day.month, day.day, 16, 30, tzinfo=UTC) - timedelta(days=1)


async def test_the_partner_reads_its_redemptions_per_offer_and_day_without_any_member(
    stack_env: Stack, http: httpx.AsyncClient, kafka_producer: AIOKafkaProducer
) -> None:
    s = stack_env
    p = Partners(s, kafka_producer)
    partner = p.partner
    url = f"{s.services['projector'].url}/partners/{partner}/statistics"
    staff = s.headers(Role.PARTNER_STAFF, partner_id=partner, sub=f"office-{partner}")
    shop = f"{partner}-shop"
    await p.merchant(shop, f"{partner} 小店", OfferCategory.DINING, "330100")
    now = datetime.now(UTC)
    await p.publish(
        PARTNERS_EVENTS,
        OfferPublished(
            offer_key=offer_key(partner, "lunch"), partner_id=partner, merchant_id=shop, offer_id="lunch",
            version=1, title="午餐九折", discount=OfferDiscount(kind=DiscountKind.PERCENT, percent=Decimal(10)),
            category=OfferCategory.DINING, region="330100", valid_from=now - timedelta(days=30),
            valid_until=now + timedelta(days=30), eligibility=Eligibility.ALL_MEMBERS, published_at=now,
        ),
        subject=offer_key(partner, "lunch"), version=1,
    )  # fmt: skip
    ann, bo = uuid.uuid4(), uuid.uuid4()
    today = datetime.now(UTC).date()
    d1, d2 = today - timedelta(days=5), today - timedelta(days=4)

    async def redeemed(
        member: uuid.UUID, offer_id: str, day: date, rid: uuid.UUID | None = None
    ) -> uuid.UUID:
        rid = rid or uuid.uuid4()
        event = OfferRedeemed(
            redemption_id=rid, partner_id=partner, merchant_id=shop, offer_id=offer_id,
            offer_key=offer_key(partner, offer_id), member_id=member, redeemed_at=china_evening(day),
        )  # fmt: skip
        await p.publish(PARTNERS_EVENTS, event, subject=str(member), version=1)
        return rid

    first = await redeemed(ann, "lunch", d1)
    await redeemed(ann, "lunch", d1)
    await redeemed(bo, "lunch", d2)
    await redeemed(bo, "coffee", d2)
    # The same redemption again, in a new envelope (a new event id): counted once, by its id.
    await redeemed(ann, "lunch", d1, rid=first)
    await p.all_applied()

    async def read(
        params: dict[str, str] | None = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return await http.get(url, params=params or {}, headers=staff if headers is None else headers)

    r = await read({"from": d1.isoformat(), "to": today.isoformat()})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["partner_id"], body["first_day"], body["last_day"]) == (
        partner,
        d1.isoformat(),
        today.isoformat(),
    )
    assert body["redemptions"] == 4
    assert [(o["offer_id"], o["redemptions"], o["members"], o["title"]) for o in body["offers"]] == [
        ("coffee", 1, 1, None),  # an offer the card service does not know: no title
        ("lunch", 3, 2, "午餐九折"),
    ]
    assert body["offers"][1]["offer_key"] == f"{partner}/lunch"
    assert [(d["day"], d["offer_id"], d["redemptions"]) for d in body["days"]] == [
        (d1.isoformat(), "lunch", 2),
        (d2.isoformat(), "coffee", 1),
        (d2.isoformat(), "lunch", 1),
    ]
    for member in (ann, bo):
        assert str(member) not in r.text
    # A narrower range: fewer redemptions, the same members (theirs are all time).
    narrow = (await read({"from": d2.isoformat(), "to": d2.isoformat()})).json()
    assert narrow["redemptions"] == 2
    assert [(o["offer_id"], o["redemptions"], o["members"]) for o in narrow["offers"]] == [
        ("coffee", 1, 1),
        ("lunch", 1, 2),
    ]
    # The default: the last 30 China days, today included.
    default = (await read()).json()
    assert default["last_day"] >= today.isoformat() and default["redemptions"] == 4
    assert date.fromisoformat(default["last_day"]) - date.fromisoformat(default["first_day"]) == timedelta(
        days=29
    )

    # Who may read: the partner's own staff and admins only.
    assert (await read(headers=s.headers(Role.ADMIN))).status_code == 200
    other_staff = s.headers(Role.PARTNER_STAFF, partner_id="someone-else", sub="office-else")
    for headers in (
        other_staff,
        s.headers(Role.MEMBER, member_id=ann),
        s.headers(Role.CADRE, union_id=uuid.uuid4()),
    ):
        assert (await read(headers=headers)).status_code == 403
    assert (await http.get(url)).status_code == 401
    # Bad input is a 4xx with the reason, never a 5xx.
    for bad in (
        {"from": "2026-12-05", "to": "2026-12-01"},
        {"from": "2025-01-01", "to": "2026-12-01"},
        {"to": "0001-01-05"},
        {"from": "2026-13-01"},
    ):
        refused = await read(bad)
        assert refused.status_code == 422, (bad, refused.text)
        assert refused.json()["detail"], refused.text
    assert (await http.get(f"{s.services['projector'].url}/partners/Not_A_Partner/statistics",
                           headers=s.headers(Role.ADMIN))).status_code == 422  # fmt: skip
    # Another partner's statistics: empty, not ours.
    nobody = await http.get(
        f"{s.services['projector'].url}/partners/nobody-here/statistics", headers=s.headers(Role.ADMIN)
    )
    assert nobody.status_code == 200 and nobody.json()["offers"] == [] and nobody.json()["days"] == []

    # Ann is erased: her redemptions stay counted, she is no longer among the members, and a
    # redemption of hers read after the erasure (a late or replayed event) does not add her back.
    await p.publish(ENROLLMENT_EVENTS, PersonErased(person_id=ann, erased_at=datetime.now(UTC)),
                    subject=str(ann), version=99, source="enrollment")  # fmt: skip
    await redeemed(ann, "lunch", d2)
    await p.all_applied()
    after = (await read({"from": d1.isoformat(), "to": today.isoformat()})).json()
    assert after["redemptions"] == 5
    assert [(o["offer_id"], o["redemptions"], o["members"]) for o in after["offers"]] == [
        ("coffee", 1, 1),
        ("lunch", 4, 1),
    ]
    dsn = s.services["projector"].dsn
    conn = await asyncpg.connect(dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM offer_redeemers WHERE member_key = $1", ann) == 0
        assert await conn.fetchval("SELECT count(*) FROM offer_redeemers WHERE member_key = $1", bo) == 2
    finally:
        await conn.close()

    # A rebuild replays the topics into a new generation (the erasure and Ann's redemptions in
    # whatever order): the same statistics.
    code, out, err = await run_rebuild(s)
    assert code == 0, (out[-2000:], err[-2000:])
    rebuilt = await read({"from": d1.isoformat(), "to": today.isoformat()})
    assert rebuilt.status_code == 200, rebuilt.text
    assert rebuilt.json() == after
