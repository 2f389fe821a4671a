"""The outbox against the service's own events topic, at every start: what a database restored to
an earlier point in time forgot it had published.

The relay records, with each batch's deletion, the last offset it published to in each partition
of the service's events topic (outbox_published). Normally the topic ends right there, or a few
records later when the relay stopped between the broker's acknowledgement and the deletion. After
a point-in-time restore the database is back at an earlier moment while the topic is not, and the
records past the recorded offsets are of two kinds:

- events still in the outbox: published, but their deletion was lost. They are deleted now
  instead of published again, so the topic holds each event once;
- events the database does not know at all: committed after the restore point, published, then
  lost with the database (outbox_orphans). Their state cannot be rebuilt from them (events carry
  masked personal data, not the source of truth), so they are listed for the operator
  (docs/backup.md), and their subjects' event versions move past them: the next event about such a
  subject must be newer than what consumers already hold, or they would ignore it as stale.

Reading from the recorded offsets costs nothing in normal operation. A partition with no recorded
offset yet (the first start with this table) starts at its end.
"""

import asyncio
import json
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.db import Conn
from shared.logging import get_logger

log = get_logger(__name__)


@dataclass
class Reconciled:
    scanned: int = 0
    already_published: int = 0  # outbox rows found on the topic: deleted, not published again
    orphans: int = 0  # events on the topic the database does not know


def _metadata(value: bytes | None, source: str) -> tuple[uuid.UUID, str, str, int] | None:
    """(event id, type, subject, subject version) of an envelope the service itself wrote; None for
    anything else on its topic (a record someone else produced there is not ours to reconcile)."""
    try:
        env = json.loads(value or b"")
        if env["source"] != source:
            return None
        event_id, version = uuid.UUID(env["event_id"]), int(env["subject_version"])
        return event_id, str(env["event_type"]), str(env["subject"]), version
    except (ValueError, TypeError, KeyError):
        return None


async def record_published(conn: Conn, topic: str, offsets: dict[int, int]) -> None:
    """The relay's bookkeeping, in the transaction that deletes the published rows."""
    await conn.executemany(
        """INSERT INTO outbox_published (topic, partition, "offset") VALUES ($1, $2, $3)
           ON CONFLICT (topic, partition)
           DO UPDATE SET "offset" = GREATEST(outbox_published."offset", EXCLUDED."offset")""",
        [(topic, p, o) for p, o in offsets.items()],
    )


async def reconcile(dsn: str, bootstrap: str, topic: str, source: str) -> Reconciled:
    """Compare the topic past the recorded offsets with the outbox and the event versions of
    `source` (the service's name in its envelopes)."""
    result = Reconciled()
    kafka = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await kafka.start()
    conn: Conn = await asyncpg.connect(dsn)
    try:
        partitions = await _partitions(kafka, topic)
        ends: dict[Any, int] = await kafka.end_offsets(partitions)
        rows = await conn.fetch('SELECT partition, "offset" FROM outbox_published WHERE topic = $1', topic)
        recorded = {r["partition"]: r["offset"] for r in rows}
        for tp in partitions:
            end = ends[tp]
            start = recorded.get(tp.partition, end - 1) + 1
            if start < end:
                await _scan(kafka, conn, tp, start, end, source, result)
            await record_published(conn, topic, {tp.partition: end - 1})
    finally:
        await conn.close()
        await kafka.stop()
    if result.already_published or result.orphans:
        log.warning("outbox_reconciled", topic=topic, **result.__dict__)
    return result


async def _partitions(kafka: AIOKafkaConsumer, topic: str, wait_s: float = 10.0) -> list[TopicPartition]:
    """The topic's partitions (it exists: the kit made it); a consumer of no group has no metadata
    of its own until asked, and a topic just made may take a moment to show in it."""
    for _ in range(int(wait_s * 10)):
        # aiokafka has no public call that refreshes the consumer's own metadata.
        await kafka._client.force_metadata_update()
        if parts := kafka.partitions_for_topic(topic):
            return [TopicPartition(topic, p) for p in sorted(parts)]
        await asyncio.sleep(0.1)
    raise RuntimeError(f"topic {topic} has no partitions (does it exist?)")


async def _scan(
    kafka: AIOKafkaConsumer,
    conn: Conn,
    tp: TopicPartition,
    start: int,
    end: int,
    source: str,
    result: Reconciled,
) -> None:
    kafka.assign([tp])
    kafka.seek(tp, start)
    while True:
        position = await kafka.position(tp)
        if position >= end:
            return
        batch = await kafka.getmany(tp, timeout_ms=1000, max_records=500)
        records = [r for r in batch.get(tp, []) if r.offset < end]
        found = [(r, m) for r in records if (m := _metadata(r.value, source)) is not None]
        result.scanned += len(records)
        if not found:
            continue
        async with conn.transaction():
            deleted = await conn.fetch(
                "DELETE FROM outbox WHERE event_id = ANY($1::uuid[]) RETURNING event_id",
                [m[0] for _, m in found],
            )
            result.already_published += len(deleted)
            known = {r["event_id"] for r in deleted}
            for record, (event_id, event_type, subject, version) in found:
                if event_id in known or version < 1:  # version 0: not numbered, cannot tell
                    continue
                held = await conn.fetchval("SELECT version FROM event_versions WHERE subject = $1", subject)
                if held is not None and held >= version:
                    continue  # published and deleted before the restore point: all in order
                await conn.execute(
                    """INSERT INTO event_versions (subject, version) VALUES ($1, $2)
                       ON CONFLICT (subject) DO UPDATE
                       SET version = GREATEST(event_versions.version, EXCLUDED.version)""",
                    subject,
                    version,
                )
                inserted = await conn.fetchval(
                    """INSERT INTO outbox_orphans
                           (event_id, topic, partition, "offset", event_type, subject, subject_version)
                       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING 1""",
                    event_id, tp.topic, tp.partition, record.offset, event_type, subject, version,
                )  # fmt: skip
                result.orphans += inserted or 0
            await record_published(conn, tp.topic, {tp.partition: records[-1].offset})
