"""What the partners handlers share: dependencies, emitting events, the trail."""

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
from aiokafka import AIOKafkaProducer

from services.partners.store import partners as q
from shared.auth import Caller
from shared.contracts import new_envelope
from shared.contracts.envelope import EventPayload
from shared.contracts.topics import partner_offers_topic, partner_rejections_topic
from shared.db import Conn
from shared.outbox import enqueue

SOURCE = "partners"


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class PartnerTopics:
    """Each partner's two topics, under the deployment's prefix."""

    prefix: str

    def offers(self, partner_id: str) -> str:
        return f"{self.prefix}{partner_offers_topic(partner_id)}"

    def rejections(self, partner_id: str) -> str:
        return f"{self.prefix}{partner_rejections_topic(partner_id)}"

    def offers_pattern(self) -> str:
        """Every partner's offers topic, for one pattern subscription (new partners included);
        the same expression names the partner a topic belongs to."""
        return f"^{re.escape(self.prefix)}partners\\.(?P<partner>[a-z0-9-]+)\\.offers\\.v1$"

    def partner_of(self, topic: str) -> str | None:
        match = re.fullmatch(self.offers_pattern(), topic)
        return match["partner"] if match else None


@dataclass(frozen=True)
class Deps:
    pool: asyncpg.Pool
    producer: AIOKafkaProducer
    topics: PartnerTopics
    events_topic: str
    dead_letter_topic: str
    consumer_name: str
    # Creates a partner's two topics (idempotent); the HTTP path writes into the first.
    create_partner_topics: Callable[[list[str]], Awaitable[None]]
    now: Callable[[], datetime] = field(default=_utcnow)


async def emit(
    conn: Conn, deps: Deps, payload: EventPayload, subject: str, version: int, correlation_id: str
) -> None:
    envelope = new_envelope(
        payload, source=SOURCE, subject=subject, subject_version=version, correlation_id=correlation_id
    )
    await enqueue(conn, deps.events_topic, envelope)


async def audit(conn: Conn, caller: Caller, action: str, subject: str, **detail: object) -> None:
    await q.audit(conn, caller.actor, action, subject, caller.correlation_id, **detail)
