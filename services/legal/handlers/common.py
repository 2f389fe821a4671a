"""What every legal handler shares: dependencies, who is acting, scope checks, the case snapshot,
emitting events and writing the trail."""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import asyncpg

from services.legal.domain.clocks import CHINA, WorkCalendar, notice_times
from services.legal.store import cases as q
from services.legal.store import deadlines as qd
from services.legal.store import sequences
from services.legal.store.cases import CaseRow
from shared import membership_view as qm
from shared.auth import Caller, Principal, Role
from shared.contracts import new_envelope
from shared.contracts.envelope import EventPayload
from shared.contracts.legal import CaseSnapshot, DeadlineName, NextDeadline
from shared.db import Conn
from shared.errors import Forbidden, NotFound
from shared.outbox import enqueue

SOURCE = "legal"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def today(now: datetime) -> date:
    return now.astimezone(CHINA).date()


@dataclass(frozen=True)
class Deps:
    pool: asyncpg.Pool
    topic: str
    calendar: WorkCalendar
    warn_days: int = 3
    now: Callable[[], datetime] = field(default=_utcnow)


@dataclass(frozen=True)
class Trace:
    actor: str
    correlation_id: str
    causation_id: str | None = None


def trace(caller: Caller) -> Trace:
    return Trace(caller.actor, caller.correlation_id)


async def union_path(conn: Conn, union_id: uuid.UUID) -> Sequence[uuid.UUID]:
    union = await qm.get_union(conn, union_id)
    return union.path if union else [union_id]


async def require_union_scope(conn: Conn, caller: Caller, union_id: uuid.UUID) -> None:
    union = await qm.get_union(conn, union_id)
    if union is None:
        raise NotFound(f"union {union_id} is not known to the legal service")
    if not caller.principal.covers_union(union.path):
        raise Forbidden("this union is outside your scope")


async def may_view(conn: Conn, principal: Principal, case: CaseRow) -> bool:
    """The filer, the other workers of a collective case, the cadres of the case's union subtree."""
    if principal.role is Role.MEMBER:
        return principal.member_id in case.member_ids
    return principal.covers_union(await union_path(conn, case.union_id))


async def require_worker(conn: Conn, caller: Caller, case: CaseRow) -> None:
    if caller.principal.role is Role.MEMBER:
        raise Forbidden("only the cadres of the worker's union work a legal case")
    if not caller.principal.covers_union(await union_path(conn, case.union_id)):
        raise Forbidden("this case is outside your scope")


async def case_to_work(conn: Conn, caller: Caller, case_id: uuid.UUID) -> CaseRow:
    case = await q.get_case(conn, case_id, for_update=True)
    if case is None:
        raise NotFound(f"case {case_id} does not exist")
    await require_worker(conn, caller, case)
    return case


async def snapshot(conn: Conn, case: CaseRow) -> CaseSnapshot:
    nxt = await qd.next_for_case(conn, case.case_id)
    return CaseSnapshot(
        case_id=case.case_id,
        case_no=case.case_no,
        kind=case.kind,
        stage=case.stage,
        outcome=case.outcome,
        union_id=case.union_id,
        member_ids=case.member_ids,
        next_deadline=NextDeadline(name=nxt[0], due_on=nxt[1]) if nxt else None,
    )


async def schedule_deadline(
    conn: Conn,
    deps: Deps,
    name: DeadlineName,
    due_on: date,
    *,
    case_id: uuid.UUID | None = None,
    supervision_id: uuid.UUID | None = None,
) -> None:
    """An approaching notice `warn_days` before the last day, a missed one the day after it."""
    notices = notice_times(due_on, deps.warn_days)
    await qd.schedule(
        conn, name=name, due_on=due_on, notices=notices, case_id=case_id, supervision_id=supervision_id
    )


async def emit(conn: Conn, deps: Deps, trace: Trace, subject: str, payload: EventPayload) -> None:
    """Queue the event in the outbox, in the caller's transaction, with the subject's next version."""
    envelope = new_envelope(
        payload,
        source=SOURCE,
        subject=subject,
        subject_version=await sequences.next_event_version(conn, subject),
        correlation_id=trace.correlation_id,
        causation_id=trace.causation_id,
    )
    await enqueue(conn, deps.topic, envelope)


async def audit(
    conn: Conn, trace: Trace, action: str, case: CaseRow, reason: str | None = None, **detail: Any
) -> None:
    await q.audit(
        conn,
        trace.actor,
        action,
        case.case_id,
        f"case:{case.case_id}",
        trace.correlation_id,
        reason,
        **detail,
    )
