"""Commands on relief cases. Each runs in one transaction: the case, its trail and its outgoing
events (through the outbox) are committed together or not at all. Every status change goes
through the lifecycle table (domain/lifecycle.py), which refuses what it does not allow."""

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg

from services.relief.domain import lifecycle
from services.relief.domain.aid import CHINA, aid_year
from services.relief.domain.approvals import APPROVE, REJECT, decision_note, require_other_decider
from services.relief.domain.disclosure import (
    disclosure_number,
    require_disclosure_done,
    require_window_open,
    window,
)
from services.relief.domain.eligibility import Criterion, Eligibility, assess, make_override
from services.relief.domain.exit import ExitCheck, Guarantee, exit_check, require_exit_met
from services.relief.domain.intake import (
    Cause,
    HardshipReport,
    Household,
    IntakeOutcome,
    clean_text,
    household_key,
    intake_channel,
    mask_register_no,
    validate_causes,
    validate_household,
    validate_report,
)
from services.relief.domain.lifecycle import Action
from services.relief.handlers.common import (
    Deps,
    Trace,
    emit,
    may_view,
    require_worker,
    snapshot,
    trace,
    union_path,
)
from services.relief.store import cases as q
from services.relief.store.cases import CaseRow, ObjectionRow
from shared import membership_view as qm
from shared.auth import Caller, Role
from shared.contracts.enrollment import MembershipStatus, MemberSnapshot
from shared.contracts.envelope import EventPayload
from shared.contracts.relief import (
    AidType,
    ApprovalStep,
    CaseApproved,
    CaseDeclined,
    CaseExited,
    CaseOpened,
    CaseReopened,
    CaseResumed,
    CaseSnapshot,
    CaseStatus,
    CaseStepRejected,
    CaseStepRequested,
    CaseSuspended,
    CaseTransferred,
    CaseVerified,
    CaseWithdrawn,
    DisclosureStarted,
    PlanSummary,
    SuspensionReason,
    Tier,
    WithdrawalReason,
)
from shared.db import Conn
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound

# Helpers ----------------------------------------------------------------------------------------


def _today(now: datetime) -> date:
    return now.astimezone(CHINA).date()


def _moved(case: CaseRow, action: Action, **changes: Any) -> CaseRow:
    """The case after `action`: the lifecycle table says which status, or refuses with a 409."""
    status = lifecycle.next_status(case.status, action, suspended_from=case.suspended_from)
    return replace(case, status=status, **changes)


async def _save(conn: Conn, case: CaseRow) -> CaseRow:
    """Save with the flag recomputed from the state (as membership status is derived, not typed)."""
    member = await qm.get_member(conn, case.member_id)
    flagged = replace(
        case,
        flag_reason=lifecycle.flag_reason(
            case.status,
            transfer_pending=case.pending_transfer_to is not None,
            member_active=member is not None and member.active,
        ),
    )
    await q.save_case(conn, flagged)
    return flagged


async def _case_to_work(conn: Conn, caller: Caller, case_id: uuid.UUID) -> CaseRow:
    case = await q.get_case(conn, case_id, for_update=True)
    if case is None:
        raise NotFound(f"case {case_id} does not exist")
    require_worker(caller, case)
    return case


async def _audit(
    conn: Conn, trace: Trace, action: str, case: CaseRow, reason: str | None = None, **detail: Any
) -> None:
    await q.audit(
        conn, trace.actor, action, case.case_id, f"case:{case.case_id}", trace.correlation_id, reason,
        status=case.status.value, **detail,
    )  # fmt: skip


async def _eligibility(conn: Conn, deps: Deps, case: CaseRow) -> Eligibility:
    member = await qm.get_member(conn, case.member_id)
    return assess(
        member_active=member is not None and member.active,
        household=case.household,
        causes=case.causes,
        line_fen=deps.policy.line_for(case.union_region),
        policy=deps.policy,
        override=await q.get_override(conn, case.case_id),
    )


def _aid_list(aid: tuple[AidType, ...], what: str) -> tuple[AidType, ...]:
    unique = tuple(a for a in AidType if a in set(aid))
    if not unique:
        raise InvalidInput(f"{what} names at least one aid type")
    return unique


def _visit_date(visited_on: date, now: datetime) -> date:
    if visited_on > _today(now):
        raise InvalidInput("a visit cannot be dated in the future")
    if visited_on < _today(now) - timedelta(days=366):
        raise InvalidInput("a visit more than a year old cannot support a decision")
    return visited_on


# Intake -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntakeResult:
    outcome: IntakeOutcome
    case: CaseRow
    visible: bool  # False: the report joined another member's household file the caller may not see


async def open_case(deps: Deps, caller: Caller, report: HardshipReport) -> IntakeResult:
    """Open a file, or join the open file of the member or their household (一户一档)."""
    report = validate_report(report)
    by_member = caller.principal.role is Role.MEMBER
    if by_member and not caller.principal.is_member(report.member_id):
        raise Forbidden("a member applies for themselves; grid workers report for others")
    household_hash = deps.pii.lookup_hash(household_key(report.household_register_no))
    try:
        return await _open_or_join(deps, caller, report, household_hash, by_member=by_member)
    except asyncpg.UniqueViolationError:
        # A concurrent report for the same household opened the file first: this one joins it.
        return await _open_or_join(deps, caller, report, household_hash, by_member=by_member)


async def _open_or_join(
    deps: Deps, caller: Caller, report: HardshipReport, household_hash: bytes, *, by_member: bool
) -> IntakeResult:
    now = deps.now()
    channel = intake_channel(by_the_member=by_member)
    async with deps.pool.acquire() as conn, conn.transaction():
        # The member's row lock makes concurrent reports about one member queue up.
        member = await qm.get_member(conn, report.member_id, for_update=True)
        if member is None:
            raise NotFound(f"{report.member_id} is not a union member: only members may have a relief case")
        union = await qm.get_union(conn, member.base_union_id)
        path = union.path if union else [member.base_union_id]
        if not by_member and not caller.principal.covers_union(path):
            raise Forbidden("the member's union is outside your scope")
        if not member.active:
            raise Conflict(f"only active members may have a relief case; this member has {member.status}")

        existing = await q.open_case_of_member(conn, member.member_id, for_update=True)
        existing = existing or await q.open_case_of_household(conn, household_hash)
        if existing is not None:
            await q.insert_report(
                conn, existing.case_id, member.member_id, channel, caller.actor, report.household,
                report.causes, report.note, joined=True, at=now,
            )  # fmt: skip
            await _audit(
                conn, trace(caller), "report.joined", existing, channel=channel.value,
                reported_for=str(member.member_id), same_member=existing.member_id == member.member_id,
            )  # fmt: skip
            return IntakeResult(
                IntakeOutcome.JOINED, existing, await may_view(conn, caller.principal, existing)
            )

        previous = await q.last_closed_case(conn, member.member_id)
        case = CaseRow(
            case_id=uuid.uuid4(), member_id=member.member_id, union_id=member.base_union_id,
            household_no_masked=mask_register_no(report.household_register_no), channel=channel,
            status=CaseStatus.REPORTED, suspended_from=None, flag_reason=None, household=report.household,
            causes=report.causes, cause_note=report.note, tier=None, previous_case_id=previous,
            pending_transfer_to=None, opened_at=now, verified_at=None, disclosure_no=None,
            disclosure_starts_at=None, disclosure_ends_at=None, proposed_aid=(), plan_aid=(), plan_summary="",
            approved_at=None, next_review_due=None, exited_at=None, closed_at=None, member_name=member.name,
            union_name=union.name if union else None, union_region=union.region if union else "",
            union_path=tuple(path),
        )  # fmt: skip
        await q.insert_case(conn, case, household_hash)
        await q.insert_report(
            conn, case.case_id, member.member_id, channel, caller.actor, report.household, report.causes,
            report.note, joined=False, at=now,
        )  # fmt: skip
        await _audit(
            conn, trace(caller), "case.reopened" if previous else "case.opened", case, channel=channel.value,
            previous_case_id=str(previous) if previous else None,
        )  # fmt: skip
        snap = await snapshot(conn, case, now)
        opened: EventPayload = (
            CaseReopened(case=snap, channel=channel, previous_case_id=previous, opened_at=now)
            if previous is not None
            else CaseOpened(case=snap, channel=channel, opened_at=now)
        )
        await emit(conn, deps, trace(caller), case.member_id, opened)
        return IntakeResult(IntakeOutcome.OPENED, case, True)


# Verification -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitForm:
    visited_on: date
    household_size: int
    monthly_income_fen: int
    causes: tuple[Cause, ...]
    findings: str


def _validated_visit(form: VisitForm, now: datetime) -> tuple[date, Household, tuple[Cause, ...], str]:
    return (
        _visit_date(form.visited_on, now),
        validate_household(form.household_size, form.monthly_income_fen),
        validate_causes(form.causes),
        clean_text(form.findings, "the visit's findings", required=True),
    )


async def record_visit(deps: Deps, caller: Caller, case_id: uuid.UUID, form: VisitForm) -> CaseRow:
    """The home visit (入户调查): its figures replace the reported ones for the decision."""
    now = deps.now()
    visited_on, household, causes, findings = _validated_visit(form, now)
    async with deps.pool.acquire() as conn, conn.transaction():
        case = await _case_to_work(conn, caller, case_id)
        moved = _moved(case, Action.RECORD_VISIT, household=household, causes=causes)
        visit_id = await q.insert_visit(
            conn, case_id, "verification", visited_on, caller.actor, household, causes, findings, None, now
        )
        saved = await _save(conn, moved)
        await _audit(
            conn, trace(caller), "visit.recorded", saved, visit_id=str(visit_id), visited_on=visited_on
        )
        return saved


async def eligibility(deps: Deps, caller: Caller, case_id: uuid.UUID) -> Eligibility:
    async with deps.pool.acquire() as conn:
        case = await q.get_case(conn, case_id)
        if case is None:
            raise NotFound(f"case {case_id} does not exist")
        require_worker(caller, case)
        return await _eligibility(conn, deps, case)


async def override_criterion(
    deps: Deps, caller: Caller, case_id: uuid.UUID, criterion: Criterion, reason: str, tier: Tier | None
) -> Eligibility:
    now = deps.now()
    async with deps.pool.acquire() as conn, conn.transaction():
        case = await _case_to_work(conn, caller, case_id)
        _moved(case, Action.OVERRIDE_CRITERION)
        current = await _eligibility(conn, deps, case)
        existing = await q.get_override(conn, case_id)
        override = make_override(current, existing, criterion, reason, tier, caller.actor, now)
        await q.insert_override(conn, case_id, override)
        await _audit(
            conn, trace(caller), "eligibility.overridden", case, override.reason, criterion=criterion.value,
            tier=override.tier.value if override.tier else None,
        )  # fmt: skip
        return await _eligibility(conn, deps, case)


async def request_verification(deps: Deps, caller: Caller, case_id: uuid.UUID, note: str) -> CaseRow:
    now = deps.now()
    note = clean_text(note, "the note")
    async with deps.pool.acquire() as conn, conn.transaction():
        case = await _case_to_work(conn, caller, case_id)
        moved = _moved(case, Action.REQUEST_VERIFICATION)
        if not await q.count_visits(conn, case_id, "verification"):
            raise Conflict("record the home visit (入户调查) first: verification rests on its findings")
        return await _request_step(conn, deps, caller, moved, ApprovalStep.VERIFICATION, note, now)


async def _request_step(
    conn: Conn, deps: Deps, caller: Caller, moved: CaseRow, step: ApprovalStep, note: str, now: datetime
) -> CaseRow:
    await q.insert_step(conn, moved.case_id, step, caller.actor, note, now)
    saved = await _save(conn, moved)
    await _audit(conn, trace(caller), "step.requested", saved, note or None, step=step.value)
    snap = await snapshot(conn, saved, now)
    await emit(
        conn,
        deps,
        trace(caller),
        saved.member_id,
        CaseStepRequested(case=snap, step=step, requested_at=now),
    )
    return saved


async def decide_step(
    deps: Deps, caller: Caller, case_id: uuid.UUID, step: ApprovalStep, *, approve: bool, note: str
) -> CaseRow:
    """Approve or reject the pending step, by someone other than who requested it."""
    now = deps.now()
    note = decision_note(note, approve=approve)
    async with deps.pool.acquire() as conn, conn.transaction():
        case = await _case_to_work(conn, caller, case_id)
        action = APPROVE[step] if approve else REJECT[step]
        lifecycle.next_status(case.status, action, suspended_from=case.suspended_from)
        pending = await q.pending_step(conn, case_id)
        if pending is None or pending.step is not step:
            raise Conflict(f"no {step} step of this case waits for a decision")
        require_other_decider(pending.requested_by, caller.actor)
        moved, event_for = await _decided(conn, deps, case, step, approve, now)
        await q.decide_step(conn, pending.step_id, approve, caller.actor, note, now)
        saved = await _save(conn, moved)
        await _audit(
            conn, trace(caller), f"step.{'approved' if approve else 'rejected'}", saved, note or None,
            step=step.value, tier=saved.tier.value if saved.tier else None,
        )  # fmt: skip
        snap = await snapshot(conn, saved, now)
        await emit(conn, deps, trace(caller), saved.member_id, event_for(snap))
        return saved


EventFor = Callable[[CaseSnapshot], EventPayload]


async def _decided(
    conn: Conn, deps: Deps, case: CaseRow, step: ApprovalStep, approve: bool, now: datetime
) -> tuple[CaseRow, EventFor]:
    """The case after the decision, and how to build its event from the snapshot."""
    if step is ApprovalStep.VERIFICATION and approve:
        result = await _eligibility(conn, deps, case)
        if not result.eligible:
            raise Conflict(
                f"not eligible: {', '.join(result.failing) or 'no tier'} failing; decline it, or override "
                "one criterion with a reason",
                failing=result.failing,
            )
        assert result.tier is not None
        verified_tier = result.tier
        moved = _moved(case, Action.APPROVE_VERIFICATION, tier=verified_tier, verified_at=now)
        return moved, lambda s: CaseVerified(case=s, tier=verified_tier, verified_at=now)
    if step is ApprovalStep.VERIFICATION:
        moved = _moved(case, Action.REJECT_VERIFICATION, closed_at=now)
        return moved, lambda s: CaseDeclined(case=s, declined_at=now)
    if step is ApprovalStep.PLAN and approve:
        due = _today(now) + timedelta(days=deps.policy.review_interval_days)
        moved = _moved(case, Action.APPROVE_PLAN, approved_at=now, next_review_due=due)
        assert moved.tier is not None
        tier, plan = moved.tier, PlanSummary(aid_types=list(moved.plan_aid), next_review_due=due)
        return moved, lambda s: CaseApproved(case=s, tier=tier, plan=plan, approved_at=now)
    if step is ApprovalStep.PLAN:
        moved = _moved(case, Action.REJECT_PLAN, plan_aid=(), plan_summary="")
        return moved, lambda s: CaseStepRejected(case=s, step=step, decided_at=now)
    if approve:
        moved = _moved(case, Action.APPROVE_EXIT, exited_at=now, closed_at=now, next_review_due=None)
        return moved, lambda s: CaseExited(case=s, exited_at=now)
    moved = _moved(case, Action.REJECT_EXIT)
    return moved, lambda s: CaseStepRejected(case=s, step=step, decided_at=now)


# Disclosure (公示) --------------------------------------------------------------------------------


async def start_disclosure(
    deps: Deps, caller: Caller, case_id: uuid.UUID, proposed_aid: tuple[AidType, ...]
) -> CaseRow:
    now = deps.now()
    proposed = _aid_list(proposed_aid, "a disclosure")
    async with deps.pool.acquire() as conn, conn.transaction():
        case = await _case_to_work(conn, caller, case_id)
        starts, ends = window(now, deps.policy.disclosure_days)
        number = disclosure_number(aid_year(now), await q.next_disclosure_sequence(conn))
        moved = _moved(
            case, Action.START_DISCLOSURE, disclosure_no=number, disclosure_starts_at=starts,
            disclosure_ends_at=ends, proposed_aid=proposed,
        )  # fmt: skip
        saved = await _save(conn, moved)
        await _audit(
            conn, trace(caller), "disclosure.started", saved, disclosure_no=number, ends_at=ends,
            proposed_aid=[a.value for a in proposed],
        )  # fmt: skip
        snap = await snapshot(conn, saved, now)
        await emit(
            conn, deps, trace(caller), saved.member_id,
            DisclosureStarted(case=snap, disclosure_no=number, starts_at=starts, ends_at=ends),
        )  # fmt: skip
        return saved


async def record_objection(
    deps: Deps, caller: Caller, case_id: uuid.UUID, objector: str, content: str
) -> ObjectionRow:
    now = deps.now()
    objector = clean_text(objector, "the objector", required=True, limit=100)
    content = clean_text(content, "the objection", required=True)
    async with deps.pool.acquire() as conn, conn.transaction():
        case = await _case_to_work(conn, caller, case_id)
        _moved(case, Action.RECORD_OBJECTION)
        assert case.disclosure_ends_at is not None
        require_window_open(now, case.disclosure_ends_at)
        objection = await q.insert_objection(conn, case_id, objector, content, caller.actor, now)
        await _audit(
            conn, trace(caller), "objection.recorded", case, content,
            objection_id=str(objection.objection_id), objector=objector,
        )  # fmt: skip
        return objection


async def answer_objection(
    deps: Deps, caller: Caller, case_id: uuid.UUID, objection_id: uuid.UUID, answer: str
) -> ObjectionRow:
    now = deps.now()
    answer = clean_text(answer, "the answer", required=True)
    async with deps.pool.acquire() as conn, conn.transaction():
        case = await _case_to_work(conn, caller, case_id)
        _moved(case, Action.ANSWER_OBJECTION)
        objection = await q.get_objection(conn, objection_id)
        if objection is None or objection.case_id != case_id:
            raise NotFound(f"objection {objection_id} is not one of this case's")
        if objection.answered_at is not None:
            raise Conflict(f"the objection was already answered by {objection.answered_by}")
        answered = await q.answer_objection(conn, objection_id, answer, caller.actor, now)
        await _audit(conn, trace(caller), "objection.answered", case, answer, objection_id=str(objection_id))
        return answered


async def decline(deps: Deps, caller: Caller, case_id: uuid.UUID, reason: str) -> CaseRow:
    """An objection upheld during disclosure: the household is not entered in the register."""
    now = deps.now()
    reason = clean_text(reason, "the reason", required=True)
    async with deps.pool.acquire() as conn, conn.transaction():
        case = await _case_to_work(conn, caller, case_id)
        saved = await _save(conn, _moved(case, Action.DECLINE, closed_at=now))
        await _audit(conn, trace(caller), "case.declined", saved, reason)
        snap = await snapshot(conn, saved, now)
        await emit(conn, deps, trace(caller), saved.member_id, CaseDeclined(case=snap, declined_at=now))
        return saved


# The register -----------------------------------------------------------------------------------


async def request_plan(
    deps: Deps, caller: Caller, case_id: uuid.UUID, aid: tuple[AidType, ...], summary: str
) -> CaseRow:
    now = deps.now()
    plan_aid = _aid_list(aid, "an assistance plan")
    summary = clean_text(summary, "the plan's summary", required=True)
    async with deps.pool.acquire() as conn, conn.transaction():
        case = await _case_to_work(conn, caller, case_id)
        moved = _moved(case, Action.REQUEST_PLAN, plan_aid=plan_aid, plan_summary=summary)
        assert case.disclosure_ends_at is not None
        require_disclosure_done(now, case.disclosure_ends_at, await q.unanswered_objections(conn, case_id))
        return await _request_step(conn, deps, caller, moved, ApprovalStep.PLAN, summary, now)


async def reverify(
    deps: Deps, caller: Caller, case_id: uuid.UUID, form: VisitForm
) -> tuple[CaseRow, Eligibility]:
    """The yearly re-verification of a file in the register: a visit, and the next due date."""
    now = deps.now()
    visited_on, household, causes, findings = _validated_visit(form, now)
    async with deps.pool.acquire() as conn, conn.transaction():
        case = await _case_to_work(conn, caller, case_id)
        due = _today(now) + timedelta(days=deps.policy.review_interval_days)
        moved = _moved(case, Action.REVERIFY, household=household, causes=causes, next_review_due=due)
        visit_id = await q.insert_visit(
            conn, case_id, "reverification", visited_on, caller.actor, household, causes, findings, None, now
        )
        saved = await _save(conn, moved)
        result = await _eligibility(conn, deps, saved)
        await _audit(
            conn, trace(caller), "case.reverified", saved, visit_id=str(visit_id), next_review_due=due,
            still_eligible=result.eligible, failing=result.failing,
        )  # fmt: skip
        return saved, result


@dataclass(frozen=True)
class ExitReview:
    visited_on: date
    household_size: int
    monthly_income_fen: int
    guarantees: Mapping[Guarantee, bool]
    findings: str


async def request_exit(
    deps: Deps, caller: Caller, case_id: uuid.UUID, review: ExitReview
) -> tuple[CaseRow, ExitCheck]:
    """Re-investigation for exit (脱困): refused unless the explicit criteria are met."""
    now = deps.now()
    visited_on = _visit_date(review.visited_on, now)
    household = validate_household(review.household_size, review.monthly_income_fen)
    findings = clean_text(review.findings, "the findings", required=True)
    async with deps.pool.acquire() as conn, conn.transaction():
        case = await _case_to_work(conn, caller, case_id)
        moved = _moved(case, Action.REQUEST_EXIT, household=household)
        check = exit_check(
            household,
            review.guarantees,
            deps.policy.line_for(case.union_region),
            deps.policy.exit_factor_per_mille,
        )
        require_exit_met(check)
        await q.insert_visit(
            conn, case_id, "exit_review", visited_on, caller.actor, household, case.causes, findings,
            review.guarantees, now,
        )  # fmt: skip
        saved = await _request_step(conn, deps, caller, moved, ApprovalStep.EXIT, findings, now)
        return saved, check


async def record_follow_up(
    deps: Deps, caller: Caller, case_id: uuid.UUID, contacted_on: date, channel: str, notes: str
) -> uuid.UUID:
    now = deps.now()
    if contacted_on > _today(now):
        raise InvalidInput("a contact cannot be dated in the future")
    notes = clean_text(notes, "the notes", required=True)
    async with deps.pool.acquire() as conn, conn.transaction():
        case = await _case_to_work(conn, caller, case_id)
        _moved(case, Action.FOLLOW_UP)
        follow_up_id = await q.insert_follow_up(
            conn, case_id, contacted_on, channel, notes, caller.actor, now
        )
        await _audit(
            conn, trace(caller), "follow_up.recorded", case, notes, follow_up_id=str(follow_up_id),
            channel=channel, contacted_on=contacted_on,
        )  # fmt: skip
        return follow_up_id


# Suspension, withdrawal, transfer ---------------------------------------------------------------


async def resume(deps: Deps, caller: Caller, case_id: uuid.UUID, note: str) -> CaseRow:
    now = deps.now()
    note = clean_text(note, "the note")
    async with deps.pool.acquire() as conn, conn.transaction():
        case = await _case_to_work(conn, caller, case_id)
        moved = _moved(case, Action.RESUME, suspended_from=None)
        member = await qm.get_member(conn, case.member_id)
        if member is None or not member.active:
            raise Conflict("the member has not returned to the union; the case stays suspended")
        saved = await _save(conn, moved)
        await _audit(conn, trace(caller), "case.resumed", saved, note or None)
        snap = await snapshot(conn, saved, now)
        await emit(conn, deps, trace(caller), saved.member_id, CaseResumed(case=snap, resumed_at=now))
        return saved


async def withdraw(
    deps: Deps, caller: Caller, case_id: uuid.UUID, reason: WithdrawalReason, note: str
) -> CaseRow:
    """Withdraw a file on death, moving away, retirement or the member's own request."""
    now = deps.now()
    note = clean_text(note, "the note", required=reason is WithdrawalReason.OTHER)
    async with deps.pool.acquire() as conn, conn.transaction():
        case = await _case_to_work(conn, caller, case_id)
        moved = _moved(
            case, Action.WITHDRAW, suspended_from=None, pending_transfer_to=None, closed_at=now,
            next_review_due=None,
        )  # fmt: skip
        saved = await _save(conn, moved)
        cancelled = await q.cancel_pending_step(conn, case_id, caller.actor, "the case was withdrawn", now)
        await _audit(
            conn, trace(caller), "case.withdrawn", saved, note or reason.value, withdrawal=reason.value,
            pending_step_cancelled=cancelled,
        )  # fmt: skip
        snap = await snapshot(conn, saved, now)
        await emit(
            conn,
            deps,
            trace(caller),
            saved.member_id,
            CaseWithdrawn(case=snap, reason=reason, withdrawn_at=now),
        )
        return saved


async def _pending_transfer(conn: Conn, caller: Caller, case_id: uuid.UUID) -> tuple[CaseRow, uuid.UUID]:
    case = await q.get_case(conn, case_id, for_update=True)
    if case is None:
        raise NotFound(f"case {case_id} does not exist")
    target = case.pending_transfer_to
    if target is None:
        raise Conflict("no transfer of this case is waiting for acceptance")
    if caller.principal.role is Role.MEMBER or not caller.principal.covers_union(
        await union_path(conn, target)
    ):
        raise Forbidden("only the receiving union's cadres accept or decline a transferred case")
    return case, target


async def accept_transfer(deps: Deps, caller: Caller, case_id: uuid.UUID, note: str) -> CaseRow:
    """The receiving union takes the case on; until now the old union followed it."""
    now = deps.now()
    note = clean_text(note, "the note")
    async with deps.pool.acquire() as conn, conn.transaction():
        case, target = await _pending_transfer(conn, caller, case_id)
        union = await qm.get_union(conn, target)
        assert union is not None
        moved = replace(
            case, union_id=target, pending_transfer_to=None, union_name=union.name, union_region=union.region,
            union_path=tuple(union.path),
        )  # fmt: skip
        saved = await _save(conn, moved)
        await _audit(
            conn, trace(caller), "transfer.accepted", saved, note or None, from_union_id=str(case.union_id),
            to_union_id=str(target),
        )  # fmt: skip
        snap = await snapshot(conn, saved, now)
        await emit(
            conn, deps, trace(caller), saved.member_id,
            CaseTransferred(case=snap, from_union_id=case.union_id, to_union_id=target, accepted_at=now),
        )  # fmt: skip
        return saved


async def decline_transfer(deps: Deps, caller: Caller, case_id: uuid.UUID, reason: str) -> CaseRow:
    """The receiving union does not take the case on: the old union keeps following it."""
    reason = clean_text(reason, "the reason", required=True)
    async with deps.pool.acquire() as conn, conn.transaction():
        case, target = await _pending_transfer(conn, caller, case_id)
        saved = await _save(conn, replace(case, pending_transfer_to=None))
        await _audit(conn, trace(caller), "transfer.declined", saved, reason, to_union_id=str(target))
        return saved


async def follow_membership(conn: Conn, deps: Deps, trace: Trace, member: MemberSnapshot) -> None:
    """Keep the member's open case in step with their membership (called for each newer
    membership snapshot, in the consumer's transaction): suspended when they leave; offered to
    the new union when they move, staying with the old one until the new one accepts."""
    case = await q.open_case_of_member(conn, member.member_id, for_update=True)
    if case is None:
        return
    now = deps.now()
    if member.status is MembershipStatus.LEFT:
        if case.status is CaseStatus.SUSPENDED:
            return
        saved = await _save(conn, _moved(case, Action.SUSPEND, suspended_from=case.status))
        await _audit(
            conn,
            trace,
            "case.suspended",
            saved,
            "the member left the union",
            suspended_from=case.status.value,
        )
        snap = await snapshot(conn, saved, now)
        await emit(
            conn, deps, trace, saved.member_id,
            CaseSuspended(case=snap, reason=SuspensionReason.MEMBER_LEFT, suspended_at=now),
        )  # fmt: skip
        return
    pending = None if member.base_union_id == case.union_id else member.base_union_id
    flag = lifecycle.flag_reason(case.status, transfer_pending=pending is not None, member_active=True)
    if pending == case.pending_transfer_to and flag == case.flag_reason:
        return  # nothing the case needs to know (a newer snapshot with the same union)
    saved = await _save(conn, replace(case, pending_transfer_to=pending))
    if pending != case.pending_transfer_to:
        action = "transfer.pending" if pending else "transfer.withdrawn"
        await _audit(conn, trace, action, saved, to_union_id=str(pending) if pending else None)
    if saved.flag_reason != case.flag_reason:
        await _audit(
            conn, trace, "case.flagged" if saved.flagged else "case.unflagged", saved, saved.flag_reason
        )
