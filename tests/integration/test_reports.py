"""The reports service on real Kafka and PostgreSQL: real contract events (the kit's envelope,
occurred times chosen) for a small union tree, published onto this test's own topics; every
figure asserted below is computed by hand from them (see each block's comment).

Tree: city C -> counties K1, K2; base unions B1, B2 under K1, B3 under K2. Months 2026-01..03."""

import asyncio
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from shared.auth import Role
from shared.contracts import competitions as comp
from shared.contracts import encode_event, legal, new_envelope
from shared.contracts import enrollment as enr
from shared.contracts import relief as rel
from shared.contracts.envelope import EventPayload
from shared.contracts.partners import OfferRedeemed
from shared.contracts.topics import (
    COMPETITIONS_EVENTS,
    ENROLLMENT_EVENTS,
    LEGAL_EVENTS,
    PARTNERS_EVENTS,
    RELIEF_EVENTS,
)
from tests.integration.conftest import RunningService, Stack, eventually, side_service

pytestmark = pytest.mark.integration

C, K1, K2, B1, B2, B3 = (uuid.uuid4() for _ in range(6))
M1, M2, M3, M4 = (uuid.uuid4() for _ in range(4))
PERIOD = {"from": "2026-01", "to": "2026-03"}


def at(month: int, day: int, hour: int = 4) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


class Publisher:
    def __init__(self, s: Stack, producer: AIOKafkaProducer) -> None:
        self.s, self.producer = s, producer
        self.versions: dict[str, int] = {}

    async def __call__(
        self, topic: str, payload: EventPayload, subject: uuid.UUID | str, when: datetime, source: str
    ) -> None:
        key = str(subject)
        self.versions[key] = self.versions.get(key, 0) + 1
        envelope = new_envelope(payload, source=source, subject=key, subject_version=self.versions[key],
                                correlation_id="reports-test", occurred_at=when)  # fmt: skip
        await self.producer.send_and_wait(self.s.topic(topic), encode_event(envelope), key=key.encode())


def member(member_id: uuid.UUID, union: uuid.UUID, status: str = "active") -> enr.MemberSnapshot:
    return enr.MemberSnapshot(
        member_id=member_id, name="张三", national_id_masked="110101********123X", membership_number="N1",
        card_number="C1", base_union_id=union, status=enr.MembershipStatus(status), member_since=date(2026, 1, 1),
        employer="某厂", employment_type=enr.EmploymentType.EMPLOYEE,
        periods=[enr.MembershipPeriod(union_id=union, started_at=at(1, 1))],
    )  # fmt: skip


def union(uid: uuid.UUID, name: str, kind: str, path: list[tuple[uuid.UUID, str]]) -> enr.UnionRegistered:
    return enr.UnionRegistered(
        union_id=uid, name=name, kind=enr.UnionKind(kind), parent_id=path[-2][0] if len(path) > 1 else None,
        region="330100", path=[enr.UnionRef(union_id=u, name=n) for u, n in path],
    )  # fmt: skip


def employer(
    eid: uuid.UUID, code: str, resp: uuid.UUID, base: uuid.UUID | None, workforce: int, should: bool
) -> Any:
    return enr.EmployerRegistered(employer=enr.EmployerSnapshot(
        employer_id=eid, name="单位", credit_code=code, region="330100", workforce=workforce,
        responsible_union_id=resp, base_union_id=base, should_have_union=should,
    ))  # fmt: skip


def relief_case(case_id: uuid.UUID, member_id: uuid.UUID, union_id: uuid.UUID, status: str,
                tier: str | None, causes: list[str] | None) -> rel.CaseSnapshot:  # fmt: skip
    return rel.CaseSnapshot(
        case_id=case_id, member_id=member_id, status=rel.CaseStatus(status),
        tier=rel.Tier(tier) if tier else None, union_id=union_id, aid_year=2026, aid_paid_fen=0, causes=causes,
    )  # fmt: skip


def dispute(case_id: uuid.UUID, union_id: uuid.UUID, stage: str, members: list[uuid.UUID],
            outcome: str | None = None) -> legal.CaseSnapshot:  # fmt: skip
    return legal.CaseSnapshot(
        case_id=case_id, case_no="维权2026-000001", kind=legal.DisputeKind.WAGE_ARREARS, stage=legal.Stage(stage),
        outcome=legal.Outcome(outcome) if outcome else None, union_id=union_id, member_ids=members,
        next_deadline=None,
    )  # fmt: skip


async def publish_fixture(pub: Publisher) -> None:
    E = ENROLLMENT_EVENTS
    tree = [(C, "杭州市总工会", "city", [(C, "市")]), (K1, "上城区总工会", "county", [(C, "市"), (K1, "上城")]),
            (K2, "西湖区总工会", "county", [(C, "市"), (K2, "西湖")]),
            (B1, "甲厂工会", "base", [(C, "市"), (K1, "上城"), (B1, "甲")]),
            (B2, "乙厂工会", "base", [(C, "市"), (K1, "上城"), (B2, "乙")]),
            (B3, "丙厂工会", "base", [(C, "市"), (K2, "西湖"), (B3, "丙")])]  # fmt: skip
    for uid, name, kind, path in tree:
        await pub(E, union(uid, name, kind, path), uid, at(1, 1), "enrollment")

    # Members: M1 joins B1 in Jan; M2 joins B1 on 31 Jan 17:00 UTC = 1 Feb in China (Feb); M3 B2 and
    # M4 B3 in Feb. March: M2 leaves B1, M3 moves B2 -> B3. Active now: M1 (B1), M3, M4 (B3).
    async def enrolled(m: uuid.UUID, u: uuid.UUID, when: datetime) -> None:
        e = enr.MemberEnrolled(application_id=uuid.uuid4(), decided_by="cadre:t", member=member(m, u))
        await pub(E, e, m, when, "enrollment")

    await enrolled(M1, B1, at(1, 10))
    await enrolled(M2, B1, datetime(2026, 1, 31, 17, tzinfo=UTC))
    await enrolled(M3, B2, at(2, 5))
    await enrolled(M4, B3, at(2, 6))
    await pub(E, enr.MemberLeft(reason="退休", member=member(M2, B1, "left")), M2, at(3, 2), "enrollment")
    moved = enr.MemberTransferred(from_union_id=B2, to_union_id=B3, reason="调动", member=member(M3, B3))
    await pub(E, moved, M3, at(3, 3), "enrollment")
    # Employers (responsible union, base union, workforce, should have a union):
    # E1 K1/B1/100/yes, E2 K1/-/50/yes, E3 K2/B3/40/yes, E4 K2/-/5/no.
    for code, resp, base, wf, should in [("91330100MA27XK4L1A", K1, B1, 100, True),
                                         ("91330100MA27XK4L2A", K1, None, 50, True),
                                         ("91330100MA27XK4L3A", K2, B3, 40, True),
                                         ("91330100MA27XK4L4A", K2, None, 5, False)]:  # fmt: skip
        eid = uuid.uuid4()
        await pub(E, employer(eid, code, resp, base, wf, should), eid, at(1, 2), "enrollment")
        if code.endswith("L2A"):
            unfounded = eid
    # March: E2 founds its union (B2): K1's employers are all covered from then on.
    founded = enr.EmployerUpdated(employer=enr.EmployerSnapshot(
        employer_id=unfounded, name="单位", credit_code="91330100MA27XK4L2A", region="330100", workforce=50,
        responsible_union_id=K1, base_union_id=B2, should_have_union=True,
    ))  # fmt: skip
    await pub(E, founded, unfounded, at(3, 4), "enrollment")
    R = RELIEF_EVENTS
    # Relief: r1 (M1, B1) opened Jan for illness, verified deep and approved Feb; aid paid 500 yuan
    # consolation (Feb) and 1,200 yuan medical (Mar). r2 (M4, B3) opened Feb for illness and
    # unemployment, verified relative. r3 (M3, B2) opened in March by a version-1 event: causes
    # unknown, no tier yet. r5 (M2, B1) opened in March, withdrawn: not current.
    r1, r2, r3, r5 = (uuid.uuid4() for _ in range(4))
    await pub(R, rel.CaseOpened(case=relief_case(r1, M1, B1, "reported", None, ["illness"]),
                                channel=rel.IntakeChannel.SELF_APPLICATION, opened_at=at(1, 12)), M1, at(1, 12), "relief")  # fmt: skip
    await pub(R, rel.CaseVerified(case=relief_case(r1, M1, B1, "verified", "deep", ["illness"]),
                                  tier=rel.Tier.DEEP, verified_at=at(2, 1)), M1, at(2, 1), "relief")  # fmt: skip
    await pub(R, rel.AidDisbursed(case=relief_case(r1, M1, B1, "in_register", "deep", ["illness"]),
                                  disbursement_id=uuid.uuid4(), aid_type=rel.AidType.CONSOLATION, amount_fen=50_000,
                                  year=2026, paid_at=at(2, 10)), M1, at(2, 10), "relief")  # fmt: skip
    await pub(R, rel.AidDisbursed(case=relief_case(r1, M1, B1, "in_register", "deep", ["illness"]),
                                  disbursement_id=uuid.uuid4(), aid_type=rel.AidType.MEDICAL, amount_fen=120_000,
                                  year=2026, paid_at=at(3, 1)), M1, at(3, 1), "relief")  # fmt: skip
    await pub(R, rel.CaseOpened(case=relief_case(r2, M4, B3, "reported", None, ["illness", "unemployment"]),
                                channel=rel.IntakeChannel.GRID_REPORT, opened_at=at(2, 7)), M4, at(2, 7), "relief")  # fmt: skip
    await pub(R, rel.CaseVerified(case=relief_case(r2, M4, B3, "verified", "relative", ["illness", "unemployment"]),
                                  tier=rel.Tier.RELATIVE, verified_at=at(2, 20)), M4, at(2, 20), "relief")  # fmt: skip
    old = rel.CaseSnapshotV1(case_id=r3, member_id=M3, status=rel.CaseStatus.REPORTED, tier=None, union_id=B2,
                             aid_year=2026, aid_paid_fen=0)  # fmt: skip
    await pub(R, rel.CaseOpenedV1(case=old, channel=rel.IntakeChannel.SELF_APPLICATION, opened_at=at(3, 4)),
              M3, at(3, 4), "relief")  # fmt: skip
    await pub(R, rel.CaseOpened(case=relief_case(r5, M2, B1, "reported", None, ["accident"]),
                                channel=rel.IntakeChannel.SELF_APPLICATION, opened_at=at(3, 5)), M2, at(3, 5), "relief")  # fmt: skip
    await pub(R, rel.CaseWithdrawn(case=relief_case(r5, M2, B1, "withdrawn", None, ["accident"]),
                                   reason=rel.WithdrawalReason.RETIRED, withdrawn_at=at(3, 6)), M2, at(3, 6), "relief")  # fmt: skip
    # Budgets (K1, 2026): consolation 1,000 yuan; medical 1,000 then raised to 2,000 yuan.
    for aid, fen in [
        (rel.AidType.CONSOLATION, 100_000),
        (rel.AidType.MEDICAL, 100_000),
        (rel.AidType.MEDICAL, 200_000),
    ]:
        b = rel.BudgetSet(union_id=K1, year=2026, aid_type=aid, total_fen=fen, set_at=at(1, 3))
        await pub(R, b, rel.budget_subject(K1, 2026, aid), at(1, 3), "relief")
    L = LEGAL_EVENTS
    # Legal: d1 (B1, a collective case of M1 and M2) filed Jan, mediation failed Feb, closed Mar with
    # the award won and 8,000 yuan recovered; its CaseClosed comes once per worker (counted once).
    # d2 (B3) filed Feb, mediation agreed in March (stage still mediation). K2 sent an opinion letter
    # in Feb, answered and rectified in March.
    d1, d2, sup = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await pub(L, legal.CaseFiled(case=dispute(d1, B1, "intake", [M1, M2]), collective=True,
                                 priority=legal.Priority.NORMAL, green_channel=False, filed_at=at(1, 15)), M1, at(1, 15), "legal")  # fmt: skip
    await pub(L, legal.MediationEnded(case=dispute(d1, B1, "mediation", [M1, M2]),
                                      outcome=legal.MediationOutcome.FAILED, on=date(2026, 2, 15)), M1, at(2, 15), "legal")  # fmt: skip
    for worker in (M1, M2):
        closed = legal.CaseClosed(case=dispute(d1, B1, "closed", [M1, M2], "award_won"),
                                  outcome=legal.Outcome.AWARD_WON, recovered_fen=800_000, closed_at=at(3, 10))  # fmt: skip
        await pub(L, closed, worker, at(3, 10), "legal")
    await pub(L, legal.CaseFiled(case=dispute(d2, B3, "intake", [M4]), collective=False,
                                 priority=legal.Priority.NORMAL, green_channel=False, filed_at=at(2, 16)), M4, at(2, 16), "legal")  # fmt: skip
    await pub(L, legal.MediationEnded(case=dispute(d2, B3, "mediation", [M4]),
                                      outcome=legal.MediationOutcome.AGREEMENT, on=date(2026, 3, 12)), M4, at(3, 12), "legal")  # fmt: skip
    await pub(L, legal.SupervisionLetterSent(supervision_id=sup, union_id=K2, employer="丙厂",
                                             letter=legal.LetterKind.OPINION, reply_due_on=date(2026, 3, 20),
                                             sent_at=at(2, 25)), sup, at(2, 25), "legal")  # fmt: skip
    await pub(L, legal.SupervisionAnswered(supervision_id=sup, union_id=K2, employer="丙厂",
                                           letter=legal.LetterKind.OPINION, rectified=True, answered_at=at(3, 15)),
              sup, at(3, 15), "legal")  # fmt: skip
    # Competitions (organised by K1, skills): M1 enters in Jan, M3 in Feb and withdraws; M1 wins in March.
    contest = comp.CompetitionRef(
        competition_id=uuid.uuid4(), name="技能大赛", kind=comp.CompetitionKind.SKILLS, union_id=K1
    )
    e1 = comp.EntryRef(entry_id=uuid.uuid4(), entry_no=1)
    e2 = comp.EntryRef(entry_id=uuid.uuid4(), entry_no=2)
    P = COMPETITIONS_EVENTS
    await pub(P, comp.EntryRegistered(member_id=M1, competition=contest, entry=e1, registered_at=at(1, 20)), M1, at(1, 20), "competitions")  # fmt: skip
    await pub(P, comp.EntryRegistered(member_id=M3, competition=contest, entry=e2, registered_at=at(2, 20)), M3, at(2, 20), "competitions")  # fmt: skip
    await pub(P, comp.EntryWithdrawn(member_id=M3, competition=contest, entry=e2, reason=next(iter(comp.WithdrawalReason)),
                                     withdrawn_at=at(2, 21)), M3, at(2, 21), "competitions")  # fmt: skip
    await pub(P, comp.AwardGranted(member_id=M1, competition=contest, entry=e1, award_id=uuid.uuid4(), title="一等奖",
                                   rank=1, granted_at=at(3, 20)), M1, at(3, 20), "competitions")  # fmt: skip
    # Offers: M1 (B1) redeems once in March; a member unknown here redeems too (no union: not counted).
    for who in (M1, uuid.uuid4()):
        r = OfferRedeemed(redemption_id=uuid.uuid4(), partner_id="p1", merchant_id="p1-shop", offer_id="lunch",
                          offer_key="p1/lunch", member_id=who, redeemed_at=at(3, 22))  # fmt: skip
        await pub(PARTNERS_EVENTS, r, who, at(3, 22), "partners")


@pytest.fixture(scope="module")
def reports_stack(infra: dict[str, str], run_id: str) -> Stack:
    """Only the reports service is started (beside no other): its source topics are this test's."""
    import os

    os.environ["POSTGRES_DSN"] = infra["POSTGRES_DSN"]
    return Stack(run_id=run_id, topic_prefix=f"t{run_id}.", bootstrap=infra["KAFKA_BOOTSTRAP_SERVERS"],
                 postgres_dsn=infra["POSTGRES_DSN"])  # fmt: skip


@pytest.fixture
async def reports(reports_stack: Stack, tmp_path: Path) -> AsyncIterator[RunningService]:
    async with side_service(reports_stack, "reports", "rp", tmp_path) as svc:
        yield svc


def table(report: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return next(t["rows"] for t in report["tables"] if t["table"] == name)


async def test_every_report_equals_the_hand_computed_figures(
    reports_stack: Stack, reports: RunningService, http: httpx.AsyncClient
) -> None:
    s = reports_stack
    s.topic_prefix = f"{s.topic_prefix}rp."  # the side service's topics
    producer = AIOKafkaProducer(bootstrap_servers=s.bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        await publish_fixture(Publisher(s, producer))
    finally:
        await producer.stop()
    admin = s.headers(Role.ADMIN, sub="admin-t")
    url = reports.url

    async def redemption_counted() -> bool:
        r = await http.get(f"{url}/reports/offers", params={"union_id": str(C), **PERIOD}, headers=admin)
        return r.status_code == 200 and table(r.json(), "redemptions_by_month")[-1]["redemptions"] == 1

    await eventually(redemption_counted, timeout=60)

    async def report(name: str, union_id: uuid.UUID = C) -> dict[str, Any]:
        r = await http.get(
            f"{url}/reports/{name}", params={"union_id": str(union_id), **PERIOD}, headers=admin
        )
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        assert body["period"] == PERIOD and body["union_id"] == str(union_id)
        return body

    # Membership: Jan +1 (M1); Feb +3 (M2 by China time, M3, M4); Mar M2 left, M3 out of B2 into B3.
    mem = await report("membership")
    assert table(mem, "flows_by_month") == [
        {"month": "2026-01", "joined": 1, "left": 0, "transferred_in": 0, "transferred_out": 0, "net": 1},
        {"month": "2026-02", "joined": 3, "left": 0, "transferred_in": 0, "transferred_out": 0, "net": 3},
        {"month": "2026-03", "joined": 0, "left": 1, "transferred_in": 1, "transferred_out": 1, "net": -1},
    ]
    assert table(mem, "members_by_union") == [
        {"union": "杭州市总工会", "members": 3}, {"union": "上城区总工会", "members": 1},
        {"union": "西湖区总工会", "members": 2},
    ]  # fmt: skip
    # Coverage now: C should 3, with 3 (E2 founded its union in March) -> 1; covered workforce
    # 100 + 50 + 40 = 190, members 3 -> 3/190; K1: 2 of 2, 1 member of 150; K2: 1 of 1, 2 of 40.
    coverage = await report("coverage")
    cov = {r["union"]: r for r in table(coverage, "coverage_by_union")}
    assert (cov["杭州市总工会"]["founding_rate"], cov["杭州市总工会"]["enrollment_rate"]) == (1.0, 0.0158)
    assert (cov["上城区总工会"]["founding_rate"], cov["上城区总工会"]["enrollment_rate"]) == (1.0, 0.0067)
    assert (cov["西湖区总工会"]["founding_rate"], cov["西湖区总工会"]["enrollment_rate"]) == (1.0, 0.05)
    # ... and at each month's end: Jan 1 member (M1), 2 of 3 employers, 140 workers covered;
    # Feb 4 members; Mar 3 members (M2 left; M3's move stays inside C), 3 of 3, 190 covered.
    assert table(coverage, "coverage_by_month") == [
        {"month": "2026-01", "members": 1, "employers_should": 3, "employers_with_union": 2,
         "founding_rate": 0.6667, "workforce_covered": 140, "enrollment_rate": 0.0071},
        {"month": "2026-02", "members": 4, "employers_should": 3, "employers_with_union": 2,
         "founding_rate": 0.6667, "workforce_covered": 140, "enrollment_rate": 0.0286},
        {"month": "2026-03", "members": 3, "employers_should": 3, "employers_with_union": 3,
         "founding_rate": 1.0, "workforce_covered": 190, "enrollment_rate": 0.0158},
    ]  # fmt: skip
    r = await http.get(f"{url}/unions/{C}/coverage", headers=admin)
    nodes = {i["union_id"]: i for i in r.json()["items"]}
    assert len(nodes) == 6
    assert (
        nodes[str(B1)]["members"],
        nodes[str(B1)]["employers_should"],
        nodes[str(B1)]["founding_rate"],
    ) == (1, 0, None)
    assert (nodes[str(C)]["workforce"], nodes[str(C)]["workforce_covered"], nodes[str(C)]["employers"]) == (
        195,
        190,
        4,
    )
    # Relief: current households r1 deep/illness, r2 relative/illness+unemployment, r3 not yet
    # tiered with causes unknown (v1); r5 withdrawn. Paid 500 of 1,000 consolation, 1,200 of 2,000 medical.
    rl = await report("relief")
    assert table(rl, "households_by_tier") == [
        {"tier": "深度困难", "households": 1}, {"tier": "相对困难", "households": 1}, {"tier": "待核实", "households": 1},
    ]  # fmt: skip
    assert sorted(
        (x["tier"], x["cause"], x["households"]) for x in table(rl, "households_by_cause")
    ) == sorted(
        [("深度困难", "因病", 1), ("相对困难", "因病", 1), ("相对困难", "失业", 1), ("待核实", "未知", 1)]
    )
    assert table(rl, "aid_by_type") == [
        {"aid_type": "送温暖", "paid": 50_000, "budget": 100_000, "used_rate": 0.5},
        {"aid_type": "医疗救助", "paid": 120_000, "budget": 200_000, "used_rate": 0.6},
    ]
    assert table(rl, "aid_by_month") == [
        {"month": "2026-01", "paid": 0, "cases_opened": 1},
        {"month": "2026-02", "paid": 50_000, "cases_opened": 1},
        {"month": "2026-03", "paid": 120_000, "cases_opened": 2},
    ]
    # Legal: d1 closed (award won, 8,000 yuan, once), d2 in mediation; mediation 1 agreed, 1 failed.
    lg = await report("legal")
    assert table(lg, "disputes_by_stage") == [{"stage": "调解", "cases": 1}, {"stage": "已结案", "cases": 1}]
    assert table(lg, "outcomes") == [{"outcome": "胜诉/仲裁支持", "cases": 1, "recovered": 800_000}]
    assert table(lg, "mediation") == [
        {"outcome": "达成协议", "cases": 1}, {"outcome": "调解不成", "cases": 1}, {"outcome": "期满未结", "cases": 0},
    ]  # fmt: skip
    assert table(lg, "supervision") == [
        {"item": "已发出", "count": 1}, {"item": "已回复", "count": 1}, {"item": "已整改", "count": 1},
    ]  # fmt: skip
    # Mediation: 1 agreement of 2 ended; letters: 1 sent, 1 answered, rectified.
    assert table(lg, "rates") == [
        {"item": "调解成功率", "numerator": 1, "denominator": 2, "rate": 0.5},
        {"item": "监督函回复率", "numerator": 1, "denominator": 1, "rate": 1.0},
        {"item": "整改回复率", "numerator": 1, "denominator": 1, "rate": 1.0},
    ]
    assert [(x["filed"], x["closed"]) for x in table(lg, "disputes_by_month")] == [(1, 0), (1, 0), (0, 1)]
    # Competitions (K1's skills contest): 2 entries, 1 withdrawn, 1 award.
    cp = await report("competitions")
    assert table(cp, "by_kind") == [
        {"kind": "技能竞赛", "entries": 2, "withdrawn": 1, "awards": 1, "ideas_adopted": 0}
    ]
    # Offers: M1's one redemption (B1); the unknown member's is nowhere. K2's subtree has none.
    assert table(await report("offers"), "redemptions_by_partner") == [{"partner": "p1", "redemptions": 1}]
    assert table(await report("offers", K2), "redemptions_by_partner") == []
    # The version is a digest of the figures: the same twice, another for another union.
    assert (await report("relief"))["version"] == rl["version"] != (await report("relief", K1))["version"]

    # Scope: K1's cadre reads K1 and below, not the city nor K2; a member reads no report.
    k1 = s.headers(Role.CADRE, union_id=K1, sub="cadre-k1")
    ok = await http.get(f"{url}/reports/relief", params={"union_id": str(B1), **PERIOD}, headers=k1)
    assert ok.status_code == 200 and table(ok.json(), "households_by_tier") == [
        {"tier": "深度困难", "households": 1}
    ]
    default = await http.get(f"{url}/reports/membership", params=PERIOD, headers=k1)
    assert default.json()["union_id"] == str(K1)
    for path in (f"/reports/relief?union_id={C}", f"/reports/legal?union_id={K2}", f"/unions/{K2}/coverage"):
        refused = await http.get(f"{url}{path}", headers=k1)
        assert refused.status_code == 403, path
        assert refused.json()["detail"]
    as_member = await http.get(f"{url}/reports/relief", params={"union_id": str(B1)},
                               headers=s.headers(Role.MEMBER, member_id=M1))  # fmt: skip
    assert as_member.status_code == 403
    # Bad input: 4xx with a reason, never a 5xx.
    assert (
        await http.get(f"{url}/reports/nope", params={"union_id": str(C)}, headers=admin)
    ).status_code == 404
    bad = await http.get(
        f"{url}/reports/relief", params={"union_id": str(C), "from": "2026-13"}, headers=admin
    )
    assert bad.status_code == 422
    assert (
        await http.get(f"{url}/reports/relief", params={"union_id": str(uuid.uuid4())}, headers=admin)
    ).status_code == 404
    listed = await http.get(f"{url}/reports", headers=k1)
    assert [i["report"] for i in listed.json()["items"]] == [
        "membership", "coverage", "relief", "legal", "competitions", "offers",
    ]  # fmt: skip

    # A rebuild replays the topics into a new generation and swaps it in: the same figures.
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.reports", "rebuild", env=reports.env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 180)
    assert proc.returncode == 0, err.decode()[-2000:]
    assert b"reports_rebuild_swapped" in out + err
    again = await report("relief")
    assert again["version"] == rl["version"]
    assert (await report("membership"))["version"] == mem["version"]
    # The live consumer writes into the new generation: one more member joins B3 in March.
    producer = AIOKafkaProducer(bootstrap_servers=s.bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        late = uuid.uuid4()
        joined = enr.MemberEnrolled(
            application_id=uuid.uuid4(), decided_by="cadre:t", member=member(late, B3)
        )
        await Publisher(s, producer)(ENROLLMENT_EVENTS, joined, late, at(3, 25), "enrollment")
    finally:
        await producer.stop()

    async def march_has_it() -> bool:
        return bool(table(await report("membership"), "flows_by_month")[2]["joined"] == 1)

    await eventually(march_has_it, timeout=30)


async def test_relief_publishes_causes_and_budgets_for_the_reports_and_the_card_keeps_no_cause(
    stack_env: Stack, http: httpx.AsyncClient
) -> None:
    """The real services: relief's v2 events carry the case's cause codes and its budgets
    (relief.BudgetSet); the stack's reports service counts them; the member's card shows none."""
    from shared.contracts import decode_event
    from tests.integration.conftest import read_topic
    from tests.integration.test_enrollment_to_card import Api
    from tests.integration.test_relief import YEAR, Relief

    relief = Relief(Api(stack_env, http))
    member, units = await relief.member_and_union()
    mid, union = member["member_id"], units["logistics"]
    case = await relief.in_register(member, union, aid=["medical"])
    await relief.budget(union, "medical", 500_000)
    paid = await relief.disburse(case["case_id"], union, str(uuid.uuid4()), 12_000)
    assert paid.status_code == 201, paid.text

    records = await read_topic(stack_env.bootstrap, stack_env.topic(RELIEF_EVENTS))
    events = [decode_event(r.value) for r in records]
    opened = [p for e, p in events if isinstance(p, rel.CaseOpened) and str(p.case.member_id) == mid]
    assert opened and opened[0].case.causes == ["illness"]
    budgets = [p for e, p in events if isinstance(p, rel.BudgetSet) and p.union_id == union]
    assert [(b.year, b.aid_type, b.total_fen) for b in budgets] == [(YEAR, rel.AidType.MEDICAL, 500_000)]

    admin = stack_env.headers(Role.ADMIN, sub="admin-t")
    url = stack_env.services["reports"].url

    async def counted() -> dict[str, Any] | None:
        """The budget and the payment are keyed apart (they may be read in either order): both."""
        r = await http.get(f"{url}/reports/relief", params={"union_id": str(union)}, headers=admin)
        if r.status_code != 200 or not any(
            row["paid"] and row["budget"] for row in table(r.json(), "aid_by_type")
        ):
            return None
        body: dict[str, Any] = r.json()
        return body

    rl = await eventually(counted, timeout=30)
    assert table(rl, "aid_by_type") == [
        {"aid_type": "医疗救助", "paid": 12_000, "budget": 500_000, "used_rate": 0.024}
    ]
    assert [(x["cause"], x["households"]) for x in table(rl, "households_by_cause")] == [("因病", 1)]

    card = await http.get(f"{stack_env.services['projector'].url}/cards/{mid}",
                          headers=stack_env.headers(Role.MEMBER, member_id=uuid.UUID(mid)))  # fmt: skip
    assert card.status_code == 200 and card.json()["relief"]["status"] == "in_register"
    assert "cause" not in card.text and "illness" not in card.text and "因病" not in card.text
