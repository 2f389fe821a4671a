"""What every identity handler shares: its dependencies and the lifetimes it grants."""

from dataclasses import dataclass
from datetime import timedelta

import asyncpg

from services.identity.adapters.enrollment import EnrollmentClient
from services.identity.domain.ports import CodeNotifier, RealNameProvider
from services.identity.handlers.keys import SigningKeys
from shared.events import Clock, EventWriter, utcnow
from shared.pii import PiiProtector


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
    lifetimes: Lifetimes = Lifetimes()
    enrollment_url: str = "http://127.0.0.1:8001"  # staff scope checks ask it with the caller's token
    now: Clock = utcnow
