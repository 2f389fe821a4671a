"""HTTP routes of the competitions service: thin, each maps a body to a handler call."""

import uuid
from typing import Annotated

from fastapi import APIRouter, status

from services.competitions.api.schemas import (
    AwardIn,
    CompetitionIn,
    CompetitionOut,
    EntryIn,
    EntryOut,
    HonourIn,
    HonourOut,
    ObjectionIn,
    ObjectionOut,
    OpenCompetitionOut,
    ReasonIn,
    RenewalIn,
    ResolutionIn,
    ResultsOut,
    ReviewIn,
    ScoresIn,
    SheetLineOut,
    SheetOut,
    VotesIn,
)
from services.competitions.domain.entries import NewEntry
from services.competitions.domain.setup import CriterionSpec, NewCompetition, StageSpec
from services.competitions.handlers import awards, competitions, entries, honours, results, scoring, views
from services.competitions.handlers.common import Deps
from shared.audit import TrailEntry
from shared.contracts.personal_data import PersonalDataSection
from shared.http import AppDeps, CallerDep
from shared.inputs import Day, StrictRoute
from shared.openapi import problems

router = APIRouter(route_class=StrictRoute)

DepsDep = Annotated[Deps, AppDeps]


# Competitions and entries -----------------------------------------------------------------------


@router.post(
    "/competitions", status_code=status.HTTP_201_CREATED, tags=["competitions"], responses=problems(403, 404)
)
async def create_competition(body: CompetitionIn, deps: DepsDep, caller: CallerDep) -> CompetitionOut:
    spec = NewCompetition(
        name=body.name,
        kind=body.kind,
        union_id=body.union_id,
        criteria=tuple(CriterionSpec(c.key, c.name, c.weight, c.max_points) for c in body.criteria),
        stages=tuple(
            StageSpec(
                s.name, tuple(s.judges), s.chief_judge, s.blind, s.expert_weight, s.public_weight,
                s.spread_gap, s.objection_days,
            )
            for s in body.stages
        ),
    )  # fmt: skip
    competition_id = await competitions.create_competition(deps, caller, spec)
    return CompetitionOut.model_validate(await views.get_competition(deps, caller, competition_id))


# Before /competitions/{competition_id}: "open" is not an id.
@router.get("/competitions/open", tags=["competitions"], responses=problems(403))
async def open_competitions(deps: DepsDep, caller: CallerDep) -> list[OpenCompetitionOut]:
    """Competitions taking entries now (every stage still scoring: no results published) that the
    caller may enter: for a member, those organised by their base union or a union above it; for
    a cadre, those at or above their union and below it; for an admin, all. Newest first, at most
    200. A member registers with POST /competitions/{id}/entries and no member_ids (themself)."""
    return [OpenCompetitionOut.model_validate(c) for c in await views.open_competitions(deps, caller)]


@router.get("/competitions/{competition_id}", tags=["competitions"], responses=problems(404))
async def get_competition(competition_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> CompetitionOut:
    return CompetitionOut.model_validate(await views.get_competition(deps, caller, competition_id))


@router.post(
    "/competitions/{competition_id}/entries",
    status_code=status.HTTP_201_CREATED,
    tags=["competitions"],
    responses=problems(403, 404, 409),
)
async def register_entry(
    competition_id: uuid.UUID, body: EntryIn, deps: DepsDep, caller: CallerDep
) -> EntryOut:
    member_ids = body.member_ids or ([caller.principal.member_id] if caller.principal.member_id else [])
    entry = await entries.register_entry(
        deps, caller, competition_id,
        NewEntry(tuple(member_ids), body.team_name, body.team_union_id, body.idea_title),
    )  # fmt: skip
    return EntryOut.model_validate(entry)


@router.post(
    "/competitions/{competition_id}/awards",
    status_code=status.HTTP_201_CREATED,
    tags=["awards"],
    responses=problems(403, 404, 409),
)
async def grant_award(
    competition_id: uuid.UUID, body: AwardIn, deps: DepsDep, caller: CallerDep
) -> dict[str, uuid.UUID]:
    award = awards.NewAward(
        body.stage_id, body.entry_id, body.title, body.honour_kind, body.honour_valid_until
    )
    return {"award_id": await awards.grant_award(deps, caller, competition_id, award)}


@router.post(
    "/competitions/{competition_id}/entries/{entry_id}/adoption",
    tags=["awards"],
    responses=problems(403, 404, 409),
)
async def adopt_idea(
    competition_id: uuid.UUID, entry_id: uuid.UUID, deps: DepsDep, caller: CallerDep
) -> dict[str, str]:
    """采纳: a golden idea reviewed in a final stage is adopted."""
    await awards.adopt_idea(deps, caller, competition_id, entry_id)
    return {"status": "adopted"}


@router.get("/competitions/{competition_id}/trail", tags=["competitions"], responses=problems(403, 404))
async def competition_trail(competition_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> list[TrailEntry]:
    return await views.competition_trail(deps, caller, competition_id)


# Stages: scoring, results, objections -----------------------------------------------------------


@router.get("/stages/{stage_id}/sheet", tags=["scoring"], responses=problems(403, 404))
async def judge_sheet(stage_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> list[SheetLineOut]:
    return [SheetLineOut.model_validate(line) for line in await views.judge_sheet(deps, caller, stage_id)]


@router.post(
    "/stages/{stage_id}/scores",
    status_code=status.HTTP_201_CREATED,
    tags=["scoring"],
    responses=problems(403, 404, 409),
)
async def submit_scores(stage_id: uuid.UUID, body: ScoresIn, deps: DepsDep, caller: CallerDep) -> SheetOut:
    sheet = await scoring.submit_scores(deps, caller, stage_id, body.entry_id, body.code, dict(body.points))
    return SheetOut.model_validate(sheet)


@router.post("/stages/{stage_id}/votes", tags=["scoring"], responses=problems(403, 404, 409))
async def record_votes(
    stage_id: uuid.UUID, body: VotesIn, deps: DepsDep, caller: CallerDep
) -> dict[str, int]:
    await scoring.record_votes(deps, caller, stage_id, body.entry_id, body.votes)
    return {"votes": body.votes}


@router.post("/stages/{stage_id}/reviews", tags=["scoring"], responses=problems(403, 404, 409))
async def review_spread(
    stage_id: uuid.UUID, body: ReviewIn, deps: DepsDep, caller: CallerDep
) -> dict[str, str]:
    """The chief judge reviews an entry flagged for a wide spread between judges."""
    await scoring.review_spread(deps, caller, stage_id, body.entry_id, body.note)
    return {"status": "reviewed"}


@router.post("/stages/{stage_id}/publish", tags=["results"], responses=problems(403, 404, 409))
async def publish_results(stage_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> ResultsOut:
    return ResultsOut.of(await results.publish_results(deps, caller, stage_id))


@router.get("/stages/{stage_id}/results", tags=["results"], responses=problems(403, 404, 409))
async def stage_results(stage_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> ResultsOut:
    return ResultsOut.of(await views.stage_results(deps, caller, stage_id))


@router.post(
    "/stages/{stage_id}/objections",
    status_code=status.HTTP_201_CREATED,
    tags=["results"],
    responses=problems(403, 404, 409),
)
async def raise_objection(
    stage_id: uuid.UUID, body: ObjectionIn, deps: DepsDep, caller: CallerDep
) -> ObjectionOut:
    objection = await results.raise_objection(deps, caller, stage_id, body.entry_id, body.reason)
    return ObjectionOut.model_validate(objection)


@router.get("/stages/{stage_id}/objections", tags=["results"], responses=problems(403, 404))
async def list_objections(stage_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> list[ObjectionOut]:
    return [ObjectionOut.model_validate(o) for o in await views.stage_objections(deps, caller, stage_id)]


@router.post("/objections/{objection_id}/resolve", tags=["results"], responses=problems(403, 404, 409))
async def resolve_objection(
    objection_id: uuid.UUID, body: ResolutionIn, deps: DepsDep, caller: CallerDep
) -> ObjectionOut:
    corrections = [results.Correction(c.judge, dict(c.points)) for c in body.corrections]
    resolved = await results.resolve_objection(
        deps, caller, objection_id, body.upheld, body.resolution, corrections
    )
    return ObjectionOut.model_validate(resolved)


@router.post("/stages/{stage_id}/finalize", tags=["results"], responses=problems(403, 404, 409))
async def finalize_results(stage_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> ResultsOut:
    return ResultsOut.of(await results.finalize_results(deps, caller, stage_id))


# Honours ----------------------------------------------------------------------------------------


@router.post(
    "/honours", status_code=status.HTTP_201_CREATED, tags=["honours"], responses=problems(403, 404, 409)
)
async def grant_honour(body: HonourIn, deps: DepsDep, caller: CallerDep) -> HonourOut:
    new = honours.NewHonour(body.member_id, body.kind, body.title, body.granted_on, body.valid_until)
    return HonourOut.model_validate(await honours.grant_honour(deps, caller, new))


@router.post("/honours/{honour_id}/renew", tags=["honours"], responses=problems(403, 404, 409))
async def renew_honour(honour_id: uuid.UUID, body: RenewalIn, deps: DepsDep, caller: CallerDep) -> HonourOut:
    renewed = await honours.renew_honour(
        deps, caller, honour_id, body.assessment_passed, body.valid_until, body.note
    )
    return HonourOut.model_validate(renewed)


@router.post("/honours/{honour_id}/revoke", tags=["honours"], responses=problems(403, 404, 409))
async def revoke_honour(honour_id: uuid.UUID, body: ReasonIn, deps: DepsDep, caller: CallerDep) -> HonourOut:
    return HonourOut.model_validate(await honours.revoke_honour(deps, caller, honour_id, body.reason))


@router.get("/honours/{honour_id}/trail", tags=["honours"], responses=problems(403, 404))
async def honour_trail(honour_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> list[TrailEntry]:
    return await views.honour_trail(deps, caller, honour_id)


@router.get("/members/{member_id}/honours", tags=["honours"], responses=problems(403, 404))
async def member_honours(
    member_id: uuid.UUID, deps: DepsDep, caller: CallerDep, on: Day | None = None
) -> list[HonourOut]:
    """Only the titles current on `on` (default: today, China time)."""
    return [HonourOut.model_validate(x) for x in await views.current_honours(deps, caller, member_id, on)]


@router.get("/members/{member_id}/personal-data", tags=["members"], responses=problems(403))
async def personal_data(member_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> PersonalDataSection:
    """What competitions holds on the member (劳动竞赛与荣誉记录), for the member themself; enrollment gathers
    it into the export a cadre approved."""
    return await views.personal_data(deps, caller, member_id)
