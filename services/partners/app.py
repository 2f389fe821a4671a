"""Wiring of the partners service: settings, the subscriber to every partner's offers topic (one
pattern, so a new partner's topic is picked up without a restart) and to enrollment's events (a
person's erasure), and the HTTP app, on the kit."""

from datetime import timedelta

from fastapi import FastAPI
from pydantic import Field

from services.partners.api.routes import router
from services.partners.api.till import router as till_router
from services.partners.domain.topics import PartnerTopics
from services.partners.handlers import partner_events, till
from services.partners.handlers.cards import CardsClient
from services.partners.handlers.common import Deps
from shared.contracts.topics import ENROLLMENT_EVENTS, PARTNERS_EVENTS
from shared.kafka import ensure_topics
from shared.periodic import Periodic
from shared.runtime import run_service
from shared.service import Consumes, Runtime, ServiceSpec, Started, build_service
from shared.settings import ConsumingSettings

SERVICE = "partners"
MIGRATIONS = "services.partners.migrations"


class PartnersSettings(ConsumingSettings):
    service = SERVICE
    http_port: int = 8006
    # Each partner's topics are small: partners publish thousands of events a day, not millions.
    partner_topic_partitions: int = Field(default=3, ge=1, le=64)
    # How soon a newly registered partner's topic joins the pattern subscription.
    topic_discovery_ms: int = Field(default=10_000, ge=500, le=300_000)
    # The projector (card read model): asked for a member's card and offers when they open a code.
    cards_url: str = "http://127.0.0.1:8002"
    # How often expired till codes are purged (a card code lives 60 s: a member with the card
    # open makes one a minute).
    till_purge_interval_seconds: float = Field(default=60, ge=0.5, le=3600)
    # A card code's life (the rotating QR): 60 s; a test stack may shorten it to watch one expire.
    card_code_ttl_seconds: int = Field(default=60, ge=5, le=300)


def create_app(settings: PartnersSettings) -> FastAPI:
    topics = PartnerTopics(settings.topic_prefix)

    async def create_partner_topics(names: list[str]) -> None:
        await ensure_topics(
            settings.kafka_bootstrap_servers, dict.fromkeys(names, settings.partner_topic_partitions)
        )

    async def start(runtime: Runtime) -> Started[Deps]:
        cards = CardsClient(settings.cards_url)
        runtime.stack.push_async_callback(cards.close)
        deps = Deps(
            pool=runtime.pool,
            producer=runtime.producer,
            topics=topics,
            events=runtime.events,
            dead_letter_topic=settings.dead_letter_topic,
            consumer_name=settings.consumer_name,
            create_partner_topics=create_partner_topics,
            cards=cards,
            enrollment_events_topic=settings.topic(ENROLLMENT_EVENTS),
            card_code_ttl=timedelta(seconds=settings.card_code_ttl_seconds),
        )
        runtime.background(
            "till-code-purge",
            Periodic(
                "till_code_purge",
                lambda: till.purge_expired_codes(deps),
                settings.till_purge_interval_seconds,
            ),
        )
        apply = partner_events.make_apply(deps)
        consumer = runtime.consumer(apply, decode=partner_events.record_decoder(deps))
        return Started(deps, consumer)

    spec = ServiceSpec(
        name=SERVICE,
        title="Zhijia partners (会员普惠: partner merchants and their offers)",
        description="Partners (merchants or their platforms) publish discount offers for union members, on "
        "their own Kafka topic or through /partner-api/v1; every event is checked (schema, ranges, dates, "
        "ownership, version order) and either published to the member cards or rejected with its reason. "
        "The federation's admins register partners, their API keys and the merchants under them.",
        routers=[router, till_router],
        start=start,
        migrations=[MIGRATIONS],
        publishes=PARTNERS_EVENTS,
        consumes=Consumes(
            pattern=topics.subscription_pattern(ENROLLMENT_EVENTS),
            broker_options={"metadata_max_age_ms": settings.topic_discovery_ms},
        ),
    )
    return build_service(settings, spec)


def main() -> None:
    run_service(SERVICE, PartnersSettings, create_app)
