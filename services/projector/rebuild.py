"""Rebuild the card read model from the beginning of the topics: `python -m services.projector rebuild`.

Stop the projector first (its consumer group must be empty). The rebuild empties the read model,
replays every partition up to the end offsets it saw when it started, using the same handlers as
the live projector, then commits those offsets for the group so the projector resumes after them.
"""

import asyncio
import time

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalGenerationError, RebalanceInProgressError

from services.projector.app import SERVICE, ProjectorSettings, build_consumer
from services.projector.store import cards
from shared.db import open_pool
from shared.kafka import ensure_topics, make_producer
from shared.logging import configure_logging, get_logger

log = get_logger(__name__)


async def rebuild(settings: ProjectorSettings) -> dict[str, int]:
    started = time.perf_counter()
    pool = await open_pool(settings.database_url, SERVICE, "services.projector.migrations")
    await ensure_topics(
        settings.kafka_bootstrap_servers,
        {t: settings.topic_partitions for t in [*settings.source_topics, settings.dead_letter_topic]},
    )
    producer = make_producer(settings.kafka_bootstrap_servers, client_id=f"{SERVICE}-rebuild")
    reader = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=settings.consumer_name,
        enable_auto_commit=False,
        max_poll_records=settings.batch_size,
    )
    await producer.start()
    await reader.start()
    totals = {"events": 0, "applied": 0, "duplicates": 0, "dead_lettered": 0}
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in settings.source_topics
            for p in sorted(reader.partitions_for_topic(topic) or await _partitions(reader, topic))
        ]
        reader.assign(partitions)
        await reader.seek_to_beginning(*partitions)
        end = await reader.end_offsets(partitions)
        async with pool.acquire() as conn:
            await cards.reset(conn, settings.consumer_name)
        consumer = build_consumer(settings, pool, producer)
        remaining = {tp for tp in partitions if end[tp] > 0}
        while remaining:
            batches = await reader.getmany(*remaining, timeout_ms=1000, max_records=settings.batch_size)
            for tp, records in batches.items():
                records = [r for r in records if r.offset < end[tp]]
                if records:
                    result = await consumer.handle_batch(records)
                    totals["events"] += len(records)
                    totals["applied"] += result.applied
                    totals["duplicates"] += result.duplicates
                    totals["dead_lettered"] += result.dead_lettered
            for tp in list(remaining):
                if await reader.position(tp) >= end[tp]:
                    remaining.discard(tp)
        try:
            await reader.commit({tp: end[tp] for tp in partitions})
        except (CommitFailedError, IllegalGenerationError, RebalanceInProgressError) as exc:
            raise SystemExit(
                f"rebuilt, but could not commit the group's offsets ({exc!r}): "
                "is the projector still running? Stop it and run the rebuild again."
            ) from exc
    finally:
        await reader.stop()
        await producer.stop()
        await pool.close()
    totals["seconds"] = round(time.perf_counter() - started)
    return totals


async def _partitions(reader: AIOKafkaConsumer, topic: str) -> set[int]:
    for _ in range(50):
        await reader._client.force_metadata_update()
        found = reader.partitions_for_topic(topic)
        if found:
            return set(found)
        await asyncio.sleep(0.1)
    raise SystemExit(f"topic {topic} has no partitions")


def main() -> None:
    settings = ProjectorSettings()
    configure_logging(SERVICE, settings.log_level, settings.log_format)
    totals = asyncio.run(rebuild(settings))
    log.info("rebuild_finished", **totals)
    print(f"rebuilt the card read model: {totals}")
