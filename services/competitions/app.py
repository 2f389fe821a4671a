"""Wiring of the competitions service: settings, the runtime, the enrollment-events subscriber
(its own view of unions and membership) and the HTTP app."""

import contextlib
import hashlib
import hmac
from collections.abc import AsyncIterator

from fastapi import FastAPI
from pydantic import Field, SecretStr

from services.competitions.api.routes import router
from services.competitions.handlers.common import Deps
from services.competitions.handlers.enrollment_events import make_apply
from shared.consumer import IdempotentConsumer
from shared.contracts.topics import COMPETITIONS_EVENTS
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

SERVICE = "competitions"
MIGRATIONS = "services.competitions.migrations"
log = get_logger(__name__)


class CompetitionsSettings(MembershipViewSettings):
    service = SERVICE
    http_port: int = 8005
    # Keys the encrypted entry numbers (加密号) of blind judging; derived, never used directly.
    pii_key: SecretStr = Field(min_length=32)

    def blind_key(self) -> bytes:
        return hmac.new(
            self.pii_key.get_secret_value().encode(), b"competitions:blind-codes", hashlib.sha256
        ).digest()


def create_app(settings: CompetitionsSettings) -> FastAPI:
    broker = make_broker(settings.kafka_bootstrap_servers, SERVICE)
    slot = subscribe(broker, settings, settings.source_topics)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        topic = settings.topic(COMPETITIONS_EVENTS)
        topics = [topic, *settings.source_topics, settings.dead_letter_topic]
        async with service_runtime(app, settings, SERVICE, MIGRATIONS, topics) as runtime:
            deps = Deps(pool=runtime.pool, topic=topic, blind_key=settings.blind_key())
            app.state.deps = deps
            consumer = IdempotentConsumer(
                settings.consumer_name,
                runtime.pool,
                runtime.producer,
                settings.dead_letter_topic,
                make_apply(deps),
            )
            await start_consuming(runtime, broker, slot, consumer)
            log.info("service_started", port=settings.http_port, topic=topic, sources=settings.source_topics)
            yield
        log.info("service_stopped")

    return service_app(
        SERVICE,
        title="Zhijia competitions and honours (劳动竞赛, 技能竞赛, 劳模)",
        description="Competitions organised by a union for its members: stages, weighted criteria, panels of "
        "judges (blind where needed), published results with an objection window, final results, awards, "
        "and honours with terms of at most five years.",
        lifespan=lifespan,
        router=router,
        broker=broker,
    )


def main() -> None:
    run_service(SERVICE, CompetitionsSettings, create_app)
