"""Transactional outbox: write the event with the state change, publish it afterwards.

`enqueue` runs inside the caller's transaction. `OutboxRelay` publishes committed rows to Kafka
in id order, waits for the broker's acknowledgement, then deletes them: at least once, in
per-key order. Only one relay per service publishes at a time (a PostgreSQL advisory lock), so
replicas cannot reorder a member's events; the others stand by and take over if it dies.
What it published to the service's own events topic is recorded (outbox_published), so that a
start after a point-in-time restore finds what the database forgot (shared/outbox_reconcile.py).
"""

import asyncio
import contextlib
import hashlib
import json
import uuid
from collections.abc import AsyncIterator

import asyncpg
from aiokafka import AIOKafkaProducer

from shared.contracts import EventEnvelope, encode_event
from shared.db import Conn
from shared.faults import failpoint
from shared.logging import get_logger
from shared.outbox_reconcile import reconcile, record_published

log = get_logger(__name__)

NOTIFY_CHANNEL = "outbox_ready"  # notified by the outbox's insert trigger


def event_headers(envelope: EventEnvelope) -> dict[str, str]:
    return {
        "event_type": envelope.event_type,
        "schema_version": str(envelope.schema_version),
        "correlation_id": envelope.correlation_id,
        "source": envelope.source,
    }


def kafka_headers(headers: dict[str, str]) -> list[tuple[str, bytes]]:
    """Headers as a Kafka record carries them (the relay publishes them so; consumers read them)."""
    return [(k, v.encode()) for k, v in headers.items()]


async def enqueue(
    conn: Conn,
    topic: str,
    envelope: EventEnvelope,
    *,
    state_topic: str | None = None,
    parts: tuple[str, ...] = (),
) -> None:
    """Add an event to the outbox; call inside the transaction that makes the change.

    With `parts`, the same record also goes to `state_topic`, once per state part, keyed
    `<subject>:<part>`: compaction keeps the latest per key, i.e. each part's latest whole state.
    Written in the event's own transaction, the state topic cannot disagree with the events."""
    if parts:
        assert state_topic is not None, "state parts need the publisher's state topic"
        # The outbox row id must be unique; the record itself (and its event_id) is the event's.
        ids = [envelope.event_id, *(uuid.uuid5(envelope.event_id, f"state:{p}") for p in parts)]
        await conn.execute(
            """INSERT INTO outbox (topic, key, event_id, event_type, headers, value)
               SELECT r.topic, r.key, r.id, $4, $5::jsonb, $6
               FROM unnest($1::text[], $2::text[], $3::uuid[]) WITH ORDINALITY AS r(topic, key, id, n)
               ORDER BY r.n""",
            [topic, *(state_topic for _ in parts)],
            [envelope.subject, *(f"{envelope.subject}:{p}" for p in parts)],
            ids,
            envelope.event_type,
            json.dumps(event_headers(envelope)),
            encode_event(envelope),
        )
        return
    await enqueue_record(
        conn,
        topic,
        key=envelope.subject,
        value=encode_event(envelope),
        headers=event_headers(envelope),
        record_id=envelope.event_id,
        kind=envelope.event_type,
    )


async def enqueue_record(
    conn: Conn,
    topic: str,
    *,
    key: str,
    value: bytes | None,
    headers: dict[str, str],
    record_id: uuid.UUID,
    kind: str,
) -> None:
    """Add any record (a dead letter, a notice to a partner) to the outbox, in the caller's
    transaction; `record_id` makes enqueueing the same record twice fail instead of doubling it.
    A `value` of None is a tombstone: it deletes `key` from a compacted topic."""
    await conn.execute(
        """INSERT INTO outbox (topic, key, event_id, event_type, headers, value)
           VALUES ($1, $2, $3, $4, $5::jsonb, $6)""",
        topic,
        key,
        record_id,
        kind,
        json.dumps(headers),
        value,
    )
    # The insert wakes the relay on commit (trigger of shared/migrations/0002_outbox_wakes_relay.sql).


class OutboxRelay:
    def __init__(
        self,
        dsn: str,
        producer: AIOKafkaProducer,
        service: str,
        *,
        batch_size: int = 500,
        idle_poll_seconds: float = 1.0,
        own_topic: str | None = None,
    ) -> None:
        self._dsn = dsn
        self._own_topic = own_topic
        self._producer = producer
        self._batch_size = batch_size
        self._idle_poll = idle_poll_seconds
        self._lock_key = int.from_bytes(
            hashlib.sha256(f"outbox-relay:{service}".encode()).digest()[:8], "big", signed=True
        )
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self.published = 0
        self.is_leader = False
        self.running = False  # the publishing loop is alive (leading or standing by)

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        """Publish until stopped; reconnect after database or broker failures."""
        self.running = True
        try:
            while not self._stopping.is_set():
                try:
                    await self._run_once_connected()
                except Exception as exc:  # any failure: back off and retry, never die silently
                    log.warning("outbox_relay_retrying", error=repr(exc))
                    self.is_leader = False
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), timeout=1.0)
        finally:
            self.running = False

    async def _run_once_connected(self) -> None:
        conn: Conn = await asyncpg.connect(self._dsn)
        try:
            while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", self._lock_key):
                self.is_leader = False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=2.0)
                if self._stopping.is_set():
                    return
            self.is_leader = True
            log.info("outbox_relay_leading")
            await conn.add_listener(NOTIFY_CHANNEL, self._on_notify)
            while not self._stopping.is_set():
                sent = await self.publish_batch(conn)
                if sent < self._batch_size:
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), timeout=self._idle_poll)
        finally:
            self.is_leader = False
            with contextlib.suppress(Exception):
                await conn.close()

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def publish_batch(self, conn: Conn) -> int:
        rows = await conn.fetch(
            "SELECT id, topic, key, headers, value FROM outbox ORDER BY id LIMIT $1",
            self._batch_size,
        )
        if not rows:
            return 0
        failpoint("outbox.before_publish")  # committed in the database, not yet in Kafka
        # send() queues in order per partition; awaiting all futures afterwards keeps batching.
        futures = [
            await self._producer.send(
                row["topic"],
                value=row["value"],
                key=row["key"].encode(),
                headers=kafka_headers(json.loads(row["headers"])),
            )
            for row in rows
        ]
        sent = await asyncio.gather(*futures)
        offsets: dict[int, int] = {}
        for row, meta in zip(rows, sent, strict=True):
            if row["topic"] == self._own_topic:
                offsets[meta.partition] = max(offsets.get(meta.partition, -1), meta.offset)
        async with conn.transaction():
            await conn.execute("DELETE FROM outbox WHERE id = ANY($1::bigint[])", [r["id"] for r in rows])
            if self._own_topic is not None and offsets:
                await record_published(conn, self._own_topic, offsets)
        self.published += len(rows)
        return len(rows)


@contextlib.asynccontextmanager
async def running_relay(
    dsn: str,
    producer: AIOKafkaProducer,
    service: str,
    *,
    bootstrap: str | None = None,
    own_topic: str | None = None,
) -> AsyncIterator[OutboxRelay]:
    """Publish the service's outbox in the background while the block runs, then stop it.

    With its own events topic (and the brokers to read it), the outbox is first reconciled with
    that topic, before the service takes a command (shared/outbox_reconcile.py).
    Rows still in the outbox at shutdown are published by the next start (or another replica)."""
    if bootstrap is not None and own_topic is not None:
        await reconcile(dsn, bootstrap, own_topic, source=service)
    relay = OutboxRelay(dsn, producer, service, own_topic=own_topic)
    task = asyncio.create_task(relay.run(), name="outbox-relay")
    try:
        yield relay
    finally:
        relay.stop()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(task, timeout=10)
