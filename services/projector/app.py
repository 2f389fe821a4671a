"""Wiring of the projector: database, a FastStream batch subscriber, the card API.

The read model lives in generations (store/generations.py): the subscriber applies each batch to
the live generation only, and follows a swap made by a rebuild (live.py).
"""

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from fastapi import FastAPI
from faststream.kafka.annotations import KafkaMessage
from pydantic import Field

from services.projector.ahead import OneBatchAhead
from services.projector.api.offers import router as offers_router
from services.projector.api.routes import router
from services.projector.handlers.dispatch import apply_event
from services.projector.live import LiveGeneration
from services.projector.store.generations import LiveSchema
from shared.auth import VerifiedTokens
from shared.consumer import IdempotentConsumer, Prepare
from shared.contracts.topics import (
    COMPETITIONS_EVENTS,
    ENROLLMENT_EVENTS,
    LEGAL_EVENTS,
    PARTNERS_EVENTS,
    RELIEF_EVENTS,
    dead_letter_topic,
)
from shared.db import open_pool
from shared.errors import install_error_handlers
from shared.http import install_common, standard_checks
from shared.kafka import ensure_topics, make_producer
from shared.logging import configure_logging, get_logger
from shared.settings import ServiceSettings
from shared.subscriber import batch_subscriber, make_broker, records_of

SERVICE = "projector"
MIGRATIONS = "services.projector.migrations"
log = get_logger(__name__)


class ProjectorSettings(ServiceSettings):
    http_port: int = 8002
    batch_size: int = 500
    # A rebuild swaps once its generation is at most this many records behind the topics; it
    # applies that rest while it holds the swap lock, so the lock is held only briefly.
    rebuild_swap_lag: int = Field(default=100, ge=0)

    @property
    def consumer_name(self) -> str:
        return f"{self.topic_prefix}{SERVICE}"

    @property
    def source_topics(self) -> list[str]:
        sources = (ENROLLMENT_EVENTS, RELIEF_EVENTS, COMPETITIONS_EVENTS, LEGAL_EVENTS, PARTNERS_EVENTS)
        return [self.topic(t) for t in sources]

    @property
    def dead_letter_topic(self) -> str:
        return self.topic(dead_letter_topic(SERVICE))


def build_consumer(
    settings: ProjectorSettings, pool: Any, producer: AIOKafkaProducer, prepare: Prepare
) -> IdempotentConsumer:
    """The idempotent consumer with the projector's handlers; prepare picks the generation."""
    return IdempotentConsumer(
        settings.consumer_name, pool, producer, settings.dead_letter_topic, apply_event,
        prepare=prepare, batch_writes=True,
    )  # fmt: skip


def create_app(settings: ProjectorSettings) -> FastAPI:
    broker = make_broker(settings.kafka_bootstrap_servers, SERVICE)
    holder: dict[str, OneBatchAhead] = {}
    live = LiveGeneration(settings.consumer_name)

    # on (re)assignment: resume from the live generation's own positions
    subscriber = batch_subscriber(
        broker, settings.source_topics, settings.consumer_name, settings.batch_size, listener=live
    )

    @subscriber
    async def on_events(body: list[bytes], message: KafkaMessage) -> None:
        records = records_of(message)
        if live.resync_due:
            # Assigned anew, or the live generation changed: position every assigned partition
            # at the live generation's own tracked positions (once the batch in flight has
            # committed its own) and apply nothing of this batch (its records are read again
            # from there). The ack commits those positions.
            await holder["ahead"].drain()
            await live.resync(message.consumer, "not positioned yet")
            return
        await holder["ahead"].handle(message.consumer, records)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await open_pool(settings.database_url, SERVICE, [MIGRATIONS])
        await ensure_topics(
            settings.kafka_bootstrap_servers,
            {t: settings.topic_partitions for t in [*settings.source_topics, settings.dead_letter_topic]},
        )
        producer = make_producer(settings.kafka_bootstrap_servers, client_id=f"{SERVICE}-deadletter")
        await producer.start()
        holder["ahead"] = ahead = OneBatchAhead(build_consumer(settings, pool, producer, live.prepare), live)
        live.bind(pool, lambda: subscriber.consumer, before_revoke=ahead.drain)
        # Group-less: reads the partitions' end offsets for /projection/status, joins no group.
        offsets = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            client_id=f"{SERVICE}-offsets",
            enable_auto_commit=False,
        )
        await offsets.start()
        app.state.pool = pool
        app.state.live_schema = LiveSchema()
        app.state.offsets = offsets
        app.state.consumer_name = settings.consumer_name
        app.state.source_topics = settings.source_topics
        app.state.verified_tokens = VerifiedTokens(settings.auth_secret.get_secret_value())
        await broker.start()
        log.info("service_started", port=settings.http_port, topics=settings.source_topics)
        try:
            yield
        finally:
            await broker.stop()  # stops consuming
            await ahead.drain()  # the batch in flight commits (or not) before the pool closes
            await offsets.stop()
            await producer.stop()
            await pool.close()
            log.info("service_stopped")

    app = FastAPI(
        title="Zhijia member service card (会员服务卡)",
        version="1.0",
        description="The read model behind each member's card, built from every service's events.",
        lifespan=lifespan,
    )

    install_common(app, SERVICE, standard_checks(app, broker=broker))
    install_error_handlers(app)
    app.include_router(router)
    app.include_router(offers_router)
    return app


def main() -> None:
    from shared.runtime import serve

    settings = ProjectorSettings()  # read from the environment
    configure_logging(SERVICE, settings.log_level, settings.log_format)
    serve(create_app(settings), settings)
