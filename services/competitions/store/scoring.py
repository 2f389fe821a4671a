"""Judges' score sheets, public votes and the chief judge's spread reviews: explicit SQL."""

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import asyncpg

from shared.db import Conn


@dataclass(frozen=True)
class SheetRow:
    sheet_id: uuid.UUID
    stage_id: uuid.UUID
    entry_id: uuid.UUID
    judge: str
    points: dict[str, Decimal]
    submitted_at: datetime


def _sheet(row: asyncpg.Record) -> SheetRow:
    points = {k: Decimal(v) for k, v in json.loads(row["points"]).items()}
    return SheetRow(
        row["sheet_id"], row["stage_id"], row["entry_id"], row["judge"], points, row["submitted_at"]
    )


async def insert_sheet(conn: Conn, s: SheetRow, judge_union: uuid.UUID | None) -> bool:
    """False when this judge already submitted a sheet for this entry (sheets are locked)."""
    status = await conn.execute(
        """INSERT INTO score_sheets (sheet_id, stage_id, entry_id, judge, judge_union, points, submitted_at)
           VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)
           ON CONFLICT ON CONSTRAINT one_sheet_per_judge_and_entry DO NOTHING""",
        s.sheet_id, s.stage_id, s.entry_id, s.judge, judge_union,
        json.dumps({k: str(v) for k, v in s.points.items()}), s.submitted_at,
    )  # fmt: skip
    return bool(status == "INSERT 0 1")


async def sheets_of_stage(conn: Conn, stage_id: uuid.UUID) -> list[SheetRow]:
    rows = await conn.fetch("SELECT * FROM score_sheets WHERE stage_id = $1 ORDER BY submitted_at", stage_id)
    return [_sheet(r) for r in rows]


async def get_sheet(conn: Conn, stage_id: uuid.UUID, entry_id: uuid.UUID, judge: str) -> SheetRow | None:
    row = await conn.fetchrow(
        "SELECT * FROM score_sheets WHERE stage_id = $1 AND entry_id = $2 AND judge = $3 FOR UPDATE",
        stage_id, entry_id, judge,
    )  # fmt: skip
    return _sheet(row) if row else None


async def correct_sheet(conn: Conn, sheet_id: uuid.UUID, points: dict[str, Decimal]) -> None:
    """Only through a resolved objection, by the chief judge, with the change in the trail."""
    await conn.execute(
        "UPDATE score_sheets SET points = $2::jsonb WHERE sheet_id = $1",
        sheet_id, json.dumps({k: str(v) for k, v in points.items()}),
    )  # fmt: skip


async def set_votes(conn: Conn, stage_id: uuid.UUID, entry_id: uuid.UUID, votes: int) -> None:
    await conn.execute(
        """INSERT INTO public_votes (stage_id, entry_id, votes) VALUES ($1, $2, $3)
           ON CONFLICT (stage_id, entry_id) DO UPDATE SET votes = EXCLUDED.votes""",
        stage_id, entry_id, votes,
    )  # fmt: skip


async def votes_of_stage(conn: Conn, stage_id: uuid.UUID) -> dict[uuid.UUID, int]:
    rows = await conn.fetch("SELECT entry_id, votes FROM public_votes WHERE stage_id = $1", stage_id)
    return {r["entry_id"]: r["votes"] for r in rows}


async def insert_review(
    conn: Conn, stage_id: uuid.UUID, entry_id: uuid.UUID, by: str, note: str, at: datetime
) -> bool:
    status = await conn.execute(
        """INSERT INTO spread_reviews (stage_id, entry_id, reviewed_by, note, reviewed_at)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING""",
        stage_id, entry_id, by, note, at,
    )  # fmt: skip
    return bool(status == "INSERT 0 1")


async def reviewed_entries(conn: Conn, stage_id: uuid.UUID) -> set[uuid.UUID]:
    rows = await conn.fetch("SELECT entry_id FROM spread_reviews WHERE stage_id = $1", stage_id)
    return {r["entry_id"] for r in rows}
