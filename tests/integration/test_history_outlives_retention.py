"""History outlives retention (docs/retention.md): once the broker's retention has deleted the
enrollment events, a rebuild of the card and a brand-new consumer group still reach every
member, from enrollment's compacted state topic.

A stack of its own (enrollment, then the projector and relief), on topics of its own: the events
topic is made with a retention of seconds (topic configs, not the shared broker's defaults).
The broker deletes expired segments at its retention check (`log.retention.check.interval.ms`;
deploy/kafka/server.properties.in sets 10 s, a broker started with an older file 5 min): the test
waits for that check, however long the broker says it is.
"""

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from scripts import leftovers, stack
from scripts.stack import free_port
from shared.contracts.topics import ENROLLMENT_EVENTS, ENROLLMENT_STATE
from tests.conftest import AUTH_SECRET, PII_KEY, RunningService, Stack
from tests.integration.conftest import eventually
from tests.integration.test_enrollment_to_card import Api
from tests.integration.test_projector_rebuild import members_of, run_rebuild

pytestmark = pytest.mark.integration

RETENTION_MS = 3000
PARTITIONS = 3


async def topic_configs(admin: AIOKafkaAdminClient, kind: ConfigResourceType, name: str) -> dict[str, str]:
    [response] = await admin.describe_configs([ConfigResource(kind, name)])
    [(_, _, _, _, entries)] = response.resources
    return {entry[0]: entry[1] for entry in entries}


@pytest.fixture
def retention_stack(infra: dict[str, str], run_id: str, tmp_path: Path) -> Iterator[Stack]:
    """Enrollment, projector and relief on this test's topics and databases; none started yet."""
    s = Stack(
        run_id=run_id,
        topic_prefix=f"t{run_id}.retention.",
        bootstrap=infra["KAFKA_BOOTSTRAP_SERVERS"],
        postgres_dsn=infra["POSTGRES_DSN"],
    )
    for spec in stack.SERVICES:
        if spec.name not in ("enrollment", "projector", "relief"):
            continue
        database = f"zt_{run_id}_retention_{spec.name}"
        env = stack.service_env(
            spec,
            port=(port := free_port()),
            database=database,
            topic_prefix=s.topic_prefix,
            extra={
                "KAFKA_BOOTSTRAP_SERVERS": s.bootstrap,
                "AUTH_SECRET": AUTH_SECRET,
                "PII_KEY": PII_KEY,
                "TOPIC_PARTITIONS": str(PARTITIONS),
            },
        )
        s.services[spec.name] = RunningService(spec, port, database, env, tmp_path / f"{spec.name}.log")
    try:
        yield s
    finally:
        for svc in s.services.values():
            svc.stop()
        asyncio.run(_drop(s))


async def _drop(s: Stack) -> None:
    conn = await asyncpg.connect(stack.database_url(s.postgres_dsn, "postgres"))
    try:
        for svc in s.services.values():
            await leftovers.drop_database(conn, svc.database)
    finally:
        await conn.close()


@pytest.fixture
async def admin(retention_stack: Stack) -> AsyncIterator[AIOKafkaAdminClient]:
    client = AIOKafkaAdminClient(bootstrap_servers=retention_stack.bootstrap)
    await client.start()
    yield client
    await client.close()


async def offsets(bootstrap: str, topic: str) -> tuple[dict[int, int], dict[int, int]]:
    """(earliest, end) offset of each partition."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        earliest = await consumer.beginning_offsets(tps)
        end = await consumer.end_offsets(tps)
        return {tp.partition: earliest[tp] for tp in tps}, {tp.partition: end[tp] for tp in tps}
    finally:
        await consumer.stop()


async def rows(dsn: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    conn = await asyncpg.connect(dsn)
    try:
        return [tuple(r) for r in await conn.fetch(sql, *args)]
    finally:
        await conn.close()


async def test_a_rebuild_and_a_new_consumer_group_reach_every_member_after_retention_deleted_the_history(
    retention_stack: Stack, admin: AIOKafkaAdminClient, http: httpx.AsyncClient
) -> None:
    s = retention_stack
    events = s.topic(ENROLLMENT_EVENTS)
    await admin.create_topics(
        [
            NewTopic(
                events,
                PARTITIONS,
                1,
                # Expired after seconds; segments roll every 100 ms, so whole segments can expire.
                topic_configs={"retention.ms": str(RETENTION_MS), "segment.ms": "100"},
            )
        ]
    )
    enrollment = s.services["enrollment"]
    enrollment.start()
    state = await topic_configs(admin, ConfigResourceType.TOPIC, s.topic(ENROLLMENT_STATE))
    assert (state["cleanup.policy"], state["retention.ms"]) == ("compact", "-1")

    # The history: unions, members, a transfer accepted, one waiting, a member who left.
    api = Api(s, http)
    units = await api.tree()
    far = await api.union("宁波某厂工会", "base", units["other_city"])
    members = [await api.enrolled_member(units["logistics"]) for _ in range(8)]
    moved, waiting, gone = (m["member_id"] for m in members[:3])
    ask = await http.post(
        f"{api.enrollment}/members/{moved}/transfers",
        json={"to_union_id": str(units["riders"]), "reason": "换工作"},  # same district: accepted at once
        headers=api.admin,
    )
    assert (ask.status_code, ask.json()["status"]) == (200, "accepted"), ask.text
    pending = await http.post(
        f"{api.enrollment}/members/{waiting}/transfers",
        json={"to_union_id": str(far), "reason": "去宁波"},
        headers=api.admin,
    )
    assert pending.status_code == 201, pending.text
    left = await http.post(
        f"{api.enrollment}/members/{gone}/leave", json={"reason": "退休"}, headers=api.admin
    )
    assert left.status_code == 200, left.text

    async def published() -> bool:
        [(waiting_rows,)] = await rows(enrollment.dsn, "SELECT count(*) FROM outbox")
        return bool(waiting_rows == 0)

    await eventually(published)
    _, written = await offsets(s.bootstrap, events)
    assert sum(written.values()) >= 8 * 3  # at least submitted, enrolled (and more) per member

    # The broker's retention deletes all of it: every partition now starts where it ended.
    broker = await topic_configs(admin, ConfigResourceType.BROKER, "1")
    check_s = int(broker["log.retention.check.interval.ms"]) / 1000

    async def expired() -> dict[int, int] | None:
        earliest, _ = await offsets(s.bootstrap, events)
        return earliest if all(earliest[p] >= written[p] for p in written) else None

    earliest = await eventually(expired, timeout=check_s + 60, interval=1.0)
    assert all(earliest[p] > 0 for p in written if written[p] > 0)

    # Newer history on top of the deleted one: a member who joins now, an old one who leaves.
    late = await api.enrolled_member(units["riders"])
    later_gone = members[3]["member_id"]
    left = await http.post(
        f"{api.enrollment}/members/{later_gone}/leave", json={"reason": "调离"}, headers=api.admin
    )
    assert left.status_code == 200, left.text
    await eventually(published)
    expected = await members_of(enrollment.dsn, units["city"], "members")
    assert len(expected) == 9
    statuses = {str(m[0]): (m[3], m[4]) for m in expected}
    assert statuses[moved] == (units["riders"], "active")
    assert statuses[gone][1] == statuses[later_gone][1] == "left"
    assert statuses[late["member_id"]] == (units["riders"], "active")

    # Brand-new consumer groups: the projector's and relief's start only now.
    projector, relief = s.services["projector"], s.services["relief"]
    projector.start()
    relief.start()

    async def cards_complete() -> bool:
        return await members_of(projector.dsn, units["city"], "cards") == expected

    await eventually(cards_complete, timeout=60)
    membership = [(m[0], m[3], m[4]) for m in expected]

    async def relief_complete() -> bool:
        held = await rows(
            relief.dsn,
            "SELECT member_id, base_union_id, status FROM members WHERE member_id = ANY($1) ORDER BY member_id",
            [m[0] for m in expected],
        )
        return held == membership

    await eventually(relief_complete, timeout=60)

    async def card_parts() -> None:
        """What the card shows beyond membership: the application and the waiting transfer."""
        for member_id in statuses:
            r = await api.card(member_id)
            assert r.status_code == 200, r.text
            card = r.json()
            assert card["application"]["status"] == "approved", card
            transfer = card["pending_transfer"]
            if member_id == waiting:
                assert transfer["transfer_id"] == pending.json()["transfer_id"], card
            else:
                assert transfer is None, card

    await card_parts()

    # A rebuild replays what the topics hold now into a new generation: the same cards.
    code, out, err = await run_rebuild(s)
    assert code == 0, err
    assert "rebuilt the card read model into" in out
    assert await members_of(projector.dsn, units["city"], "cards") == expected
    await card_parts()
