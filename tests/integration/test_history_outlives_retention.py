"""History outlives retention (docs/retention.md): once the broker's retention has deleted the
enrollment, relief and legal events, a rebuild of the card and brand-new consumer groups still
reach every member, from the compacted state topics.

A stack of its own (enrollment, relief and legal; later the projector and competitions), on
topics of its own:
the events topics are made with a retention of seconds (topic configs, not the shared broker's
defaults, which other tests use).
The broker deletes expired segments at its retention check (`log.retention.check.interval.ms`;
deploy/kafka/server.properties.in sets 10 s, a broker started with an older file 5 min): the test
waits for that check, however long the broker says it is.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from scripts import stack
from scripts.seed_state import seed
from scripts.stack import free_port
from shared.auth import Role
from shared.contracts import decode_event, encode_event, new_envelope
from shared.contracts.enrollment import (
    EmploymentType,
    MemberEnrolled,
    MemberLeft,
    MembershipPeriod,
    MembershipStatus,
    MemberSnapshot,
    TransferRequested,
    TransferSnapshot,
    TransferStatus,
)
from shared.contracts.envelope import EventPayload
from shared.contracts.topics import (
    ENROLLMENT_EVENTS,
    ENROLLMENT_STATE,
    LEGAL_EVENTS,
    LEGAL_STATE,
    RELIEF_EVENTS,
    RELIEF_STATE,
)
from shared.kafka import ensure_topics, running_producer
from shared.outbox import event_headers, kafka_headers
from tests.conftest import PII_KEY, RunningService, Stack, drop_databases, token_secrets
from tests.integration.conftest import eventually, read_topic
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
    """Enrollment, relief, legal, projector, competitions on this test's topics and databases."""
    s = Stack(
        run_id=run_id,
        topic_prefix=f"t{run_id}.retention.",
        bootstrap=infra["KAFKA_BOOTSTRAP_SERVERS"],
        postgres_dsn=infra["POSTGRES_DSN"],
    )
    for spec in stack.SERVICES:
        if spec.name not in ("enrollment", "relief", "legal", "projector", "competitions"):
            continue
        database = f"zt_{run_id}_retention_{spec.name}"
        env = stack.service_env(
            spec,
            port=(port := free_port()),
            database=database,
            topic_prefix=s.topic_prefix,
            extra={
                "KAFKA_BOOTSTRAP_SERVERS": s.bootstrap,
                **token_secrets(),
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
        asyncio.run(drop_databases(s))


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
    short_lived = [s.topic(ENROLLMENT_EVENTS), s.topic(RELIEF_EVENTS), s.topic(LEGAL_EVENTS)]
    await admin.create_topics(
        [
            # Expired after seconds; segments roll every 100 ms, so whole segments can expire.
            NewTopic(t, PARTITIONS, 1, topic_configs={"retention.ms": str(RETENTION_MS), "segment.ms": "100"})
            for t in short_lived
        ]
    )
    enrollment, relief, legal = s.services["enrollment"], s.services["relief"], s.services["legal"]
    for svc in (enrollment, relief, legal):
        svc.start()
    for topic in (ENROLLMENT_STATE, RELIEF_STATE, LEGAL_STATE):
        state = await topic_configs(admin, ConfigResourceType.TOPIC, s.topic(topic))
        assert (state["cleanup.policy"], state["retention.ms"]) == ("compact", "-1")

    # The history: unions, members, a transfer accepted, one waiting, a member who left.
    api = Api(s, http)

    def own(member_id: str) -> dict[str, str]:
        return s.headers(Role.MEMBER, member_id=uuid.UUID(member_id))

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
    # A hardship case (困难职工帮扶), reported and then visited and sent for verification.
    needy = members[4]["member_id"]
    grid_worker = api.cadre(units["logistics"])
    report = {"member_id": needy, "household_register_no": "330100123456", "household_size": 3,
              "monthly_income_fen": 240_000, "causes": ["illness"]}  # fmt: skip

    async def opened() -> dict[str, Any] | None:
        r = await http.post(f"{relief.url}/cases", json=report, headers=grid_worker)
        return r.json() if r.status_code == 201 else None  # once relief has the member

    case_id = (await eventually(opened))["case"]["case_id"]
    visit = {"visited_on": "2026-11-20", "household_size": 3, "monthly_income_fen": 240_000,
             "causes": ["illness"], "findings": "入户核实"}  # fmt: skip
    r = await http.post(f"{relief.url}/cases/{case_id}/visits", json=visit, headers=grid_worker)
    assert r.status_code == 200, r.text
    r = await http.post(
        f"{relief.url}/cases/{case_id}/verification", json={"note": "核实"}, headers=grid_worker
    )
    assert r.status_code == 200, r.text
    # A labour dispute (劳动争议), filed by the worker and accepted: its clock starts.
    worker = members[5]["member_id"]
    filing = {"kind": "wage_arrears", "employer": "某物流分拣中心", "amount_claimed_fen": 680_000,
              "learned_on": (date.today() - timedelta(days=20)).isoformat(), "migrant_worker": True}  # fmt: skip

    async def filed() -> dict[str, Any] | None:
        r = await http.post(f"{legal.url}/cases", json=filing, headers=own(worker))
        return r.json() if r.status_code == 201 else None  # once legal has the member

    dispute = await eventually(filed)  # the case as filed: case_id, case_no…
    r = await http.post(
        f"{legal.url}/cases/{dispute['case_id']}/disposition",
        json={"disposition": "accept"},
        headers=grid_worker,
    )
    assert r.status_code == 200, r.text

    async def published() -> bool:
        waiting_rows = [
            (await rows(svc.dsn, "SELECT count(*) FROM outbox"))[0][0] for svc in (enrollment, relief, legal)
        ]
        return waiting_rows == [0, 0, 0]

    await eventually(published)
    written = {t: (await offsets(s.bootstrap, t))[1] for t in short_lived}
    assert sum(written[s.topic(ENROLLMENT_EVENTS)].values()) >= 8 * 3  # submitted, enrolled… per member
    assert sum(written[s.topic(RELIEF_EVENTS)].values()) >= 2
    assert sum(written[s.topic(LEGAL_EVENTS)].values()) >= 2

    # The broker's retention deletes all of it: every partition now starts where it ended.
    broker = await topic_configs(admin, ConfigResourceType.BROKER, "1")
    check_s = int(broker["log.retention.check.interval.ms"]) / 1000

    async def expired() -> dict[str, dict[int, int]] | None:
        earliest = {t: (await offsets(s.bootstrap, t))[0] for t in short_lived}
        gone = all(earliest[t][p] >= end for t in short_lived for p, end in written[t].items())
        return earliest if gone else None

    earliest = await eventually(expired, timeout=check_s + 60, interval=1.0)
    assert all(earliest[t][p] > 0 for t in short_lived for p, end in written[t].items() if end > 0)

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

    # Brand-new consumer groups: the projector's and competitions' (a membership view) start now.
    projector, competitions = s.services["projector"], s.services["competitions"]
    projector.start()
    competitions.start()

    async def cards_complete() -> bool:
        return await members_of(projector.dsn, units["city"], "cards") == expected

    await eventually(cards_complete, timeout=60)
    membership = [(m[0], m[3], m[4]) for m in expected]

    async def membership_complete() -> bool:
        held = await rows(
            competitions.dsn,
            "SELECT member_id, base_union_id, status FROM members WHERE member_id = ANY($1) ORDER BY member_id",
            [m[0] for m in expected],
        )
        return held == membership

    await eventually(membership_complete, timeout=60)

    async def card_parts() -> None:
        """What the card shows beyond membership: the application, the waiting transfer, the
        hardship case and the dispute (the admin reads the card without the last two: only
        their member may)."""
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
        r = await api.card(needy, own(needy))
        assert r.status_code == 200, r.text
        assert r.json()["relief"]["case_id"] == case_id
        assert r.json()["relief"]["status"] == "verification_requested"
        r = await api.card(worker, own(worker))
        assert r.status_code == 200, r.text
        [case] = r.json()["legal_cases"]
        assert (case["case_no"], case["kind"]) == (dispute["case_no"], "wage_arrears")
        assert case["stage"] != "intake" and case["next_deadline"] is not None, case

    await card_parts()

    # A rebuild replays what the topics hold now into a new generation: the same cards.
    code, out, err = await run_rebuild(s)
    assert code == 0, err
    assert "(generation 2," in out, out  # a new generation, filled from the topics alone
    assert await members_of(projector.dsn, units["city"], "cards") == expected
    await card_parts()


def member_snapshot(member_id: uuid.UUID, union_id: uuid.UUID, status: str) -> MemberSnapshot:
    now = datetime.now(UTC)
    return MemberSnapshot(
        member_id=member_id, name="李四", national_id_masked="3301**********1234", membership_number="ZJ1",
        card_number="6217000012345678", base_union_id=union_id, status=MembershipStatus(status),
        member_since=date(2026, 1, 1), employer="个体", employment_type=EmploymentType.FLEXIBLE,
        periods=[MembershipPeriod(union_id=union_id, started_at=now)],
    )  # fmt: skip


async def test_seeding_a_new_state_topic_keeps_each_subjects_latest_event_per_part(
    infra: dict[str, str], run_id: str
) -> None:
    """An upgraded deployment's state topic starts empty: scripts/seed_state fills it from the
    events still kept, the latest per subject and part, the original bytes."""
    bootstrap = infra["KAFKA_BOOTSTRAP_SERVERS"]
    prefix = f"t{run_id}.seed{uuid.uuid4().hex[:6]}."
    events = f"{prefix}{ENROLLMENT_EVENTS}"
    await ensure_topics(bootstrap, {events: PARTITIONS})
    member, union = uuid.uuid4(), uuid.uuid4()
    t = TransferSnapshot(
        transfer_id=uuid.uuid4(), member_id=member, from_union_id=union, to_union_id=uuid.uuid4(),
        status=TransferStatus.PENDING, reason="换工作", requested_by="admin:x",
        requested_at=datetime.now(UTC), expires_at=datetime.now(UTC),
    )  # fmt: skip
    history: list[EventPayload] = [
        MemberEnrolled(application_id=uuid.uuid4(), decided_by="cadre:x", member=member_snapshot(member, union, "active")),
        TransferRequested(transfer=t),
        MemberLeft(reason="退休", member=member_snapshot(member, union, "left")),
    ]  # fmt: skip
    sent = [
        new_envelope(
            p, source="enrollment", subject=str(member), subject_version=v, correlation_id="seed-test"
        )
        for v, p in enumerate(history, start=1)
    ]
    async with running_producer(bootstrap, "seed-test") as producer:
        for envelope in sent:
            await producer.send_and_wait(
                events, encode_event(envelope), key=str(member).encode(),
                headers=kafka_headers(event_headers(envelope)),
            )  # fmt: skip

    out = await seed(bootstrap, prefix, "enrollment", PARTITIONS, dry_run=False)
    assert "3 states from 3 events" in out, out

    records = await read_topic(bootstrap, f"{prefix}{ENROLLMENT_STATE}")
    held = {r.key.decode(): decode_event(r.value)[0].subject_version for r in records}
    # The member part is the leaving (v3), the application the enrollment (v1), the transfer v2.
    assert held == {f"{member}:member": 3, f"{member}:application": 1, f"{member}:transfer": 2}
    assert {r.value for r in records} == {encode_event(e) for e in sent}
