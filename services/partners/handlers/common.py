"""What the partners handlers share: their dependencies and the access checks."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

import asyncpg
from aiokafka import AIOKafkaProducer

from services.partners.domain.till import CARD_CODE_TTL
from services.partners.domain.topics import PartnerTopics
from services.partners.handlers.cards import CardsClient
from services.partners.store import Reader, partners
from services.partners.store.partners import PartnerRow
from shared.auth import Caller, Role
from shared.errors import Forbidden, NotFound
from shared.events import Clock, EventWriter, utcnow


@dataclass(frozen=True)
class Deps:
    pool: asyncpg.Pool
    producer: AIOKafkaProducer
    topics: PartnerTopics
    events: EventWriter
    dead_letter_topic: str
    consumer_name: str
    # Creates a partner's two topics (idempotent); the HTTP path writes into the first.
    create_partner_topics: Callable[[list[str]], Awaitable[None]]
    # The projector's card API: a member's card and the offers they may use (card codes).
    cards: CardsClient
    # Enrollment's events topic (prefixed), read for PersonErased beside the partners' topics.
    enrollment_events_topic: str = ""
    now: Clock = field(default=utcnow)
    # How long a card code lives (60 s; shorter on a test stack that watches one expire).
    card_code_ttl: timedelta = CARD_CODE_TTL


def require_admin(caller: Caller) -> None:
    if caller.principal.role is not Role.ADMIN:
        raise Forbidden("partners and merchants are managed by the federation's admins")


async def partner_or_404(conn: Reader, partner_id: str) -> PartnerRow:
    partner = await partners.get_partner(conn, partner_id)
    if partner is None:
        raise NotFound(f"partner {partner_id!r} is not registered")
    return partner
