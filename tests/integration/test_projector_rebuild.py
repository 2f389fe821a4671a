"""Rebuilding the card read model without downtime: generations, the swap and the live consumer.

First the locking protocol in process, on a database of its own (deterministic: no timing
guesses about Kafka); then the whole thing on the running stack: `python -m services.projector
rebuild` as a subprocess while the projector runs, commands flow and cards are read.
"""

import asyncio
import json
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any, cast

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from scripts.leftovers import drop_database
from scripts.stack import database_url
from services.projector.app import MIGRATIONS
from services.projector.handlers.dispatch import apply_event
from services.projector.live import GenerationChanged, LiveGeneration
from services.projector.offsets import source_partitions
from services.projector.store import generations
from services.projector.store.generations import Generation
from shared.auth import Role
from shared.consumer import Apply, IdempotentConsumer
from shared.contracts import EventEnvelope, EventMetadata, decode_event, encode_event, new_envelope
from shared.contracts.enrollment import UnionKind, UnionRef, UnionRegistered
from shared.contracts.envelope import EventPayload
from shared.contracts.topics import ENROLLMENT_EVENTS
from shared.db import Conn, open_pool
from shared.replay import lock_key
from tests.integration.conftest import Stack, eventually, read_topic
from tests.integration.test_enrollment_to_card import Api

pytestmark = pytest.mark.integration

CONSUMER = "test-projector"
TOPIC = "test.enrollment.events.v1"


# --- the protocol, in process ----------------------------------------------------------------


@pytest.fixture
async def projector_pool(infra: dict[str, str], run_id: str) -> AsyncIterator[asyncpg.Pool]:
    """A projector database of its own, migrated: generation 1 is live."""
    dsn = database_url(infra["POSTGRES_DSN"], f"zt_{run_id}_generations_{uuid.uuid4().hex[:6]}")
    pool = await open_pool(dsn, "projector", [MIGRATIONS], min_size=1, max_size=4)
    yield pool
    await pool.close()
    admin = await asyncpg.connect(database_url(infra["POSTGRES_DSN"], "postgres"))
    try:
        await drop_database(admin, dsn.rsplit("/", 1)[1])
    finally:
        await admin.close()


class FakeKafkaConsumer:
    """What LiveGeneration.resync uses of an AIOKafkaConsumer: the assignment and seeks."""

    def __init__(self, *assigned: TopicPartition) -> None:
        self.assigned = set(assigned)
        self.seeks: dict[TopicPartition, int] = {}
        self.to_beginning: list[TopicPartition] = []

    def assignment(self) -> set[TopicPartition]:
        return set(self.assigned)

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.seeks[tp] = offset

    async def seek_to_beginning(self, *tps: TopicPartition) -> None:
        self.to_beginning.extend(tps)


def union_registered(name: str = "union") -> EventEnvelope:
    union_id = uuid.uuid4()
    payload = UnionRegistered(
        union_id=union_id,
        name=name,
        kind=UnionKind.BASE,
        parent_id=None,
        region="330100",
        path=[UnionRef(union_id=union_id, name=name)],
    )
    return new_envelope(payload, source="test", subject=str(union_id), subject_version=1, correlation_id="t")


def record(partition: int, offset: int, envelope: EventEnvelope) -> ConsumerRecord[Any, Any]:
    value = encode_event(envelope)
    return ConsumerRecord(
        topic=TOPIC, partition=partition, offset=offset, timestamp=0, timestamp_type=0,
        key=envelope.subject.encode(), value=value, checksum=None,
        serialized_key_size=len(envelope.subject), serialized_value_size=len(value), headers=[],
    )  # fmt: skip


def idempotent(pool: asyncpg.Pool, live: LiveGeneration, apply: Apply = apply_event) -> IdempotentConsumer:
    # No producer: none of these events is dead-lettered.
    return IdempotentConsumer(CONSUMER, pool, cast(Any, None), "test.deadletter", apply, prepare=live.prepare)


async def count(pool: asyncpg.Pool, schema: str, table: str) -> int:
    generations.checked(schema)
    return int(await pool.fetchval(f'SELECT count(*) FROM "{schema}"."{table}"'))


async def swap_to(pool: asyncpg.Pool, target: Generation) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await generations.active(conn, lock="update")
        await generations.point_to(conn, target)


async def waiting_for_the_row(pool: asyncpg.Pool, lock: str) -> bool:
    """Whether a session of this database is blocked taking projection_state's row `lock`."""
    return bool(
        await pool.fetchval(
            """SELECT count(*) > 0 FROM pg_stat_activity
               WHERE datname = current_database() AND wait_event_type = 'Lock'
                 AND query LIKE '%projection_state ' || $1""",
            lock,
        )
    )


async def test_every_new_generation_has_the_shape_of_the_migrated_one(projector_pool: asyncpg.Pool) -> None:
    async with projector_pool.acquire() as conn:
        live = await generations.active(conn)
        assert (live.schema, live.generation) == ("rm_1", 1)
        await generations.create(conn, "rm_2")
        # rm_1 was moved into place from migrations 0001; rm_2 comes from store/generation.sql.
        shape = await generations.describe(conn, "rm_1")
        assert shape == await generations.describe(conn, "rm_2")
        assert any(line.startswith("column consumer_positions.offset") for line in shape)
        assert await generations.present(conn) == [1, 2]
        with pytest.raises(ValueError, match="not a rm_<n> generation"):
            await generations.use_schema(conn, 'rm_1"; DROP TABLE x; --')
    await projector_pool.execute(
        "INSERT INTO rm_2.unions VALUES (gen_random_uuid(), 'x', 'base', NULL, 'r', '{}', '{}')"
    )
    assert await projector_pool.fetchval("SELECT count(*) FROM public.unions") == 0  # views: rm_1
    await swap_to(projector_pool, Generation("rm_2", 2))
    assert await projector_pool.fetchval("SELECT count(*) FROM public.unions") == 1  # views: rm_2


async def test_a_batch_that_begins_after_a_swap_applies_nothing_and_the_consumer_moves_to_the_new_positions(
    projector_pool: asyncpg.Pool,
) -> None:
    pool = projector_pool
    live = LiveGeneration(CONSUMER)
    live.bind(pool, lambda: None)
    tp0, tp1 = TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)
    first = FakeKafkaConsumer(tp0, tp1)
    await live.resync(first, "test")  # generation 1 tracks nothing yet: both from the beginning
    assert live.generation == 1 and not live.resync_due
    assert first.seeks == {} and sorted(first.to_beginning) == [tp0, tp1]
    consumer = idempotent(pool, live)
    await consumer.handle_batch([record(0, 0, union_registered())])
    assert await count(pool, "rm_1", "unions") == 1

    # A rebuild made rm_2, which tracked partition 0 up to offset 41 (not partition 1), and swapped.
    async with pool.acquire() as conn:
        await generations.create(conn, "rm_2")
    await pool.execute(
        """INSERT INTO rm_2.consumer_positions (consumer, topic, partition, "offset")
           VALUES ($1, $2, 0, 41)""",
        CONSUMER,
        TOPIC,
    )
    await swap_to(pool, Generation("rm_2", 2))

    # The handler still believes in generation 1: the batch's own transaction finds out.
    with pytest.raises(GenerationChanged):
        await consumer.handle_batch([record(0, 1, union_registered()), record(1, 0, union_registered())])
    assert live.resync_due
    assert [await count(pool, s, t) for s in ("rm_1", "rm_2") for t in ("unions", "processed_events")] == [
        1, 1, 0, 0,
    ]  # fmt: skip
    assert await pool.fetchval('SELECT "offset" FROM rm_1.consumer_positions WHERE partition = 0') == 0

    second = FakeKafkaConsumer(tp0, tp1)
    await live.resync(second, "test")
    assert live.generation == 2 and not live.resync_due
    assert second.seeks == {tp0: 42} and second.to_beginning == [tp1]
    await consumer.handle_batch([record(0, 42, union_registered()), record(1, 0, union_registered())])
    assert await count(pool, "rm_2", "unions") == 2 and await count(pool, "rm_1", "unions") == 1
    positions = await pool.fetch('SELECT partition, "offset" FROM rm_2.consumer_positions ORDER BY 1')
    assert [tuple(r) for r in positions] == [(0, 42), (1, 0)]


async def test_a_swap_waits_for_the_batch_in_flight_and_the_next_batch_waits_for_the_swap(
    projector_pool: asyncpg.Pool,
) -> None:
    pool = projector_pool
    live = LiveGeneration(CONSUMER)
    live.bind(pool, lambda: None)
    await live.resync(FakeKafkaConsumer(), "test")
    entered, release = asyncio.Event(), asyncio.Event()

    async def slow_apply(conn: Conn, envelope: EventMetadata, payload: EventPayload) -> None:
        entered.set()
        await release.wait()
        await apply_event(conn, envelope, payload)

    async with pool.acquire() as conn:
        await generations.create(conn, "rm_2")
    in_flight = asyncio.create_task(
        idempotent(pool, live, slow_apply).handle_batch([record(0, 0, union_registered())])
    )
    await asyncio.wait_for(entered.wait(), 5)

    async with pool.acquire() as swap, swap.transaction():
        locking = asyncio.create_task(generations.active(swap, lock="update"))
        # PostgreSQL itself shows the swap blocked on the row lock the batch in flight holds.
        await eventually(lambda: waiting_for_the_row(pool, "FOR UPDATE"), timeout=5)
        assert not locking.done(), "the swap must wait for the batch in flight"
        release.set()
        await asyncio.wait_for(in_flight, 5)
        await asyncio.wait_for(locking, 5)
        await generations.point_to(swap, Generation("rm_2", 2))

        following = asyncio.create_task(
            idempotent(pool, live).handle_batch([record(0, 1, union_registered())])
        )
        await eventually(lambda: waiting_for_the_row(pool, "FOR SHARE"), timeout=5)
        assert not following.done(), "a batch that begins during the swap must wait for it"
    with pytest.raises(GenerationChanged):
        await asyncio.wait_for(following, 5)
    # The batch in flight went into the old generation before the swap; the next one nowhere.
    assert await count(pool, "rm_1", "unions") == 1 and await count(pool, "rm_2", "unions") == 0


# --- the whole thing, on the running stack -------------------------------------------------------

BULK_EVENTS = 10_000  # so that the replay takes a while and reads land during it


@pytest.fixture
def api(stack_env: Stack, http: httpx.AsyncClient) -> Api:
    return Api(stack_env, http)


async def status(api: Api, headers: dict[str, str] | None = None) -> httpx.Response:
    return await api.http.get(f"{api.cards}/projection/status", headers=headers or api.admin)


async def caught_up(api: Api) -> dict[str, Any] | None:
    r = await status(api)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body if body["total_lag"] == 0 else None


async def run_rebuild(s: Stack, timeout: float = 240) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.projector", "rebuild",
        env=s.services["projector"].env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def _reached(condition: bool) -> bool:
    return condition


def log_events(stdout: str, event: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == event]


async def members_of(dsn: str, city: uuid.UUID, table: str) -> list[tuple[Any, ...]]:
    """(member_id, membership_number, card_number, base_union_id, status) of the city's members,
    from the enrollment service's members or from the card read model's live generation."""
    assert table in ("members", "cards")
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            f"""SELECT m.member_id, m.membership_number, m.card_number, m.base_union_id, m.status
                FROM {table} m JOIN unions u ON u.union_id = m.base_union_id
                WHERE u.path @> ARRAY[$1::uuid] ORDER BY m.member_id""",
            city,
        )
    finally:
        await conn.close()
    return [tuple(r) for r in rows]


async def test_rebuild_while_the_projector_serves_reads_and_commands_flow(
    api: Api, stack_env: Stack, kafka_producer: AIOKafkaProducer
) -> None:
    projector, enrollment = stack_env.services["projector"], stack_env.services["enrollment"]
    before = (await status(api)).json()
    assert before["active_schema"] == f"rm_{before['generation']}"
    topics = {p["topic"] for p in before["partitions"]}
    assert len(topics) >= 2 and len(before["partitions"]) == 3 * len(topics)  # TOPIC_PARTITIONS each

    # History to replay: the other tests' events plus bulk ones, all applied by the live projector.
    topic = stack_env.topic(ENROLLMENT_EVENTS)
    sent = [
        await kafka_producer.send(topic, encode_event(e), key=e.subject.encode())
        for e in (union_registered(f"bulk-{i}") for i in range(BULK_EVENTS))
    ]
    await asyncio.gather(*sent)
    await eventually(lambda: caught_up(api), timeout=120, interval=0.5)

    units = await api.tree()
    known = await api.enrolled_member(units["logistics"])
    await api.card_when(known["member_id"], "active")

    stop = asyncio.Event()
    enrolled: list[dict[str, Any]] = []
    reads: Counter[str] = Counter()
    failures: list[str] = []
    phase = ["before"]

    async def submit_and_approve(union_id: uuid.UUID) -> None:
        while not stop.is_set():
            enrolled.append(await api.enrolled_member(union_id))

    async def read_the_known_card() -> None:
        while not stop.is_set():
            r = await api.card(known["member_id"])
            ok = r.status_code == 200 and r.json()["membership"]["card_number"] == known["card_number"]
            reads[f"{phase[0]} {'ok' if ok else 'failed'}"] += 1
            if not ok:
                failures.append(f"{r.status_code} {r.text[:200]}")
            await asyncio.sleep(0.01)

    tasks = [
        asyncio.create_task(submit_and_approve(units["logistics"])),
        asyncio.create_task(submit_and_approve(units["riders"])),
        asyncio.create_task(read_the_known_card()),
    ]
    try:
        # The stream flows before the rebuild starts: members enrolled, the card read.
        await eventually(lambda: _reached(len(enrolled) >= 2 and reads["before ok"] >= 3), timeout=60)
        enrolled_before = len(enrolled)
        phase[0] = "during"
        started = time.perf_counter()
        code, out, err = await run_rebuild(stack_env)
        rebuild_s = time.perf_counter() - started
        enrolled_during = len(enrolled) - enrolled_before
        phase[0] = "after"
        enrolled_after_swap = len(enrolled)
        # And keeps flowing after the swap: more members enrolled, the card read again and again
        # from the new generation (every read that fails is recorded, asserted below).
        await eventually(
            lambda: _reached(len(enrolled) >= enrolled_after_swap + 2 and reads["after ok"] >= 20), timeout=60
        )
    finally:
        stop.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
    assert code == 0, out[-3000:] + err[-3000:]
    assert not [r for r in results if isinstance(r, BaseException)], results

    # The rebuild replayed everything, reported progress, and swapped in the next generation.
    assert "rebuilt the card read model into" in out
    [finished] = log_events(out, "rebuild_finished")
    assert finished["schema"] == f"rm_{before['generation'] + 1}"
    assert finished["previous"] == before["active_schema"]
    assert finished["events"] >= BULK_EVENTS and finished["dead_lettered"] >= 0
    assert finished["same_shape_as_previous"] is True
    progress = log_events(out, "rebuild_progress")
    assert {p["phase"] for p in progress} >= {"replay", "swap"}
    assert enrolled_during > 0, "commands must flow during the rebuild"

    # Reads never failed: before, during (old generation) and after the swap (new generation).
    assert failures == [] and reads["during ok"] > 0 and reads["after ok"] > 0, (reads, failures[:5])

    now = await eventually(lambda: caught_up(api), timeout=60, interval=0.3)
    assert now["generation"] == before["generation"] + 1
    assert now["active_schema"] == finished["schema"]
    # Caught up everywhere; a partition that has records has a tracked position.
    assert all(p["lag"] == 0 for p in now["partitions"])
    assert all(p["position"] is not None for p in now["partitions"] if p["end_offset"] > 0)

    # The new generation agrees with the enrollment service: every member approved by the stream
    # (before, during and after the rebuild) has a card with the right numbers and status.
    city = units["city"]
    expected = await members_of(enrollment.dsn, city, "members")
    assert len(expected) == 1 + len(enrolled)
    assert {str(m[0]) for m in expected} == {known["member_id"], *(m["member_id"] for m in enrolled)}
    assert await eventually(lambda: _equal(members_of(projector.dsn, city, "cards"), expected), timeout=30)
    # Nothing the old generation had is missing from the new one.
    conn = await asyncpg.connect(projector.dsn)
    try:
        missing = await conn.fetchval(
            f"""SELECT count(*) FROM "{before["active_schema"]}".cards o
                LEFT JOIN "{finished["schema"]}".cards n USING (member_id)
                WHERE n.member_id IS NULL OR n.version < o.version"""
        )
    finally:
        await conn.close()
    assert missing == 0

    # New events still reach the cards.
    newcomer = await api.enrolled_member(units["riders"])
    await api.card_when(newcomer["member_id"], "active")

    print(
        f"\nrebuild: {finished['events']} events replayed in {rebuild_s:.1f} s wall "
        f"({finished['seconds']} s inside; lock held {finished['lock_ms']} ms for "
        f"{finished['applied_under_lock']} events; {finished['catch_up_rounds']} catch-up rounds); "
        f"reads {dict(reads)}; failures {len(failures)}; members enrolled during the rebuild "
        f"{enrolled_during}, in all {len(enrolled)}"
    )


async def _equal(fetch: Any, expected: list[tuple[Any, ...]]) -> bool:
    got: list[tuple[Any, ...]] = await fetch
    return got == expected


async def test_status_is_for_admins_only(api: Api, stack_env: Stack) -> None:
    assert (await api.http.get(f"{api.cards}/projection/status")).status_code == 401
    cadre = stack_env.headers(Role.CADRE, union_id=uuid.uuid4())
    refused = await status(api, cadre)
    # A refusal is a problem details document (RFC 9457), as every service answers one.
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert (problem["status"], problem["code"]) == (403, "forbidden")
    assert problem["instance"] == "/projection/status" and problem["detail"]
    member = stack_env.headers(Role.MEMBER, member_id=uuid.uuid4())
    assert (await status(api, member)).status_code == 403


async def test_a_second_rebuild_keeps_only_the_previous_generation_and_one_runs_at_a_time(
    api: Api, stack_env: Stack
) -> None:
    projector = stack_env.services["projector"]
    live = (await status(api)).json()

    # While another rebuild holds the lock, a rebuild refuses to start and changes nothing.
    holder = await asyncpg.connect(projector.dsn)
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", lock_key("projector"))
        code, out, err = await run_rebuild(stack_env)
        assert code != 0 and "another rebuild of the card read model is running" in out + err
    finally:
        await holder.close()
    assert (await status(api)).json()["generation"] == live["generation"]

    code, out, err = await run_rebuild(stack_env)
    assert code == 0, out[-3000:] + err[-3000:]
    now = await eventually(lambda: caught_up(api), timeout=60, interval=0.3)
    assert now["generation"] == live["generation"] + 1
    conn = await asyncpg.connect(projector.dsn)
    try:
        assert await generations.present(conn) == [live["generation"], now["generation"]]
    finally:
        await conn.close()
    units = await api.tree()
    member = await api.enrolled_member(units["logistics"])
    await api.card_when(member["member_id"], "active")


async def test_a_restarted_projector_resumes_from_its_generation_positions_not_the_group_offsets(
    api: Api, stack_env: Stack
) -> None:
    """As after a crash between a swap and the live consumer's switch: the group's committed
    offsets are past what the live generation applied. Resuming from them would leave a gap."""
    projector = stack_env.services["projector"]
    topic = stack_env.topic(ENROLLMENT_EVENTS)
    units = await api.tree()
    projector.stop()
    try:
        member = await api.enrolled_member(units["logistics"])

        async def enrolled_on_topic() -> bool:
            records = await read_topic(stack_env.bootstrap, topic)
            mine = [r for r in records if r.key == member["member_id"].encode()]
            return any(decode_event(r.value)[0].event_type.endswith("MemberEnrolled") for r in mine)

        await eventually(enrolled_on_topic, timeout=30)
        group = AIOKafkaConsumer(
            bootstrap_servers=stack_env.bootstrap,
            group_id=f"{stack_env.topic_prefix}projector",
            enable_auto_commit=False,
        )
        await group.start()
        try:
            tps = await source_partitions(group, [topic])
            group.assign(tps)
            end = await group.end_offsets(tps)
            await group.commit({tp: end[tp] for tp in tps})  # past the member's events
        finally:
            await group.stop()
    finally:
        projector.start()
    await api.card_when(member["member_id"], "active")
