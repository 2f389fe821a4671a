"""Writes into the live generation's read model (the transaction's search_path points at it).
Every statement is idempotent by its own key: a fact by (fact_key, measure, dim), a current row
by its version, so an event applied twice changes nothing."""

import uuid
from datetime import date, datetime

from services.reports.domain.coverage import EmployerCounts
from shared.contracts.enrollment import EmployerSnapshot, MemberSnapshot, UnionRegistered
from shared.contracts.legal import CaseSnapshot as DisputeSnapshot
from shared.contracts.relief import BudgetSet
from shared.contracts.relief import CaseSnapshot as ReliefSnapshot
from shared.db import Conn


async def upsert_union(conn: Conn, e: UnionRegistered) -> None:
    await conn.execute(
        """INSERT INTO unions (union_id, parent_id, path, name, kind) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (union_id) DO UPDATE SET parent_id = EXCLUDED.parent_id, path = EXCLUDED.path,
               name = EXCLUDED.name, kind = EXCLUDED.kind""",
        e.union_id, e.parent_id, [r.union_id for r in e.path], e.name, e.kind.value,
    )  # fmt: skip


async def upsert_member(conn: Conn, version: int, m: MemberSnapshot) -> None:
    await conn.execute(
        """INSERT INTO members (member_id, version, base_union_id, status) VALUES ($1, $2, $3, $4)
           ON CONFLICT (member_id) DO UPDATE SET version = EXCLUDED.version,
               base_union_id = EXCLUDED.base_union_id, status = EXCLUDED.status
           WHERE members.version < EXCLUDED.version""",
        m.member_id, version, m.base_union_id, m.status.value,
    )  # fmt: skip


async def member_union(conn: Conn, member_id: uuid.UUID) -> uuid.UUID | None:
    found: uuid.UUID | None = await conn.fetchval(
        "SELECT base_union_id FROM members WHERE member_id = $1", member_id
    )
    return found


async def employer_before(conn: Conn, employer_id: uuid.UUID) -> tuple[int, EmployerCounts] | None:
    """The employer as the read model has it (its version and what it counts), if at all."""
    row = await conn.fetchrow(
        """SELECT version, responsible_union_id, base_union_id, workforce, should_have_union
           FROM employers WHERE employer_id = $1""",
        employer_id,
    )
    if row is None:
        return None
    counts = EmployerCounts(
        row["responsible_union_id"], row["base_union_id"], row["workforce"], row["should_have_union"]
    )
    return int(row["version"]), counts


async def upsert_employer(conn: Conn, version: int, e: EmployerSnapshot) -> None:
    await conn.execute(
        """INSERT INTO employers (employer_id, version, responsible_union_id, base_union_id, workforce,
                                  should_have_union)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (employer_id) DO UPDATE SET version = EXCLUDED.version,
               responsible_union_id = EXCLUDED.responsible_union_id, base_union_id = EXCLUDED.base_union_id,
               workforce = EXCLUDED.workforce, should_have_union = EXCLUDED.should_have_union
           WHERE employers.version < EXCLUDED.version""",
        e.employer_id, version, e.responsible_union_id, e.base_union_id, e.workforce, e.should_have_union,
    )  # fmt: skip


async def upsert_relief_case(conn: Conn, version: int, c: ReliefSnapshot) -> None:
    await conn.execute(
        """INSERT INTO relief_cases (case_id, version, union_id, status, tier, causes)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (case_id) DO UPDATE SET version = EXCLUDED.version, union_id = EXCLUDED.union_id,
               status = EXCLUDED.status, tier = EXCLUDED.tier, causes = EXCLUDED.causes
           WHERE relief_cases.version < EXCLUDED.version""",
        c.case_id, version, c.union_id, c.status.value, c.tier.value if c.tier else None, c.causes,
    )  # fmt: skip


async def upsert_budget(conn: Conn, version: int, b: BudgetSet) -> None:
    await conn.execute(
        """INSERT INTO budgets (union_id, year, aid_type, version, total_fen) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (union_id, year, aid_type) DO UPDATE SET version = EXCLUDED.version,
               total_fen = EXCLUDED.total_fen
           WHERE budgets.version < EXCLUDED.version""",
        b.union_id, b.year, b.aid_type.value, version, b.total_fen,
    )  # fmt: skip


async def upsert_dispute(conn: Conn, at: datetime, c: DisputeSnapshot) -> None:
    await conn.execute(
        """INSERT INTO legal_cases (case_id, as_of, union_id, kind, stage, outcome)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (case_id) DO UPDATE SET as_of = EXCLUDED.as_of, union_id = EXCLUDED.union_id,
               kind = EXCLUDED.kind, stage = EXCLUDED.stage, outcome = EXCLUDED.outcome
           WHERE legal_cases.as_of <= EXCLUDED.as_of""",
        c.case_id, at, c.union_id, c.kind.value, c.stage.value, c.outcome.value if c.outcome else None,
    )  # fmt: skip


async def add_fact(
    conn: Conn, key: str, measure: str, union_id: uuid.UUID, month: date, *, dim: str = "", amount: int = 1
) -> None:
    """One fact of a monthly flow, counted once by (key, measure, dim)."""
    await conn.execute(
        """INSERT INTO facts (fact_key, measure, dim, union_id, month, amount) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT DO NOTHING""",
        key, measure, dim, union_id, month, amount,
    )  # fmt: skip
