"""Relief's view of enrollment's employer register, with its own 困难企业 designation (and the
model worker titles from competitions' honour events)."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

from shared.contracts.enrollment import EmployerSnapshot
from shared.db import Conn


@dataclass(frozen=True)
class EmployerRow:
    employer_id: uuid.UUID
    name: str
    region: str
    workforce: int
    responsible_union_id: uuid.UUID
    base_union_id: uuid.UUID | None
    in_difficulty: bool
    difficulty_reason: str | None
    designated_by: str | None
    designated_at: datetime | None

    @property
    def union_id(self) -> uuid.UUID:
        """The union that consoles it: its base union, else the union responsible for it."""
        return self.base_union_id or self.responsible_union_id


_COLUMNS = """employer_id, name, region, workforce, responsible_union_id, base_union_id, in_difficulty,
              difficulty_reason, designated_by, designated_at"""


_E_COLUMNS = ", ".join(f"e.{c.strip()}" for c in _COLUMNS.split(","))


def _employer(r: asyncpg.Record) -> EmployerRow:
    return EmployerRow(**{k: r[k] for k in EmployerRow.__dataclass_fields__})


async def upsert_employer(conn: Conn, version: int, e: EmployerSnapshot) -> None:
    """The register's facts (never the designation, which is relief's own); older events lose."""
    await conn.execute(
        """INSERT INTO employers (employer_id, version, name, region, workforce, responsible_union_id,
               base_union_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (employer_id) DO UPDATE SET version = EXCLUDED.version, name = EXCLUDED.name,
               region = EXCLUDED.region, workforce = EXCLUDED.workforce,
               responsible_union_id = EXCLUDED.responsible_union_id, base_union_id = EXCLUDED.base_union_id
           WHERE employers.version < EXCLUDED.version""",
        e.employer_id, version, e.name, e.region, e.workforce, e.responsible_union_id, e.base_union_id,
    )  # fmt: skip


async def get_employer(conn: Conn, employer_id: uuid.UUID, *, for_update: bool = False) -> EmployerRow | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM employers WHERE employer_id = $1{lock}", employer_id)
    return _employer(row) if row else None


async def designate(
    conn: Conn, employer_id: uuid.UUID, in_difficulty: bool, reason: str, by: str, at: datetime
) -> EmployerRow:
    row = await conn.fetchrow(
        f"""UPDATE employers SET in_difficulty = $2, difficulty_reason = $3, designated_by = $4,
               designated_at = $5
            WHERE employer_id = $1 RETURNING {_COLUMNS}""",
        employer_id, in_difficulty, reason, by, at,
    )  # fmt: skip
    assert row is not None
    return _employer(row)


async def employers_in(
    conn: Conn, union_id: uuid.UUID, in_difficulty: bool | None, q: str | None, limit: int
) -> list[EmployerRow]:
    """Employers whose base union (else responsible union) is in the union's subtree."""
    rows = await conn.fetch(
        f"""SELECT {_E_COLUMNS} FROM employers e
            JOIN unions u ON u.union_id = coalesce(e.base_union_id, e.responsible_union_id)
            WHERE $1 = ANY(u.path) AND ($2::boolean IS NULL OR e.in_difficulty = $2)
              AND ($3::text IS NULL OR strpos(e.name, $3) > 0)
            ORDER BY e.name, e.employer_id LIMIT $4""",
        union_id, in_difficulty, q, limit,
    )  # fmt: skip
    return [_employer(r) for r in rows]


# Model worker titles ----------------------------------------------------------------------------


async def upsert_honour(conn: Conn, honour_id: uuid.UUID, member_id: uuid.UUID, valid_until: date) -> None:
    await conn.execute(
        """INSERT INTO model_worker_honours (honour_id, member_id, valid_until) VALUES ($1, $2, $3)
           ON CONFLICT (honour_id) DO UPDATE SET valid_until = EXCLUDED.valid_until""",
        honour_id, member_id, valid_until,
    )  # fmt: skip


async def revoke_honour(conn: Conn, honour_id: uuid.UUID, member_id: uuid.UUID, on: date) -> None:
    # Revoked before relief saw it granted: kept revoked, so a late grant cannot revive it.
    await conn.execute(
        """INSERT INTO model_worker_honours (honour_id, member_id, valid_until, revoked_on)
           VALUES ($1, $2, $3, $3)
           ON CONFLICT (honour_id) DO UPDATE SET revoked_on = EXCLUDED.revoked_on""",
        honour_id, member_id, on,
    )  # fmt: skip
