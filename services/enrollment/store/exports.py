"""SQL for data export requests, and the reads that make an export. Every function takes the
connection of the caller's transaction."""

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from shared.db import Conn


@dataclass(frozen=True)
class ExportRequest:
    request_id: uuid.UUID
    member_id: uuid.UUID
    status: str  # pending | approved
    requested_at: datetime
    approved_by: str | None
    approved_at: datetime | None


def _request(row: asyncpg.Record) -> ExportRequest:
    return ExportRequest(**dict(row))


async def insert(conn: Conn, r: ExportRequest) -> None:
    await conn.execute(
        """INSERT INTO export_requests (request_id, member_id, status, requested_at)
           VALUES ($1, $2, $3, $4)""",
        r.request_id, r.member_id, r.status, r.requested_at,
    )  # fmt: skip


async def get(conn: Conn, request_id: uuid.UUID, *, for_update: bool = False) -> ExportRequest | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"SELECT * FROM export_requests WHERE request_id = $1{lock}", request_id)
    return _request(row) if row else None


async def approve(conn: Conn, request_id: uuid.UUID, by: str, at: datetime) -> ExportRequest:
    row = await conn.fetchrow(
        """UPDATE export_requests SET status = 'approved', approved_by = $2, approved_at = $3
           WHERE request_id = $1 RETURNING *""",
        request_id, by, at,
    )  # fmt: skip
    assert row is not None
    return _request(row)
