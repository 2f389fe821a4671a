"""Supervision letters (一函两书): reminder, opinion letter with its 15-working-day reply, and the
recommendation letter to labour inspection with its 5-working-day answer. Each step is one
transaction with its trail, its deadlines and its event; events are keyed by the union."""

import uuid
from dataclasses import replace
from datetime import date
from typing import Any

from services.legal.domain.letters import (
    LetterAction,
    SupervisionStatus,
    letter_day,
    letter_effect,
    next_status,
    require_recommendation_allowed,
)
from services.legal.handlers.common import Deps, require_cadre, require_union_scope, schedule_deadline
from services.legal.store import cases, deadlines, letters
from services.legal.store.letters import SupervisionRow
from shared import audit
from shared.auth import Caller
from shared.contracts.legal import LetterKind, SupervisionAnswered, SupervisionLetterSent
from shared.db import Conn
from shared.errors import InvalidInput, NotFound
from shared.events import Trace, china_date


async def _record(conn: Conn, trace: Trace, action: str, s: SupervisionRow, **detail: Any) -> None:
    """The supervision's trail entry; on its case's trail when it was opened for one."""
    subject = deadlines.supervision_subject(s.supervision_id)
    await audit.record(conn, trace, action, subject, record_id=s.case_id, employer=s.employer, **detail)


async def open_supervision(
    deps: Deps,
    caller: Caller,
    union_id: uuid.UUID,
    employer: str,
    issue: str,
    case_id: uuid.UUID | None,
    on: date | None,
) -> SupervisionRow:
    """The reminder letter (提示函) opens the supervision of an employer."""
    require_cadre(caller, "cadres send supervision letters")
    if not employer.strip() or not issue.strip():
        raise InvalidInput("employer and issue are required")
    now = deps.now()
    day = letter_day(on, china_date(now), [])
    async with deps.pool.acquire() as conn, conn.transaction():
        await require_union_scope(conn, caller, union_id)
        if case_id is not None and await cases.get_case(conn, case_id) is None:
            raise NotFound(f"case {case_id} does not exist")
        s = SupervisionRow(
            supervision_id=uuid.uuid4(),
            union_id=union_id,
            employer=employer.strip(),
            case_id=case_id,
            status=SupervisionStatus.REMINDED,
            issue=issue.strip(),
            reminded_on=day,
            opinion_sent_on=None,
            opinion_reply_due=None,
            replied_on=None,
            rectified=None,
            recommended_on=None,
            inspection_due=None,
            inspection_answered_on=None,
            created_by=caller.actor,
            created_at=now,
        )
        await letters.insert(conn, s)
        trace = Trace.of(caller)
        await _record(conn, trace, "letter.reminder", s, on=day)
        sent = SupervisionLetterSent(
            supervision_id=s.supervision_id, union_id=union_id, employer=s.employer,
            letter=LetterKind.REMINDER, reply_due_on=None, sent_at=now,
        )  # fmt: skip
        await deps.events.emit(conn, trace, str(union_id), sent)
        return s


async def _to_work(conn: Conn, caller: Caller, supervision_id: uuid.UUID) -> SupervisionRow:
    s = await letters.get(conn, supervision_id, for_update=True)
    if s is None:
        raise NotFound(f"supervision {supervision_id} does not exist")
    require_cadre(caller, "cadres send supervision letters")
    await require_union_scope(conn, caller, s.union_id)
    return s


async def letter_step(
    deps: Deps, caller: Caller, supervision_id: uuid.UUID, action: LetterAction, on: date | None
) -> SupervisionRow:
    now = deps.now()
    today = china_date(now)
    letter_day(on, today, [])
    async with deps.pool.acquire() as conn, conn.transaction():
        # The calendar before the supervision: a calendar change takes them in this order too.
        calendar = await deps.calendar.current(conn)
        s = await _to_work(conn, caller, supervision_id)
        day = letter_day(on, today, [s.reminded_on, s.opinion_sent_on, s.replied_on, s.recommended_on])
        if action is LetterAction.SEND_RECOMMENDATION:
            require_recommendation_allowed(s.status, s.opinion_reply_due, today)
        status = next_status(s.status, action)
        effect = letter_effect(action, day, calendar)
        s = replace(s, status=status, **effect.changes)
        subject = deadlines.supervision_subject(s.supervision_id)
        await deadlines.cancel(conn, subject, list(effect.cancel))
        if effect.schedule is not None:
            await schedule_deadline(
                conn, deps, subject, *effect.schedule, unpublished_years=effect.unpublished_years
            )
        await letters.save(conn, s)
        trace = Trace.of(caller)
        await _record(
            conn, trace, f"letter.{action.value}", s, on=day,
            counted_by_weekends_in=list(effect.unpublished_years) or None,
        )  # fmt: skip
        if effect.sent is not None:
            sent = SupervisionLetterSent(
                supervision_id=s.supervision_id, union_id=s.union_id, employer=s.employer,
                letter=effect.sent[0], reply_due_on=effect.sent[1],
                reply_due_provisional=bool(effect.unpublished_years), sent_at=now,
            )  # fmt: skip
            await deps.events.emit(conn, trace, str(s.union_id), sent)
        if effect.answered is not None:
            answered = SupervisionAnswered(
                supervision_id=s.supervision_id, union_id=s.union_id, employer=s.employer,
                letter=effect.answered[0], rectified=effect.answered[1], answered_at=now,
            )  # fmt: skip
            await deps.events.emit(conn, trace, str(s.union_id), answered)
        return s
