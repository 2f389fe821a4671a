"""Wiring of the relief service: settings, database, outbox relay, the enrollment-events
subscriber (relief's own view of unions and membership) and the HTTP app."""

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from faststream.kafka.annotations import KafkaMessage
from pydantic import Field, SecretStr

from services.relief.api.routes import router
from services.relief.domain.tiers import ReliefPolicy, standard_bands
from services.relief.handlers.common import Deps
from services.relief.handlers.enrollment_events import make_apply
from shared.consumer import IdempotentConsumer
from shared.contracts.topics import ENROLLMENT_EVENTS, RELIEF_EVENTS, dead_letter_topic
from shared.db import open_pool
from shared.errors import install_error_handlers
from shared.http import install_common, standard_checks
from shared.kafka import ensure_topics, running_producer
from shared.logging import configure_logging, get_logger
from shared.outbox import running_relay
from shared.pii import PiiProtector
from shared.settings import ServiceSettings
from shared.subscriber import batch_subscriber, make_broker, records_of

SERVICE = "relief"
MIGRATIONS = "services.relief.migrations"
log = get_logger(__name__)


class ReliefSettings(ServiceSettings):
    http_port: int = 8003
    pii_key: SecretStr = Field(min_length=32)  # keyed hash of household register numbers
    batch_size: int = 500
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

    @property
    def consumer_name(self) -> str:
        return f"{self.topic_prefix}{SERVICE}"

    @property
    def source_topics(self) -> list[str]:
        return [self.topic(ENROLLMENT_EVENTS)]

    @property
    def dead_letter_topic(self) -> str:
        return self.topic(dead_letter_topic(SERVICE))

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
    holder: dict[str, IdempotentConsumer] = {}

    @batch_subscriber(broker, settings.source_topics, settings.consumer_name, settings.batch_size)
    async def on_enrollment_events(body: list[bytes], message: KafkaMessage) -> None:
        await holder["consumer"].handle_batch(records_of(message))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        topic = settings.topic(RELIEF_EVENTS)
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
                pool=pool, topic=topic, policy=policy, pii=PiiProtector(settings.pii_key.get_secret_value())
            )
            holder["consumer"] = IdempotentConsumer(
                settings.consumer_name, pool, producer, settings.dead_letter_topic, make_apply(deps)
            )
            app.state.deps = deps
            app.state.auth_secret = settings.auth_secret.get_secret_value()
            app.state.pool = pool
            await broker.start()
            # Left first: stop consuming (an unfinished batch is not committed: it is read again),
            # then the relay, the producer and the pool, in the reverse order they started.
            stack.push_async_callback(broker.stop)
            log.info("service_started", port=settings.http_port, topic=topic, sources=settings.source_topics)
            yield
        log.info("service_stopped")

    app = FastAPI(
        title="Zhijia relief (困难职工帮扶)",
        version="1.0",
        description="Cases of members in hardship: intake, home visit, verification, public disclosure, "
        "the register and its aid, yearly re-verification, exit and follow-up.",
        lifespan=lifespan,
    )

    install_common(app, SERVICE, standard_checks(app, broker=broker, relay=True))
    install_error_handlers(app)
    app.include_router(router)
    return app


def main() -> None:
    from shared.runtime import serve

    settings = ReliefSettings()  # read from the environment
    configure_logging(SERVICE, settings.log_level, settings.log_format)
    serve(create_app(settings), settings)
