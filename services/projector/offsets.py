"""The source topics' partitions and how far behind the read model is in each."""

import asyncio
from collections.abc import Iterable
from typing import Any

from aiokafka import TopicPartition


async def source_partitions(
    consumer: Any, topics: Iterable[str], wait_s: float = 10.0
) -> list[TopicPartition]:
    """Every partition of the topics, from the cluster's metadata (waits for a topic just made)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    found: list[TopicPartition] = []
    for topic in topics:
        parts = consumer.partitions_for_topic(topic)
        while not parts:
            if loop.time() > deadline:
                raise RuntimeError(f"topic {topic} has no partitions (does it exist?)")
            # aiokafka has no public call that refreshes the consumer's own metadata.
            await consumer._client.force_metadata_update()
            parts = consumer.partitions_for_topic(topic)
            if not parts:
                await asyncio.sleep(0.1)
        found.extend(TopicPartition(topic, p) for p in sorted(parts))
    return found


def lag(position: int | None, end_offset: int) -> int:
    """Records not applied yet: position is the last applied offset (None: nothing applied yet),
    end_offset the partition's high watermark (the offset the next record will get)."""
    applied_through = -1 if position is None else position
    return max(0, end_offset - applied_through - 1)
