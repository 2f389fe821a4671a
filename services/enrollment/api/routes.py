"""HTTP routes of the enrollment service."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from services.enrollment.api.schemas import (
    ApplicationIn,
    ApplicationOut,
    DeclineTransferIn,
    DirectoryUnionOut,
    ErasureIn,
    ExportOut,
    ExportRequestOut,
    LeaveIn,
    LinkTransferIn,
    MemberOut,
    PersonLinkIn,
    PersonLinkOut,
    RegisterUnionIn,
    ReinstateIn,
    RejectIn,
    SubmissionOut,
    SubmissionReceivedOut,
    TransferIn,
    TransferOut,
    UnionOut,
    WithdrawTransferIn,
)
from services.enrollment.domain.applications import (
    ApplicationForm,
    ApplicationStatus,
    SubmissionOutcome,
)
from services.enrollment.domain.transfers import Direction
from services.enrollment.handlers import (
    applications,
    erasure,
    exports,
    links,
    members,
    transfers,
    unions,
    views,
)
from services.enrollment.handlers.common import Deps
from shared.contracts.enrollment import TransferStatus
from shared.http import AppDeps, CallerDep
from shared.inputs import Limit, StrictRoute
from shared.openapi import problems

router = APIRouter(route_class=StrictRoute)

DepsDep = Annotated[Deps, AppDeps]


@router.post(
    "/unions",
    status_code=status.HTTP_201_CREATED,
    tags=["unions"],
    responses={
        **problems(403, 404),
        409: {"description": "a sibling has that name; `existing_union_id` names it"},
    },
)
async def register_union(body: RegisterUnionIn, deps: DepsDep, caller: CallerDep) -> UnionOut:
    cmd = unions.RegisterUnion(name=body.name, kind=body.kind, parent_id=body.parent_id, region=body.region)
    return UnionOut.model_validate(await unions.register_union(deps, caller, cmd))


@router.get("/directory/unions", tags=["unions"])
async def union_directory(
    deps: DepsDep,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=50,
            description="words in the union's name or its parents' (an employer, a street)",
        ),
    ] = None,
    region: Annotated[
        str | None,
        Query(
            pattern=r"^[0-9]{6}$",
            max_length=6,
            description="GB/T 2260 code: 330100 finds every union in Hangzhou",
        ),
    ] = None,
    after: Annotated[uuid.UUID | None, Query(description="the last union_id of the previous page")] = None,
    limit: Limit = 50,
) -> list[DirectoryUnionOut]:
    """The public directory of base unions, for choosing where to apply (我要入会): no sign-in,
    names and regions only, never a member or a count."""
    found = await views.union_directory(deps, q, region, after, limit)
    return [DirectoryUnionOut.model_validate(u) for u in found]


@router.get("/unions/{union_id}/subtree", tags=["unions"], responses=problems(403, 404))
async def union_subtree(union_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> list[UnionOut]:
    return [UnionOut.model_validate(u) for u in await views.union_subtree(deps, caller, union_id)]


@router.post(
    "/applications",
    status_code=status.HTTP_201_CREATED,
    tags=["applications"],
    responses={
        **problems(404),
        403: {
            "description": "a member not verified yet (请先完成实名认证), or a member filing for "
            "somebody else (只能为本人申请入会): a member files for their own linked person only"
        },
        201: {
            "description": "filed (told to an admin, and to a member filing for themself; anyone "
            "else gets the 202)"
        },
        200: {
            "description": "already a member, or the same application is pending: told only to a "
            "caller whose scope covers that union",
            "model": SubmissionOut,
        },
        202: {
            "description": "received: the one answer for every caller who may not see what the "
            "submission found, whether the person is unknown (filed), a member or pending elsewhere",
            "model": SubmissionReceivedOut,
        },
        409: {"description": "an application is pending in another union the caller's scope covers"},
    },
)
async def submit_application(
    body: ApplicationIn, deps: DepsDep, caller: CallerDep, response: Response
) -> SubmissionOut | SubmissionReceivedOut:
    form = ApplicationForm(**body.model_dump())
    result = await applications.submit_application(deps, caller, form)
    if not result.seen:
        response.status_code = status.HTTP_202_ACCEPTED
        return SubmissionReceivedOut()
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
    "/applications/{application_id}/erasure",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["applications"],
    responses={
        **problems(403, 404),
        409: {
            "description": "the applicant became a member, has an application pending, or is erased already"
        },
    },
)
async def erase_applicant(
    application_id: uuid.UUID, body: ErasureIn, deps: DepsDep, caller: CallerDep
) -> Response:
    """Erase the personal data of an applicant who never became a member (删除个人信息): their
    name, ID and contact data in every application of theirs, here and, through PersonErased,
    in every service. The applications stay, nameless, with their decisions."""
    await erasure.erase_applicant(deps, caller, application_id, body.reason)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/applications/{application_id}/reject", tags=["applications"], responses=problems(403, 404, 409)
)
async def reject_application(
    application_id: uuid.UUID, body: RejectIn, deps: DepsDep, caller: CallerDep
) -> ApplicationOut:
    return ApplicationOut.of(await applications.reject_application(deps, caller, application_id, body.reason))


_LINK_REFUSALS: dict[int | str, dict[str, Any]] = {
    **problems(403),
    409: {
        "description": "`code` says why: `details_mismatch` (name or phone differ from the member's "
        "record, or the person is erased: one neutral answer), `claimed_by_another_account` (with "
        "`person_id`, and `union_path` for a member, root .. base union), `account_already_linked` "
        "(the account holds another person)"
    },
}


@router.post(
    "/persons/links",
    status_code=status.HTTP_201_CREATED,
    tags=["persons"],
    responses={
        **_LINK_REFUSALS,
        201: {"description": "linked (`outcome` linked), or a member claimed their membership (claimed)"},
        200: {
            "description": "the account holds this link already (a retry): the same answer",
            "model": PersonLinkOut,
        },
    },
)
async def link_person(
    body: PersonLinkIn, deps: DepsDep, caller: CallerDep, response: Response
) -> PersonLinkOut:
    """Real-name verification (实名认证), for the identity service only: link the account to the
    person the national ID names (created if unknown); an existing member claims their membership
    when name and phone match their record. The answer never carries the ID, name or phone."""
    request = links.LinkRequest(body.account_id, body.name, body.national_id, body.phone)
    result = await links.link_person(deps, caller, request)
    if not result.created:
        response.status_code = status.HTTP_200_OK
    return PersonLinkOut.model_validate(result)


@router.post(
    "/persons/{person_id}/links/transfer",
    tags=["persons"],
    responses={
        **problems(403),
        404: {"description": "from_account_id holds no link to this person"},
        409: {"description": "to_account_id holds another person (`code` account_already_linked)"},
    },
)
async def transfer_link(
    person_id: uuid.UUID, body: LinkTransferIn, deps: DepsDep, caller: CallerDep
) -> PersonLinkOut:
    """A cadre settled a dispute for another account: the link moves there (identity service only).
    A retry once it has moved gets the same answer."""
    result = await links.transfer_link(deps, caller, person_id, body.from_account_id, body.to_account_id)
    return PersonLinkOut.model_validate(result)


@router.get("/members/{member_id}", tags=["members"], responses=problems(403, 404))
async def get_member(member_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> MemberOut:
    return MemberOut.of(await views.get_member(deps, caller, member_id))


@router.post(
    "/members/{member_id}/transfers",
    status_code=status.HTTP_201_CREATED,
    tags=["transfers"],
    responses={
        **problems(403, 404, 409),
        200: {"description": "accepted at once: both unions have the same parent union"},
    },
)
async def request_transfer(
    member_id: uuid.UUID, body: TransferIn, deps: DepsDep, caller: CallerDep, response: Response
) -> TransferOut:
    """Ask for a transfer (接转); it waits for a cadre of the receiving union (待接收)."""
    t = await transfers.request_transfer(deps, caller, member_id, body.to_union_id, body.reason)
    if not t.is_pending:
        response.status_code = status.HTTP_200_OK
    return TransferOut.of(t)


@router.get("/transfers", tags=["transfers"], responses=problems(403, 404))
async def list_transfers(
    deps: DepsDep,
    caller: CallerDep,
    union_id: uuid.UUID,
    direction: Direction = Direction.INCOMING,
    status_filter: Annotated[TransferStatus | None, Query(alias="status")] = None,
    limit: Limit = 100,
) -> list[TransferOut]:
    """A cadre's inbox: requests to (incoming) or from (outgoing) the union or a union below it."""
    rows = await views.list_transfers(deps, caller, union_id, direction, status_filter, limit)
    return [TransferOut.of(t) for t in rows]


@router.post("/transfers/{transfer_id}/accept", tags=["transfers"], responses=problems(403, 404, 409))
async def accept_transfer(transfer_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> TransferOut:
    return TransferOut.of(await transfers.accept_transfer(deps, caller, transfer_id))


@router.post("/transfers/{transfer_id}/decline", tags=["transfers"], responses=problems(403, 404, 409))
async def decline_transfer(
    transfer_id: uuid.UUID, body: DeclineTransferIn, deps: DepsDep, caller: CallerDep
) -> TransferOut:
    return TransferOut.of(await transfers.decline_transfer(deps, caller, transfer_id, body.reason))


@router.post("/transfers/{transfer_id}/withdraw", tags=["transfers"], responses=problems(403, 404, 409))
async def withdraw_transfer(
    transfer_id: uuid.UUID, deps: DepsDep, caller: CallerDep, body: WithdrawTransferIn | None = None
) -> TransferOut:
    """Take a pending request back (the member, or a cadre of the sending union); no body needed."""
    reason = body.reason if body else None
    return TransferOut.of(await transfers.withdraw_transfer(deps, caller, transfer_id, reason))


@router.post("/members/{member_id}/leave", tags=["members"], responses=problems(403, 404, 409))
async def leave_member(member_id: uuid.UUID, body: LeaveIn, deps: DepsDep, caller: CallerDep) -> MemberOut:
    return MemberOut.of(await members.leave_member(deps, caller, member_id, body.reason))


@router.post("/members/{member_id}/reinstate", tags=["members"], responses=problems(403, 404, 409))
async def reinstate_member(
    member_id: uuid.UUID, body: ReinstateIn, deps: DepsDep, caller: CallerDep
) -> MemberOut:
    return MemberOut.of(await members.reinstate_member(deps, caller, member_id, body.union_id))


@router.post(
    "/members/{member_id}/erasure",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["members"],
    responses={
        **problems(403, 404),
        409: {"description": "the member has not left, or has an application pending"},
    },
)
async def erase_member(member_id: uuid.UUID, body: ErasureIn, deps: DepsDep, caller: CallerDep) -> Response:
    """Erase a former member's name, ID and contact data (删除个人信息), here and, through
    PersonErased, in every service; ids, periods, aid paid and decisions stay. Then the member
    is not found."""
    await erasure.erase_member(deps, caller, member_id, body.reason)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/members/{member_id}/export-requests",
    status_code=status.HTTP_201_CREATED,
    tags=["members"],
    responses=problems(403, 404),
)
async def request_export(member_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> ExportRequestOut:
    """The member asks for a copy of their data (个人信息查阅复制); a cadre in scope approves it."""
    return ExportRequestOut.model_validate(await exports.request_export(deps, caller, member_id))


@router.post("/export-requests/{request_id}/approve", tags=["members"], responses=problems(403, 404, 409))
async def approve_export(request_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> ExportRequestOut:
    return ExportRequestOut.model_validate(await exports.approve_export(deps, caller, request_id))


@router.get(
    "/export-requests/{request_id}/export",
    tags=["members"],
    responses={**problems(403, 404), 409: {"description": "not approved yet"}},
)
async def read_export(request_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> ExportOut:
    """The approved export, for the member who asked (each reading is audited)."""
    return ExportOut.of(await exports.read_export(deps, caller, request_id))
