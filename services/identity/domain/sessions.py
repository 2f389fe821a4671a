"""Sign-in sessions and refresh tokens (pure rules, no I/O).

A session is a refresh family: every refresh token is used once and replaced by the next; a
token presented a second time means it was copied, so the whole family ends.
"""

import base64
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

REFRESH_TOKEN_BYTES = 32


class TokenPair(BaseModel):
    """What a sign-in or a refresh answers."""

    access_token: str
    token_type: str = Field(default="Bearer", pattern="^Bearer$")
    expires_in: int = Field(description="seconds the access token lives")
    refresh_token: str
    refresh_expires_in: int = Field(description="seconds the session (refresh family) may still be refreshed")
    account_id: uuid.UUID


def new_refresh_token() -> str:
    return secrets.token_urlsafe(REFRESH_TOKEN_BYTES)


def refresh_token_hash(token: str) -> bytes:
    """A refresh token is random enough that a plain SHA-256 hides it; only the hash is kept."""
    return hashlib.sha256(token.encode()).digest()


class RefreshVerdict(StrEnum):
    FRESH = "fresh"  # rotate: a new pair, this token used
    REUSED = "reused"  # used before: revoke the family
    ENDED = "ended"  # the session was revoked or its absolute lifetime ran out
    EXPIRED = "expired"  # this token ran out (the family stays)


@dataclass(frozen=True)
class RefreshState:
    used_at: datetime | None
    token_expires_at: datetime
    session_revoked_at: datetime | None
    session_expires_at: datetime


def judge_refresh(state: RefreshState, now: datetime) -> RefreshVerdict:
    """What a presented refresh token earns. Reuse is judged first: a copied token reveals a
    theft even after the family ended."""
    if state.used_at is not None:
        return RefreshVerdict.REUSED
    if state.session_revoked_at is not None or now >= state.session_expires_at:
        return RefreshVerdict.ENDED
    if now >= state.token_expires_at:
        return RefreshVerdict.EXPIRED
    return RefreshVerdict.FRESH


def csrf_token(key: bytes, session_id: uuid.UUID) -> str:
    """A browser session's CSRF token: bound to the session (a token of another session, or
    one an attacker sets as a cookie, does not pass), the same for the session's whole life."""
    mac = hmac.new(key, b"csrf:" + session_id.bytes, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def csrf_matches(key: bytes, session_id: uuid.UUID, header: str, cookie: str) -> bool:
    """The double submit (header = cookie, which only the page's own origin can read) and the
    binding to the session, both in constant time."""
    expected = csrf_token(key, session_id).encode()
    same = hmac.compare_digest(header.encode(), cookie.encode())
    return same and hmac.compare_digest(header.encode(), expected)
