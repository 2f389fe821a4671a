"""A consumer resumes from the positions its own database holds, not from the group's offsets.

The idempotent consumer stores its position per partition in the batch's transaction
(consumer_positions), and the group's offset is committed to Kafka only after that. The two
agree, except when the database was restored to an earlier point in time: then the group's
offset is past everything the database lost, and resuming from it would skip those events for
good. So, on every assignment, each partition is positioned at the stored position + 1 (or at its
beginning when the database has none); a stored position behind the group's costs only
duplicates, which processed_events recognises. Should the database not answer then, aiokafka
logs the listener's failure and the group's offsets stand, as they would without it.

The projector has a listener of its own (services/projector/live.py) doing this per generation.
"""

from collections.abc import Callable
from typing import Any

import asyncpg
from aiokafka import ConsumerRebalanceListener, TopicPartition

from shared.logging import get_logger

log = get_logger(__name__)


class ResumeFromStoredPositions(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka is untyped
    def __init__(self, consumer_name: str) -> None:
        self._name = consumer_name
        self._pool: asyncpg.Pool | None = None
        self._kafka: Callable[[], Any] = lambda: None

    def bind(self, pool: asyncpg.Pool, kafka_consumer: Callable[[], Any]) -> None:
        """The pool, and how to reach the subscriber's AIOKafkaConsumer (it exists once started)."""
        self._pool = pool
        self._kafka = kafka_consumer

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        pass

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        consumer = self._kafka()
        if self._pool is None or consumer is None or not assigned:
            return
        rows = await self._pool.fetch(
            """SELECT topic, partition, "offset" FROM consumer_positions
               WHERE consumer = $1 AND topic = ANY($2::text[])""",
            self._name,
            sorted({tp.topic for tp in assigned}),
        )
        stored = {(r["topic"], r["partition"]): r["offset"] for r in rows}
        fresh = []
        for tp in assigned:
            position = stored.get((tp.topic, tp.partition))
            if position is None:
                fresh.append(tp)
            else:
                consumer.seek(tp, position + 1)
        if fresh:
            await consumer.seek_to_beginning(*fresh)
        log.info("positions_resumed", consumer=self._name, assigned=len(assigned), from_start=len(fresh))
