"""The durable deadline scheduler. `fire_due` claims due rows with FOR UPDATE SKIP LOCKED and,
in the same transaction, writes each notice's event to the outbox and marks the row fired: a
crash before the commit leaves the row pending (it fires after the restart), a commit makes it
fired for good, and a second replica skips the rows the first one holds. Exactly once."""

import asyncio
import contextlib
from dataclasses import dataclass

from services.legal.domain.clocks import ESCALATION
from services.legal.handlers.common import Deps, Trace, emit, snapshot
from services.legal.store import cases as q
from services.legal.store import deadlines as qd
from services.legal.store import letters as ql
from services.legal.store.cases import CaseRow
from services.legal.store.deadlines import DueRow
from shared.contracts.envelope import EventPayload
from shared.contracts.legal import DeadlineApproaching, DeadlineMissed
from shared.db import Conn
from shared.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class _Due:
    row: DueRow
    case: CaseRow | None
    subject: str  # the event's partition key: the case's member, or the letters' union


async def _load(conn: Conn, row: DueRow) -> _Due:
    case = await q.get_case(conn, row.case_id) if row.case_id else None
    supervision = await ql.get(conn, row.supervision_id) if row.supervision_id else None
    subject = str(case.member_id) if case else str(supervision.union_id if supervision else row.deadline_id)
    return _Due(row, case, subject)


async def _fire(conn: Conn, deps: Deps, due: _Due) -> None:
    row, case = due.row, due.case
    trace = Trace(actor="scheduler", correlation_id=f"deadline:{row.deadline_id}")
    await qd.mark_fired(conn, row.deadline_id, deps.now())  # before the snapshot: it names the next deadline
    snap = await snapshot(conn, case) if case else None
    payload: EventPayload
    if row.notice == "approaching":
        payload = DeadlineApproaching(
            deadline_id=row.deadline_id,
            name=row.name,
            due_on=row.due_on,
            case=snap,
            supervision_id=row.supervision_id,
        )
    else:
        payload = DeadlineMissed(
            deadline_id=row.deadline_id,
            name=row.name,
            due_on=row.due_on,
            case=snap,
            supervision_id=row.supervision_id,
            escalation=ESCALATION[row.name],
        )
    await emit(conn, deps, trace, due.subject, payload)
    await q.audit(
        conn,
        trace.actor,
        f"deadline.{row.notice}",
        row.case_id,
        f"deadline:{row.deadline_id}",
        trace.correlation_id,
        None,
        name=row.name.value,
        due_on=row.due_on,
        supervision_id=row.supervision_id,
    )


async def fire_due(deps: Deps, limit: int = 100) -> int:
    """Fire what is due now; returns how many notices this call fired."""
    async with deps.pool.acquire() as conn, conn.transaction():
        rows = await qd.claim_due(conn, deps.now(), limit)
        # Fire in subject order: each event takes its subject's sequence row, and two schedulers
        # taking them in one order cannot deadlock.
        for due in sorted([await _load(conn, r) for r in rows], key=lambda d: d.subject):
            await _fire(conn, deps, due)
    if rows:
        log.info("deadlines_fired", count=len(rows))
    return len(rows)


class DeadlineScheduler:
    def __init__(self, deps: Deps, interval_seconds: float) -> None:
        self._deps = deps
        self._interval = interval_seconds
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                while await fire_due(self._deps) and not self._stopping.is_set():
                    pass
            except Exception as exc:  # the database is away: try again next round
                log.warning("deadline_scheduler_retrying", error=repr(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self._interval)
