"""Cases and their filing keys: explicit SQL over asyncpg."""

import uuid
from dataclasses import astuple, dataclass, fields
from datetime import date, datetime
from typing import Any

import asyncpg

from shared.contracts.legal import Disposition, DisputeKind, MediationOutcome, Outcome, Priority, Stage
from shared.db import Conn


@dataclass(frozen=True)
class CaseRow:
    case_id: uuid.UUID
    case_no: str
    member_id: uuid.UUID
    member_ids: list[uuid.UUID]
    union_id: uuid.UUID
    kind: DisputeKind
    employer: str
    amount_claimed_fen: int
    learned_on: date
    migrant_worker: bool
    description: str
    priority: Priority
    priority_reasons: list[str]
    stage: Stage
    disposition: Disposition | None
    reject_reason: str | None
    referral: str | None
    outcome: Outcome | None
    recovered_fen: int
    counsel_id: uuid.UUID | None
    mediation_accepted_on: date | None
    mediated: bool
    mediation_outcome: MediationOutcome | None
    mediation_ended_on: date | None
    arbitration_applied_on: date | None
    arbitration_accepted_on: date | None
    award_extended: bool
    award_received_on: date | None
    filed_by: str
    filed_at: datetime
    closed_at: datetime | None


_COLUMNS = [f.name for f in fields(CaseRow)]
_ENUMS: dict[str, Any] = {
    "kind": DisputeKind, "priority": Priority, "stage": Stage, "disposition": Disposition, "outcome": Outcome,
    "mediation_outcome": MediationOutcome,
}  # fmt: skip


def _case(row: asyncpg.Record) -> CaseRow:
    values = {c: row[c] for c in _COLUMNS}
    for column, enum in _ENUMS.items():
        if values[column] is not None:
            values[column] = enum(values[column])
    values["member_ids"] = list(values["member_ids"])
    values["priority_reasons"] = list(values["priority_reasons"])
    return CaseRow(**values)


def _params(case: CaseRow) -> list[Any]:
    return [v.value if hasattr(v, "value") else v for v in astuple(case)]


async def next_case_serial(conn: Conn) -> int:
    return int(await conn.fetchval("SELECT nextval('case_number_seq')"))


async def insert_case(conn: Conn, case: CaseRow) -> None:
    placeholders = ", ".join(f"${i}" for i in range(1, len(_COLUMNS) + 1))
    await conn.execute(f"INSERT INTO cases ({', '.join(_COLUMNS)}) VALUES ({placeholders})", *_params(case))


async def save_case(conn: Conn, case: CaseRow) -> None:
    sets = ", ".join(f"{c} = ${i}" for i, c in enumerate(_COLUMNS, start=1) if c != "case_id")
    await conn.execute(f"UPDATE cases SET {sets}, updated_at = now() WHERE case_id = $1", *_params(case))


async def get_case(
    conn: Conn, case_id: uuid.UUID, *, for_update: bool = False, skip_locked: bool = False
) -> CaseRow | None:
    """`skip_locked`: None when a command holds the case (the scheduler does not wait for it)."""
    lock = " FOR UPDATE SKIP LOCKED" if skip_locked else " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"SELECT * FROM cases WHERE case_id = $1{lock}", case_id)
    return _case(row) if row else None


async def list_cases(
    conn: Conn, union_id: uuid.UUID, stage: Stage | None, kind: DisputeKind | None, limit: int
) -> list[CaseRow]:
    rows = await conn.fetch(
        """SELECT c.* FROM cases c LEFT JOIN unions u ON u.union_id = c.union_id
           WHERE (u.path @> ARRAY[$1::uuid] OR c.union_id = $1)
             AND ($2::text IS NULL OR c.stage = $2) AND ($3::text IS NULL OR c.kind = $3)
           ORDER BY CASE c.priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 ELSE 2 END, c.filed_at
           LIMIT $4""",
        union_id, stage.value if stage else None, kind.value if kind else None, limit,
    )  # fmt: skip
    return [_case(r) for r in rows]


async def cases_of_member(conn: Conn, member_id: uuid.UUID) -> list[CaseRow]:
    rows = await conn.fetch(
        "SELECT * FROM cases WHERE member_ids @> ARRAY[$1::uuid] ORDER BY filed_at", member_id
    )
    return [_case(r) for r in rows]


async def lock_idempotency_key(conn: Conn, key: str) -> None:
    """Until the transaction ends, other filings with this key wait (so a racing retry sees the first)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", key)


async def filing_by_key(conn: Conn, key: str) -> tuple[uuid.UUID, bytes] | None:
    row = await conn.fetchrow("SELECT case_id, request_hash FROM filing_keys WHERE idempotency_key = $1", key)
    return (row["case_id"], bytes(row["request_hash"])) if row else None


async def record_filing_key(conn: Conn, key: str, case_id: uuid.UUID, request_hash: bytes) -> None:
    await conn.execute(
        "INSERT INTO filing_keys (idempotency_key, case_id, request_hash) VALUES ($1, $2, $3)",
        key, case_id, request_hash,
    )  # fmt: skip
