"""What every legal handler shares: dependencies, scope checks, the case snapshot, scheduling a
deadline's notices."""

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

import asyncpg

from services.legal.domain.clocks import notice_times
from services.legal.store import cases, deadlines
from services.legal.store.calendar import CalendarCache
from services.legal.store.cases import CaseRow
from shared import membership
from shared.auth import Caller, Principal, Role
from shared.contracts.legal import CaseSnapshot, DeadlineName, NextDeadline
from shared.db import Conn
from shared.errors import Forbidden, NotFound
from shared.events import Clock, EventWriter, utcnow
from shared.rows import from_row


@dataclass(frozen=True)
class Deps:
    pool: asyncpg.Pool
    events: EventWriter
    calendar: CalendarCache  # the working-day calendar, as committed
    warn_days: int = 3
    now: Clock = utcnow


async def union_path(conn: Conn, union_id: uuid.UUID) -> Sequence[uuid.UUID]:
    union = await membership.get_union(conn, union_id)
    return union.path if union else [union_id]


async def require_union_scope(conn: Conn, caller: Caller, union_id: uuid.UUID) -> None:
    union = await membership.get_union(conn, union_id)
    if union is None:
        raise NotFound(f"union {union_id} is not known to the legal service")
    if not caller.principal.covers_union(union.path):
        raise Forbidden("this union is outside your scope")


def require_cadre(caller: Caller, why: str) -> None:
    """Cadres and admins only: counsel, partner staff and services are no cadres either."""
    if not caller.principal.is_cadre_or_admin():
        raise Forbidden(why)


async def may_view(conn: Conn, principal: Principal, case: CaseRow) -> bool:
    """The filer, the other workers of a collective case, the cadres of the case's union subtree."""
    if principal.role is Role.MEMBER:
        return principal.member_id in case.member_ids
    return principal.covers_union(await union_path(conn, case.union_id))


async def case_to_work(conn: Conn, caller: Caller, case_id: uuid.UUID) -> CaseRow:
    """The case, locked, for a cadre whose scope covers its union."""
    case = await cases.get_case(conn, case_id, for_update=True)
    if case is None:
        raise NotFound(f"case {case_id} does not exist")
    require_cadre(caller, "only the cadres of the worker's union work a legal case")
    if not caller.principal.covers_union(await union_path(conn, case.union_id)):
        raise Forbidden("this case is outside your scope")
    return case


async def snapshot(conn: Conn, case: CaseRow) -> CaseSnapshot:
    nxt = await deadlines.next_for_case(conn, case.case_id)
    return from_row(
        CaseSnapshot, case, next_deadline=NextDeadline(name=nxt[0], due_on=nxt[1]) if nxt else None
    )


async def schedule_deadline(
    conn: Conn,
    deps: Deps,
    subject: str,
    name: DeadlineName,
    due_on: date,
    skip: Collection[str] = (),
    *,
    unpublished_years: Collection[int] = (),
) -> None:
    """An approaching notice `warn_days` before the last day, a missed one the day after it
    (but not the notices in `skip`, which fired already for this deadline). A deadline counted
    over `unpublished_years` (weekends alone) is provisional, and said so in the log."""
    notices = [(n, at) for n, at in notice_times(due_on, deps.warn_days) if n not in skip]
    deps.calendar.warn_unpublished(unpublished_years)
    provisional = bool(unpublished_years)
    await deadlines.schedule(conn, subject, name, due_on, notices, provisional=provisional)
