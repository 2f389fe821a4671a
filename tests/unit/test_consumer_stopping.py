"""A consumer waiting for a database that is away gives its batch back when the service stops,
instead of holding the shutdown until the database returns (docs/backup.md: the restore's RTO)."""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from shared.consumer import BatchResult, ConsumerStopping, IdempotentConsumer, RetryPolicy


class DatabaseAway:
    """A pool whose every connection attempt fails as a stopped PostgreSQL's does."""

    def __init__(self) -> None:
        self.attempts = 0

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[Any]:
        self.attempts += 1
        raise ConnectionRefusedError("connection refused")
        yield  # pragma: no cover


async def _nothing(*_: Any) -> None:
    raise AssertionError("no handler may run: the database is away")


async def test_a_consumer_waiting_for_the_database_gives_its_batch_back_when_the_service_stops() -> None:
    stopping = asyncio.Event()
    pool = DatabaseAway()
    consumer = IdempotentConsumer(
        "c", pool, producer=None, dead_letter_topic="dl", apply=_nothing,  # type: ignore[arg-type]
        retry=RetryPolicy(first_backoff=30.0, max_backoff=30.0), stopping=stopping,
    )  # fmt: skip
    batch = asyncio.create_task(consumer.apply_decoded([], [], result=BatchResult()))
    await asyncio.sleep(0.2)
    assert pool.attempts == 1 and not batch.done()  # waiting 30 s before the next attempt
    started = time.monotonic()
    stopping.set()
    with pytest.raises(ConsumerStopping):
        await asyncio.wait_for(batch, timeout=5)
    assert time.monotonic() - started < 1  # at once, not after the back-off


async def test_without_a_stop_the_consumer_keeps_retrying() -> None:
    pool = DatabaseAway()
    consumer = IdempotentConsumer(
        "c", pool, producer=None, dead_letter_topic="dl", apply=_nothing,  # type: ignore[arg-type]
        retry=RetryPolicy(first_backoff=0.01, max_backoff=0.01),
    )  # fmt: skip
    batch = asyncio.create_task(consumer.apply_decoded([], [], result=BatchResult()))
    await asyncio.sleep(0.3)
    assert pool.attempts > 5 and not batch.done()
    batch.cancel()
