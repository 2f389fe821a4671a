"""`POST /api/web/card-code` and `/api/web/vouchers`: the partners service issues the code (its
key, its single-use state); the web service only adds the QR picture of it."""

import base64
import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.web.adapters.upstreams import UpstreamAway
from services.web.api.common import Deps, away
from services.web.domain.forwarding import forward_headers
from services.web.domain.qr import qr_svg
from shared.errors import problem
from shared.http import correlation_id_of, deps_of
from shared.inputs import StrictRoute

router = APIRouter(route_class=StrictRoute)


class VoucherIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    offer_key: Annotated[str, Field(min_length=3, max_length=100)]


def member_of_token(authorization: str) -> uuid.UUID | None:
    """The member id a bearer token names, read without checking it: only to build the partners
    URL. Partners verifies the token and refuses a member id that is not the caller's own."""
    scheme, _, token = authorization.partition(" ")
    parts = token.split(".")
    if scheme.lower() != "bearer" or len(parts) != 3:
        return None
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims: Any = json.loads(base64.urlsafe_b64decode(padded))
        return uuid.UUID(str(claims["member_id"]))
    except (ValueError, KeyError, TypeError):
        return None


async def _issue(request: Request, what: str, body: bytes | None) -> Response:
    authorization = request.headers.get("authorization", "")
    if not authorization:
        return problem(request, 401, "请先登录")
    member_id = member_of_token(authorization)
    if member_id is None:
        return problem(request, 403, "请先完成实名认证并入会")
    client = request.client.host if request.client else None
    headers = forward_headers(request.headers.items(), client, correlation_id_of(request))
    try:
        answer = await deps_of(request, Deps).upstreams.request(
            "partners", "POST", f"/members/{member_id}/{what}", headers=headers, content=body
        )
    except UpstreamAway:
        return away(request)
    if answer.status_code != 201:
        # The refusal as partners gave it (its detail is what the page shows).
        passed = Response(content=answer.content, status_code=answer.status_code)
        for name in ("content-type", "retry-after"):
            if name in answer.headers:
                passed.headers[name] = answer.headers[name]
        return passed
    issued = answer.json()
    return JSONResponse(
        {"code": issued["code"], "expires_at": issued["expires_at"], "svg": qr_svg(issued["code"])},
        status_code=201,
        headers={"Cache-Control": "no-store"},
    )


@router.post("/api/web/card-code", tags=["web"])
async def card_code(request: Request) -> Response:
    """The member's card code (valid 60 s) with its QR as SVG: `{code, expires_at, svg}`."""
    return await _issue(request, "card-codes", None)


@router.post("/api/web/vouchers", tags=["web"])
async def voucher(body: VoucherIn, request: Request) -> Response:
    """A one-offer voucher (valid 10 min), opened on purpose, with its QR: `{code, expires_at, svg}`."""
    payload = json.dumps({"offer_key": body.offer_key}).encode()
    return await _issue(request, "vouchers", payload)
