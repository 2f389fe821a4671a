"""HTTP routes of the legal work queues (工作待办): what waits for the signed-in cadre."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from services.legal.domain.queues import MAX_DAYS, MIN_DAYS
from services.legal.handlers import queues
from services.legal.handlers.common import Deps
from shared.http import AppDeps, CallerDep
from shared.inputs import After, Limit, StrictRoute
from shared.openapi import problems
from shared.queues import QueuePage, page

router = APIRouter(prefix="/queues", tags=["work queues"], route_class=StrictRoute)

DepsDep = Annotated[Deps, AppDeps]
UnionQuery = Annotated[uuid.UUID | None, Query(description="default: the cadre's own union")]


@router.get("/deadlines", responses=problems(403, 404))
async def deadlines(
    deps: DepsDep,
    caller: CallerDep,
    union_id: UnionQuery = None,
    days: Annotated[int, Query(ge=MIN_DAYS, le=MAX_DAYS)] = 7,
    after: After = 0,
    limit: Limit = 100,
) -> QueuePage:
    """Open disputes whose next statutory deadline falls within `days` days (overdue included)."""
    return page(await queues.deadlines(deps, caller, union_id, days), after, limit)


@router.get("/supervisions", responses=problems(403, 404))
async def supervisions(
    deps: DepsDep, caller: CallerDep, union_id: UnionQuery = None, after: After = 0, limit: Limit = 100
) -> QueuePage:
    """Opinion letters awaiting the employer's reply, with the reply deadline, overdue first."""
    return page(await queues.supervisions(deps, caller, union_id), after, limit)
