"""HTTP routes of the legal service. A command answers with the case as it now stands."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Path, Response, status

from services.legal.api.schemas import (
    ArbitrationIn,
    AssignIn,
    AssignmentOut,
    CalendarDayOut,
    CalendarYearOut,
    CaseOut,
    CloseIn,
    CounselIn,
    CounselOut,
    DayChangeIn,
    DispositionIn,
    FileCaseIn,
    LetterStepIn,
    MediationIn,
    PublishYearIn,
    ReportOut,
    StageIn,
    SupervisionIn,
    SupervisionOut,
)
from services.legal.domain.intake import Filing
from services.legal.domain.letters import LetterAction
from services.legal.handlers import calendar, cases, counsel, letters, views
from services.legal.handlers.common import Deps
from shared.audit import TrailEntry
from shared.auth import Caller
from shared.contracts.legal import ArbitrationStep, DisputeKind, Stage
from shared.contracts.personal_data import PersonalDataSection
from shared.http import AppDeps, CallerDep
from shared.inputs import Day, Limit, StrictRoute
from shared.openapi import problems

router = APIRouter(route_class=StrictRoute)

DepsDep = Annotated[Deps, AppDeps]


async def _case_out(deps: Deps, caller: Caller, case_id: uuid.UUID) -> CaseOut:
    return CaseOut.of_view(await views.get_case(deps, caller, case_id))


# Cases ------------------------------------------------------------------------------------------


@router.post(
    "/cases",
    status_code=status.HTTP_201_CREATED,
    tags=["cases"],
    responses={
        **problems(403, 404, 409),
        200: {"description": "a retry: the Idempotency-Key was seen before, this is the first case"},
    },
)
async def file_case(
    body: FileCaseIn,
    deps: DepsDep,
    caller: CallerDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> CaseOut:
    member_id = caller.member_meant(body.member_id, "whose dispute is it?")
    filing = Filing(
        member_id=member_id,
        kind=body.kind,
        employer=body.employer,
        amount_claimed_fen=body.amount_claimed_fen,
        learned_on=body.learned_on,
        migrant_worker=body.migrant_worker,
        description=body.description,
        other_member_ids=tuple(body.other_member_ids),
    )
    result = await cases.file_case(deps, caller, filing, idempotency_key)
    if result.replayed:
        response.status_code = status.HTTP_200_OK
    return await _case_out(deps, caller, result.case.case_id)


@router.get("/cases/{case_id}", tags=["cases"], responses=problems(403, 404))
async def get_case(case_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> CaseOut:
    return await _case_out(deps, caller, case_id)


@router.get("/cases", tags=["cases"], responses=problems(403, 404))
async def list_cases(
    deps: DepsDep,
    caller: CallerDep,
    union_id: uuid.UUID,
    stage: Stage | None = None,
    kind: DisputeKind | None = None,
    limit: Limit = 100,
) -> list[CaseOut]:
    return [
        CaseOut.model_validate(c) for c in await views.list_cases(deps, caller, union_id, stage, kind, limit)
    ]


@router.get("/members/{member_id}/cases", tags=["cases"], responses=problems(403))
async def member_cases(member_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> list[CaseOut]:
    return [CaseOut.model_validate(c) for c in await views.member_cases(deps, caller, member_id)]


@router.get("/cases/{case_id}/trail", tags=["cases"], responses=problems(403, 404))
async def case_trail(case_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> list[TrailEntry]:
    return await views.case_trail(deps, caller, case_id)


@router.post("/cases/{case_id}/disposition", tags=["cases"], responses=problems(403, 404, 409))
async def decide_intake(case_id: uuid.UUID, body: DispositionIn, deps: DepsDep, caller: CallerDep) -> CaseOut:
    await cases.decide_intake(deps, caller, case_id, body.disposition, body.reason, body.referral)
    return await _case_out(deps, caller, case_id)


@router.post("/cases/{case_id}/stage", tags=["cases"], responses=problems(403, 404, 409))
async def move_stage(case_id: uuid.UUID, body: StageIn, deps: DepsDep, caller: CallerDep) -> CaseOut:
    await cases.move_stage(deps, caller, case_id, body.stage, body.on)
    return await _case_out(deps, caller, case_id)


@router.post("/cases/{case_id}/mediation/outcome", tags=["cases"], responses=problems(403, 404, 409))
async def end_mediation(case_id: uuid.UUID, body: MediationIn, deps: DepsDep, caller: CallerDep) -> CaseOut:
    """How mediation ended; arbitration may follow a failed mediation or a passed window."""
    await cases.end_mediation(deps, caller, case_id, body.outcome, body.on)
    return await _case_out(deps, caller, case_id)


@router.post("/cases/{case_id}/arbitration/{step}", tags=["cases"], responses=problems(403, 404, 409))
async def arbitration_step(
    case_id: uuid.UUID, step: ArbitrationStep, body: ArbitrationIn, deps: DepsDep, caller: CallerDep
) -> CaseOut:
    await cases.arbitration_step(deps, caller, case_id, step, body.on)
    return await _case_out(deps, caller, case_id)


@router.post("/cases/{case_id}/close", tags=["cases"], responses=problems(403, 404, 409))
async def close_case(case_id: uuid.UUID, body: CloseIn, deps: DepsDep, caller: CallerDep) -> CaseOut:
    await cases.close_case(deps, caller, case_id, body.outcome, body.recovered_fen, body.note)
    return await _case_out(deps, caller, case_id)


# Legal aid --------------------------------------------------------------------------------------


@router.post(
    "/counsel", status_code=status.HTTP_201_CREATED, tags=["legal aid"], responses=problems(403, 404)
)
async def register_counsel(body: CounselIn, deps: DepsDep, caller: CallerDep) -> CounselOut:
    registered = await counsel.register_counsel(
        deps, caller, body.union_id, body.name, body.role, body.capacity, body.represented_employers
    )
    return CounselOut.model_validate(registered)


@router.post("/cases/{case_id}/counsel", tags=["legal aid"], responses=problems(403, 404, 409))
async def assign_counsel(
    case_id: uuid.UUID, body: AssignIn, deps: DepsDep, caller: CallerDep
) -> AssignmentOut:
    _, assigned = await cases.assign_counsel(deps, caller, case_id, body.counsel_id, body.reason)
    return AssignmentOut(
        case=await _case_out(deps, caller, case_id), counsel=CounselOut.model_validate(assigned)
    )


# Supervision letters ----------------------------------------------------------------------------


@router.post(
    "/supervisions",
    status_code=status.HTTP_201_CREATED,
    tags=["supervision letters"],
    responses=problems(403, 404),
)
async def open_supervision(body: SupervisionIn, deps: DepsDep, caller: CallerDep) -> SupervisionOut:
    s = await letters.open_supervision(
        deps, caller, body.union_id, body.employer, body.issue, body.case_id, body.on
    )
    return SupervisionOut.model_validate(s)


@router.get("/supervisions/{supervision_id}", tags=["supervision letters"], responses=problems(403, 404))
async def get_supervision(supervision_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> SupervisionOut:
    return SupervisionOut.model_validate(await views.get_supervision(deps, caller, supervision_id))


@router.post(
    "/supervisions/{supervision_id}/{action}", tags=["supervision letters"], responses=problems(403, 404, 409)
)
async def letter_step(
    supervision_id: uuid.UUID, action: LetterAction, body: LetterStepIn, deps: DepsDep, caller: CallerDep
) -> SupervisionOut:
    return SupervisionOut.model_validate(
        await letters.letter_step(deps, caller, supervision_id, action, body.on)
    )


# Reports ----------------------------------------------------------------------------------------


@router.get("/reports/summary", tags=["reports"], responses=problems(403, 404))
async def report(deps: DepsDep, caller: CallerDep, union_id: uuid.UUID, start: Day, end: Day) -> ReportOut:
    return ReportOut.of(await views.report(deps, caller, union_id, start, end))


# The working-day calendar -----------------------------------------------------------------------

Year = Annotated[int, Path(ge=2000, le=2100)]


async def _year_out(deps: Deps, year: int, rescheduled: int | None = None) -> CalendarYearOut:
    published, days, revision = await calendar.get_year(deps, year)
    return CalendarYearOut(
        year=year,
        published=published is not None,
        source=published.source if published else None,
        revision=revision,
        days=[CalendarDayOut.model_validate(d) for d in days],
        rescheduled=rescheduled,
    )


@router.get("/calendar/{year}", tags=["working calendar"])
async def get_calendar(year: Year, deps: DepsDep, caller: CallerDep) -> CalendarYearOut:
    """Public holidays and make-up working days (调休上班日) of a year."""
    return await _year_out(deps, year)


@router.put("/calendar/{year}", tags=["working calendar"], responses=problems(403, 404, 409))
async def publish_calendar_year(
    year: Year, body: PublishYearIn, deps: DepsDep, caller: CallerDep
) -> CalendarYearOut:
    """The year's whole arrangement, as the State Council's notice gives it (administrators)."""
    days = [(d.day, d.kind, d.name) for d in body.days]
    changed = await calendar.publish_year(deps, caller, year, body.source, days)
    return await _year_out(deps, year, changed.rescheduled)


@router.put("/calendar/{year}/days/{day}", tags=["working calendar"], responses=problems(403, 404, 409))
async def change_calendar_day(
    year: Year, day: Day, body: DayChangeIn, deps: DepsDep, caller: CallerDep
) -> CalendarYearOut:
    """One day set as a holiday or a make-up working day, or its entry removed (administrators)."""
    changed = await calendar.change_day(deps, caller, year, day, body.change, body.name, body.reason)
    return await _year_out(deps, year, changed.rescheduled)


@router.get("/members/{member_id}/personal-data", tags=["members"], responses=problems(403))
async def personal_data(member_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> PersonalDataSection:
    """What legal holds on the member (法律援助记录), for the member themself; enrollment gathers
    it into the export a cadre approved."""
    return await views.personal_data(deps, caller, member_id)
