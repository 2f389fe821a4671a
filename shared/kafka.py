"""Kafka helpers: topic creation, the producer every service uses, and a follower of a whole
topic without a consumer group (person keys, revocations)."""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
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


class TopicFollower:
    """Reads every partition of one topic with no consumer group (each replica reads all of it and
    commits nothing), from `since_seconds` ago or else from the beginning, handing each record to
    `take` until stopped; `after_batch` runs after each poll. `caught_up` once it has read what the
    topic held when it started (a service's readiness waits for that). A broker that is away is
    waited out; what was read stays known."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        partitions: int,
        take: Callable[[ConsumerRecord[bytes, bytes]], None],
        *,
        name: str,
        since_seconds: float | None = None,
        poll_ms: int = 200,
        after_batch: Callable[[], None] | None = None,
    ) -> None:
        self._bootstrap, self._topic, self._partitions = bootstrap, topic, partitions
        self._take, self._after_batch = take, after_batch
        self._name, self._since, self._poll_ms = name, since_seconds, poll_ms
        self._consumer: Any = None
        self._task: asyncio.Task[None] | None = None
        self._behind: dict[TopicPartition, int] = {}  # end offsets seen at start, not read yet

    @property
    def caught_up(self) -> bool:
        return self._task is not None and not self._behind

    async def start(self) -> None:
        await ensure_topics(self._bootstrap, {self._topic: self._partitions})
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap, enable_auto_commit=False, group_id=None
        )
        await consumer.start()
        self._consumer = consumer
        parts = consumer.partitions_for_topic(self._topic)
        while not parts:
            await consumer._client.force_metadata_update()  # a topic just created
            parts = consumer.partitions_for_topic(self._topic)
        tps = [TopicPartition(self._topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        if self._since is None:
            await consumer.seek_to_beginning(*tps)
            starts = await consumer.beginning_offsets(tps)
        else:
            since_ms = int((time.time() - self._since) * 1000)
            found = await consumer.offsets_for_times(dict.fromkeys(tps, since_ms))
            starts = {tp: found[tp].offset if found.get(tp) is not None else ends[tp] for tp in tps}
            for tp in tps:
                consumer.seek(tp, starts[tp])
        self._behind = {tp: ends[tp] for tp in tps if starts[tp] < ends[tp]}
        self._task = asyncio.create_task(self._follow(), name=self._name)
        log.info("topic_following", follower=self._name, topic=self._topic, behind=len(self._behind))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._consumer is not None:
            await self._consumer.stop()

    async def _follow(self) -> None:
        while True:
            try:
                batch = await self._consumer.getmany(timeout_ms=self._poll_ms)
            except Exception as exc:  # the broker away: keep what is known, read on later
                log.warning("topic_follower_retrying", follower=self._name, error=repr(exc))
                await asyncio.sleep(1)
                continue
            for records in batch.values():
                for record in records:
                    self._take(record)
            if self._behind:
                for tp in list(self._behind):
                    if await self._consumer.position(tp) >= self._behind[tp]:
                        del self._behind[tp]
                if not self._behind:
                    log.info("topic_caught_up", follower=self._name, topic=self._topic)
            if self._after_batch is not None:
                self._after_batch()
