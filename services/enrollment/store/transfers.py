"""SQL for transfer requests and their expiry timers. Every function takes the connection of the
caller's transaction."""

import uuid

import asyncpg

from services.enrollment.domain.transfers import Direction, Transfer
from shared import timers
from shared.contracts.enrollment import TransferSnapshot, TransferStatus
from shared.db import Conn
from shared.rows import from_row

EXPIRY_KIND = "enrollment.transfer_expiry"


def _transfer(row: asyncpg.Record) -> Transfer:
    return Transfer(**{**dict(row), "status": TransferStatus(row["status"])})


async def get(conn: Conn, transfer_id: uuid.UUID, *, for_update: bool = False) -> Transfer | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"SELECT * FROM transfer_requests WHERE transfer_id = $1{lock}", transfer_id)
    return _transfer(row) if row else None


async def pending_of(conn: Conn, member_id: uuid.UUID) -> Transfer | None:
    row = await conn.fetchrow(
        "SELECT * FROM transfer_requests WHERE member_id = $1 AND status = 'pending'", member_id
    )
    return _transfer(row) if row else None


async def insert(conn: Conn, t: Transfer) -> None:
    await conn.execute(
        """INSERT INTO transfer_requests (transfer_id, member_id, from_union_id, to_union_id, status,
               reason, requested_by, requested_at, expires_at, decided_by, decided_at, decision_reason)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)""",
        t.transfer_id, t.member_id, t.from_union_id, t.to_union_id, t.status.value, t.reason,
        t.requested_by, t.requested_at, t.expires_at, t.decided_by, t.decided_at, t.decision_reason,
    )  # fmt: skip


async def save_decision(conn: Conn, t: Transfer) -> None:
    """The answer to a pending request (the caller holds its row locked)."""
    await conn.execute(
        """UPDATE transfer_requests SET status = $2, decided_by = $3, decided_at = $4, decision_reason = $5
           WHERE transfer_id = $1 AND status = 'pending'""",
        t.transfer_id, t.status.value, t.decided_by, t.decided_at, t.decision_reason,
    )  # fmt: skip


async def inbox(
    conn: Conn, union_id: uuid.UUID, direction: Direction, status: TransferStatus | None, limit: int
) -> list[Transfer]:
    """Requests to (incoming) or from (outgoing) the union or any union below it, newest first."""
    side = "to_union_id" if direction is Direction.INCOMING else "from_union_id"
    rows = await conn.fetch(
        f"""SELECT t.* FROM transfer_requests t JOIN unions u ON u.union_id = t.{side}
            WHERE u.path @> ARRAY[$1::uuid] AND ($2::text IS NULL OR t.status = $2)
            ORDER BY t.requested_at DESC, t.transfer_id LIMIT $3""",
        union_id, status.value if status else None, limit,
    )  # fmt: skip
    return [_transfer(r) for r in rows]


def snapshot(t: Transfer) -> TransferSnapshot:
    return from_row(TransferSnapshot, t)


def _subject(t: Transfer) -> str:
    return f"transfer:{t.transfer_id}"


async def schedule_expiry(conn: Conn, t: Transfer) -> None:
    """The request lapses at its expiry unless answered first (kit's durable timer)."""
    await timers.schedule(conn, [timers.Timer(uuid.uuid4(), EXPIRY_KIND, _subject(t), t.expires_at)])


async def cancel_expiry(conn: Conn, t: Transfer) -> None:
    await timers.cancel(conn, EXPIRY_KIND, _subject(t))


def transfer_of(timer: timers.Timer) -> uuid.UUID:
    return uuid.UUID(timer.subject.removeprefix("transfer:"))


async def of_member(conn: Conn, member_id: uuid.UUID) -> list[Transfer]:
    rows = await conn.fetch(
        "SELECT * FROM transfer_requests WHERE member_id = $1 ORDER BY requested_at", member_id
    )
    return [_transfer(r) for r in rows]
