"""Wiring of the enrollment service: its settings and what it declares to the service kit."""

from fastapi import FastAPI
from pydantic import Field, SecretStr

from services.enrollment.api.routes import router
from services.enrollment.handlers.common import Deps
from services.enrollment.handlers.transfers import expiry_timer
from shared.contracts.topics import ENROLLMENT_EVENTS
from shared.pii import PiiProtector
from shared.runtime import run_service
from shared.service import Runtime, ServiceSpec, Started, build_service
from shared.settings import ServiceSettings

SERVICE = "enrollment"


class EnrollmentSettings(ServiceSettings):
    http_port: int = 8001
    pii_key: SecretStr = Field(min_length=32)
    # How often the durable timer looks for transfer requests whose window ran out.
    scheduler_interval_seconds: float = Field(default=5.0, gt=0, le=3600)


def create_app(settings: EnrollmentSettings) -> FastAPI:
    async def start(runtime: Runtime) -> Started[Deps]:
        pii = PiiProtector(settings.pii_key.get_secret_value())
        deps = Deps(pool=runtime.pool, pii=pii, events=runtime.events)
        runtime.background("transfer-expiry", expiry_timer(deps, settings.scheduler_interval_seconds))
        return Started(deps)

    return build_service(
        settings,
        ServiceSpec(
            name=SERVICE,
            title="Zhijia enrollment (入会)",
            description="Union registry, online membership applications, review, transfers (requested, then "
            "accepted or declined by the receiving union) and leaving.",
            routers=[router],
            start=start,
            migrations=["services.enrollment.migrations"],
            publishes=ENROLLMENT_EVENTS,
        ),
    )


def main() -> None:
    run_service(SERVICE, EnrollmentSettings, create_app)
