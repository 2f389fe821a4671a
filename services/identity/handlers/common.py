"""What every identity handler shares: its dependencies and the lifetimes it grants."""

from dataclasses import dataclass
from datetime import timedelta

import asyncpg
from fastapi import HTTPException

from services.identity.adapters.enrollment import EnrollmentClient
from services.identity.domain.ports import CodeNotifier, RealNameProvider
from services.identity.handlers.keys import SigningKeys
from shared.events import Clock, EventWriter, Trace, utcnow
from shared.pii import PiiProtector, mask_phone


@dataclass(frozen=True)
class Lifetimes:
    access_seconds: int = 600  # at most the contract's 15 minutes
    refresh: timedelta = timedelta(days=30)  # a session's absolute end; each token used once
    key_publish_lead: timedelta = timedelta(seconds=60)


@dataclass(frozen=True)
class Deps:
    pool: asyncpg.Pool
    events: EventWriter
    pii: PiiProtector  # phone numbers: keyed hash to find, sealed copy to show masked
    keys: SigningKeys
    notifier: CodeNotifier
    realname: RealNameProvider | None  # None: no provider configured, real-name answers 503
    enrollment: EnrollmentClient
    code_key: bytes  # keys the hashes of one-time codes (derived from IDENTITY_KEY_SECRET)
    csrf_key: bytes  # keys browser sessions' CSRF tokens (likewise)
    lifetimes: Lifetimes = Lifetimes()
    enrollment_url: str = "http://127.0.0.1:8001"  # staff scope checks ask it with the caller's token
    now: Clock = utcnow


# The one answer to every failed code check: wrong, expired, spent, never sent, unknown number.
CODE_REFUSED = "验证码错误或已过期"


class Throttled(HTTPException):
    """429 with Retry-After: a rate limit or a lockout."""

    def __init__(self, seconds: int, reason: str) -> None:
        super().__init__(429, f"{reason}（请 {seconds} 秒后再试）", headers={"Retry-After": str(seconds)})


class Unavailable(HTTPException):
    """503 with Retry-After: an outside party (SMS gateway, provider, enrollment) is away."""

    def __init__(self, reason: str, seconds: int = 30) -> None:
        super().__init__(503, reason, headers={"Retry-After": str(seconds)})


class Unauthorized(HTTPException):
    def __init__(self, reason: str = CODE_REFUSED) -> None:
        super().__init__(401, reason, headers={"WWW-Authenticate": "Bearer"})


def anonymous(phone: str, correlation_id: str) -> Trace:
    """The trace of a request nobody is signed in for yet: the number, masked."""
    return Trace(f"phone:{mask_phone(phone)}", correlation_id)
