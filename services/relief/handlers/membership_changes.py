"""What a cadre does once the member's life or membership changed: resume a suspended case (the
member came back), withdraw a file (death, moving away, retirement, their own request), and, at
the union the member moved to, accept or decline their case. One transaction each."""

import uuid
from dataclasses import replace

from services.relief.domain.intake import clean_text
from services.relief.domain.lifecycle import Action, require_member_back
from services.relief.handlers.common import (
    Deps,
    audit_case,
    case_to_work,
    existing_case,
    moved,
    publish,
    save,
    union_path,
)
from services.relief.store import cases
from services.relief.store.cases import CaseRow
from shared import membership
from shared.auth import Caller
from shared.contracts.relief import CaseResumed, CaseTransferred, CaseWithdrawn, WithdrawalReason
from shared.db import Conn
from shared.errors import Conflict, Forbidden
from shared.events import Trace


async def resume(deps: Deps, caller: Caller, case_id: uuid.UUID, note: str) -> CaseRow:
    now = deps.now()
    trace = Trace.of(caller)
    note = clean_text(note, "the note")
    async with deps.pool.acquire() as conn, conn.transaction():
        case = await case_to_work(conn, caller, case_id)
        resumed = moved(case, Action.RESUME, suspended_from=None)
        member = await membership.get_member(conn, case.member_id)
        require_member_back(member is not None and member.active)
        saved = await save(conn, resumed)
        await audit_case(conn, trace, "case.resumed", saved, note or None)
        await publish(conn, deps, trace, saved, now, lambda s: CaseResumed(case=s, resumed_at=now))
        return saved


async def withdraw(
    deps: Deps, caller: Caller, case_id: uuid.UUID, reason: WithdrawalReason, note: str
) -> CaseRow:
    """Withdraw a file on death, moving away, retirement or the member's own request."""
    now = deps.now()
    trace = Trace.of(caller)
    note = clean_text(note, "the note", required=reason is WithdrawalReason.OTHER)
    async with deps.pool.acquire() as conn, conn.transaction():
        case = await case_to_work(conn, caller, case_id)
        withdrawn = moved(
            case, Action.WITHDRAW, suspended_from=None, pending_transfer_to=None, closed_at=now,
            next_review_due=None,
        )  # fmt: skip
        saved = await save(conn, withdrawn)
        cancelled = await cases.cancel_pending_step(
            conn, case_id, caller.actor, "the case was withdrawn", now
        )
        await audit_case(
            conn, trace, "case.withdrawn", saved, note or reason.value, withdrawal=reason.value,
            pending_step_cancelled=cancelled,
        )  # fmt: skip
        await publish(
            conn, deps, trace, saved, now, lambda s: CaseWithdrawn(case=s, reason=reason, withdrawn_at=now)
        )
        return saved


async def _pending_transfer(conn: Conn, caller: Caller, case_id: uuid.UUID) -> tuple[CaseRow, uuid.UUID]:
    case = await existing_case(conn, case_id, for_update=True)
    target = case.pending_transfer_to
    if target is None:
        raise Conflict("no transfer of this case is waiting for acceptance")
    if not caller.principal.is_cadre_or_admin() or not caller.principal.covers_union(
        await union_path(conn, target)
    ):
        raise Forbidden("only the receiving union's cadres accept or decline a transferred case")
    return case, target


async def accept_transfer(deps: Deps, caller: Caller, case_id: uuid.UUID, note: str) -> CaseRow:
    """The receiving union takes the case on; until now the old union followed it."""
    now = deps.now()
    trace = Trace.of(caller)
    note = clean_text(note, "the note")
    async with deps.pool.acquire() as conn, conn.transaction():
        case, target = await _pending_transfer(conn, caller, case_id)
        union = await membership.get_union(conn, target)
        assert union is not None
        taken_on = replace(
            case, union_id=target, pending_transfer_to=None, union_name=union.name, union_region=union.region,
            union_path=tuple(union.path),
        )  # fmt: skip
        saved = await save(conn, taken_on)
        await audit_case(
            conn, trace, "transfer.accepted", saved, note or None, from_union_id=str(case.union_id),
            to_union_id=str(target),
        )  # fmt: skip
        from_union = case.union_id
        await publish(
            conn, deps, trace, saved, now,
            lambda s: CaseTransferred(case=s, from_union_id=from_union, to_union_id=target, accepted_at=now),
        )  # fmt: skip
        return saved


async def decline_transfer(deps: Deps, caller: Caller, case_id: uuid.UUID, reason: str) -> CaseRow:
    """The receiving union does not take the case on: the old union keeps following it."""
    reason = clean_text(reason, "the reason", required=True)
    async with deps.pool.acquire() as conn, conn.transaction():
        case, target = await _pending_transfer(conn, caller, case_id)
        saved = await save(conn, replace(case, pending_transfer_to=None))
        await audit_case(conn, Trace.of(caller), "transfer.declined", saved, reason, to_union_id=str(target))
        return saved
