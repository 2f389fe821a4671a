"""Idempotent batch consumption: decode, dead-letter what cannot be read, apply the rest once.

A batch is applied in one PostgreSQL transaction together with the ids of the events it applied
and the consumer's position per partition. A redelivered event finds its id already recorded and
changes nothing. An event that cannot be decoded goes to the consumer's dead-letter topic with the
reason and its origin in headers, before the batch is committed, so nothing is dropped in silence.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer, ConsumerRecord

from shared.contracts import ContractError, EventEnvelope, decode_event
from shared.contracts.envelope import EventPayload
from shared.db import Conn
from shared.logging import get_logger

log = get_logger(__name__)

Apply = Callable[[Conn, EventEnvelope, EventPayload], Awaitable[None]]
# Runs first in every batch transaction (e.g. to point search_path at the live read model).
Prepare = Callable[[Conn], Awaitable[None]]


@dataclass
class BatchResult:
    applied: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    reasons: list[str] = field(default_factory=list)


class IdempotentConsumer:
    def __init__(
        self,
        name: str,
        pool: asyncpg.Pool,
        producer: AIOKafkaProducer,
        dead_letter_topic: str,
        apply: Apply,
        prepare: Prepare | None = None,
    ) -> None:
        self.name = name
        self._prepare = prepare
        self._pool = pool
        self._producer = producer
        self._dead_letter_topic = dead_letter_topic
        self._apply = apply

    async def handle_batch(self, records: Sequence[ConsumerRecord[Any, Any]]) -> BatchResult:
        result = BatchResult()
        decoded: list[tuple[ConsumerRecord[Any, Any], EventEnvelope, EventPayload]] = []
        for record in records:
            try:
                envelope, payload = decode_event(record.value)
            except ContractError as exc:
                await self.dead_letter(record, str(exc))
                result.dead_lettered += 1
                result.reasons.append(str(exc))
                continue
            decoded.append((record, envelope, payload))

        async with self._pool.acquire() as conn, conn.transaction():
            if self._prepare is not None:
                await self._prepare(conn)
            fresh = {
                row["event_id"]
                for row in await conn.fetch(
                    """INSERT INTO processed_events (consumer, event_id)
                       SELECT $1, unnest($2::uuid[])
                       ON CONFLICT DO NOTHING RETURNING event_id""",
                    self.name,
                    [envelope.event_id for _, envelope, _ in decoded],
                )
            }
            for _, envelope, payload in decoded:
                if envelope.event_id not in fresh:
                    result.duplicates += 1
                    continue
                fresh.discard(envelope.event_id)  # the same event twice in one batch
                with structlog.contextvars.bound_contextvars(
                    correlation_id=envelope.correlation_id, event_id=str(envelope.event_id)
                ):
                    await self._apply(conn, envelope, payload)
                result.applied += 1
            await self._save_positions(conn, records)
        if result.dead_lettered or result.duplicates:
            log.info(
                "batch_handled",
                consumer=self.name,
                applied=result.applied,
                duplicates=result.duplicates,
                dead_lettered=result.dead_lettered,
            )
        return result

    async def _save_positions(self, conn: Conn, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
        last: dict[tuple[str, int], int] = {}
        for record in records:
            key = (record.topic, record.partition)
            last[key] = max(last.get(key, -1), record.offset)
        if not last:
            return
        await conn.executemany(
            """INSERT INTO consumer_positions (consumer, topic, partition, "offset")
               VALUES ($1, $2, $3, $4)
               ON CONFLICT (consumer, topic, partition)
               DO UPDATE SET "offset" = GREATEST(consumer_positions."offset", EXCLUDED."offset"),
                             updated_at = now()""",
            [(self.name, topic, partition, offset) for (topic, partition), offset in last.items()],
        )

    async def dead_letter(self, record: ConsumerRecord[Any, Any], reason: str) -> None:
        headers = [
            *(record.headers or ()),
            ("deadletter_reason", reason[:1000].encode()),
            ("deadletter_consumer", self.name.encode()),
            ("deadletter_topic", record.topic.encode()),
            ("deadletter_partition", str(record.partition).encode()),
            ("deadletter_offset", str(record.offset).encode()),
        ]
        await self._producer.send_and_wait(
            self._dead_letter_topic, value=record.value, key=record.key, headers=headers
        )
        log.warning(
            "event_dead_lettered",
            consumer=self.name,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            reason=reason,
        )
