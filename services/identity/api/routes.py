"""The identity service's HTTP API: thin, each route parses, calls a handler, answers."""

from typing import Annotated, Any

from fastapi import APIRouter

from services.identity.handlers.common import Deps
from shared.http import AppDeps
from shared.inputs import StrictRoute

router = APIRouter(route_class=StrictRoute)
DepsDep = Annotated[Deps, AppDeps]


@router.get("/.well-known/jwks.json", tags=["tokens"])
async def jwks(deps: DepsDep) -> dict[str, Any]:
    """The public keys that verify access tokens: the signing one, one about to sign, and the
    retired ones whose tokens may still be alive. Public keys only."""
    return await deps.keys.jwks()
