"""Nothing lost, nothing doubled: real processes, a real broker and a real database, under faults.

While a stream of commands flows, the suite kills -9 the enrollment service between its database
commit and its publish, kills -9 a projector replica mid-batch and another outright, restarts the
Kafka broker and PostgreSQL, delivers duplicates and out-of-order events, publishes poison, and
sends SIGTERM to services. Then it compares every service's final state and the cards with the
state expected from the accepted commands, and writes the numbers to .run/fault-report.json.
"""

import asyncio
import json
import os
import random
import re
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from scripts import stack
from scripts.leftovers import delete_topics, drop_databases
from scripts.stack import free_port
from shared.auth import Role, mint_token
from shared.contracts import decode_event, encode_event, new_envelope
from shared.contracts.enrollment import ApplicationRejected
from shared.contracts.topics import ENROLLMENT_EVENTS, dead_letter_topic
from tests.faults.harness import FaultInfra, Replica, assigned_partitions, supervise
from tests.faults.workload import Workload
from tests.integration.conftest import read_topic

pytestmark = pytest.mark.faults

SECRET = "fault-suite-secret-" + "z" * 30
DRIVE_SECONDS = float(os.environ.get("FAULT_DRIVE_SECONDS", "45"))
REPORT = Path(__file__).resolve().parents[2] / ".run" / "fault-report.json"


@pytest.fixture(scope="module")
def fault_infra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultInfra]:
    # Under /tmp because the postgres OS user must traverse to its data (a home may be mode 700).
    base = Path(os.environ.get("FAULT_INFRA_DIR", "/tmp/zhijia-faults"))  # noqa: S108
    infra = FaultInfra(base)
    infra.up()
    # This broker and server are the suite's alone: whatever an earlier (killed) run left goes.
    asyncio.run(_remove_runs(infra, FAULT_RUN))
    yield infra
    infra.run("down")


@pytest.fixture
async def system(fault_infra: FaultInfra, tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    run = uuid.uuid4().hex[:6]
    prefix = f"f{run}."
    saved_dsn = os.environ.get("POSTGRES_DSN")
    os.environ["POSTGRES_DSN"] = fault_infra.postgres_dsn  # read by stack.service_env
    replicas: dict[str, Replica] = {}
    plan = [("enrollment", stack.SERVICES[0], "outbox.before_publish=25"),
            ("projector-a", stack.SERVICES[1], "consumer.before_commit=40"),
            ("projector-b", stack.SERVICES[1], "")]  # fmt: skip
    for name, spec, failpoints in plan:
        port = free_port()
        env = stack.service_env(
            spec, port=port, database=f"zf_{run}_{spec.name}", topic_prefix=prefix,
            extra={"KAFKA_BOOTSTRAP_SERVERS": fault_infra.bootstrap, "AUTH_SECRET": SECRET,
                   "PII_KEY": "fault-suite-pii-" + "p" * 30, "TOPIC_PARTITIONS": "6"},
        )  # fmt: skip
        replicas[name] = Replica(spec, name, port, env, tmp_path / f"{name}.log")
        replicas[name].start(failpoints)
        replicas[name].wait_ready()
    try:
        yield {"replicas": replicas, "prefix": prefix, "infra": fault_infra, "logs": tmp_path}
    finally:
        for r in replicas.values():
            r.stop()
        await _remove_runs(fault_infra, re.compile(rf"^z?f_?{run}[._]"))
        # Other tests must keep using the main infrastructure, not this private one.
        if saved_dsn is None:
            os.environ.pop("POSTGRES_DSN", None)
        else:
            os.environ["POSTGRES_DSN"] = saved_dsn


FAULT_RUN = re.compile(r"^(f[0-9a-f]{6}\.|zf_[0-9a-f]{6}_)")


async def _remove_runs(infra: FaultInfra, run: re.Pattern[str]) -> None:
    """Topics and databases of fault runs matching `run` (a broker full of old topics starts slowly)."""
    await delete_topics(infra.bootstrap, lambda name: bool(run.match(name)))
    await drop_databases(infra.postgres_dsn, lambda name: bool(run.match(name)))


def admin(role: Role = Role.ADMIN) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(SECRET, sub='fault-admin', role=role)}"}


async def build_unions(http: httpx.AsyncClient, url: str) -> tuple[str, list[str]]:
    async def union(name: str, kind: str, parent: str | None) -> str:
        body = {
            "name": name,
            "kind": kind,
            "parent_id": parent,
            "region": "330100" if parent is None else None,
        }
        r = await http.post(f"{url}/unions", json=body, headers=admin())
        r.raise_for_status()
        return str(r.json()["union_id"])

    city = await union(f"故障演练市总工会-{uuid.uuid4().hex[:4]}", "city", None)
    bases = []
    for d in ("东区总工会", "西区总工会"):
        district = await union(d, "county", city)
        for b in ("物流公司工会", "电商公司工会", "骑手网格工会"):
            bases.append(await union(b, "base", district))
    return city, bases


async def inject_duplicates_and_disorder(
    producer: AIOKafkaProducer, bootstrap: str, topic: str, rng: random.Random
) -> dict[str, int]:
    records = [r for r in await read_topic(bootstrap, topic) if r.value]
    copies = rng.sample(records, k=min(40, len(records)))
    for r in copies:  # the same events again: redelivery
        await producer.send_and_wait(topic, r.value, key=r.key, headers=list(r.headers))
    forged = 0
    member_events = [r for r in records if b"MemberEnrolled" in r.value]
    for r in rng.sample(member_events, k=min(10, len(member_events))):
        envelope, payload = decode_event(r.value)
        # A new event id carrying an old version: only the per-member version can stop it.
        stale = new_envelope(payload, source="fault-suite", subject=envelope.subject,
                             subject_version=envelope.subject_version, correlation_id="fault-out-of-order")  # fmt: skip
        await producer.send_and_wait(topic, encode_event(stale), key=r.key)
        forged += 1
    return {"duplicates": len(copies), "out_of_order": forged}


async def inject_poison(producer: AIOKafkaProducer, topic: str, rng: random.Random) -> set[bytes]:
    keys: set[bytes] = set()
    sample = new_envelope(
        ApplicationRejected(
            application_id=uuid.uuid4(), person_id=uuid.uuid4(), base_union_id=uuid.uuid4(),
            reason="x", decided_by="y",
        ),
        source="fault-suite", subject=str(uuid.uuid4()), subject_version=1, correlation_id="poison",
    )  # fmt: skip
    bad: dict[str, Callable[[], bytes]] = {
        "garbage": lambda: bytes(rng.getrandbits(8) for _ in range(40)),
        "wrong schema": lambda: json.dumps(
            {**json.loads(encode_event(sample)), "payload": {"x": 1}}
        ).encode(),
        "future version": lambda: json.dumps(
            {**json.loads(encode_event(sample)), "schema_version": 9}
        ).encode(),
    }
    for kind, make in bad.items():
        for i in range(5):
            key = f"poison-{kind}-{i}-{uuid.uuid4().hex[:6]}".encode()
            keys.add(key)
            await producer.send_and_wait(topic, make(), key=key)
    return keys


async def test_nothing_is_lost_or_doubled_under_faults(system: dict[str, Any]) -> None:
    replicas: dict[str, Replica] = system["replicas"]
    infra: FaultInfra = system["infra"]
    topic = f"{system['prefix']}{ENROLLMENT_EVENTS}"
    dlq = f"{system['prefix']}{dead_letter_topic('projector')}"
    rng = random.Random(20261123)
    faults: Counter[str] = Counter()
    timings: dict[str, float] = {}
    stop_supervisor = asyncio.Event()
    supervisor = asyncio.create_task(supervise(list(replicas.values()), stop_supervisor))
    enrollment = replicas["enrollment"].url

    # Consumer group: both projector replicas share the topic's partitions before any fault.
    sharing: dict[str, set[int]] = {}
    for _ in range(100):
        sharing = {n: assigned_partitions(replicas[n].log_path) for n in ("projector-a", "projector-b")}
        if all(sharing.values()) and set().union(*sharing.values()) == set(range(6)):
            break
        await asyncio.sleep(0.3)
    assert all(sharing.values()), f"a replica has no partitions: {sharing}"

    async with httpx.AsyncClient(timeout=10) as http:
        city, unions = await build_unions(http, enrollment)
        work = Workload(http, enrollment, SECRET, unions, rng)
        stop = asyncio.Event()
        workers = [asyncio.create_task(work.worker(stop)) for _ in range(6)]
        producer = AIOKafkaProducer(bootstrap_servers=infra.bootstrap, enable_idempotence=True)
        started = time.monotonic()

        async def at(second: float) -> None:
            await asyncio.sleep(max(0.0, started + second - time.monotonic()))

        await at(DRIVE_SECONDS * 0.15)
        replicas["projector-b"].proc.kill()  # type: ignore[union-attr]  # plain kill -9, mid-stream
        faults["kill -9 projector replica"] += 1
        await at(DRIVE_SECONDS * 0.3)
        timings["kafka restart s"] = await asyncio.to_thread(infra.restart_kafka)
        faults["Kafka broker restart"] += 1
        await at(DRIVE_SECONDS * 0.5)
        timings["postgres restart s"] = await asyncio.to_thread(infra.restart_postgres)
        faults["PostgreSQL restart"] += 1
        await at(DRIVE_SECONDS * 0.65)
        await producer.start()
        injected = await inject_duplicates_and_disorder(producer, infra.bootstrap, topic, rng)
        faults["duplicate deliveries"] += injected["duplicates"]
        faults["out-of-order events"] += injected["out_of_order"]
        poison = await inject_poison(producer, topic, rng)
        faults["poison events"] += len(poison)
        await at(DRIVE_SECONDS * 0.75)
        for name in ("projector-a", "enrollment"):
            r = replicas[name]
            if r.alive():
                timings[f"{name} SIGTERM shutdown s"] = await asyncio.to_thread(r.terminate)
                faults[f"SIGTERM {name}"] += 1
        await at(DRIVE_SECONDS)
        stop.set()
        await asyncio.gather(*workers)
        driven_until = time.monotonic()

        # Failpoints armed at start: each must have fired (a SIGKILL, exit -9).
        faults["kill -9 enrollment between commit and publish"] = replicas["enrollment"].deaths.count(-9)
        faults["kill -9 projector mid-batch"] = replicas["projector-a"].deaths.count(-9)
        assert faults["kill -9 enrollment between commit and publish"] == 1, replicas["enrollment"].deaths
        assert faults["kill -9 projector mid-batch"] == 1, replicas["projector-a"].deaths

        for r in replicas.values():
            await asyncio.to_thread(r.wait_ready, 120)
        report = await converge(http, replicas, work, city, topic, dlq, poison, infra, system["prefix"])
        report["seconds to converge after the drive"] = round(time.monotonic() - driven_until, 1)
        await producer.stop()

    stop_supervisor.set()
    await supervisor
    report.update(
        faults_injected=dict(faults), faults_total=sum(faults.values()), timings=timings,
        commands_accepted=dict(work.accepted), uncertain_attempts_retried=work.uncertain,
        restarts={n: r.restarts for n, r in replicas.items()},
        partitions_per_projector_replica_at_start={n: sorted(p) for n, p in sharing.items()},
    )  # fmt: skip
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(json.dumps(report, indent=2, ensure_ascii=False))
    assert work.unexpected == []
    assert report["lost"] == 0 and report["doubled"] == 0, report
    assert report["poison dead-lettered with reason"] == len(poison)
    assert report["consumers alive and ready"] == len(replicas)
    assert report["projector lag"] == 0
    for name, seconds in timings.items():
        if "SIGTERM" in name:
            assert seconds < 15, f"{name} took {seconds:.1f}s"


async def converge(
    http: httpx.AsyncClient, replicas: dict[str, Replica], work: Workload, city: str, topic: str,
    dlq: str, poison: set[bytes], infra: FaultInfra, prefix: str,
) -> dict[str, Any]:  # fmt: skip
    """Wait until the cards agree with the accepted commands (or time runs out), then count."""
    cards_url = replicas["projector-a"].url
    deadline = time.monotonic() + 120
    cards: dict[str, dict[str, Any]] = {}
    while time.monotonic() < deadline:
        cards = await list_cards(http, cards_url, city)
        if all(_card_matches(cards.get(mid), m) for mid, m in work.members.items()):
            break
        await asyncio.sleep(0.5)

    enrollment_db = await asyncpg.connect(replicas["enrollment"].env["DATABASE_URL"])
    try:
        rows = await enrollment_db.fetch(
            """SELECT m.member_id::text AS id, m.status, m.base_union_id::text AS union_id,
                      (SELECT count(*) FROM membership_periods p WHERE p.member_id = m.member_id) AS periods
               FROM members m"""
        )
        versions = {
            str(r["person_id"]): r["version"]
            for r in await enrollment_db.fetch("SELECT person_id, version FROM persons")
        }
        persons_per_key = await enrollment_db.fetchval(
            "SELECT count(*) - count(DISTINCT national_id_hash) FROM persons"
        )
    finally:
        await enrollment_db.close()
    service = {r["id"]: r for r in rows}

    lost_commands = doubled_commands = 0
    for mid, m in work.members.items():
        row = service.get(mid)
        if row is None or row["status"] != m.status or row["union_id"] != m.union_id:
            lost_commands += 1
        elif row["periods"] > m.periods:
            doubled_commands += 1
        elif row["periods"] < m.periods:
            lost_commands += 1
    stale_cards = sum(not _card_matches(cards.get(mid), m) for mid, m in work.members.items())

    # The event log: every person's versions 1..V present once, whatever was redelivered.
    by_version: dict[tuple[str, int], set[uuid.UUID]] = defaultdict(set)
    records = await read_topic(infra.bootstrap, topic)
    delivered = 0
    for r in records:
        try:
            envelope, _ = decode_event(r.value)
        except Exception:  # noqa: S112 (poison, counted from the dead-letter topic below)
            continue
        if envelope.correlation_id == "fault-out-of-order" or envelope.source != "enrollment":
            continue
        delivered += 1
        by_version[(envelope.subject, envelope.subject_version)].add(envelope.event_id)
    missing_events = sum(
        1 for subject, v in versions.items() for n in range(1, v + 1) if (subject, n) not in by_version
    )
    doubled_events = sum(1 for ids in by_version.values() if len(ids) > 1)
    distinct = sum(len(ids) for ids in by_version.values())

    letters = [r for r in await read_topic(infra.bootstrap, dlq) if r.key in poison]
    # Dead-lettering is at least once (a replica killed after dead-lettering, before committing,
    # reads the batch again): count poison events, not dead-letter records.
    with_reason = len({r.key for r in letters if dict(r.headers).get("deadletter_reason")})

    alive = 0
    for r in replicas.values():
        ready = await http.get(f"{r.url}/health/ready")
        alive += int(r.alive() and ready.status_code == 200)
    lag = await group_lag(infra.bootstrap, f"{prefix}projector", topic)

    return {
        "members": len(work.members),
        "events driven (distinct, on the topic)": distinct,
        "event records delivered (incl. redeliveries)": delivered,
        "lost": lost_commands + stale_cards + missing_events,
        "lost detail": {
            "commands": lost_commands,
            "stale cards": stale_cards,
            "missing events": missing_events,
        },
        "doubled": doubled_commands + doubled_events + persons_per_key,
        "doubled detail": {
            "commands": doubled_commands,
            "events": doubled_events,
            "persons": persons_per_key,
        },
        "poison dead-lettered with reason": with_reason,
        "consumers alive and ready": alive,
        "projector lag": lag,
    }


def _card_matches(card: dict[str, Any] | None, m: Any) -> bool:
    return card is not None and card["status"] == m.status and card["base_union_id"] == m.union_id


async def list_cards(http: httpx.AsyncClient, url: str, city: str) -> dict[str, dict[str, Any]]:
    cards: dict[str, dict[str, Any]] = {}
    after: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 1000, **({"after": after} if after else {})}
        try:
            r = await http.get(f"{url}/unions/{city}/cards", params=params, headers=admin())
        except httpx.TransportError:
            return cards
        if r.status_code != 200:
            return cards
        page = r.json()
        cards.update({c["member_id"]: c for c in page})
        if len(page) < 1000:
            return cards
        after = page[-1]["member_id"]


async def group_lag(bootstrap: str, group: str, topic: str) -> int:
    """Messages on the topic the projector's group has not committed yet (waits up to 60 s for 0)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    admin_client = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await admin_client.start()
    await reader.start()
    try:
        lag = -1
        for _ in range(120):
            committed = await admin_client.list_consumer_group_offsets(group)
            parts = [TopicPartition(topic, p) for p in reader.partitions_for_topic(topic) or []]
            if not parts:
                await reader._client.force_metadata_update()
                continue
            end = await reader.end_offsets(parts)
            lag = sum(end[tp] - (committed[tp].offset if tp in committed else 0) for tp in parts)
            if lag == 0:
                return 0
            await asyncio.sleep(0.5)
        return lag
    finally:
        await reader.stop()
        await admin_client.close()
