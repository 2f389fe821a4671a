"""Who speaks for a partner on the partner API: its system, with its API key
(`Authorization: Bearer zjp_...`), or a person of its staff signed in through the identity
service (a `partner_staff` access token naming the partner): a till's browser holds a
short-lived token of its own, revocable within seconds, never the partner's API key."""

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.partners.domain import keys
from services.partners.handlers import views
from services.partners.handlers.common import Deps
from services.partners.store.partners import PartnerRow
from shared.auth import Role, current_principal
from shared.errors import Forbidden
from shared.http import AppDeps

_bearer = HTTPBearer(auto_error=False, scheme_name="partner API key or partner staff token")
_WANTED = "a partner API key (Bearer zjp_<partner>_<secret>) or a partner staff token is required"


def _unauthorized(detail: str) -> HTTPException:
    # No DomainError says 401: it goes with its WWW-Authenticate challenge (as problem details).
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"})


async def current_partner(
    request: Request,
    deps: Annotated[Deps, AppDeps],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> PartnerRow:
    if credentials is None:
        raise _unauthorized(_WANTED)
    if keys.partner_of(credentials.credentials) is not None:
        partner = await views.partner_by_key(deps, credentials.credentials)
        if partner is None:
            raise _unauthorized("unknown or revoked API key")
    else:
        partner = await _staff_partner(request, deps, credentials)
    if partner.status != "active":
        raise Forbidden(f"partner {partner.partner_id!r} is suspended")
    return partner


async def _staff_partner(
    request: Request, deps: Deps, credentials: HTTPAuthorizationCredentials
) -> PartnerRow:
    try:
        principal = await current_principal(request, credentials)
    except HTTPException as refused:
        raise _unauthorized(f"{refused.detail}: {_WANTED}") from refused
    if principal.role is not Role.PARTNER_STAFF or principal.partner_id is None:
        raise Forbidden("the partner API is for a partner's system or its staff (role partner_staff)")
    partner = await views.own_partner(deps, principal.partner_id)
    if partner is None:
        raise Forbidden(f"partner {principal.partner_id!r} is not registered")
    return partner


CurrentPartner = Annotated[PartnerRow, Depends(current_partner)]
