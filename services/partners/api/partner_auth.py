"""Authenticating a partner by its API key (the HTTP ingress): `Authorization: Bearer zjp_...`."""

from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.partners.domain import keys
from services.partners.handlers import views
from services.partners.handlers.common import Deps
from services.partners.store.partners import PartnerRow
from shared.errors import Forbidden
from shared.http import AppDeps

_bearer = HTTPBearer(auto_error=False, scheme_name="partner API key")


def _unauthorized(detail: str) -> HTTPException:
    # No DomainError says 401: it goes with its WWW-Authenticate challenge (as problem details).
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"})


async def current_partner(
    deps: Annotated[Deps, AppDeps],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> PartnerRow:
    if credentials is None or keys.partner_of(credentials.credentials) is None:
        raise _unauthorized("a partner API key is required: Authorization: Bearer zjp_<partner>_<secret>")
    partner = await views.partner_by_key(deps, credentials.credentials)
    if partner is None:
        raise _unauthorized("unknown or revoked API key")
    if partner.status != "active":
        raise Forbidden(f"partner {partner.partner_id!r} is suspended")
    return partner


CurrentPartner = Annotated[PartnerRow, Depends(current_partner)]
