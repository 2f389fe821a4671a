"""Approval steps (verification, plan, exit): requested with the case's move into the step,
decided by someone other than the requester (four eyes). One transaction each."""

import uuid
from datetime import datetime

from services.relief.domain import lifecycle
from services.relief.domain.approvals import (
    APPROVE,
    REJECT,
    decision_note,
    require_other_decider,
    require_pending,
)
from services.relief.domain.eligibility import require_eligible
from services.relief.domain.lifecycle import Action
from services.relief.handlers.common import (
    Deps,
    EventFor,
    audit_case,
    case_to_work,
    eligibility_of,
    moved,
    publish,
    save,
)
from services.relief.store import cases
from services.relief.store.cases import CaseRow
from shared.auth import Caller
from shared.contracts.envelope import EventPayload
from shared.contracts.relief import (
    ApprovalStep,
    CaseApproved,
    CaseDeclined,
    CaseExited,
    CaseSnapshot,
    CaseStepRejected,
    CaseStepRequested,
    CaseVerified,
    PlanSummary,
)
from shared.db import Conn
from shared.events import Trace, china_date


async def request_step(
    conn: Conn, deps: Deps, caller: Caller, case: CaseRow, step: ApprovalStep, note: str, now: datetime
) -> CaseRow:
    """Put the case, already moved into the step, to a decision (in the command's transaction)."""
    trace = Trace.of(caller)
    await cases.insert_step(conn, case.case_id, step, caller.actor, note, now)
    saved = await save(conn, case)
    await audit_case(conn, trace, "step.requested", saved, note or None, step=step.value)
    await publish(
        conn, deps, trace, saved, now, lambda s: CaseStepRequested(case=s, step=step, requested_at=now)
    )
    return saved


async def decide_step(
    deps: Deps, caller: Caller, case_id: uuid.UUID, step: ApprovalStep, *, approve: bool, note: str
) -> CaseRow:
    """Approve or reject the pending step, by someone other than who requested it."""
    now = deps.now()
    trace = Trace.of(caller)
    note = decision_note(note, approve=approve)
    async with deps.pool.acquire() as conn, conn.transaction():
        case = await case_to_work(conn, caller, case_id)
        action = APPROVE[step] if approve else REJECT[step]
        lifecycle.next_status(case.status, action, suspended_from=case.suspended_from)
        pending = await cases.pending_step(conn, case_id)
        require_pending(pending.step if pending else None, step)
        assert pending is not None
        require_other_decider(pending.requested_by, caller.actor)
        decided, event_for = await _decided(conn, deps, case, step, approve, now)
        await cases.decide_step(conn, pending.step_id, approve, caller.actor, note, now)
        saved = await save(conn, decided)
        await audit_case(
            conn, trace, f"step.{'approved' if approve else 'rejected'}", saved, note or None,
            step=step.value, tier=saved.tier.value if saved.tier else None,
        )  # fmt: skip
        await publish(conn, deps, trace, saved, now, event_for)
        return saved


async def _decided(
    conn: Conn, deps: Deps, case: CaseRow, step: ApprovalStep, approve: bool, now: datetime
) -> tuple[CaseRow, EventFor]:
    """The case after the decision, and how to build its event from the snapshot."""

    def rejected(s: CaseSnapshot) -> EventPayload:
        return CaseStepRejected(case=s, step=step, decided_at=now)

    match step, approve:
        case ApprovalStep.VERIFICATION, True:
            tier = require_eligible(await eligibility_of(conn, deps, case))
            verified = moved(case, Action.APPROVE_VERIFICATION, tier=tier, verified_at=now)
            return verified, lambda s: CaseVerified(case=s, tier=tier, verified_at=now)
        case ApprovalStep.VERIFICATION, False:
            declined = moved(case, Action.REJECT_VERIFICATION, closed_at=now)
            return declined, lambda s: CaseDeclined(case=s, declined_at=now)
        case ApprovalStep.PLAN, True:
            due = deps.policy.review_due(china_date(now))
            approved = moved(case, Action.APPROVE_PLAN, approved_at=now, next_review_due=due)
            approved_tier = approved.tier
            assert approved_tier is not None
            plan = PlanSummary(aid_types=list(approved.plan_aid), next_review_due=due)
            return approved, lambda s: CaseApproved(case=s, tier=approved_tier, plan=plan, approved_at=now)
        case ApprovalStep.PLAN, False:
            return moved(case, Action.REJECT_PLAN, plan_aid=(), plan_summary=""), rejected
        case ApprovalStep.EXIT, True:
            exited = moved(case, Action.APPROVE_EXIT, exited_at=now, closed_at=now, next_review_due=None)
            return exited, lambda s: CaseExited(case=s, exited_at=now)
        case _:
            return moved(case, Action.REJECT_EXIT), rejected
