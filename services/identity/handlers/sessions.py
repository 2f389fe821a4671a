"""Sign-in sessions: open one (a member's code sign-in, a staff sign-in), refresh it with
single-use refresh tokens (a reused one ends the family), revoke it (sign-out, reuse, a revoked
binding or account). Each revocation emits identity.SessionRevoked, which every service's kit
follows to refuse the session's access tokens at once."""

import uuid

from services.identity.domain.sessions import (
    RefreshState,
    RefreshVerdict,
    TokenPair,
    csrf_matches,
    judge_refresh,
    new_refresh_token,
    refresh_token_hash,
)
from services.identity.handlers.common import Deps, Unauthorized
from services.identity.store import accounts, sessions
from services.identity.store.sessions import RefreshRow, SessionRow
from shared import audit
from shared.contracts.identity import AccessClaims, AccountRole, SessionRevoked
from shared.db import Conn
from shared.errors import Forbidden
from shared.events import Trace

CSRF_REFUSED = "CSRF 校验失败，请刷新页面后重试"


class RefreshRefused(Exception):
    """The refresh token earns nothing: the caller answers 401 (the same for every reason)."""

    def __init__(self, verdict: RefreshVerdict | None) -> None:
        super().__init__(verdict.value if verdict else "unknown")
        self.verdict = verdict


async def open_session(
    deps: Deps,
    conn: Conn,
    *,
    account_id: uuid.UUID,
    claims: AccessClaims,
    binding_id: uuid.UUID | None,
    trace: Trace,
) -> TokenPair:
    """A new session for the account, opened with these claims (kept with the session: a staff
    session is refreshed with them), and its first token pair. In the caller's transaction."""
    now = deps.now()
    session = SessionRow(
        session_id=uuid.uuid4(),
        account_id=account_id,
        claims=claims.model_dump(mode="json", exclude_none=True, exclude={"sid"}),
        role=claims.role.value,
        binding_id=binding_id,
        opened_at=now,
        expires_at=now + deps.lifetimes.refresh,
        revoked_at=None,
    )
    await sessions.insert_session(conn, session)
    await audit.record(
        conn, trace, "session.opened", f"account:{account_id}", record_id=account_id,
        session_id=str(session.session_id), role=claims.role.value,
        binding_id=str(binding_id) if binding_id else None,
    )  # fmt: skip
    return await _pair(deps, conn, session, claims)


async def _pair(deps: Deps, conn: Conn, session: SessionRow, claims: AccessClaims) -> TokenPair:
    now = deps.now()
    refresh = new_refresh_token()
    await sessions.insert_refresh(
        conn, RefreshRow(refresh_token_hash(refresh), session.session_id, now, session.expires_at, None)
    )
    seconds = deps.lifetimes.access_seconds
    access = await deps.keys.sign(claims.model_copy(update={"sid": session.session_id}), seconds)
    return TokenPair(
        access_token=access,
        expires_in=seconds,
        refresh_token=refresh,
        refresh_expires_in=max(0, int((session.expires_at - now).total_seconds())),
        account_id=session.account_id,
    )


async def session_claims(conn: Conn, session: SessionRow) -> AccessClaims | None:
    """The claims a refresh grants: a member's from the account as it is now (member_id appears
    after real-name verification), a staff session's as it was opened. None: the account is gone
    or disabled."""
    account = await accounts.get_account(conn, session.account_id)
    if account is None or account.status != "active":
        return None
    if session.role == AccountRole.MEMBER.value:
        return AccessClaims(sub=str(account.account_id), role=AccountRole.MEMBER, member_id=account.person_id)
    return AccessClaims.model_validate(session.claims)


async def refresh_session(
    deps: Deps, conn: Conn, *, refresh_token: str, trace: Trace, csrf: tuple[str, str] | None = None
) -> TokenPair:
    """A new pair for a fresh refresh token, which is used up. A reused one revokes its whole
    family. Raises RefreshRefused (401) for anything else than a fresh token of a live session:
    the caller must commit even then, so the revocation of a reused family stands."""
    now = deps.now()
    token = await sessions.get_refresh(conn, refresh_token_hash(refresh_token))
    if token is None:
        raise RefreshRefused(None)
    session = await sessions.get_session(conn, token.session_id, for_update=True)
    assert session is not None  # refresh_tokens.session_id references sessions
    if csrf is not None and not csrf_matches(deps.csrf_key, session.session_id, *csrf):
        raise Forbidden(CSRF_REFUSED)
    verdict = judge_refresh(
        RefreshState(token.used_at, token.expires_at, session.revoked_at, session.expires_at), now
    )
    if verdict is RefreshVerdict.REUSED:
        await revoke_sessions(deps, conn, trace=trace, session_id=session.session_id, reason="refresh_reused")
        await audit.record(
            conn, trace, "session.refresh_reused", f"account:{session.account_id}",
            record_id=session.account_id, session_id=str(session.session_id),
        )  # fmt: skip
    if verdict is not RefreshVerdict.FRESH:
        raise RefreshRefused(verdict)
    claims = await session_claims(conn, session)
    if claims is None:
        await revoke_sessions(
            deps, conn, trace=trace, session_id=session.session_id, reason="account_disabled"
        )
        raise RefreshRefused(RefreshVerdict.ENDED)
    await sessions.mark_used(conn, token.token_hash, now)
    return await _pair(deps, conn, session, claims)


async def revoke_sessions(
    deps: Deps,
    conn: Conn,
    *,
    trace: Trace,
    account_id: uuid.UUID | None = None,
    binding_id: uuid.UUID | None = None,
    session_id: uuid.UUID | None = None,
    reason: str = "revoked",
) -> int:
    """End every live session matching all the given filters (at least one), emitting
    identity.SessionRevoked for each; how many ended. In the caller's transaction."""
    if account_id is None and binding_id is None and session_id is None:
        raise ValueError("revoke_sessions needs an account, a binding or a session")
    now = deps.now()
    ended = await sessions.revoke(
        conn, now, reason, account_id=account_id, binding_id=binding_id, session_id=session_id
    )
    for sid, owner in ended:
        await deps.events.emit(
            conn, trace, owner, SessionRevoked(session_id=sid, account_id=owner, revoked_at=now)
        )
        await audit.record(
            conn, trace, "session.revoked", f"account:{owner}", record_id=owner,
            reason=reason, session_id=str(sid),
        )  # fmt: skip
    return len(ended)


SESSION_ENDED = "登录状态已失效，请重新登录"


async def refresh(
    deps: Deps, *, refresh_token: str, trace: Trace, csrf: tuple[str, str] | None = None
) -> TokenPair:
    """refresh_session in its own transaction, committed even when refused (a reused token's
    family stays revoked), then the refusal: 401, the same for every reason."""
    async with deps.pool.acquire() as conn:
        async with conn.transaction():
            try:
                return await refresh_session(deps, conn, refresh_token=refresh_token, trace=trace, csrf=csrf)
            except RefreshRefused as exc:
                refused = exc
        raise Unauthorized(SESSION_ENDED) from refused


async def sign_out(deps: Deps, *, session_id: uuid.UUID | None, trace: Trace) -> int:
    """End the caller's session (its refresh family); idempotent."""
    if session_id is None:
        return 0
    async with deps.pool.acquire() as conn, conn.transaction():
        return await revoke_sessions(deps, conn, trace=trace, session_id=session_id, reason="signed_out")


async def web_sign_out(deps: Deps, *, refresh_token: str, csrf: tuple[str, str], trace: Trace) -> int:
    """A browser's sign-out: the CSRF token must be its session's."""
    async with deps.pool.acquire() as conn, conn.transaction():
        session_id = await sessions.session_of_refresh(conn, refresh_token_hash(refresh_token))
        if session_id is None:
            return 0
        if not csrf_matches(deps.csrf_key, session_id, *csrf):
            raise Forbidden(CSRF_REFUSED)
        return await revoke_sessions(deps, conn, trace=trace, session_id=session_id, reason="signed_out")


async def session_is_live(deps: Deps, session_id: uuid.UUID) -> bool:
    async with deps.pool.acquire() as conn:
        return await sessions.is_live(conn, session_id, deps.now())
