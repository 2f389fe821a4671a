"""Decode the next batch while the previous one is being written.

Catching up, the projector spent about a third of its time waiting for PostgreSQL to apply a
batch, and the rest in Python (mostly decoding), one after the other. Here a batch is decoded
while the batch before it is still being written, and applied only once that one has committed:
one batch in flight at most, applied in order, each in its own transaction with its positions.

Nothing is acknowledged ahead of the database: the live generation's tracked positions
(consumer_positions, written with each batch) are where the consumer resumes, not Kafka's
committed offsets (see live.py). When a batch in flight is not applied (the live generation
changed, or it failed), the consumer is repositioned at those tracked positions, and again once
the batch decoded meanwhile is dropped: both are read again.
"""

import asyncio
from collections.abc import Sequence
from typing import Any

from aiokafka import ConsumerRecord

from services.projector.live import GenerationChanged, LiveGeneration
from shared.consumer import BatchResult, ConsumerStopping, Decoded, IdempotentConsumer
from shared.logging import get_logger

log = get_logger(__name__)


class OneBatchAhead:
    def __init__(self, consumer: IdempotentConsumer, live: LiveGeneration) -> None:
        self._consumer = consumer
        self._live = live
        self._in_flight: asyncio.Task[bool] | None = None

    async def handle(self, kafka: Any, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
        """Decode `records` (while the batch in flight is written), then start applying them."""
        decoded, result = await self._consumer.decode_batch(records)
        applied = await self.drain()
        if not applied or self._live.resync_due:
            # These records are dropped, so the consumer is positioned again now, after they
            # were fetched: the failed batch's own resync ran in its task, while the subscriber
            # was already fetching these, which may come from the positions it set; dropping
            # them without seeking again skipped them for good (a swap lost a merchant's event).
            await self._live.resync(kafka, "not positioned yet" if applied else "batch dropped")
            return
        self._in_flight = asyncio.create_task(self._apply(kafka, decoded, records, result))

    async def drain(self) -> bool:
        """Wait until the batch in flight (if any) has committed; False if it was not applied."""
        task, self._in_flight = self._in_flight, None
        if task is None:
            return True
        try:
            return await task
        except Exception as exc:  # its repositioning failed too: the handler's next batch retries it
            log.error("batch_in_flight_failed", error=repr(exc))
            self._live.resync_due = True
            return False

    async def _apply(
        self,
        kafka: Any,
        decoded: list[Decoded],
        records: Sequence[ConsumerRecord[Any, Any]],
        result: BatchResult,
    ) -> bool:
        try:
            await self._consumer.apply_decoded(decoded, records, result)
            return True
        except GenerationChanged:
            await self._live.resync(kafka, "generation changed")
        except ConsumerStopping:
            pass  # nothing committed; the next start reads it again from the stored positions
        except Exception as exc:
            # Not an event's fault (those are isolated and dead-lettered inside): read it again.
            log.error("batch_failed_repositioning", error=repr(exc), size=len(records))
            await self._live.resync(kafka, "batch failed")
        return False
