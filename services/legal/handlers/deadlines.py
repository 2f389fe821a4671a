"""Deadline notices firing: the kit's durable timer (shared.timers) claims a due notice and, in
the same transaction, this handler writes its DeadlineApproaching or DeadlineMissed event to
the outbox and its entry to the trail. Fired once across replicas and restarts."""

from services.legal.domain.clocks import ESCALATION
from services.legal.handlers.cases import window_passed
from services.legal.handlers.common import Deps, snapshot
from services.legal.store import cases, deadlines, letters
from services.legal.store.deadlines import Notice
from shared import audit
from shared.contracts.envelope import EventPayload
from shared.contracts.legal import DeadlineApproaching, DeadlineMissed, DeadlineName
from shared.db import Conn
from shared.events import Trace
from shared.timers import DurableTimer, FireTimer, Timer


def fire_deadline(deps: Deps) -> FireTimer:
    async def fire(conn: Conn, timer: Timer) -> None:
        # The timer is marked fired already: the snapshot names the next deadline still running.
        n = Notice.of(timer)
        case = await cases.get_case(conn, n.case_id) if n.case_id else None
        supervision = await letters.get(conn, n.supervision_id) if n.supervision_id else None
        # The event's partition key: the case's member, or the letters' union.
        subject = str(case.member_id if case else supervision.union_id if supervision else n.deadline_id)
        trace = Trace(actor="scheduler", correlation_id=f"deadline:{n.deadline_id}")
        if case is not None and n.name is DeadlineName.MEDIATION_WINDOW and n.notice == "missed":
            # Never waiting for the case: a command holding it may be cancelling this very timer.
            # Left unrecorded, the passed window is recorded when arbitration is applied for.
            held = await cases.get_case(conn, case.case_id, skip_locked=True)
            if held is not None:
                case = await window_passed(deps, conn, trace, held)
        snap = await snapshot(conn, case) if case else None
        payload: EventPayload
        if n.notice == "approaching":
            payload = DeadlineApproaching(
                deadline_id=n.deadline_id,
                name=n.name,
                due_on=n.due_on,
                case=snap,
                supervision_id=n.supervision_id,
            )
        else:
            payload = DeadlineMissed(
                deadline_id=n.deadline_id, name=n.name, due_on=n.due_on, case=snap,
                supervision_id=n.supervision_id, escalation=ESCALATION[n.name],
            )  # fmt: skip
        await deps.events.emit(conn, trace, subject, payload)
        await audit.record(
            conn, trace, f"deadline.{n.notice}", f"deadline:{n.deadline_id}", record_id=n.case_id,
            name=n.name.value, due_on=n.due_on, supervision_id=n.supervision_id,
        )  # fmt: skip

    return fire


def deadline_timer(deps: Deps, interval_seconds: float, *, batch: int = 100) -> DurableTimer:
    """The loop that fires legal's due deadline notices (run by the service, or driven by hand)."""
    return DurableTimer(
        deps.pool,
        {deadlines.KIND: fire_deadline(deps)},
        interval_seconds=interval_seconds,
        now=deps.now,
        batch=batch,
    )
