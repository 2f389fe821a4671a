"""HTTP routes of the competitions work queue (工作待办)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from services.competitions.handlers import queues
from services.competitions.handlers.common import Deps
from shared.http import AppDeps, CallerDep
from shared.inputs import After, Limit, StrictRoute
from shared.openapi import problems
from shared.queues import QueuePage, page

router = APIRouter(prefix="/queues", tags=["work queues"], route_class=StrictRoute)

DepsDep = Annotated[Deps, AppDeps]
UnionQuery = Annotated[uuid.UUID | None, Query(description="default: the cadre's own union")]


@router.get("/spread", responses=problems(403, 404))
async def spread(
    deps: DepsDep, caller: CallerDep, union_id: UnionQuery = None, after: After = 0, limit: Limit = 100
) -> QueuePage:
    """Entries flagged for a wide spread between judges' scores, awaiting the chief judge's review:
    actionable for the stage's chief judge, shown to the organisers."""
    return page(await queues.spread(deps, caller, union_id), after, limit)
