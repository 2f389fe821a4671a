"""The Kafka side of every consuming service: one broker set-up and one batch subscriber.

A batch is handed to the service as raw records (the idempotent consumer decodes and validates
each event itself) and acknowledged only when the handler returns: on an error the batch is read
again from its first record (NACK_ON_ERROR), so a commit never skips unfinished work.
"""

import logging
from collections.abc import Sequence
from typing import Any

from aiokafka import ConsumerRebalanceListener, ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.subscriber.usecase import BatchSubscriber
from faststream.message import StreamMessage

from shared.logging import get_logger


def make_broker(bootstrap: str, service: str, **options: Any) -> KafkaBroker:
    # Per-batch "Received/Processed" lines at DEBUG: at volume they would drown everything else.
    return KafkaBroker(
        bootstrap, client_id=service, logger=get_logger("faststream"), log_level=logging.DEBUG, **options
    )


async def raw_bodies(message: StreamMessage[Any]) -> Any:
    """Hand the bytes over untouched: the consumer decodes and validates each event itself."""
    return message.body


def batch_subscriber(
    broker: KafkaBroker,
    topics: Sequence[str],
    group_id: str,
    batch_size: int,
    listener: ConsumerRebalanceListener | None = None,
    pattern: str | None = None,
) -> BatchSubscriber:
    """One batch = one database transaction; on error the batch is re-read (never skipped).
    Either `topics` or a topic-name `pattern` (a regular expression) is given."""
    return broker.subscriber(
        *topics,
        pattern=pattern,
        group_id=group_id,
        batch=True,
        max_records=batch_size,
        batch_timeout_ms=50,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=raw_bodies,
        listener=listener,
    )


def records_of(message: StreamMessage[Any]) -> tuple[ConsumerRecord[Any, Any], ...]:
    raw = message.raw_message
    return raw if isinstance(raw, tuple) else (raw,)
