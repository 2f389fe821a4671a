"""Measure 2: freshness, from an HTTP command accepted to the change visible on the card.

Enrollment and the projector run as real processes on their own topics and databases. A load
generator sends commands open loop (each at its scheduled time, whether or not earlier ones have
answered, so a slow system cannot hide its latency by slowing the generator down) at a steady
rate, a mix of a busy counter:

- 40 % applications (POST /applications): visible when the card shows the pending application;
- 30 % approvals of applications already on the card: visible when the card shows the member;
- 30 % transfers of enrolled members to another base union: visible when the card shows the
  new union.

A watcher polls the projector's read model (the live generation, through public's views) every
10 ms for every change still outstanding, in three set queries, so watching costs the system
little; a change counts as visible at the poll that first sees it (resolution ~10 ms).
Per command: `command` = scheduled → accepted (2xx), `freshness` = accepted → visible.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import signal
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench import cpu
from bench.http import Client
from bench.stack import RAW, BenchStack, admin_headers, profile
from bench.stats import percentiles
from services.enrollment.domain.national_id import check_char


def national_id(i: int) -> str:
    """The i-th of a series of valid, distinct national ID numbers (adults born 1970-1999)."""
    born = date(1970, 1, 1) + timedelta(days=i // 1000)
    first17 = f"330106{born:%Y%m%d}{i % 1000:03d}"
    return first17 + check_char(first17)


@dataclass
class Pending:
    kind: str  # application | approval | transfer
    member_id: uuid.UUID
    accepted_at: float
    accepted_wall: float = 0.0
    sent_wall: float = 0.0  # before the request went out: the command's event cannot be earlier
    target_union: uuid.UUID | None = None
    application_id: uuid.UUID | None = None


@dataclass
class Driver:
    enrollment: str
    db: asyncpg.Connection
    unions: list[uuid.UUID]
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    ids: itertools.count[int] = field(default_factory=itertools.count)
    approvable: deque[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=deque)  # (app, person)
    members: deque[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=deque)  # (member, union)
    outstanding: dict[int, Pending] = field(default_factory=dict)
    seen: list[tuple[Pending, float, float]] = field(default_factory=list)
    last_seen: list[tuple[Pending, float, float]] = field(default_factory=list)
    command_ms: list[float] = field(default_factory=list)
    errors: int = 0
    accepted: int = 0
    error_samples: list[str] = field(default_factory=list)
    client: Client | None = None
    _keys: itertools.count[int] = field(default_factory=itertools.count)

    async def apply(self, scheduled: float | None = None) -> None:
        i = next(self.ids)
        body = {
            "name": f"职工{i}",
            "national_id": national_id(i),
            "phone": f"138{i:08d}",
            "employer": "杭州某物流有限公司",
            "employment_type": "employee",
            "base_union_id": str(self.rng.choice(self.unions)),
        }
        sent = time.time()
        r = await self._post("/applications", body, scheduled)
        if r is not None:
            app = r["application"]
            self._track(
                Pending(
                    "application",
                    uuid.UUID(app["member_id"]),
                    time.monotonic(),
                    application_id=uuid.UUID(app["application_id"]),
                    sent_wall=sent,
                )
            )

    async def approve(self, scheduled: float | None = None) -> None:
        if not self.approvable:
            return await self.apply(scheduled)
        app_id, person = self.approvable.popleft()
        sent = time.time()
        r = await self._post(f"/applications/{app_id}/approve", None, scheduled)
        if r is not None:
            union = uuid.UUID(r["base_union_id"])
            self._track(Pending("approval", person, time.monotonic(), target_union=union, sent_wall=sent))
        return None

    async def transfer(self, scheduled: float | None = None) -> None:
        if not self.members:
            return await self.apply(scheduled)
        member, union = self.members.popleft()
        to = self.rng.choice([u for u in self.unions if u != union])
        sent = time.time()
        # The bench's base unions share one parent: the request is accepted at once.
        r = await self._post(
            f"/members/{member}/transfers", {"to_union_id": str(to), "reason": "调动"}, scheduled
        )
        if r is not None:
            self._track(Pending("transfer", member, time.monotonic(), target_union=to, sent_wall=sent))
        else:
            self.members.append((member, union))
        return None

    def _track(self, p: Pending) -> None:
        p.accepted_wall = time.time() - (time.monotonic() - p.accepted_at)
        self.outstanding[next(self._keys)] = p

    async def _post(self, path: str, body: Any, scheduled: float | None) -> Any:
        assert self.client is not None
        try:
            async with asyncio.timeout(30):
                status, answer = await self.client.post(path, body)
        except (OSError, ConnectionError, TimeoutError, ValueError, asyncio.IncompleteReadError) as exc:
            self._error(f"{path}: {exc!r}")
            return None
        if scheduled is not None:
            self.command_ms.append(1000 * (time.monotonic() - scheduled))
        if status >= 300:
            self._error(f"{path}: {status} {str(answer)[:200]}")
            return None
        self.accepted += 1
        return answer

    def _error(self, what: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(what)

    async def watch_once(self) -> None:
        """One poll of the read model for every change still outstanding."""
        if not self.outstanding:
            return
        items = list(self.outstanding.items())
        apps = [p.member_id for _, p in items if p.kind == "application"]
        cards = [p.member_id for _, p in items if p.kind != "application"]
        found_apps: set[uuid.UUID] = set()
        found_cards: dict[uuid.UUID, uuid.UUID] = {}
        if apps:
            rows = await self.db.fetch(
                "SELECT person_id FROM public.applications WHERE person_id = ANY($1::uuid[])", apps
            )
            found_apps = {r["person_id"] for r in rows}
        if cards:
            rows = await self.db.fetch(
                "SELECT member_id, base_union_id FROM public.cards WHERE member_id = ANY($1::uuid[])", cards
            )
            found_cards = {r["member_id"]: r["base_union_id"] for r in rows}
        now, wall = time.monotonic(), time.time()
        for key, p in items:
            if p.kind == "application":
                visible = p.member_id in found_apps
            else:
                visible = found_cards.get(p.member_id) == p.target_union
            if visible:
                del self.outstanding[key]
                self.seen.append((p, now, wall))
                if p.kind == "application" and p.application_id is not None:
                    self.approvable.append((p.application_id, p.member_id))
                elif p.target_union is not None:
                    self.members.append((p.member_id, p.target_union))

    async def watch(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            began = time.monotonic()
            await self.watch_once()
            await asyncio.sleep(max(0.0, 0.01 - (time.monotonic() - began)))


async def _union(client: Client, name: str, kind: str, parent: uuid.UUID | None) -> uuid.UUID:
    body = {"name": name, "kind": kind, "parent_id": str(parent) if parent else None, "region": "330106"}
    status, answer = await client.post("/unions", body)
    if status != 201:
        raise RuntimeError(f"POST /unions: {status} {answer}")
    return uuid.UUID(answer["union_id"])


async def step(driver: Driver, rate: int, seconds: float) -> dict[str, Any]:
    """Send commands at `rate`/s for `seconds`, open loop; wait up to 15 s for the last to show."""
    driver.command_ms = []
    driver.seen = []
    driver.errors = 0
    driver.accepted = 0
    kinds = (["apply"] * 4) + (["approve"] * 3) + (["transfer"] * 3)
    tasks: list[asyncio.Task[None]] = []
    n = int(rate * seconds)
    t0 = time.monotonic() + 0.05
    late = 0.0
    for k in range(n):
        scheduled = t0 + k / rate
        delay = scheduled - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            late = max(late, -delay)
        kind = kinds[k % len(kinds)]
        tasks.append(asyncio.create_task(getattr(driver, kind)(scheduled)))
    await asyncio.gather(*tasks)
    served_s = time.monotonic() - t0  # until the last command was answered, queueing included
    accepted = driver.accepted
    deadline = time.monotonic() + 15
    while driver.outstanding and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    driver.last_seen = list(driver.seen)
    fresh = [1000 * (seen - p.accepted_at) for p, seen, _ in driver.seen]
    by_kind = {
        kind: percentiles([1000 * (seen - p.accepted_at) for p, seen, _ in driver.seen if p.kind == kind])
        for kind in ("application", "approval", "transfer")
    }
    not_visible = len(driver.outstanding)
    driver.outstanding.clear()
    return {
        "target_rate": rate,
        "seconds": seconds,
        "commands": n,
        "accepted": accepted,
        "achieved_rate": accepted / max(served_s, seconds),
        "generator_max_late_ms": 1000 * late,
        "errors": driver.errors,
        "error_samples": driver.error_samples[:3],
        "not_visible": not_visible,
        "command_ms": percentiles(driver.command_ms),
        "freshness_ms": percentiles(fresh),
        "freshness_by_kind_ms": by_kind,
    }


async def measure(
    bench: BenchStack, rates: list[int], seconds: float, warm_members: int = 300
) -> dict[str, Any]:
    prefix = bench.prefix("fresh")
    enrollment = bench.service("enrollment", prefix=prefix, database=bench.database("fresh_enrollment"))
    projector = bench.service("projector", prefix=prefix, database=bench.database("fresh_projector"))
    bench.rss.phase = "freshness"
    await bench.start(enrollment, projector)
    db = await asyncpg.connect(projector.dsn)
    stop = asyncio.Event()
    token = admin_headers()["Authorization"].removeprefix("Bearer ")
    client = Client("127.0.0.1", enrollment.port, token)
    published = Published(bench.bootstrap, f"{prefix}enrollment.events.v1")
    steps: list[dict[str, Any]] = []
    try:
        root = await _union(client, "杭州市总工会", "city", None)
        district = await _union(client, "西湖区总工会", "county", root)
        unions = [await _union(client, f"西湖区第{i + 1}基层工会", "base", district) for i in range(10)]
        driver = Driver(enrollment.url, db, unions, client=client)
        watcher = asyncio.create_task(driver.watch(stop))
        await published.start()
        try:
            # Warm-up (not measured): members to transfer, applications to approve.
            for _ in range(warm_members // 50):
                await asyncio.gather(*(driver.apply() for _ in range(50)))
            await _settle(driver)
            for _ in range(warm_members // 2 // 50):
                await asyncio.gather(*(driver.approve() for _ in range(50)))
            await _settle(driver)
            for rate in rates:
                bench.rss.phase = f"freshness {rate}/s"
                # Profiled at the first rate only: py-spy takes CPU from the 2 cores too.
                spy = (
                    profile(enrollment.pid, 600, RAW / "profile-enrollment-freshness.txt")
                    if enrollment.pid and rate == rates[0]
                    else None
                )
                before, started = cpu.snapshot(), time.monotonic()
                result = await step(driver, rate, seconds)
                named = {s.label: s.pid for s in (enrollment, projector)}
                named["bench (commands, watcher)"] = os.getpid()
                split = cpu.split(before, cpu.snapshot(), named)
                result.update(cpu.per_request(split, result["accepted"], time.monotonic() - started))
                result["cpu_cores"] = {
                    s.label: result["cores_by_part"][s.label] for s in (enrollment, projector)
                }
                if spy is not None:
                    spy.send_signal(signal.SIGINT)  # py-spy writes what it sampled on Ctrl-C
                    await asyncio.to_thread(spy.wait)
                result["split_ms"] = published.split(driver.last_seen)
                steps.append(result)
                print(
                    f"    freshness at {rate}/s: {result['freshness_ms']} "
                    f"(achieved {result['achieved_rate']:.0f}/s, {result['errors']} errors)",
                    flush=True,
                )
                queueing = (result["command_ms"] or {}).get("p50", 0) > 1000
                if result["achieved_rate"] < 0.95 * rate or queueing:
                    # Beyond this rate commands only queue up in front of the service.
                    print(f"    stopping here: the system did not keep up with {rate}/s", flush=True)
                    result["sustained"] = False
                    break
                result["sustained"] = True
        finally:
            stop.set()
            await watcher
            await published.stop()
    finally:
        client.close()
        await db.close()
        await bench.stop(enrollment, projector)
    return {"steps": steps, "warm_members": warm_members}


class Published:
    """When each member's events reached Kafka (the record timestamps the relay's producer set),
    to split freshness into accepted → published (outbox relay) and published → on the card."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        self._topic = topic
        self._times: dict[bytes, list[float]] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._consumer.start()
        await self._consumer._client.force_metadata_update()
        tps = [TopicPartition(self._topic, p) for p in self._consumer.partitions_for_topic(self._topic) or []]
        self._consumer.assign(tps)
        await self._consumer.seek_to_end(*tps)
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            batch = await self._consumer.getmany(timeout_ms=200)
            for records in batch.values():
                for r in records:
                    self._times.setdefault(r.key, []).append(r.timestamp / 1000)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._consumer.stop()

    def split(self, seen: list[tuple[Pending, float, float]]) -> dict[str, Any]:
        """accepted -> published (0 when the relay published before the client had the answer)
        and published (or accepted, if later) -> visible on the card."""
        relay, project = [], []
        for p, _, seen_wall in seen:
            times = [t for t in self._times.get(str(p.member_id).encode(), []) if t >= p.sent_wall - 0.005]
            if times:
                relay.append(1000 * max(0.0, times[0] - p.accepted_wall))
                project.append(1000 * max(0.0, seen_wall - max(times[0], p.accepted_wall)))
        return {"accepted_to_published": percentiles(relay), "published_to_card": percentiles(project)}


async def _settle(driver: Driver, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while driver.outstanding and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
