"""HTTP routes of the relief work queues (工作待办): what waits for the signed-in cadre."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from services.relief.domain.queues import REVIEW_AHEAD_DAYS
from services.relief.handlers import queues
from services.relief.handlers.common import Deps
from shared.http import AppDeps, CallerDep
from shared.inputs import After, Limit, StrictRoute
from shared.openapi import problems
from shared.queues import QueuePage, page

router = APIRouter(prefix="/queues", tags=["work queues"], route_class=StrictRoute)

DepsDep = Annotated[Deps, AppDeps]
UnionQuery = Annotated[uuid.UUID | None, Query(description="default: the cadre's own union")]


@router.get("/approvals", responses=problems(403, 404))
async def approvals(
    deps: DepsDep, caller: CallerDep, union_id: UnionQuery = None, after: After = 0, limit: Limit = 100
) -> QueuePage:
    """Steps requested and awaiting approval; the requester's own show `can_act: false` (four eyes)."""
    return page(await queues.approvals(deps, caller, union_id), after, limit)


@router.get("/disclosures", responses=problems(403, 404))
async def disclosures(
    deps: DepsDep, caller: CallerDep, union_id: UnionQuery = None, after: After = 0, limit: Limit = 100
) -> QueuePage:
    """Disclosures ending within 3 days (or ended, the plan not yet requested), and objections
    awaiting an answer."""
    return page(await queues.disclosures(deps, caller, union_id), after, limit)


@router.get("/reverifications", responses=problems(403, 404))
async def reverifications(
    deps: DepsDep,
    caller: CallerDep,
    union_id: UnionQuery = None,
    days: Annotated[int, Query(ge=0, le=90, description="also those due within this many days")] = (
        REVIEW_AHEAD_DAYS
    ),
    after: After = 0,
    limit: Limit = 100,
) -> QueuePage:
    """Files in the register due for their yearly re-verification, overdue first."""
    return page(await queues.reverifications(deps, caller, union_id, days), after, limit)


@router.get("/programmes", responses=problems(403, 404))
async def programmes(
    deps: DepsDep, caller: CallerDep, union_id: UnionQuery = None, after: After = 0, limit: Limit = 100
) -> QueuePage:
    """送温暖 lists submitted for approval (the submitter's own show `can_act: false`), 金秋助学
    applications awaiting review (the cadre who filed one: `can_act: false`) and objections to a
    disclosed application awaiting an answer."""
    return page(await queues.programmes(deps, caller, union_id), after, limit)
