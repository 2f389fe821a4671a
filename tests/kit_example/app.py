"""Wiring of the greeter: settings, what it reads and publishes, its start, its entry point."""

from datetime import timedelta

from fastapi import FastAPI
from pydantic import Field

from shared import membership
from shared.runtime import run_service
from shared.service import Consumes, Runtime, ServiceSpec, Started, build_service
from shared.settings import ConsumingSettings
from shared.timers import DurableTimer
from tests.kit_example import handlers
from tests.kit_example.api import router
from tests.kit_example.contracts import GREETER_EVENTS

SERVICE = "greeter"


class GreeterSettings(ConsumingSettings):
    service = SERVICE
    http_port: int = 8099
    welcome_after_seconds: float = Field(default=86_400, ge=0)
    timer_interval_seconds: float = Field(default=5.0, gt=0)


def create_app(settings: GreeterSettings) -> FastAPI:
    async def start(runtime: Runtime) -> Started[handlers.Deps]:
        deps = handlers.Deps(runtime.pool, runtime.events, timedelta(seconds=settings.welcome_after_seconds))
        timer = DurableTimer(
            runtime.pool,
            {handlers.WELCOME: lambda conn, t: handlers.welcome(deps, conn, t)},
            interval_seconds=settings.timer_interval_seconds,
        )
        runtime.background("welcome-timer", timer)
        apply = membership.membership_events(
            lambda conn, trace, m: handlers.member_changed(deps, conn, trace, m)
        )
        return Started(deps, runtime.consumer(apply))

    return build_service(
        settings,
        ServiceSpec(
            name=SERVICE,
            title="Zhijia greeter (入会欢迎), the service kit's example",
            description="Welcomes each new member a while after they join.",
            routers=[router],
            start=start,
            migrations=["tests.kit_example.migrations", membership.MIGRATIONS],
            publishes=GREETER_EVENTS,
            consumes=Consumes(topics=membership.SOURCE_TOPICS),
        ),
    )


def main() -> None:
    run_service(SERVICE, GreeterSettings, create_app)
