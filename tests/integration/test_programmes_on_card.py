"""Programme aid (送温暖, 金秋助学) on the member card, from relief.ProgrammeAidPaid on relief's topic
(made here by hand, the contract being the interface, until relief publishes it): the member, and
only the member, sees their receipts, newest first; an older event never overwrites newer receipts,
and the case events under the same per-member sequence leave them alone (and the other way round)."""

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from shared.auth import Role
from shared.contracts.relief import AidType, CaseApproved, CaseSnapshot, CaseStatus, PlanSummary, Tier
from shared.contracts.relief_programmes import (
    Programme,
    ProgrammeAidPaid,
    ProgrammeReceipt,
    RecipientGroup,
    SchoolType,
)
from shared.contracts.topics import RELIEF_EVENTS
from tests.integration.conftest import Stack, eventually
from tests.integration.test_enrollment_to_card import Api
from tests.integration.test_offers_on_card import Partners as CardEvents
from tests.integration.test_offers_on_card import keys_of
from tests.integration.test_partners import Partners, offer
from tests.integration.test_till_check import Till, open_code

pytestmark = pytest.mark.integration


def receipt(
    programme: Programme, title: str, fen: int, paid_at: datetime, union: uuid.UUID
) -> ProgrammeReceipt:
    return ProgrammeReceipt(payment_id=uuid.uuid4(), programme=programme, source_id=uuid.uuid4(), title=title,
                            amount_fen=fen, paid_at=paid_at, paying_union_id=union)  # fmt: skip


def paid(
    member_id: uuid.UUID,
    union: uuid.UUID,
    group: RecipientGroup | SchoolType,
    receipts: list[ProgrammeReceipt],
) -> ProgrammeAidPaid:
    return ProgrammeAidPaid(member_id=member_id, base_union_id=union, group=group, payment=receipts[0],
                            receipts=receipts)  # fmt: skip


def case_event(member_id: uuid.UUID, union: uuid.UUID, aid_paid_fen: int) -> CaseApproved:
    snapshot = CaseSnapshot(case_id=uuid.uuid4(), member_id=member_id, status=CaseStatus.IN_REGISTER,
                            tier=Tier.RELATIVE, union_id=union, aid_year=date.today().year,
                            aid_paid_fen=aid_paid_fen)  # fmt: skip
    return CaseApproved(case=snapshot, tier=Tier.RELATIVE, approved_at=datetime.now(UTC),
                        plan=PlanSummary(aid_types=[AidType.CONSOLATION],
                                         next_review_due=date.today() + timedelta(days=365)))  # fmt: skip


def shown(r: ProgrammeReceipt) -> dict[str, Any]:
    label = {Programme.CONSOLATION: "送温暖", Programme.STUDENT_AID: "金秋助学"}[r.programme]
    return {"programme": r.programme.value, "programme_label": label, "title": r.title,
            "amount_fen": r.amount_fen, "paid_at": r.paid_at}  # fmt: skip


def as_read(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**a, "paid_at": datetime.fromisoformat(a["paid_at"])} for a in items]


async def rows(dsn: str, sql: str, *args: Any) -> list[Any]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def test_the_member_sees_their_programme_aid_newest_first_and_nobody_else_does(
    stack_env: Stack, http: httpx.AsyncClient, kafka_producer: AIOKafkaProducer
) -> None:
    s = stack_env
    api = Api(s, http)
    units = await api.tree()
    union = units["logistics"]
    member = await api.enrolled_member(union)  # region 330100, like the till's offer below
    mid = uuid.UUID(member["member_id"])
    await api.card_when(str(mid), "active")
    me = s.headers(Role.MEMBER, member_id=mid)
    relief = CardEvents(s, kafka_producer)

    async def publish(payload: ProgrammeAidPaid | CaseApproved, version: int) -> None:
        await relief.publish(RELIEF_EVENTS, payload, subject=str(mid), version=version, source="relief")

    async def card(headers: dict[str, str]) -> dict[str, Any]:
        r = await api.card(str(mid), headers)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    now = datetime.now(UTC).replace(microsecond=0)
    spring = receipt(
        Programme.CONSOLATION, "2027年春节送温暖", 50_000, now - timedelta(days=200), units["city"]
    )
    autumn = receipt(Programme.STUDENT_AID, "2027年金秋助学", 300_000, now - timedelta(days=2), union)
    # Relief's sequence for the member: the case (1), the first payment (2), the second (3).
    await publish(case_event(mid, union, 0), 1)
    await publish(paid(mid, union, RecipientGroup.RELATIVE, [spring]), 2)
    await publish(paid(mid, union, SchoolType.UNDERGRADUATE, [autumn, spring]), 3)
    await relief.all_applied()
    mine = await card(me)
    assert as_read(mine["programme_aid"]) == [shown(autumn), shown(spring)]
    assert mine["relief"]["status"] == "in_register"  # the payments left the case alone

    # An older payment event that arrives late (redelivered, or read from the state topic after
    # the events topic) does not take the newer receipts away.
    await publish(paid(mid, union, RecipientGroup.RELATIVE, [spring]), 2)
    await relief.all_applied()
    assert as_read((await card(me))["programme_aid"]) == [shown(autumn), shown(spring)]
    # A newer case event (same sequence) updates the case and keeps the receipts.
    await publish(case_event(mid, union, 80_000), 4)
    await relief.all_applied()
    mine = await card(me)
    assert mine["relief"]["aid_paid_fen"] == 80_000
    assert as_read(mine["programme_aid"]) == [shown(autumn), shown(spring)]
    # An older case event than the last payment does not matter to the receipts either; a newer
    # payment replaces them whole.
    winter = receipt(Programme.CONSOLATION, "2028年春节送温暖", 60_000, now, units["district"])
    await publish(paid(mid, union, RecipientGroup.RELATIVE, [winter, autumn, spring]), 5)
    await relief.all_applied()
    assert as_read((await card(me))["programme_aid"]) == [shown(winter), shown(autumn), shown(spring)]

    # Each payment told the member in words, in their inbox.
    inbox = await http.get(f"{api.cards}/cards/{mid}/inbox", headers=me)
    assert inbox.status_code == 200, inbox.text
    told = [(i["title"], i["body"].split("。")[0]) for i in inbox.json()["items"]]
    assert ("金秋助学金已发放", "“2027年金秋助学” 3000.00 元已发放") in told
    assert ("送温暖慰问金已发放", "“2028年春节送温暖” 600.00 元已发放") in told

    # Cadres of the member's union and above, and an admin, see the card without any of it.
    for viewer in (api.cadre(union), api.cadre(units["district"]), api.cadre(units["city"]), api.admin):
        seen = await card(viewer)
        assert seen["membership"] is not None and seen["programme_aid"] == [], viewer
    # Another member: the same 404 as for no card at all.
    other = s.headers(Role.MEMBER, member_id=uuid.uuid4())
    assert (await api.card(str(mid), other)).status_code == 404
    # Till staff cannot read the card; the till's check of the member's code says only yes or no
    # and the masked name.
    partners = Partners(s, http)
    partner_id, api_key = await partners.register("aid")
    shop = f"{partner_id}-shop"
    await partners.merchant(partner_id, shop)
    assert (await partners.submit(api_key, offer(shop, "plain"))).status_code == 202
    staff = s.headers(Role.PARTNER_STAFF, partner_id=partner_id, sub=f"till-{partner_id}")
    assert (await api.card(str(mid), staff)).status_code in (403, 404)

    async def offer_on_card() -> bool:
        return await keys_of(api, mid, partner_id, me) == [f"{partner_id}/plain"]

    await eventually(offer_on_card, timeout=30)
    checked = await Till(s, http, partner_id, api_key).verify(await open_code(s, http, mid), "plain")
    assert checked.status_code == 200, checked.text
    assert set(checked.json()) == {"ok", "member", "message"} and checked.json()["ok"] is True
    assert not any(t in checked.text for t in ("送温暖", "金秋助学", "programme", "amount"))

    # Erased: the receipts go with the card, and a later payment event brings nothing back.
    cadre = api.cadre(union)
    left = await http.post(f"{api.enrollment}/members/{mid}/leave", json={"reason": "离职"}, headers=cadre)
    assert left.status_code == 200, left.text
    erased = await http.post(
        f"{api.enrollment}/members/{mid}/erasure", json={"reason": "本人申请"}, headers=cadre
    )
    assert erased.status_code == 204, erased.text

    async def card_gone() -> bool:
        return (await api.card(str(mid))).status_code == 404

    await eventually(card_gone, timeout=30)
    dsn = s.services["projector"].dsn
    receipts_of = "SELECT * FROM public.programme_receipts WHERE member_id = $1"
    assert await rows(dsn, receipts_of, mid) == []
    later = receipt(Programme.CONSOLATION, "2028年元旦送温暖", 10_000, now, union)
    await publish(paid(mid, union, RecipientGroup.RELATIVE, [later, winter, autumn, spring]), 6)
    await relief.all_applied()
    assert await rows(dsn, receipts_of, mid) == []
