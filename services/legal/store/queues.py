"""SQL for the legal work queues: records in a union's subtree with a clock running. A case's
next deadline is read as store/deadlines.py's `next_for_case` reads it (the nearest deadline whose
missed notice is still pending), for every open case of the subtree at once."""

import uuid
from dataclasses import dataclass
from datetime import date

from services.legal.store.cases import CaseRow, _case
from services.legal.store.deadlines import KIND
from services.legal.store.letters import SupervisionRow, _row
from shared.contracts.legal import DeadlineName
from shared.db import Conn


@dataclass(frozen=True)
class CaseDeadline:
    case: CaseRow
    name: DeadlineName
    due_on: date


async def next_deadlines_until(
    conn: Conn, union_id: uuid.UUID, until: date, limit: int
) -> list[CaseDeadline]:
    """Open cases of the subtree whose next running deadline is due on or before `until`."""
    rows = await conn.fetch(
        """SELECT c.*, nxt.name AS next_name, nxt.due_on AS next_due_on
           FROM cases c LEFT JOIN unions u ON u.union_id = c.union_id
           CROSS JOIN LATERAL (
               SELECT payload->>'name' AS name, (payload->>'due_on')::date AS due_on FROM timers
               WHERE kind = $2 AND subject = 'case:' || c.case_id::text AND status = 'pending'
                 AND payload->>'notice' = 'missed'
               ORDER BY payload->>'due_on', payload->>'name' LIMIT 1) nxt
           WHERE (u.path @> ARRAY[$1::uuid] OR c.union_id = $1) AND c.stage <> 'closed'
             AND nxt.due_on <= $3
           ORDER BY nxt.due_on, c.case_no LIMIT $4""",
        union_id, KIND, until, limit,
    )  # fmt: skip
    return [CaseDeadline(_case(r), DeadlineName(r["next_name"]), r["next_due_on"]) for r in rows]


async def awaiting_reply(conn: Conn, union_id: uuid.UUID, limit: int) -> list[SupervisionRow]:
    """Opinion letters of the subtree the employer has not answered yet, the earliest due first."""
    rows = await conn.fetch(
        """SELECT s.* FROM supervisions s LEFT JOIN unions u ON u.union_id = s.union_id
           WHERE (u.path @> ARRAY[$1::uuid] OR s.union_id = $1) AND s.status = 'opinion_sent'
             AND s.opinion_reply_due IS NOT NULL
           ORDER BY s.opinion_reply_due, s.supervision_id LIMIT $2""",
        union_id, limit,
    )  # fmt: skip
    return [_row(r) for r in rows]
