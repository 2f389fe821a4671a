"""SQL for the work queues: cases in a union's subtree that wait for a cadre. Built on the case
store's own select and row mapping (store/cases.py), so a queue shows a case as every list does;
the re-verification queue is the case store's `due_reviews` itself. The programmes' queue reads
the campaign and student-aid stores' selects and mappings the same way."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from services.relief.domain.student_aid import ApplicationStatus
from services.relief.store.campaigns import _LIST, ListRow, _list
from services.relief.store.cases import (
    _SELECT,
    CLOSED_SQL,
    CaseRow,
    ObjectionRow,
    StepRow,
    _case,
    _objection,
    _step,
)
from services.relief.store.student_aid import _APPLICATION, ApplicationRow, _application, applications_in
from services.relief.store.student_aid import ObjectionRow as AidObjectionRow
from services.relief.store.student_aid import _objection as _aid_objection
from shared.db import Conn

_IN_SUBTREE = "(u.path @> ARRAY[$1::uuid] OR c.union_id = $1)"


@dataclass(frozen=True)
class PendingStep:
    case: CaseRow
    step: StepRow


async def pending_steps(conn: Conn, union_id: uuid.UUID, limit: int) -> list[PendingStep]:
    """Steps awaiting a decision on cases in the subtree, oldest request first."""
    rows = await conn.fetch(
        f"""SELECT q.*, s.step_id, s.step, s.requested_by, s.requested_at, s.request_note, s.decision,
                   s.decided_by, s.decided_at, s.decision_note
            FROM ({_SELECT} WHERE {_IN_SUBTREE}) q
            JOIN approval_steps s ON s.case_id = q.case_id AND s.decision = 'pending'
            ORDER BY s.requested_at, s.step_id LIMIT $2""",
        union_id,
        limit,
    )
    return [PendingStep(_case(r), _step(r)) for r in rows]


@dataclass(frozen=True)
class DisclosureCase:
    case: CaseRow
    unanswered: int


async def disclosures_ending(
    conn: Conn, union_id: uuid.UUID, until: datetime, limit: int
) -> list[DisclosureCase]:
    """Cases in disclosure whose window ends by `until` (ended ones included: the plan waits)."""
    rows = await conn.fetch(
        f"""SELECT q.*, (SELECT count(*) FROM objections o
                             WHERE o.case_id = q.case_id AND o.answer IS NULL) AS unanswered
            FROM ({_SELECT} WHERE c.status = 'in_disclosure' AND c.disclosure_ends_at <= $2
                  AND {_IN_SUBTREE}) q
            ORDER BY q.disclosure_ends_at, q.case_id LIMIT $3""",
        union_id,
        until,
        limit,
    )
    return [DisclosureCase(_case(r), int(r["unanswered"])) for r in rows]


@dataclass(frozen=True)
class OpenObjection:
    case: CaseRow
    objection: ObjectionRow


async def unanswered_objections(conn: Conn, union_id: uuid.UUID, limit: int) -> list[OpenObjection]:
    """Objections without an answer on open cases in the subtree, oldest first."""
    rows = await conn.fetch(
        f"""SELECT q.*, o.objection_id, o.objector, o.content, o.recorded_by, o.raised_at, o.answer,
                   o.answered_by, o.answered_at
            FROM ({_SELECT} WHERE {_IN_SUBTREE}
                  AND c.status NOT IN {CLOSED_SQL}) q
            JOIN objections o ON o.case_id = q.case_id AND o.answer IS NULL
            ORDER BY o.raised_at, o.objection_id LIMIT $2""",
        union_id,
        limit,
    )
    return [OpenObjection(_case(r), _objection(r)) for r in rows]


# Programmes: 送温暖 lists and 金秋助学 applications and objections ---------------------------------


@dataclass(frozen=True)
class SubmittedList:
    list: ListRow
    campaign_ends_on: date


async def submitted_lists(conn: Conn, union_id: uuid.UUID, limit: int) -> list[SubmittedList]:
    """Campaign lists submitted for approval in the subtree, of campaigns still open (a closed
    campaign pays nothing: its lists are no one's work), the campaign ending soonest first."""
    rows = await conn.fetch(
        f"""SELECT q.*, c.ends_on AS campaign_ends_on
            FROM ({_LIST} WHERE l.status = 'submitted' AND $1 = ANY(u.path)) q
            JOIN campaigns c ON c.campaign_id = q.campaign_id AND c.status = 'open'
            ORDER BY c.ends_on, q.updated_at, q.list_id LIMIT $2""",
        union_id,
        limit,
    )
    return [SubmittedList(_list(r), r["campaign_ends_on"]) for r in rows]


async def applications_to_review(conn: Conn, union_id: uuid.UUID, limit: int) -> list[ApplicationRow]:
    """金秋助学 applications of members of the subtree awaiting review, oldest first."""
    return await applications_in(conn, union_id, None, ApplicationStatus.SUBMITTED, 0, limit)


@dataclass(frozen=True)
class AidObjection:
    application: ApplicationRow
    objection: AidObjectionRow


async def aid_objections_to_answer(conn: Conn, union_id: uuid.UUID, limit: int) -> list[AidObjection]:
    """Objections without an answer to applications of the subtree still in disclosure (their
    approval waits for the answer), the disclosure ending soonest first."""
    rows = await conn.fetch(
        f"""SELECT q.*, o.objection_id, o.text, o.raised_by, o.raised_at, o.answer, o.upheld,
                   o.answered_by, o.answered_at
            FROM ({_APPLICATION} WHERE a.status = 'in_disclosure'
                  AND $1 = ANY(coalesce(u.path, ARRAY[a.union_id]))) q
            JOIN student_aid_objections o ON o.application_id = q.application_id AND o.answered_at IS NULL
            ORDER BY q.disclosure_ends_at, o.raised_at, o.objection_id LIMIT $2""",
        union_id,
        limit,
    )
    return [AidObjection(_application(r), _aid_objection(r)) for r in rows]
