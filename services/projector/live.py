"""The live consumer's side of read-model generations: apply a batch only to the generation the
Kafka consumer is positioned for, and re-position it when the live generation changes.

The consumer's position in a generation is the one that generation tracked itself
(consumer_positions in its schema), not the group's committed offsets: after a swap, Kafka's
committed offsets are where the OLD generation stood, which may be ahead of the new one. So:

- `prepare` runs first in every batch transaction: it reads projection_state FOR SHARE (a swap,
  which takes the row FOR UPDATE, waits for this batch, or this batch waits for the swap) and
  raises GenerationChanged when the live generation is not the one the consumer is positioned
  for. The check is inside the transaction on purpose: a swap that commits after the handler
  looked but before the batch's transaction began is caught here, and nothing is applied.
- `resync` seeks every ASSIGNED partition to (the live generation's tracked position + 1), or to
  the beginning when that generation has no position for it, and records the generation. The
  subscriber handler calls it before applying anything when a resync is due, and then returns
  without applying the batch: the records are read again from the right place.
- as a rebalance listener, a (re)assignment marks a resync as due and performs it at once, so a
  restarted projector resumes from the live generation's own positions even when no new record
  arrives. Duplicates from positions that are behind are harmless (processed_events); a gap
  cannot happen because nothing is applied before the consumer has been positioned.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from aiokafka import ConsumerRebalanceListener, TopicPartition

from services.projector.store import generations
from shared.consumer import BatchAborted
from shared.db import Conn
from shared.logging import get_logger

log = get_logger(__name__)


class GenerationChanged(BatchAborted):
    """The live generation is not the one the consumer is positioned for: nothing was applied.
    A BatchAborted, so the idempotent consumer passes it through untouched."""


class LiveGeneration(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka is untyped
    def __init__(self, consumer_name: str) -> None:
        self._name = consumer_name
        self._pool: asyncpg.Pool | None = None
        self._kafka: Callable[[], Any] = lambda: None
        self._before_revoke: Callable[[], Awaitable[Any]] | None = None
        self._lock = asyncio.Lock()
        self.generation: int | None = None  # the generation the Kafka consumer is positioned for
        self.resync_due = True

    def bind(
        self,
        pool: asyncpg.Pool,
        kafka_consumer: Callable[[], Any],
        before_revoke: Callable[[], Awaitable[Any]] | None = None,
    ) -> None:
        """The pool, how to reach the subscriber's AIOKafkaConsumer (it exists once started),
        and what must finish before partitions go to another member (the batch in flight)."""
        self._pool = pool
        self._kafka = kafka_consumer
        self._before_revoke = before_revoke

    async def prepare(self, conn: Conn) -> None:
        live = await generations.active(conn, lock="share")
        if live.generation != self.generation:
            self.resync_due = True
            raise GenerationChanged(
                f"live generation is {live.generation}, the consumer is positioned for {self.generation}"
            )
        await generations.use_schema(conn, live.schema)

    async def resync(self, consumer: Any, reason: str) -> None:
        """Seek every assigned partition to the live generation's own tracked position + 1."""
        assert self._pool is not None, "bind() first"
        async with self._lock:
            self.resync_due = False  # cleared first: an assignment landing meanwhile sets it again
            try:
                async with self._pool.acquire() as conn, conn.transaction(readonly=True):
                    live = await generations.active(conn)
                    await generations.use_schema(conn, live.schema)
                    tracked = await generations.positions(conn, self._name)
                seeks: dict[str, int | None] = {}
                from_start: list[TopicPartition] = []
                for tp in sorted(consumer.assignment()):
                    offset = tracked.get((tp.topic, tp.partition))
                    if offset is None:
                        from_start.append(tp)
                    else:
                        consumer.seek(tp, offset + 1)
                    seeks[f"{tp.topic}[{tp.partition}]"] = None if offset is None else offset + 1
                if from_start:
                    await consumer.seek_to_beginning(*from_start)
            except BaseException:
                self.resync_due = True
                raise
            switched = self.generation is not None and self.generation != live.generation
            self.generation = live.generation
        if switched:
            # No connection keeps statements planned against the previous generation's tables.
            await self._pool.expire_connections()
        log.info(
            "consumer_positioned",
            reason=reason,
            generation=live.generation,
            schema=live.schema,
            switched=switched,
            next_offsets=seeks,
        )

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        # The batch in flight commits its positions before another member resumes from them.
        if self._before_revoke is not None:
            await self._before_revoke()

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self.resync_due = True
        consumer = self._kafka()
        if consumer is None or self._pool is None or not assigned:
            return
        try:
            await self.resync(consumer, "partitions assigned")
        except Exception as exc:
            # Still due: the subscriber handler resyncs before it applies anything.
            log.warning("resync_on_assignment_failed", error=repr(exc))
