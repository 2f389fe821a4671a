"""Cases, counsel and the audit trail: explicit SQL over asyncpg."""

import json
import uuid
from dataclasses import astuple, dataclass, fields
from datetime import date, datetime
from typing import Any

import asyncpg

from shared.contracts.legal import Disposition, DisputeKind, Outcome, Priority, Stage
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


async def get_case(conn: Conn, case_id: uuid.UUID, *, for_update: bool = False) -> CaseRow | None:
    lock = " FOR UPDATE" if for_update else ""
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


# Counsel ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CounselRow:
    counsel_id: uuid.UUID
    name: str
    role: str
    union_id: uuid.UUID
    capacity: int
    active: bool
    represented_employers: list[str]
    open_cases: int


_COUNSEL_SELECT = """SELECT k.*, (SELECT count(*) FROM cases c
                         WHERE c.counsel_id = k.counsel_id AND c.stage <> 'closed') AS open_cases
                     FROM counsel k"""


def _counsel(row: asyncpg.Record) -> CounselRow:
    return CounselRow(
        row["counsel_id"], row["name"], row["role"], row["union_id"], row["capacity"], row["active"],
        list(row["represented_employers"]), int(row["open_cases"]),
    )  # fmt: skip


async def insert_counsel(
    conn: Conn, counsel_id: uuid.UUID, name: str, role: str, union_id: uuid.UUID, capacity: int,
    employers: list[str],
) -> None:  # fmt: skip
    await conn.execute(
        """INSERT INTO counsel (counsel_id, name, role, union_id, capacity, represented_employers)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        counsel_id, name, role, union_id, capacity, employers,
    )  # fmt: skip


async def add_represented_employer(conn: Conn, counsel_id: uuid.UUID, employer: str) -> None:
    await conn.execute(
        """UPDATE counsel SET represented_employers = array_append(represented_employers, $2)
           WHERE counsel_id = $1 AND NOT ($2 = ANY(represented_employers))""",
        counsel_id, employer,
    )  # fmt: skip


async def get_counsel(conn: Conn, counsel_id: uuid.UUID) -> CounselRow | None:
    row = await conn.fetchrow(f"{_COUNSEL_SELECT} WHERE k.counsel_id = $1", counsel_id)
    return _counsel(row) if row else None


async def roster_for(conn: Conn, union_path: list[uuid.UUID]) -> list[CounselRow]:
    """Counsel on the roster of the case's union or any union above it. Locks the roster rows so
    two assignments at once cannot both take a counsel's last place."""
    await conn.execute(
        "SELECT 1 FROM counsel WHERE union_id = ANY($1::uuid[]) ORDER BY counsel_id FOR UPDATE", union_path
    )
    rows = await conn.fetch(f"{_COUNSEL_SELECT} WHERE k.union_id = ANY($1::uuid[])", union_path)
    return [_counsel(r) for r in rows]


async def record_assignment(
    conn: Conn, case_id: uuid.UUID, counsel_id: uuid.UUID, previous: uuid.UUID | None, reason: str,
    actor: str, at: datetime,
) -> None:  # fmt: skip
    await conn.execute(
        """INSERT INTO counsel_assignments
               (case_id, counsel_id, previous_id, reason, assigned_by, assigned_at)
           VALUES ($1, $2, $3, $4, $5, $6)""",
        case_id, counsel_id, previous, reason, actor, at,
    )  # fmt: skip


# Audit trail ------------------------------------------------------------------------------------


async def audit(
    conn: Conn, actor: str, action: str, case_id: uuid.UUID | None, subject: str, correlation_id: str,
    reason: str | None = None, **detail: Any,
) -> None:  # fmt: skip
    await conn.execute(
        """INSERT INTO audit_log (actor, action, case_id, subject, reason, correlation_id, detail)
           VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)""",
        actor, action, case_id, subject, reason, correlation_id,
        json.dumps(detail, default=str, ensure_ascii=False),
    )  # fmt: skip


@dataclass(frozen=True)
class TrailEntry:
    at: datetime
    actor: str
    action: str
    reason: str | None
    detail: dict[str, Any]


async def trail(conn: Conn, case_id: uuid.UUID) -> list[TrailEntry]:
    rows = await conn.fetch(
        "SELECT at, actor, action, reason, detail FROM audit_log WHERE case_id = $1 ORDER BY id", case_id
    )
    return [TrailEntry(r["at"], r["actor"], r["action"], r["reason"], json.loads(r["detail"])) for r in rows]
