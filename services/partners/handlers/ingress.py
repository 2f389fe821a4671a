"""Offer events from partners: validated, decided against the stored version, then published,
or rejected with the reason: dead-lettered and told to the partner, never dropped in silence.

Both paths end here. The Kafka path: a partner writes to its own topic; the partner is whoever
the topic belongs to (per-partner ACLs on the authenticated listener). The HTTP path: the partner
authenticates with its API key, the message gets the same checks at once (422 with the reasons),
and a good one is written to the partner's topic, so it meets the same consumer as the others.
"""

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from aiokafka import ConsumerRecord

from services.partners.domain import offers
from services.partners.domain.offers import Decision, Outcome, Rejected
from services.partners.handlers.common import Deps, emit
from services.partners.store import partners as q
from shared.consumer import dead_letter_headers
from shared.contracts.envelope import EventEnvelope, EventMetadata, EventPayload
from shared.contracts.partners import (
    OfferAction,
    OfferPublished,
    OfferWithdrawn,
    PartnerOfferMessage,
    offer_key,
)
from shared.db import Conn
from shared.logging import get_logger
from shared.outbox import enqueue_record

log = get_logger(__name__)
# Ids of records derived from an incoming record (its dead letter, its notice): the same input
# always derives the same ids, so a redelivered input cannot double them.
DERIVED = uuid.UUID("6b1f0c8e-2f7a-4d55-9a43-6a0f5f3c2e11")


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


def record_decoder(deps: Deps) -> Any:
    def decode(record: "ConsumerRecord[Any, Any]") -> tuple[EventMetadata, EventPayload]:
        """Never refuses: every record, however bad, is handled (and if bad, rejected with a reason)."""
        origin = f"{record.topic}:{record.partition}:{record.offset}"
        received_at = datetime.fromtimestamp(record.timestamp / 1000, UTC)
        partner_id = deps.topics.partner_of(record.topic)
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


def make_apply(deps: Deps) -> Any:
    async def apply(conn: Conn, envelope: EventMetadata, payload: EventPayload) -> None:
        assert isinstance(payload, PartnerSubmission)
        await handle(
            conn,
            deps,
            Arrival(
                partner_id=payload.partner_id,
                raw=payload.raw,
                source="kafka",
                origin=f"{payload.topic}:{payload.partition}:{payload.offset}",
                topic=payload.topic,
                partition=payload.partition,
                offset=payload.offset,
                received_at=payload.received_at,
                correlation_id=envelope.correlation_id,
            ),
        )

    return apply


@dataclass(frozen=True)
class Arrival:
    """One incoming event and where it came from."""

    partner_id: str | None
    raw: bytes
    source: str  # kafka | http
    origin: str  # topic:partition:offset | http:<correlation id>
    topic: str
    partition: int
    offset: int
    received_at: datetime
    correlation_id: str


async def handle(conn: Conn, deps: Deps, arrival: Arrival) -> Outcome:
    """Decide one event, in the caller's transaction; write what follows from the decision."""
    message: PartnerOfferMessage | None = None
    try:
        message = offers.parse(arrival.raw)
        await check(conn, deps, arrival.partner_id, message)
        assert arrival.partner_id is not None
        digest = offers.content_hash(message)
        await q.lock_new_offer(conn, arrival.partner_id, message.offer_id)
        stored = await q.stored_offer(conn, arrival.partner_id, message.offer_id)
        decision = offers.decide(message, digest, stored)
    except Rejected as rejected:
        decision = Decision(Outcome.REJECTED, "; ".join(rejected.reasons))
    if decision.outcome is Outcome.ACCEPTED:
        assert message is not None and arrival.partner_id is not None
        await _accept(conn, deps, arrival, arrival.partner_id, message, digest)
    elif decision.outcome is Outcome.DUPLICATE:
        await _log(conn, arrival, message, Outcome.DUPLICATE, [])
    else:
        await _refuse(conn, deps, arrival, message, decision)
    return decision.outcome


async def check(conn: Conn, deps: Deps, partner_id: str | None, message: PartnerOfferMessage) -> None:
    """Everything but the version: the partner, its ownership of the merchant, the content."""
    partner = await q.get_partner(conn, partner_id) if partner_id else None
    if partner is None:
        raise Rejected([f"partner {partner_id!r} is not registered"])
    if partner.status != "active":
        raise Rejected([f"partner {partner_id!r} is suspended: its events are not accepted"])
    merchant = await q.merchant_facts(conn, message.merchant_id)
    offers.check_content(message, partner.partner_id, merchant, deps.now())


async def _accept(
    conn: Conn, deps: Deps, arrival: Arrival, partner_id: str, message: PartnerOfferMessage, digest: str
) -> None:
    withdrawn = message.action is OfferAction.WITHDRAW
    key = offer_key(partner_id, message.offer_id)
    await q.save_offer(
        conn,
        partner_id,
        message.offer_id,
        message.merchant_id,
        message.version,
        digest,
        withdrawn,
        message.model_dump(mode="json", exclude={"partner_id"}),
    )
    event: EventPayload
    if withdrawn:
        event = OfferWithdrawn(
            offer_key=key,
            partner_id=partner_id,
            merchant_id=message.merchant_id,
            offer_id=message.offer_id,
            version=message.version,
            withdrawn_at=deps.now(),
        )
    else:
        assert message.title and message.category and message.region and message.eligibility
        assert message.valid_from and message.valid_until
        event = OfferPublished(
            offer_key=key,
            partner_id=partner_id,
            merchant_id=message.merchant_id,
            offer_id=message.offer_id,
            version=message.version,
            title=message.title,
            description=message.description,
            discount=offers.offer_discount(message),
            category=message.category,
            region=message.region,
            valid_from=message.valid_from,
            valid_until=message.valid_until,
            eligibility=message.eligibility,
            published_at=deps.now(),
        )
    await emit(conn, deps, event, key, message.version, arrival.correlation_id)
    await _log(conn, arrival, message, Outcome.ACCEPTED, [])


async def _refuse(
    conn: Conn, deps: Deps, arrival: Arrival, message: PartnerOfferMessage | None, decision: Decision
) -> None:
    """Rejected: the bytes go to the dead-letter topic with the reason. Rejected or stale: the
    partner is told on its rejections topic, and the log keeps it for its HTTP view."""
    reason = decision.reason or decision.outcome.value
    log_id = await _log(conn, arrival, message, decision.outcome, [reason])
    if decision.outcome is Outcome.REJECTED:
        await enqueue_record(
            conn,
            deps.dead_letter_topic,
            key=message.offer_id if message else arrival.origin,
            value=arrival.raw,
            headers={
                **dead_letter_headers(
                    deps.consumer_name, reason, arrival.topic, arrival.partition, arrival.offset
                ),
                "deadletter_source": arrival.source,
                "correlation_id": arrival.correlation_id,
            },
            record_id=uuid.uuid5(DERIVED, f"dead-letter:{arrival.origin}"),
            kind="partners.DeadLetter",
        )
    if arrival.partner_id and await q.get_partner(conn, arrival.partner_id):
        notice = {
            "rejection_id": log_id,
            "outcome": decision.outcome.value,
            "reason": reason,
            "offer_id": message.offer_id if message else None,
            "version": message.version if message else None,
            "source": arrival.source,
            "origin": arrival.origin,
            "received_at": arrival.received_at.isoformat(),
        }
        await enqueue_record(
            conn,
            deps.topics.rejections(arrival.partner_id),
            key=message.offer_id if message else "",
            value=json.dumps(notice, ensure_ascii=False).encode(),
            headers={"outcome": decision.outcome.value, "correlation_id": arrival.correlation_id},
            record_id=uuid.uuid5(DERIVED, f"notice:{arrival.origin}"),
            kind="partners.RejectionNotice",
        )
    log.info(
        "partner_event_refused",
        partner=arrival.partner_id,
        outcome=decision.outcome.value,
        origin=arrival.origin,
        reason=reason,
    )


async def _log(
    conn: Conn, arrival: Arrival, message: PartnerOfferMessage | None, outcome: Outcome, reasons: list[str]
) -> int:
    return await q.log_ingress(
        conn,
        partner_id=arrival.partner_id,
        source=arrival.source,
        origin=arrival.origin,
        offer_id=message.offer_id if message else None,
        version=message.version if message else None,
        outcome=outcome,
        reasons=reasons,
        received_at=arrival.received_at,
    )


@dataclass(frozen=True)
class Queued:
    """Where the HTTP path wrote a checked event: it is decided when the consumer reads it."""

    topic: str
    partition: int
    offset: int
    offer_id: str
    version: int


async def submit_over_http(deps: Deps, partner_id: str, raw: bytes, correlation_id: str) -> Queued:
    """Check the event now (Rejected: recorded like any rejection, the caller answers 422), then
    write it to the partner's topic and return once Kafka has it (acks=all)."""
    topic = deps.topics.offers(partner_id)
    message: PartnerOfferMessage | None = None
    try:
        message = offers.parse(raw)
        async with deps.pool.acquire() as conn:
            await check(conn, deps, partner_id, message)
    except Rejected as rejected:
        arrival = Arrival(
            partner_id=partner_id,
            raw=raw,
            source="http",
            origin=f"http:{uuid.uuid4()}",
            topic=topic,
            partition=-1,
            offset=-1,
            received_at=deps.now(),
            correlation_id=correlation_id,
        )
        async with deps.pool.acquire() as conn, conn.transaction():
            await _refuse(
                conn, deps, arrival, message, Decision(Outcome.REJECTED, "; ".join(rejected.reasons))
            )
        raise
    sent = await deps.producer.send_and_wait(
        topic,
        raw,
        key=message.offer_id.encode(),  # one offer's versions stay in one partition, in order
        headers=[("correlation_id", correlation_id.encode()), ("submitted_via", b"http")],
    )
    return Queued(topic, sent.partition, sent.offset, message.offer_id, message.version)
