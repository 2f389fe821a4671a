"""Wiring of the legal-rights service: settings, the runtime, the deadline scheduler, the
enrollment-events subscriber (legal's own view of unions and membership) and the HTTP app."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import date

from fastapi import FastAPI
from pydantic import Field

from services.legal.api.routes import router
from services.legal.domain.clocks import WorkCalendar
from services.legal.handlers.common import Deps
from services.legal.handlers.enrollment_events import make_apply
from services.legal.handlers.scheduler import DeadlineScheduler
from shared.consumer import IdempotentConsumer
from shared.contracts.topics import LEGAL_EVENTS
from shared.legacy_service import (
    MembershipViewSettings,
    service_app,
    service_runtime,
    start_consuming,
    subscribe,
)
from shared.logging import get_logger
from shared.runtime import run_service
from shared.subscriber import make_broker

SERVICE = "legal"
MIGRATIONS = "services.legal.migrations"
log = get_logger(__name__)


class LegalSettings(MembershipViewSettings):
    service = SERVICE
    http_port: int = 8004
    # The working-day calendar of the supervision letters (JSON lists of ISO dates): public
    # holidays, and the make-up working days (调休) that fall on a weekend.
    holidays: list[date] = Field(default_factory=list)
    makeup_workdays: list[date] = Field(default_factory=list)
    deadline_warn_days: int = Field(default=3, ge=1, le=30)
    scheduler_interval_seconds: float = Field(default=5.0, gt=0, le=3600)

    def calendar(self) -> WorkCalendar:
        return WorkCalendar.of(self.holidays, self.makeup_workdays)


def create_app(settings: LegalSettings) -> FastAPI:
    broker = make_broker(settings.kafka_bootstrap_servers, SERVICE)
    slot = subscribe(broker, settings, settings.source_topics)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        topic = settings.topic(LEGAL_EVENTS)
        topics = [topic, *settings.source_topics, settings.dead_letter_topic]
        async with service_runtime(app, settings, SERVICE, MIGRATIONS, topics) as runtime:
            deps = Deps(
                pool=runtime.pool,
                topic=topic,
                calendar=settings.calendar(),
                warn_days=settings.deadline_warn_days,
            )
            app.state.deps = deps
            scheduler = DeadlineScheduler(deps, settings.scheduler_interval_seconds)
            scheduler_task = asyncio.create_task(scheduler.run(), name="deadline-scheduler")

            async def stop_scheduler() -> None:
                scheduler.stop()
                with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                    await asyncio.wait_for(scheduler_task, timeout=10)

            runtime.stack.push_async_callback(stop_scheduler)
            consumer = IdempotentConsumer(
                settings.consumer_name,
                runtime.pool,
                runtime.producer,
                settings.dead_letter_topic,
                make_apply(),
            )
            await start_consuming(runtime, broker, slot, consumer)
            log.info("service_started", port=settings.http_port, topic=topic, sources=settings.source_topics)
            yield
        log.info("service_stopped")

    return service_app(
        SERVICE,
        title="Zhijia legal rights (法律维权)",
        description="Labour disputes from intake to closing: green channel, statutory clocks and their "
        "durable deadlines, legal aid with conflict checks, supervision letters (一函两书), reports.",
        lifespan=lifespan,
        router=router,
        broker=broker,
    )


def main() -> None:
    run_service(SERVICE, LegalSettings, create_app)
