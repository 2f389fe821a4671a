"""The greeter's SQL."""

import uuid
from datetime import datetime

import asyncpg

from shared.db import Conn


async def add_welcome(
    conn: Conn, member_id: uuid.UUID, union_id: uuid.UUID, now: datetime, due_at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO welcomes (member_id, union_id, scheduled_at, due_at) VALUES ($1, $2, $3, $4)",
        member_id, union_id, now, due_at,
    )  # fmt: skip


async def get_welcome(conn: Conn, member_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM welcomes WHERE member_id = $1", member_id)


async def mark_done(conn: Conn, member_id: uuid.UUID, at: datetime) -> None:
    await conn.execute("UPDATE welcomes SET done_at = $2 WHERE member_id = $1", member_id, at)
