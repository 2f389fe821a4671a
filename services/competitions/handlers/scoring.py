"""Judging a stage: judges' sheets, the public vote, the chief judge's review of a wide spread,
and the stage's ranking as computed from them. Each command runs in one transaction with its
trail."""

import uuid
from decimal import Decimal
from typing import Any

from services.competitions.domain.results import (
    require_active_entry,
    require_flagged,
    require_named_entry,
    require_public_vote,
)
from services.competitions.domain.rules import (
    AlreadyScored,
    StageStatus,
    blind_code,
    require_judge,
    require_no_conflict,
    require_status,
)
from services.competitions.domain.scoring import EntryInput, EntryResult, rank_stage, show, validate_points
from services.competitions.handlers.common import (
    Deps,
    competition_or_404,
    entry_of_competition,
    require_cadre,
    require_chief_judge,
    require_organiser,
    stage_or_404,
)
from services.competitions.store import entries, scoring
from services.competitions.store.competitions import CompetitionRow, StageRow
from services.competitions.store.entries import EntryRow
from services.competitions.store.scoring import SheetRow
from shared import audit
from shared.auth import Caller
from shared.db import Conn
from shared.errors import Conflict, NotFound
from shared.events import Trace


async def rank(
    conn: Conn, deps: Deps, stage: StageRow, competition: CompetitionRow, *, scored_only: bool = False
) -> list[dict[str, Any]]:
    """The ranking of the stage's active entries; `scored_only` for standings while scoring goes on."""
    active = await entries.entries_of(conn, stage.competition_id, active_only=True)
    sheets = await scoring.sheets_of_stage(conn, stage.stage_id)
    if scored_only:
        scored = {s.entry_id for s in sheets}
        active = [e for e in active if e.entry_id in scored]
        if not active:
            return []
    if not active:
        raise Conflict("the stage has no entries")
    votes = await scoring.votes_of_stage(conn, stage.stage_id)
    inputs = [
        EntryInput(
            e.entry_id, e.entry_no, e.registered_at, [s.points for s in sheets if s.entry_id == e.entry_id],
            votes.get(e.entry_id, 0),
        )
        for e in active
    ]  # fmt: skip
    ranked = rank_stage(competition.scoring_criteria(), stage.sources, inputs, stage.spread_gap)
    by_id = {e.entry_id: e for e in active}
    reviewed = await scoring.reviewed_entries(conn, stage.stage_id)
    return [
        _result_json(
            r,
            by_id[r.entry_id],
            blind_code(deps.blind_key, stage.stage_id, r.entry_id),
            r.entry_id in reviewed,
        )
        for r in ranked
    ]


def _result_json(r: EntryResult, e: EntryRow, code: str, reviewed: bool) -> dict[str, Any]:
    return {
        "rank": r.rank, "entry_id": str(r.entry_id), "entry_no": r.entry_no, "code": code,
        "team_name": e.team_name, "member_ids": [str(m) for m in e.member_ids],
        "score": str(show(r.score)), "expert_score": str(show(r.expert_score)),
        "public_score": str(show(r.public_score)), "judges": r.judges, "spread": str(show(r.spread)),
        "flagged": r.flagged, "reviewed_by_chief_judge": reviewed,
    }  # fmt: skip


async def entry_by_code(conn: Conn, deps: Deps, stage: StageRow, code: str) -> EntryRow:
    for e in await entries.entries_of(conn, stage.competition_id, active_only=True):
        if blind_code(deps.blind_key, stage.stage_id, e.entry_id) == code:
            return e
    raise NotFound("no entry of this stage has that code")


async def submit_scores(
    deps: Deps,
    caller: Caller,
    stage_id: uuid.UUID,
    entry_id: uuid.UUID | None,
    code: str | None,
    points: dict[str, Decimal],
) -> SheetRow:
    """A judge's sheet for one entry: checked, then locked (a second sheet is refused)."""
    now = deps.now()
    async with deps.pool.acquire() as conn, conn.transaction():
        stage = await stage_or_404(conn, stage_id)
        require_cadre(caller)
        require_judge(caller.principal.sub, stage.judges)
        require_status(stage.status, StageStatus.SCORING, doing="score")
        competition = await competition_or_404(conn, stage.competition_id)
        require_named_entry(stage.blind, entry_id, code)
        if code is not None:
            entry = await entry_by_code(conn, deps, stage, code)
        else:
            assert entry_id is not None
            entry = await entry_of_competition(conn, stage.competition_id, entry_id)
        require_active_entry(entry.active)
        require_no_conflict(caller.principal.union_id, entry.unions)
        validate_points(competition.scoring_criteria(), points)
        sheet = SheetRow(uuid.uuid4(), stage_id, entry.entry_id, caller.principal.sub, points, now)
        if not await scoring.insert_sheet(conn, sheet, caller.principal.union_id):
            raise AlreadyScored("you already scored this entry: a submitted sheet is locked")
        await audit.record(
            conn, Trace.of(caller), "sheet_submitted", f"entry:{entry.entry_id}",
            record_id=stage.competition_id, stage_id=str(stage_id),
            points={k: str(v) for k, v in points.items()},
        )  # fmt: skip
    return sheet


async def record_votes(
    deps: Deps, caller: Caller, stage_id: uuid.UUID, entry_id: uuid.UUID, votes: int
) -> None:
    async with deps.pool.acquire() as conn, conn.transaction():
        stage = await stage_or_404(conn, stage_id, for_update=True)
        require_organiser(caller, await competition_or_404(conn, stage.competition_id))
        require_status(stage.status, StageStatus.SCORING, doing="record votes")
        require_public_vote(stage.public_weight)
        await entry_of_competition(conn, stage.competition_id, entry_id)
        await scoring.set_votes(conn, stage_id, entry_id, votes)
        await audit.record(
            conn, Trace.of(caller), "votes_recorded", f"entry:{entry_id}", record_id=stage.competition_id,
            stage_id=str(stage_id), votes=votes,
        )  # fmt: skip


async def review_spread(
    deps: Deps, caller: Caller, stage_id: uuid.UUID, entry_id: uuid.UUID, note: str
) -> None:
    """The chief judge looks at a flagged entry (a wide spread between judges) before publication;
    a wrong sheet is put right afterwards only through an objection."""
    now = deps.now()
    async with deps.pool.acquire() as conn, conn.transaction():
        stage = await stage_or_404(conn, stage_id, for_update=True)
        require_chief_judge(caller, stage)
        require_status(stage.status, StageStatus.SCORING, doing="review a spread")
        competition = await competition_or_404(conn, stage.competition_id)
        standing = {r["entry_id"]: r for r in await rank(conn, deps, stage, competition, scored_only=True)}
        result = require_flagged(standing.get(str(entry_id)))
        if not await scoring.insert_review(conn, stage_id, entry_id, caller.actor, note, now):
            raise Conflict("the chief judge already reviewed this entry")
        await audit.record(
            conn, Trace.of(caller), "spread_reviewed", f"entry:{entry_id}",
            record_id=competition.competition_id, reason=note, stage_id=str(stage_id),
            spread=result["spread"],
        )  # fmt: skip
