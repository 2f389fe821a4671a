"""Objections to published results (申诉): explicit SQL over asyncpg."""

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from shared.db import Conn


@dataclass(frozen=True)
class ObjectionRow:
    objection_id: uuid.UUID
    stage_id: uuid.UUID
    entry_id: uuid.UUID
    raised_by: str
    reason: str
    status: str
    resolution: str | None
    raised_at: datetime


def _objection(row: asyncpg.Record) -> ObjectionRow:
    return ObjectionRow(
        row["objection_id"], row["stage_id"], row["entry_id"], row["raised_by"], row["reason"], row["status"],
        row["resolution"], row["raised_at"],
    )  # fmt: skip


async def insert_objection(conn: Conn, o: ObjectionRow) -> None:
    await conn.execute(
        """INSERT INTO objections (objection_id, stage_id, entry_id, raised_by, reason, status, raised_at)
           VALUES ($1, $2, $3, $4, $5, 'open', $6)""",
        o.objection_id, o.stage_id, o.entry_id, o.raised_by, o.reason, o.raised_at,
    )  # fmt: skip


async def get_objection(conn: Conn, objection_id: uuid.UUID) -> ObjectionRow | None:
    row = await conn.fetchrow("SELECT * FROM objections WHERE objection_id = $1 FOR UPDATE", objection_id)
    return _objection(row) if row else None


async def resolve_objection(
    conn: Conn, objection_id: uuid.UUID, status: str, resolution: str, by: str, at: datetime
) -> None:
    await conn.execute(
        """UPDATE objections SET status = $2, resolution = $3, resolved_by = $4, resolved_at = $5
           WHERE objection_id = $1""",
        objection_id, status, resolution, by, at,
    )  # fmt: skip


async def objections_of_stage(conn: Conn, stage_id: uuid.UUID) -> list[ObjectionRow]:
    rows = await conn.fetch("SELECT * FROM objections WHERE stage_id = $1 ORDER BY raised_at", stage_id)
    return [_objection(r) for r in rows]
