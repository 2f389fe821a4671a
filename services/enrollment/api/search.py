"""HTTP route of the member search (cadres, within their subtree)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from services.enrollment.domain.search import QUERY_MAX, STATUS_LABELS
from services.enrollment.handlers import search
from services.enrollment.handlers.common import Deps
from services.enrollment.store.search import FoundMember
from shared.contracts.enrollment import MembershipStatus
from shared.http import AppDeps, CallerDep
from shared.inputs import Limit, StrictRoute
from shared.openapi import problems

router = APIRouter(route_class=StrictRoute, tags=["members"])

DepsDep = Annotated[Deps, AppDeps]


class FoundMemberOut(BaseModel):
    """A member as the search shows them to a cadre in scope: the name, never the ID in clear."""

    model_config = ConfigDict(from_attributes=True)

    member_id: uuid.UUID
    name: str
    national_id_masked: str
    card_number: str
    membership_number: str
    base_union_id: uuid.UUID
    base_union_name: str
    status: MembershipStatus
    status_label: str

    @classmethod
    def of(cls, m: FoundMember) -> "FoundMemberOut":
        return cls.model_validate({**m.__dict__, "status_label": STATUS_LABELS[m.status]})


class FoundMembersOut(BaseModel):
    items: list[FoundMemberOut]
    next: None = Field(default=None, description="always null: a search is one page, refine the words")


@router.get("/members/search", responses=problems(403, 404))
async def search_members(
    deps: DepsDep,
    caller: CallerDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=QUERY_MAX,
            description="a name's beginning, a card or membership number, the ID's last 4 characters "
            "or the masked ID as shown (110101********123X)",
        ),
    ],
    union_id: Annotated[
        uuid.UUID | None, Query(description="whose subtree; default: the cadre's own union")
    ] = None,
    limit: Limit = 20,
) -> FoundMembersOut:
    rows = await search.search_members(deps, caller, q, union_id, limit)
    return FoundMembersOut(items=[FoundMemberOut.of(m) for m in rows])
