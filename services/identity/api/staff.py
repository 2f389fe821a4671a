"""Staff accounts over HTTP: thin; each route parses, calls a handler in handlers/staff.py,
answers. Staff sign in at POST /staff/sessions; the signed-in staff member's own settings are
under /me (second factor, password)."""

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from services.identity.api.auth import IdentityCaller
from services.identity.api.routes import web_answer
from services.identity.api.schemas import WebTokenOut
from services.identity.domain.passwords import MAX_LENGTH as PASSWORD_MAX
from services.identity.domain.sessions import TokenPair
from services.identity.handlers import staff
from services.identity.handlers.common import Deps
from services.identity.handlers.staff import AccountView, BindingRequest
from shared.contracts.identity import AccountRole
from shared.http import AppDeps, correlation_id_of
from shared.inputs import Limit, StrictRoute
from shared.openapi import problems

router = APIRouter(route_class=StrictRoute)
DepsDep = Annotated[Deps, AppDeps]

Password = Annotated[str, Field(min_length=1, max_length=PASSWORD_MAX)]


# Schemas ------------------------------------------------------------------------------------------


class NewAccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(
        min_length=3, max_length=64, description="3..64 of a-z 0-9 . _ @ - (case-insensitive)"
    )
    display_name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=PASSWORD_MAX, description="at least 12 characters")


class AccountCreatedOut(BaseModel):
    account_id: uuid.UUID


class BindingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    binding_id: uuid.UUID
    role: AccountRole
    union_id: uuid.UUID | None
    partner_id: str | None
    counsel_id: uuid.UUID | None
    granted_by: str
    granted_at: datetime
    revoked_by: str | None
    revoked_at: datetime | None


class AccountOut(BaseModel):
    """A staff account as its managers see it: never a password hash or a TOTP secret."""

    account_id: uuid.UUID
    username: str
    display_name: str
    status: str = Field(description="active | disabled")
    scope_union_id: uuid.UUID | None = Field(
        description="set for a cadre-made account: its bindings stay inside this union's subtree"
    )
    created_by: str
    created_at: datetime
    totp_enabled: bool
    bindings: list[BindingOut]

    @classmethod
    def of(cls, view: AccountView) -> "AccountOut":
        a = view.account
        return cls(
            account_id=a.account_id, username=a.username, display_name=a.display_name, status=a.status,
            scope_union_id=a.scope_union_id, created_by=a.created_by, created_at=a.created_at,
            totp_enabled=a.totp_secret is not None,
            bindings=[BindingOut.model_validate(b) for b in view.bindings],
        )  # fmt: skip


class BindingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: AccountRole
    union_id: uuid.UUID | None = Field(default=None, description="cadre, counsel: the union")
    partner_id: str | None = Field(default=None, min_length=1, max_length=100, description="partner_staff")
    counsel_id: uuid.UUID | None = Field(default=None, description="counsel: legal's counsel id")


class BindingCreatedOut(BaseModel):
    binding_id: uuid.UUID


class RevokedOut(BaseModel):
    binding_id: uuid.UUID
    revoked_at: datetime
    sessions_revoked: int


class DisabledOut(BaseModel):
    account_id: uuid.UUID
    sessions_revoked: int


class SignInIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=PASSWORD_MAX)
    totp_code: str | None = Field(default=None, min_length=1, max_length=10, description="once TOTP is on")
    binding_id: uuid.UUID | None = Field(default=None, description="the role to act in, if several")


class TotpOut(BaseModel):
    secret: str = Field(description="base32, for an authenticator app; shown once")
    otpauth_uri: str


class TotpConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=10)


class PasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: Password
    new_password: Password


# Accounts -----------------------------------------------------------------------------------------


@router.post(
    "/staff/accounts", status_code=status.HTTP_201_CREATED, tags=["staff"], responses=problems(403, 409)
)
async def create_account(body: NewAccountIn, deps: DepsDep, caller: IdentityCaller) -> AccountCreatedOut:
    """A staff account, by an admin, or by a cadre (then it stays inside the cadre's subtree).
    It can sign in once it has a role binding."""
    account_id = await staff.create_account(deps, caller, body.username, body.display_name, body.password)
    return AccountCreatedOut(account_id=account_id)


@router.get("/staff/accounts", tags=["staff"], responses=problems(403, 404))
async def list_accounts(
    deps: DepsDep,
    caller: IdentityCaller,
    after: Annotated[uuid.UUID | None, Query(description="the last account_id of the previous page")] = None,
    limit: Limit = 100,
) -> list[AccountOut]:
    """Admin: every staff account; cadre: the accounts kept inside their subtree."""
    views = await staff.list_accounts(deps, caller, after, limit)
    return [AccountOut.of(v) for v in views]


@router.get("/staff/accounts/{account_id}", tags=["staff"], responses=problems(403, 404))
async def get_account(account_id: uuid.UUID, deps: DepsDep, caller: IdentityCaller) -> AccountOut:
    return AccountOut.of(await staff.get_account(deps, caller, account_id))


@router.post("/staff/accounts/{account_id}/disable", tags=["staff"], responses=problems(403, 404, 409))
async def disable_account(account_id: uuid.UUID, deps: DepsDep, caller: IdentityCaller) -> DisabledOut:
    """Every token of the account stops working (identity.AccountDisabled, sessions revoked)."""
    ended = await staff.disable_account(deps, caller, account_id)
    return DisabledOut(account_id=account_id, sessions_revoked=ended)


# Bindings -----------------------------------------------------------------------------------------


@router.post(
    "/staff/accounts/{account_id}/bindings",
    status_code=status.HTTP_201_CREATED,
    tags=["staff"],
    responses=problems(403, 404, 409),
)
async def grant_binding(
    account_id: uuid.UUID, body: BindingIn, deps: DepsDep, caller: IdentityCaller
) -> BindingCreatedOut:
    """A role binding (identity.RoleBindingGranted). Admin: any; cadre: cadre or counsel of a
    union in their own subtree."""
    wanted = BindingRequest(body.role, body.union_id, body.partner_id, body.counsel_id)
    binding_id = await staff.grant_binding(deps, caller, account_id, wanted)
    return BindingCreatedOut(binding_id=binding_id)


@router.post(
    "/staff/accounts/{account_id}/bindings/{binding_id}/revoke",
    tags=["staff"],
    responses=problems(403, 404, 409),
)
async def revoke_binding(
    account_id: uuid.UUID, binding_id: uuid.UUID, deps: DepsDep, caller: IdentityCaller
) -> RevokedOut:
    """The binding ends (identity.RoleBindingRevoked) and so do the sessions opened with it:
    every service refuses their tokens within seconds, and their refresh fails."""
    revoked = await staff.revoke_binding(deps, caller, account_id, binding_id)
    return RevokedOut(
        binding_id=binding_id, revoked_at=revoked.revoked_at, sessions_revoked=revoked.sessions_revoked
    )


# Sign-in ------------------------------------------------------------------------------------------


@router.post(
    "/staff/sessions",
    tags=["staff", "sessions"],
    responses={
        **problems(403),
        401: {"description": "wrong username or password (the same either way), or the TOTP code"},
        429: {"description": "locked out for a while: see Retry-After"},
    },
)
async def sign_in(body: SignInIn, request: Request, deps: DepsDep) -> TokenPair:
    """Sign in with username and password (and totp_code once TOTP is on). An account with
    several role bindings names one (binding_id); without it the 422 lists them."""
    return await staff.sign_in(deps, _attempt(body, request))


@router.post(
    "/web/staff-sessions",
    tags=["staff", "browser"],
    responses={
        **problems(403),
        401: {"description": "wrong username or password (the same either way), or the TOTP code"},
        429: {"description": "locked out for a while: see Retry-After"},
    },
)
async def web_sign_in(body: SignInIn, request: Request, response: Response, deps: DepsDep) -> WebTokenOut:
    """Sign in a staff member's web page (e.g. a till): the checks of /staff/sessions, the answer
    and cookies of /web/sessions; /web/token and /web/sign-out then serve it."""
    pair = await staff.sign_in(deps, _attempt(body, request))
    return web_answer(deps, pair, response)


def _attempt(body: SignInIn, request: Request) -> staff.SignIn:
    return staff.SignIn(
        username=body.username, password=body.password, totp_code=body.totp_code,
        binding_id=body.binding_id, address=request.client.host if request.client else "unknown",
        correlation_id=correlation_id_of(request),
    )  # fmt: skip


# The signed-in staff member's own account ---------------------------------------------------------


@router.post("/me/totp", tags=["staff"], responses=problems(403, 409))
async def begin_totp(deps: DepsDep, caller: IdentityCaller) -> TotpOut:
    """A TOTP secret for an authenticator app; confirmed by POST /me/totp/confirm."""
    enrollment = await staff.begin_totp(deps, caller)
    return TotpOut(secret=enrollment.secret, otpauth_uri=enrollment.otpauth_uri)


@router.post(
    "/me/totp/confirm", status_code=status.HTTP_204_NO_CONTENT, tags=["staff"], responses=problems(403, 409)
)
async def confirm_totp(body: TotpConfirmIn, deps: DepsDep, caller: IdentityCaller) -> Response:
    """A right code turns the second factor on: from then sign-in needs totp_code."""
    await staff.confirm_totp(deps, caller, body.code)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["staff"],
    responses={**problems(403), 429: {"description": "locked out for a while: see Retry-After"}},
)
async def change_password(body: PasswordIn, deps: DepsDep, caller: IdentityCaller) -> Response:
    """Change the password, knowing the current one; every session of the account ends (sign in
    again with the new one)."""
    await staff.change_password(deps, caller, body.current_password, body.new_password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
