"""When a signing key signs and how long it stays published (pure; no I/O).

A new key is published at once and signs only from `activates_at`, a lead later, so every
verifier can have fetched it before the first token names it. The key it replaces stops signing
then, and stays published until the last token it signed has expired: the longest access token
plus clock skew. No request fails during a rotation.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.contracts.identity import MAX_ACCESS_TOKEN_SECONDS

CLOCK_SKEW = timedelta(minutes=5)
# How long a key stays published after it stopped signing.
PUBLISHED_AFTER_RETIREMENT = timedelta(seconds=MAX_ACCESS_TOKEN_SECONDS) + CLOCK_SKEW


@dataclass(frozen=True)
class KeyTimes:
    key_id: uuid.UUID
    created_at: datetime
    activates_at: datetime


def _order(key: KeyTimes) -> tuple[datetime, datetime]:
    # Keys activating at the same instant: the one made last wins.
    return key.activates_at, key.created_at


def signing_key(keys: Sequence[KeyTimes], now: datetime) -> KeyTimes | None:
    """The key that signs now: the one activated last (None before any key is active)."""
    active = [k for k in keys if k.activates_at <= now]
    return max(active, key=_order, default=None)


def retired_at(key: KeyTimes, keys: Sequence[KeyTimes], now: datetime) -> datetime | None:
    """When the key stopped signing (or was passed over before it signed): when a key after it
    activated. None while it signs or waits."""
    later = [k.activates_at for k in keys if _order(k) > _order(key) and k.activates_at <= now]
    return min(later, default=None)


def published_keys(keys: Sequence[KeyTimes], now: datetime) -> list[KeyTimes]:
    """The keys a JWKS lists now: the coming ones, the signing one, and the retired ones whose
    tokens may still be alive. Newest first."""
    shown = []
    for key in keys:
        if key.created_at > now:
            continue
        retired = retired_at(key, keys, now)
        if retired is None or now < retired + PUBLISHED_AFTER_RETIREMENT:
            shown.append(key)
    return sorted(shown, key=lambda k: k.activates_at, reverse=True)


def next_activation(keys: Sequence[KeyTimes], now: datetime, lead: timedelta) -> datetime:
    """When a key made now starts signing: after the lead, and never before a key already
    waiting (two rotations in a row keep their order)."""
    waiting = [k.activates_at for k in keys if k.activates_at > now]
    return max([now + lead, *waiting])
