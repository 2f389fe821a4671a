"""The register: the assistance plan put to approval, the yearly re-verification, the request to
exit hardship (脱困) and the follow-up contacts after it. One transaction each."""

import uuid
from datetime import date

from services.relief.domain.aid import aid_list
from services.relief.domain.disclosure import require_disclosure_done
from services.relief.domain.eligibility import Eligibility
from services.relief.domain.exit import (
    ExitCheck,
    ExitReview,
    exit_check,
    require_exit_met,
    validate_exit_review,
)
from services.relief.domain.intake import clean_text
from services.relief.domain.lifecycle import Action
from services.relief.domain.visits import VisitForm, check_contact_date, validate_visit
from services.relief.handlers.approvals import request_step
from services.relief.handlers.common import (
    Deps,
    audit_case,
    case_to_work,
    eligibility_of,
    moved,
    save,
)
from services.relief.store import cases
from services.relief.store.cases import CaseRow
from shared.auth import Caller
from shared.contracts.relief import AidType, ApprovalStep
from shared.events import Trace, china_date


async def request_plan(
    deps: Deps, caller: Caller, case_id: uuid.UUID, aid: tuple[AidType, ...], summary: str
) -> CaseRow:
    now = deps.now()
    plan_aid = aid_list(aid, "an assistance plan")
    summary = clean_text(summary, "the plan's summary", required=True)
    async with deps.pool.acquire() as conn, conn.transaction():
        case = await case_to_work(conn, caller, case_id)
        planned = moved(case, Action.REQUEST_PLAN, plan_aid=plan_aid, plan_summary=summary)
        assert case.disclosure_ends_at is not None
        unanswered = await cases.unanswered_objections(conn, case_id)
        require_disclosure_done(now, case.disclosure_ends_at, unanswered)
        return await request_step(conn, deps, caller, planned, ApprovalStep.PLAN, summary, now)


async def reverify(
    deps: Deps, caller: Caller, case_id: uuid.UUID, form: VisitForm
) -> tuple[CaseRow, Eligibility]:
    """The yearly re-verification of a file in the register: a visit, and the next due date."""
    now = deps.now()
    today = china_date(now)
    visit = validate_visit(form, today)
    async with deps.pool.acquire() as conn, conn.transaction():
        case = await case_to_work(conn, caller, case_id)
        due = deps.policy.review_due(today)
        reverified = moved(
            case, Action.REVERIFY, household=visit.household, causes=visit.causes, next_review_due=due
        )
        visit_id = await cases.insert_visit(
            conn, case_id, "reverification", visit.visited_on, caller.actor, visit.household, visit.causes,
            visit.findings, None, now,
        )  # fmt: skip
        saved = await save(conn, reverified)
        result = await eligibility_of(conn, deps, saved)
        await audit_case(
            conn, Trace.of(caller), "case.reverified", saved, visit_id=str(visit_id), next_review_due=due,
            still_eligible=result.eligible, failing=result.failing,
        )  # fmt: skip
        return saved, result


async def request_exit(
    deps: Deps, caller: Caller, case_id: uuid.UUID, review: ExitReview
) -> tuple[CaseRow, ExitCheck]:
    """Re-investigation for exit (脱困): refused unless the explicit criteria are met."""
    now = deps.now()
    visit = validate_exit_review(review, china_date(now))
    async with deps.pool.acquire() as conn, conn.transaction():
        case = await case_to_work(conn, caller, case_id)
        requested = moved(case, Action.REQUEST_EXIT, household=visit.household)
        policy = deps.policy
        check = exit_check(
            visit.household,
            review.guarantees,
            policy.line_for(case.union_region),
            policy.exit_factor_per_mille,
        )
        require_exit_met(check)
        await cases.insert_visit(
            conn, case_id, "exit_review", visit.visited_on, caller.actor, visit.household, case.causes,
            visit.findings, review.guarantees, now,
        )  # fmt: skip
        saved = await request_step(conn, deps, caller, requested, ApprovalStep.EXIT, visit.findings, now)
        return saved, check


async def record_follow_up(
    deps: Deps, caller: Caller, case_id: uuid.UUID, contacted_on: date, channel: str, notes: str
) -> uuid.UUID:
    now = deps.now()
    check_contact_date(contacted_on, china_date(now))
    notes = clean_text(notes, "the notes", required=True)
    async with deps.pool.acquire() as conn, conn.transaction():
        case = await case_to_work(conn, caller, case_id)
        moved(case, Action.FOLLOW_UP)
        follow_up_id = await cases.insert_follow_up(
            conn, case_id, contacted_on, channel, notes, caller.actor, now
        )
        await audit_case(
            conn, Trace.of(caller), "follow_up.recorded", case, notes, follow_up_id=str(follow_up_id),
            channel=channel, contacted_on=contacted_on,
        )  # fmt: skip
        return follow_up_id
