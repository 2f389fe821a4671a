"""Wiring of the legal-rights service: settings, database, outbox relay, the deadline scheduler,
the enrollment-events subscriber (legal's own view of unions and membership) and the HTTP app."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import date

from fastapi import FastAPI
from faststream.kafka.annotations import KafkaMessage
from pydantic import Field

from services.legal.api.routes import router
from services.legal.domain.clocks import WorkCalendar
from services.legal.handlers.common import Deps
from services.legal.handlers.enrollment_events import make_apply
from services.legal.handlers.scheduler import DeadlineScheduler
from shared.consumer import IdempotentConsumer
from shared.contracts.topics import ENROLLMENT_EVENTS, LEGAL_EVENTS, dead_letter_topic
from shared.db import open_pool
from shared.errors import install_error_handlers
from shared.http import install_common, standard_checks
from shared.kafka import ensure_topics, running_producer
from shared.logging import configure_logging, get_logger
from shared.outbox import running_relay
from shared.settings import ServiceSettings
from shared.subscriber import batch_subscriber, make_broker, records_of

SERVICE = "legal"
MIGRATIONS = "services.legal.migrations"
log = get_logger(__name__)


class LegalSettings(ServiceSettings):
    http_port: int = 8004
    batch_size: int = 500
    # The working-day calendar of the supervision letters (JSON lists of ISO dates): public
    # holidays, and the make-up working days (调休) that fall on a weekend.
    holidays: list[date] = Field(default_factory=list)
    makeup_workdays: list[date] = Field(default_factory=list)
    deadline_warn_days: int = Field(default=3, ge=1, le=30)
    scheduler_interval_seconds: float = Field(default=5.0, gt=0, le=3600)

    @property
    def consumer_name(self) -> str:
        return f"{self.topic_prefix}{SERVICE}"

    @property
    def source_topics(self) -> list[str]:
        return [self.topic(ENROLLMENT_EVENTS)]

    @property
    def dead_letter_topic(self) -> str:
        return self.topic(dead_letter_topic(SERVICE))

    def calendar(self) -> WorkCalendar:
        return WorkCalendar.of(self.holidays, self.makeup_workdays)


def create_app(settings: LegalSettings) -> FastAPI:
    broker = make_broker(settings.kafka_bootstrap_servers, SERVICE)
    holder: dict[str, IdempotentConsumer] = {}

    @batch_subscriber(broker, settings.source_topics, settings.consumer_name, settings.batch_size)
    async def on_enrollment_events(body: list[bytes], message: KafkaMessage) -> None:
        await holder["consumer"].handle_batch(records_of(message))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        topic = settings.topic(LEGAL_EVENTS)
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
            deps = Deps(
                pool=pool, topic=topic, calendar=settings.calendar(), warn_days=settings.deadline_warn_days
            )
            scheduler = DeadlineScheduler(deps, settings.scheduler_interval_seconds)
            scheduler_task = asyncio.create_task(scheduler.run(), name="deadline-scheduler")

            async def stop_scheduler() -> None:
                scheduler.stop()
                with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                    await asyncio.wait_for(scheduler_task, timeout=10)

            stack.push_async_callback(stop_scheduler)
            holder["consumer"] = IdempotentConsumer(
                settings.consumer_name, pool, producer, settings.dead_letter_topic, make_apply()
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
        title="Zhijia legal rights (法律维权)",
        version="1.0",
        description="Labour disputes from intake to closing: green channel, statutory clocks and their "
        "durable deadlines, legal aid with conflict checks, supervision letters (一函两书), reports.",
        lifespan=lifespan,
    )

    install_common(app, SERVICE, standard_checks(app, broker=broker, relay=True))
    install_error_handlers(app)
    app.include_router(router)
    return app


def main() -> None:
    from shared.runtime import serve

    settings = LegalSettings()  # read from the environment
    configure_logging(SERVICE, settings.log_level, settings.log_format)
    serve(create_app(settings), settings)
