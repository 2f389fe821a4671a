"""The restore drill: back up, keep writing, destroy the database, restore it to a point in time,
and the services resume with the topics and the databases reconciled (docs/backup.md).

Its own PostgreSQL cluster (WAL archived every 2 s at most) on a free port, the shared Kafka
under a topic prefix of its own, enrollment, the projector and relief (a consumer of enrollment's
events on the kit's stored positions) as processes. Measured recovery
point and recovery time go to .run/restore-drill.json.
"""

import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from scripts import stack
from scripts.leftovers import delete_topics
from shared.auth import Role
from shared.contracts.topics import ENROLLMENT_EVENTS
from tests.conftest import dev_token, token_secrets
from tests.faults.harness import FaultInfra, Replica, _wait_gone
from tests.faults.workload import Workload
from tests.integration.conftest import eventually, read_topic

pytestmark = pytest.mark.faults

ARCHIVE_TIMEOUT = 2
REPORT = Path(__file__).resolve().parents[2] / ".run" / "restore-drill.json"


def free_low_port() -> int:
    """A free port below Linux's ephemeral range (harness.FaultInfra says why), not the suite's."""
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(21000, 32000)
        if port in (25432, 29092, 29093, 29094):
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


@dataclass(frozen=True)
class DrillInfra(FaultInfra):
    """The fault harness's private PostgreSQL, with a short archive timeout; Kafka is shared."""

    @property
    def env(self) -> dict[str, str]:
        return {**super().env, "PG_ARCHIVE_TIMEOUT": str(ARCHIVE_TIMEOUT)}

    def up_postgres(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        self.base.chmod(0o755)
        self.run("pg-up")


def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {dev_token(Role.ADMIN, sub='drill-admin')}"}


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

    city = await union(f"恢复演练市总工会-{uuid.uuid4().hex[:4]}", "city", None)
    district = await union("东区总工会", "county", city)
    return city, [await union(b, "base", district) for b in ("物流公司工会", "骑手网格工会")]


async def enroll(work: Workload, n: int) -> set[str]:
    """n members enrolled (submitted and approved), one after the other; their member ids."""
    before = set(work.members)
    for _ in range(n):
        await work.enroll()
    assert not work.unexpected, work.unexpected
    return set(work.members) - before


async def cards(http: httpx.AsyncClient, url: str, city: str) -> dict[str, dict[str, Any]]:
    r = await http.get(f"{url}/unions/{city}/cards", params={"limit": 1000}, headers=admin())
    return {c["member_id"]: c for c in r.json()} if r.status_code == 200 else {}


@pytest.fixture
async def drill(tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not bootstrap:
        pytest.fail('KAFKA_BOOTSTRAP_SERVERS is not set: eval "$(deploy/infra.sh env)" first')
    run = uuid.uuid4().hex[:6]
    # Under /tmp: the postgres OS user must reach its data directory.
    infra = DrillInfra(Path(f"/tmp/zhijia-drill-{run}"), pg_port=free_low_port())  # noqa: S108
    infra.up_postgres()
    saved_dsn = os.environ.get("POSTGRES_DSN")
    os.environ["POSTGRES_DSN"] = infra.postgres_dsn  # read by stack.service_env
    prefix = f"d{run}."
    specs = {s.name: s for s in stack.SERVICES}
    replicas = {}
    for name in ("enrollment", "projector", "relief"):
        port = stack.free_port()
        env = stack.service_env(
            specs[name], port=port, topic_prefix=prefix,
            extra={"KAFKA_BOOTSTRAP_SERVERS": bootstrap, **token_secrets(),
                   "PII_KEY": "restore-drill-pii-" + "p" * 30, "TOPIC_PARTITIONS": "3"},
        )  # fmt: skip
        replicas[name] = Replica(specs[name], name, port, env, tmp_path / f"{name}.log")
    try:
        yield {"infra": infra, "replicas": replicas, "prefix": prefix, "bootstrap": bootstrap}
    finally:
        for r in replicas.values():
            r.stop()
        with contextlib.suppress(Exception):
            infra.run("pg-down")
        await delete_topics(bootstrap, lambda topic: topic.startswith(prefix))
        shutil.rmtree(infra.base, ignore_errors=True)
        if saved_dsn is None:
            os.environ.pop("POSTGRES_DSN", None)
        else:
            os.environ["POSTGRES_DSN"] = saved_dsn


async def fetch(dsn: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


@dataclass
class Restored:
    destroyed_at: float  # epoch seconds
    last_commit: datetime  # the last commit the restore replayed
    stop_seconds: float  # the services stopped (SIGTERM; SIGKILL after 15 s if stuck on the dead database)
    restore_seconds: float  # deploy/infra.sh restore alone
    recovery_seconds: float  # from stopping the services to all of them ready again

    def numbers(self) -> dict[str, Any]:
        return {
            "destroyed_at": datetime.fromtimestamp(self.destroyed_at, UTC).isoformat(),
            "last_restored_commit": self.last_commit.isoformat(),
            # Data lost relative to the destruction: the writes after the last restored commit.
            "recovery_point_seconds": round(self.destroyed_at - self.last_commit.timestamp(), 2),
            "services_stop_seconds": round(self.stop_seconds, 2),
            "restore_seconds": round(self.restore_seconds, 2),
            "recovery_time_seconds": round(self.recovery_seconds, 2),
        }


def destroy(infra: DrillInfra) -> float:
    """The postmaster killed, its data directory gone; when."""
    destroyed_at = time.time()
    data = infra.base / "pg" / "data"
    pid = int((data / "postmaster.pid").read_text().splitlines()[0])
    os.kill(pid, signal.SIGKILL)
    _wait_gone(pid, 30)
    shutil.rmtree(data)
    assert not data.exists()
    return destroyed_at


async def restore(
    infra: DrillInfra, services: tuple[Replica, ...], destroyed_at: float, *target: str
) -> Restored:
    """The services stopped, the data replaced, the archive replayed (to the target), restarted."""
    started = time.monotonic()
    with ThreadPoolExecutor(len(services)) as pool:
        list(pool.map(Replica.stop, services))
    stopped = time.monotonic()
    infra.run("restore", *target)
    restored = time.monotonic()
    replayed = await fetch(infra.postgres_dsn, "SELECT pg_last_xact_replay_timestamp() AS t")
    for r in services:
        r.start()
    for r in services:
        r.wait_ready()
    return Restored(
        destroyed_at, replayed[0]["t"], stopped - started, restored - stopped, time.monotonic() - started
    )


@dataclass
class Reconciled:
    on_topic: set[str]  # members enrolled on the topic
    orphans: set[str]  # members enrolled on the topic whom the restored database lost
    orphan_events: int


async def check_reconciled(
    drill: dict[str, Any], http: httpx.AsyncClient, city: str, held: set[str]
) -> Reconciled:
    """The topic against the restored databases: each event once, every member enrollment holds
    enrolled on it, the rest reported as orphans with versions past them, and the cards and
    relief's copy of the membership holding every member on the topic."""
    enrollment, projector, relief = (drill["replicas"][n] for n in ("enrollment", "projector", "relief"))
    enrollment_db = enrollment.env["DATABASE_URL"]
    await eventually(lambda: _published(enrollment_db), timeout=20)
    records = await read_topic(drill["bootstrap"], drill["prefix"] + ENROLLMENT_EVENTS)
    envelopes = [json.loads(r.value) for r in records]
    ids = Counter(e["event_id"] for e in envelopes)
    doubled = {i: n for i, n in ids.items() if n > 1}
    assert not doubled, f"events on the topic twice: {doubled}"
    on_topic = {e["subject"] for e in envelopes if e["event_type"] == "enrollment.MemberEnrolled"}
    lost = held - on_topic
    assert not lost, f"members without their event on the topic: {lost}"
    # Published, then lost with the database: exactly those are reported, none else.
    orphans = await fetch(enrollment_db, "SELECT subject, event_type FROM outbox_orphans")
    orphan_members = {r["subject"] for r in orphans if r["event_type"] == "enrollment.MemberEnrolled"}
    assert orphan_members == on_topic - held, (orphan_members, on_topic - held)
    # Their subjects' versions moved past the topic's: nothing new can hide behind them.
    versions = {
        r["subject"]: r["version"] for r in await fetch(enrollment_db, "SELECT * FROM event_versions")
    }
    top: dict[str, int] = {}
    for e in envelopes:
        top[e["subject"]] = max(top.get(e["subject"], 0), e["subject_version"])
    behind = {s: (versions.get(s), v) for s, v in top.items() if versions.get(s, 0) < v}
    assert not behind, f"event versions behind the topic: {behind}"

    # The cards follow the topic: every member enrolled on it, none else.
    async def cards_caught_up() -> Any:
        found = await cards(http, projector.url, city)
        return found if set(found) == on_topic else False

    await eventually(cards_caught_up, timeout=60)

    # Relief, too, re-read what its restored database had lost (its group's offsets in Kafka
    # were past it): its copy of the membership follows the topic.
    async def relief_caught_up() -> Any:
        rows = await fetch(relief.env["DATABASE_URL"], "SELECT member_id FROM members")
        return {str(r["member_id"]) for r in rows} == on_topic

    await eventually(relief_caught_up, timeout=60)
    return Reconciled(on_topic, orphan_members, len(orphans))


async def members_held(dsn: str) -> set[str]:
    """Enrollment's members, each once."""
    members = Counter(str(r["member_id"]) for r in await fetch(dsn, "SELECT member_id FROM members"))
    assert all(n == 1 for n in members.values()), members
    return set(members)


async def start(drill: dict[str, Any], http: httpx.AsyncClient) -> tuple[tuple[Replica, ...], str, Workload]:
    services = tuple(drill["replicas"][n] for n in ("enrollment", "projector", "relief"))
    for r in services:
        r.start()
    for r in services:
        r.wait_ready()
    city, unions = await build_unions(http, services[0].url)
    return services, city, Workload(http, services[0].url, unions, random.Random(16))


def write_report(key: str, numbers: dict[str, Any]) -> None:
    REPORT.parent.mkdir(exist_ok=True)
    report = json.loads(REPORT.read_text()) if REPORT.exists() else {}
    report[key] = {**numbers, "archive_timeout_seconds": ARCHIVE_TIMEOUT}
    REPORT.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report[key], indent=2))


async def test_restore_to_a_point_in_time(drill: dict[str, Any]) -> None:
    """Back up, keep writing, note a point, write more, destroy, restore to the point."""
    infra: DrillInfra = drill["infra"]
    async with httpx.AsyncClient(timeout=30) as http:
        services, city, work = await start(drill, http)
        enrollment_db = services[0].env["DATABASE_URL"]
        before_backup = await enroll(work, 4)
        infra.run("backup")
        kept = await enroll(work, 6)  # written after the backup, before the restore point
        # The restore point: the database's own clock, between two commits.
        await asyncio.sleep(0.5)
        target: datetime = (await fetch(infra.postgres_dsn, "SELECT now() AS t"))[0]["t"]
        await asyncio.sleep(0.5)
        after_target = await enroll(work, 5)  # accepted after the restore point: PITR undoes them
        # The archive must hold WAL past the target for recovery to find where to stop: the
        # segment of the last commit, closed at the latest ARCHIVE_TIMEOUT seconds after it.
        current = await fetch(infra.postgres_dsn, "SELECT pg_walfile_name(pg_current_wal_lsn()) AS f")
        segment = current[0]["f"]

        async def archived() -> bool:
            rows = await fetch(infra.postgres_dsn, "SELECT last_archived_wal AS f FROM pg_stat_archiver")
            return bool(rows[0]["f"] is not None and rows[0]["f"] >= segment)

        await eventually(archived, timeout=30)
        await eventually(lambda: _published(enrollment_db), timeout=20)

        restored = await restore(infra, services, destroy(infra), target.isoformat())
        assert restored.last_commit <= target, (restored.last_commit, target)
        # The database is back at the target: everything accepted before it, once; nothing after.
        expected = before_backup | kept
        held = await members_held(enrollment_db)
        assert held == expected, (held ^ expected, "members differ from those before the target")
        # Resumed: a new command works and is published after the reconciliation.
        after_restore = await enroll(work, 2)
        result = await check_reconciled(drill, http, city, held | after_restore)
        assert result.orphans == after_target, (result.orphans, after_target)

    write_report(
        "point_in_time",
        {
            "restore_target": target.isoformat(),
            **restored.numbers(),
            "accepted_enrollments": len(expected | after_target),
            "accepted_enrollments_undone_by_the_target": len(after_target),
            "orphan_events_reported": result.orphan_events,
            "events_lost": 0,  # asserted: every member held has its event on the topic
            "events_doubled": 0,  # asserted: every event id once on the topic
        },
    )


async def test_restore_to_the_archive_end_after_a_crash_mid_stream(drill: dict[str, Any]) -> None:
    """The disaster case: the data directory lost while members are being enrolled, restored to
    the end of the archive. What the archive had not received yet is the recovery point; every
    enrollment accepted before the crash is held, or reported as an orphan, or (committed but not
    yet published when the server died) counted as lost."""
    infra: DrillInfra = drill["infra"]
    async with httpx.AsyncClient(timeout=30) as http:
        services, city, work = await start(drill, http)
        enrollment_db = services[0].env["DATABASE_URL"]
        await enroll(work, 3)
        infra.run("backup")
        stop = asyncio.Event()

        async def writer() -> None:
            while not stop.is_set():
                await work.enroll()

        writing = asyncio.create_task(writer())
        await asyncio.sleep(3 * ARCHIVE_TIMEOUT)
        destroyed_at = destroy(infra)
        accepted = set(work.members)  # answered before the crash: committed
        writing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writing
        restored = await restore(infra, services, destroyed_at)
        # The archive's end: at most ARCHIVE_TIMEOUT (and the archiver's turn) before the crash.
        assert restored.destroyed_at - restored.last_commit.timestamp() < 3 * ARCHIVE_TIMEOUT, restored
        held = await members_held(enrollment_db)
        after_restore = await enroll(work, 1)
        result = await check_reconciled(drill, http, city, held | after_restore)
        # Held, or reported; the rest committed in the lost WAL and never published.
        lost = accepted - held - result.orphans
        stray = held - accepted - after_restore
        assert len(stray) <= 1, f"members nobody was told were enrolled: {stray}"  # the one in flight

    write_report(
        "archive_end",
        {
            **restored.numbers(),
            "accepted_enrollments": len(accepted),
            "accepted_enrollments_held": len(accepted & held),
            "accepted_enrollments_orphaned": len(accepted & result.orphans),
            "accepted_enrollments_lost": len(lost),
            "orphan_events_reported": result.orphan_events,
        },
    )


async def _published(dsn: str) -> bool:
    rows = await fetch(dsn, "SELECT count(*) AS n FROM outbox")
    return bool(rows[0]["n"] == 0)
