"""Person keys on their way to the consumers (crypto-shredding, docs/erasure.md).

Enrollment makes one data key per person (kept wrapped in its database) and publishes it on the
compacted topic PERSON_KEYS, keyed by person id, wrapped with a key every service derives from
the PERSON_KEY_SECRET they share. The record goes through the outbox in the transaction that first
seals something of that person, so it is published before any event that needs it. On erasure
enrollment deletes its copy and publishes ERASED under the same key: compaction keeps that
marker (no key) for ever, so every consumer, now or in any later replay, learns that the
person's sealed fields cannot be opened — as opposed to a key it has not read yet.

A consuming service follows the topic (KeyBook: no group, from the beginning, held in memory)
and opens sealed fields as events are decoded (`open_sealed`): handlers see clear text, or ""
for an erased person; such an event is applied, never dead-lettered for it.
"""

import asyncio
import contextlib
import uuid
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import BaseModel

from shared.consumer import ConsumerStopping
from shared.db import Conn
from shared.kafka import ensure_topics
from shared.logging import get_logger
from shared.outbox import enqueue_record
from shared.shredding import KeyWrapper, Sealed, Unreadable, unseal

log = get_logger(__name__)

ERASED = b"erased"  # the value that says: this person's key is gone for good
_TRANSIT = b"zhijia person keys in transit"
_AWAIT_LOG_EVERY = 100  # polls of 0.1 s: a missing key is logged every 10 s while awaited

M = TypeVar("M", bound=BaseModel)


def transit_wrapper(shared_secret: str) -> KeyWrapper:
    """Wraps data keys on the key topic; every service derives it from the shared PERSON_KEY_SECRET."""
    return KeyWrapper(shared_secret, _TRANSIT)


async def publish_key(
    conn: Conn, topic: str, person_id: uuid.UUID, data_key: bytes, transit: KeyWrapper
) -> None:
    await _publish(conn, topic, person_id, transit.wrap(person_id, data_key))


async def publish_erased(conn: Conn, topic: str, person_id: uuid.UUID) -> None:
    await _publish(conn, topic, person_id, ERASED)


async def _publish(conn: Conn, topic: str, person_id: uuid.UUID, value: bytes) -> None:
    await enqueue_record(
        conn, topic, key=str(person_id), value=value, headers={"event_type": "person_key"},
        record_id=uuid.uuid4(), kind="person_key",
    )  # fmt: skip


class KeyBook:
    """Every person key on the topic, followed from its beginning (no consumer group)."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        shared_secret: str,
        partitions: int,
        stopping: asyncio.Event | None = None,
    ) -> None:
        self._bootstrap, self._topic, self._partitions = bootstrap, topic, partitions
        # Set when the service stops: a batch awaiting a key is given back (ConsumerStopping).
        self._stopping = stopping or asyncio.Event()
        self._transit = transit_wrapper(shared_secret)
        self._keys: dict[uuid.UUID, bytes | None] = {}  # None: erased
        self._consumer: Any = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await ensure_topics(self._bootstrap, {self._topic: self._partitions})
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap, enable_auto_commit=False, group_id=None
        )
        await consumer.start()
        self._consumer = consumer
        parts = consumer.partitions_for_topic(self._topic)
        while not parts:
            await consumer._client.force_metadata_update()  # a topic just created
            parts = consumer.partitions_for_topic(self._topic)
        tps = [TopicPartition(self._topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        self._task = asyncio.create_task(self._follow(), name="person-keys")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()

    async def _follow(self) -> None:
        while True:
            try:
                batch = await self._consumer.getmany(timeout_ms=500)
            except Exception as exc:  # the broker away: keep the keys held, read on later
                log.warning("person_keys_retrying", error=repr(exc))
                await asyncio.sleep(1)
                continue
            for records in batch.values():
                for record in records:
                    self._take(record.key, record.value)

    def _take(self, key: bytes | None, value: bytes | None) -> None:
        try:
            person_id = uuid.UUID((key or b"").decode())
        except ValueError:
            log.warning("person_key_record_without_person")
            return
        if value is None or value == ERASED:
            self._keys[person_id] = None
            return
        try:
            self._keys[person_id] = self._transit.unwrap(person_id, value)
        except Unreadable:
            # Another PERSON_KEY_SECRET than enrollment's: the person's events wait for a key that opens.
            log.error("person_key_does_not_unwrap", person_id=str(person_id))

    async def key_of(self, person_id: uuid.UUID) -> bytes | None:
        """The person's data key; None once they are erased. A key not read yet is awaited: it
        was published before any event that uses it."""
        polls = 0
        while person_id not in self._keys:
            if self._stopping.is_set():
                raise ConsumerStopping(f"stopping while awaiting the key of {person_id}")
            polls += 1
            if polls % _AWAIT_LOG_EVERY == 0:
                log.warning("person_key_awaited", person_id=str(person_id))
            await asyncio.sleep(0.1)
        return self._keys[person_id]

    async def open_sealed(self, model: M) -> M:
        """The model with every sealed field (nested models included) opened, or "" where the
        person is erased."""
        update: dict[str, Any] = {}
        for name in type(model).model_fields:
            value = getattr(model, name)
            if isinstance(value, Sealed):
                key = await self.key_of(value.key_id)
                try:
                    update[name] = unseal(key, value)
                except Unreadable:
                    if key is not None:  # not erased: the key on the topic is not the sealing one
                        log.error("sealed_field_does_not_open", person_id=str(value.key_id))
                    update[name] = ""
            elif isinstance(value, BaseModel):
                opened = await self.open_sealed(value)
                if opened is not value:
                    update[name] = opened
        return model.model_copy(update=update) if update else model
