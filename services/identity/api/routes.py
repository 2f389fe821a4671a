"""The identity service's HTTP API: thin, each route parses, calls a handler, answers.

Members sign in by phone and one-time code (APIs: a bearer token pair; web pages: an HttpOnly
refresh cookie plus a CSRF cookie), verify their real name, and read their account. Cadres
settle real-name disputes; admins rotate the signing keys."""

import uuid
from typing import Annotated, Any

import jwt
from fastapi import APIRouter, Header, Query, Request, Response, status

from services.identity.api.auth import IdentityCaller
from services.identity.api.schemas import (
    AccountOut,
    CodeIn,
    CodeSentOut,
    DisputeOut,
    KeyOut,
    KeysOut,
    RealNameIn,
    RealNameOut,
    RefreshIn,
    SettleIn,
    SignInIn,
    WebTokenOut,
)
from services.identity.domain.keys import published_keys
from services.identity.domain.realname import DisputeStatus
from services.identity.domain.sessions import TokenPair, csrf_token
from services.identity.handlers import codes, disputes, realname, sessions, views
from services.identity.handlers.common import Deps, Unauthorized, anonymous
from services.identity.handlers.keys import rotate_keys
from shared.auth import Caller, Role
from shared.errors import Forbidden
from shared.events import Trace
from shared.http import AppDeps, correlation_id_of
from shared.inputs import Limit, StrictRoute
from shared.openapi import problems

router = APIRouter(route_class=StrictRoute)
DepsDep = Annotated[Deps, AppDeps]

# Browser cookies: `__Host-` (Secure, Path=/, no Domain: only this origin sets or reads them).
REFRESH_COOKIE = "__Host-zhijia-refresh"
CSRF_COOKIE = "__Host-zhijia-csrf"
CSRF_HEADER = "X-CSRF-Token"

StatusQuery = Annotated[DisputeStatus | None, Query(alias="status")]
CsrfHeader = Annotated[str | None, Header(alias=CSRF_HEADER, max_length=100)]


def _cookie(request: Request, name: str) -> str | None:
    """One of our own cookies, read by hand: a Cookie header is split at ';' whatever a value
    holds, so cookies declared as parameters cannot keep the schema they would document. Ours
    are short and URL-safe; anything else is no cookie of ours."""
    value = request.cookies.get(name)
    return value if value and len(value) <= 200 and value.isascii() and value.isprintable() else None


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# --- tokens ------------------------------------------------------------------------------------


@router.get("/.well-known/jwks.json", tags=["tokens"])
async def jwks(deps: DepsDep, response: Response) -> dict[str, Any]:
    """The public keys that verify access tokens: the signing one, one about to sign, and the
    retired ones whose tokens may still be alive. Public keys only."""
    response.headers["Cache-Control"] = "public, max-age=30"
    return await deps.keys.jwks()


def _require_admin(caller: Caller) -> None:
    if caller.principal.role is not Role.ADMIN:
        raise Forbidden("只有管理员可以管理签名密钥")


async def _keys_out(deps: Deps, rotated: KeyOut | None = None) -> KeysOut:
    await deps.keys.reload()
    schedule = deps.keys.schedule()
    shown = published_keys(schedule, deps.now())
    return KeysOut(
        rotated=rotated,
        keys=[KeyOut.model_validate(k) for k in schedule],
        published=[k.key_id for k in shown],
    )


@router.get("/admin/keys", tags=["tokens"], responses=problems(403))
async def key_schedule(deps: DepsDep, caller: IdentityCaller) -> KeysOut:
    """Every signing key with when it signs; which are published now."""
    _require_admin(caller)
    return await _keys_out(deps)


@router.post(
    "/admin/keys/rotate", status_code=status.HTTP_202_ACCEPTED, tags=["tokens"], responses=problems(403)
)
async def rotate(deps: DepsDep, caller: IdentityCaller) -> KeysOut:
    """A new signing key: published now, signing after the publish lead; the old one stays
    published until its last token has expired. No request fails during the rotation."""
    _require_admin(caller)
    made = await rotate_keys(deps.keys, deps.pool, deps.lifetimes.key_publish_lead, Trace.of(caller))
    return await _keys_out(deps, KeyOut.model_validate(made))


# --- sign-in by phone and code -------------------------------------------------------------------


@router.post("/codes", status_code=status.HTTP_202_ACCEPTED, tags=["sign-in"], responses=problems(429))
async def send_code(body: CodeIn, request: Request, deps: DepsDep) -> CodeSentOut:
    """A one-time code to the number: the same answer whether or not it has an account."""
    trace = anonymous(body.phone, correlation_id_of(request))
    await codes.send_code(
        deps, phone=body.phone, purpose=body.purpose, address=_address(request), trace=trace
    )
    return CodeSentOut()


@router.post("/sessions", tags=["sign-in"], responses=problems(401, 403, 429))
async def sign_in(body: SignInIn, request: Request, deps: DepsDep) -> TokenPair:
    """Sign in with the code; the first success creates the member account."""
    trace = anonymous(body.phone, correlation_id_of(request))
    return await codes.sign_in_with_code(
        deps, phone=body.phone, code=body.code, address=_address(request), trace=trace
    )


@router.post("/sessions/refresh", tags=["sign-in"], responses=problems(401))
async def refresh(body: RefreshIn, request: Request, deps: DepsDep) -> TokenPair:
    """A new pair; the refresh token is used up. A reused one ends its whole session."""
    trace = Trace("refresh", correlation_id_of(request))
    return await sessions.refresh(deps, refresh_token=body.refresh_token, trace=trace)


@router.post("/sessions/sign-out", status_code=status.HTTP_204_NO_CONTENT, tags=["sign-in"])
async def sign_out(deps: DepsDep, caller: IdentityCaller) -> Response:
    await sessions.sign_out(deps, session_id=caller.principal.sid, trace=Trace.of(caller))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- browser sessions ----------------------------------------------------------------------------


def _session_id(pair: TokenPair) -> uuid.UUID:
    # Our own token, just signed: its sid names the session.
    claims = jwt.decode(pair.access_token, options={"verify_signature": False})
    return uuid.UUID(claims["sid"])


def web_answer(deps: Deps, pair: TokenPair, response: Response) -> WebTokenOut:
    """A web page's answer to a sign-in (a member's or a staff member's) or a renewal."""
    seconds = pair.refresh_expires_in
    response.set_cookie(
        REFRESH_COOKIE, pair.refresh_token, max_age=seconds, path="/", secure=True, httponly=True,
        samesite="strict",
    )  # fmt: skip
    csrf = csrf_token(deps.csrf_key, _session_id(pair))
    response.set_cookie(CSRF_COOKIE, csrf, max_age=seconds, path="/", secure=True, samesite="strict")
    response.headers["Cache-Control"] = "no-store"
    return WebTokenOut(access_token=pair.access_token, expires_in=pair.expires_in, account_id=pair.account_id)


def _csrf(header: str | None, cookie: str | None) -> tuple[str, str]:
    if not header or not cookie:
        raise Forbidden("缺少 CSRF 校验信息，请刷新页面后重试")
    return header, cookie


def _clear_cookies(response: Response) -> None:
    for name in (REFRESH_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path="/", secure=True, samesite="strict")


@router.post("/web/sessions", tags=["browser"], responses=problems(401, 403, 429))
async def web_sign_in(body: SignInIn, request: Request, response: Response, deps: DepsDep) -> WebTokenOut:
    """Sign in a web page: the refresh token goes into an HttpOnly cookie, the CSRF token into a
    cookie the page reads and sends back as X-CSRF-Token."""
    trace = anonymous(body.phone, correlation_id_of(request))
    pair = await codes.sign_in_with_code(
        deps, phone=body.phone, code=body.code, address=_address(request), trace=trace
    )
    return web_answer(deps, pair, response)


@router.post("/web/token", tags=["browser"], responses=problems(401, 403))
async def web_token(
    request: Request, response: Response, deps: DepsDep, csrf_header: CsrfHeader = None
) -> WebTokenOut:
    """A short access token for the page's API calls, with the cookies `__Host-zhijia-refresh`
    and `__Host-zhijia-csrf` and the header X-CSRF-Token equal to the latter; the refresh cookie
    is rotated."""
    refresh_cookie = _cookie(request, REFRESH_COOKIE)
    csrf = _csrf(csrf_header, _cookie(request, CSRF_COOKIE))
    if not refresh_cookie:
        raise Unauthorized(sessions.SESSION_ENDED)
    trace = Trace("web", correlation_id_of(request))
    pair = await sessions.refresh(deps, refresh_token=refresh_cookie, trace=trace, csrf=csrf)
    return web_answer(deps, pair, response)


@router.post(
    "/web/sign-out", status_code=status.HTTP_204_NO_CONTENT, tags=["browser"], responses=problems(403)
)
async def web_sign_out(request: Request, deps: DepsDep, csrf_header: CsrfHeader = None) -> Response:
    """Sign a web page out (the cookies and X-CSRF-Token as for /web/token); the cookies are cleared."""
    refresh_cookie = _cookie(request, REFRESH_COOKIE)
    csrf = _csrf(csrf_header, _cookie(request, CSRF_COOKIE))
    if refresh_cookie:
        trace = Trace("web", correlation_id_of(request))
        await sessions.web_sign_out(deps, refresh_token=refresh_cookie, csrf=csrf, trace=trace)
    answer = Response(status_code=status.HTTP_204_NO_CONTENT)
    _clear_cookies(answer)
    return answer


# --- the account ---------------------------------------------------------------------------------


def _account_id(caller: Caller) -> uuid.UUID:
    try:
        return uuid.UUID(caller.principal.sub)
    except ValueError as exc:
        raise Forbidden("此令牌不属于任何账号") from exc


@router.get("/me", tags=["account"], responses=problems(403, 404))
async def me(deps: DepsDep, caller: IdentityCaller) -> AccountOut:
    return AccountOut.model_validate(await views.my_account(deps, _account_id(caller)))


@router.post("/me/real-name", tags=["account"], responses=problems(403, 404, 409, 429))
async def verify_real_name(body: RealNameIn, deps: DepsDep, caller: IdentityCaller) -> RealNameOut:
    """Verify name and ID number with the provider, then link the person in enrollment. The ID
    number is passed on, never kept. Refresh afterwards: the new token carries member_id."""
    if caller.principal.role is not Role.MEMBER:
        raise Forbidden("只有会员账号可以实名认证")
    done = await realname.verify_real_name(
        deps, account_id=_account_id(caller), name=body.name, national_id=body.national_id,
        trace=Trace.of(caller),
    )  # fmt: skip
    return RealNameOut.model_validate(done)


# --- disputes ------------------------------------------------------------------------------------


@router.get("/disputes", tags=["disputes"], responses=problems(403))
async def list_disputes(
    deps: DepsDep, caller: IdentityCaller, status_: StatusQuery = None, limit: Limit = 100
) -> list[DisputeOut]:
    """A cadre's: the disputes over persons in their union's subtree; an admin's: all."""
    found = await disputes.list_disputes(deps, caller, status=status_, limit=limit)
    return [DisputeOut.model_validate(d) for d in found]


@router.post("/disputes/{dispute_id}/settle", tags=["disputes"], responses=problems(403, 404, 409))
async def settle(dispute_id: uuid.UUID, body: SettleIn, deps: DepsDep, caller: IdentityCaller) -> DisputeOut:
    settled = await disputes.settle_dispute(
        deps, caller, dispute_id, decision=body.decision, reason=body.reason
    )
    return DisputeOut.model_validate(settled)
