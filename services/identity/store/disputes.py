"""Real-name disputes: explicit SQL over asyncpg."""

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from shared.db import Conn


@dataclass(frozen=True)
class DisputeRow:
    dispute_id: uuid.UUID
    account_id: uuid.UUID
    person_id: uuid.UUID
    holder_id: uuid.UUID | None
    union_path: list[uuid.UUID] | None
    opened_at: datetime
    status: str
    settled_at: datetime | None
    settled_by: str | None
    reason: str | None


_SELECT = """SELECT dispute_id, account_id, person_id, holder_id, union_path, opened_at, status,
                    settled_at, settled_by, reason FROM disputes"""


def _dispute(r: asyncpg.Record) -> DisputeRow:
    path = r["union_path"]
    return DisputeRow(
        r["dispute_id"], r["account_id"], r["person_id"], r["holder_id"],
        list(path) if path is not None else None, r["opened_at"], r["status"], r["settled_at"],
        r["settled_by"], r["reason"],
    )  # fmt: skip


async def open_dispute(
    conn: Conn, account_id: uuid.UUID, person_id: uuid.UUID, holder_id: uuid.UUID | None,
    union_path: list[uuid.UUID] | None, at: datetime,
) -> DisputeRow:  # fmt: skip
    """The open dispute of this account over this person: a new one, or the one already open."""
    await conn.execute(
        """INSERT INTO disputes (dispute_id, account_id, person_id, holder_id, union_path, opened_at)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (account_id, person_id) WHERE status = 'open' DO NOTHING""",
        uuid.uuid4(), account_id, person_id, holder_id, union_path, at,
    )  # fmt: skip
    row = await conn.fetchrow(
        f"{_SELECT} WHERE account_id = $1 AND person_id = $2 AND status = 'open'", account_id, person_id
    )
    assert row is not None
    return _dispute(row)


async def get_dispute(conn: Conn, dispute_id: uuid.UUID, *, for_update: bool = False) -> DisputeRow | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"{_SELECT} WHERE dispute_id = $1{lock}", dispute_id)
    return None if row is None else _dispute(row)


async def list_disputes(
    conn: Conn, *, union_id: uuid.UUID | None, everything: bool, status: str | None, limit: int
) -> list[DisputeRow]:
    """An admin's (`everything`), or those of a cadre's union subtree (its union on the path)."""
    rows = await conn.fetch(
        f"""{_SELECT} WHERE ($1 OR $2::uuid = ANY(union_path)) AND ($3::text IS NULL OR status = $3)
            ORDER BY opened_at DESC LIMIT $4""",
        everything, union_id, status, limit,
    )  # fmt: skip
    return [_dispute(r) for r in rows]


async def settle(conn: Conn, dispute_id: uuid.UUID, status: str, at: datetime, by: str, reason: str) -> None:
    await conn.execute(
        """UPDATE disputes SET status = $2, settled_at = $3, settled_by = $4, reason = $5
           WHERE dispute_id = $1""",
        dispute_id, status, at, by, reason,
    )  # fmt: skip
