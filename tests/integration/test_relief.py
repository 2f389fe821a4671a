"""Relief end to end on real processes, a real broker and a real database: enrollment's events
drive relief's view of membership; cases go through the whole procedure; money never overdraws
a budget and is paid once however often a request is retried."""

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta, timezone
from typing import Any

import asyncpg
import httpx
import pytest

from shared.auth import Role
from shared.contracts import decode_event
from shared.contracts.topics import RELIEF_EVENTS
from tests.integration.conftest import Stack, eventually, read_topic
from tests.integration.test_enrollment_to_card import Api

pytestmark = pytest.mark.integration

CHINA = timezone(timedelta(hours=8))
YEAR = datetime.now(CHINA).year
TODAY = datetime.now(CHINA).date()


class Relief:
    """The calls a union office makes to the relief service. Two grid workers of each union, so
    that a step requested by one is decided by the other (four eyes)."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.http = api.http
        self.url = api.s.services["relief"].url
        self.rng = random.Random()

    def cadre(self, union_id: uuid.UUID, who: str = "wang") -> dict[str, str]:
        return self.api.s.headers(Role.CADRE, union_id=union_id, sub=f"grid-{who}")

    def member(self, member_id: str) -> dict[str, str]:
        return self.api.s.headers(Role.MEMBER, member_id=uuid.UUID(member_id))

    def household_no(self) -> str:
        return f"3301{self.rng.randrange(10**8):08d}"

    async def known(self, member_id: str) -> dict[str, Any]:
        """Wait until enrollment's events have told relief about the member."""

        async def check() -> dict[str, Any] | None:
            r = await self.http.get(f"{self.url}/members/{member_id}/cases", headers=self.api.admin)
            return r.json() if r.status_code == 200 else None

        known: dict[str, Any] = await eventually(check)
        return known

    async def member_and_union(self) -> tuple[dict[str, Any], dict[str, uuid.UUID]]:
        units = await self.api.tree()
        member = await self.api.enrolled_member(units["logistics"])
        await self.known(member["member_id"])
        return member, units

    async def report(self, headers: dict[str, str], **body: Any) -> httpx.Response:
        payload = {"household_register_no": self.household_no(), "household_size": 3,
                   "monthly_income_fen": 180_000, "causes": ["illness"], "note": "丈夫尿毒症, 每周透析"}  # fmt: skip
        payload.update(body)
        return await self.http.post(f"{self.url}/cases", json=payload, headers=headers)

    async def post(
        self, path: str, headers: dict[str, str], body: dict[str, Any] | None = None
    ) -> httpx.Response:
        return await self.http.post(f"{self.url}{path}", json=body or {}, headers=headers)

    async def get(self, path: str, headers: dict[str, str], **params: Any) -> httpx.Response:
        return await self.http.get(f"{self.url}{path}", headers=headers, params=params)

    async def ok(self, r: httpx.Response, status: int = 200) -> Any:
        assert r.status_code == status, r.text
        return r.json()

    async def backdate_disclosure(self, case_id: str, days: int = 6) -> None:
        """The test cannot wait out a five-day window: move it into the past in the database."""
        conn = await asyncpg.connect(self.api.s.services["relief"].dsn)
        try:
            await conn.execute(
                """UPDATE cases SET disclosure_starts_at = disclosure_starts_at - make_interval(days => $2),
                       disclosure_ends_at = disclosure_ends_at - make_interval(days => $2) WHERE case_id = $1""",
                uuid.UUID(case_id),
                days,
            )
        finally:
            await conn.close()

    async def in_register(
        self, member: dict[str, Any], union_id: uuid.UUID, aid: list[str] | None = None
    ) -> dict[str, Any]:
        """Drive a new case through visit, verification, disclosure and plan into the register."""
        wang, li = self.cadre(union_id, "wang"), self.cadre(union_id, "li")
        opened = await self.ok(await self.report(wang, member_id=member["member_id"]), 201)
        cid = opened["case"]["case_id"]
        visit = {"visited_on": str(TODAY), "household_size": 3, "monthly_income_fen": 240_000,
                 "causes": ["illness"], "findings": "三口之家, 丈夫透析, 妻子打零工"}  # fmt: skip
        await self.ok(await self.post(f"/cases/{cid}/visits", wang, visit))
        await self.ok(await self.post(f"/cases/{cid}/verification", wang, {"note": "入户核实完毕"}))
        await self.ok(await self.post(f"/cases/{cid}/steps/verification/approve", li))
        await self.ok(
            await self.post(
                f"/cases/{cid}/disclosure", wang, {"proposed_aid": aid or ["medical", "consolation"]}
            )
        )
        await self.backdate_disclosure(cid)
        plan = {"aid": aid or ["medical", "consolation"], "summary": "医疗救助每季度一次, 春节送温暖"}
        await self.ok(await self.post(f"/cases/{cid}/plan", wang, plan))
        case: dict[str, Any] = await self.ok(await self.post(f"/cases/{cid}/steps/plan/approve", li))
        assert case["status"] == "in_register"
        return case

    async def budget(self, union_id: uuid.UUID, aid: str, total_fen: int) -> dict[str, Any]:
        r = await self.http.put(
            f"{self.url}/budgets/{union_id}/{YEAR}/{aid}",
            json={"total_fen": total_fen},
            headers=self.cadre(union_id),
        )
        budget: dict[str, Any] = await self.ok(r)
        return budget

    async def disburse(
        self, case_id: str, union_id: uuid.UUID, key: str | None, amount_fen: int, aid: str = "medical"
    ) -> httpx.Response:
        headers = {**self.cadre(union_id), **({"Idempotency-Key": key} if key else {})}
        body = {"aid_type": aid, "amount_fen": amount_fen, "note": "住院押金"}
        return await self.http.post(f"{self.url}/cases/{case_id}/disbursements", json=body, headers=headers)

    async def events_of(self, member_id: str) -> list[tuple[Any, Any]]:
        records = await read_topic(self.api.s.bootstrap, self.api.s.topic(RELIEF_EVENTS))
        return [decode_event(r.value) for r in records if r.key == member_id.encode()]

    async def last_event(self, member_id: str, event_type: str) -> tuple[Any, Any]:
        """Wait until the member's newest relief event is of this type; return it."""

        async def check() -> tuple[Any, Any] | None:
            events = await self.events_of(member_id)
            return events[-1] if events and events[-1][0].event_type == event_type else None

        found: tuple[Any, Any] = await eventually(check)
        return found


@pytest.fixture
async def relief(stack_env: Stack, http: httpx.AsyncClient) -> AsyncIterator[Relief]:
    yield Relief(Api(stack_env, http))


async def _db(s: Stack) -> asyncpg.Connection:
    return await asyncpg.connect(s.services["relief"].dsn)


async def test_enrollment_events_drive_membership_and_only_members_may_have_a_case(
    relief: Relief, stack_env: Stack
) -> None:
    member, units = await relief.member_and_union()
    mid = member["member_id"]

    # The member applies for themself (主动申报).
    household = relief.household_no()
    opened = await relief.ok(await relief.report(relief.member(mid), household_register_no=household), 201)
    case = opened["case"]
    assert opened["outcome"] == "opened"
    assert case["member_id"] == mid and case["status"] == "reported" and case["channel"] == "self_application"
    assert case["union_id"] == str(units["logistics"])
    assert case["details"] is None  # the member sees status and aid, not the cadres' record

    # Not a member: unknown to enrollment, or only a pending applicant.
    stranger = await relief.report(relief.cadre(units["logistics"]), member_id=str(uuid.uuid4()))
    assert stranger.status_code == 404 and "only members may have a relief case" in stranger.json()["detail"]
    pending = (await relief.api.apply(units["logistics"])).json()["application"]["member_id"]
    applicant = await relief.report(relief.cadre(units["logistics"]), member_id=pending)
    assert applicant.status_code == 404
    other = await relief.report(relief.member(str(uuid.uuid4())), member_id=mid)
    assert other.status_code == 403

    # A grid worker's report about the same household joins the open file (一户一档).
    again = await relief.report(
        relief.cadre(units["district"]), member_id=mid, household_register_no=household
    )
    joined = await relief.ok(again, 200)
    assert joined["outcome"] == "joined" and joined["case"]["case_id"] == case["case_id"]
    spouse = await relief.api.enrolled_member(units["riders"])
    await relief.known(spouse["member_id"])
    same_household = await relief.report(
        relief.cadre(units["riders"]), member_id=spouse["member_id"], household_register_no=household
    )
    body = await relief.ok(same_household, 200)
    assert body["outcome"] == "joined" and body["case"] is None  # the riders' cadre may not see that file
    trail = await relief.ok(
        await relief.get(f"/cases/{case['case_id']}/trail", relief.cadre(units["logistics"]))
    )
    assert [t["action"] for t in trail] == ["case.opened", "report.joined", "report.joined"]

    # Who sees what: the member and the cadres above them; nobody else.
    cid = case["case_id"]
    assert (await relief.get(f"/cases/{cid}", relief.member(mid))).status_code == 200
    assert (await relief.get(f"/cases/{cid}", relief.member(spouse["member_id"]))).status_code == 403
    assert (await relief.get(f"/cases/{cid}", relief.cadre(units["other_city"]))).status_code == 403
    assert (await relief.get(f"/cases/{cid}", relief.cadre(units["riders"]))).status_code == 403
    seen = await relief.ok(await relief.get(f"/cases/{cid}", relief.cadre(units["city"])))
    assert seen["details"]["monthly_income_fen"] == 180_000
    assert seen["details"]["household_no_masked"] == "*" * 8 + household[-4:]

    events = await eventually(lambda: relief.events_of(mid))
    (env, payload), *_ = events
    assert env.event_type == "relief.CaseOpened" and env.subject == mid and env.subject_version == 1
    assert payload.case.status == "reported" and payload.case.aid_paid_fen == 0
    records = await read_topic(stack_env.bootstrap, stack_env.topic(RELIEF_EVENTS))
    assert not any(household.encode() in r.value or "透析".encode() in r.value for r in records)


async def test_a_case_goes_from_report_to_exit_and_every_step_is_in_its_trail(
    relief: Relief, stack_env: Stack
) -> None:
    member, units = await relief.member_and_union()
    mid, union = member["member_id"], units["logistics"]
    wang, li = relief.cadre(union, "wang"), relief.cadre(union, "li")
    opened = await relief.ok(await relief.report(wang, member_id=mid, household_size=12), 201)
    cid = opened["case"]["case_id"]

    # Verification rests on a home visit, and eligibility shows each criterion.
    early = await relief.post(f"/cases/{cid}/verification", wang)
    assert early.status_code == 409 and "home visit" in early.json()["detail"]
    visit = {"visited_on": str(TODAY), "household_size": 12, "monthly_income_fen": 600_000,
             "causes": ["illness", "disability"], "findings": "三代同堂, 12 口人, 两位老人卧床"}  # fmt: skip
    await relief.ok(await relief.post(f"/cases/{cid}/visits", wang, visit))
    eligibility = await relief.ok(await relief.get(f"/cases/{cid}/eligibility", wang))
    checks = {c["criterion"]: c["passed"] for c in eligibility["checks"]}
    assert checks == {
        "active_member": True,
        "income_band": True,
        "cause_present": True,
        "household_size": False,
    }
    await relief.ok(await relief.post(f"/cases/{cid}/verification", wang, {"note": "核实"}))
    not_eligible = await relief.post(f"/cases/{cid}/steps/verification/approve", li)
    assert not_eligible.status_code == 409 and not_eligible.json()["failing"] == ["household_size"]
    override = {"criterion": "household_size", "reason": "户口簿核实: 三代 12 口同住"}
    overridden = await relief.ok(await relief.post(f"/cases/{cid}/eligibility/override", wang, override))
    assert overridden["eligible"] and overridden["tier"] == "deep"
    own = await relief.post(f"/cases/{cid}/steps/verification/approve", wang)
    assert own.status_code == 409 and "four eyes" in own.json()["detail"]
    verified = await relief.ok(await relief.post(f"/cases/{cid}/steps/verification/approve", li))
    assert verified["status"] == "verified" and verified["tier"] == "deep"

    # An illegal step names the status and what may come next.
    wrong = await relief.post(f"/cases/{cid}/steps/plan/approve", li)
    assert wrong.status_code == 409
    assert wrong.json()["current_status"] == "verified"
    assert wrong.json()["allowed_next_steps"] == ["start_disclosure", "suspend", "withdraw"]

    # Public disclosure (公示): masked, for anyone signed in; objections recorded and answered.
    await relief.ok(
        await relief.post(f"/cases/{cid}/disclosure", wang, {"proposed_aid": ["medical", "tuition"]})
    )
    notices = await relief.ok(
        await relief.get("/disclosures", relief.member(str(uuid.uuid4())), union_id=str(units["city"]))
    )
    (notice,) = [n for n in notices if n["name_masked"][0] == member["name"][0] and n["tier"] == "deep"]
    assert notice["name_masked"] != member["name"] and "*" in notice["name_masked"]
    assert set(notice) == {
        "disclosure_no",
        "name_masked",
        "union_name",
        "tier",
        "aid_types",
        "starts_at",
        "ends_at",
    }
    assert (
        await relief.http.get(f"{relief.url}/disclosures", params={"union_id": str(union)})
    ).status_code == 401
    objection = await relief.ok(
        await relief.post(f"/cases/{cid}/objections", wang, {"objector": "匿名", "content": "其家有两套房"}),
        201,
    )
    too_soon = await relief.post(f"/cases/{cid}/plan", wang, {"aid": ["medical"], "summary": "医疗救助"})
    assert too_soon.status_code == 409 and "runs until" in too_soon.json()["detail"]
    await relief.backdate_disclosure(cid)
    unanswered = await relief.post(f"/cases/{cid}/plan", wang, {"aid": ["medical"], "summary": "医疗救助"})
    assert unanswered.status_code == 409 and "objection" in unanswered.json()["detail"]
    answer = {"answer": "经核实为老家宅基地自建房, 无商品房"}
    await relief.ok(
        await relief.post(f"/cases/{cid}/objections/{objection['objection_id']}/answer", wang, answer)
    )

    # Plan approved into the register; due for re-verification within a year.
    plan = {"aid": ["medical", "tuition"], "summary": "医疗救助, 孙子金秋助学"}
    await relief.ok(await relief.post(f"/cases/{cid}/plan", wang, plan))
    registered = await relief.ok(await relief.post(f"/cases/{cid}/steps/plan/approve", li, {"note": "同意"}))
    assert registered["status"] == "in_register" and registered["plan_aid"] == ["tuition", "medical"]
    due_on = date.fromisoformat(registered["next_review_due"])
    assert due_on > TODAY
    due = await relief.ok(await relief.get("/reviews/due", wang, union_id=str(union), on=str(due_on)))
    assert cid in [c["case_id"] for c in due]
    assert not await relief.ok(await relief.get("/reviews/due", wang, union_id=str(union)))

    # Aid: tuition once a year, enforced by the database.
    await relief.budget(union, "tuition", 500_000)
    paid = await relief.disburse(cid, union, uuid.uuid4().hex, 150_000, aid="tuition")
    assert paid.status_code == 201, paid.text
    twice = await relief.disburse(cid, union, uuid.uuid4().hex, 150_000, aid="tuition")
    assert twice.status_code == 409 and "once per member per year" in twice.json()["detail"]
    not_planned = await relief.disburse(cid, union, uuid.uuid4().hex, 10_000, aid="micro_loan")
    assert not_planned.status_code == 409 and "plan" in not_planned.json()["detail"]

    # Exit (脱困) by explicit criteria, re-investigated and approved by another cadre.
    review: dict[str, Any] = {"visited_on": str(TODAY), "household_size": 12, "monthly_income_fen": 1_900_000,
              "guarantees": {"medical": True, "work": True, "schooling": True, "housing": False,
                             "social_insurance": True}, "findings": "两人稳定就业"}  # fmt: skip
    refused = await relief.post(f"/cases/{cid}/exit", wang, review)
    assert refused.status_code == 409 and refused.json()["failing"] == ["guarantee_housing"]
    review["guarantees"]["housing"] = True
    requested = await relief.ok(await relief.post(f"/cases/{cid}/exit", wang, review))
    assert requested["case"]["status"] == "exit_requested" and all(c["passed"] for c in requested["criteria"])
    exited = await relief.ok(await relief.post(f"/cases/{cid}/steps/exit/approve", li))
    assert exited["status"] == "exited" and exited["allowed_next_steps"] == ["follow_up"]
    follow = {"contacted_on": str(TODAY), "channel": "phone", "notes": "电话回访, 收入稳定"}
    await relief.ok(await relief.post(f"/cases/{cid}/follow-ups", wang, follow), 201)

    # Re-entry later is a new file linked to the old one.
    again = await relief.ok(await relief.report(wang, member_id=mid), 201)
    assert again["case"]["previous_case_id"] == cid and again["case"]["status"] == "reported"

    trail = await relief.ok(await relief.get(f"/cases/{cid}/trail", wang))
    assert [t["action"] for t in trail] == [
        "case.opened", "visit.recorded", "step.requested", "eligibility.overridden", "step.approved",
        "disclosure.started", "objection.recorded", "objection.answered", "step.requested", "step.approved",
        "aid.disbursed", "step.requested", "step.approved", "follow_up.recorded",
    ]  # fmt: skip
    overridden_entry = next(t for t in trail if t["action"] == "eligibility.overridden")
    assert overridden_entry["actor"] == "cadre:grid-wang" and "12 口" in overridden_entry["reason"]
    conn = await _db(stack_env)
    try:
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await conn.execute("DELETE FROM audit_trail WHERE record_id = $1", uuid.UUID(cid))
    finally:
        await conn.close()

    # The member's events, in order, each with the case as it then stood and nothing sensitive.
    events = await eventually(lambda: _at_least(relief.events_of(mid), 10))
    assert [e.subject_version for e, _ in events] == list(range(1, len(events) + 1))
    assert [e.event_type.removeprefix("relief.") for e, _ in events] == [
        "CaseOpened", "CaseStepRequested", "CaseVerified", "DisclosureStarted", "CaseStepRequested",
        "CaseApproved", "AidDisbursed", "CaseStepRequested", "CaseExited", "CaseReopened",
    ]  # fmt: skip
    _, disbursed = events[6]
    assert disbursed.case.aid_paid_fen == 150_000 and disbursed.case.status == "in_register"
    _, exit_event = events[8]
    assert exit_event.case.status == "exited" and exit_event.case.tier == "deep"

    summary = await relief.ok(
        await relief.get(
            "/reports/summary", relief.cadre(units["district"]), union_id=str(units["district"]), year=YEAR
        )
    )
    assert summary["households_exited"] == 1 and summary["open_cases_by_status"] == {"reported": 1}
    assert summary["open_cases_by_cause"] == {"illness": 1}
    tuition = next(m for m in summary["money"] if m["aid_type"] == "tuition")
    assert tuition == {"aid_type": "tuition", "budget_total_fen": 500_000, "budget_spent_fen": 150_000,
                       "budget_remaining_fen": 350_000, "disbursed_fen": 150_000, "payments": 1}  # fmt: skip


async def _at_least(fetch: Any, n: int) -> Any:
    got = await fetch
    return got if len(got) >= n else None


async def test_concurrent_disbursements_never_overdraw_the_budget(relief: Relief, stack_env: Stack) -> None:
    member, units = await relief.member_and_union()
    union = units["logistics"]
    case = await relief.in_register(member, union, aid=["medical"])
    await relief.budget(union, "medical", 100_000)  # 1,000 yuan

    # 20 requests of 100 yuan at once, each its own payment (its own key).
    answers = await asyncio.gather(
        *(
            relief.disburse(case["case_id"], union, f"concurrent-{i}-{uuid.uuid4().hex}", 10_000)
            for i in range(20)
        )
    )
    codes = sorted(r.status_code for r in answers)
    assert codes == [201] * 10 + [409] * 10, [r.text for r in answers]
    for refused in (r for r in answers if r.status_code == 409):
        assert refused.json()["detail"].startswith("over budget") and refused.json()["remaining_fen"] == 0

    conn = await _db(stack_env)
    try:
        row = await conn.fetchrow(
            "SELECT total_fen, spent_fen FROM budgets WHERE union_id = $1 AND year = $2 AND aid_type = 'medical'",
            union,
            YEAR,
        )
        paid = await conn.fetchval(
            "SELECT sum(amount_fen) FROM disbursements WHERE case_id = $1", uuid.UUID(case["case_id"])
        )
    finally:
        await conn.close()
    assert row is not None and row["spent_fen"] == row["total_fen"] == 100_000
    assert paid == 100_000
    seen = await relief.ok(await relief.get(f"/cases/{case['case_id']}", relief.member(member["member_id"])))
    assert seen["aid_paid_fen"] == 100_000 and len(seen["disbursements"]) == 10


async def test_a_retried_disbursement_with_the_same_idempotency_key_pays_once(
    relief: Relief, stack_env: Stack
) -> None:
    member, units = await relief.member_and_union()
    union = units["logistics"]
    case = await relief.in_register(member, union, aid=["medical"])
    cid = case["case_id"]
    await relief.budget(union, "medical", 1_000_000)
    key = f"pay-{uuid.uuid4().hex}"

    first = await relief.disburse(cid, union, key, 30_000)
    assert first.status_code == 201, first.text
    retry = await relief.disburse(cid, union, key, 30_000)
    assert retry.status_code == 200 and retry.headers["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    # Retries racing each other still pay once.
    racing_key = f"race-{uuid.uuid4().hex}"
    racing = await asyncio.gather(*(relief.disburse(cid, union, racing_key, 20_000) for _ in range(6)))
    assert sorted(r.status_code for r in racing) == [200] * 5 + [201]
    assert len({r.json()["disbursement_id"] for r in racing}) == 1

    different = await relief.disburse(cid, union, key, 30_001)
    assert different.status_code == 409 and "different disbursement request" in different.json()["detail"]
    keyless = await relief.disburse(cid, union, None, 30_000)
    assert keyless.status_code == 422 and "Idempotency-Key" in keyless.json()["detail"]

    conn = await _db(stack_env)
    try:
        spent = await conn.fetchval(
            "SELECT spent_fen FROM budgets WHERE union_id = $1 AND year = $2 AND aid_type = 'medical'",
            union,
            YEAR,
        )
        count = await conn.fetchval("SELECT count(*) FROM disbursements WHERE case_id = $1", uuid.UUID(cid))
    finally:
        await conn.close()
    assert spent == 50_000 and count == 2
    paid_events = [
        p for e, p in await relief.events_of(member["member_id"]) if e.event_type == "relief.AidDisbursed"
    ]
    assert len(paid_events) == 2


async def test_a_leaver_s_case_is_suspended_and_flagged_and_resumes_on_return(relief: Relief) -> None:
    member, units = await relief.member_and_union()
    mid, union = member["member_id"], units["logistics"]
    case = await relief.in_register(member, union)
    cid = case["case_id"]

    left = await relief.http.post(
        f"{relief.api.enrollment}/members/{mid}/leave", json={"reason": "回老家"}, headers=relief.member(mid)
    )
    assert left.status_code == 200, left.text

    async def suspended() -> dict[str, Any] | None:
        body: dict[str, Any] = (await relief.get(f"/cases/{cid}", relief.cadre(union))).json()
        return body if body["status"] == "suspended" else None

    seen = await eventually(suspended)
    assert seen["flagged"] and "left the union" in seen["flag_reason"]
    assert seen["suspended_from"] == "in_register"
    assert seen["allowed_next_steps"] == ["resume", "withdraw"]
    listed = await relief.ok(
        await relief.get("/cases", relief.cadre(union), union_id=str(union), flagged="true")
    )
    assert cid in [c["case_id"] for c in listed]
    no_money = await relief.disburse(cid, union, uuid.uuid4().hex, 100)
    assert no_money.status_code == 409 and no_money.json()["current_status"] == "suspended"
    early = await relief.post(f"/cases/{cid}/resume", relief.cadre(union))
    assert early.status_code == 409 and "not returned" in early.json()["detail"]
    refused = await relief.report(relief.cadre(union), member_id=mid)
    assert refused.status_code == 409 and "only active members" in refused.json()["detail"]
    env, payload = await relief.last_event(mid, "relief.CaseSuspended")
    assert payload.reason == "member_left" and payload.case.status == "suspended"
    assert env.causation_id is not None  # caused by enrollment's MemberLeft

    back = await relief.http.post(
        f"{relief.api.enrollment}/members/{mid}/reinstate",
        json={"union_id": str(union)},
        headers=relief.api.cadre(union),
    )
    assert back.status_code == 200, back.text

    async def returned() -> dict[str, Any] | None:
        body: dict[str, Any] = (await relief.get(f"/cases/{cid}", relief.cadre(union))).json()
        return body if "back in the union" in (body["flag_reason"] or "") else None

    await eventually(returned)
    resumed = await relief.ok(
        await relief.post(f"/cases/{cid}/resume", relief.cadre(union), {"note": "已复会"})
    )
    assert resumed["status"] == "in_register" and not resumed["flagged"]


async def test_a_transferred_case_moves_only_when_the_new_union_accepts_it(relief: Relief) -> None:
    member, units = await relief.member_and_union()
    mid, old, new = member["member_id"], units["logistics"], units["riders"]
    opened = await relief.ok(await relief.report(relief.cadre(old), member_id=mid), 201)
    cid = opened["case"]["case_id"]

    moved = await relief.http.post(  # both unions are under the district: accepted at once
        f"{relief.api.enrollment}/members/{mid}/transfers",
        json={"to_union_id": str(new), "reason": "换工作成为骑手"},
        headers=relief.api.cadre(old),
    )
    assert moved.status_code == 200, moved.text

    async def pending() -> dict[str, Any] | None:
        body: dict[str, Any] = (await relief.get(f"/cases/{cid}", relief.cadre(old))).json()
        return body if body["pending_transfer_to"] == str(new) else None

    waiting = await eventually(pending)
    assert waiting["union_id"] == str(old) and waiting["flagged"]  # the old union still follows it
    wrong = await relief.post(f"/cases/{cid}/transfer/accept", relief.cadre(old))
    assert wrong.status_code == 403
    receiver_view = await relief.get(f"/cases/{cid}", relief.cadre(new))
    assert receiver_view.status_code == 200  # the receiver sees what it is asked to take on
    accepted = await relief.ok(await relief.post(f"/cases/{cid}/transfer/accept", relief.cadre(new)))
    assert (
        accepted["union_id"] == str(new)
        and accepted["pending_transfer_to"] is None
        and not accepted["flagged"]
    )
    assert (await relief.get(f"/cases/{cid}", relief.cadre(old))).status_code == 403
    _, payload = await relief.last_event(mid, "relief.CaseTransferred")
    assert (str(payload.from_union_id), str(payload.to_union_id)) == (str(old), str(new))
    assert str(payload.case.union_id) == str(new)


async def test_a_withdrawn_case_cancels_its_pending_step_and_the_household_may_report_again(
    relief: Relief, stack_env: Stack
) -> None:
    member, units = await relief.member_and_union()
    mid, wang = member["member_id"], relief.cadre(units["logistics"])
    household = relief.household_no()
    opened = await relief.ok(await relief.report(wang, member_id=mid, household_register_no=household), 201)
    cid = opened["case"]["case_id"]
    visit = {
        "visited_on": str(TODAY),
        "household_size": 2,
        "monthly_income_fen": 100_000,
        "findings": "已走访",
    }
    await relief.ok(await relief.post(f"/cases/{cid}/visits", wang, visit))
    await relief.ok(await relief.post(f"/cases/{cid}/verification", wang))

    other = await relief.post(f"/cases/{cid}/withdraw", wang, {"reason": "other"})
    assert other.status_code == 422 and "the note is required" in other.json()["detail"]
    withdrawn = await relief.ok(await relief.post(f"/cases/{cid}/withdraw", wang, {"reason": "moved"}))
    assert withdrawn["status"] == "withdrawn" and withdrawn["pending_step"] is None
    assert [s["decision"] for s in withdrawn["details"]["steps"]] == ["cancelled"]
    assert withdrawn["allowed_next_steps"] == []
    _, event = await relief.last_event(mid, "relief.CaseWithdrawn")
    assert event.reason == "moved" and event.case.status == "withdrawn"

    again = await relief.ok(await relief.report(wang, member_id=mid, household_register_no=household), 201)
    assert again["outcome"] == "opened" and again["case"]["previous_case_id"] == cid


async def test_bad_input_gets_a_clear_4xx_and_changes_nothing(relief: Relief, stack_env: Stack) -> None:
    member, units = await relief.member_and_union()
    mid, union = member["member_id"], units["logistics"]
    wang = relief.cadre(union)
    case = await relief.ok(await relief.report(wang, member_id=mid), 201)
    cid = case["case"]["case_id"]
    conn = await _db(stack_env)

    async def counts() -> tuple[int, ...]:
        row = await conn.fetchrow(
            """SELECT (SELECT count(*) FROM cases), (SELECT count(*) FROM case_reports),
                      (SELECT count(*) FROM visits), (SELECT count(*) FROM audit_trail),
                      (SELECT count(*) FROM budgets), (SELECT count(*) FROM disbursements),
                      (SELECT count(*) FROM eligibility_overrides), (SELECT count(*) FROM approval_steps),
                      (SELECT max(version) FROM event_versions), (SELECT string_agg(status, ',') FROM cases)"""
        )
        assert row is not None
        return tuple(row.values())

    try:
        before = await counts()
        visit = {"visited_on": str(TODAY), "household_size": 1, "monthly_income_fen": 0, "findings": "x"}
        future = {**visit, "visited_on": str(TODAY + timedelta(days=2))}
        budgets = f"{relief.url}/budgets"
        bad = [
            (await relief.report(wang, member_id=mid, monthly_income_fen=1800.5), 422, "integer"),
            (await relief.report(wang, member_id=mid, monthly_income_fen="180000"), 422, "integer"),
            (await relief.report(wang, member_id=mid, household_size=0), 422, "greater than or equal to 1"),
            (await relief.report(wang, member_id=mid, household_register_no="12"), 422, "household register"),
            (await relief.report(wang, member_id=mid, causes=["laziness"]), 422, "illness"),
            (await relief.report(wang, member_id=mid, extra="x"), 422, "Extra inputs"),
            (await relief.report(wang), 422, "member_id is required"),
            (
                await relief.report(relief.cadre(units["other_city"]), member_id=mid),
                403,
                "outside your scope",
            ),
            (await relief.report({}, member_id=mid), 401, "missing bearer token"),
            (await relief.post(f"/cases/{cid}/steps/plan/approve", wang), 409, "allowed next steps"),
            (await relief.post(f"/cases/{uuid.uuid4()}/visits", wang, visit), 404, "does not exist"),
            (await relief.post(f"/cases/{cid}/visits", wang, future), 422, "future"),
            (await relief.post(f"/cases/{cid}/visits", relief.member(mid), visit), 403, "cadres"),
            (
                await relief.post(
                    f"/cases/{cid}/eligibility/override", wang, {"criterion": "active_member", "reason": "x"}
                ),
                422,
                "cannot be overridden",
            ),
            (
                await relief.post(
                    f"/cases/{cid}/eligibility/override", wang, {"criterion": "cause_present", "reason": "x"}
                ),
                409,
                "nothing to override",
            ),
            (
                await relief.post(f"/cases/{cid}/steps/verification/reject", wang, {"note": " "}),
                422,
                "needs a note",
            ),
            (await relief.post(f"/cases/{cid}/disclosure", wang, {"proposed_aid": []}), 422, "at least 1"),
            (
                await relief.disburse(cid, union, uuid.uuid4().hex, 100),
                409,
                "cannot disburse a case that is reported",
            ),
            (await relief.disburse(cid, union, "key", 100), 422, "Idempotency-Key"),
            (
                await relief.http.put(
                    f"{budgets}/{uuid.uuid4()}/{YEAR}/medical",
                    json={"total_fen": 1},
                    headers=relief.api.admin,
                ),
                404,
                "not known",
            ),
            (
                await relief.http.put(
                    f"{budgets}/{union}/{YEAR}/medical", json={"total_fen": -1}, headers=wang
                ),
                422,
                "greater than or equal to 0",
            ),
            (
                await relief.http.put(
                    f"{budgets}/{union}/{YEAR}/medical",
                    json={"total_fen": 100},
                    headers=relief.cadre(units["riders"]),
                ),
                403,
                "outside your scope",
            ),
            (
                await relief.http.put(
                    f"{budgets}/{union}/1999/medical", json={"total_fen": 100}, headers=wang
                ),
                422,
                "between 2000 and 2100",
            ),
            (await relief.get(f"/cases/{cid}/trail", relief.member(mid)), 403, "cadres"),
        ]
        for response, status, reason in bad:
            assert response.status_code == status, (status, response.text)
            assert reason in str(response.json()["detail"]), (reason, response.text)
        # Every refusal is RFC 9457 problem details, whoever refused (FastAPI's validation or a rule).
        for response, status, _ in bad:
            assert response.headers["content-type"] == "application/problem+json", response.headers
            problem = response.json()
            assert problem["status"] == status and problem["code"] and problem["type"].startswith("urn:")
        forbidden = bad[-1][0].json()
        assert forbidden["code"] == "forbidden" and forbidden["instance"] == f"/cases/{cid}/trail"
        assert await counts() == before
    finally:
        await conn.close()
