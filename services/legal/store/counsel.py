"""The legal-aid roster (法律援助) and its assignments: explicit SQL over asyncpg."""

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from shared.db import Conn


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
