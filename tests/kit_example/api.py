"""The greeter's HTTP API (thin)."""

import uuid
from typing import Annotated

from fastapi import APIRouter

from shared.http import AppDeps, CallerDep
from shared.inputs import StrictRoute
from shared.openapi import problems
from tests.kit_example.handlers import Deps, WelcomeOut, view_welcome

router = APIRouter(route_class=StrictRoute)
DepsDep = Annotated[Deps, AppDeps]


@router.get("/welcomes/{member_id}", tags=["welcomes"], responses=problems(403, 404))
async def get_welcome(member_id: uuid.UUID, deps: DepsDep, caller: CallerDep) -> WelcomeOut:
    return await view_welcome(deps, caller, member_id)
