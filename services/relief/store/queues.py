"""SQL for the work queues: cases in a union's subtree that wait for a cadre. Built on the case
store's own select and row mapping (store/cases.py), so a queue shows a case as every list does;
the re-verification queue is the case store's `due_reviews` itself."""

import uuid
from dataclasses import dataclass
from datetime import datetime

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
