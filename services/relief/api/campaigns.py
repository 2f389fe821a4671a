"""HTTP routes of 送温暖 campaigns and relief's employer register view (docs/campaigns.md)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status

from services.relief.api.campaign_schemas import (
    AllocationIn,
    AllocationOut,
    AllocationsOut,
    AmountIn,
    CampaignIn,
    CampaignOut,
    CampaignPage,
    DifficultyIn,
    EmployerOut,
    EmployerPage,
    EntryIn,
    ListIn,
    ListOut,
    ListSummaries,
    ListSummaryOut,
    PayOut,
    ReasonIn,
    ReportOut,
)
from services.relief.domain.campaigns import LIST_STATUS_LABELS, CampaignForm, ListStatus
from services.relief.handlers import campaign_lists, campaigns, employers
from services.relief.handlers.campaign_lists import NewEntry
from services.relief.handlers.common import Deps
from shared.contracts.relief_programmes import RECIPIENT_GROUP_LABELS, CampaignStatus
from shared.http import AppDeps, CallerDep
from shared.inputs import Limit, StrictRoute
from shared.openapi import problems
from shared.tabular import TableFormat, attachment, write_table

router = APIRouter(route_class=StrictRoute)

DepsDep = Annotated[Deps, AppDeps]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
Cursor = Annotated[str | None, Query(max_length=100)]
Text = Annotated[str | None, Query(max_length=100)]


# Campaigns ---------------------------------------------------------------------------------------


@router.post(
    "/campaigns", status_code=status.HTTP_201_CREATED, tags=["campaigns"], responses=problems(403, 404, 422)
)
async def launch_campaign(body: CampaignIn, deps: DepsDep, caller: CallerDep) -> CampaignOut:
    form = CampaignForm(
        body.title, body.union_id, body.starts_on, body.ends_on, body.total_fen, body.amounts_fen
    )
    return CampaignOut.of(await campaigns.launch(deps, caller, form))


@router.get("/campaigns", tags=["campaigns"], responses=problems(403, 404, 422))
async def list_campaigns(
    deps: DepsDep,
    caller: CallerDep,
    union_id: uuid.UUID | None = None,
    status_filter: Annotated[CampaignStatus | None, Query(alias="status")] = None,
    after: Cursor = None,
    limit: Limit = 50,
) -> CampaignPage:
    page = await campaigns.list_concerning(deps, caller, union_id, status_filter, after, limit)
    return CampaignPage(items=[CampaignOut.of(c) for c in page.items], next=page.next)


@router.get("/campaigns/{campaign_id}", tags=["campaigns"], responses=problems(403, 404))
async def get_campaign(campaign_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> CampaignOut:
    return CampaignOut.of(await campaigns.get(deps, caller, campaign_id))


@router.get("/campaigns/{campaign_id}/allocations", tags=["campaigns"], responses=problems(403, 404))
async def get_allocations(
    campaign_id: uuid.UUID, deps: DepsDep, caller: CallerDep, union_id: uuid.UUID | None = None
) -> AllocationsOut:
    return AllocationsOut.of(await campaigns.allocations(deps, caller, campaign_id, union_id))


@router.put(
    "/campaigns/{campaign_id}/allocations/{union_id}",
    tags=["campaigns"],
    responses=problems(403, 404, 409, 422),
)
async def set_allocation(
    campaign_id: uuid.UUID, union_id: uuid.UUID, body: AllocationIn, deps: DepsDep, caller: CallerDep
) -> AllocationOut:
    union, row = await campaigns.set_allocation(deps, caller, campaign_id, union_id, body.total_fen)
    return AllocationOut.of(union, row)


@router.get("/campaigns/{campaign_id}/report", tags=["campaigns"], responses=problems(403, 404))
async def get_report(
    campaign_id: uuid.UUID, deps: DepsDep, caller: CallerDep, union_id: uuid.UUID | None = None
) -> ReportOut:
    return ReportOut.of(await campaigns.report(deps, caller, campaign_id, union_id))


REPORT_HEADER = ("工会", "慰问对象类别", "户数", "企业数", "金额(元)")


@router.get(
    "/campaigns/{campaign_id}/report/export",
    tags=["campaigns"],
    responses={**problems(403, 404, 422), 200: {"description": "the report as CSV or XLSX"}},
    response_class=Response,
)
async def export_report(
    campaign_id: uuid.UUID,
    deps: DepsDep,
    caller: CallerDep,
    union_id: uuid.UUID | None = None,
    fmt: Annotated[TableFormat, Query(alias="format")] = TableFormat.XLSX,
) -> Response:
    r = await campaigns.report(deps, caller, campaign_id, union_id)
    rows: list[list[object]] = [
        [x.union_name, RECIPIENT_GROUP_LABELS[x.group], x.households, x.employers, x.amount_fen / 100]
        for x in r.rows
    ]
    rows.append(["合计", "", r.households, r.employers, r.amount_fen / 100])
    data = write_table(fmt, REPORT_HEADER, rows, title="送温暖发放统计")
    name = f"{r.campaign.title}-{r.union.name}-发放统计.{fmt.value}"
    headers = {"Content-Disposition": attachment(name, f"campaign-report.{fmt.value}")}
    return Response(data, media_type=fmt.media_type, headers=headers)


# Lists -------------------------------------------------------------------------------------------


@router.post(
    "/campaigns/{campaign_id}/lists",
    status_code=status.HTTP_201_CREATED,
    tags=["campaign lists"],
    responses={**problems(403, 404, 409, 422), 200: {"description": "the draft list, generated again"}},
)
async def generate_list(
    campaign_id: uuid.UUID, body: ListIn, deps: DepsDep, caller: CallerDep, response: Response
) -> ListOut:
    view, created = await campaign_lists.generate(deps, caller, campaign_id, body.union_id)
    if not created:
        response.status_code = status.HTTP_200_OK
    return ListOut.of_view(view)


@router.get("/campaigns/{campaign_id}/lists", tags=["campaign lists"], responses=problems(403, 404))
async def list_lists(
    campaign_id: uuid.UUID, deps: DepsDep, caller: CallerDep, union_id: uuid.UUID | None = None
) -> ListSummaries:
    rows = await campaign_lists.summaries(deps, caller, campaign_id, union_id)
    return ListSummaries(items=[ListSummaryOut.of(r) for r in rows])


@router.get("/campaign-lists/{list_id}", tags=["campaign lists"], responses=problems(403, 404))
async def get_list(list_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> ListOut:
    return ListOut.of_view(await campaign_lists.view(deps, caller, list_id))


@router.post(
    "/campaign-lists/{list_id}/entries", tags=["campaign lists"], responses=problems(403, 404, 409, 422)
)
async def add_entry(list_id: uuid.UUID, body: EntryIn, deps: DepsDep, caller: CallerDep) -> ListOut:
    new = NewEntry(body.member_id, body.employer_id, body.group, body.reason, body.amount_fen)
    return ListOut.of_view(await campaign_lists.add_entry(deps, caller, list_id, new))


@router.post(
    "/campaign-lists/{list_id}/entries/{entry_id}/exclude",
    tags=["campaign lists"],
    responses=problems(403, 404, 409, 422),
)
async def exclude_entry(
    list_id: uuid.UUID, entry_id: uuid.UUID, body: ReasonIn, deps: DepsDep, caller: CallerDep
) -> ListOut:
    return ListOut.of_view(
        await campaign_lists.change_entry(deps, caller, list_id, entry_id, body.reason, included=False)
    )


@router.post(
    "/campaign-lists/{list_id}/entries/{entry_id}/include",
    tags=["campaign lists"],
    responses=problems(403, 404, 409, 422),
)
async def include_entry(
    list_id: uuid.UUID, entry_id: uuid.UUID, body: ReasonIn, deps: DepsDep, caller: CallerDep
) -> ListOut:
    return ListOut.of_view(
        await campaign_lists.change_entry(deps, caller, list_id, entry_id, body.reason, included=True)
    )


@router.patch(
    "/campaign-lists/{list_id}/entries/{entry_id}",
    tags=["campaign lists"],
    responses=problems(403, 404, 409, 422),
)
async def change_amount(
    list_id: uuid.UUID, entry_id: uuid.UUID, body: AmountIn, deps: DepsDep, caller: CallerDep
) -> ListOut:
    return ListOut.of_view(
        await campaign_lists.change_entry(
            deps, caller, list_id, entry_id, body.reason, amount_fen=body.amount_fen
        )
    )


@router.post("/campaign-lists/{list_id}/submit", tags=["campaign lists"], responses=problems(403, 404, 409))
async def submit_list(list_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> ListOut:
    return ListOut.of_view(await campaign_lists.submit(deps, caller, list_id))


@router.post("/campaign-lists/{list_id}/approve", tags=["campaign lists"], responses=problems(403, 404, 409))
async def approve_list(list_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> ListOut:
    return ListOut.of_view(await campaign_lists.approve(deps, caller, list_id))


@router.post(
    "/campaign-lists/{list_id}/return", tags=["campaign lists"], responses=problems(403, 404, 409, 422)
)
async def return_list(list_id: uuid.UUID, body: ReasonIn, deps: DepsDep, caller: CallerDep) -> ListOut:
    return ListOut.of_view(await campaign_lists.send_back(deps, caller, list_id, body.reason))


@router.post("/campaign-lists/{list_id}/pay", tags=["campaign lists"], responses=problems(403, 404, 409, 422))
async def pay_list(
    list_id: uuid.UUID, deps: DepsDep, caller: CallerDep, idempotency_key: IdempotencyKey = None
) -> PayOut:
    result = await campaign_lists.pay(deps, caller, list_id, idempotency_key)
    state = ListStatus(result["status"])
    return PayOut(
        list_id=uuid.UUID(result["list_id"]), status=state, status_label=LIST_STATUS_LABELS[state],
        paid_count=result["paid_count"], paid_fen=result["paid_fen"],
        already_paid_count=result["already_paid_count"], replayed=result["replayed"],
    )  # fmt: skip


# Employers ---------------------------------------------------------------------------------------


@router.get("/employers", tags=["employers"], responses=problems(403, 404, 422))
async def list_employers(
    deps: DepsDep,
    caller: CallerDep,
    union_id: uuid.UUID | None = None,
    in_difficulty: bool | None = None,
    q: Text = None,
    limit: Limit = 200,
) -> EmployerPage:
    rows = await employers.list_employers(deps, caller, union_id, in_difficulty, q, limit)
    return EmployerPage(items=[EmployerOut.of(e) for e in rows])


@router.put("/employers/{employer_id}/difficulty", tags=["employers"], responses=problems(403, 404, 422))
async def designate_employer(
    employer_id: uuid.UUID, body: DifficultyIn, deps: DepsDep, caller: CallerDep
) -> EmployerOut:
    return EmployerOut.of(
        await employers.designate(deps, caller, employer_id, body.in_difficulty, body.reason)
    )
