"""What the partners service reads from Kafka, in one pattern subscription feeding the idempotent
consumer: every partner's offers topic (the Kafka path of offer events: each record, however
bad, is decided by `offers.handle`) and enrollment's events (a person's erasure reaches the
till's tables: handlers/erasure.py)."""

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from aiokafka import ConsumerRecord

from services.partners.handlers import erasure
from services.partners.handlers.common import Deps
from services.partners.handlers.offers import DERIVED, Arrival, handle
from shared.consumer import Apply, Decode, decode_record
from shared.contracts.enrollment import PersonErased
from shared.contracts.envelope import EventEnvelope, EventMetadata, EventPayload
from shared.db import Conn


class PartnerSubmission(EventPayload):
    """A record read from a partner's topic, bytes untouched (checked by `handle`). Internal:
    it only carries a record into the idempotent consumer, never travels on Kafka."""

    event_type: ClassVar[str] = "partners.Submission"
    schema_version: ClassVar[int] = 1

    partner_id: str | None
    topic: str
    partition: int
    offset: int
    raw: bytes
    received_at: datetime


def record_decoder(deps: Deps) -> Decode:
    def decode(record: "ConsumerRecord[Any, Any]") -> tuple[EventMetadata, EventPayload]:
        """A partner's record is never refused: every one, however bad, is handled (and if bad,
        rejected with a reason). Enrollment's events are our own: decoded as every consumer does."""
        partner_id = deps.topics.partner_of(record.topic)
        if partner_id is None and record.topic == deps.enrollment_events_topic:
            return decode_record(record)
        origin = f"{record.topic}:{record.partition}:{record.offset}"
        received_at = datetime.fromtimestamp(record.timestamp / 1000, UTC)
        envelope = EventEnvelope(
            event_id=uuid.uuid5(DERIVED, origin),
            event_type=PartnerSubmission.event_type,
            schema_version=PartnerSubmission.schema_version,
            source="partner",
            subject=partner_id or "unknown",
            subject_version=0,
            occurred_at=received_at,
            correlation_id=_correlation_id(record) or f"kafka:{origin}"[:100],
            payload={},
        )
        payload = PartnerSubmission(
            partner_id=partner_id,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            raw=record.value or b"",
            received_at=received_at,
        )
        return envelope, payload

    return decode


def _correlation_id(record: "ConsumerRecord[Any, Any]") -> str | None:
    for key, value in record.headers or ():
        if key == "correlation_id" and isinstance(value, bytes):
            text = value.decode(errors="replace")
            if 0 < len(text) <= 100 and text.isprintable():
                return text
    return None


def make_apply(deps: Deps) -> Apply:
    async def apply(conn: Conn, envelope: EventMetadata, payload: EventPayload) -> None:
        if isinstance(payload, PersonErased):
            await erasure.erase_person(conn, payload.person_id)
            return
        if not isinstance(payload, PartnerSubmission):
            return  # enrollment's other events: nothing of theirs is kept here
        arrival = Arrival(
            partner_id=payload.partner_id,
            raw=payload.raw,
            source="kafka",
            origin=f"{payload.topic}:{payload.partition}:{payload.offset}",
            topic=payload.topic,
            partition=payload.partition,
            offset=payload.offset,
            received_at=payload.received_at,
            correlation_id=envelope.correlation_id,
        )
        await handle(conn, deps, arrival)

    return apply
