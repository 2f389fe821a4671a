"""HTTP routes of the relief service. A command answers with the case as it now stands."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response, status

from services.relief.api.schemas import (
    AnswerIn,
    BudgetIn,
    BudgetOut,
    CaseOut,
    CaseSummaryOut,
    DisbursementIn,
    DisbursementOut,
    DisclosureIn,
    EligibilityOut,
    ExitIn,
    ExitRequestOut,
    FollowUpIn,
    IntakeOut,
    MemberCasesOut,
    NoteIn,
    NoticeOut,
    ObjectionIn,
    ObjectionOut,
    OverrideIn,
    PlanIn,
    ReasonIn,
    ReportIn,
    ReverificationOut,
    SummaryOut,
    VisitIn,
    WithdrawIn,
)
from services.relief.domain.exit import ExitReview
from services.relief.domain.intake import HardshipReport, Household, IntakeOutcome
from services.relief.domain.visits import VisitForm
from services.relief.handlers import (
    aid,
    approvals,
    disclosure,
    intake,
    membership_changes,
    register,
    verification,
    views,
)
from services.relief.handlers.common import Deps
from shared.audit import TrailEntry
from shared.auth import Caller
from shared.contracts.personal_data import PersonalDataSection
from shared.contracts.relief import AidType, ApprovalStep, CaseStatus
from shared.http import AppDeps, CallerDep
from shared.inputs import FIRST_DAY, LAST_DAY, Day, Limit, StrictRoute
from shared.openapi import problems

router = APIRouter(route_class=StrictRoute)


DepsDep = Annotated[Deps, AppDeps]
Year = Annotated[int, Query(ge=2000, le=2100)]
# Bounded to the calendar window only: the budget rule itself says which years (a clearer 422).
YearInPath = Annotated[int, Path(ge=FIRST_DAY.year, le=LAST_DAY.year)]


async def _case_out(deps: Deps, caller: Caller, case_id: uuid.UUID) -> CaseOut:
    return CaseOut.of(await views.get_case(deps, caller, case_id))


# Intake and reading -----------------------------------------------------------------------------


@router.post(
    "/cases",
    status_code=status.HTTP_201_CREATED,
    tags=["cases"],
    responses={
        **problems(403, 404, 409),
        200: {"description": "the member or the household already has an open file: the report joined it"},
    },
)
async def open_case(body: ReportIn, deps: DepsDep, caller: CallerDep, response: Response) -> IntakeOut:
    member_id = caller.member_meant(body.member_id, "whose hardship is reported?")
    report = HardshipReport(
        member_id=member_id,
        household_register_no=body.household_register_no,
        household=Household(body.household_size, body.monthly_income_fen),
        causes=tuple(body.causes),
        note=body.note,
    )
    result = await intake.open_case(deps, caller, report)
    if result.outcome is IntakeOutcome.JOINED:
        response.status_code = status.HTTP_200_OK
    case = await _case_out(deps, caller, result.case.case_id) if result.visible else None
    return IntakeOut(outcome=result.outcome, case=case)


@router.get("/cases/{case_id}", tags=["cases"], responses=problems(403, 404))
async def get_case(case_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> CaseOut:
    return await _case_out(deps, caller, case_id)


@router.get("/cases", tags=["cases"], responses=problems(403, 404))
async def list_cases(
    deps: DepsDep,
    caller: CallerDep,
    union_id: uuid.UUID,
    status_filter: Annotated[CaseStatus | None, Query(alias="status")] = None,
    flagged: bool | None = None,
    limit: Limit = 100,
) -> list[CaseSummaryOut]:
    rows = await views.list_cases(deps, caller, union_id, status_filter, flagged, limit)
    return [CaseSummaryOut.model_validate(c) for c in rows]


@router.get("/members/{member_id}/cases", tags=["cases"], responses=problems(403, 404))
async def member_cases(member_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> MemberCasesOut:
    return MemberCasesOut.of(await views.member_cases(deps, caller, member_id))


@router.get("/cases/{case_id}/trail", tags=["cases"], responses=problems(403, 404))
async def case_trail(case_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> list[TrailEntry]:
    return await views.case_trail(deps, caller, case_id)


# Verification -----------------------------------------------------------------------------------


@router.post("/cases/{case_id}/visits", tags=["verification"], responses=problems(403, 404, 409))
async def record_visit(case_id: uuid.UUID, body: VisitIn, deps: DepsDep, caller: CallerDep) -> CaseOut:
    form = VisitForm(
        body.visited_on, body.household_size, body.monthly_income_fen, tuple(body.causes), body.findings
    )
    await verification.record_visit(deps, caller, case_id, form)
    return await _case_out(deps, caller, case_id)


@router.get("/cases/{case_id}/eligibility", tags=["verification"], responses=problems(403, 404))
async def eligibility(case_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> EligibilityOut:
    return EligibilityOut.of(await views.eligibility(deps, caller, case_id))


@router.post(
    "/cases/{case_id}/eligibility/override", tags=["verification"], responses=problems(403, 404, 409)
)
async def override_criterion(
    case_id: uuid.UUID, body: OverrideIn, deps: DepsDep, caller: CallerDep
) -> EligibilityOut:
    result = await verification.override_criterion(
        deps, caller, case_id, body.criterion, body.reason, body.tier
    )
    return EligibilityOut.of(result)


@router.post("/cases/{case_id}/verification", tags=["verification"], responses=problems(403, 404, 409))
async def request_verification(case_id: uuid.UUID, body: NoteIn, deps: DepsDep, caller: CallerDep) -> CaseOut:
    await verification.request_verification(deps, caller, case_id, body.note)
    return await _case_out(deps, caller, case_id)


@router.post("/cases/{case_id}/steps/{step}/approve", tags=["approvals"], responses=problems(403, 404, 409))
async def approve_step(
    case_id: uuid.UUID, step: ApprovalStep, body: NoteIn, deps: DepsDep, caller: CallerDep
) -> CaseOut:
    await approvals.decide_step(deps, caller, case_id, step, approve=True, note=body.note)
    return await _case_out(deps, caller, case_id)


@router.post("/cases/{case_id}/steps/{step}/reject", tags=["approvals"], responses=problems(403, 404, 409))
async def reject_step(
    case_id: uuid.UUID, step: ApprovalStep, body: NoteIn, deps: DepsDep, caller: CallerDep
) -> CaseOut:
    await approvals.decide_step(deps, caller, case_id, step, approve=False, note=body.note)
    return await _case_out(deps, caller, case_id)


# Disclosure -------------------------------------------------------------------------------------


@router.post("/cases/{case_id}/disclosure", tags=["disclosure"], responses=problems(403, 404, 409))
async def start_disclosure(
    case_id: uuid.UUID, body: DisclosureIn, deps: DepsDep, caller: CallerDep
) -> CaseOut:
    await disclosure.start_disclosure(deps, caller, case_id, tuple(body.proposed_aid))
    return await _case_out(deps, caller, case_id)


@router.post(
    "/cases/{case_id}/objections",
    status_code=status.HTTP_201_CREATED,
    tags=["disclosure"],
    responses=problems(403, 404, 409),
)
async def record_objection(
    case_id: uuid.UUID, body: ObjectionIn, deps: DepsDep, caller: CallerDep
) -> ObjectionOut:
    return ObjectionOut.model_validate(
        await disclosure.record_objection(deps, caller, case_id, body.objector, body.content)
    )


@router.post(
    "/cases/{case_id}/objections/{objection_id}/answer",
    tags=["disclosure"],
    responses=problems(403, 404, 409),
)
async def answer_objection(
    case_id: uuid.UUID, objection_id: uuid.UUID, body: AnswerIn, deps: DepsDep, caller: CallerDep
) -> ObjectionOut:
    return ObjectionOut.model_validate(
        await disclosure.answer_objection(deps, caller, case_id, objection_id, body.answer)
    )


@router.post("/cases/{case_id}/decline", tags=["disclosure"], responses=problems(403, 404, 409))
async def decline(case_id: uuid.UUID, body: ReasonIn, deps: DepsDep, caller: CallerDep) -> CaseOut:
    await disclosure.decline(deps, caller, case_id, body.reason)
    return await _case_out(deps, caller, case_id)


@router.get("/disclosures", tags=["disclosure"], responses=problems(404))
async def disclosures(
    deps: DepsDep, caller: CallerDep, union_id: Annotated[uuid.UUID, Query()]
) -> list[NoticeOut]:
    """The public list (公示): any signed-in caller; masked names, no IDs, no figures."""
    return [NoticeOut.model_validate(n) for n in await views.disclosures(deps, union_id)]


# The register -----------------------------------------------------------------------------------


@router.post("/cases/{case_id}/plan", tags=["register"], responses=problems(403, 404, 409))
async def request_plan(case_id: uuid.UUID, body: PlanIn, deps: DepsDep, caller: CallerDep) -> CaseOut:
    await register.request_plan(deps, caller, case_id, tuple(body.aid), body.summary)
    return await _case_out(deps, caller, case_id)


@router.post("/cases/{case_id}/reverification", tags=["register"], responses=problems(403, 404, 409))
async def reverify(case_id: uuid.UUID, body: VisitIn, deps: DepsDep, caller: CallerDep) -> ReverificationOut:
    form = VisitForm(
        body.visited_on, body.household_size, body.monthly_income_fen, tuple(body.causes), body.findings
    )
    _, result = await register.reverify(deps, caller, case_id, form)
    return ReverificationOut(
        case=await _case_out(deps, caller, case_id), eligibility=EligibilityOut.of(result)
    )


@router.get("/reviews/due", tags=["register"], responses=problems(403, 404))
async def due_reviews(
    deps: DepsDep,
    caller: CallerDep,
    union_id: uuid.UUID,
    on: Day | None = None,
    limit: Limit = 100,
) -> list[CaseSummaryOut]:
    """Files due for their yearly re-verification on or before `on` (default today)."""
    return [
        CaseSummaryOut.model_validate(c) for c in await views.due_reviews(deps, caller, union_id, on, limit)
    ]


@router.post("/cases/{case_id}/exit", tags=["register"], responses=problems(403, 404, 409))
async def request_exit(case_id: uuid.UUID, body: ExitIn, deps: DepsDep, caller: CallerDep) -> ExitRequestOut:
    review = ExitReview(
        body.visited_on, body.household_size, body.monthly_income_fen, body.guarantees.as_map(), body.findings
    )
    _, check = await register.request_exit(deps, caller, case_id, review)
    return ExitRequestOut.of(await _case_out(deps, caller, case_id), check)


@router.post(
    "/cases/{case_id}/follow-ups",
    status_code=status.HTTP_201_CREATED,
    tags=["register"],
    responses=problems(403, 404, 409),
)
async def record_follow_up(case_id: uuid.UUID, body: FollowUpIn, deps: DepsDep, caller: CallerDep) -> CaseOut:
    await register.record_follow_up(deps, caller, case_id, body.contacted_on, body.channel.value, body.notes)
    return await _case_out(deps, caller, case_id)


@router.post("/cases/{case_id}/resume", tags=["cases"], responses=problems(403, 404, 409))
async def resume(case_id: uuid.UUID, body: NoteIn, deps: DepsDep, caller: CallerDep) -> CaseOut:
    await membership_changes.resume(deps, caller, case_id, body.note)
    return await _case_out(deps, caller, case_id)


@router.post("/cases/{case_id}/withdraw", tags=["cases"], responses=problems(403, 404, 409))
async def withdraw(case_id: uuid.UUID, body: WithdrawIn, deps: DepsDep, caller: CallerDep) -> CaseOut:
    await membership_changes.withdraw(deps, caller, case_id, body.reason, body.note)
    return await _case_out(deps, caller, case_id)


@router.post("/cases/{case_id}/transfer/accept", tags=["cases"], responses=problems(403, 404, 409))
async def accept_transfer(case_id: uuid.UUID, body: NoteIn, deps: DepsDep, caller: CallerDep) -> CaseOut:
    await membership_changes.accept_transfer(deps, caller, case_id, body.note)
    return await _case_out(deps, caller, case_id)


@router.post("/cases/{case_id}/transfer/decline", tags=["cases"], responses=problems(403, 404, 409))
async def decline_transfer(case_id: uuid.UUID, body: ReasonIn, deps: DepsDep, caller: CallerDep) -> CaseOut:
    await membership_changes.decline_transfer(deps, caller, case_id, body.reason)
    return await _case_out(deps, caller, case_id)


# Money ------------------------------------------------------------------------------------------


@router.put("/budgets/{union_id}/{year}/{aid_type}", tags=["aid"], responses=problems(403, 404, 409))
async def set_budget(
    union_id: uuid.UUID,
    year: YearInPath,
    aid_type: AidType,
    body: BudgetIn,
    deps: DepsDep,
    caller: CallerDep,
) -> BudgetOut:
    return BudgetOut.model_validate(
        await aid.set_budget(deps, caller, union_id, year, aid_type, body.total_fen)
    )


@router.get("/budgets", tags=["aid"], responses=problems(403, 404))
async def list_budgets(deps: DepsDep, caller: CallerDep, union_id: uuid.UUID, year: Year) -> list[BudgetOut]:
    return [BudgetOut.model_validate(b) for b in await aid.list_budgets(deps, caller, union_id, year)]


@router.post(
    "/cases/{case_id}/disbursements",
    status_code=status.HTTP_201_CREATED,
    tags=["aid"],
    responses={
        **problems(403, 404, 409),
        200: {"description": "a retry: the Idempotency-Key was seen before, this is the first result"},
        409: {"description": "over budget, already paid this year, not in the plan, or the key reused"},
    },
)
async def disburse(
    case_id: uuid.UUID,
    body: DisbursementIn,
    deps: DepsDep,
    caller: CallerDep,
    response: Response,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> DisbursementOut:
    form = aid.DisbursementForm(body.aid_type, body.amount_fen, body.note, body.budget_union_id)
    result = await aid.disburse(deps, caller, case_id, idempotency_key, form)
    if result.replayed:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    return DisbursementOut.model_validate(result.disbursement)


# Reports ----------------------------------------------------------------------------------------


@router.get("/reports/summary", tags=["reports"], responses=problems(403, 404))
async def report_summary(deps: DepsDep, caller: CallerDep, union_id: uuid.UUID, year: Year) -> SummaryOut:
    return SummaryOut.of(union_id, year, await views.summary(deps, caller, union_id, year))


@router.get("/members/{member_id}/personal-data", tags=["members"], responses=problems(403))
async def personal_data(member_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> PersonalDataSection:
    """What relief holds on the member (困难帮扶记录), for the member themself; enrollment gathers
    it into the export a cadre approved."""
    return await views.personal_data(deps, caller, member_id)
