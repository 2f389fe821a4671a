"""Kafka helpers: topic creation and the producer every service uses."""

import contextlib
from collections.abc import AsyncIterator

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from shared.contracts.topics import is_compacted_topic
from shared.logging import get_logger

log = get_logger(__name__)


# A state topic keeps the latest record per key for ever (no time retention): what a reader
# needs once the events topic's retention has deleted the history (docs/retention.md).
# max.compaction.lag.ms bounds how long a superseded record may stay: an erased person's last
# clear records, replaced by PersonErased under the same keys, are gone within a day
# (docs/erasure.md) instead of whenever the partition gets dirty enough.
STATE_TOPIC_CONFIG = {
    "cleanup.policy": "compact",
    "retention.ms": "-1",
    "max.compaction.lag.ms": str(24 * 3600 * 1000),
}


async def ensure_topics(
    bootstrap: str, topics: dict[str, int], configs: dict[str, dict[str, str]] | None = None
) -> None:
    """Create the topics that are missing (name -> partitions, with the topic configs given for
    it, else a state topic's or the broker's defaults); existing ones are left alone. Whoever
    creates a state topic first (its publisher or a reader) creates it compacted."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(
                name=name,
                num_partitions=partitions,
                replication_factor=1,
                topic_configs=(configs or {}).get(name)
                or (STATE_TOPIC_CONFIG if is_compacted_topic(name) else {}),
            )
            for name, partitions in topics.items()
            if name not in existing
        ]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # another replica won the race
                await admin.create_topics(missing)
            log.info("topics_created", topics=[t.name for t in missing])
    finally:
        await admin.close()


def make_producer(bootstrap: str, client_id: str) -> AIOKafkaProducer:
    # Idempotence with acks=all: broker-side dedup of retries and per-partition order.
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        request_timeout_ms=30000,
    )


@contextlib.asynccontextmanager
async def running_producer(bootstrap: str, client_id: str) -> AsyncIterator[AIOKafkaProducer]:
    producer = make_producer(bootstrap, client_id)
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()
