"""The durable timer: something to do at a given time, done once (table `timers`, a shared
migration). Legal's statutory deadlines and enrollment's transfer requests use it; relief
programmes and care visits will too.

`DurableTimer.fire_due` claims one due row at a time with FOR UPDATE SKIP LOCKED and, in the
same transaction, runs the kind's handler (which writes its event to the outbox) and marks the
row fired: a crash before the commit leaves the row pending (it fires after the restart), a
commit makes it fired for good, and a second replica skips the row the first one holds. One
transaction per timer: each handler takes its subject's version row, and transactions that
each hold one such row cannot deadlock.
"""

import asyncio
import contextlib
import json
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from shared.db import Conn
from shared.events import Clock, utcnow
from shared.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class Timer:
    timer_id: uuid.UUID
    kind: str
    subject: str
    fire_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)


def _timer(row: asyncpg.Record) -> Timer:
    return Timer(row["timer_id"], row["kind"], row["subject"], row["fire_at"], json.loads(row["payload"]))


async def schedule(conn: Conn, timers: Sequence[Timer]) -> None:
    """Each fires once at its time (in the caller's transaction: scheduled with the step)."""
    await conn.executemany(
        """INSERT INTO timers (timer_id, kind, subject, fire_at, payload)
           VALUES ($1, $2, $3, $4, $5::jsonb)""",
        [
            (t.timer_id, t.kind, t.subject, t.fire_at, json.dumps(t.payload, default=str, ensure_ascii=False))
            for t in timers
        ],
    )


async def cancel(
    conn: Conn, kind: str, subject: str, where: Sequence[Mapping[str, Any]] | None = None
) -> int:
    """Pending timers of a kind for a subject will not fire, in one statement. `where` narrows
    them to those whose payload contains one of these (e.g. [{"name": "arbitration_filing"}]);
    an empty `where` cancels none."""
    if where is not None and not where:
        return 0
    patterns = [json.dumps(dict(pattern), default=str) for pattern in (where or [{}])]
    status = await conn.execute(
        """UPDATE timers SET status = 'cancelled'
           WHERE status = 'pending' AND kind = $1 AND subject = $2 AND payload @> ANY($3::jsonb[])""",
        kind, subject, patterns,
    )  # fmt: skip
    return int(status.split()[-1])


async def pending(conn: Conn, kind: str, subject: str) -> list[Timer]:
    rows = await conn.fetch(
        """SELECT timer_id, kind, subject, fire_at, payload FROM timers
           WHERE status = 'pending' AND kind = $1 AND subject = $2 ORDER BY fire_at, timer_id""",
        kind, subject,
    )  # fmt: skip
    return [_timer(r) for r in rows]


# What firing a timer of one kind means; runs in the transaction that marks it fired.
FireTimer = Callable[[Conn, Timer], Awaitable[None]]


async def _claim_one(conn: Conn, kinds: list[str], now: datetime) -> Timer | None:
    row = await conn.fetchrow(
        """UPDATE timers SET status = 'fired', fired_at = $2
           WHERE timer_id = (SELECT timer_id FROM timers
                             WHERE status = 'pending' AND fire_at <= $2 AND kind = ANY($1::text[])
                             ORDER BY fire_at, timer_id LIMIT 1
                             FOR UPDATE SKIP LOCKED)
           RETURNING timer_id, kind, subject, fire_at, payload""",
        kinds, now,
    )  # fmt: skip
    return _timer(row) if row else None


class DurableTimer:
    """Fires due timers of the kinds it has handlers for, every `interval_seconds`, until stopped."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        handlers: Mapping[str, FireTimer],
        *,
        interval_seconds: float,
        now: Clock = utcnow,
        batch: int = 100,
    ) -> None:
        self._pool = pool
        self._handlers = dict(handlers)
        self._interval = interval_seconds
        self._now = now
        self._batch = batch
        self._stopping = asyncio.Event()

    async def fire_one(self) -> bool:
        async with self._pool.acquire() as conn, conn.transaction():
            timer = await _claim_one(conn, list(self._handlers), self._now())
            if timer is None:
                return False
            await self._handlers[timer.kind](conn, timer)
            return True

    async def fire_due(self) -> int:
        """Fire what is due now, at most `batch` timers; returns how many this call fired."""
        fired = 0
        while fired < self._batch and not self._stopping.is_set() and await self.fire_one():
            fired += 1
        if fired:
            log.info("timers_fired", count=fired)
        return fired

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                while await self.fire_due() == self._batch:
                    pass
            except Exception as exc:  # the database is away: try again next round
                log.warning("timer_retrying", error=repr(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self._interval)
