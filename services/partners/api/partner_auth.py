"""Authenticating a partner by its API key (the HTTP ingress): `Authorization: Bearer zjp_...`."""

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.partners.domain import keys
from services.partners.handlers.common import Deps
from services.partners.store import partners as q
from services.partners.store.partners import PartnerRow

_bearer = HTTPBearer(auto_error=False, scheme_name="partner API key")


async def current_partner(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> PartnerRow:
    if credentials is None or keys.partner_of(credentials.credentials) is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="a partner API key is required: Authorization: Bearer zjp_<partner>_<secret>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    deps: Deps = request.app.state.deps
    partner = await q.partner_by_key(deps.pool, keys.digest(credentials.credentials))
    if partner is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="unknown or revoked API key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if partner.status != "active":
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"partner {partner.partner_id!r} is suspended")
    return partner


CurrentPartner = Annotated[PartnerRow, Depends(current_partner)]
