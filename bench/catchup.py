"""Measure 1 and 5: the projector catching up on a backlog, against the machine's own limits.

- the backlog: the city's day, produced to the bench's topics with a fast producer;
- the projector (1, 2, 4 replicas, one consumer group) from zero until it has applied everything;
- (a) a raw aiokafka consumer reading the same topics and doing nothing with the records;
- (b) a raw PostgreSQL COPY of the rows the projector writes for those events, into tables of
  the same columns (no keys, no indexes: the database's write limit on this machine);
- (c) a naive projector: the same handlers and idempotent consumer, one event per transaction;
- (d) decoding alone and (e) the projector's writes alone: its two ceilings, each measured with
  nothing else to do.
"""

import asyncio
import json
import signal
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench.stack import PERSON_KEY_SECRET, BenchStack, cpu_seconds, profile
from bench.workload import City, Event
from services.projector.app import MIGRATIONS, SOURCE_TOPICS, ProjectorSettings
from services.projector.handlers.dispatch import apply_event
from services.projector.store import generations
from shared.consumer import IdempotentConsumer, header_hint
from shared.contracts import competitions, enrollment, legal, partners, relief
from shared.contracts.envelope import EventPayload, decode_event
from shared.db import Conn, ensure_database, open_pool
from shared.kafka import ensure_topics
from shared.outbox import event_headers, kafka_headers

# py-spy samples the first seconds of the 1-replica catch-up only: it needs CPU too, and the
# machine has two cores.
PROFILE_SECONDS = 10


def projector_topics(prefix: str) -> list[str]:
    """The topics the projector reads, as its own settings name them."""
    settings = ProjectorSettings(
        database_url="postgresql://unused/x", person_key_secret=PERSON_KEY_SECRET, topic_prefix=prefix
    )
    return settings.source_topics


@dataclass
class Backlog:
    prefix: str
    topics: list[str]  # the projector's source topics
    events: int  # records on those topics
    by_topic: dict[str, int]
    produce_s: float
    bytes: int


async def produce(
    bootstrap: str, prefix: str, events: Iterable[Event], partitions: int, topics: list[str]
) -> Backlog:
    """Produce the events, keyed by subject, with a producer tuned for throughput."""
    all_topics = {prefix + t for t in SOURCE_TOPICS}
    await ensure_topics(bootstrap, {t: partitions for t in {*all_topics, *topics}})
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        linger_ms=20,
        max_batch_size=512 * 1024,
        acks=1,
        compression_type=None,
        max_request_size=4 * 1024 * 1024,
    )
    await producer.start()
    counts: Counter[str] = Counter()
    size = 0
    started = time.monotonic()
    try:
        pending: list[asyncio.Future[Any]] = []
        for event in events:
            value = event.value()
            size += len(value)
            topic = prefix + event.topic
            counts[topic] += 1
            # The headers the services' outbox writes (consumers read type and version from them).
            headers = kafka_headers(event_headers(event.envelope))
            pending.append(await producer.send(topic, value=value, key=event.key.encode(), headers=headers))
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return Backlog(
        prefix=prefix,
        topics=topics,
        events=sum(counts[t] for t in topics),
        by_topic=dict(counts),
        produce_s=time.monotonic() - started,
        bytes=size,
    )


async def end_offsets(bootstrap: str, topics: list[str]) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        tps = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or [])]
        return dict(await consumer.end_offsets(tps))
    finally:
        await consumer.stop()


# --- the projector ------------------------------------------------------------------------------


async def applied_count(conn: asyncpg.Connection, consumer: str) -> int:
    """Records the live generation has applied (its own tracked positions), all partitions."""
    value = await conn.fetchval(
        'SELECT coalesce(sum("offset" + 1), 0) FROM public.consumer_positions WHERE consumer = $1', consumer
    )
    return int(value or 0)


async def projector_catchup(
    bench: BenchStack, backlog: Backlog, replicas: int, *, profile_to: Any = None, label: str = "catch-up"
) -> dict[str, Any]:
    """Start `replicas` projectors on a fresh database; time them until nothing is left to apply."""
    database = bench.database(f"proj_{label.replace('-', '')}_r{replicas}")
    services = [
        bench.service("projector", prefix=backlog.prefix, database=database, label=f"projector#{i + 1}")
        for i in range(replicas)
    ]
    consumer_name = f"{backlog.prefix}projector"
    # Made beforehand: replicas starting at once on a missing database race to create it.
    await ensure_database(bench.dsn(database))
    bench.rss.phase = f"{label} x{replicas}"
    started = time.monotonic()
    await bench.start(*services)
    ready = time.monotonic()
    conn = await asyncpg.connect(bench.dsn(database))
    spy = None
    try:
        cpu0: list[float] | None = None
        deadline = time.monotonic() + 3600
        while time.monotonic() < deadline:
            n = await applied_count(conn, consumer_name)
            if n >= backlog.events:
                break
            if spy is not None and spy.poll() is not None:
                break  # a run for the profile ends with the profile
            if cpu0 is None and n > 0:
                cpu0 = [cpu_seconds(s.pid) for s in services]
                if profile_to is not None and services[0].pid:
                    spy = profile(services[0].pid, PROFILE_SECONDS, profile_to)
            await asyncio.sleep(0.05)
        else:
            raise RuntimeError(f"projector x{replicas} did not catch up within an hour")
        done_wall, done = time.time(), time.monotonic()
        # The window starts when the first batch's transaction began (processed_at is now()).
        first_wall = await conn.fetchval(
            "SELECT extract(epoch FROM min(processed_at))::float8 FROM public.processed_events"
        )
        window = max(1e-6, done_wall - float(first_wall))
        applied = min(n, backlog.events)
        rate = applied / window
        cpu = [cpu_seconds(s.pid) - c for s, c in zip(services, cpu0 or [0.0] * replicas, strict=True)]
        cards = await conn.fetchval("SELECT count(*) FROM public.cards")
    finally:
        await conn.close()
        if spy is not None:
            if spy.poll() is None:
                spy.send_signal(signal.SIGINT)  # py-spy writes what it sampled on Ctrl-C
            await asyncio.to_thread(spy.wait)
        await bench.stop(*services)
    return {
        "database": database,
        "replicas": replicas,
        "events": applied,
        "start_to_ready_s": ready - started,
        "catchup_s": done - ready,
        "window_s": window,
        "events_per_s": rate,
        "cards": int(cards),
        # CPU the replicas used while catching up, in cores (1.0 = one core busy all along).
        "cpu_cores": [round(c / window, 2) for c in cpu],
    }


# --- (a) the raw consumer -----------------------------------------------------------------------


async def raw_consumer(bootstrap: str, topics: list[str]) -> dict[str, Any]:
    """Read every record of the topics from the beginning, doing nothing with them."""
    ends = await end_offsets(bootstrap, topics)
    total = sum(ends.values())
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, max_partition_fetch_bytes=4 * 1024 * 1024
    )
    await consumer.start()
    try:
        consumer.assign(list(ends))
        await consumer.seek_to_beginning(*ends)
        seen = 0
        started = time.monotonic()
        while seen < total:
            batch = await consumer.getmany(timeout_ms=500, max_records=10_000)
            for records in batch.values():
                seen += len(records)
        elapsed = time.monotonic() - started
    finally:
        await consumer.stop()
    return {"events": seen, "seconds": elapsed, "events_per_s": seen / elapsed}


# --- (b) raw COPY -------------------------------------------------------------------------------

COLUMNS: dict[str, list[str]] = {
    "unions": ["union_id", "name", "kind", "parent_id", "region", "path", "path_names"],
    "cards": [
        "member_id",
        "version",
        "name",
        "national_id_masked",
        "membership_number",
        "card_number",
        "base_union_id",
        "status",
        "member_since",
        "employer",
        "employment_type",
        "periods",
    ],
    "applications": ["person_id", "version", "application_id", "base_union_id", "status", "reason"],
    "relief_cases": [
        "member_id",
        "version",
        "case_id",
        "status",
        "tier",
        "union_id",
        "aid_year",
        "aid_paid_fen",
    ],
    "honours": [
        "honour_id",
        "member_id",
        "version",
        "kind",
        "title",
        "granted_on",
        "valid_until",
        "competition_name",
        "team_name",
    ],
    "competition_results": [
        "member_id",
        "stage_id",
        "version",
        "competition_name",
        "competition_kind",
        "stage_name",
        "team_name",
        "rank",
        "of_entries",
        "score",
        "finalized_at",
    ],
    "competition_awards": [
        "award_id",
        "member_id",
        "version",
        "title",
        "competition_name",
        "team_name",
        "rank",
        "granted_at",
    ],
    "legal_cases": [
        "case_id",
        "member_id",
        "version",
        "case_no",
        "kind",
        "stage",
        "outcome",
        "next_deadline",
        "next_due_on",
    ],
    "merchants": [
        "merchant_id",
        "version",
        "partner_id",
        "name",
        "category",
        "region",
        "region_prefix",
        "address",
        "listed_at",
    ],
    "offers": [
        "offer_key",
        "version",
        "partner_id",
        "merchant_id",
        "offer_id",
        "title",
        "description",
        "discount_kind",
        "discount_percent",
        "discount_amount_fen",
        "category",
        "region",
        "region_prefix",
        "valid_from",
        "valid_until",
        "eligibility",
        "published_at",
    ],
    "processed_events": ["consumer", "event_id"],
}


def rows_for(event: Event, consumer: str) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """The rows the projector writes for one event (one per table it touches)."""
    p: EventPayload = event.payload
    v = event.envelope.subject_version
    yield "processed_events", (consumer, event.envelope.event_id)
    match p:
        case enrollment.UnionRegistered():
            yield (
                "unions",
                (
                    p.union_id,
                    p.name,
                    p.kind.value,
                    p.parent_id,
                    p.region,
                    [r.union_id for r in p.path],
                    [r.name for r in p.path],
                ),
            )
        case enrollment.ApplicationSubmitted() | enrollment.ApplicationRejected():
            status, reason = (
                ("pending", None)
                if isinstance(p, enrollment.ApplicationSubmitted)
                else ("rejected", p.reason)
            )
            yield "applications", (p.person_id, v, p.application_id, p.base_union_id, status, reason)
        case (
            enrollment.MemberEnrolled()
            | enrollment.MemberReinstated()
            | enrollment.MemberTransferred()
            | enrollment.MemberLeft()
        ):
            m = p.member
            yield (
                "cards",
                (
                    m.member_id,
                    v,
                    m.name,
                    m.national_id_masked,
                    m.membership_number,
                    m.card_number,
                    m.base_union_id,
                    m.status.value,
                    m.member_since,
                    m.employer,
                    m.employment_type.value,
                    json.dumps([x.model_dump(mode="json") for x in m.periods]),
                ),
            )
            if (
                isinstance(p, enrollment.MemberEnrolled | enrollment.MemberReinstated)
                and p.application_id is not None
            ):
                yield "applications", (m.member_id, v, p.application_id, m.base_union_id, "approved", None)
        case competitions.HonourGranted():
            yield (
                "honours",
                (
                    p.honour_id,
                    p.member_id,
                    v,
                    p.kind.value,
                    p.title,
                    p.granted_on,
                    p.valid_until,
                    p.competition.name if p.competition else None,
                    p.team_name,
                ),
            )
        case competitions.ResultFinalized():
            yield (
                "competition_results",
                (
                    p.member_id,
                    p.stage_id,
                    v,
                    p.competition.name,
                    p.competition.kind.value,
                    p.stage_name,
                    p.entry.team_name,
                    p.rank,
                    p.of_entries,
                    p.score,
                    p.finalized_at,
                ),
            )
        case competitions.AwardGranted():
            yield (
                "competition_awards",
                (
                    p.award_id,
                    p.member_id,
                    v,
                    p.title,
                    p.competition.name,
                    p.entry.team_name,
                    p.rank,
                    p.granted_at,
                ),
            )
        case partners.MerchantListed():
            yield (
                "merchants",
                (
                    p.merchant_id,
                    v,
                    p.partner_id,
                    p.name,
                    p.category.value,
                    p.region,
                    partners.region_prefix(p.region),
                    p.address,
                    p.listed_at,
                ),
            )
        case partners.OfferPublished():
            disc = p.discount
            yield (
                "offers",
                (
                    p.offer_key,
                    p.version,
                    p.partner_id,
                    p.merchant_id,
                    p.offer_id,
                    p.title,
                    p.description,
                    disc.kind.value,
                    disc.percent,
                    disc.amount_fen,
                    p.category.value,
                    p.region,
                    partners.region_prefix(p.region),
                    p.valid_from,
                    p.valid_until,
                    p.eligibility.value,
                    p.published_at,
                ),
            )
        case _:
            case = getattr(p, "case", None)
            if isinstance(case, relief.CaseSnapshot):
                yield (
                    "relief_cases",
                    (
                        case.member_id,
                        v,
                        case.case_id,
                        case.status.value,
                        case.tier.value if case.tier else None,
                        case.union_id,
                        case.aid_year,
                        case.aid_paid_fen,
                    ),
                )
            elif isinstance(case, legal.CaseSnapshot):
                d = case.next_deadline
                for member_id in case.member_ids:
                    yield (
                        "legal_cases",
                        (
                            case.case_id,
                            member_id,
                            v,
                            case.case_no,
                            case.kind.value,
                            case.stage.value,
                            case.outcome.value if case.outcome else None,
                            d.name.value if d else None,
                            d.due_on if d else None,
                        ),
                    )


async def raw_copy(
    bench: BenchStack, city: City, topics: list[str], prefix: str, chunk: int = 50_000
) -> dict[str, Any]:
    """COPY the rows the projector writes for the backlog's events into keyless tables of the
    same columns. Only the COPY calls are timed (the rows are built beforehand, chunk by chunk)."""
    database = bench.database("copy")
    pool = await open_pool(bench.dsn(database), "projector", [MIGRATIONS], min_size=1, max_size=2)
    wanted = {t.removeprefix(prefix) for t in topics}
    consumer = f"{prefix}projector"
    copied_s = 0.0
    events = rows = 0
    try:
        async with pool.acquire() as conn:
            await conn.execute("CREATE SCHEMA copy_target")
            for table in COLUMNS:
                await conn.execute(f"CREATE TABLE copy_target.{table} (LIKE rm_1.{table} INCLUDING DEFAULTS)")
            batch: dict[str, list[tuple[Any, ...]]] = {t: [] for t in COLUMNS}
            pending = 0

            async def flush() -> float:
                began = time.monotonic()
                for table, records in batch.items():
                    if records:
                        await conn.copy_records_to_table(
                            table, records=records, columns=COLUMNS[table], schema_name="copy_target"
                        )
                        records.clear()
                return time.monotonic() - began

            for event in city.events():
                if event.topic not in wanted:
                    continue
                events += 1
                for table, row in rows_for(event, consumer):
                    batch[table].append(row)
                    rows += 1
                pending += 1
                if pending >= chunk:
                    copied_s += await flush()
                    pending = 0
            copied_s += await flush()
    finally:
        await pool.close()
    return {"events": events, "rows": rows, "seconds": copied_s, "events_per_s": events / copied_s}


# --- (d) decoding alone -------------------------------------------------------------------------


def decode_only(city: City, topics: list[str], prefix: str, limit: int = 100_000) -> dict[str, Any]:
    """Decoding as the consumers decode (envelope and payload validated with the contracts, the
    type and version hinted by the record's headers) on the backlog's records, nothing else: what
    one core can decode, the ceiling of any Python consumer of these events."""
    wanted = {t.removeprefix(prefix) for t in topics}
    records = []
    for event in city.events():
        if event.topic in wanted:
            headers = kafka_headers(event_headers(event.envelope))
            records.append((event.value(), headers))
            if len(records) >= limit:
                break
    for value, headers in records[:2000]:  # steady state, as in a running consumer (models built)
        decode_event(value, header_hint(headers))
    started = time.process_time()
    for value, headers in records:
        decode_event(value, header_hint(headers))
    elapsed = time.process_time() - started
    return {"events": len(records), "cpu_s": elapsed, "events_per_s": len(records) / elapsed}


# --- (c) the naive projector, and (e) the projector's writes alone ------------------------------


# The projector's own batch size (ProjectorSettings), so (c) and (e) read as it reads.
PROJECTOR_BATCH: int = ProjectorSettings.model_fields["batch_size"].default


class OwnConsumer:
    """The projector's own IdempotentConsumer and handlers on a database of its own (schema rm_1),
    reading the backlog from the start with a plain consumer: no group, no generation swaps."""

    def __init__(self, bench: BenchStack, backlog: Backlog, label: str, *, batch_writes: bool) -> None:
        self.bench = bench
        self.backlog = backlog
        self.label = label
        self.batch_writes = batch_writes

    async def __aenter__(self) -> "OwnConsumer":
        bench, backlog = self.bench, self.backlog
        self.pool = await open_pool(
            bench.dsn(bench.database(self.label)), "projector", [MIGRATIONS], min_size=1, max_size=2
        )
        self.producer = AIOKafkaProducer(bootstrap_servers=bench.bootstrap)
        await self.producer.start()

        async def prepare(conn: Conn) -> None:
            await generations.use_schema(conn, "rm_1")

        self.idem = IdempotentConsumer(
            f"{backlog.prefix}projector", self.pool, self.producer,
            f"{backlog.prefix}bench-{self.label}.deadletter.v1", apply_event,
            prepare=prepare, batch_writes=self.batch_writes,
        )  # fmt: skip
        ends = await end_offsets(bench.bootstrap, backlog.topics)
        self.consumer = AIOKafkaConsumer(bootstrap_servers=bench.bootstrap, enable_auto_commit=False)
        await self.consumer.start()
        self.consumer.assign(list(ends))
        await self.consumer.seek_to_beginning(*ends)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.consumer.stop()
        await self.producer.stop()
        await self.pool.close()

    async def batch(self) -> list[Any]:
        """The next records, as the projector gets them (up to its batch size, across partitions)."""
        fetched = await self.consumer.getmany(timeout_ms=500, max_records=PROJECTOR_BATCH)
        return [record for records in fetched.values() for record in records]


async def naive_projector(bench: BenchStack, backlog: Backlog, sample: int, seconds: float) -> dict[str, Any]:
    """The projector's own idempotent consumer and handlers, one event per transaction, on a
    bounded sample (the first `sample` records, or `seconds`, whichever comes first)."""
    done = 0
    async with OwnConsumer(bench, backlog, "naive", batch_writes=False) as own:
        started = time.monotonic()
        deadline = started + seconds
        while done < min(sample, backlog.events) and time.monotonic() < deadline:
            for record in await own.batch():
                await own.idem.handle_batch([record])
                done += 1
        elapsed = time.monotonic() - started
    return {
        "events": done,
        "seconds": elapsed,
        "events_per_s": done / elapsed,
        "note": f"one transaction per event, measured on the first {done} records and extrapolated",
    }


async def writes_only(bench: BenchStack, backlog: Backlog, sample: int = 100_000) -> dict[str, Any]:
    """The projector's batch transactions alone (idempotency rows, the handlers' upserts, its
    positions; batches of its size, as it reads them) on events decoded beforehand, one connection.
    Only the transactions are timed: with (d) this is the other ceiling of a projector, what
    writing the events costs when reading and decoding them costs nothing."""
    done = 0
    wall = cpu = 0.0
    async with OwnConsumer(bench, backlog, "writes", batch_writes=True) as own:
        while done < min(sample, backlog.events):
            records = await own.batch()
            decoded, result = await own.idem.decode_batch(records)
            began, cpu_began = time.monotonic(), time.process_time()
            await own.idem.apply_decoded(decoded, records, result)
            wall += time.monotonic() - began
            cpu += time.process_time() - cpu_began
            done += len(records)
    return {
        "events": done,
        "seconds": wall,
        "events_per_s": done / wall,
        # The Python side of it (handlers, asyncpg): the rest of the wall time is the database.
        "client_cpu_us_per_event": 1e6 * cpu / done,
    }


def new_run_id() -> str:
    return uuid.uuid4().hex[:6]
