"""Wiring of the enrollment service: settings, database, Kafka, outbox relay, HTTP app."""

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from pydantic import Field, SecretStr

from services.enrollment.api.routes import router
from services.enrollment.handlers.commands import Deps
from shared.contracts.topics import ENROLLMENT_EVENTS
from shared.db import open_pool
from shared.errors import install_error_handlers
from shared.http import install_common, standard_checks
from shared.kafka import ensure_topics, running_producer
from shared.logging import configure_logging, get_logger
from shared.outbox import running_relay
from shared.pii import PiiProtector
from shared.settings import ServiceSettings

SERVICE = "enrollment"
log = get_logger(__name__)


class EnrollmentSettings(ServiceSettings):
    http_port: int = 8001
    pii_key: SecretStr = Field(min_length=32)


def create_app(settings: EnrollmentSettings) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        topic = settings.topic(ENROLLMENT_EVENTS)
        async with contextlib.AsyncExitStack() as stack:
            pool = await open_pool(settings.database_url, SERVICE, "services.enrollment.migrations")
            stack.push_async_callback(pool.close)
            await ensure_topics(settings.kafka_bootstrap_servers, {topic: settings.topic_partitions})
            producer = await stack.enter_async_context(
                running_producer(settings.kafka_bootstrap_servers, client_id=SERVICE)
            )
            # Entered last, left first: the relay stops before the producer and the pool close.
            app.state.relay = await stack.enter_async_context(
                running_relay(settings.database_url, producer, SERVICE)
            )
            app.state.deps = Deps(
                pool=pool, pii=PiiProtector(settings.pii_key.get_secret_value()), topic=topic
            )
            app.state.auth_secret = settings.auth_secret.get_secret_value()
            app.state.pool = pool
            log.info("service_started", port=settings.http_port, topic=topic)
            yield
        log.info("service_stopped")

    app = FastAPI(
        title="Zhijia enrollment (入会)",
        version="1.0",
        description="Union registry, online membership applications, review, transfers and leaving.",
        lifespan=lifespan,
    )

    install_common(app, SERVICE, standard_checks(app, relay=True))
    install_error_handlers(app)
    app.include_router(router)
    return app


def main() -> None:
    from shared.runtime import serve

    settings = EnrollmentSettings()  # read from the environment
    configure_logging(SERVICE, settings.log_level, settings.log_format)
    serve(create_app(settings), settings)
