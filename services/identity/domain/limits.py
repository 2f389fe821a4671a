"""Abuse limits (pure rules, no I/O): sliding windows on how often a phone number or a client
address may do something, and a lockout with growing backoff after repeated failures.
Each answers how many seconds the caller must wait (a 429's Retry-After), or None."""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Window:
    limit: int
    span: timedelta


# Sending a code: per phone number (SMS costs money and annoys), per client address.
SEND_PER_PHONE = (
    Window(1, timedelta(seconds=60)),
    Window(5, timedelta(hours=1)),
    Window(10, timedelta(days=1)),
)
SEND_PER_ADDRESS = (Window(20, timedelta(minutes=10)), Window(100, timedelta(days=1)))
# Checking codes from one client address: its failures (one address trying many numbers).
CHECK_FAILURES_PER_ADDRESS = (Window(30, timedelta(minutes=10)), Window(100, timedelta(days=1)))
# Real-name verification: the provider costs money per question.
REALNAME_PER_ACCOUNT = (Window(5, timedelta(days=1)),)

# The lockout of one phone number (or staff account) after failed checks in a row.
FREE_FAILURES = 5
FIRST_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=24)
# Kept as long as the longest window or backoff needs them.
KEPT = timedelta(days=2)


def window_wait(times: Sequence[datetime], windows: Sequence[Window], now: datetime) -> int | None:
    """Seconds until one more would fit every window, given when the earlier ones happened."""
    wait = 0.0
    for w in windows:
        inside = sorted((t for t in times if now - w.span < t <= now), reverse=True)
        if len(inside) >= w.limit:
            # The oldest of the last `limit` must leave the window first.
            leaves = inside[w.limit - 1] + w.span
            wait = max(wait, (leaves - now).total_seconds())
    return max(1, math.ceil(wait)) if wait > 0 else None


def backoff(failures_in_a_row: int) -> timedelta:
    """How long a number stays locked after this many failures in a row: none for the first
    few, then a minute, doubling with each further failure, at most a day."""
    if failures_in_a_row < FREE_FAILURES:
        return timedelta(0)
    steps = min(failures_in_a_row - FREE_FAILURES, 20)
    return min(FIRST_BACKOFF * (1 << steps), MAX_BACKOFF)


def lockout_wait(failures_in_a_row: int, last_failure: datetime | None, now: datetime) -> int | None:
    if last_failure is None:
        return None
    until = last_failure + backoff(failures_in_a_row)
    return math.ceil((until - now).total_seconds()) if until > now else None
