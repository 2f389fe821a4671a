"""Wiring of the partners service: settings, the runtime, the subscriber to every partner's offers
topic (one pattern, so a new partner's topic is picked up without a restart) and the HTTP app."""

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from pydantic import Field

from services.partners.api.routes import router
from services.partners.handlers.common import Deps, PartnerTopics
from services.partners.handlers.ingress import make_apply, record_decoder
from shared.consumer import IdempotentConsumer
from shared.contracts.topics import PARTNERS_EVENTS
from shared.kafka import ensure_topics
from shared.legacy_service import service_app, service_runtime, start_consuming, subscribe
from shared.logging import get_logger
from shared.runtime import run_service
from shared.service import ConsumingSettings
from shared.subscriber import make_broker

SERVICE = "partners"
MIGRATIONS = "services.partners.migrations"
log = get_logger(__name__)


class PartnersSettings(ConsumingSettings):
    service = SERVICE
    http_port: int = 8006
    # Each partner's topics are small: partners publish thousands of events a day, not millions.
    partner_topic_partitions: int = Field(default=3, ge=1, le=64)
    # How soon a newly registered partner's topic joins the pattern subscription.
    topic_discovery_ms: int = Field(default=10_000, ge=500, le=300_000)


def create_app(settings: PartnersSettings) -> FastAPI:
    topics = PartnerTopics(settings.topic_prefix)
    events_topic = settings.topic(PARTNERS_EVENTS)
    broker = make_broker(
        settings.kafka_bootstrap_servers, SERVICE, metadata_max_age_ms=settings.topic_discovery_ms
    )
    slot = subscribe(broker, settings, pattern=topics.offers_pattern())

    async def create_partner_topics(names: list[str]) -> None:
        await ensure_topics(
            settings.kafka_bootstrap_servers, dict.fromkeys(names, settings.partner_topic_partitions)
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_topics = [events_topic, settings.dead_letter_topic]
        async with service_runtime(app, settings, SERVICE, MIGRATIONS, own_topics) as runtime:
            deps = Deps(
                pool=runtime.pool,
                producer=runtime.producer,
                topics=topics,
                events_topic=events_topic,
                dead_letter_topic=settings.dead_letter_topic,
                consumer_name=settings.consumer_name,
                create_partner_topics=create_partner_topics,
            )
            app.state.deps = deps
            consumer = IdempotentConsumer(
                settings.consumer_name,
                runtime.pool,
                runtime.producer,
                settings.dead_letter_topic,
                make_apply(deps),
                decode=record_decoder(deps),
            )
            await start_consuming(runtime, broker, slot, consumer)
            log.info("service_started", port=settings.http_port, pattern=topics.offers_pattern())
            yield
        log.info("service_stopped")

    return service_app(
        SERVICE,
        title="Zhijia partners (会员普惠: partner merchants and their offers)",
        description="Partners (merchants or their platforms) publish discount offers for union members, on "
        "their own Kafka topic or through /partner-api/v1; every event is checked (schema, ranges, dates, "
        "ownership, version order) and either published to the member cards or rejected with its reason. "
        "The federation's admins register partners, their API keys and the merchants under them.",
        lifespan=lifespan,
        router=router,
        broker=broker,
    )


def main() -> None:
    run_service(SERVICE, PartnersSettings, create_app)
