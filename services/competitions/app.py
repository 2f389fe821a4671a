"""Wiring of the competitions service: settings, database, outbox relay, the enrollment-events
subscriber (its own view of unions and membership) and the HTTP app."""

import contextlib
import hashlib
import hmac
from collections.abc import AsyncIterator

from fastapi import FastAPI
from faststream.kafka.annotations import KafkaMessage
from pydantic import Field, SecretStr

from services.competitions.api.routes import router
from services.competitions.handlers.common import Deps
from services.competitions.handlers.enrollment_events import make_apply
from shared.consumer import IdempotentConsumer
from shared.contracts.topics import COMPETITIONS_EVENTS, ENROLLMENT_EVENTS, dead_letter_topic
from shared.db import open_pool
from shared.errors import install_error_handlers
from shared.http import install_common, standard_checks
from shared.kafka import ensure_topics, running_producer
from shared.logging import configure_logging, get_logger
from shared.outbox import running_relay
from shared.settings import ServiceSettings
from shared.subscriber import batch_subscriber, make_broker, records_of

SERVICE = "competitions"
MIGRATIONS = "services.competitions.migrations"
log = get_logger(__name__)


class CompetitionsSettings(ServiceSettings):
    http_port: int = 8005
    # Keys the encrypted entry numbers (加密号) of blind judging; derived, never used directly.
    pii_key: SecretStr = Field(min_length=32)
    batch_size: int = 500

    def blind_key(self) -> bytes:
        return hmac.new(
            self.pii_key.get_secret_value().encode(), b"competitions:blind-codes", hashlib.sha256
        ).digest()

    @property
    def consumer_name(self) -> str:
        return f"{self.topic_prefix}{SERVICE}"

    @property
    def source_topics(self) -> list[str]:
        return [self.topic(ENROLLMENT_EVENTS)]

    @property
    def dead_letter_topic(self) -> str:
        return self.topic(dead_letter_topic(SERVICE))


def create_app(settings: CompetitionsSettings) -> FastAPI:
    broker = make_broker(settings.kafka_bootstrap_servers, SERVICE)
    holder: dict[str, IdempotentConsumer] = {}

    @batch_subscriber(broker, settings.source_topics, settings.consumer_name, settings.batch_size)
    async def on_enrollment_events(body: list[bytes], message: KafkaMessage) -> None:
        await holder["consumer"].handle_batch(records_of(message))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        topic = settings.topic(COMPETITIONS_EVENTS)
        async with contextlib.AsyncExitStack() as stack:
            pool = await open_pool(settings.database_url, SERVICE, MIGRATIONS)
            stack.push_async_callback(pool.close)
            await ensure_topics(
                settings.kafka_bootstrap_servers,
                {
                    t: settings.topic_partitions
                    for t in [topic, *settings.source_topics, settings.dead_letter_topic]
                },
            )
            producer = await stack.enter_async_context(
                running_producer(settings.kafka_bootstrap_servers, client_id=SERVICE)
            )
            app.state.relay = await stack.enter_async_context(
                running_relay(settings.database_url, producer, SERVICE)
            )
            deps = Deps(pool=pool, topic=topic, blind_key=settings.blind_key())
            holder["consumer"] = IdempotentConsumer(
                settings.consumer_name, pool, producer, settings.dead_letter_topic, make_apply(deps)
            )
            app.state.deps = deps
            app.state.auth_secret = settings.auth_secret.get_secret_value()
            app.state.pool = pool
            await broker.start()
            # Left first: stop consuming (an unfinished batch is not committed: it is read again),
            # then the rest in the reverse order it started.
            stack.push_async_callback(broker.stop)
            log.info("service_started", port=settings.http_port, topic=topic, sources=settings.source_topics)
            yield
        log.info("service_stopped")

    app = FastAPI(
        title="Zhijia competitions and honours (劳动竞赛, 技能竞赛, 劳模)",
        version="1.0",
        description="Competitions organised by a union for its members: stages, weighted criteria, panels of "
        "judges (blind where needed), published results with an objection window, final results, awards, "
        "and honours with terms of at most five years.",
        lifespan=lifespan,
    )

    install_common(app, SERVICE, standard_checks(app, broker=broker, relay=True))
    install_error_handlers(app)
    app.include_router(router)
    return app


def main() -> None:
    from shared.runtime import serve

    settings = CompetitionsSettings()  # read from the environment
    configure_logging(SERVICE, settings.log_level, settings.log_format)
    serve(create_app(settings), settings)
