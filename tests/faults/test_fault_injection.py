"""Nothing lost, nothing doubled: real processes, a real broker and a real database, under faults.

While a stream of commands flows to enrollment, relief, legal, competitions and partners, the
suite kills -9 services at failpoints (between a database commit and its publish, mid-batch of a
consumer) and outright, restarts the Kafka broker and PostgreSQL, delivers duplicates and
out-of-order events on every service's topic, publishes poison (on enrollment's topic, on each
service's topic, on a partner's own topic), and sends SIGTERM to services. Then it compares every
service's final state and the cards with the state expected from the accepted commands (for
relief, legal, competitions and partners only through their HTTP APIs, the cards and the
topics: tests/faults/services_checks.py), and writes the numbers to .run/fault-report.json.
"""

import asyncio
import contextlib
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

from scripts import stack
from scripts.leftovers import delete_topics, drop_databases
from scripts.stack import free_port
from shared.auth import Role
from shared.contracts import decode_event, encode_event, new_envelope
from shared.contracts.enrollment import ApplicationRejected
from shared.contracts.topics import ENROLLMENT_EVENTS, dead_letter_topic
from tests.conftest import dev_token, token_secrets
from tests.faults.harness import FaultInfra, Replica, assigned_partitions, supervise
from tests.faults.services_checks import SERVICE_TOPICS, converge_services, group_lag
from tests.faults.services_workload import ServicesWorkload
from tests.faults.workload import Workload
from tests.integration.conftest import read_topic

pytestmark = pytest.mark.faults

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
    specs = {spec.name: spec for spec in stack.SERVICES}
    for name in PLAN:
        spec = specs[name.split("-")[0]]
        port = free_port()
        env = stack.service_env(
            spec, port=port, database=f"zf_{run}_{spec.name}", topic_prefix=prefix,
            extra={"KAFKA_BOOTSTRAP_SERVERS": fault_infra.bootstrap, **token_secrets(),
                   "PII_KEY": "fault-suite-pii-" + "p" * 30, "TOPIC_PARTITIONS": "6",
                   # The legal scheduler looks for due deadlines every second (default 5 s), and
                   # the partners service picks up a new partner's topic within a second.
                   "SCHEDULER_INTERVAL_SECONDS": "1", "TOPIC_DISCOVERY_MS": "1000"},
        )  # fmt: skip
        replicas[name] = Replica(spec, name, port, env, tmp_path / f"{name}.log")
    # Every service's first replica, then the second ones: a first replica is ready, and so leads
    # its service's outbox relay (the relay failpoint of legal-a must fire), before its second starts.
    for wave in ([n for n in PLAN if not n.endswith("-b")], [n for n in PLAN if n.endswith("-b")]):
        for name in wave:
            replicas[name].start(PLAN[name])
        for name in wave:
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


# Every supervised process and the failpoint it starts with: each fires once (a SIGKILL, exit -9)
# and the supervisor restarts the process without it. Relief and legal run the outbox relay and
# consume enrollment's events; legal-a and legal-b both run the durable deadline scheduler.
PLAN = {
    "enrollment": "outbox.before_publish=25",  # between the database commit and the publish
    "projector-a": "consumer.before_commit=40",  # mid-batch: applied, not committed
    "projector-b": "",
    "relief": "consumer.before_commit=20",  # mid-batch of enrollment events
    "legal-a": "outbox.before_publish=4",  # a filing, a disposition or a deadline notice unpublished
    "legal-b": "",
    "competitions": "outbox.before_publish=3",
    "partners": "consumer.before_commit=5",  # mid-batch of a partner's offer events
}
# Plain kill -9 of a running replica, as a fraction of the drive (after the failpoints, which
# fire early: they count from the start, and the supervisor restarts the replica without them).
KILLS = {0.15: ["projector-b", "legal-b"], 0.45: ["competitions", "partners"], 0.6: ["relief", "legal-a"]}

ENROLLMENT_WORKERS = 6
CALM_SECONDS = 12.0
SERVICES_WORKERS = 2  # per service: each enrolls a member, then works them in that service

FAULT_RUN = re.compile(r"^(f[0-9a-f]{6}\.|zf_[0-9a-f]{6}_)")


async def _remove_runs(infra: FaultInfra, run: re.Pattern[str]) -> None:
    """Topics and databases of fault runs matching `run` (a broker full of old topics starts slowly)."""
    await delete_topics(infra.bootstrap, lambda name: bool(run.match(name)))
    await drop_databases(infra.postgres_dsn, lambda name: bool(run.match(name)))


def admin(role: Role = Role.ADMIN) -> dict[str, str]:
    return {"Authorization": f"Bearer {dev_token(role, sub='fault-admin')}"}


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


async def inject_poison(
    producer: AIOKafkaProducer, topic: str, rng: random.Random, per_kind: int = 5
) -> set[bytes]:
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
        for i in range(per_kind):
            key = f"poison-{kind}-{i}-{uuid.uuid4().hex[:6]}".encode()
            keys.add(key)
            await producer.send_and_wait(topic, make(), key=key)
    return keys


async def redeliver_and_forge(
    producer: AIOKafkaProducer, bootstrap: str, topic: str, rng: random.Random
) -> dict[str, int]:
    """A service's own events again (redelivery), and first events re-issued under new event ids
    after newer ones (only the per-subject version can tell them apart from news)."""
    records = [r for r in await read_topic(bootstrap, topic) if r.value]
    copies = rng.sample(records, k=min(15, len(records)))
    for r in copies:
        await producer.send_and_wait(topic, r.value, key=r.key, headers=list(r.headers))
    firsts = []
    for r in records:
        with contextlib.suppress(Exception):  # poison is not ours to forge from
            envelope, payload = decode_event(r.value)
            if envelope.subject_version == 1:
                firsts.append((r, envelope, payload))
    for r, envelope, payload in rng.sample(firsts, k=min(5, len(firsts))):
        stale = new_envelope(payload, source="fault-suite", subject=envelope.subject,
                             subject_version=envelope.subject_version, correlation_id="fault-out-of-order")  # fmt: skip
        await producer.send_and_wait(topic, encode_event(stale), key=r.key)
    return {"duplicates": len(copies), "out_of_order": min(5, len(firsts))}


async def inject_partner_poison(
    producer: AIOKafkaProducer, topic: str, merchant_id: str, rng: random.Random
) -> set[bytes]:
    """Bad events on a partner's own topic: each must be dead-lettered (by its bytes) with a reason."""
    values: set[bytes] = set()
    for i in range(3):
        offer = {"action": "create", "merchant_id": f"not-{merchant_id}-{i}", "offer_id": f"poison-{i}",
                 "version": 1, "title": "不是你的商户", "discount": {"kind": "percent", "percent": "10"},
                 "category": "dining", "region": "330100", "valid_from": "2026-01-01T00:00:00+08:00",
                 "valid_until": "2099-01-01T00:00:00+08:00", "eligibility": "all_members"}  # fmt: skip
        values |= {
            bytes(rng.getrandbits(8) for _ in range(40)),  # garbage
            json.dumps({"action": "create", "x": i, "nonce": uuid.uuid4().hex}).encode(),  # wrong schema
            json.dumps(offer).encode(),  # a merchant the partner does not own
        }
    for value in values:
        await producer.send_and_wait(topic, value, key=f"poison-{uuid.uuid4().hex[:6]}".encode())
    return values


async def replay_offers(producer: AIOKafkaProducer, services: ServicesWorkload) -> dict[str, int]:
    """Offers updated since: their first version again (stale) and their latest again (duplicate)."""
    updated = sorted((o for o in services.offers.values() if o.version > 1), key=lambda o: o.offer_id)[:5]
    for o in updated:
        for version in (1, o.version):
            await producer.send_and_wait(services.offers_topic, o.bodies[version], key=o.offer_id.encode())
    return {"stale": len(updated), "duplicates": len(updated)}


async def test_nothing_is_lost_or_doubled_under_faults(system: dict[str, Any]) -> None:
    replicas: dict[str, Replica] = system["replicas"]
    infra: FaultInfra = system["infra"]
    prefix: str = system["prefix"]
    topic = f"{prefix}{ENROLLMENT_EVENTS}"
    dlq = f"{prefix}{dead_letter_topic('projector')}"
    rng = random.Random(20261123)
    faults: Counter[str] = Counter()
    timings: dict[str, float] = {}
    plain_kills: Counter[str] = Counter()
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
        work = Workload(http, enrollment, unions, rng)
        urls = {s: [r.url for n, r in replicas.items() if n.split("-")[0] == s] for s in SERVICE_TOPICS}
        services = ServicesWorkload(work, urls, random.Random(20261202))
        await services.create_competition(city)
        await services.register_partner(prefix)
        offers_topic = services.offers_topic
        partner_producer = AIOKafkaProducer(bootstrap_servers=infra.bootstrap, enable_idempotence=True)
        await partner_producer.start()
        stop = asyncio.Event()
        workers = [asyncio.create_task(work.worker(stop)) for _ in range(ENROLLMENT_WORKERS)]
        workers += [
            asyncio.create_task(services.worker(service, stop))
            for service in ("relief", "legal", "competitions")
            for _ in range(SERVICES_WORKERS)
        ]
        workers.append(asyncio.create_task(services.worker("results", stop)))
        workers.append(asyncio.create_task(services.offers_worker(partner_producer, stop)))
        producer = AIOKafkaProducer(bootstrap_servers=infra.bootstrap, enable_idempotence=True)
        started = time.monotonic()

        async def at(second: float) -> None:
            await asyncio.sleep(max(0.0, started + second - time.monotonic()))

        def kill(when: float) -> None:
            for name in KILLS[when]:
                if replicas[name].alive():
                    replicas[name].proc.kill()  # type: ignore[union-attr]  # plain kill -9, mid-stream
                    plain_kills[name] += 1
                    faults[f"kill -9 {name}"] += 1

        await at(DRIVE_SECONDS * 0.15)
        kill(0.15)
        await at(DRIVE_SECONDS * 0.3)
        timings["kafka restart s"] = await asyncio.to_thread(infra.restart_kafka)
        faults["Kafka broker restart"] += 1
        await at(DRIVE_SECONDS * 0.45)
        kill(0.45)
        await at(DRIVE_SECONDS * 0.5)
        timings["postgres restart s"] = await asyncio.to_thread(infra.restart_postgres)
        faults["PostgreSQL restart"] += 1
        await at(DRIVE_SECONDS * 0.6)
        kill(0.6)
        await at(DRIVE_SECONDS * 0.65)
        await producer.start()
        injected = await inject_duplicates_and_disorder(producer, infra.bootstrap, topic, rng)
        faults["duplicate deliveries"] += injected["duplicates"]
        faults["out-of-order events"] += injected["out_of_order"]
        poison = await inject_poison(producer, topic, rng)
        faults["poison events"] += len(poison)
        # The other services' topics, read by the projector: redelivered, stale and poisoned.
        service_poison: dict[str, set[bytes]] = {}
        for service in SERVICE_TOPICS:
            service_topic = f"{prefix}{SERVICE_TOPICS[service]}"
            injected = await redeliver_and_forge(producer, infra.bootstrap, service_topic, rng)
            faults[f"duplicate deliveries ({service})"] += injected["duplicates"]
            faults[f"out-of-order events ({service})"] += injected["out_of_order"]
            service_poison[service] = await inject_poison(producer, service_topic, rng, per_kind=2)
            faults[f"poison events ({service} topic)"] += len(service_poison[service])
        # A partner's own topic: bad events, superseded versions again, the same versions again.
        partner_poison = await inject_partner_poison(producer, offers_topic, services.merchant_id, rng)
        faults["poison events (partner topic)"] += len(partner_poison)
        replayed = await replay_offers(producer, services)
        faults["stale offer versions (partner topic)"] += replayed["stale"]
        faults["duplicate offer versions (partner topic)"] += replayed["duplicates"]
        await at(DRIVE_SECONDS * 0.75)
        for name in ("projector-a", "enrollment", "legal-b", "partners"):
            r = replicas[name]
            if r.alive():
                timings[f"{name} SIGTERM shutdown s"] = await asyncio.to_thread(r.terminate)
                faults[f"SIGTERM {name}"] += 1
        last_fault = time.monotonic()
        await at(DRIVE_SECONDS)
        # Commands keep flowing for a while after the last fault however late the faults ran (a
        # broker restart takes far longer on a busy machine): the services are driven while they
        # recover too, not only before they went down.
        await asyncio.sleep(max(0.0, last_fault + CALM_SECONDS - time.monotonic()))
        stop.set()
        await asyncio.gather(*workers)
        driven_until = time.monotonic()

        # Failpoints armed at start: each must have fired once (a SIGKILL, exit -9), besides the
        # plain kills -9 of the same replica.
        for name, failpoints in PLAN.items():
            if failpoints:
                fired = replicas[name].deaths.count(-9) - plain_kills[name]
                faults[f"kill -9 {name} at {failpoints.split('=')[0]}"] = fired
                assert fired == 1, (name, replicas[name].deaths, plain_kills[name])

        for r in replicas.values():
            await asyncio.to_thread(r.wait_ready, 120)
        report = await converge(http, replicas, work, city, topic, dlq, poison, infra, prefix)
        report["services"] = await converge_services(
            services, replicas["projector-a"].url, infra.bootstrap, prefix,
            {"enrollment": poison, **service_poison, "partner topic": partner_poison},
        )  # fmt: skip
        report["seconds to converge after the drive"] = round(time.monotonic() - driven_until, 1)
        await producer.stop()
        await partner_producer.stop()

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
    for service, numbers in report["services"].items():
        assert services.tallies[service].unexpected == [], (service, services.tallies[service].unexpected)
        assert numbers["lost"] == 0 and numbers["doubled"] == 0, (service, numbers)
        assert all(numbers["commands accepted"].values()) and numbers["commands accepted"], (service, numbers)
        for where, (found, expected) in numbers["dead-lettered with reason"].items():
            assert found == expected, (service, where, found, expected)
        assert all(lag == 0 for lag in numbers["consumer group lag"].values()), (service, numbers)
    assert report["services"]["competitions"]["members with a final result"] > 0
    legal = report["services"]["legal"]
    assert legal["deadline notices fired (events)"] == legal["deadline notices expected"] > 0
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
        # Every subject enrollment numbered its events for (people and unions): the kit's table.
        versions = {
            r["subject"]: r["version"]
            for r in await enrollment_db.fetch("SELECT subject, version FROM event_versions")
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
    lag = await group_lag(infra.bootstrap, f"{prefix}projector", [topic])

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
