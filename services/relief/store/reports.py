"""Aggregates for a union's subtree: open cases, exits, money disbursed against budgets."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from shared.db import Conn

_IN_SUBTREE = "(u.path @> ARRAY[$1::uuid] OR {alias}.union_id = $1)"


@dataclass(frozen=True)
class MoneyLine:
    aid_type: str
    budget_total_fen: int
    budget_spent_fen: int
    disbursed_fen: int
    payments: int

    @property
    def budget_remaining_fen(self) -> int:
        return self.budget_total_fen - self.budget_spent_fen


@dataclass(frozen=True)
class Summary:
    open_by_status: dict[str, int]
    open_by_cause: dict[str, int]
    open_by_tier: dict[str, int]
    exited: int
    money: list[MoneyLine]


async def summary(conn: Conn, union_id: uuid.UUID, year: int, start: datetime, end: datetime) -> Summary:
    in_cases = _IN_SUBTREE.format(alias="c")
    by_status = await conn.fetch(
        f"""SELECT c.status AS key, count(*) AS n FROM cases c LEFT JOIN unions u ON u.union_id = c.union_id
            WHERE {in_cases} AND c.status NOT IN ('declined', 'exited', 'withdrawn')
            GROUP BY c.status ORDER BY c.status""",
        union_id,
    )
    by_cause = await conn.fetch(
        f"""SELECT cause AS key, count(*) AS n
            FROM cases c CROSS JOIN LATERAL unnest(c.causes) AS cause
            LEFT JOIN unions u ON u.union_id = c.union_id
            WHERE {in_cases} AND c.status NOT IN ('declined', 'exited', 'withdrawn')
            GROUP BY cause ORDER BY cause""",
        union_id,
    )
    by_tier = await conn.fetch(
        f"""SELECT c.tier AS key, count(*) AS n FROM cases c LEFT JOIN unions u ON u.union_id = c.union_id
            WHERE {in_cases} AND c.status NOT IN ('declined', 'exited', 'withdrawn') AND c.tier IS NOT NULL
            GROUP BY c.tier ORDER BY c.tier""",
        union_id,
    )
    exited = await conn.fetchval(
        f"""SELECT count(*) FROM cases c LEFT JOIN unions u ON u.union_id = c.union_id
            WHERE {in_cases} AND c.status = 'exited' AND c.exited_at >= $2 AND c.exited_at < $3""",
        union_id, start, end,
    )  # fmt: skip
    # Budgets held by unions of the subtree; money paid to households the subtree follows.
    money = await conn.fetch(
        f"""WITH b AS (
                SELECT b.aid_type, sum(b.total_fen) AS total, sum(b.spent_fen) AS spent
                FROM budgets b LEFT JOIN unions u ON u.union_id = b.union_id
                WHERE {_IN_SUBTREE.format(alias="b")} AND b.year = $2 GROUP BY b.aid_type),
            d AS (
                SELECT d.aid_type, sum(d.amount_fen) AS paid, count(*) AS payments
                FROM disbursements d LEFT JOIN unions u ON u.union_id = d.union_id
                WHERE {_IN_SUBTREE.format(alias="d")} AND d.year = $2 GROUP BY d.aid_type)
            SELECT coalesce(b.aid_type, d.aid_type) AS aid_type, coalesce(b.total, 0) AS total,
                   coalesce(b.spent, 0) AS spent, coalesce(d.paid, 0) AS paid,
                   coalesce(d.payments, 0) AS payments
            FROM b FULL JOIN d ON d.aid_type = b.aid_type
            ORDER BY 1""",
        union_id, year,
    )  # fmt: skip
    return Summary(
        open_by_status={r["key"]: int(r["n"]) for r in by_status},
        open_by_cause={r["key"]: int(r["n"]) for r in by_cause},
        open_by_tier={r["key"]: int(r["n"]) for r in by_tier},
        exited=int(exited),
        money=[
            MoneyLine(r["aid_type"], int(r["total"]), int(r["spent"]), int(r["paid"]), int(r["payments"]))
            for r in money
        ],
    )
