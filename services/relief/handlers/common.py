"""What the relief handlers share: their dependencies, who may work or see a case, and the
steps every command on a case takes (load it locked, move it through the lifecycle table, save
it, write its trail, publish its event)."""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import asyncpg

from services.relief.domain import lifecycle
from services.relief.domain.aid import aid_year
from services.relief.domain.eligibility import Eligibility, assess
from services.relief.domain.lifecycle import Action
from services.relief.domain.tiers import ReliefPolicy
from services.relief.store import aid, cases
from services.relief.store.cases import CaseRow
from shared import audit, membership
from shared.auth import Caller, Principal, Role
from shared.contracts.envelope import EventPayload
from shared.contracts.relief import CaseSnapshot
from shared.db import Conn
from shared.errors import Forbidden, NotFound
from shared.events import Clock, EventWriter, Trace, utcnow
from shared.pii import PiiProtector
from shared.rows import from_row


@dataclass(frozen=True)
class Deps:
    pool: asyncpg.Pool
    events: EventWriter
    policy: ReliefPolicy
    pii: PiiProtector
    now: Clock = utcnow


# Who may work or see a case ---------------------------------------------------------------------


def require_worker(caller: Caller, case: CaseRow) -> None:
    """Cadres (grid workers included) of the union following the case or above it, and admins."""
    if not caller.principal.is_cadre_or_admin():
        raise Forbidden("only the cadres of the member's union work a relief case")
    if not caller.principal.covers_union(case.union_path):
        raise Forbidden("this case is outside your scope")


async def may_view(conn: Conn, principal: Principal, case: CaseRow) -> bool:
    """The member themself, the cadres working the case, and, while a transfer waits for it,
    the cadres of the receiving union (they decide whether to take it on)."""
    if principal.is_member(case.member_id) or principal.covers_union(case.union_path):
        return True
    if case.pending_transfer_to is not None and principal.role is Role.CADRE:
        target = await membership.get_union(conn, case.pending_transfer_to)
        return principal.covers_union(target.path if target else [case.pending_transfer_to])
    return False


async def union_path(conn: Conn, union_id: uuid.UUID) -> Sequence[uuid.UUID]:
    union = await membership.get_union(conn, union_id)
    if union is None:
        raise NotFound(f"union {union_id} is not known to the relief service")
    return union.path


async def require_union_scope(conn: Conn, caller: Caller, union_id: uuid.UUID) -> None:
    if not caller.principal.covers_union(await union_path(conn, union_id)):
        raise Forbidden("this union is outside your scope")


# The steps of a command on a case ---------------------------------------------------------------


async def existing_case(conn: Conn, case_id: uuid.UUID, *, for_update: bool = False) -> CaseRow:
    case = await cases.get_case(conn, case_id, for_update=for_update)
    if case is None:
        raise NotFound(f"case {case_id} does not exist")
    return case


async def case_to_work(conn: Conn, caller: Caller, case_id: uuid.UUID) -> CaseRow:
    """The case, locked for the command, if the caller works it."""
    case = await existing_case(conn, case_id, for_update=True)
    require_worker(caller, case)
    return case


def moved(case: CaseRow, action: Action, **changes: Any) -> CaseRow:
    """The case after `action`: the lifecycle table says which status, or refuses with a 409."""
    status = lifecycle.next_status(case.status, action, suspended_from=case.suspended_from)
    return replace(case, status=status, **changes)


async def save(conn: Conn, case: CaseRow) -> CaseRow:
    """Save with the flag recomputed from the state (as membership status is derived, not typed)."""
    member = await membership.get_member(conn, case.member_id)
    flagged = replace(
        case,
        flag_reason=lifecycle.flag_reason(
            case.status,
            transfer_pending=case.pending_transfer_to is not None,
            member_active=member is not None and member.active,
        ),
    )
    await cases.save_case(conn, flagged)
    return flagged


async def audit_case(
    conn: Conn, trace: Trace, action: str, case: CaseRow, reason: str | None = None, **detail: Any
) -> None:
    """An entry in the case's trail, with the status the step left it in."""
    await audit.record(
        conn, trace, action, f"case:{case.case_id}", record_id=case.case_id, reason=reason,
        status=case.status.value, **detail,
    )  # fmt: skip


async def eligibility_of(conn: Conn, deps: Deps, case: CaseRow) -> Eligibility:
    member = await membership.get_member(conn, case.member_id)
    return assess(
        member_active=member is not None and member.active,
        household=case.household,
        causes=case.causes,
        line_fen=deps.policy.line_for(case.union_region),
        policy=deps.policy,
        override=await cases.get_override(conn, case.case_id),
    )


async def snapshot(conn: Conn, case: CaseRow, now: datetime) -> CaseSnapshot:
    year = aid_year(now)
    return from_row(
        CaseSnapshot, case, aid_year=year, aid_paid_fen=await aid.paid_to_member(conn, case.member_id, year)
    )


# How an event is made from the case as it now stands.
EventFor = Callable[[CaseSnapshot], EventPayload]


async def publish(
    conn: Conn, deps: Deps, trace: Trace, case: CaseRow, now: datetime, event_for: EventFor
) -> None:
    """The case's event, with its snapshot, under the member's next version (in the outbox)."""
    await deps.events.emit(conn, trace, case.member_id, event_for(await snapshot(conn, case, now)))
