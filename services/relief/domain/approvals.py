"""Approval steps (verification, plan, exit): requested, then approved or rejected with notes.

The decision is made by someone other than the requester (four eyes), and a rejection says why.
"""

from services.relief.domain.lifecycle import Action
from shared.contracts.relief import ApprovalStep
from shared.errors import Conflict, InvalidInput

# What approving and rejecting each step is, in the lifecycle table.
APPROVE = {
    ApprovalStep.VERIFICATION: Action.APPROVE_VERIFICATION,
    ApprovalStep.PLAN: Action.APPROVE_PLAN,
    ApprovalStep.EXIT: Action.APPROVE_EXIT,
}
REJECT = {
    ApprovalStep.VERIFICATION: Action.REJECT_VERIFICATION,
    ApprovalStep.PLAN: Action.REJECT_PLAN,
    ApprovalStep.EXIT: Action.REJECT_EXIT,
}


def decision_note(note: str, *, approve: bool) -> str:
    cleaned = note.strip()
    if not approve and not cleaned:
        raise InvalidInput("a rejection needs a note saying why")
    if len(cleaned) > 2000:
        raise InvalidInput("the note must be at most 2000 characters")
    return cleaned


def require_other_decider(requested_by: str, decided_by: str) -> None:
    if requested_by == decided_by:
        raise Conflict("a step is decided by someone other than who requested it (four eyes)")


def require_pending(pending: ApprovalStep | None, step: ApprovalStep) -> None:
    """A decision answers the step that waits for one, and no other."""
    if pending is not step:
        raise Conflict(f"no {step} step of this case waits for a decision")
