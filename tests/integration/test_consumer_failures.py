"""The idempotent consumer's failure paths, in process, on a real database and a real broker."""

import dataclasses
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord

from scripts.leftovers import drop_database
from scripts.stack import database_url
from shared.consumer import IdempotentConsumer, RetryPolicy
from shared.contracts import EventEnvelope, EventMetadata, encode_event, new_envelope
from shared.contracts.enrollment import UnionKind, UnionRef, UnionRegistered
from shared.contracts.envelope import EventPayload
from shared.db import Conn, open_pool
from shared.kafka import ensure_topics
from tests.integration.conftest import read_topic

pytestmark = pytest.mark.integration

FAST = RetryPolicy(handler_attempts=3, first_backoff=0.01, max_backoff=0.05)


@pytest.fixture
async def pool(infra: dict[str, str], run_id: str) -> AsyncIterator[asyncpg.Pool]:
    name = f"zt_{run_id}_consumer_{uuid.uuid4().hex[:6]}"
    dsn = database_url(infra["POSTGRES_DSN"], name)
    p = await open_pool(dsn, "consumer-test", min_size=1, max_size=2)
    await p.execute("CREATE TABLE applied (event_id uuid PRIMARY KEY)")
    yield p
    await p.close()
    admin = await asyncpg.connect(database_url(infra["POSTGRES_DSN"], "postgres"))
    try:
        await drop_database(admin, name)
    finally:
        await admin.close()


@pytest.fixture
async def producer(infra: dict[str, str]) -> AsyncIterator[AIOKafkaProducer]:
    p = AIOKafkaProducer(bootstrap_servers=infra["KAFKA_BOOTSTRAP_SERVERS"])
    await p.start()
    yield p
    await p.stop()


def record(offset: int, envelope: EventEnvelope) -> ConsumerRecord[Any, Any]:
    return ConsumerRecord(
        topic="source.events.v1", partition=0, offset=offset, timestamp=0, timestamp_type=0,
        key=envelope.subject.encode(), value=encode_event(envelope), checksum=None,
        serialized_key_size=0, serialized_value_size=0, headers=[],
    )  # fmt: skip


def union_registered(name: str) -> EventEnvelope:
    union_id = uuid.uuid4()
    payload = UnionRegistered(
        union_id=union_id, name=name, kind=UnionKind.BASE, parent_id=None, region="330100",
        path=[UnionRef(union_id=union_id, name=name)],
    )  # fmt: skip
    return new_envelope(payload, source="test", subject=str(union_id), subject_version=1, correlation_id="c")


async def record_applied(conn: Conn, envelope: EventMetadata, payload: EventPayload) -> None:
    await conn.execute("INSERT INTO applied (event_id) VALUES ($1)", envelope.event_id)


async def test_a_handler_that_keeps_raising_is_dead_lettered_after_bounded_retries_and_the_rest_applied(
    pool: asyncpg.Pool, producer: AIOKafkaProducer, infra: dict[str, str], run_id: str
) -> None:
    dlq = f"t{run_id}.consumer-test.deadletter.{uuid.uuid4().hex[:6]}"
    await ensure_topics(infra["KAFKA_BOOTSTRAP_SERVERS"], {dlq: 1})
    attempts: list[str] = []

    async def apply(conn: Conn, envelope: EventMetadata, payload: EventPayload) -> None:
        if isinstance(payload, UnionRegistered) and payload.name == "broken":
            attempts.append(payload.name)
            raise ValueError("cannot project this union")
        await record_applied(conn, envelope, payload)

    consumer = IdempotentConsumer("test", pool, producer, dlq, apply, retry=FAST)
    events = [union_registered(n) for n in ("a", "b", "broken", "c", "d")]
    result = await consumer.handle_batch([record(i, e) for i, e in enumerate(events)])

    assert (result.applied, result.dead_lettered) == (4, 1)
    assert "handler failed after 3 attempts: ValueError('cannot project this union')" in result.reasons[0]
    assert len(attempts) == 1 + 3  # the whole batch once, then the event alone three times
    applied = {r["event_id"] for r in await pool.fetch("SELECT event_id FROM applied")}
    assert applied == {e.event_id for e in events if e.payload["name"] != "broken"}
    assert await pool.fetchval("SELECT \"offset\" FROM consumer_positions WHERE consumer = 'test'") == 4
    letters = await read_topic(infra["KAFKA_BOOTSTRAP_SERVERS"], dlq)
    assert len(letters) == 1 and dict(letters[0].headers)["deadletter_offset"] == b"2"

    again = await consumer.handle_batch([record(i, e) for i, e in enumerate(events) if i != 2])
    assert (again.applied, again.duplicates) == (0, 4)  # redelivery changes nothing


async def test_an_unavailable_database_is_retried_and_never_dead_letters(
    pool: asyncpg.Pool, producer: AIOKafkaProducer
) -> None:
    failures = [asyncpg.exceptions.CannotConnectNowError("the database system is starting up")] * 2

    async def flaky(conn: Conn, envelope: EventMetadata, payload: EventPayload) -> None:
        if failures:
            raise failures.pop()
        await record_applied(conn, envelope, payload)

    consumer = IdempotentConsumer("flaky", pool, producer, "unused.deadletter", flaky, retry=FAST)
    events = [union_registered(n) for n in ("x", "y")]
    result = await consumer.handle_batch([record(i, e) for i, e in enumerate(events)])
    assert (result.applied, result.dead_lettered, failures) == (2, 0, [])


async def test_an_event_breaking_the_input_policy_is_dead_lettered_with_the_reason_never_applied(
    pool: asyncpg.Pool, producer: AIOKafkaProducer, infra: dict[str, str], run_id: str
) -> None:
    """A NUL in a name would fail in PostgreSQL, a lone surrogate could not even be re-encoded:
    refused at decode (shared.inputs, the rule HTTP bodies keep), the rest of the batch applied."""
    dlq = f"t{run_id}.consumer-test.deadletter.{uuid.uuid4().hex[:6]}"
    await ensure_topics(infra["KAFKA_BOOTSTRAP_SERVERS"], {dlq: 1})
    consumer = IdempotentConsumer("policy", pool, producer, dlq, record_applied, retry=FAST)
    events = [union_registered(n) for n in ("a", "PLACEHOLDER", "PLACEHOLDER", "PLACEHOLDER", "b")]
    records = [record(i, e) for i, e in enumerate(events)]
    for i, hostile in ((1, rb"a\u0000b"), (2, rb"\ud800"), (3, rb"x\u009bx")):
        # The first "name" is the payload's own (the union's path repeats it).
        value = records[i].value.replace(b'"name":"PLACEHOLDER"', b'"name":"' + hostile + b'"', 1)
        records[i] = dataclasses.replace(records[i], value=value)
    result = await consumer.handle_batch(records)

    assert (result.applied, result.dead_lettered) == (2, 3)
    assert all(
        "refused by the input policy: event.payload.name: text may not contain" in r for r in result.reasons
    )
    applied = {r["event_id"] for r in await pool.fetch("SELECT event_id FROM applied")}
    assert applied == {events[0].event_id, events[4].event_id}
    letters = await read_topic(infra["KAFKA_BOOTSTRAP_SERVERS"], dlq)
    assert sorted(dict(x.headers)["deadletter_offset"] for x in letters) == [b"1", b"2", b"3"]
    assert all(b"input policy" in dict(x.headers)["deadletter_reason"] for x in letters)
