"""Wiring of the enrollment service: settings, the runtime (database, Kafka, outbox relay), HTTP app."""

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from pydantic import Field, SecretStr

from services.enrollment.api.routes import router
from services.enrollment.handlers.commands import Deps
from shared.contracts.topics import ENROLLMENT_EVENTS
from shared.legacy_service import service_app, service_runtime
from shared.logging import get_logger
from shared.pii import PiiProtector
from shared.runtime import run_service
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
        async with service_runtime(
            app, settings, SERVICE, "services.enrollment.migrations", [topic]
        ) as runtime:
            app.state.deps = Deps(
                pool=runtime.pool, pii=PiiProtector(settings.pii_key.get_secret_value()), topic=topic
            )
            log.info("service_started", port=settings.http_port, topic=topic)
            yield
        log.info("service_stopped")

    return service_app(
        SERVICE,
        title="Zhijia enrollment (入会)",
        description="Union registry, online membership applications, review, transfers and leaving.",
        lifespan=lifespan,
        router=router,
    )


def main() -> None:
    run_service(SERVICE, EnrollmentSettings, create_app)
