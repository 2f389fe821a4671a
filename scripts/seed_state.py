"""Seed a state topic from its events topic, once, when a deployment first gets state topics.

    python -m scripts.seed_state --service enrollment [--dry-run]

Takes --bootstrap HOST:PORT (else KAFKA_BOOTSTRAP_SERVERS, else 127.0.0.1:9092) and
--topic-prefix P (else TOPIC_PREFIX).

Services write to their state topic only from the upgrade on (docs/retention.md): a subject whose
last event is older has nothing there, and is lost to rebuilds once the events topic's retention
deletes its history. Run this before that (within the 7 days the events are kept): it reads the
events topic from its beginning to its current end by manual assignment (no group, nothing
committed), keeps for each subject and state part the event with the highest subject version
and publishes its ORIGINAL bytes and headers to the state topic keyed `<subject>:<part>`,
as the outbox does. Running it again, or while services write, is harmless: the records carry
their own event ids and versions, so a reader applies each once and never lets an older one
replace a newer state.
"""

import argparse
import asyncio
import os
import sys
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.consumer import decode_record
from shared.contracts import ContractError
from shared.contracts.topics import state_topic
from shared.kafka import ensure_topics, make_producer

DEFAULT_BOOTSTRAP = "127.0.0.1:9092"


async def latest_states(bootstrap: str, events: str) -> tuple[dict[str, tuple[int, Any]], int, int]:
    """{`<subject>:<part>`: (subject version, record)} over the whole topic; records read; skipped."""
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await reader.start()
    latest: dict[str, tuple[int, Any]] = {}
    read = skipped = 0
    try:
        partitions = reader.partitions_for_topic(events)
        if not partitions:
            # aiokafka has no public call that refreshes the consumer's own metadata.
            await reader._client.force_metadata_update()
            partitions = reader.partitions_for_topic(events)
        if not partitions:
            raise SystemExit(f"topic {events} has no partitions (does it exist?)")
        tps = [TopicPartition(events, p) for p in sorted(partitions)]
        reader.assign(tps)
        await reader.seek_to_beginning(*tps)
        end = await reader.end_offsets(tps)
        while [tp for tp in tps if await reader.position(tp) < end[tp]]:
            for records in (await reader.getmany(timeout_ms=1000, max_records=1000)).values():
                for record in records:
                    read += 1
                    try:
                        envelope, payload = decode_record(record)
                    except ContractError:
                        skipped += 1  # not an event this code knows: it carries no part
                        continue
                    for part in payload.carries_state_of():
                        key = f"{envelope.subject}:{part}"
                        if key not in latest or latest[key][0] < envelope.subject_version:
                            latest[key] = (envelope.subject_version, record)
    finally:
        await reader.stop()
    return latest, read, skipped


async def seed(bootstrap: str, prefix: str, service: str, partitions: int, dry_run: bool) -> str:
    events = f"{prefix}{service}.events.v1"
    state = state_topic(events)
    latest, read, skipped = await latest_states(bootstrap, events)
    if not dry_run and latest:
        await ensure_topics(bootstrap, {state: partitions})
        producer = make_producer(bootstrap, client_id=f"{service}-seed-state")
        await producer.start()
        try:
            futures = [
                await producer.send(state, value=record.value, key=key.encode(), headers=list(record.headers))
                for key, (_, record) in sorted(latest.items())
            ]
            await asyncio.gather(*futures)
        finally:
            await producer.stop()
    verb = "would seed" if dry_run else "seeded"
    return (
        f"{verb} {state} with {len(latest)} states from {read} events of {events} ({skipped} not decodable)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--service", required=True, help="the publishing service, e.g. enrollment")
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", DEFAULT_BOOTSTRAP))
    parser.add_argument("--topic-prefix", default=os.environ.get("TOPIC_PREFIX", ""))
    parser.add_argument("--partitions", type=int, default=int(os.environ.get("TOPIC_PARTITIONS", "6")))
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    print(asyncio.run(seed(args.bootstrap, args.topic_prefix, args.service, args.partitions, args.dry_run)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
