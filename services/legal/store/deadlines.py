"""The durable deadline table: schedule, cancel, claim what is due."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

from shared.contracts.legal import DeadlineName
from shared.db import Conn


@dataclass(frozen=True)
class DueRow:
    deadline_id: uuid.UUID
    case_id: uuid.UUID | None
    supervision_id: uuid.UUID | None
    name: DeadlineName
    due_on: date
    notice: str  # approaching | missed


async def schedule(
    conn: Conn, *, name: DeadlineName, due_on: date, notices: list[tuple[str, datetime]],
    case_id: uuid.UUID | None = None, supervision_id: uuid.UUID | None = None,
) -> None:  # fmt: skip
    """One row per notice (approaching, missed), each firing once at its time."""
    await conn.executemany(
        """INSERT INTO deadlines (deadline_id, case_id, supervision_id, name, due_on, notice, fire_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)""",
        [(uuid.uuid4(), case_id, supervision_id, name.value, due_on, notice, at) for notice, at in notices],
    )


async def cancel(
    conn: Conn, names: list[DeadlineName], *, case_id: uuid.UUID | None = None,
    supervision_id: uuid.UUID | None = None,
) -> None:  # fmt: skip
    """The step was taken (or the case closed): its pending notices will not fire."""
    await conn.execute(
        """UPDATE deadlines SET status = 'cancelled'
           WHERE status = 'pending' AND name = ANY($1::text[])
             AND (case_id = $2 OR supervision_id = $3)""",
        [n.value for n in names], case_id, supervision_id,
    )  # fmt: skip


async def cancel_all_for_case(conn: Conn, case_id: uuid.UUID) -> None:
    await conn.execute(
        "UPDATE deadlines SET status = 'cancelled' WHERE status = 'pending' AND case_id = $1", case_id
    )


async def next_for_case(conn: Conn, case_id: uuid.UUID) -> tuple[DeadlineName, date] | None:
    """The nearest deadline still running (its missed notice has not fired nor been cancelled)."""
    row = await conn.fetchrow(
        """SELECT name, due_on FROM deadlines
           WHERE case_id = $1 AND notice = 'missed' AND status = 'pending'
           ORDER BY due_on, name LIMIT 1""",
        case_id,
    )
    return (DeadlineName(row["name"]), row["due_on"]) if row else None


def _due(row: asyncpg.Record) -> DueRow:
    return DueRow(
        row["deadline_id"], row["case_id"], row["supervision_id"], DeadlineName(row["name"]),
        row["due_on"], row["notice"],
    )  # fmt: skip


async def claim_due(conn: Conn, now: datetime, limit: int) -> list[DueRow]:
    """Lock due rows no other transaction holds; call inside the transaction that fires them."""
    rows = await conn.fetch(
        """SELECT deadline_id, case_id, supervision_id, name, due_on, notice FROM deadlines
           WHERE status = 'pending' AND fire_at <= $1
           ORDER BY fire_at, deadline_id LIMIT $2
           FOR UPDATE SKIP LOCKED""",
        now, limit,
    )  # fmt: skip
    return [_due(r) for r in rows]


async def mark_fired(conn: Conn, deadline_id: uuid.UUID, now: datetime) -> None:
    await conn.execute(
        "UPDATE deadlines SET status = 'fired', fired_at = $2 WHERE deadline_id = $1", deadline_id, now
    )


@dataclass(frozen=True)
class DeadlineView:
    name: DeadlineName
    due_on: date
    notice: str
    fire_at: datetime
    status: str


async def of_case(conn: Conn, case_id: uuid.UUID) -> list[DeadlineView]:
    rows = await conn.fetch(
        "SELECT name, due_on, notice, fire_at, status FROM deadlines WHERE case_id = $1 ORDER BY fire_at",
        case_id,
    )
    return [DeadlineView(DeadlineName(r["name"]), r["due_on"], r["notice"], r["fire_at"], r["status"])
            for r in rows]  # fmt: skip
