"""Supervision letters (一函两书): reminder, opinion letter with its 15-working-day reply, and the
recommendation letter to labour inspection with its 5-working-day answer. Each step is one
transaction with its trail, its deadlines and its event; events are keyed by the union."""

import uuid
from dataclasses import replace
from datetime import date

from services.legal.domain import clocks
from services.legal.domain.letters import (
    LetterAction,
    SupervisionStatus,
    next_status,
    require_recommendation_allowed,
)
from services.legal.handlers.common import Deps, emit, require_union_scope, schedule_deadline, today, trace
from services.legal.store import cases as q
from services.legal.store import deadlines as qd
from services.legal.store import letters as ql
from services.legal.store.letters import SupervisionRow
from shared.auth import Caller, Role
from shared.contracts.legal import DeadlineName, LetterKind, SupervisionAnswered, SupervisionLetterSent
from shared.db import Conn
from shared.errors import Forbidden, InvalidInput, NotFound


async def _audit(conn: Conn, caller: Caller, action: str, s: SupervisionRow, **detail: object) -> None:
    await q.audit(
        conn,
        caller.actor,
        action,
        s.case_id,
        f"supervision:{s.supervision_id}",
        caller.correlation_id,
        None,
        employer=s.employer,
        **detail,
    )


def _day(deps: Deps, on: date | None) -> date:
    now = today(deps.now())
    day = on or now
    if day > now:
        raise InvalidInput("a letter's date cannot be in the future")
    return day


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
    if caller.principal.role is Role.MEMBER:
        raise Forbidden("cadres send supervision letters")
    if not employer.strip() or not issue.strip():
        raise InvalidInput("employer and issue are required")
    day = _day(deps, on)
    now = deps.now()
    async with deps.pool.acquire() as conn, conn.transaction():
        await require_union_scope(conn, caller, union_id)
        if case_id is not None and await q.get_case(conn, case_id) is None:
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
        await ql.insert(conn, s)
        await _audit(conn, caller, "letter.reminder", s, on=day)
        await emit(
            conn,
            deps,
            trace(caller),
            str(union_id),
            SupervisionLetterSent(
                supervision_id=s.supervision_id,
                union_id=union_id,
                employer=s.employer,
                letter=LetterKind.REMINDER,
                reply_due_on=None,
                sent_at=now,
            ),
        )
        return s


async def _to_work(conn: Conn, caller: Caller, supervision_id: uuid.UUID) -> SupervisionRow:
    s = await ql.get(conn, supervision_id, for_update=True)
    if s is None:
        raise NotFound(f"supervision {supervision_id} does not exist")
    if caller.principal.role is Role.MEMBER:
        raise Forbidden("cadres send supervision letters")
    await require_union_scope(conn, caller, s.union_id)
    return s


async def letter_step(
    deps: Deps, caller: Caller, supervision_id: uuid.UUID, action: LetterAction, on: date | None
) -> SupervisionRow:
    day = _day(deps, on)
    now = deps.now()
    async with deps.pool.acquire() as conn, conn.transaction():
        s = await _to_work(conn, caller, supervision_id)
        steps = [s.reminded_on, s.opinion_sent_on, s.replied_on, s.recommended_on]
        latest = max(d for d in steps if d is not None)
        if day < latest:
            raise InvalidInput(f"this step cannot precede the supervision's last one ({latest.isoformat()})")
        if action is LetterAction.SEND_RECOMMENDATION:
            require_recommendation_allowed(s.status, s.opinion_reply_due, today(now))
        status = next_status(s.status, action)
        sid, by, subject = s.supervision_id, trace(caller), str(s.union_id)
        sent: tuple[LetterKind, date] | None = None
        answered: tuple[LetterKind, bool] | None = None
        if action is LetterAction.SEND_OPINION:
            due = clocks.opinion_reply_due(day, deps.calendar)
            s = replace(s, status=status, opinion_sent_on=day, opinion_reply_due=due)
            await schedule_deadline(conn, deps, DeadlineName.OPINION_REPLY, due, supervision_id=sid)
            sent = (LetterKind.OPINION, due)
        elif action in (LetterAction.EMPLOYER_RECTIFIED, LetterAction.EMPLOYER_NOT_RECTIFIED):
            rectified = action is LetterAction.EMPLOYER_RECTIFIED
            s = replace(s, status=status, replied_on=day, rectified=rectified)
            await qd.cancel(conn, [DeadlineName.OPINION_REPLY], supervision_id=sid)
            answered = (LetterKind.OPINION, rectified)
        elif action is LetterAction.SEND_RECOMMENDATION:
            due = clocks.inspection_response_due(day, deps.calendar)
            s = replace(s, status=status, recommended_on=day, inspection_due=due)
            await qd.cancel(conn, [DeadlineName.OPINION_REPLY], supervision_id=sid)
            await schedule_deadline(conn, deps, DeadlineName.INSPECTION_RESPONSE, due, supervision_id=sid)
            sent = (LetterKind.RECOMMENDATION, due)
        else:
            s = replace(s, status=status, inspection_answered_on=day)
            await qd.cancel(conn, [DeadlineName.INSPECTION_RESPONSE], supervision_id=sid)
            answered = (LetterKind.RECOMMENDATION, action is LetterAction.INSPECTION_OPENED)
        await ql.save(conn, s)
        await _audit(conn, caller, f"letter.{action.value}", s, on=day)
        if sent is not None:
            await emit(
                conn,
                deps,
                by,
                subject,
                SupervisionLetterSent(
                    supervision_id=sid,
                    union_id=s.union_id,
                    employer=s.employer,
                    letter=sent[0],
                    reply_due_on=sent[1],
                    sent_at=now,
                ),
            )
        if answered is not None:
            await emit(
                conn,
                deps,
                by,
                subject,
                SupervisionAnswered(
                    supervision_id=sid,
                    union_id=s.union_id,
                    employer=s.employer,
                    letter=answered[0],
                    rectified=answered[1],
                    answered_at=now,
                ),
            )
        return s


async def get_supervision(deps: Deps, caller: Caller, supervision_id: uuid.UUID) -> SupervisionRow:
    async with deps.pool.acquire() as conn:
        s = await ql.get(conn, supervision_id)
        if s is None:
            raise NotFound(f"supervision {supervision_id} does not exist")
        if caller.principal.role is Role.MEMBER:
            raise Forbidden("supervision letters are the cadres' business")
        await require_union_scope(conn, caller, s.union_id)
        return s
