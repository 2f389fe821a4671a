"""Replaying topics from the beginning into a read model with a manually assigned consumer (no
group: the live service's group and offsets are untouched): what a rebuild does, the card
projector's (services/projector/rebuild.py) and the reports' (services/reports/rebuild.py)."""

import asyncio
import time
from collections.abc import Iterable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.consumer import IdempotentConsumer
from shared.logging import get_logger

log = get_logger(__name__)


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
