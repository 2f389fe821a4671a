"""Partner offers on the member card and the merchant directory, from partners events on the real
broker (the contracts are the interface: the events are made here by hand)."""

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from shared.auth import Role
from shared.contracts import encode_event, new_envelope
from shared.contracts.competitions import HonourGranted, HonourKind
from shared.contracts.envelope import EventPayload
from shared.contracts.partners import (
    DiscountKind,
    Eligibility,
    MerchantDelisted,
    MerchantListed,
    OfferCategory,
    OfferDiscount,
    OfferPublished,
    OfferWithdrawn,
    offer_key,
)
from shared.contracts.relief import (
    AidType,
    CaseApproved,
    CaseExited,
    CaseSnapshot,
    CaseStatus,
    PlanSummary,
    Tier,
)
from shared.contracts.topics import COMPETITIONS_EVENTS, PARTNERS_EVENTS, RELIEF_EVENTS
from tests.integration.conftest import Stack, eventually
from tests.integration.test_enrollment_to_card import Api

pytestmark = pytest.mark.integration

DAY = timedelta(days=1)


@pytest.fixture
def api(stack_env: Stack, http: httpx.AsyncClient) -> Api:
    return Api(stack_env, http)


class Partners:
    """Publishes what the partners service would, and knows when the projector applied it."""

    def __init__(self, s: Stack, producer: AIOKafkaProducer) -> None:
        self.s = s
        self.producer = producer
        self.partner = "pt-" + uuid.uuid4().hex[:8]
        self.sent: list[uuid.UUID] = []

    async def publish(
        self, topic: str, payload: EventPayload, *, subject: str, version: int, source: str = "partners"
    ) -> None:
        envelope = new_envelope(payload, source=source, subject=subject, subject_version=version,
                                correlation_id="offers-test")  # fmt: skip
        await self.producer.send_and_wait(self.s.topic(topic), encode_event(envelope), key=subject.encode())
        self.sent.append(envelope.event_id)

    async def merchant(self, merchant_id: str, name: str, category: OfferCategory, region: str) -> None:
        await self.publish(
            PARTNERS_EVENTS,
            MerchantListed(merchant_id=merchant_id, partner_id=self.partner, name=name, category=category,
                           region=region, address="某路1号", listed_at=datetime.now(UTC)),
            subject=merchant_id, version=1,
        )  # fmt: skip

    async def delist(self, merchant_id: str, version: int) -> None:
        await self.publish(
            PARTNERS_EVENTS,
            MerchantDelisted(merchant_id=merchant_id, partner_id=self.partner, delisted_at=datetime.now(UTC)),
            subject=merchant_id, version=version,
        )  # fmt: skip

    async def offer(
        self,
        offer_id: str,
        merchant_id: str,
        region: str,
        *,
        until: datetime,
        since: datetime | None = None,
        version: int = 1,
        title: str | None = None,
        category: OfferCategory = OfferCategory.DINING,
        eligibility: Eligibility = Eligibility.ALL_MEMBERS,
        discount: OfferDiscount | None = None,
    ) -> str:
        key = offer_key(self.partner, offer_id)
        payload = OfferPublished(
            offer_key=key, partner_id=self.partner, merchant_id=merchant_id, offer_id=offer_id,
            version=version, title=title or offer_id, description=f"{offer_id} 说明",
            discount=discount or OfferDiscount(kind=DiscountKind.PERCENT, percent=Decimal("12.5")),
            category=category, region=region, valid_from=since or datetime.now(UTC) - DAY,
            valid_until=until, eligibility=eligibility, published_at=datetime.now(UTC),
        )  # fmt: skip
        await self.publish(PARTNERS_EVENTS, payload, subject=key, version=version)
        return key

    async def withdraw(self, offer_id: str, merchant_id: str, version: int) -> None:
        key = offer_key(self.partner, offer_id)
        payload = OfferWithdrawn(offer_key=key, partner_id=self.partner, merchant_id=merchant_id,
                                 offer_id=offer_id, version=version, withdrawn_at=datetime.now(UTC))  # fmt: skip
        await self.publish(PARTNERS_EVENTS, payload, subject=key, version=version)

    async def all_applied(self) -> None:
        """Wait until the projector applied every event sent so far (its processed_events)."""
        dsn = self.s.services["projector"].dsn

        async def applied() -> bool:
            conn = await asyncpg.connect(dsn)
            try:
                done = await conn.fetchval(
                    "SELECT count(*) FROM processed_events WHERE event_id = ANY($1::uuid[])", self.sent
                )
            finally:
                await conn.close()
            return int(done) == len(self.sent)

        await eventually(applied, timeout=30)


async def offers_of(
    api: Api, member_id: uuid.UUID, headers: dict[str, str] | None = None, **params: Any
) -> httpx.Response:
    return await api.http.get(
        f"{api.cards}/cards/{member_id}/offers", params=params, headers=headers or api.admin
    )


def ours(items: list[dict[str, Any]], partner: str) -> list[str]:
    """The offer keys of one test's partner (other tests publish offers in the same regions)."""
    return [o["offer_key"] for o in items if o["offer_key"].startswith(partner + "/")]


async def all_offers_of(
    api: Api, member_id: uuid.UUID, partner: str | None, headers: dict[str, str] | None = None, **params: Any
) -> list[dict[str, Any]]:
    """Every page of the member's offers, in order, kept to one test's partner: other tests'
    offers (in the same regions, groups and categories) can neither push ours off a page nor
    come between them. `partner` None: every partner's offers."""
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        r = await offers_of(
            api, member_id, headers, limit=100, **params, **({"cursor": cursor} if cursor else {})
        )
        assert r.status_code == 200, r.text
        page = r.json()
        found += [o for o in page["items"] if partner is None or o["offer_key"].startswith(partner + "/")]
        cursor = page["next_cursor"]
        if cursor is None:
            return found


async def keys_of(
    api: Api, member_id: uuid.UUID, partner: str, headers: dict[str, str] | None = None, **params: Any
) -> list[str]:
    return [o["offer_key"] for o in await all_offers_of(api, member_id, partner, headers, **params)]


async def district_union(api: Api, parent: uuid.UUID, region: str) -> uuid.UUID:
    body = {"name": "某餐饮公司工会", "kind": "base", "parent_id": str(parent), "region": region}
    r = await api.http.post(f"{api.enrollment}/unions", json=body, headers=api.admin)
    assert r.status_code == 201, r.text
    return uuid.UUID(r.json()["union_id"])


async def test_the_card_shows_the_offers_the_member_may_use_now(
    api: Api, stack_env: Stack, kafka_producer: AIOKafkaProducer
) -> None:
    units = await api.tree()
    base = await district_union(api, units["district"], "330106")  # 西湖区, in 330100 (杭州)
    member = await api.enrolled_member(base)
    mid = uuid.UUID(member["member_id"])
    await api.card_when(str(mid), "active")
    me = stack_env.headers(Role.MEMBER, member_id=mid)
    p = Partners(stack_env, kafka_producer)
    tag = p.partner
    now = datetime.now(UTC)

    west_lake, market, closing, ningbo = (f"{tag}-m{i}" for i in range(1, 5))
    await p.merchant(west_lake, f"{tag} 知味观", OfferCategory.DINING, "330106")
    await p.merchant(market, f"{tag} 联华超市", OfferCategory.GROCERIES, "330100")
    await p.merchant(closing, f"{tag} 将关门的店", OfferCategory.DINING, "330106")
    await p.merchant(ningbo, f"{tag} 宁波老店", OfferCategory.DINING, "330200")

    district = await p.offer("district", west_lake, "330106", until=now + 30 * DAY)
    city = await p.offer(
        "city", market, "330100", until=now + 10 * DAY, category=OfferCategory.GROCERIES,
        discount=OfferDiscount(kind=DiscountKind.AMOUNT, amount_fen=1250),
    )  # fmt: skip
    province = await p.offer("province", west_lake, "330000", until=now + 5 * DAY)
    await p.offer("ningbo", ningbo, "330200", until=now + 30 * DAY)  # another city
    await p.offer("other-district", west_lake, "330108", until=now + 30 * DAY)  # another district
    await p.offer("not-yet", west_lake, "330106", since=now + DAY, until=now + 30 * DAY)
    await p.offer("expired", west_lake, "330106", since=now - 9 * DAY, until=now - DAY)
    # Withdrawn stays withdrawn, even when a later version is published after it.
    await p.offer("withdrawn", west_lake, "330106", until=now + 30 * DAY)
    await p.withdraw("withdrawn", west_lake, version=2)
    await p.offer("withdrawn", west_lake, "330106", until=now + 30 * DAY, version=3)
    # An older version arriving after a newer one does not overwrite it.
    versioned = await p.offer("versioned", west_lake, "330106", until=now + 20 * DAY, version=2, title="新版")
    await p.offer("versioned", west_lake, "330106", until=now + 40 * DAY, version=1, title="旧版")
    delisted = await p.offer("closing", closing, "330106", until=now + 25 * DAY)
    model = await p.offer(
        "model", market, "330100", until=now + 60 * DAY, eligibility=Eligibility.MODEL_WORKERS
    )
    hardship = await p.offer(
        "hardship", market, "330000", until=now + 90 * DAY, eligibility=Eligibility.HARDSHIP_HOUSEHOLDS
    )
    await p.all_applied()

    # Own group first (none yet), then the most local region, then the soonest-ending.
    everyone = [versioned, delisted, district, city, province]
    assert await keys_of(api, mid, tag, me) == everyone
    body = (await offers_of(api, mid, me)).json()
    assert body["reason"] is None
    shown = {o["offer_key"]: o for o in await all_offers_of(api, mid, tag, me)}
    assert shown[versioned]["title"] == "新版"
    assert shown[versioned]["valid_until"].startswith((now + 20 * DAY).date().isoformat())
    assert shown[city]["discount"] == {"kind": "amount", "percent": None, "amount_yuan": "12.50"}
    assert shown[district]["discount"] == {"kind": "percent", "percent": "12.5", "amount_yuan": None}
    assert shown[district]["merchant"] == {
        "merchant_id": west_lake, "name": f"{tag} 知味观", "category": "dining", "region": "330106",
    }  # fmt: skip
    assert shown[district]["region"] == "330106" and shown[district]["eligibility"] == "all_members"

    # Paging: pages of two, resumed from next_cursor, give the same list.
    paged: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await offers_of(api, mid, me, **params)).json()
        paged += ours(page["items"], tag)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert paged == everyone
    assert await keys_of(api, mid, tag, me, category="groceries") == [city]
    assert (await offers_of(api, mid, me, category="food")).status_code == 422
    assert (await offers_of(api, mid, me, cursor="garbage")).status_code == 422
    too_many = await offers_of(api, mid, me, limit=101)
    # FastAPI's own validation answers in the same problem details shape, with the field errors.
    assert too_many.status_code == 422
    assert too_many.headers["content-type"] == "application/problem+json"
    refused = too_many.json()
    assert (refused["status"], refused["code"]) == (422, "invalid_request")
    assert [e["loc"] for e in refused["errors"]] == [["query", "limit"]]
    assert isinstance(refused["detail"], str) and "limit" in refused["detail"]

    # Who may look: as for the card.
    assert (
        await offers_of(api, mid, stack_env.headers(Role.MEMBER, member_id=uuid.uuid4()))
    ).status_code == 404
    assert (await offers_of(api, mid, api.cadre(units["other_city"]))).status_code == 403
    assert (await offers_of(api, uuid.uuid4())).status_code == 404
    assert await keys_of(api, mid, tag, api.cadre(units["district"])) == everyone

    # The merchant leaves the programme: its offers go.
    await p.delist(closing, version=2)
    await p.all_applied()
    everyone.remove(delisted)
    assert await keys_of(api, mid, tag, me) == everyone

    # A current model-worker honour (劳模) adds the model workers' offers, before everyone's.
    today = date.today()
    honour = HonourGranted(member_id=mid, honour_id=uuid.uuid4(), kind=HonourKind.MODEL_WORKER, title="劳动模范",
                           granted_on=today - 10 * DAY, valid_until=today + 365 * DAY)  # fmt: skip
    await p.publish(COMPETITIONS_EVENTS, honour, subject=str(mid), version=1, source="competitions")
    await p.all_applied()
    assert await keys_of(api, mid, tag, me) == [model, *everyone]

    # In the hardship register: the member sees the hardship offers first; nobody else does.
    snapshot = CaseSnapshot(case_id=uuid.uuid4(), member_id=mid, status=CaseStatus.IN_REGISTER, tier=Tier.RELATIVE,
                            union_id=base, aid_year=today.year, aid_paid_fen=0)  # fmt: skip
    approved = CaseApproved(case=snapshot, tier=Tier.RELATIVE, approved_at=now,
                            plan=PlanSummary(aid_types=[AidType.CONSOLATION], next_review_due=today + 365 * DAY))  # fmt: skip
    await p.publish(RELIEF_EVENTS, approved, subject=str(mid), version=1, source="relief")
    await p.all_applied()
    assert await keys_of(api, mid, tag, me) == [hardship, model, *everyone]
    for viewer in (api.admin, api.cadre(units["district"]), api.cadre(units["city"])):
        assert await keys_of(api, mid, tag, viewer) == [model, *everyone]
        # No partner's hardship offer at all (other tests publish some), not only not ours.
        seen = await all_offers_of(api, mid, None, viewer)
        assert seen and all(o["eligibility"] != "hardship_households" for o in seen)
    # Also not by paging with a hand-made cursor from the hardship group onwards: the member's
    # pages of one, up to ours (other tests' hardship offers may come before it), give the cursor.
    cursor = None
    while True:
        mine = (await offers_of(api, mid, me, limit=1, **({"cursor": cursor} if cursor else {}))).json()
        assert mine["items"] and mine["items"][0]["eligibility"] == "hardship_households", mine
        cursor = mine["next_cursor"]
        if mine["items"][0]["offer_key"] == hardship:
            break
    assert cursor is not None
    resumed: list[str] = []
    while cursor is not None:
        page = (await offers_of(api, mid, api.admin, limit=100, cursor=cursor)).json()
        assert all(o["eligibility"] != "hardship_households" for o in page["items"]), page
        resumed += ours(page["items"], tag)
        cursor = page["next_cursor"]
    assert resumed == [model, *everyone]

    # Out of the register (脱困): no more hardship offers, for the member either.
    exited = CaseExited(case=snapshot.model_copy(update={"status": CaseStatus.EXITED}), exited_at=now)
    await p.publish(RELIEF_EVENTS, exited, subject=str(mid), version=2, source="relief")
    await p.all_applied()
    assert await keys_of(api, mid, tag, me) == [model, *everyone]


async def test_an_offer_disappears_when_it_ends(
    api: Api, stack_env: Stack, kafka_producer: AIOKafkaProducer
) -> None:
    units = await api.tree()
    member = await api.enrolled_member(units["logistics"])  # the city's region, 330100
    mid = uuid.UUID(member["member_id"])
    await api.card_when(str(mid), "active")
    p = Partners(stack_env, kafka_producer)
    shop = f"{p.partner}-shop"
    await p.merchant(shop, f"{p.partner} 小店", OfferCategory.OTHER, "330102")
    lasting = await p.offer("lasting", shop, "330100", until=datetime.now(UTC) + 30 * DAY)
    ends_at = datetime.now(UTC) + timedelta(seconds=12)
    ending = await p.offer("ending", shop, "330000", until=ends_at)
    await p.all_applied()
    assert datetime.now(UTC) < ends_at - timedelta(seconds=1), "the projector took too long to test this"
    assert await keys_of(api, mid, p.partner) == [lasting, ending]

    async def gone() -> bool:
        return await keys_of(api, mid, p.partner) == [lasting]

    await asyncio.sleep(max(0.0, (ends_at - datetime.now(UTC)).total_seconds()))
    await eventually(gone, timeout=5)

    # A member who left sees no offers, and is told why.
    left = await api.http.post(
        f"{api.enrollment}/members/{mid}/leave",
        json={"reason": "离职"},
        headers=api.cadre(units["logistics"]),
    )
    assert left.status_code == 200, left.text
    await api.card_when(str(mid), "left")
    body = (await offers_of(api, mid, stack_env.headers(Role.MEMBER, member_id=mid))).json()
    assert body["items"] == [] and "left" in body["reason"]


async def test_the_merchant_directory_lists_listed_merchants_within_a_region(
    api: Api, stack_env: Stack, kafka_producer: AIOKafkaProducer
) -> None:
    p = Partners(stack_env, kafka_producer)
    tag = p.partner
    later = datetime.now(UTC) + 30 * DAY
    await p.merchant(f"{tag}-a", f"{tag} 1 甲餐厅", OfferCategory.DINING, "330106")
    await p.merchant(f"{tag}-b", f"{tag} 2 乙超市", OfferCategory.GROCERIES, "330100")
    await p.merchant(f"{tag}-c", f"{tag} 3 丙餐厅", OfferCategory.DINING, "330102")
    await p.merchant(f"{tag}-d", f"{tag} 4 丁餐厅", OfferCategory.DINING, "330203")  # 宁波
    await p.merchant(f"{tag}-e", f"{tag} 5 戊餐厅", OfferCategory.DINING, "330106")
    await p.merchant(f"{tag}-f", f"{tag} 6 己药房", OfferCategory.HEALTH, "330000")  # province-wide
    await p.delist(f"{tag}-e", version=2)
    await p.offer("a1", f"{tag}-a", "330106", until=later)
    await p.offer("a2", f"{tag}-a", "330100", until=later, eligibility=Eligibility.MODEL_WORKERS)
    await p.offer("a3", f"{tag}-a", "330106", until=later)
    await p.withdraw("a3", f"{tag}-a", version=2)
    await p.offer(
        "a4", f"{tag}-a", "330106", until=datetime.now(UTC) - DAY, since=datetime.now(UTC) - 3 * DAY
    )
    await p.offer("c1", f"{tag}-c", "330102", until=later)
    await p.all_applied()

    async def directory(**params: Any) -> httpx.Response:
        headers = stack_env.headers(Role.MEMBER, member_id=uuid.uuid4())  # any signed-in caller
        return await api.http.get(f"{api.cards}/merchants", params=params, headers=headers)

    async def mine(**params: Any) -> list[tuple[str, int]]:
        """Every page of the directory, kept to this test's merchants: other tests' merchants in
        the same regions can neither push ours off a page nor come between them."""
        found: list[tuple[str, int]] = []
        cursor: str | None = None
        while True:
            r = await directory(**params, limit=100, **({"cursor": cursor} if cursor else {}))
            assert r.status_code == 200, r.text
            found += [(m["merchant_id"][len(tag) + 1 :], m["live_offers"]) for m in r.json()["items"]
                      if m["merchant_id"].startswith(tag + "-")]  # fmt: skip
            cursor = r.json()["next_cursor"]
            if cursor is None:
                return found

    # By name, then merchant_id; not 宁波, not the delisted one, not a province-wide merchant.
    assert await mine(region="330100") == [("a", 2), ("b", 0), ("c", 1)]
    assert await mine(region="330100", category="dining") == [("a", 2), ("c", 1)]
    assert await mine(region="330000") == [
        ("a", 2),
        ("b", 0),
        ("c", 1),
        ("d", 0),
        ("f", 0),
    ]
    assert await mine(region="330106") == [("a", 2)]
    assert await mine(region="330200") == [("d", 0)]

    # Paging by one gives the same merchants in the same order (this test's, among the others').
    whole = [f"{tag}-{m}" for m, _ in await mine(region="330100")]
    paged: list[str] = []
    cursor: str | None = None
    while True:
        page = (await directory(region="330100", limit=1, **({"cursor": cursor} if cursor else {}))).json()
        paged += [m["merchant_id"] for m in page["items"] if m["merchant_id"].startswith(tag + "-")]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert paged == whole

    for bad in ({"region": "3301"}, {"region": "990000"}, {"region": "33010x"},
                {"region": "330100", "category": "food"}, {"region": "330100", "cursor": "@@"}):  # fmt: skip
        r = await directory(**bad)
        assert r.status_code == 422, (bad, r.text)
        refused = r.json()
        assert (refused["status"], refused["code"]) == (422, "invalid_input") and refused["detail"], refused
    assert (await api.http.get(f"{api.cards}/merchants", params={"region": "330100"})).status_code == 401
