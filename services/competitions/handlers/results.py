"""Results and objections: publication (成绩公示) opens the objection window, the chief judge
resolves objections (an upheld one may correct sheets), and after the window the results are
final. Each command runs in one transaction with its trail and events (through the outbox)."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from services.competitions.domain.results import require_entrant, require_resolvable, require_reviewed
from services.competitions.domain.rules import (
    StageStatus,
    objection_window,
    require_final_allowed,
    require_status,
    require_window_open,
)
from services.competitions.domain.scoring import validate_points
from services.competitions.handlers.common import (
    Deps,
    active_members,
    competition_or_404,
    entry_of_competition,
    require_chief_judge,
    require_organiser,
    stage_or_404,
)
from services.competitions.handlers.scoring import rank
from services.competitions.store import competitions, objections, scoring
from services.competitions.store.competitions import StageRow
from services.competitions.store.objections import ObjectionRow
from shared import audit
from shared.auth import Caller
from shared.contracts.competitions import ResultFinalized
from shared.errors import NotFound
from shared.events import Trace


async def publish_results(deps: Deps, caller: Caller, stage_id: uuid.UUID) -> StageRow:
    """成绩公示: the ranking is published, codes decoded, the objection window opens."""
    now = deps.now()
    async with deps.pool.acquire() as conn, conn.transaction():
        stage = await stage_or_404(conn, stage_id, for_update=True)
        competition = await competition_or_404(conn, stage.competition_id)
        require_organiser(caller, competition)
        require_status(stage.status, StageStatus.SCORING, doing="publish")
        results = await rank(conn, deps, stage, competition)
        require_reviewed(results)
        _, ends = objection_window(now, stage.objection_days)
        stage = replace(
            stage, status=StageStatus.PUBLISHED, published_at=now, objection_ends_at=ends, results=results
        )
        await competitions.save_stage_state(conn, stage)
        await audit.record(
            conn, Trace.of(caller), "results_published", f"stage:{stage_id}",
            record_id=competition.competition_id, objection_ends_at=ends.isoformat(),
            flagged=[r["entry_no"] for r in results if r["flagged"]],
        )  # fmt: skip
    return stage


async def raise_objection(
    deps: Deps, caller: Caller, stage_id: uuid.UUID, entry_id: uuid.UUID, reason: str
) -> ObjectionRow:
    now = deps.now()
    async with deps.pool.acquire() as conn, conn.transaction():
        stage = await stage_or_404(conn, stage_id, for_update=True)
        require_status(stage.status, StageStatus.PUBLISHED, doing="object")
        assert stage.objection_ends_at is not None
        require_window_open(now, stage.objection_ends_at)
        entry = await entry_of_competition(conn, stage.competition_id, entry_id)
        require_entrant(caller.principal, entry.member_ids)
        objection = ObjectionRow(uuid.uuid4(), stage_id, entry_id, caller.actor, reason, "open", None, now)
        await objections.insert_objection(conn, objection)
        await audit.record(
            conn, Trace.of(caller), "objection_raised", f"objection:{objection.objection_id}",
            record_id=stage.competition_id, reason=reason, entry_id=str(entry_id), stage_id=str(stage_id),
        )  # fmt: skip
    return objection


@dataclass(frozen=True)
class Correction:
    judge: str
    points: dict[str, Decimal]


async def resolve_objection(
    deps: Deps,
    caller: Caller,
    objection_id: uuid.UUID,
    upheld: bool,
    resolution: str,
    corrections: Sequence[Correction],
) -> ObjectionRow:
    """Only the chief judge resolves; an upheld objection may correct sheets of that entry (old
    and new points go to the trail) and the ranking is computed again."""
    now = deps.now()
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        objection = await objections.get_objection(conn, objection_id)
        if objection is None:
            raise NotFound(f"objection {objection_id} does not exist")
        stage = await stage_or_404(conn, objection.stage_id, for_update=True)
        require_chief_judge(caller, stage)
        require_status(stage.status, StageStatus.PUBLISHED, doing="resolve an objection")
        status = require_resolvable(objection.status, upheld, len(corrections))
        competition = await competition_or_404(conn, stage.competition_id)
        for c in corrections:
            sheet = await scoring.get_sheet(conn, stage.stage_id, objection.entry_id, c.judge)
            if sheet is None:
                raise NotFound(f"judge {c.judge!r} has no sheet for this entry")
            validate_points(competition.scoring_criteria(), c.points)
            await scoring.correct_sheet(conn, sheet.sheet_id, c.points)
            await audit.record(
                conn, trace, "score_corrected", f"entry:{objection.entry_id}",
                record_id=competition.competition_id, reason=resolution, judge=c.judge,
                before={k: str(v) for k, v in sheet.points.items()},
                after={k: str(v) for k, v in c.points.items()}, objection_id=str(objection_id),
            )  # fmt: skip
        await objections.resolve_objection(conn, objection_id, status, resolution, caller.actor, now)
        if corrections:
            stage = replace(stage, results=await rank(conn, deps, stage, competition))
            await competitions.save_stage_state(conn, stage)
        await audit.record(
            conn, trace, f"objection_{status}", f"objection:{objection_id}",
            record_id=competition.competition_id, reason=resolution, corrections=len(corrections),
        )  # fmt: skip
    return replace(objection, status=status, resolution=resolution)


async def finalize_results(deps: Deps, caller: Caller, stage_id: uuid.UUID) -> StageRow:
    """After the window, with every objection resolved: final. Entries withdrawn meanwhile drop
    out of the ranking; every active member of a ranked entry gets ResultFinalized."""
    now = deps.now()
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        stage = await stage_or_404(conn, stage_id, for_update=True)
        competition = await competition_or_404(conn, stage.competition_id)
        require_organiser(caller, competition)
        require_status(stage.status, StageStatus.PUBLISHED, doing="finalize")
        assert stage.objection_ends_at is not None
        still_open = sum(
            1 for o in await objections.objections_of_stage(conn, stage_id) if o.status == "open"
        )
        require_final_allowed(now, stage.objection_ends_at, still_open)
        results = await rank(conn, deps, stage, competition)
        stage = replace(stage, status=StageStatus.FINAL, finalized_at=now, results=results)
        await competitions.save_stage_state(conn, stage)
        await audit.record(
            conn, trace, "results_finalized", f"stage:{stage_id}", record_id=competition.competition_id
        )
        for r in results:
            entry = await entry_of_competition(conn, competition.competition_id, uuid.UUID(r["entry_id"]))
            for member_id in await active_members(conn, entry):
                await deps.events.emit(
                    conn, trace, member_id,
                    ResultFinalized(
                        member_id=member_id, competition=competition.ref, entry=entry.ref, stage_id=stage_id,
                        stage_name=stage.name, rank=r["rank"], of_entries=len(results),
                        score=Decimal(r["score"]), finalized_at=now,
                    ),
                )  # fmt: skip
    return stage
