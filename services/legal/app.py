"""Wiring of the legal-rights service on the service kit: its settings, its view of unions and
membership (shared.membership, from enrollment's events), the durable timer firing its
deadline notices, and its routes."""

from fastapi import FastAPI
from pydantic import Field

from services.legal.api import queues
from services.legal.api.routes import router
from services.legal.handlers.common import Deps
from services.legal.handlers.deadlines import deadline_timer
from services.legal.store.calendar import CalendarCache
from shared import membership
from shared.contracts.topics import LEGAL_EVENTS
from shared.runtime import run_service
from shared.service import Consumes, Runtime, ServiceSpec, Started, build_service
from shared.settings import ConsumingSettings

SERVICE = "legal"
MIGRATIONS = ["services.legal.migrations", membership.MIGRATIONS]


class LegalSettings(ConsumingSettings):
    service = SERVICE
    http_port: int = 8004
    deadline_warn_days: int = Field(default=3, ge=1, le=30)
    scheduler_interval_seconds: float = Field(default=5.0, gt=0, le=3600)


def create_app(settings: LegalSettings) -> FastAPI:
    async def start(runtime: Runtime) -> Started[Deps]:
        deps = Deps(
            pool=runtime.pool,
            events=runtime.events,
            calendar=CalendarCache(),  # the working_calendar table, administered by the API
            warn_days=settings.deadline_warn_days,
        )
        runtime.background("deadline-timer", deadline_timer(deps, settings.scheduler_interval_seconds))
        consumer = runtime.consumer(membership.membership_events())
        return Started(deps, consumer)

    return build_service(
        settings,
        ServiceSpec(
            name=SERVICE,
            title="Zhijia legal rights (法律维权)",
            description="Labour disputes from intake to closing: green channel, statutory clocks "
            "and their durable deadlines, legal aid with conflict checks, supervision letters "
            "(一函两书), reports.",
            routers=[router, queues.router],
            start=start,
            migrations=MIGRATIONS,
            publishes=LEGAL_EVENTS,
            consumes=Consumes(topics=list(membership.SOURCE_TOPICS)),
        ),
    )


def main() -> None:
    run_service(SERVICE, LegalSettings, create_app)
