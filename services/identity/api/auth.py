"""Who calls identity's own routes: the kit verifies the token (identity's own signing keys are
among the keys it trusts, read from the keys table), and identity refuses a token whose session
has ended at once (its own table, no event needed)."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.identity.handlers.common import Deps, Unauthorized
from services.identity.handlers.sessions import SESSION_ENDED, session_is_live
from shared.auth import Caller, current_principal
from shared.http import correlation_id_of, deps_of

_bearer = HTTPBearer(auto_error=False)


async def _identity_caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("missing bearer token")
    deps = deps_of(request, Deps)
    principal = await current_principal(request, credentials)
    if principal.sid is not None and not await session_is_live(deps, principal.sid):
        raise Unauthorized(SESSION_ENDED)
    return Caller(principal, correlation_id_of(request), credentials=f"Bearer {credentials.credentials}")


IdentityCaller = Annotated[Caller, Depends(_identity_caller)]
