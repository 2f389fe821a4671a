"""Staff accounts: create and read them, grant and revoke role bindings (events every service's
kit follows), disable an account, sign in with a password (and a TOTP code once turned on),
turn on the second factor, change the password. One transaction per use case; a question to
enrollment (is this union in that subtree?) is asked before the transaction, never inside."""

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg
import httpx
from pydantic import BaseModel, ValidationError

from services.identity.domain import limits
from services.identity.domain.passwords import (
    check_new_password,
    hash_password,
    needs_rehash,
    verify_password,
)
from services.identity.domain.sessions import TokenPair
from services.identity.domain.staff import (
    PASSWORD_FAILURES_PER_ADDRESS,
    Binding,
    SubtreeCheck,
    accepted_totp_step,
    binding_scope,
    check_username,
    choose_binding,
    claims_of,
    may_grant,
    may_list_accounts,
    may_manage_account,
    may_revoke,
    new_totp_secret,
    scope_of_new_account,
    staff_account_id,
    totp_uri,
    username_key,
    username_subject,
)
from services.identity.handlers.common import Deps, Throttled, Unavailable
from services.identity.handlers.sessions import open_session, revoke_sessions
from services.identity.store import attempts
from services.identity.store import staff as store
from services.identity.store.staff import PASSWORD_CHECKED, AccountRow, BindingRow
from shared import audit
from shared.auth import Caller
from shared.contracts.identity import (
    AccountDisabled,
    AccountRole,
    RoleBindingGranted,
    RoleBindingRevoked,
    ScopeRef,
)
from shared.db import Conn
from shared.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from shared.events import EventWriter, Trace, utcnow


class SignInFailed(DomainError):
    status_code = 401
    code = "sign_in_failed"


class SecondFactorRequired(DomainError):
    status_code = 401
    code = "totp_required"


WRONG_CREDENTIALS = "用户名或密码错误 (wrong username or password)"
ENROLLMENT_AWAY = "工会信息暂不可用，请稍后再试 (enrollment did not answer: nothing was changed)"
LOCKED = "密码错误次数过多，已暂时锁定 (too many failed tries)"


# Scope checks through enrollment --------------------------------------------------------------------


class _Union(BaseModel):
    union_id: uuid.UUID


async def union_subtree(deps: Deps, caller: Caller, root: uuid.UUID) -> set[uuid.UUID]:
    """The unions at and below `root`, as enrollment answers the caller (with their own token:
    a cadre sees only their own subtree)."""
    try:
        async with httpx.AsyncClient(base_url=deps.enrollment_url, timeout=5.0) as client:
            answer = await client.get(
                f"/unions/{root}/subtree", headers={"Authorization": caller.credentials}
            )
    except httpx.HTTPError as exc:
        raise Unavailable(ENROLLMENT_AWAY, 5) from exc
    if answer.status_code == 404:
        raise NotFound(f"工会 {root} 不存在 (no such union)")
    if answer.status_code in (401, 403):
        raise Forbidden(f"工会 {root} 不在您的范围内 (union {root} is outside your scope)")
    if answer.status_code != 200:
        raise Unavailable(ENROLLMENT_AWAY, 5)
    try:
        return {u.union_id for u in [_Union.model_validate(x) for x in answer.json()]}
    except (ValueError, TypeError, ValidationError) as exc:
        raise Unavailable(ENROLLMENT_AWAY, 5) from exc


async def confirm(deps: Deps, caller: Caller, checks: Sequence[SubtreeCheck]) -> None:
    """Every check holds (one question per root), or Forbidden."""
    by_root: dict[uuid.UUID, set[uuid.UUID]] = {}
    for c in checks:
        by_root.setdefault(c.root, set()).add(c.union_id)
    for root, wanted in by_root.items():
        outside = wanted - await union_subtree(deps, caller, root)
        if outside:
            names = ", ".join(sorted(map(str, outside)))
            raise Forbidden(f"工会 {names} 不在工会 {root} 的范围内 (outside the subtree of {root})")


# Accounts -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountView:
    account: AccountRow
    bindings: list[BindingRow]


async def _account(conn: Conn, account_id: uuid.UUID, *, for_update: bool = False) -> AccountRow:
    account = await store.get_account(conn, account_id, for_update=for_update)
    if account is None:
        raise NotFound(f"工作人员账号 {account_id} 不存在 (no such staff account)")
    return account


async def create_account(
    deps: Deps, caller: Caller, username: str, display_name: str, password: str
) -> uuid.UUID:
    scope = scope_of_new_account(caller.principal)
    name = check_username(username)
    check_new_password(password, username=name)
    password_hash = await asyncio.to_thread(hash_password, password)
    account_id = uuid.uuid4()
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        now = deps.now()
        if not await store.insert_account(
            conn, account_id, name, display_name, password_hash, scope, caller.actor, now
        ):
            raise Conflict(f"用户名 {name} 已被使用 (the username is taken)")
        await audit.record(
            conn, trace, "staff.account_created", f"account:{account_id}", record_id=account_id,
            username=name, scope_union_id=str(scope) if scope else None,
        )  # fmt: skip
    return account_id


async def get_account(deps: Deps, caller: Caller, account_id: uuid.UUID) -> AccountView:
    async with deps.pool.acquire() as conn:
        account = await _account(conn, account_id)
        bindings = await store.bindings_of(conn, account_id, live_only=False)
    await confirm(deps, caller, may_manage_account(caller.principal, account.scope_union_id))
    return AccountView(account, bindings)


async def list_accounts(deps: Deps, caller: Caller, after: uuid.UUID | None, limit: int) -> list[AccountView]:
    root = may_list_accounts(caller.principal)
    unions = sorted(await union_subtree(deps, caller, root)) if root is not None else None
    async with deps.pool.acquire() as conn:
        rows = await store.list_accounts(conn, unions, after, limit)
        live = await store.bindings_of_accounts(conn, [a.account_id for a in rows])
    return [AccountView(a, live[a.account_id]) for a in rows]


async def disable_account(deps: Deps, caller: Caller, account_id: uuid.UUID) -> int:
    """The account disabled and every session of it revoked; how many sessions ended."""
    async with deps.pool.acquire() as conn:
        account = await _account(conn, account_id)
    await confirm(deps, caller, may_manage_account(caller.principal, account.scope_union_id))
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        account = await _account(conn, account_id, for_update=True)
        if account.status != "active":
            return 0  # a retry: disabled already
        live = await store.bindings_of(conn, account_id)
        if any(b.role is AccountRole.ADMIN for b in live):
            await _keep_an_admin(conn)
        now = deps.now()
        await store.disable_account(conn, account_id)
        await deps.events.emit(
            conn, trace, account_id, AccountDisabled(account_id=account_id, disabled_at=now)
        )
        ended = await revoke_sessions(
            deps, conn, trace=trace, account_id=account_id, reason="account_disabled"
        )
        await audit.record(
            conn, trace, "staff.account_disabled", f"account:{account_id}", record_id=account_id,
            sessions_revoked=ended,
        )  # fmt: skip
        return ended


async def _keep_an_admin(conn: Conn) -> None:
    if await store.count_live_admins(conn) <= 1:
        raise Conflict("不能停用或撤销最后一个管理员 (the last admin stays: make another first)")


# Bindings -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BindingRequest:
    role: AccountRole
    union_id: uuid.UUID | None = None
    partner_id: str | None = None
    counsel_id: uuid.UUID | None = None


async def grant_binding(
    deps: Deps, caller: Caller, account_id: uuid.UUID, wanted: BindingRequest
) -> uuid.UUID:
    scope = binding_scope(
        wanted.role, union_id=wanted.union_id, partner_id=wanted.partner_id, counsel_id=wanted.counsel_id
    )
    async with deps.pool.acquire() as conn:
        account = await _account(conn, account_id)
    await confirm(deps, caller, may_grant(caller.principal, wanted.role, scope, account.scope_union_id))
    binding = Binding(uuid.uuid4(), wanted.role, scope.union_id, scope.partner_id, scope.counsel_id)
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        account = await _account(conn, account_id, for_update=True)
        if account.status != "active":
            raise Conflict("账号已停用 (the account is disabled)")
        now = deps.now()
        existing = await store.insert_binding(
            conn, binding.binding_id, account_id, binding, caller.actor, now
        )
        if existing is not None:
            raise Conflict("该账号已有相同的角色 (the account has this binding)", binding_id=str(existing))
        await deps.events.emit(
            conn, trace, account_id,
            RoleBindingGranted(
                binding_id=binding.binding_id, account_id=account_id, role=binding.role, scope=scope,
                granted_by=caller.actor, granted_at=now,
            ),
        )  # fmt: skip
        await audit.record(
            conn, trace, "staff.binding_granted", f"account:{account_id}", record_id=account_id,
            **binding.described(),
        )  # fmt: skip
    return binding.binding_id


@dataclass(frozen=True)
class Revoked:
    revoked_at: datetime
    sessions_revoked: int


async def revoke_binding(deps: Deps, caller: Caller, account_id: uuid.UUID, binding_id: uuid.UUID) -> Revoked:
    async with deps.pool.acquire() as conn:
        found = await store.get_binding(conn, account_id, binding_id)
    if found is None:
        raise NotFound(f"角色 {binding_id} 不存在 (no such binding on this account)")
    await confirm(deps, caller, may_revoke(caller.principal, found.role, found.union_id))
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        row = await store.get_binding(conn, account_id, binding_id, for_update=True)
        assert row is not None  # bindings are never deleted
        if row.revoked_at is not None:
            return Revoked(row.revoked_at, 0)  # a retry
        if row.role is AccountRole.ADMIN:
            await _keep_an_admin(conn)
        now = deps.now()
        await store.revoke_binding(conn, binding_id, caller.actor, now)
        await deps.events.emit(
            conn, trace, account_id,
            RoleBindingRevoked(
                binding_id=binding_id, account_id=account_id, revoked_by=caller.actor, revoked_at=now
            ),
        )  # fmt: skip
        ended = await revoke_sessions(
            deps, conn, trace=trace, binding_id=binding_id, reason="binding_revoked"
        )
        await audit.record(
            conn, trace, "staff.binding_revoked", f"account:{account_id}", record_id=account_id,
            sessions_revoked=ended, **row.binding.described(),
        )  # fmt: skip
        return Revoked(now, ended)


# Sign-in ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignIn:
    username: str
    password: str
    totp_code: str | None
    binding_id: uuid.UUID | None
    address: str  # the client's, for the per-address limit
    correlation_id: str


async def sign_in(deps: Deps, attempt: SignIn) -> TokenPair:
    """A token pair for the account's chosen binding. Unknown user and wrong password answer
    the same, after the same argon2 work, and lock the same (per username, growing backoff;
    per address, windows); a failure is committed although the request is refused."""
    username = username_key(attempt.username)
    trace = Trace(f"staff:{username}", attempt.correlation_id)
    user = username_subject(deps.pii.lookup_hash, username)
    addr = deps.pii.lookup_hash(f"address:{attempt.address}")
    outcome: TokenPair | Exception
    async with deps.pool.acquire() as conn, conn.transaction():
        await attempts.lock_subject(conn, user)
        now = deps.now()
        if wait := await _locked_for(conn, user, addr, now):
            await audit.record(
                conn, trace, "staff.sign_in_throttled", f"username:{username}", retry_after=wait
            )
            outcome = Throttled(wait, LOCKED)
        else:
            outcome = await _checked(deps, conn, attempt, username, trace)
            if not isinstance(outcome, SecondFactorRequired):
                # Right password (and code) or not: that is what the limits count.
                right = not isinstance(outcome, SignInFailed)
                await attempts.record(conn, PASSWORD_CHECKED, user, now, succeeded=right)
                await attempts.record(conn, PASSWORD_CHECKED, addr, now, succeeded=right)
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


async def _locked_for(conn: Conn, user: bytes, addr: bytes | None, now: datetime) -> int | None:
    """Seconds the username (lockout) or the address (windows of failures) must wait."""
    waits = [limits.lockout_wait(*await attempts.failures_in_a_row(conn, PASSWORD_CHECKED, user, now), now)]
    if addr is not None:
        failed_here = await attempts.times(conn, PASSWORD_CHECKED, addr, now, failed_only=True)
        waits.append(limits.window_wait(failed_here, PASSWORD_FAILURES_PER_ADDRESS, now))
    return max((w for w in waits if w), default=None)


async def _checked(
    deps: Deps, conn: Conn, attempt: SignIn, username: str, trace: Trace
) -> TokenPair | Exception:
    account = await store.account_by_username(conn, username, for_update=True)
    subject = f"username:{username}" if account is None else f"account:{account.account_id}"
    record_id = account.account_id if account else None
    right = await asyncio.to_thread(
        verify_password, account.password_hash if account else None, attempt.password
    )
    if account is None or not right:
        await audit.record(
            conn, trace, "staff.sign_in_failed", subject, record_id=record_id, reason="password",
            address=attempt.address,
        )  # fmt: skip
        return SignInFailed(WRONG_CREDENTIALS)
    if account.totp_secret is not None:
        if not attempt.totp_code:
            return SecondFactorRequired("请输入动态验证码 (this account needs its TOTP code: totp_code)")
        secret = deps.pii.decrypt(account.totp_secret)
        step = accepted_totp_step(secret, attempt.totp_code, deps.now(), account.totp_last_step)
        if step is None:
            await audit.record(
                conn, trace, "staff.sign_in_failed", subject, record_id=record_id, reason="totp",
                address=attempt.address,
            )  # fmt: skip
            return SignInFailed("动态验证码错误或已使用 (wrong or used TOTP code)")
        await store.set_totp_last_step(conn, account.account_id, step)
    if account.status != "active":
        await audit.record(
            conn, trace, "staff.sign_in_refused", subject, record_id=record_id, reason="disabled"
        )
        return Forbidden("账号已停用 (the account is disabled)")
    live = [b.binding for b in await store.bindings_of(conn, account.account_id)]
    try:
        binding = choose_binding(live, attempt.binding_id)
    except DomainError as refused:
        return refused
    if needs_rehash(account.password_hash):
        rehashed = await asyncio.to_thread(hash_password, attempt.password)
        await store.set_password(conn, account.account_id, rehashed, deps.now())
    await audit.record(
        conn, trace, "staff.signed_in", subject, record_id=record_id, address=attempt.address,
        **binding.described(),
    )  # fmt: skip
    return await open_session(
        deps, conn, account_id=account.account_id, claims=claims_of(account.account_id, binding),
        binding_id=binding.binding_id, trace=trace,
    )  # fmt: skip


# The signed-in staff member's own account ---------------------------------------------------------


@dataclass(frozen=True)
class TotpEnrollment:
    secret: str
    otpauth_uri: str


async def begin_totp(deps: Deps, caller: Caller) -> TotpEnrollment:
    """A new secret, kept sealed and pending until a code from it is confirmed."""
    account_id = staff_account_id(caller.principal)
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        account = await _account(conn, account_id, for_update=True)
        if account.totp_secret is not None:
            raise Conflict("动态验证码已开启 (the second factor is on already)")
        secret = new_totp_secret()
        await store.set_totp_pending(conn, account_id, deps.pii.encrypt(secret))
        await audit.record(conn, trace, "staff.totp_started", f"account:{account_id}", record_id=account_id)
    return TotpEnrollment(secret, totp_uri(secret, account.username))


async def confirm_totp(deps: Deps, caller: Caller, code: str) -> None:
    """A right code from the pending secret turns the second factor on (that code is used)."""
    account_id = staff_account_id(caller.principal)
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn, conn.transaction():
        account = await _account(conn, account_id, for_update=True)
        if account.totp_secret is not None:
            raise Conflict("动态验证码已开启 (the second factor is on already)")
        if account.totp_pending is None:
            raise Conflict("请先申请动态验证码密钥 (POST /me/totp first)")
        now = deps.now()
        step = accepted_totp_step(deps.pii.decrypt(account.totp_pending), code, now, None)
        if step is None:
            raise InvalidInput("动态验证码错误 (wrong TOTP code)")
        await store.enable_totp(conn, account_id, step, now)
        await audit.record(conn, trace, "staff.totp_enabled", f"account:{account_id}", record_id=account_id)


async def change_password(deps: Deps, caller: Caller, current: str, new: str) -> None:
    """The current password is checked like a sign-in's (a wrong one counts against the
    username's lockout: a stolen access token does not guess it freely). A change ends every
    session of the account: the staff member signs in again with the new password."""
    account_id = staff_account_id(caller.principal)
    trace = Trace.of(caller)
    async with deps.pool.acquire() as conn:
        account = await _account(conn, account_id)
    check_new_password(new, username=account.username)
    new_hash = await asyncio.to_thread(hash_password, new)
    user = username_subject(deps.pii.lookup_hash, account.username)
    outcome: Exception | None = None
    async with deps.pool.acquire() as conn, conn.transaction():
        await attempts.lock_subject(conn, user)
        now = deps.now()
        account = await _account(conn, account_id, for_update=True)
        if wait := await _locked_for(conn, user, None, now):
            outcome = Throttled(wait, LOCKED)
        elif not await asyncio.to_thread(verify_password, account.password_hash, current):
            await attempts.record(conn, PASSWORD_CHECKED, user, now, succeeded=False)
            await audit.record(
                conn, trace, "staff.password_change_failed", f"account:{account_id}", record_id=account_id
            )
            outcome = Forbidden("当前密码错误 (the current password is wrong)")
        else:
            await store.set_password(conn, account_id, new_hash, now)
            await attempts.record(conn, PASSWORD_CHECKED, user, now, succeeded=True)
            # Whoever knew the old password may hold a session: every one ends, this one too.
            ended = await revoke_sessions(
                deps, conn, trace=trace, account_id=account_id, reason="password_changed"
            )
            await audit.record(
                conn, trace, "staff.password_changed", f"account:{account_id}", record_id=account_id,
                sessions_ended=ended,
            )  # fmt: skip
    if outcome is not None:
        raise outcome


# The first admin (admin_cli.py, `make admin`) -----------------------------------------------------


@dataclass(frozen=True)
class FirstAdmin:
    account_id: uuid.UUID
    binding_id: uuid.UUID


async def bootstrap_admin(
    pool: asyncpg.Pool, events: EventWriter, username: str, display_name: str, password: str, trace: Trace
) -> FirstAdmin:
    """An admin account with its admin binding, made from the command line while no admin
    exists yet (later admins are made through the API by an admin)."""
    name = check_username(username)
    check_new_password(password, username=name)
    password_hash = await asyncio.to_thread(hash_password, password)
    account_id, binding = uuid.uuid4(), Binding(uuid.uuid4(), AccountRole.ADMIN)
    async with pool.acquire() as conn, conn.transaction():
        # One bootstrap at a time: two at once would both see no admin.
        await conn.execute("LOCK TABLE staff_bindings IN SHARE ROW EXCLUSIVE MODE")
        if await store.count_live_admins(conn) > 0:
            raise Conflict(
                "已有管理员：请由管理员在 POST /staff/accounts 创建 (an admin exists: use the API)"
            )
        now = utcnow()
        if not await store.insert_account(
            conn, account_id, name, display_name, password_hash, None, trace.actor, now
        ):
            raise Conflict(f"用户名 {name} 已被使用 (the username is taken)")
        await store.insert_binding(conn, binding.binding_id, account_id, binding, trace.actor, now)
        await events.emit(
            conn, trace, account_id,
            RoleBindingGranted(
                binding_id=binding.binding_id, account_id=account_id, role=binding.role, scope=ScopeRef(),
                granted_by=trace.actor, granted_at=now,
            ),
        )  # fmt: skip
        await audit.record(
            conn, trace, "staff.account_created", f"account:{account_id}", record_id=account_id, username=name
        )
        await audit.record(
            conn, trace, "staff.binding_granted", f"account:{account_id}", record_id=account_id,
            **binding.described(),
        )  # fmt: skip
    return FirstAdmin(account_id, binding.binding_id)
