"""Wiring of the relief service: settings, the runtime, the enrollment-events subscriber (relief's
own view of unions and membership) and the HTTP app."""

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from pydantic import Field, SecretStr

from services.relief.api.routes import router
from services.relief.domain.tiers import ReliefPolicy, standard_bands
from services.relief.handlers.common import Deps
from services.relief.handlers.enrollment_events import make_apply
from shared.consumer import IdempotentConsumer
from shared.contracts.topics import RELIEF_EVENTS
from shared.legacy_service import (
    MembershipViewSettings,
    service_app,
    service_runtime,
    start_consuming,
    subscribe,
)
from shared.logging import get_logger
from shared.pii import PiiProtector
from shared.runtime import run_service
from shared.subscriber import make_broker

SERVICE = "relief"
MIGRATIONS = "services.relief.migrations"
log = get_logger(__name__)


class ReliefSettings(MembershipViewSettings):
    service = SERVICE
    http_port: int = 8003
    pii_key: SecretStr = Field(min_length=32)  # keyed hash of household register numbers
    # The minimum-living line (低保线) in fen per head and month: a default, and per region code
    # (JSON, longest prefix wins: {"33": 95000, "3301": 110000}).
    minimum_living_line_fen: int = Field(default=100_000, gt=0)
    regional_lines_fen: dict[str, int] = Field(default_factory=dict)
    # Tier ceilings as multiples of the line, per mille: relative (1.5×) and by accident (3×).
    relative_band_per_mille: int = Field(default=1500, ge=1000, le=10_000)
    accident_band_per_mille: int = Field(default=3000, ge=1000, le=10_000)
    exit_factor_per_mille: int = Field(default=1500, ge=1000, le=10_000)
    disclosure_days: int = Field(default=5, ge=1, le=60)
    review_interval_days: int = Field(default=365, ge=30, le=730)

    def policy(self) -> ReliefPolicy:
        return ReliefPolicy(
            default_line_fen=self.minimum_living_line_fen,
            regional_lines_fen=dict(self.regional_lines_fen),
            bands=standard_bands(self.relative_band_per_mille, self.accident_band_per_mille),
            exit_factor_per_mille=self.exit_factor_per_mille,
            disclosure_days=self.disclosure_days,
            review_interval_days=self.review_interval_days,
        )


def create_app(settings: ReliefSettings) -> FastAPI:
    policy = settings.policy()
    broker = make_broker(settings.kafka_bootstrap_servers, SERVICE)
    slot = subscribe(broker, settings, settings.source_topics)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        topic = settings.topic(RELIEF_EVENTS)
        topics = [topic, *settings.source_topics, settings.dead_letter_topic]
        async with service_runtime(app, settings, SERVICE, MIGRATIONS, topics) as runtime:
            deps = Deps(
                pool=runtime.pool,
                topic=topic,
                policy=policy,
                pii=PiiProtector(settings.pii_key.get_secret_value()),
            )
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
        title="Zhijia relief (困难职工帮扶)",
        description="Cases of members in hardship: intake, home visit, verification, public disclosure, "
        "the register and its aid, yearly re-verification, exit and follow-up.",
        lifespan=lifespan,
        router=router,
        broker=broker,
    )


def main() -> None:
    run_service(SERVICE, ReliefSettings, create_app)
