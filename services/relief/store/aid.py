"""SQL for budgets and disbursements. The budget guard lives here, in one conditional UPDATE."""

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from services.relief.domain.aid import Budget
from shared.contracts.relief import AidType
from shared.db import Conn


@dataclass(frozen=True)
class BudgetRow:
    union_id: uuid.UUID
    year: int
    aid_type: AidType
    budget: Budget
    set_by: str
    updated_at: datetime

    @property
    def total_fen(self) -> int:
        return self.budget.total_fen

    @property
    def spent_fen(self) -> int:
        return self.budget.spent_fen

    @property
    def remaining_fen(self) -> int:
        return self.budget.remaining_fen


def _budget(r: asyncpg.Record) -> BudgetRow:
    return BudgetRow(
        r["union_id"], r["year"], AidType(r["aid_type"]), Budget(r["total_fen"], r["spent_fen"]), r["set_by"],
        r["updated_at"],
    )  # fmt: skip


async def get_budget(
    conn: Conn, union_id: uuid.UUID, year: int, aid_type: AidType, *, for_update: bool = False
) -> BudgetRow | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT * FROM budgets WHERE union_id = $1 AND year = $2 AND aid_type = $3{lock}",
        union_id, year, aid_type.value,
    )  # fmt: skip
    return _budget(row) if row else None


async def set_budget_total(
    conn: Conn, union_id: uuid.UUID, year: int, aid_type: AidType, total_fen: int, set_by: str
) -> BudgetRow:
    row = await conn.fetchrow(
        """INSERT INTO budgets (union_id, year, aid_type, total_fen, set_by) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (union_id, year, aid_type)
           DO UPDATE SET total_fen = EXCLUDED.total_fen, set_by = EXCLUDED.set_by, updated_at = now()
           RETURNING *""",
        union_id, year, aid_type.value, total_fen, set_by,
    )  # fmt: skip
    assert row is not None
    return _budget(row)


async def draw(
    conn: Conn, union_id: uuid.UUID, year: int, aid_type: AidType, amount_fen: int
) -> BudgetRow | None:
    """Take amount_fen from the budget if, and only if, it stays within the total.

    One statement: the row lock and the re-check of the WHERE clause under it make concurrent
    draws queue up and each see the spending of those before it. None: not enough left (or no
    budget at all)."""
    row = await conn.fetchrow(
        """UPDATE budgets SET spent_fen = spent_fen + $4, updated_at = now()
           WHERE union_id = $1 AND year = $2 AND aid_type = $3 AND spent_fen + $4 <= total_fen
           RETURNING *""",
        union_id, year, aid_type.value, amount_fen,
    )  # fmt: skip
    return _budget(row) if row else None


async def budgets_of(conn: Conn, union_id: uuid.UUID, year: int) -> list[BudgetRow]:
    rows = await conn.fetch(
        "SELECT * FROM budgets WHERE union_id = $1 AND year = $2 ORDER BY aid_type", union_id, year
    )
    return [_budget(r) for r in rows]


@dataclass(frozen=True)
class DisbursementRow:
    disbursement_id: uuid.UUID
    case_id: uuid.UUID
    member_id: uuid.UUID
    union_id: uuid.UUID
    budget_union_id: uuid.UUID
    aid_type: AidType
    year: int
    amount_fen: int
    note: str
    paid_by: str
    paid_at: datetime
    request_hash: bytes


def _disbursement(r: asyncpg.Record) -> DisbursementRow:
    return DisbursementRow(
        r["disbursement_id"], r["case_id"], r["member_id"], r["union_id"], r["budget_union_id"],
        AidType(r["aid_type"]), r["year"], r["amount_fen"], r["note"], r["paid_by"], r["paid_at"],
        bytes(r["request_hash"]),
    )  # fmt: skip


async def insert_disbursement(conn: Conn, d: DisbursementRow, idempotency_key: str) -> None:
    await conn.execute(
        """INSERT INTO disbursements (disbursement_id, case_id, member_id, union_id, budget_union_id,
               aid_type, year, amount_fen, note, paid_by, paid_at, idempotency_key, request_hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)""",
        d.disbursement_id, d.case_id, d.member_id, d.union_id, d.budget_union_id, d.aid_type.value, d.year,
        d.amount_fen, d.note, d.paid_by, d.paid_at, idempotency_key, d.request_hash,
    )  # fmt: skip


async def lock_idempotency_key(conn: Conn, idempotency_key: str) -> None:
    """Until the transaction ends, other requests with this key wait (a hash collision between
    two keys only makes them wait for each other)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", idempotency_key)


async def disbursement_by_key(conn: Conn, idempotency_key: str) -> DisbursementRow | None:
    row = await conn.fetchrow("SELECT * FROM disbursements WHERE idempotency_key = $1", idempotency_key)
    return _disbursement(row) if row else None


async def disbursements_of_case(conn: Conn, case_id: uuid.UUID) -> list[DisbursementRow]:
    rows = await conn.fetch("SELECT * FROM disbursements WHERE case_id = $1 ORDER BY paid_at", case_id)
    return [_disbursement(r) for r in rows]


async def paid_to_member(conn: Conn, member_id: uuid.UUID, year: int) -> int:
    total = await conn.fetchval(
        "SELECT coalesce(sum(amount_fen), 0) FROM disbursements WHERE member_id = $1 AND year = $2",
        member_id,
        year,
    )
    return int(total)
