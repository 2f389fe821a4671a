"""Legal rights end to end on real processes, a real broker and a real database: a member's
dispute from filing to a closed case with its events on the topic; the deadline scheduler fires
each notice once across concurrent claimers and a restart; bad input changes nothing."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta, timezone
from typing import Any

import asyncpg
import httpx
import pytest

from services.legal.domain.clocks import arbitration_limit
from services.legal.handlers.common import Deps
from services.legal.handlers.deadlines import deadline_timer
from services.legal.store.calendar import CalendarCache
from shared.auth import Role
from shared.contracts import decode_event
from shared.contracts.topics import LEGAL_EVENTS
from shared.events import EventWriter
from tests.integration.conftest import Stack, eventually, read_topic
from tests.integration.test_enrollment_to_card import Api

pytestmark = pytest.mark.integration

CHINA = timezone(timedelta(hours=8))
TODAY = datetime.now(CHINA).date()


class Legal:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.s = api.s
        self.http = api.http
        self.url = api.s.services["legal"].url

    def cadre(self, union_id: uuid.UUID) -> dict[str, str]:
        return self.s.headers(Role.CADRE, union_id=union_id)

    def member(self, member_id: str) -> dict[str, str]:
        return self.s.headers(Role.MEMBER, member_id=uuid.UUID(member_id))

    async def post(
        self, path: str, headers: dict[str, str], body: dict[str, Any] | None = None
    ) -> httpx.Response:
        return await self.http.post(f"{self.url}{path}", json=body or {}, headers=headers)

    async def get(self, path: str, headers: dict[str, str], **params: Any) -> httpx.Response:
        return await self.http.get(f"{self.url}{path}", headers=headers, params=params)

    async def ok(self, r: httpx.Response, status: int = 200) -> Any:
        assert r.status_code == status, r.text
        return r.json()

    async def file(self, headers: dict[str, str], **body: Any) -> httpx.Response:
        payload: dict[str, Any] = {"kind": "wage_arrears", "employer": "杭州某某建筑劳务有限公司",
                                   "amount_claimed_fen": 1_860_000, "learned_on": str(TODAY - timedelta(days=40)),
                                   "migrant_worker": True, "description": "工地三个月工资未发"}  # fmt: skip
        payload.update(body)
        return await self.post("/cases", headers, payload)

    async def member_known(self, union_id: uuid.UUID) -> dict[str, Any]:
        """An enrolled member, once enrollment's events have told the legal service about them."""
        member = await self.api.enrolled_member(union_id)

        # Known once a filing for them is refused for scope (403), no longer as unknown (404).
        async def known() -> bool:
            r = await self.file(self.cadre(uuid.uuid4()), member_id=member["member_id"])
            return r.status_code == 403  # known member, union outside the random cadre's scope

        await eventually(known)
        return member

    async def events_of(self, subject: str) -> list[tuple[Any, Any]]:
        records = await read_topic(self.s.bootstrap, self.s.topic(LEGAL_EVENTS))
        return [decode_event(r.value) for r in records if r.key == subject.encode()]

    async def events_until(self, subject: str, event_type: str, count: int = 1) -> list[tuple[Any, Any]]:
        async def check() -> list[tuple[Any, Any]] | None:
            events = await self.events_of(subject)
            return events if sum(e.event_type == event_type for e, _ in events) >= count else None

        found: list[tuple[Any, Any]] = await eventually(check, timeout=20)
        return found


@pytest.fixture
async def legal(stack_env: Stack, http: httpx.AsyncClient) -> AsyncIterator[Legal]:
    yield Legal(Api(stack_env, http))


async def test_a_members_dispute_goes_from_filing_to_a_closed_case_with_its_events(legal: Legal) -> None:
    units = await legal.api.tree()
    member = await legal.member_known(units["logistics"])
    mid = member["member_id"]
    cadre = legal.cadre(units["district"])

    # The member files for themself; a migrant worker's unpaid wages take the green channel.
    case = await legal.ok(await legal.file(legal.member(mid)), 201)
    cid = case["case_id"]
    assert (
        case["stage"] == "intake" and case["member_id"] == mid and case["union_id"] == str(units["logistics"])
    )
    assert case["case_no"].startswith(f"维权{TODAY.year}-") and len(case["case_no"]) == 13
    assert case["green_channel"] and case["priority"] == "urgent"
    assert "a migrant worker's unpaid wages (农民工欠薪)" in case["priority_reasons"]

    # Who sees it: the member and the cadres above their union; not another member, not a sibling union.
    assert (await legal.get(f"/cases/{cid}", legal.member(mid))).status_code == 200
    assert (await legal.get(f"/cases/{cid}", cadre)).status_code == 200
    assert (await legal.get(f"/cases/{cid}", legal.member(str(uuid.uuid4())))).status_code == 403
    assert (await legal.get(f"/cases/{cid}", legal.cadre(units["riders"]))).status_code == 403
    assert (await legal.get(f"/cases/{cid}", legal.cadre(units["other_city"]))).status_code == 403
    assert (await legal.get(f"/cases/{uuid.uuid4()}", cadre)).status_code == 404
    # A member does not work the case.
    r = await legal.post(f"/cases/{cid}/disposition", legal.member(mid), {"disposition": "accept"})
    assert r.status_code == 403

    accepted = await legal.ok(await legal.post(f"/cases/{cid}/disposition", cadre, {"disposition": "accept"}))
    assert accepted["stage"] == "consultation" and accepted["allowed_stages"] == [
        "arbitration", "closed", "mediation"]  # fmt: skip
    limit = [d for d in accepted["deadlines"] if d["name"] == "arbitration_limit"]
    assert {d["notice"] for d in limit} == {"approaching", "missed"}
    assert {d["due_on"] for d in limit} == {str(arbitration_limit(TODAY - timedelta(days=40)))}

    # Legal aid: the lawyer who once acted for the employer is never assigned.
    tied = await legal.ok(await legal.post("/counsel", cadre, {
        "union_id": str(units["district"]), "name": "张律师", "role": "lawyer", "capacity": 10,
        "represented_employers": ["杭州某某建筑劳务有限公司"]}), 201)  # fmt: skip
    free = await legal.ok(await legal.post("/counsel", cadre, {
        "union_id": str(units["district"]), "name": "李志愿者", "role": "volunteer", "capacity": 3}), 201)  # fmt: skip
    assigned = await legal.ok(await legal.post(f"/cases/{cid}/counsel", cadre, {}))
    assert assigned["counsel"]["counsel_id"] == free["counsel_id"] and assigned["counsel"]["open_cases"] == 1
    refused = await legal.post(
        f"/cases/{cid}/counsel", cadre, {"counsel_id": tied["counsel_id"], "reason": "x"}
    )
    assert refused.status_code == 409 and "conflict of interest" in refused.json()["detail"]
    # The city federation's roster serves the unions below it.
    lawyer = await legal.ok(await legal.post("/counsel", legal.cadre(units["city"]), {
        "union_id": str(units["city"]), "name": "王律师", "role": "lawyer", "capacity": 5}), 201)  # fmt: skip
    no_reason = await legal.post(f"/cases/{cid}/counsel", cadre, {"counsel_id": lawyer["counsel_id"]})
    assert no_reason.status_code == 422 and "reason" in no_reason.json()["detail"]
    handover = await legal.ok(await legal.post(f"/cases/{cid}/counsel", cadre, {
        "counsel_id": lawyer["counsel_id"], "reason": "案件进入仲裁, 转专职律师代理"}))  # fmt: skip
    assert handover["case"]["counsel_id"] == lawyer["counsel_id"] and handover["counsel"]["open_cases"] == 1

    # An illegal move is refused with the allowed ones named.
    r = await legal.post(f"/cases/{cid}/stage", cadre, {"stage": "litigation"})
    assert r.status_code == 409
    assert (
        r.json()["allowed"] == ["arbitration", "closed", "mediation"] and r.json()["stage"] == "consultation"
    )

    mediation = await legal.ok(await legal.post(f"/cases/{cid}/stage", cadre, {"stage": "mediation"}))
    window = [
        d for d in mediation["deadlines"] if d["name"] == "mediation_window" and d["notice"] == "missed"
    ]
    assert window[0]["due_on"] == str(TODAY + timedelta(days=15))
    # While mediation runs, arbitration waits for its outcome; mediation failed (调解不成).
    running = await legal.post(f"/cases/{cid}/stage", cadre, {"stage": "arbitration"})
    assert running.status_code == 409 and running.json()["allowed"] == ["record_mediation_outcome"]
    failed = await legal.ok(await legal.post(f"/cases/{cid}/mediation/outcome", cadre, {"outcome": "failed"}))
    assert failed["stage"] == "mediation" and failed["mediation_outcome_label"] == "调解不成"
    assert failed["mediation_ended_on"] == str(TODAY)
    arbitration = await legal.ok(await legal.post(f"/cases/{cid}/stage", cadre, {"stage": "arbitration"}))
    pending = {d["name"] for d in arbitration["deadlines"] if d["status"] == "pending"}
    assert pending == set()  # the limit and the mediation window are satisfied
    await legal.ok(await legal.post(f"/cases/{cid}/arbitration/accepted", cadre, {}))
    extended = await legal.ok(await legal.post(f"/cases/{cid}/arbitration/extended", cadre, {}))
    due = [d for d in extended["deadlines"] if d["name"] == "award_due" and d["status"] == "pending"]
    assert {d["due_on"] for d in due} == {str(TODAY + timedelta(days=60))}
    again = await legal.post(f"/cases/{cid}/arbitration/extended", cadre, {})
    assert again.status_code == 409 and "extended once already" in again.json()["detail"]
    early = await legal.post(f"/cases/{cid}/stage", cadre, {"stage": "litigation"})
    assert early.status_code == 409 and "no award yet" in early.json()["detail"]
    await legal.ok(await legal.post(f"/cases/{cid}/arbitration/awarded", cadre, {}))
    # The employer does not pay: the worker sues within the 15 days, and wins.
    suit = await legal.ok(await legal.post(f"/cases/{cid}/stage", cadre, {"stage": "litigation"}))
    assert suit["stage"] == "litigation" and suit["allowed_stages"] == ["closed"]
    closed = await legal.ok(await legal.post(
        f"/cases/{cid}/close", cadre, {"outcome": "award_won", "recovered_fen": 1_500_000}))  # fmt: skip
    assert (
        closed["stage"] == "closed"
        and closed["outcome"] == "award_won"
        and closed["recovered_fen"] == 1_500_000
    )
    assert all(d["status"] != "pending" for d in closed["deadlines"])
    r = await legal.post(f"/cases/{cid}/stage", cadre, {"stage": "mediation"})
    assert r.status_code == 409 and r.json()["allowed"] == []

    trail = await legal.ok(await legal.get(f"/cases/{cid}/trail", cadre))
    assert [t["action"] for t in trail] == [
        "case.filed", "intake.accept", "counsel.assigned", "counsel.handover", "stage.mediation",
        "mediation.failed", "stage.arbitration",
        "arbitration.accepted", "arbitration.extended", "arbitration.awarded", "stage.litigation",
        "case.closed",
    ]  # fmt: skip
    assert (await legal.get(f"/cases/{cid}/trail", legal.member(mid))).status_code == 403

    events = await legal.events_until(mid, "legal.CaseClosed")
    types = [e.event_type for e, _ in events]
    assert types == [
        "legal.CaseFiled", "legal.IntakeDecided", "legal.CounselAssigned", "legal.CounselAssigned",
        "legal.StageChanged", "legal.MediationEnded",
        "legal.StageChanged", "legal.ArbitrationProgressed", "legal.ArbitrationProgressed",
        "legal.ArbitrationProgressed", "legal.StageChanged", "legal.CaseClosed",
    ]  # fmt: skip
    assert [e.subject_version for e, _ in events] == list(range(1, 13))
    _, handed = events[3]
    assert (
        str(handed.counsel_id) == lawyer["counsel_id"]
        and str(handed.previous_counsel_id) == free["counsel_id"]
    )
    _, last = events[-1]
    assert last.case.stage == "closed" and last.case.kind == "wage_arrears" and str(last.case.case_id) == cid
    assert str(last.case.union_id) == str(units["logistics"]) and last.case.next_deadline is None
    _, awarded = events[-3]
    assert awarded.case.next_deadline.name == "suit_limit"
    assert awarded.case.next_deadline.due_on == TODAY + timedelta(days=15)

    report = await legal.ok(await legal.get("/reports/summary", cadre, union_id=str(units["district"]),
                                            start=str(TODAY - timedelta(days=1)), end=str(TODAY)))  # fmt: skip
    assert report["closed"] == 1 and report["recovered_fen"] == 1_500_000
    assert report["by_kind_and_stage"] == [{"kind": "wage_arrears", "stage": "closed", "cases": 1}]
    assert report["mediations_finished"] == 1 and report["mediation_success_rate"] == 0.0
    r = await legal.get("/reports/summary", legal.cadre(units["riders"]), union_id=str(units["district"]),
                        start=str(TODAY), end=str(TODAY))  # fmt: skip
    assert r.status_code == 403


async def test_a_cadre_files_a_collective_case_and_a_rejection_names_a_referral(legal: Legal) -> None:
    units = await legal.api.tree()
    workers = [await legal.member_known(units["riders"]) for _ in range(2)]
    cadre = legal.cadre(units["riders"])
    case = await legal.ok(await legal.file(cadre, member_id=workers[0]["member_id"], kind="overtime",
                                           migrant_worker=False,
                                           other_member_ids=[workers[1]["member_id"]]), 201)  # fmt: skip
    assert case["collective"] and case["member_ids"] == [w["member_id"] for w in workers]
    assert case["priority"] == "normal" and not case["green_channel"]
    # The other worker of the collective case sees it too.
    assert (
        await legal.get(f"/cases/{case['case_id']}", legal.member(workers[1]["member_id"]))
    ).status_code == 200
    mine = await legal.ok(
        await legal.get(f"/members/{workers[1]['member_id']}/cases", legal.member(workers[1]["member_id"]))
    )
    assert [c["case_id"] for c in mine] == [case["case_id"]]

    pending = await legal.ok(
        await legal.post(f"/cases/{case['case_id']}/disposition", cadre, {"disposition": "pending"})
    )
    assert pending["stage"] == "intake" and pending["disposition"] == "pending"
    rejected = await legal.ok(await legal.post(f"/cases/{case['case_id']}/disposition", cadre, {
        "disposition": "reject", "reason": "已超过仲裁时效", "referral": "市法律援助中心"}))  # fmt: skip
    assert rejected["stage"] == "closed" and rejected["outcome"] == "rejected"
    assert rejected["referral"] == "市法律援助中心"
    events = await legal.events_until(workers[0]["member_id"], "legal.CaseClosed")
    assert [e.event_type for e, _ in events][-3:] == [
        "legal.IntakeDecided",
        "legal.IntakeDecided",
        "legal.CaseClosed",
    ]


async def test_bad_input_gets_a_clear_4xx_and_changes_nothing(legal: Legal) -> None:
    units = await legal.api.tree()
    member = await legal.member_known(units["logistics"])
    mid = member["member_id"]
    cadre = legal.cadre(units["logistics"])
    conn = await asyncpg.connect(legal.s.services["legal"].dsn)
    try:
        before = await conn.fetchval("SELECT count(*) FROM cases")
        bad_bodies: list[dict[str, Any]] = [
            {"amount_claimed_fen": -1},
            {"amount_claimed_fen": 12.5},
            {"amount_claimed_fen": "100"},
            {"kind": "parking_fine"},
            {"learned_on": str(TODAY + timedelta(days=1))},
            {"employer": ""},
            {"other_member_ids": [mid]},
            {"unknown_field": 1},
        ]
        for body in bad_bodies:
            r = await legal.file(legal.member(mid), **body)
            assert r.status_code == 422, (body, r.text)
            assert r.json()["detail"]
            assert r.json()["status"] == 422 and r.json()["code"] in ("invalid_request", "invalid_input")
        refused = await legal.file(legal.member(mid), member_id=str(uuid.uuid4()))
        assert refused.status_code == 403
        # Every refusal is RFC 9457 problem details.
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["status"] == 403 and refused.json()["code"] == "forbidden"
        assert "files for themself" in refused.json()["detail"]
        assert (await legal.file(cadre, member_id=str(uuid.uuid4()))).status_code == 404
        assert (await legal.file({})).status_code == 401
        assert await conn.fetchval("SELECT count(*) FROM cases") == before

        case = await legal.ok(await legal.file(legal.member(mid)), 201)
        cid = case["case_id"]
        r = await legal.post(
            f"/cases/{cid}/disposition", cadre, {"disposition": "reject", "reason": "不属实"}
        )
        assert r.status_code == 422 and "referral" in r.json()["detail"]
        r = await legal.post(f"/cases/{cid}/stage", cadre, {"stage": "mediation"})
        assert r.status_code == 409 and "disposition" in r.json()["detail"]
        r = await legal.post(f"/cases/{cid}/close", cadre, {"outcome": "settled"})
        assert r.status_code == 409
        row = await conn.fetchrow("SELECT stage, disposition FROM cases WHERE case_id = $1", uuid.UUID(cid))
        assert row is not None and dict(row) == {"stage": "intake", "disposition": None}
        trail = await legal.ok(await legal.get(f"/cases/{cid}/trail", cadre))
        assert [t["action"] for t in trail] == ["case.filed"]
    finally:
        await conn.close()


async def _deps(s: Stack) -> tuple[asyncpg.Pool, Deps]:
    pool = await asyncpg.create_pool(s.services["legal"].dsn, min_size=1, max_size=2)
    assert pool is not None
    return pool, Deps(pool=pool, events=EventWriter("legal", s.topic(LEGAL_EVENTS)), calendar=CalendarCache())


async def test_the_scheduler_fires_each_notice_once_across_replicas_and_a_restart(legal: Legal) -> None:
    units = await legal.api.tree()
    member = await legal.member_known(units["logistics"])
    mid = member["member_id"]
    cadre = legal.cadre(units["logistics"])
    case = await legal.ok(await legal.file(legal.member(mid)), 201)
    cid = uuid.UUID(case["case_id"])
    await legal.ok(
        await legal.post(f"/cases/{case['case_id']}/disposition", cadre, {"disposition": "accept"})
    )
    await legal.ok(await legal.post(f"/cases/{case['case_id']}/stage", cadre, {"stage": "mediation"}))

    # An opinion letter sent 40 days ago: the 15 working days are over, the reply never came.
    sup = await legal.ok(await legal.post("/supervisions", cadre, {
        "union_id": str(units["logistics"]), "employer": "杭州某某建筑劳务有限公司", "issue": "拖欠工资",
        "on": str(TODAY - timedelta(days=45))}), 201)  # fmt: skip
    sid = sup["supervision_id"]
    early = await legal.post(f"/supervisions/{sid}/send_recommendation", cadre, {})
    assert early.status_code == 409 and early.json()["allowed"] == ["send_opinion"]
    opinion = await legal.ok(await legal.post(f"/supervisions/{sid}/send_opinion", cadre,
                                              {"on": str(TODAY - timedelta(days=40))}))  # fmt: skip
    assert opinion["status"] == "opinion_sent" and date.fromisoformat(opinion["opinion_reply_due"]) < TODAY

    # Time passes: every notice of this case and this letter is due now.
    conn = await asyncpg.connect(legal.s.services["legal"].dsn)
    try:
        subjects = [f"case:{cid}", f"supervision:{sid}"]
        # The opinion reply's notices fell due when the letter was recorded: the service's own
        # scheduler may have fired them already. The rest are made due now.
        ids = [r["timer_id"] for r in await conn.fetch(
            "SELECT timer_id FROM timers WHERE kind = 'legal.deadline' AND subject = ANY($1::text[])",
            subjects)]  # fmt: skip
        assert len(ids) == 6  # arbitration limit, mediation window, opinion reply: approaching + missed each
        await conn.execute(
            """UPDATE timers SET fire_at = now() - interval '1 minute'
               WHERE kind = 'legal.deadline' AND subject = ANY($1::text[]) AND status = 'pending'""",
            subjects,
        )
    finally:
        await conn.close()

    # Two replicas claim at once (the service's own scheduler may join in: a third one).
    (pool_a, a), (pool_b, b) = await _deps(legal.s), await _deps(legal.s)
    try:
        timer_a, timer_b = deadline_timer(a, 1, batch=2), deadline_timer(b, 1, batch=2)
        await asyncio.gather(*[t.fire_due() for t in (timer_a, timer_b, timer_a, timer_b, timer_a, timer_b)])
    finally:
        await pool_a.close()
        await pool_b.close()
    # A restart: fresh connections find nothing left to fire for these rows.
    pool_c, c = await _deps(legal.s)
    try:
        await deadline_timer(c, 1).fire_due()
        conn = await asyncpg.connect(legal.s.services["legal"].dsn)
        try:
            statuses = await conn.fetch("SELECT status FROM timers WHERE timer_id = ANY($1::uuid[])", ids)
            assert [r["status"] for r in statuses] == ["fired"] * 6
        finally:
            await conn.close()
    finally:
        await pool_c.close()
    legal.s.services["legal"].stop()
    legal.s.services["legal"].start()

    events = await legal.events_until(mid, "legal.DeadlineMissed", count=2)
    notices = [(e.event_type, p) for e, p in events if e.event_type.startswith("legal.Deadline")]
    assert len(notices) == 4 and len({p.deadline_id for _, p in notices}) == 4
    missed = {p.name: p for t, p in notices if t == "legal.DeadlineMissed"}
    assert set(missed) == {"arbitration_limit", "mediation_window"}
    assert missed["mediation_window"].escalation == "may_apply_for_arbitration"
    letter_events = await legal.events_until(str(units["logistics"]), "legal.DeadlineMissed")
    letter_missed = [p for e, p in letter_events if e.event_type == "legal.DeadlineMissed"]
    assert len(letter_missed) == 1 and letter_missed[0].escalation == "recommendation_letter"
    assert str(letter_missed[0].supervision_id) == sid
    # After the restart nothing fires twice. A notice of this case falls due now (the award deadline
    # once the tribunal accepts): once the restarted service has fired it and its event is on the
    # member's partition, a second firing of the earlier notices would have come before it.
    await legal.ok(await legal.post(f"/cases/{case['case_id']}/stage", cadre, {"stage": "arbitration"}))
    await legal.ok(await legal.post(f"/cases/{case['case_id']}/arbitration/accepted", cadre, {}))
    conn = await asyncpg.connect(legal.s.services["legal"].dsn)
    try:
        sentinel = await conn.fetchval(
            """UPDATE timers SET fire_at = now() WHERE subject = $1 AND status = 'pending'
                 AND payload->>'name' = 'award_due' AND payload->>'notice' = 'approaching'
               RETURNING timer_id""",
            f"case:{cid}",
        )
        assert sentinel is not None
    finally:
        await conn.close()

    async def sentinel_fired() -> list[Any] | None:
        deadline_events = [
            (e, p) for e, p in await legal.events_of(mid) if e.event_type.startswith("legal.Deadline")
        ]
        return deadline_events if any(p.deadline_id == sentinel for _, p in deadline_events) else None

    after_restart = await eventually(sentinel_fired, timeout=20)
    assert len([p for _, p in after_restart if p.deadline_id != sentinel]) == 4

    # The escalation: the recommendation letter to labour inspection, which opens a case.
    rec = await legal.ok(await legal.post(f"/supervisions/{sid}/send_recommendation", cadre, {}))
    assert rec["status"] == "recommended" and rec["allowed_actions"] == [
        "inspection_declined",
        "inspection_opened",
    ]
    done = await legal.ok(await legal.post(f"/supervisions/{sid}/inspection_opened", cadre, {}))
    assert done["status"] == "inspection_opened"

    # Another employer replied in time and put things right: one of two rectified (整改回复率).
    other = await legal.ok(await legal.post("/supervisions", cadre, {
        "union_id": str(units["logistics"]), "employer": "某餐饮公司", "issue": "未签劳动合同"}), 201)  # fmt: skip
    await legal.ok(await legal.post(f"/supervisions/{other['supervision_id']}/send_opinion", cadre, {}))
    fixed = await legal.ok(
        await legal.post(f"/supervisions/{other['supervision_id']}/employer_rectified", cadre, {})
    )
    assert fixed["status"] == "rectified" and fixed["rectified"] is True
    report = await legal.ok(await legal.get("/reports/summary", cadre, union_id=str(units["logistics"]),
                                            start=str(TODAY), end=str(TODAY)))  # fmt: skip
    assert report["opinion_letters_sent"] == 2 and report["employers_rectified"] == 1
    assert report["rectification_rate"] == 0.5
    assert report["overdue_cases"] == 1  # the mediation window ran out on the open case
    trail = await legal.ok(await legal.get(f"/cases/{cid}/trail", cadre))
    assert sum(t["action"] == "deadline.missed" for t in trail) == 2


async def test_a_retried_filing_with_its_idempotency_key_answers_with_the_first_case(legal: Legal) -> None:
    units = await legal.api.tree()
    member = await legal.member_known(units["logistics"])
    headers = {**legal.member(member["member_id"]), "Idempotency-Key": f"file-{uuid.uuid4()}"}
    first, again = await asyncio.gather(legal.file(headers), legal.file(headers))
    assert sorted([first.status_code, again.status_code]) == [200, 201]
    assert first.json()["case_no"] == again.json()["case_no"]
    other = await legal.file(headers, amount_claimed_fen=1)
    assert other.status_code == 409 and "different filing" in other.json()["detail"]
    bad_key = await legal.file({**headers, "Idempotency-Key": "short"})
    assert bad_key.status_code == 422
    mine = await legal.ok(
        await legal.get(f"/members/{member['member_id']}/cases", legal.member(member["member_id"]))
    )
    assert len(mine) == 1
    events = await legal.events_until(member["member_id"], "legal.CaseFiled")
    assert [e.event_type for e, _ in events] == ["legal.CaseFiled"]
