"""Competitions, stages, entries, score sheets, votes, objections, awards, honours and the trail:
explicit SQL over asyncpg."""

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg

from services.competitions.domain.rules import StageStatus
from services.competitions.domain.scoring import Criterion, Sources
from shared.contracts.competitions import CompetitionKind, CompetitionRef, EntryRef, HonourKind
from shared.db import Conn

# Competitions -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompetitionRow:
    competition_id: uuid.UUID
    name: str
    kind: CompetitionKind
    union_id: uuid.UUID
    union_path: list[uuid.UUID]
    criteria: list[dict[str, Any]]
    created_at: datetime

    @property
    def ref(self) -> CompetitionRef:
        return CompetitionRef(
            competition_id=self.competition_id, name=self.name, kind=self.kind, union_id=self.union_id
        )

    def scoring_criteria(self) -> list[Criterion]:
        return [Criterion(c["key"], int(c["weight"]), Decimal(c["max_points"])) for c in self.criteria]


async def insert_competition(conn: Conn, c: CompetitionRow, created_by: str) -> None:
    await conn.execute(
        """INSERT INTO competitions (competition_id, name, kind, union_id, criteria, created_by, created_at)
           VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)""",
        c.competition_id, c.name, c.kind.value, c.union_id, json.dumps(c.criteria, ensure_ascii=False),
        created_by, c.created_at,
    )  # fmt: skip


async def get_competition(conn: Conn, competition_id: uuid.UUID) -> CompetitionRow | None:
    row = await conn.fetchrow(
        """SELECT c.*, u.path AS union_path FROM competitions c JOIN unions u USING (union_id)
           WHERE c.competition_id = $1""",
        competition_id,
    )
    if row is None:
        return None
    return CompetitionRow(
        row["competition_id"], row["name"], CompetitionKind(row["kind"]), row["union_id"],
        list(row["union_path"]), json.loads(row["criteria"]), row["created_at"],
    )  # fmt: skip


# Stages -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StageRow:
    stage_id: uuid.UUID
    competition_id: uuid.UUID
    seq: int
    name: str
    judges: list[str]
    chief_judge: str
    blind: bool
    expert_weight: int
    public_weight: int
    spread_gap: Decimal
    objection_days: int
    status: StageStatus
    published_at: datetime | None
    objection_ends_at: datetime | None
    finalized_at: datetime | None
    results: list[dict[str, Any]] | None

    @property
    def sources(self) -> Sources:
        return Sources(self.expert_weight, self.public_weight)


def _stage(row: asyncpg.Record) -> StageRow:
    return StageRow(
        row["stage_id"], row["competition_id"], row["seq"], row["name"], list(row["judges"]),
        row["chief_judge"], row["blind"], row["expert_weight"], row["public_weight"], row["spread_gap"],
        row["objection_days"], StageStatus(row["status"]), row["published_at"], row["objection_ends_at"],
        row["finalized_at"], json.loads(row["results"]) if row["results"] else None,
    )  # fmt: skip


async def insert_stage(conn: Conn, s: StageRow) -> None:
    await conn.execute(
        """INSERT INTO stages (stage_id, competition_id, seq, name, judges, chief_judge, blind, expert_weight,
               public_weight, spread_gap, objection_days, status)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)""",
        s.stage_id, s.competition_id, s.seq, s.name, s.judges, s.chief_judge, s.blind, s.expert_weight,
        s.public_weight, s.spread_gap, s.objection_days, s.status.value,
    )  # fmt: skip


async def get_stage(conn: Conn, stage_id: uuid.UUID, *, for_update: bool = False) -> StageRow | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(f"SELECT * FROM stages WHERE stage_id = $1{lock}", stage_id)
    return _stage(row) if row else None


async def stages_of(conn: Conn, competition_id: uuid.UUID) -> list[StageRow]:
    rows = await conn.fetch("SELECT * FROM stages WHERE competition_id = $1 ORDER BY seq", competition_id)
    return [_stage(r) for r in rows]


async def save_stage_state(conn: Conn, s: StageRow) -> None:
    await conn.execute(
        """UPDATE stages SET status = $2, published_at = $3, objection_ends_at = $4, finalized_at = $5,
               results = $6::jsonb WHERE stage_id = $1""",
        s.stage_id, s.status.value, s.published_at, s.objection_ends_at, s.finalized_at,
        json.dumps(s.results, ensure_ascii=False) if s.results is not None else None,
    )  # fmt: skip


# Entries ----------------------------------------------------------------------------------------


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


# Score sheets and votes -------------------------------------------------------------------------


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


# Objections -------------------------------------------------------------------------------------


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


# Awards and honours -----------------------------------------------------------------------------


async def insert_award(
    conn: Conn,
    award_id: uuid.UUID,
    entry: EntryRow,
    stage_id: uuid.UUID,
    title: str,
    rank: int | None,
    honour_kind: HonourKind | None,
    by: str,
    at: datetime,
) -> bool:
    status = await conn.execute(
        """INSERT INTO awards (award_id, competition_id, entry_id, stage_id, title, rank, honour_kind,
               granted_by, granted_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT ON CONSTRAINT one_award_title_per_entry DO NOTHING""",
        award_id, entry.competition_id, entry.entry_id, stage_id, title, rank,
        honour_kind.value if honour_kind else None, by, at,
    )  # fmt: skip
    return bool(status == "INSERT 0 1")


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


# The trail --------------------------------------------------------------------------------------


async def audit(
    conn: Conn,
    actor: str,
    action: str,
    competition_id: uuid.UUID | None,
    subject: str,
    correlation_id: str,
    reason: str | None = None,
    **detail: Any,
) -> None:
    await conn.execute(
        """INSERT INTO audit_log (actor, action, competition_id, subject, reason, correlation_id, detail)
           VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)""",
        actor, action, competition_id, subject, reason, correlation_id,
        json.dumps(detail, default=str, ensure_ascii=False),
    )  # fmt: skip


@dataclass(frozen=True)
class TrailEntry:
    at: datetime
    actor: str
    action: str
    subject: str
    reason: str | None
    detail: dict[str, Any]


async def trail(conn: Conn, competition_id: uuid.UUID) -> list[TrailEntry]:
    rows = await conn.fetch("SELECT * FROM audit_log WHERE competition_id = $1 ORDER BY id", competition_id)
    return [
        TrailEntry(r["at"], r["actor"], r["action"], r["subject"], r["reason"], json.loads(r["detail"]))
        for r in rows
    ]


async def trail_of_subject(conn: Conn, subject: str) -> list[TrailEntry]:
    rows = await conn.fetch("SELECT * FROM audit_log WHERE subject = $1 ORDER BY id", subject)
    return [
        TrailEntry(r["at"], r["actor"], r["action"], r["subject"], r["reason"], json.loads(r["detail"]))
        for r in rows
    ]
