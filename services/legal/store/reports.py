"""Aggregates for a union's subtree and a period: cases by kind and stage, overdue cases,
mediation success, money recovered, and the employers' rectification rate (整改回复率)."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from services.legal.store import deadlines
from shared.db import Conn

_IN_SUBTREE = "(u.path @> ARRAY[$1::uuid] OR {alias}.union_id = $1)"


@dataclass(frozen=True)
class Counts:
    key: str
    stage: str
    cases: int


@dataclass(frozen=True)
class LegalSummary:
    by_kind_and_stage: list[Counts]
    overdue_cases: int
    mediations_finished: int
    mediations_settled: int
    closed: int
    recovered_fen: int
    opinions_sent: int
    rectified: int


async def summary(
    conn: Conn, union_id: uuid.UUID, start: datetime, end: datetime, today: date
) -> LegalSummary:
    in_cases = _IN_SUBTREE.format(alias="c")
    base = f"FROM cases c LEFT JOIN unions u ON u.union_id = c.union_id WHERE {in_cases}"
    period = "c.filed_at >= $2 AND c.filed_at < $3"
    by = await conn.fetch(
        f"""SELECT c.kind AS key, c.stage, count(*) AS n {base} AND {period}
            GROUP BY c.kind, c.stage ORDER BY c.kind, c.stage""",
        union_id, start, end,
    )  # fmt: skip
    overdue = await conn.fetchval(
        f"""SELECT count(DISTINCT c.case_id) {base} AND c.stage <> 'closed' AND EXISTS (
                SELECT 1 FROM timers t
                WHERE t.kind = $3 AND t.subject = 'case:' || c.case_id::text
                  AND t.payload->>'notice' = 'missed'
                  AND (t.status = 'fired'
                       OR (t.status = 'pending' AND (t.payload->>'due_on')::date < $2)))""",
        union_id, today, deadlines.KIND,
    )  # fmt: skip
    closed = await conn.fetchrow(
        f"""SELECT count(*) AS closed, coalesce(sum(c.recovered_fen), 0) AS recovered,
                   count(*) FILTER (WHERE c.mediated) AS mediated,
                   count(*) FILTER (WHERE c.mediated AND c.outcome = 'settled'
                                    AND c.arbitration_applied_on IS NULL) AS mediated_settled
            {base} AND c.stage = 'closed' AND c.closed_at >= $2 AND c.closed_at < $3""",
        union_id, start, end,
    )  # fmt: skip
    in_letters = _IN_SUBTREE.format(alias="s")
    letters = await conn.fetchrow(
        f"""SELECT count(*) FILTER (WHERE s.opinion_sent_on IS NOT NULL) AS opinions,
                   count(*) FILTER (WHERE s.rectified) AS rectified
            FROM supervisions s LEFT JOIN unions u ON u.union_id = s.union_id
            WHERE {in_letters} AND s.created_at >= $2 AND s.created_at < $3""",
        union_id, start, end,
    )  # fmt: skip
    assert closed is not None and letters is not None
    return LegalSummary(
        by_kind_and_stage=[Counts(r["key"], r["stage"], int(r["n"])) for r in by],
        overdue_cases=int(overdue or 0),
        mediations_finished=int(closed["mediated"]),
        mediations_settled=int(closed["mediated_settled"]),
        closed=int(closed["closed"]),
        recovered_fen=int(closed["recovered"]),
        opinions_sent=int(letters["opinions"]),
        rectified=int(letters["rectified"]),
    )
