"""The working-day calendar, administered: an administrator publishes a year's arrangement (the
State Council's notice) or sets or removes one day. Each change, in one transaction: the rows,
the revision, the trail, the WorkingCalendarChanged event, and the running working-day
deadlines recomputed.

Deadlines already scheduled follow the calendar: a supervision letter's reply deadline whose
missed notice has not fired is recomputed from the day the letter was sent; when it moves, or
stops being provisional (its year published), its pending notices are replaced (an approaching
notice already fired is not repeated). A deadline already missed (its missed notice fired)
stays as it was: the escalation has happened.
"""

from dataclasses import replace
from datetime import date
from typing import Any

from services.legal.domain.calendar import DayChange, day_name, require_day_change, require_year_days
from services.legal.domain.clocks import WorkCalendar, inspection_response_due, opinion_reply_due
from services.legal.handlers.common import Deps, schedule_deadline
from services.legal.store import calendar, deadlines, letters
from shared import audit
from shared.auth import Caller, Role
from shared.contracts.legal import CalendarDay, CalendarDayKind, DeadlineName, WorkingCalendarChanged
from shared.db import Conn
from shared.errors import Forbidden
from shared.events import Trace

SUBJECT = "working-calendar"

WORKING_DAY_DEADLINES = [DeadlineName.OPINION_REPLY, DeadlineName.INSPECTION_RESPONSE]


def _require_admin(caller: Caller) -> None:
    if caller.principal.role is not Role.ADMIN:
        raise Forbidden("only an administrator changes the working-day calendar")


async def get_year(
    deps: Deps, year: int
) -> tuple[calendar.YearRow | None, list[calendar.CalendarDayRow], int]:
    async with deps.pool.acquire() as conn:
        y, days = await calendar.year(conn, year)
        return y, days, await calendar.revision(conn)


async def _reschedule(conn: Conn, deps: Deps, trace: Trace, cal: WorkCalendar) -> int:
    """Running working-day deadlines recomputed on `cal`; how many moved or stopped being
    provisional."""
    moved = 0
    for supervision_id, name, due_on, was_provisional in await deadlines.pending_on_supervisions(
        conn, WORKING_DAY_DEADLINES
    ):
        s = await letters.get(conn, supervision_id, for_update=True)
        if s is None:
            continue
        if name is DeadlineName.OPINION_REPLY and s.opinion_sent_on is not None:
            new_due = opinion_reply_due(s.opinion_sent_on, cal)
            unpublished = cal.unpublished_years(s.opinion_sent_on, new_due)
            s = replace(s, opinion_reply_due=new_due, opinion_reply_provisional=bool(unpublished))
        elif name is DeadlineName.INSPECTION_RESPONSE and s.recommended_on is not None:
            new_due = inspection_response_due(s.recommended_on, cal)
            unpublished = cal.unpublished_years(s.recommended_on, new_due)
            s = replace(s, inspection_due=new_due, inspection_due_provisional=bool(unpublished))
        else:
            continue
        if new_due == due_on and bool(unpublished) == was_provisional:
            continue
        subject = deadlines.supervision_subject(supervision_id)
        fired = await deadlines.fired_notices(conn, subject, name)
        await deadlines.cancel(conn, subject, [name])
        await schedule_deadline(conn, deps, subject, name, new_due, skip=fired, unpublished_years=unpublished)
        await letters.save(conn, s)
        await audit.record(
            conn, trace, "deadline.rescheduled", subject, record_id=s.case_id,
            name=name.value, from_due_on=due_on, due_on=new_due, reason_code="calendar_changed",
            was_provisional=was_provisional, provisional=bool(unpublished),
        )  # fmt: skip
        moved += 1
    return moved


async def _changed(
    conn: Conn, deps: Deps, caller: Caller, year: int, published: bool, days: list[CalendarDay], **detail: Any
) -> WorkingCalendarChanged:
    revision = await calendar.bump_revision(conn)
    trace = Trace.of(caller)
    # The new calendar read back in this transaction, not into the replica's cache: were the
    # change rolled back, the cache would hold a revision number whose content never committed.
    cal = await calendar.CalendarCache().current(conn)
    moved = await _reschedule(conn, deps, trace, cal)
    await audit.record(
        conn, trace, "calendar.published" if published else "calendar.day_changed", f"calendar:{year}",
        revision=revision, rescheduled=moved, **detail,
    )  # fmt: skip
    event = WorkingCalendarChanged(
        year=year, revision=revision, published=published, days=days, rescheduled=moved, changed_at=deps.now()
    )
    await deps.events.emit(conn, trace, SUBJECT, event)
    return event


async def change_day(
    deps: Deps, caller: Caller, year: int, day: date, change: DayChange, name: str, reason: str
) -> WorkingCalendarChanged:
    """A holiday or a make-up working day set on `day`, or its entry removed."""
    _require_admin(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        await calendar.revision(conn, lock="FOR UPDATE")  # changes one at a time; steps wait
        published, existing = await calendar.year(conn, year)
        kind = require_day_change(
            year,
            day,
            change,
            name,
            reason,
            published=published is not None,
            existing={d.day for d in existing},
        )
        if kind is None:
            await calendar.remove_day(conn, day)
        else:
            await calendar.set_day(conn, day, kind, day_name(kind, name), caller.actor)
        return await _changed(
            conn, deps, caller, year, False, [CalendarDay(day=day, kind=kind)],
            day=day, change=change.value, name=day_name(kind, name) if kind else None, reason=reason.strip(),
        )  # fmt: skip


async def publish_year(
    deps: Deps, caller: Caller, year: int, source: str, days: list[tuple[date, CalendarDayKind, str]]
) -> WorkingCalendarChanged:
    """A year's whole arrangement, as the notice gives it (replacing what the year had)."""
    _require_admin(caller)
    require_year_days(year, source, days)
    async with deps.pool.acquire() as conn, conn.transaction():
        await calendar.revision(conn, lock="FOR UPDATE")
        named = [(d, k, day_name(k, n)) for d, k, n in days]
        await calendar.publish_year(conn, year, source.strip(), caller.actor, named)
        changed = [CalendarDay(day=d, kind=k) for d, k, _ in days]
        return await _changed(
            conn, deps, caller, year, True, changed, source=source.strip(), entries=len(days)
        )
