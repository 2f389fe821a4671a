"""Wiring of the partners service: settings, database, outbox relay, the subscriber to every
partner's offers topic (one pattern, so a new partner's topic is picked up without a restart)
and the HTTP app."""

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from faststream.kafka.annotations import KafkaMessage
from pydantic import Field

from services.partners.api.routes import router
from services.partners.handlers.common import Deps, PartnerTopics
from services.partners.handlers.ingress import make_apply, record_decoder
from shared.consumer import IdempotentConsumer
from shared.contracts.topics import PARTNERS_EVENTS, dead_letter_topic
from shared.db import open_pool
from shared.errors import install_error_handlers
from shared.http import install_common, standard_checks
from shared.kafka import ensure_topics, running_producer
from shared.logging import configure_logging, get_logger
from shared.outbox import running_relay
from shared.settings import ServiceSettings
from shared.subscriber import batch_subscriber, make_broker, records_of

SERVICE = "partners"
MIGRATIONS = "services.partners.migrations"
log = get_logger(__name__)


class PartnersSettings(ServiceSettings):
    http_port: int = 8006
    batch_size: int = 500
    # Each partner's topics are small: partners publish thousands of events a day, not millions.
    partner_topic_partitions: int = Field(default=3, ge=1, le=64)
    # How soon a newly registered partner's topic joins the pattern subscription.
    topic_discovery_ms: int = Field(default=10_000, ge=500, le=300_000)

    @property
    def consumer_name(self) -> str:
        return f"{self.topic_prefix}{SERVICE}"

    @property
    def dead_letter_topic(self) -> str:
        return self.topic(dead_letter_topic(SERVICE))


def create_app(settings: PartnersSettings) -> FastAPI:
    broker = make_broker(
        settings.kafka_bootstrap_servers, SERVICE, metadata_max_age_ms=settings.topic_discovery_ms
    )
    holder: dict[str, IdempotentConsumer] = {}

    async def create_partner_topics(topics: list[str]) -> None:
        await ensure_topics(
            settings.kafka_bootstrap_servers, dict.fromkeys(topics, settings.partner_topic_partitions)
        )

    topics = PartnerTopics(settings.topic_prefix)
    events_topic = settings.topic(PARTNERS_EVENTS)

    @batch_subscriber(
        broker, [], settings.consumer_name, settings.batch_size, pattern=topics.offers_pattern()
    )
    async def on_partner_offers(body: list[bytes], message: KafkaMessage) -> None:
        await holder["consumer"].handle_batch(records_of(message))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            pool = await open_pool(settings.database_url, SERVICE, MIGRATIONS)
            stack.push_async_callback(pool.close)
            await ensure_topics(
                settings.kafka_bootstrap_servers,
                {t: settings.topic_partitions for t in [events_topic, settings.dead_letter_topic]},
            )
            producer = await stack.enter_async_context(
                running_producer(settings.kafka_bootstrap_servers, client_id=SERVICE)
            )
            app.state.relay = await stack.enter_async_context(
                running_relay(settings.database_url, producer, SERVICE)
            )
            deps = Deps(
                pool=pool,
                producer=producer,
                topics=topics,
                events_topic=events_topic,
                dead_letter_topic=settings.dead_letter_topic,
                consumer_name=settings.consumer_name,
                create_partner_topics=create_partner_topics,
            )
            holder["consumer"] = IdempotentConsumer(
                settings.consumer_name,
                pool,
                producer,
                settings.dead_letter_topic,
                make_apply(deps),
                decode=record_decoder(deps),
            )
            app.state.deps = deps
            app.state.auth_secret = settings.auth_secret.get_secret_value()
            app.state.pool = pool
            await broker.start()
            # Left first: stop consuming (an unfinished batch is not committed: it is read again),
            # then the rest in the reverse order it started.
            stack.push_async_callback(broker.stop)
            log.info("service_started", port=settings.http_port, pattern=topics.offers_pattern())
            yield
        log.info("service_stopped")

    app = FastAPI(
        title="Zhijia partners (会员普惠: partner merchants and their offers)",
        version="1.0",
        description="Partners (merchants or their platforms) publish discount offers for union members, on "
        "their own Kafka topic or through /partner-api/v1; every event is checked (schema, ranges, dates, "
        "ownership, version order) and either published to the member cards or rejected with its reason. "
        "The federation's admins register partners, their API keys and the merchants under them.",
        lifespan=lifespan,
    )

    install_common(app, SERVICE, standard_checks(app, broker=broker, relay=True))
    install_error_handlers(app)
    app.include_router(router)
    return app


def main() -> None:
    from shared.runtime import serve

    settings = PartnersSettings()  # read from the environment
    configure_logging(SERVICE, settings.log_level, settings.log_format)
    serve(create_app(settings), settings)
