"""HTTP routes of the enrollment service."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from services.enrollment.api.schemas import (
    ApplicationIn,
    ApplicationOut,
    LeaveIn,
    MemberOut,
    RegisterUnionIn,
    ReinstateIn,
    RejectIn,
    SubmissionOut,
    TransferIn,
    UnionOut,
)
from services.enrollment.domain.applications import (
    ApplicationForm,
    ApplicationStatus,
    SubmissionOutcome,
)
from services.enrollment.handlers import applications, members, unions, views
from services.enrollment.handlers.common import Deps
from shared.http import AppDeps, CallerDep
from shared.inputs import Limit, StrictRoute
from shared.openapi import problems

router = APIRouter(route_class=StrictRoute)

DepsDep = Annotated[Deps, AppDeps]


@router.post("/unions", status_code=status.HTTP_201_CREATED, tags=["unions"], responses=problems(403, 404))
async def register_union(body: RegisterUnionIn, deps: DepsDep, caller: CallerDep) -> UnionOut:
    cmd = unions.RegisterUnion(name=body.name, kind=body.kind, parent_id=body.parent_id, region=body.region)
    return UnionOut.model_validate(await unions.register_union(deps, caller, cmd))


@router.get("/unions/{union_id}/subtree", tags=["unions"], responses=problems(403, 404))
async def union_subtree(union_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> list[UnionOut]:
    return [UnionOut.model_validate(u) for u in await views.union_subtree(deps, caller, union_id)]


@router.post(
    "/applications",
    status_code=status.HTTP_201_CREATED,
    tags=["applications"],
    responses={
        **problems(403, 404, 409),
        200: {"description": "already a member, or the same application is pending"},
    },
)
async def submit_application(
    body: ApplicationIn, deps: DepsDep, caller: CallerDep, response: Response
) -> SubmissionOut:
    form = ApplicationForm(**body.model_dump())
    result = await applications.submit_application(deps, caller, form)
    if result.outcome is not SubmissionOutcome.NEW:
        response.status_code = status.HTTP_200_OK
    return SubmissionOut(
        outcome=result.outcome,
        application=ApplicationOut.of(result.application) if result.application else None,
        member=MemberOut.of(result.member) if result.member else None,
    )


@router.get("/applications", tags=["applications"], responses=problems(403, 404))
async def list_applications(
    deps: DepsDep,
    caller: CallerDep,
    union_id: uuid.UUID,
    status_filter: Annotated[ApplicationStatus | None, Query(alias="status")] = None,
    limit: Limit = 100,
) -> list[ApplicationOut]:
    rows = await views.list_applications(deps, caller, union_id, status_filter, limit)
    return [ApplicationOut.of(a) for a in rows]


@router.post(
    "/applications/{application_id}/approve", tags=["applications"], responses=problems(403, 404, 409)
)
async def approve_application(application_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> MemberOut:
    return MemberOut.of(await applications.approve_application(deps, caller, application_id))


@router.post(
    "/applications/{application_id}/reject", tags=["applications"], responses=problems(403, 404, 409)
)
async def reject_application(
    application_id: uuid.UUID, body: RejectIn, deps: DepsDep, caller: CallerDep
) -> ApplicationOut:
    return ApplicationOut.of(await applications.reject_application(deps, caller, application_id, body.reason))


@router.get("/members/{member_id}", tags=["members"], responses=problems(403, 404))
async def get_member(member_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> MemberOut:
    return MemberOut.of(await views.get_member(deps, caller, member_id))


@router.post("/members/{member_id}/transfer", tags=["members"], responses=problems(403, 404, 409))
async def transfer_member(
    member_id: uuid.UUID, body: TransferIn, deps: DepsDep, caller: CallerDep
) -> MemberOut:
    return MemberOut.of(await members.transfer_member(deps, caller, member_id, body.to_union_id, body.reason))


@router.post("/members/{member_id}/leave", tags=["members"], responses=problems(403, 404, 409))
async def leave_member(member_id: uuid.UUID, body: LeaveIn, deps: DepsDep, caller: CallerDep) -> MemberOut:
    return MemberOut.of(await members.leave_member(deps, caller, member_id, body.reason))


@router.post("/members/{member_id}/reinstate", tags=["members"], responses=problems(403, 404, 409))
async def reinstate_member(
    member_id: uuid.UUID, body: ReinstateIn, deps: DepsDep, caller: CallerDep
) -> MemberOut:
    return MemberOut.of(await members.reinstate_member(deps, caller, member_id, body.union_id))
