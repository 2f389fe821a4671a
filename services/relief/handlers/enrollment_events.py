"""Enrollment's events: relief's view of unions and membership (shared.membership), and what a
newer membership snapshot means for the member's open case: suspended when they leave, offered
to the new union when they move (the old one follows it until the new one accepts)."""

from dataclasses import replace

from services.relief.domain import lifecycle
from services.relief.domain.lifecycle import Action
from services.relief.handlers.common import Deps, audit_case, moved, publish, save
from services.relief.store import cases
from services.relief.store.cases import CaseRow
from shared import membership
from shared.consumer import Apply
from shared.contracts.enrollment import MembershipStatus, MemberSnapshot
from shared.contracts.relief import CaseStatus, CaseSuspended, SuspensionReason
from shared.db import Conn
from shared.events import Trace


def enrollment_events(deps: Deps) -> Apply:
    async def on_member_changed(conn: Conn, trace: Trace, member: MemberSnapshot) -> None:
        await follow_membership(conn, deps, trace, member)

    return membership.membership_events(on_member_changed=on_member_changed)


async def follow_membership(conn: Conn, deps: Deps, trace: Trace, member: MemberSnapshot) -> None:
    """Keep the member's open case in step with their membership (for each newer membership
    snapshot, in the consumer's transaction)."""
    case = await cases.open_case_of_member(conn, member.member_id, for_update=True)
    if case is None:
        return
    if member.status is MembershipStatus.LEFT:
        if case.status is not CaseStatus.SUSPENDED:
            await _suspend(conn, deps, trace, case)
        return
    await _follow_union(conn, trace, case, member)


async def _suspend(conn: Conn, deps: Deps, trace: Trace, case: CaseRow) -> None:
    now = deps.now()
    saved = await save(conn, moved(case, Action.SUSPEND, suspended_from=case.status))
    await audit_case(
        conn, trace, "case.suspended", saved, "the member left the union", suspended_from=case.status.value
    )
    await publish(
        conn, deps, trace, saved, now,
        lambda s: CaseSuspended(case=s, reason=SuspensionReason.MEMBER_LEFT, suspended_at=now),
    )  # fmt: skip


async def _follow_union(conn: Conn, trace: Trace, case: CaseRow, member: MemberSnapshot) -> None:
    """A member who moved: the case waits for the new union; one who moved back: it no longer does."""
    pending = lifecycle.transfer_target(case.union_id, member.base_union_id)
    flag = lifecycle.flag_reason(case.status, transfer_pending=pending is not None, member_active=True)
    if pending == case.pending_transfer_to and flag == case.flag_reason:
        return  # nothing the case needs to know (a newer snapshot with the same union)
    saved = await save(conn, replace(case, pending_transfer_to=pending))
    if pending != case.pending_transfer_to:
        action = "transfer.pending" if pending else "transfer.withdrawn"
        await audit_case(conn, trace, action, saved, to_union_id=str(pending) if pending else None)
    if saved.flag_reason != case.flag_reason:
        await audit_case(
            conn, trace, "case.flagged" if saved.flagged else "case.unflagged", saved, saved.flag_reason
        )
