"""Replaying topics from the beginning into a read model with a manually assigned consumer (no
group: the live service's group and offsets are untouched): what a rebuild does, the card
projector's (services/projector/rebuild.py) and the reports' (services/reports/rebuild.py)."""

import asyncio
import contextlib
import hashlib
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from shared.consumer import IdempotentConsumer
from shared.db import Conn
from shared.kafka import ensure_topics, running_producer
from shared.logging import get_logger
from shared.person_keys import KeyBook
from shared.service import running_key_book
from shared.settings import ConsumingSettings

log = get_logger(__name__)

CATCH_UP_ROUNDS = 20  # then a rebuild swaps anyway, applying the (larger) rest under the lock
SWAP_LOCK_TIMEOUT = "60s"


def lock_key(service: str) -> int:
    """The advisory lock a service's rebuild holds."""
    return int.from_bytes(hashlib.sha256(f"{service}:rebuild".encode()).digest()[:8], "big", signed=True)


@contextlib.asynccontextmanager
async def rebuild_lock(pool: asyncpg.Pool, service: str, what: str) -> AsyncIterator[Conn]:
    """One rebuild of a read model (`what`, for the refusal) at a time: a session advisory
    lock, on the connection it holds for as long as the block runs."""
    key = lock_key(service)
    async with pool.acquire() as guard:
        if not await guard.fetchval("SELECT pg_try_advisory_lock($1)", key):
            raise SystemExit(f"another rebuild of {what} is running")
        try:
            yield guard
        finally:
            await guard.execute("SELECT pg_advisory_unlock($1)", key)


@dataclass(frozen=True)
class Replaying:
    """A rebuild's reading side: every partition of the source topics assigned from the start, a
    producer for its dead letters, and the person keys for sealed fields."""

    reader: AIOKafkaConsumer
    partitions: list[TopicPartition]
    producer: AIOKafkaProducer
    keys: KeyBook


@contextlib.asynccontextmanager
async def replaying(settings: ConsumingSettings, source_topics: Sequence[str]) -> AsyncIterator[Replaying]:
    """The source topics from the beginning with a manually assigned consumer (no group: the
    live service's group and its committed offsets are untouched)."""
    await ensure_topics(
        settings.kafka_bootstrap_servers,
        {t: settings.topic_partitions for t in [*source_topics, settings.dead_letter_topic]},
    )
    client_id = f"{settings.service}-rebuild"
    reader = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers, client_id=client_id, group_id=None,
        enable_auto_commit=False, auto_offset_reset="earliest", max_poll_records=settings.batch_size,
        # Short fetch waits: with the broker's default (500 ms) a caught-up reader made the swap
        # hold its lock half a second waiting on an empty fetch; 50 ms gives ~40 ms.
        fetch_max_wait_ms=50,
    )  # fmt: skip
    async with contextlib.AsyncExitStack() as stack:
        producer = await stack.enter_async_context(
            running_producer(settings.kafka_bootstrap_servers, client_id)
        )
        await reader.start()
        stack.push_async_callback(reader.stop)
        partitions = await source_partitions(reader, source_topics)
        reader.assign(partitions)
        await reader.seek_to_beginning(*partitions)
        keys = await stack.enter_async_context(running_key_book(settings))
        yield Replaying(reader, partitions, producer, keys)


async def catch_up(replay: "Replay", reading: Replaying, swap_lag: int) -> int:
    """Everything there was at the start, then what came meanwhile, round after round, until at
    most `swap_lag` records are left (or CATCH_UP_ROUNDS are done); the rounds it took."""
    reader, partitions = reading.reader, reading.partitions
    await replay.until(await reader.end_offsets(partitions), "replay")
    rounds = 0
    while rounds < CATCH_UP_ROUNDS:
        end = await reader.end_offsets(partitions)
        if await replay.behind(end) <= swap_lag:
            break
        rounds += 1
        await replay.until(end, f"catch-up {rounds}")
    return rounds


async def source_partitions(
    consumer: Any, topics: Iterable[str], wait_s: float = 10.0
) -> list[TopicPartition]:
    """Every partition of the topics, from the cluster's metadata (waits for a topic just made)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    found: list[TopicPartition] = []
    for topic in topics:
        parts = consumer.partitions_for_topic(topic)
        while not parts:
            if loop.time() > deadline:
                raise RuntimeError(f"topic {topic} has no partitions (does it exist?)")
            # aiokafka has no public call that refreshes the consumer's own metadata.
            await consumer._client.force_metadata_update()
            parts = consumer.partitions_for_topic(topic)
            if not parts:
                await asyncio.sleep(0.1)
        found.extend(TopicPartition(topic, p) for p in sorted(parts))
    return found


class Replay:
    """Feeds one generation from a manually assigned consumer, counting and reporting progress."""

    def __init__(
        self,
        reader: AIOKafkaConsumer,
        consumer: IdempotentConsumer,
        partitions: Sequence[TopicPartition],
        batch_size: int,
        schema: str,
        progress_every_s: float,
    ) -> None:
        self._reader = reader
        self._consumer = consumer
        self._partitions = list(partitions)
        self._batch_size = batch_size
        self._schema = schema
        self._every = progress_every_s
        self.totals = {"events": 0, "applied": 0, "duplicates": 0, "dead_lettered": 0}

    async def behind(self, end: dict[TopicPartition, int]) -> int:
        """Records up to the end offsets not read yet."""
        return sum([max(0, end[tp] - await self._reader.position(tp)) for tp in self._partitions])

    async def until(self, end: dict[TopicPartition, int], phase: str) -> int:
        """Apply every record up to the end offsets (and whatever comes in the same fetches)."""
        total = await self.behind(end)
        started = last_report = time.perf_counter()
        done = 0
        remaining = {tp for tp in self._partitions if await self._reader.position(tp) < end[tp]}
        while remaining:
            fetched = await self._reader.getmany(*remaining, timeout_ms=1000, max_records=self._batch_size)
            records = [r for tp in sorted(fetched) for r in fetched[tp]]
            if records:
                result = await self._consumer.handle_batch(records)
                done += len(records)
                self.totals["events"] += len(records)
                self.totals["applied"] += result.applied
                self.totals["duplicates"] += result.duplicates
                self.totals["dead_lettered"] += result.dead_lettered
            for tp in list(remaining):
                if await self._reader.position(tp) >= end[tp]:
                    remaining.discard(tp)
            now = time.perf_counter()
            if remaining and now - last_report >= self._every:
                last_report = now
                self._report(phase, done, total, now - started)
        self._report(phase, done, total, time.perf_counter() - started)
        return done

    def _report(self, phase: str, done: int, total: int, seconds: float) -> None:
        log.info(
            "rebuild_progress",
            phase=phase,
            schema=self._schema,
            events=done,
            of=total,
            percent=round(100 * min(done, total) / total, 1) if total else 100.0,
            per_s=round(done / seconds) if seconds > 0 else None,
        )
