"""The outbox relay on a real database and a real broker, in process."""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from scripts.leftovers import drop_database
from scripts.stack import database_url
from shared.contracts import EventEnvelope, decode_event, encode_event, new_envelope
from shared.contracts.enrollment import UnionKind, UnionRef, UnionRegistered
from shared.db import open_pool
from shared.kafka import ensure_topics, make_producer
from shared.outbox import OutboxRelay, enqueue, enqueue_record
from shared.outbox_reconcile import reconcile
from tests.integration.conftest import eventually, read_topic

pytestmark = pytest.mark.integration


@pytest.fixture
async def outbox_db(infra: dict[str, str], run_id: str) -> AsyncIterator[str]:
    dsn = database_url(infra["POSTGRES_DSN"], f"zt_{run_id}_outbox_{uuid.uuid4().hex[:6]}")
    pool = await open_pool(dsn, "outbox-test", min_size=1, max_size=2)
    await pool.close()
    yield dsn
    admin = await asyncpg.connect(database_url(infra["POSTGRES_DSN"], "postgres"))
    try:
        await drop_database(admin, dsn.rsplit("/", 1)[1])
    finally:
        await admin.close()


def union_event(subject: uuid.UUID, version: int) -> EventEnvelope:
    payload = UnionRegistered(
        union_id=subject,
        name=f"v{version}",
        kind=UnionKind.BASE,
        parent_id=None,
        region="330100",
        path=[UnionRef(union_id=subject, name=f"v{version}")],
    )
    return new_envelope(
        payload, source="test", subject=str(subject), subject_version=version, correlation_id="relay-test"
    )


async def test_relay_publishes_every_committed_event_in_per_key_order_and_empties_the_outbox(
    infra: dict[str, str], outbox_db: str, run_id: str
) -> None:
    topic = f"t{run_id}.relay.{uuid.uuid4().hex[:6]}"
    await ensure_topics(infra["KAFKA_BOOTSTRAP_SERVERS"], {topic: 3})
    subjects = [uuid.uuid4() for _ in range(20)]
    conn = await asyncpg.connect(outbox_db)
    try:
        for version in range(1, 16):
            async with conn.transaction():
                for s in subjects:
                    await enqueue(conn, topic, union_event(s, version))
        # A rolled-back transaction leaves nothing to publish.
        with contextlib.suppress(RuntimeError):
            async with conn.transaction():
                await enqueue(conn, topic, union_event(uuid.uuid4(), 1))
                raise RuntimeError("rollback")

        producer = make_producer(infra["KAFKA_BOOTSTRAP_SERVERS"], "relay-test")
        await producer.start()
        relay = OutboxRelay(outbox_db, producer, f"relay-test-{run_id}", batch_size=37)
        task = asyncio.create_task(relay.run())
        try:
            await eventually(lambda: _outbox_empty(conn), timeout=30)
        finally:
            relay.stop()
            await task
            await producer.stop()
    finally:
        await conn.close()

    records = await read_topic(infra["KAFKA_BOOTSTRAP_SERVERS"], topic)
    assert len(records) == 20 * 15
    versions: dict[str, list[int]] = {}
    for r in sorted(records, key=lambda r: (r.partition, r.offset)):
        envelope, _ = decode_event(r.value)
        assert r.key.decode() == envelope.subject
        versions.setdefault(envelope.subject, []).append(envelope.subject_version)
    assert set(versions) == {str(s) for s in subjects}
    assert all(v == list(range(1, 16)) for v in versions.values())


async def _outbox_empty(conn: asyncpg.Connection) -> bool:
    return bool(await conn.fetchval("SELECT count(*) = 0 FROM outbox"))


async def test_only_one_relay_leads_and_a_standby_takes_over_when_it_stops(
    infra: dict[str, str], outbox_db: str, run_id: str
) -> None:
    service = f"leader-test-{run_id}"
    topic = f"t{run_id}.leader.{uuid.uuid4().hex[:6]}"
    await ensure_topics(infra["KAFKA_BOOTSTRAP_SERVERS"], {topic: 1})
    conn = await asyncpg.connect(outbox_db)
    producer = make_producer(infra["KAFKA_BOOTSTRAP_SERVERS"], "leader-test")
    await producer.start()
    first = OutboxRelay(outbox_db, producer, service)
    second = OutboxRelay(outbox_db, producer, service)
    t1 = asyncio.create_task(first.run())
    await eventually(lambda: _is(first.is_leader))
    t2 = asyncio.create_task(second.run())
    try:
        # The standby has had its chance: its session asked for the lock (and was refused, or it
        # would be publishing), and a row enqueued since was published by the leader.
        await eventually(lambda: _asked_for_the_lock_and_waits(conn), timeout=10)
        async with conn.transaction():
            await enqueue(conn, topic, union_event(uuid.uuid4(), 1))
        await eventually(lambda: _outbox_empty(conn), timeout=10)
        assert (first.published, second.published) == (1, 0)
        assert first.is_leader and not second.is_leader
        assert first.running and second.running  # readiness: both loops alive, one leading
        first.stop()
        await t1
        assert not first.running  # what /health/ready reports once a relay's loop has ended
        await eventually(lambda: _is(second.is_leader), timeout=10)
    finally:
        first.stop()
        second.stop()
        await asyncio.gather(t1, t2)
        await producer.stop()
        await conn.close()


async def _asked_for_the_lock_and_waits(conn: asyncpg.Connection) -> bool:
    """A relay session other than the leader's ran pg_try_advisory_lock and is idle after it."""
    return bool(
        await conn.fetchval(
            """SELECT count(*) > 0 FROM pg_stat_activity
               WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'idle'
                 AND query LIKE 'SELECT pg_try_advisory_lock%'
                 AND NOT EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = pg_stat_activity.pid
                                 AND l.locktype = 'advisory' AND l.granted)"""
        )
    )


async def _is(value: bool) -> bool:
    return value


async def test_reconcile_after_a_restore_deletes_what_was_published_and_reports_what_was_lost(
    infra: dict[str, str], outbox_db: str, run_id: str
) -> None:
    """A restored database forgot that it published A (its row is back in the outbox) and never
    knew C (committed after the restore point, yet on the topic): A is not published again, C
    is reported and its subject's version moves past it; another producer's record is ignored."""
    bootstrap = infra["KAFKA_BOOTSTRAP_SERVERS"]
    topic = f"t{run_id}.reconcile.{uuid.uuid4().hex[:6]}"
    await ensure_topics(bootstrap, {topic: 2})
    a, b, c = union_event(uuid.uuid4(), 1), union_event(uuid.uuid4(), 1), union_event(uuid.uuid4(), 1)
    conn = await asyncpg.connect(outbox_db)
    producer = make_producer(bootstrap, "reconcile-test")
    await producer.start()
    try:
        assert (await reconcile(outbox_db, bootstrap, topic, source="test")).scanned == 0
        async with conn.transaction():
            for e in (a, b):
                await enqueue(conn, topic, e)
                await conn.execute("INSERT INTO event_versions VALUES ($1, 1)", e.subject)
        relay = OutboxRelay(outbox_db, producer, f"reconcile-{run_id}", own_topic=topic)
        task = asyncio.create_task(relay.run())
        await eventually(lambda: _outbox_empty(conn))
        relay.stop()
        await task
        published = await conn.fetch(
            'SELECT partition, "offset" FROM outbox_published WHERE topic = $1', topic
        )
        assert sum(r["offset"] + 1 for r in published) == 2, published

        # The restore: positions and A's deletion undone; C published by the lost database.
        await conn.execute('UPDATE outbox_published SET "offset" = -1 WHERE topic = $1', topic)
        await enqueue(conn, topic, a)
        await producer.send_and_wait(topic, encode_event(c), key=c.subject.encode())
        foreign = new_envelope(
            UnionRegistered.model_validate(c.payload), source="someone-else", subject=c.subject,
            subject_version=7, correlation_id="foreign",
        )  # fmt: skip
        await producer.send_and_wait(topic, encode_event(foreign), key=c.subject.encode())

        found = await reconcile(outbox_db, bootstrap, topic, source="test")
        assert (found.scanned, found.already_published, found.orphans) == (4, 1, 1)
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 0
        orphans = await conn.fetch("SELECT event_id, subject, subject_version FROM outbox_orphans")
        assert [(r["event_id"], r["subject"], r["subject_version"]) for r in orphans] == [
            (c.event_id, c.subject, 1)
        ]
        versions = {r["subject"]: r["version"] for r in await conn.fetch("SELECT * FROM event_versions")}
        assert versions == {a.subject: 1, b.subject: 1, c.subject: 1}
        # Read once: the next start has nothing left to look at.
        assert (await reconcile(outbox_db, bootstrap, topic, source="test")).scanned == 0
        ids = [decode_event(r.value)[0].event_id for r in await read_topic(bootstrap, topic)]
        assert sorted(map(str, ids)) == sorted(str(e.event_id) for e in (a, b, c, foreign))
    finally:
        await producer.stop()
        await conn.close()


async def test_a_record_without_a_value_goes_out_as_a_tombstone(
    infra: dict[str, str], outbox_db: str, run_id: str
) -> None:
    """Erasure deletes a key from a compacted topic with a null value, through the outbox."""
    topic = f"t{run_id}.tombstone.{uuid.uuid4().hex[:6]}"
    await ensure_topics(infra["KAFKA_BOOTSTRAP_SERVERS"], {topic: 1})
    key = str(uuid.uuid4())
    conn = await asyncpg.connect(outbox_db)
    try:
        async with conn.transaction():
            for value in (b"the key", None):
                await enqueue_record(
                    conn, topic, key=key, value=value, headers={"kind": "test"},
                    record_id=uuid.uuid4(), kind="test",
                )  # fmt: skip
        producer = make_producer(infra["KAFKA_BOOTSTRAP_SERVERS"], "tombstone-test")
        await producer.start()
        try:
            relay = OutboxRelay(outbox_db, producer, f"tombstone-test-{run_id}")
            assert await relay.publish_batch(conn) == 2
        finally:
            await producer.stop()
        assert await _outbox_empty(conn)
    finally:
        await conn.close()
    records = await read_topic(infra["KAFKA_BOOTSTRAP_SERVERS"], topic)
    assert [(r.key.decode(), r.value) for r in records] == [(key, b"the key"), (key, None)]
