"""Wiring of the competitions service on the service kit: settings, what it publishes, what it
reads (enrollment's events, for its own view of unions and membership) and its routes."""

import hashlib
import hmac

from fastapi import FastAPI
from pydantic import Field, SecretStr

from services.competitions.api import queues
from services.competitions.api.routes import router
from services.competitions.handlers.common import Deps
from services.competitions.handlers.enrollment_events import make_apply
from shared import membership
from shared.contracts.topics import COMPETITIONS_EVENTS
from shared.runtime import run_service
from shared.service import Consumes, Runtime, ServiceSpec, Started, build_service
from shared.settings import ConsumingSettings

SERVICE = "competitions"
MIGRATIONS = "services.competitions.migrations"


class CompetitionsSettings(ConsumingSettings):
    service = SERVICE
    http_port: int = 8005
    # Keys the encrypted entry numbers (加密号) of blind judging; derived, never used directly.
    pii_key: SecretStr = Field(min_length=32)

    def blind_key(self) -> bytes:
        return hmac.new(
            self.pii_key.get_secret_value().encode(), b"competitions:blind-codes", hashlib.sha256
        ).digest()


def create_app(settings: CompetitionsSettings) -> FastAPI:
    async def start(runtime: Runtime) -> Started[Deps]:
        deps = Deps(pool=runtime.pool, events=runtime.events, blind_key=settings.blind_key())
        return Started(deps, runtime.consumer(make_apply(deps)))

    return build_service(
        settings,
        ServiceSpec(
            name=SERVICE,
            title="Zhijia competitions and honours (劳动竞赛, 技能竞赛, 劳模)",
            description="Competitions organised by a union for its members: stages, weighted criteria, "
            "panels of judges (blind where needed), published results with an objection window, final "
            "results, awards, and honours with terms of at most five years.",
            routers=[router, queues.router],
            start=start,
            migrations=[MIGRATIONS, membership.MIGRATIONS],
            publishes=COMPETITIONS_EVENTS,
            consumes=Consumes(topics=list(membership.SOURCE_TOPICS)),
        ),
    )


def main() -> None:
    run_service(SERVICE, CompetitionsSettings, create_app)
