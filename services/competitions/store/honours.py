"""Honours held by members, with their terms: explicit SQL over asyncpg."""

import uuid
from dataclasses import dataclass
from datetime import date

import asyncpg

from shared.contracts.competitions import HonourKind
from shared.db import Conn


@dataclass(frozen=True)
class HonourRow:
    honour_id: uuid.UUID
    member_id: uuid.UUID
    kind: HonourKind
    title: str
    granted_on: date
    valid_until: date
    revoked_on: date | None
    competition_id: uuid.UUID | None
    team_name: str | None


def _honour(row: asyncpg.Record) -> HonourRow:
    return HonourRow(
        row["honour_id"], row["member_id"], HonourKind(row["kind"]), row["title"], row["granted_on"],
        row["valid_until"], row["revoked_on"], row["competition_id"], row["team_name"],
    )  # fmt: skip


async def insert_honour(conn: Conn, h: HonourRow, award_id: uuid.UUID | None, by: str) -> None:
    await conn.execute(
        """INSERT INTO honours (honour_id, member_id, kind, title, granted_on, valid_until, award_id,
               competition_id, team_name, granted_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)""",
        h.honour_id, h.member_id, h.kind.value, h.title, h.granted_on, h.valid_until, award_id,
        h.competition_id, h.team_name, by,
    )  # fmt: skip


async def get_honour(conn: Conn, honour_id: uuid.UUID, *, for_update: bool = False) -> HonourRow | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"SELECT * FROM honours WHERE honour_id = $1{lock}", honour_id)
    return _honour(row) if row else None


async def save_honour_term(conn: Conn, h: HonourRow) -> None:
    await conn.execute(
        "UPDATE honours SET valid_until = $2, revoked_on = $3 WHERE honour_id = $1",
        h.honour_id, h.valid_until, h.revoked_on,
    )  # fmt: skip


async def current_honours(conn: Conn, member_id: uuid.UUID, on: date) -> list[HonourRow]:
    rows = await conn.fetch(
        """SELECT * FROM honours WHERE member_id = $1 AND granted_on <= $2 AND valid_until >= $2
              AND (revoked_on IS NULL OR revoked_on > $2) ORDER BY granted_on, honour_id""",
        member_id, on,
    )  # fmt: skip
    return [_honour(r) for r in rows]
