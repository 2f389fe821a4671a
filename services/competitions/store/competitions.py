"""Competitions and their stages: explicit SQL over asyncpg."""

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from services.competitions.domain.rules import StageStatus
from services.competitions.domain.scoring import Criterion, Sources
from shared.contracts.competitions import CompetitionKind, CompetitionRef
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


# Open for registration --------------------------------------------------------------------------

OPEN_LIMIT = 200  # the newest open competitions a list shows


async def open_competitions(
    conn: Conn, at_or_above: list[uuid.UUID] | None, below: uuid.UUID | None
) -> list[dict[str, Any]]:
    """Competitions taking entries (domain/entries.py: registration_open, every stage still
    scoring) organised by a union in `at_or_above` or in the subtree of `below`; both None: all.
    Newest first."""
    rows = await conn.fetch(
        """SELECT c.competition_id, c.name, c.kind, c.union_id, u.name AS union_name, c.created_at
           FROM competitions c JOIN unions u USING (union_id)
           WHERE (($1::uuid[] IS NULL AND $2::uuid IS NULL)
                  OR c.union_id = ANY($1::uuid[]) OR u.path @> ARRAY[$2::uuid])
             AND NOT EXISTS (SELECT FROM stages s
                             WHERE s.competition_id = c.competition_id AND s.status <> $3)
           ORDER BY c.created_at DESC, c.competition_id LIMIT $4""",
        at_or_above, below, StageStatus.SCORING.value, OPEN_LIMIT,
    )  # fmt: skip
    return [dict(r) for r in rows]
