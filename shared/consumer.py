"""Idempotent batch consumption: decode, dead-letter what cannot be handled, apply the rest once.

A batch is applied in one PostgreSQL transaction together with the ids of the events it applied
and the consumer's position per partition. A redelivered event finds its id already recorded and
changes nothing. Failures are of two kinds:

- the infrastructure is away (the database restarts, a connection drops): the whole batch is
  retried with backoff, as long as it takes; nothing is dead-lettered for it;
- an event cannot be handled (undecodable bytes, unknown type or future version, a handler that
  raises): it goes to the consumer's dead-letter topic with the reason and its origin in headers,
  after bounded retries with backoff for a handler error, and the consumer keeps going.
"""

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer, ConsumerRecord

from shared.batched_writes import BatchedWrites
from shared.contracts import ContractError, EventMetadata, decode_event
from shared.contracts.envelope import EventPayload
from shared.db import TRANSIENT_ERRORS, Conn
from shared.faults import failpoint
from shared.logging import applying_event, get_logger

log = get_logger(__name__)

Apply = Callable[[Conn, EventMetadata, EventPayload], Awaitable[None]]
# Runs first in every batch transaction (e.g. to point search_path at the live read model).
Prepare = Callable[[Conn], Awaitable[None]]
# Turns a record into an event; raises ContractError (the record is dead-lettered) if it cannot.
Decode = Callable[["ConsumerRecord[Any, Any]"], tuple[EventMetadata, EventPayload]]


def decode_record(record: "ConsumerRecord[Any, Any]") -> tuple[EventMetadata, EventPayload]:
    """Our own services' events: a versioned envelope in the record's value (the headers our
    outbox writes name its type and version, which lets decode_event validate in one pass)."""
    return decode_event(record.value, header_hint(record.headers))


def header_hint(headers: Any) -> tuple[str, int] | None:
    """(event type, schema version) as the record's headers claim them, if they do."""
    event_type = version = None
    for key, value in headers or ():
        if key == "event_type":
            event_type = value
        elif key == "schema_version":
            version = value
    if type(event_type) is not bytes or type(version) is not bytes:
        return None
    return _hint_of(event_type, version)


@functools.lru_cache(maxsize=1024)  # a few dozen pairs in practice; bounded against junk headers
def _hint_of(event_type: bytes, version: bytes) -> tuple[str, int] | None:
    try:
        return event_type.decode(), int(version)
    except ValueError:  # UnicodeDecodeError is one
        return None


def dead_letter_headers(
    consumer: str, reason: str, topic: str, partition: int, offset: int
) -> dict[str, str]:
    """Why and from where a record was dead-lettered (scripts/deadletters.py reads these back)."""
    return {
        "deadletter_reason": reason[:1000],
        "deadletter_consumer": consumer,
        "deadletter_topic": topic,
        "deadletter_partition": str(partition),
        "deadletter_offset": str(offset),
    }


class BatchAborted(Exception):
    """Raised (e.g. by a prepare hook) to give a batch back unapplied: it is no event's fault,
    so the consumer neither isolates nor dead-letters anything; the caller decides what next."""


class ConsumerStopping(BatchAborted):
    """The service is stopping while the batch waits for the database: it is given back
    unapplied (nothing was committed) and read again from the stored positions at the next start,
    instead of holding the shutdown until the database returns."""


Decoded = tuple[ConsumerRecord[Any, Any], EventMetadata, EventPayload]
# Opens a payload's sealed personal fields (shared/person_keys.py: KeyBook.open_sealed).
OpenSealed = Callable[[EventPayload], Awaitable[EventPayload]]


@dataclass
class BatchResult:
    applied: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RetryPolicy:
    handler_attempts: int = 3  # a raising handler is tried this often before dead-lettering
    first_backoff: float = 0.2
    max_backoff: float = 5.0

    def backoff(self, attempt: int) -> float:
        return float(min(self.max_backoff, self.first_backoff * 2**attempt))


class IdempotentConsumer:
    def __init__(
        self,
        name: str,
        pool: asyncpg.Pool,
        producer: AIOKafkaProducer,
        dead_letter_topic: str,
        apply: Apply,
        prepare: Prepare | None = None,
        retry: RetryPolicy | None = None,
        decode: Decode = decode_record,
        batch_writes: bool = False,
        open_sealed: OpenSealed | None = None,
        stopping: asyncio.Event | None = None,
    ) -> None:
        self.name = name
        # Set when the service stops: infrastructure retries give the batch back (ConsumerStopping).
        self._stopping = stopping or asyncio.Event()
        self._pool = pool
        self._producer = producer
        self._dead_letter_topic = dead_letter_topic
        self._apply = apply
        self._prepare = prepare
        self._retry = retry or RetryPolicy()
        self._decode = decode
        # Handlers' INSERTs go out as one pipelined executemany per statement at the end of the
        # batch (shared/batched_writes.py) instead of one round trip per event.
        self._batch_writes = batch_writes
        self._open_sealed = open_sealed

    async def handle_batch(self, records: Sequence[ConsumerRecord[Any, Any]]) -> BatchResult:
        decoded, result = await self.decode_batch(records)
        return await self.apply_decoded(decoded, records, result)

    async def decode_batch(
        self, records: Sequence[ConsumerRecord[Any, Any]]
    ) -> tuple[list[Decoded], BatchResult]:
        """Decode every record; what cannot be decoded is dead-lettered at once with the reason."""
        result = BatchResult()
        decoded: list[Decoded] = []
        for i, record in enumerate(records):
            if i % 50 == 49:
                # Let other work on the loop (a batch being written: its next statement) go on.
                await asyncio.sleep(0)
            try:
                envelope, payload = self._decode(record)
            except ContractError as exc:
                await self._dead_letter_counted(record, str(exc), result)
                continue
            if payload.carries_sealed and self._open_sealed is not None:
                payload = await self._open_sealed(payload)
            decoded.append((record, envelope, payload))
        return decoded, result

    async def apply_decoded(
        self, decoded: list[Decoded], records: Sequence[ConsumerRecord[Any, Any]], result: BatchResult
    ) -> BatchResult:
        """Apply a decoded batch in one transaction with the positions of all its `records`; an
        event that breaks the batch is found by applying one at a time and dead-lettered."""
        try:
            await self._with_infrastructure_retries(
                functools.partial(self._apply_in_one_transaction, decoded, records, result)
            )
        except BatchAborted:
            raise
        except Exception as exc:  # never an infrastructure error: those are retried inside
            # One event broke the batch: find it by applying one at a time.
            log.warning("batch_failed_isolating", consumer=self.name, error=repr(exc), size=len(decoded))
            result = BatchResult(dead_lettered=result.dead_lettered, reasons=result.reasons)
            for item in decoded:
                await self._apply_one_with_retries(item, result)
        if result.dead_lettered or result.duplicates:
            log.info(
                "batch_handled",
                consumer=self.name,
                applied=result.applied,
                duplicates=result.duplicates,
                dead_lettered=result.dead_lettered,
            )
        return result

    async def _with_infrastructure_retries(self, work: Callable[[], Awaitable[None]]) -> None:
        attempt = 0
        while True:
            try:
                await work()
                return
            except TRANSIENT_ERRORS as exc:
                delay = self._retry.backoff(attempt)
                log.warning(
                    "infrastructure_unavailable_retrying", consumer=self.name, error=repr(exc), in_s=delay
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=delay)
                if self._stopping.is_set():
                    raise ConsumerStopping(f"stopping while {exc!r}") from exc
                attempt += 1

    async def _apply_one_with_retries(self, item: Decoded, result: BatchResult) -> None:
        record = item[0]
        last: Exception | None = None
        for attempt in range(self._retry.handler_attempts):
            one = BatchResult()
            try:
                await self._with_infrastructure_retries(
                    functools.partial(self._apply_in_one_transaction, [item], [record], one)
                )
            except BatchAborted:
                raise  # no event's fault: never counted towards a dead letter
            except Exception as exc:
                last = exc
                await asyncio.sleep(self._retry.backoff(attempt))
                continue
            result.applied += one.applied
            result.duplicates += one.duplicates
            return
        reason = f"handler failed after {self._retry.handler_attempts} attempts: {last!r}"
        await self._dead_letter_counted(record, reason, result)
        await self._with_infrastructure_retries(functools.partial(self._save_positions_alone, [record]))

    async def _apply_in_one_transaction(
        self, decoded: list[Decoded], records: Sequence[ConsumerRecord[Any, Any]], result: BatchResult
    ) -> None:
        applied = duplicates = 0
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
            target: Any = BatchedWrites(conn) if self._batch_writes else conn
            for _, envelope, payload in decoded:
                if envelope.event_id not in fresh:
                    duplicates += 1
                    continue
                fresh.discard(envelope.event_id)  # the same event twice in one batch
                with applying_event(envelope.correlation_id, envelope.event_id):
                    await self._apply(target, envelope, payload)
                applied += 1
            if isinstance(target, BatchedWrites):
                await target.flush()
            await self._save_positions(conn, records)
            failpoint("consumer.before_commit")  # applied, not yet committed
        # Counted only once committed: a retried transaction must not count twice.
        result.applied += applied
        result.duplicates += duplicates

    async def _save_positions_alone(self, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            if self._prepare is not None:
                await self._prepare(conn)
            await self._save_positions(conn, records)

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

    async def _dead_letter_counted(
        self, record: ConsumerRecord[Any, Any], reason: str, result: BatchResult
    ) -> None:
        await self.dead_letter(record, reason)
        result.dead_lettered += 1
        result.reasons.append(reason)

    async def dead_letter(self, record: ConsumerRecord[Any, Any], reason: str) -> None:
        headers = [
            *(record.headers or ()),
            *(
                (k, v.encode())
                for k, v in dead_letter_headers(
                    self.name, reason, record.topic, record.partition, record.offset
                ).items()
            ),
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
