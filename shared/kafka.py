"""Kafka helpers: topic creation and the producer every service uses."""

import contextlib
from collections.abc import AsyncIterator

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from shared.logging import get_logger

log = get_logger(__name__)


async def ensure_topics(bootstrap: str, topics: dict[str, int]) -> None:
    """Create the topics that are missing (name -> partitions); existing ones are left alone."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(name=name, num_partitions=partitions, replication_factor=1)
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
