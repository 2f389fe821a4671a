"""Entries and the members in them: explicit SQL over asyncpg."""

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from shared.contracts.competitions import EntryRef
from shared.db import Conn


@dataclass(frozen=True)
class EntryRow:
    entry_id: uuid.UUID
    competition_id: uuid.UUID
    entry_no: int
    team_name: str | None
    union_id: uuid.UUID
    idea_title: str | None
    status: str
    registered_at: datetime
    member_ids: list[uuid.UUID]
    member_unions: list[uuid.UUID]
    adopted_at: datetime | None = None

    @property
    def ref(self) -> EntryRef:
        return EntryRef(entry_id=self.entry_id, entry_no=self.entry_no, team_name=self.team_name)

    @property
    def active(self) -> bool:
        return self.status == "active"

    @property
    def unions(self) -> list[uuid.UUID]:
        """Every base union the entry comes from: the team's and its members'."""
        return [self.union_id, *self.member_unions]


_ENTRY = """SELECT e.*, array_agg(m.member_id ORDER BY m.member_id) AS member_ids,
                   array_agg(m.union_id ORDER BY m.member_id) AS member_unions
            FROM entries e JOIN entry_members m USING (entry_id)"""


def _entry(row: asyncpg.Record) -> EntryRow:
    return EntryRow(
        row["entry_id"], row["competition_id"], row["entry_no"], row["team_name"], row["union_id"],
        row["idea_title"], row["status"], row["registered_at"], list(row["member_ids"]),
        list(row["member_unions"]), row["adopted_at"],
    )  # fmt: skip


async def insert_entry(conn: Conn, e: EntryRow, registered_by: str) -> EntryRow:
    """Numbered in registration order within the competition (the competition row is locked)."""
    await conn.execute("SELECT 1 FROM competitions WHERE competition_id = $1 FOR UPDATE", e.competition_id)
    entry_no = await conn.fetchval(
        "SELECT coalesce(max(entry_no), 0) + 1 FROM entries WHERE competition_id = $1", e.competition_id
    )
    await conn.execute(
        """INSERT INTO entries (entry_id, competition_id, entry_no, team_name, union_id, idea_title, status,
               registered_by, registered_at) VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8)""",
        e.entry_id, e.competition_id, entry_no, e.team_name, e.union_id, e.idea_title, registered_by,
        e.registered_at,
    )  # fmt: skip
    await conn.executemany(
        "INSERT INTO entry_members (entry_id, competition_id, member_id, union_id) VALUES ($1, $2, $3, $4)",
        [(e.entry_id, e.competition_id, m, u) for m, u in zip(e.member_ids, e.member_unions, strict=True)],
    )
    return EntryRow(
        e.entry_id, e.competition_id, int(entry_no), e.team_name, e.union_id, e.idea_title, e.status,
        e.registered_at, e.member_ids, e.member_unions,
    )  # fmt: skip


async def get_entry(conn: Conn, entry_id: uuid.UUID) -> EntryRow | None:
    row = await conn.fetchrow(f"{_ENTRY} WHERE e.entry_id = $1 GROUP BY e.entry_id", entry_id)
    return _entry(row) if row else None


async def entries_of(conn: Conn, competition_id: uuid.UUID, *, active_only: bool = False) -> list[EntryRow]:
    rows = await conn.fetch(
        f"""{_ENTRY} WHERE e.competition_id = $1 AND (NOT $2 OR e.status = 'active')
            GROUP BY e.entry_id ORDER BY e.entry_no""",
        competition_id, active_only,
    )  # fmt: skip
    return [_entry(r) for r in rows]


async def active_entries_of_member(conn: Conn, member_id: uuid.UUID) -> list[EntryRow]:
    rows = await conn.fetch(
        f"""{_ENTRY} WHERE e.status = 'active'
              AND e.entry_id IN (SELECT entry_id FROM entry_members WHERE member_id = $1)
              AND EXISTS (SELECT 1 FROM stages s
                          WHERE s.competition_id = e.competition_id AND s.status <> 'final')
            GROUP BY e.entry_id""",
        member_id,
    )
    return [_entry(r) for r in rows]


async def withdraw_entry(conn: Conn, entry_id: uuid.UUID, at: datetime) -> None:
    await conn.execute(
        "UPDATE entries SET status = 'withdrawn', withdrawn_at = $2 WHERE entry_id = $1", entry_id, at
    )


async def adopt_idea(conn: Conn, entry_id: uuid.UUID, by: str, at: datetime) -> bool:
    """False when the idea was adopted before."""
    status = await conn.execute(
        "UPDATE entries SET adopted_at = $2, adopted_by = $3 WHERE entry_id = $1 AND adopted_at IS NULL",
        entry_id, at, by,
    )  # fmt: skip
    return bool(status == "UPDATE 1")
