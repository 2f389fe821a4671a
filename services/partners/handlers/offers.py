"""Offer events from partners: validated, decided against the stored version, then published,
or rejected with the reason: dead-lettered and told to the partner, never dropped in silence.

Both paths end here. The Kafka path (partner_events.py): a partner writes to its own topic; the
partner is whoever the topic belongs to (per-partner ACLs on the authenticated listener). The
HTTP path (`submit_over_http`): the partner authenticates with its API key, the message gets the
same checks at once (422 with the reasons), and a good one is written to the partner's topic, so
it meets the same consumer as the others.
"""

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from services.partners.domain.offers import (
    Decision,
    Outcome,
    Rejected,
    check_content,
    check_partner,
    content_hash,
    decide,
    offer_event,
    parse,
)
from services.partners.handlers.common import Deps
from services.partners.store import ingress_log, merchants, offers, partners
from shared.consumer import dead_letter_headers
from shared.contracts.partners import OfferAction, PartnerOfferMessage
from shared.db import Conn
from shared.events import Trace
from shared.logging import get_logger
from shared.outbox import enqueue_record

log = get_logger(__name__)
# Ids of records derived from an incoming record (its dead letter, its notice): the same input
# always derives the same ids, so a redelivered input cannot double them.
DERIVED = uuid.UUID("6b1f0c8e-2f7a-4d55-9a43-6a0f5f3c2e11")


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
        message = parse(arrival.raw)
        partner_id = await check(conn, deps, arrival.partner_id, message)
        digest = content_hash(message)
        await offers.lock_new_offer(conn, partner_id, message.offer_id)
        stored = await offers.stored_offer(conn, partner_id, message.offer_id)
        decision = decide(message, digest, stored)
    except Rejected as rejected:
        decision = Decision(Outcome.REJECTED, "; ".join(rejected.reasons))
    if decision.outcome is Outcome.ACCEPTED:
        assert message is not None
        await _accept(conn, deps, arrival, partner_id, message, digest)
    elif decision.outcome is Outcome.DUPLICATE:
        await _log(conn, arrival, message, Outcome.DUPLICATE, [])
    else:
        await _refuse(conn, deps, arrival, message, decision)
    return decision.outcome


async def check(conn: Conn, deps: Deps, partner_id: str | None, message: PartnerOfferMessage) -> str:
    """Everything but the version: the partner, its ownership of the merchant, the content.
    Returns the partner's id (Rejected if any check fails)."""
    partner = await partners.get_partner(conn, partner_id) if partner_id else None
    partner_id = check_partner(partner_id, partner.status if partner else None)
    merchant = await merchants.merchant_facts(conn, message.merchant_id)
    check_content(message, partner_id, merchant, deps.now())
    return partner_id


async def _accept(
    conn: Conn, deps: Deps, arrival: Arrival, partner_id: str, message: PartnerOfferMessage, digest: str
) -> None:
    await offers.save_offer(
        conn, partner_id, message.offer_id, message.merchant_id, message.version, digest,
        message.action is OfferAction.WITHDRAW, message.model_dump(mode="json", exclude={"partner_id"}),
    )  # fmt: skip
    event = offer_event(partner_id, message, deps.now())
    # The offer's version is the partner's own: the events carry it as their subject version.
    trace = Trace(f"partner:{partner_id}", arrival.correlation_id)
    await deps.events.emit(conn, trace, event.offer_key, event, version=message.version)
    await _log(conn, arrival, message, Outcome.ACCEPTED, [])


async def _refuse(
    conn: Conn, deps: Deps, arrival: Arrival, message: PartnerOfferMessage | None, decision: Decision
) -> None:
    """Rejected: the bytes go to the dead-letter topic with the reason. Rejected or stale: the
    partner is told on its rejections topic, and the log keeps it for its HTTP view."""
    reason = decision.reason or decision.outcome.value
    log_id = await _log(conn, arrival, message, decision.outcome, [reason])
    offer_id = message.offer_id if message else None
    if decision.outcome is Outcome.REJECTED:
        await _dead_letter(conn, deps, arrival, offer_id, reason)
    if arrival.partner_id and await partners.get_partner(conn, arrival.partner_id):
        notice = {
            "rejection_id": log_id,
            "outcome": decision.outcome.value,
            "reason": reason,
            "offer_id": offer_id,
            "version": message.version if message else None,
            "source": arrival.source,
            "origin": arrival.origin,
            "received_at": arrival.received_at.isoformat(),
        }
        await enqueue_record(
            conn,
            deps.topics.rejections(arrival.partner_id),
            key=offer_id or "",
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


async def _dead_letter(conn: Conn, deps: Deps, arrival: Arrival, offer_id: str | None, reason: str) -> None:
    where = dead_letter_headers(deps.consumer_name, reason, arrival.topic, arrival.partition, arrival.offset)
    await enqueue_record(
        conn,
        deps.dead_letter_topic,
        key=offer_id or arrival.origin,
        value=arrival.raw,
        headers={**where, "deadletter_source": arrival.source, "correlation_id": arrival.correlation_id},
        record_id=uuid.uuid5(DERIVED, f"dead-letter:{arrival.origin}"),
        kind="partners.DeadLetter",
    )


async def _log(
    conn: Conn, arrival: Arrival, message: PartnerOfferMessage | None, outcome: Outcome, reasons: list[str]
) -> int:
    return await ingress_log.log_ingress(
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
        message = parse(raw)
        async with deps.pool.acquire() as conn:
            await check(conn, deps, partner_id, message)
    except Rejected as rejected:
        arrival = Arrival(
            partner_id=partner_id, raw=raw, source="http", origin=f"http:{uuid.uuid4()}", topic=topic,
            partition=-1, offset=-1, received_at=deps.now(), correlation_id=correlation_id,
        )  # fmt: skip
        async with deps.pool.acquire() as conn, conn.transaction():
            decision = Decision(Outcome.REJECTED, "; ".join(rejected.reasons))
            await _refuse(conn, deps, arrival, message, decision)
        raise
    sent = await deps.producer.send_and_wait(
        topic,
        raw,
        key=message.offer_id.encode(),  # one offer's versions stay in one partition, in order
        headers=[("correlation_id", correlation_id.encode()), ("submitted_via", b"http")],
    )
    return Queued(topic, sent.partition, sent.offset, message.offer_id, message.version)
