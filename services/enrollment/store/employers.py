"""SQL for the employer register. Every function takes the connection of the caller's transaction."""

import uuid
from dataclasses import dataclass

import asyncpg

from shared.contracts.enrollment import EmployerSnapshot
from shared.db import Conn
from shared.rows import from_row


@dataclass(frozen=True)
class EmployerRow:
    employer_id: uuid.UUID
    name: str
    credit_code: str
    region: str
    workforce: int
    responsible_union_id: uuid.UUID
    responsible_path: list[uuid.UUID]  # the responsible union's path, root .. union
    base_union_id: uuid.UUID | None
    should_have_union: bool
    version: int


def _employer(row: asyncpg.Record) -> EmployerRow:
    return EmployerRow(
        employer_id=row["employer_id"],
        name=row["name"],
        credit_code=row["credit_code"],
        region=row["region"],
        workforce=row["workforce"],
        responsible_union_id=row["responsible_union_id"],
        responsible_path=list(row["responsible_path"]),
        base_union_id=row["base_union_id"],
        should_have_union=row["should_have_union"],
        version=row["version"],
    )


def snapshot(employer: EmployerRow) -> EmployerSnapshot:
    """The employer as its events carry it."""
    return from_row(EmployerSnapshot, employer)


async def get_employer(conn: Conn, employer_id: uuid.UUID, *, for_update: bool = False) -> EmployerRow | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"SELECT * FROM employers WHERE employer_id = $1{lock}", employer_id)
    return _employer(row) if row else None


async def with_code(conn: Conn, credit_code: str) -> uuid.UUID | None:
    found: uuid.UUID | None = await conn.fetchval(
        "SELECT employer_id FROM employers WHERE credit_code = $1", credit_code
    )
    return found


async def insert_employer(conn: Conn, e: EmployerRow) -> bool:
    """False when the code (or the id) is registered already: nothing was written then."""
    row = await conn.fetchrow(
        """INSERT INTO employers (employer_id, name, credit_code, region, workforce, responsible_union_id,
               responsible_path, base_union_id, should_have_union, version)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT DO NOTHING RETURNING employer_id""",
        e.employer_id, e.name, e.credit_code, e.region, e.workforce, e.responsible_union_id,
        e.responsible_path, e.base_union_id, e.should_have_union, e.version,
    )  # fmt: skip
    return row is not None


async def update_employer(conn: Conn, e: EmployerRow) -> None:
    await conn.execute(
        """UPDATE employers SET name = $2, region = $3, workforce = $4, responsible_union_id = $5,
               responsible_path = $6, base_union_id = $7, should_have_union = $8, version = $9,
               updated_at = now()
           WHERE employer_id = $1""",
        e.employer_id, e.name, e.region, e.workforce, e.responsible_union_id, e.responsible_path,
        e.base_union_id, e.should_have_union, e.version,
    )  # fmt: skip


def _literal(text: str) -> str:
    """`text` as a LIKE pattern matching itself only."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def in_subtree(
    conn: Conn,
    union_id: uuid.UUID | None,
    words: str | None,
    covered: bool | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[EmployerRow]:
    """Employers whose responsible union is `union_id` or below it (None: all), whose name
    contains `words` or whose code starts with them, covered by a base union or not, by
    (name, employer_id) after the employer `after`. Names are ordered by code point (collation
    "C"): the same on every server, whatever its locale."""
    rows = await conn.fetch(
        r"""
        SELECT e.* FROM employers e
        WHERE ($1::uuid IS NULL OR e.responsible_path @> ARRAY[$1::uuid])
          AND ($2::text IS NULL OR e.name LIKE '%' || $2 || '%' OR e.credit_code LIKE upper($2) || '%')
          AND ($3::boolean IS NULL OR (e.base_union_id IS NOT NULL) = $3)
          AND ($4::uuid IS NULL OR (e.name COLLATE "C", e.employer_id) > (
                SELECT a.name COLLATE "C", a.employer_id FROM employers a WHERE a.employer_id = $4))
        ORDER BY e.name COLLATE "C", e.employer_id
        LIMIT $5
        """,
        union_id, _literal(words) if words else None, covered, after, limit,
    )  # fmt: skip
    return [_employer(r) for r in rows]
