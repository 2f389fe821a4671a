"""The life of a relief case as one explicit table: (status, action) -> next status.

    reported ─visit─▶ verification requested ─approve─▶ verified ─▶ in disclosure (公示)
        ─▶ plan requested ─approve─▶ in register (aid, yearly re-verification)
        ─▶ exit requested ─approve─▶ exited (followed up; re-entry is a new, linked case)

A rejected verification declines the case; a rejected plan goes back to disclosure; a rejected
exit back to the register. Any open case is suspended when its member leaves the union and
resumed where it stood; any open case may be withdrawn (death, moving, retirement).
Whatever is not in the table is refused, naming the current status and the allowed next steps.
"""

import uuid
from enum import StrEnum

from shared.contracts.relief import CaseStatus
from shared.errors import Conflict

S = CaseStatus


class Action(StrEnum):
    RECORD_VISIT = "record_visit"
    OVERRIDE_CRITERION = "override_criterion"
    REQUEST_VERIFICATION = "request_verification"
    APPROVE_VERIFICATION = "approve_verification"
    REJECT_VERIFICATION = "reject_verification"
    START_DISCLOSURE = "start_disclosure"
    RECORD_OBJECTION = "record_objection"
    ANSWER_OBJECTION = "answer_objection"
    DECLINE = "decline"
    REQUEST_PLAN = "request_plan"
    APPROVE_PLAN = "approve_plan"
    REJECT_PLAN = "reject_plan"
    DISBURSE = "disburse"
    REVERIFY = "reverify"
    REQUEST_EXIT = "request_exit"
    APPROVE_EXIT = "approve_exit"
    REJECT_EXIT = "reject_exit"
    FOLLOW_UP = "follow_up"
    SUSPEND = "suspend"
    RESUME = "resume"
    WITHDRAW = "withdraw"


class _Previous(StrEnum):
    """Target of RESUME: the status the case had when it was suspended."""

    STATUS_BEFORE_SUSPENSION = "status_before_suspension"


BACK = _Previous.STATUS_BEFORE_SUSPENSION
Target = CaseStatus | _Previous

A = Action
# fmt: off
TRANSITIONS: dict[tuple[CaseStatus, Action], Target] = {
    (S.REPORTED, A.RECORD_VISIT): S.REPORTED,
    (S.REPORTED, A.OVERRIDE_CRITERION): S.REPORTED,
    (S.REPORTED, A.REQUEST_VERIFICATION): S.VERIFICATION_REQUESTED,
    (S.REPORTED, A.SUSPEND): S.SUSPENDED,
    (S.REPORTED, A.WITHDRAW): S.WITHDRAWN,

    (S.VERIFICATION_REQUESTED, A.OVERRIDE_CRITERION): S.VERIFICATION_REQUESTED,
    (S.VERIFICATION_REQUESTED, A.APPROVE_VERIFICATION): S.VERIFIED,
    (S.VERIFICATION_REQUESTED, A.REJECT_VERIFICATION): S.DECLINED,
    (S.VERIFICATION_REQUESTED, A.SUSPEND): S.SUSPENDED,
    (S.VERIFICATION_REQUESTED, A.WITHDRAW): S.WITHDRAWN,

    (S.VERIFIED, A.START_DISCLOSURE): S.IN_DISCLOSURE,
    (S.VERIFIED, A.SUSPEND): S.SUSPENDED,
    (S.VERIFIED, A.WITHDRAW): S.WITHDRAWN,

    (S.IN_DISCLOSURE, A.RECORD_OBJECTION): S.IN_DISCLOSURE,
    (S.IN_DISCLOSURE, A.ANSWER_OBJECTION): S.IN_DISCLOSURE,
    (S.IN_DISCLOSURE, A.DECLINE): S.DECLINED,  # an objection upheld
    (S.IN_DISCLOSURE, A.REQUEST_PLAN): S.PLAN_REQUESTED,
    (S.IN_DISCLOSURE, A.SUSPEND): S.SUSPENDED,
    (S.IN_DISCLOSURE, A.WITHDRAW): S.WITHDRAWN,

    (S.PLAN_REQUESTED, A.APPROVE_PLAN): S.IN_REGISTER,
    (S.PLAN_REQUESTED, A.REJECT_PLAN): S.IN_DISCLOSURE,
    (S.PLAN_REQUESTED, A.SUSPEND): S.SUSPENDED,
    (S.PLAN_REQUESTED, A.WITHDRAW): S.WITHDRAWN,

    (S.IN_REGISTER, A.DISBURSE): S.IN_REGISTER,
    (S.IN_REGISTER, A.REVERIFY): S.IN_REGISTER,
    (S.IN_REGISTER, A.REQUEST_EXIT): S.EXIT_REQUESTED,
    (S.IN_REGISTER, A.SUSPEND): S.SUSPENDED,
    (S.IN_REGISTER, A.WITHDRAW): S.WITHDRAWN,

    (S.EXIT_REQUESTED, A.APPROVE_EXIT): S.EXITED,
    (S.EXIT_REQUESTED, A.REJECT_EXIT): S.IN_REGISTER,
    (S.EXIT_REQUESTED, A.SUSPEND): S.SUSPENDED,
    (S.EXIT_REQUESTED, A.WITHDRAW): S.WITHDRAWN,

    (S.SUSPENDED, A.RESUME): BACK,
    (S.SUSPENDED, A.WITHDRAW): S.WITHDRAWN,

    (S.EXITED, A.FOLLOW_UP): S.EXITED,
}
# fmt: on

# Closed files: the household may have a new case (re-entry), linked to the last closed one.
CLOSED = frozenset({S.DECLINED, S.EXITED, S.WITHDRAWN})
OPEN = frozenset(CaseStatus) - CLOSED
# Statuses a case can be suspended from, and so resumed to.
SUSPENDABLE = frozenset(s for (s, a) in TRANSITIONS if a is Action.SUSPEND)


class IllegalTransition(Conflict):
    def __init__(self, status: CaseStatus, action: Action, reason: str | None = None) -> None:
        allowed = allowed_actions(status)
        steps = ", ".join(allowed) if allowed else "none (the case is closed)"
        super().__init__(
            reason or f"cannot {action} a case that is {status}; allowed next steps: {steps}",
            current_status=status.value,
            allowed_next_steps=[a.value for a in allowed],
        )


def allowed_actions(status: CaseStatus) -> list[Action]:
    return [a for (s, a) in TRANSITIONS if s is status]


def next_status(
    status: CaseStatus, action: Action, *, suspended_from: CaseStatus | None = None
) -> CaseStatus:
    """The status after `action`, or IllegalTransition (a 409) naming what is allowed instead."""
    target = TRANSITIONS.get((status, action))
    if target is None:
        raise IllegalTransition(status, action)
    if target is BACK:
        if suspended_from not in SUSPENDABLE:
            raise ValueError(f"a suspended case must remember a suspendable status, got {suspended_from}")
        assert suspended_from is not None
        return suspended_from
    assert isinstance(target, CaseStatus)
    return target


def flag_reason(status: CaseStatus, *, transfer_pending: bool, member_active: bool) -> str | None:
    """Why a case needs a cadre's attention, derived from its state on every write (never typed)."""
    if status is S.SUSPENDED:
        if member_active:
            return "the member is back in the union: resume or withdraw the case"
        return "the member left the union: the case is suspended"
    if transfer_pending and status in OPEN:
        return "the member moved to another union: the case waits for that union to accept it"
    return None


def require_member_back(member_active: bool) -> None:
    """A suspended case resumes only once its member is active in the union again."""
    if not member_active:
        raise Conflict("the member has not returned to the union; the case stays suspended")


def transfer_target(case_union_id: uuid.UUID, member_union_id: uuid.UUID) -> uuid.UUID | None:
    """The union a case waits to be taken on by: the member's union, when they moved away."""
    return None if member_union_id == case_union_id else member_union_id
