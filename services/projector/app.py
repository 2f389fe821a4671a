"""Wiring of the projector on the service kit (shared/service.py): a consumer of the five source
topics that publishes nothing, and the card API.

The read model lives in generations (store/generations.py): each batch is applied to the live
generation only, the consumer follows a swap made by a rebuild (live.py), and the next batch is
decoded while the previous one is written (ahead.py).
"""

import asyncio
from typing import ClassVar

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from fastapi import FastAPI
from faststream.kafka.annotations import KafkaMessage
from pydantic import Field

from services.projector.ahead import OneBatchAhead
from services.projector.api import inbox, offers, routes, statistics
from services.projector.api.deps import Deps
from services.projector.handlers.dispatch import apply_event
from services.projector.live import LiveGeneration
from services.projector.store.generations import LiveSchema
from shared.consumer import IdempotentConsumer, Prepare
from shared.contracts.topics import (
    COMPETITIONS_EVENTS,
    ENROLLMENT_EVENTS,
    ENROLLMENT_STATE,
    LEGAL_EVENTS,
    LEGAL_STATE,
    PARTNERS_EVENTS,
    RELIEF_EVENTS,
    RELIEF_STATE,
)
from shared.person_keys import KeyBook
from shared.runtime import run_service
from shared.service import Consumes, Runtime, ServiceSpec, Started, build_service, group_consumer
from shared.settings import ConsumingSettings
from shared.subscriber import records_of

SERVICE = "projector"
MIGRATIONS = "services.projector.migrations"
# The state topics too: membership, relief and legal cases stay complete after the events'
# retention deleted the history (docs/retention.md); an event read from both topics is applied
# once (its id).
SOURCE_TOPICS = (
    ENROLLMENT_EVENTS,
    ENROLLMENT_STATE,
    RELIEF_EVENTS,
    RELIEF_STATE,
    COMPETITIONS_EVENTS,
    LEGAL_EVENTS,
    LEGAL_STATE,
    PARTNERS_EVENTS,
)


class ProjectorSettings(ConsumingSettings):
    service: ClassVar[str] = SERVICE
    http_port: int = 8002
    # A rebuild swaps once its generation is at most this many records behind the topics; it
    # applies that rest while it holds the swap lock, so the lock is held only briefly.
    rebuild_swap_lag: int = Field(default=100, ge=0)

    @property
    def source_topics(self) -> list[str]:
        return [self.topic(t) for t in SOURCE_TOPICS]


def card_consumer(
    settings: ProjectorSettings,
    pool: asyncpg.Pool,
    producer: AIOKafkaProducer,
    prepare: Prepare,
    keys: KeyBook | None,
    stopping: asyncio.Event | None = None,
) -> IdempotentConsumer:
    """The idempotent consumer with the projector's handlers, for the live projector and for a
    rebuild alike; `prepare` points each batch transaction at its generation, `keys` opens the
    members' sealed fields."""
    return group_consumer(
        settings,
        pool,
        producer,
        apply_event,
        prepare=prepare,
        batch_writes=True,
        keys=keys,
        stopping=stopping,
    )


def create_app(settings: ProjectorSettings) -> FastAPI:
    # The rebalance listener: on (re)assignment, resume from the live generation's own positions.
    live = LiveGeneration(settings.consumer_name)

    async def start(runtime: Runtime) -> Started[Deps]:
        subscriber = runtime.subscriber
        assert subscriber is not None, "the projector consumes"
        ahead = OneBatchAhead(
            card_consumer(
                settings, runtime.pool, runtime.producer, live.prepare, runtime.keys, runtime.stopping
            ),
            live,
        )
        live.bind(runtime.pool, lambda: subscriber.consumer, before_revoke=ahead.drain)
        # Group-less: reads the partitions' end offsets for /projection/status, joins no group.
        offsets = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            client_id=f"{SERVICE}-offsets",
            enable_auto_commit=False,
        )
        await offsets.start()
        runtime.stack.push_async_callback(offsets.stop)
        # The kit stops consuming first; then the batch in flight commits (or not) before the
        # pool closes.
        runtime.stack.push_async_callback(ahead.drain)

        async def on_batch(message: KafkaMessage) -> None:
            if live.resync_due:
                # Assigned anew, or the live generation changed: position every assigned
                # partition at the live generation's own tracked positions (once the batch in
                # flight has committed its own) and apply nothing of this batch (its records are
                # read again from there). The ack commits those positions.
                await ahead.drain()
                await live.resync(message.consumer, "not positioned yet")
                return
            await ahead.handle(message.consumer, records_of(message))

        deps = Deps(runtime.pool, LiveSchema(), offsets, settings.consumer_name, settings.source_topics)
        return Started(deps, on_batch)

    return build_service(
        settings,
        ServiceSpec(
            name=SERVICE,
            title="Zhijia member service card (会员服务卡)",
            description="The read model behind each member's card, built from every service's events.",
            routers=[routes.router, offers.router, inbox.router, statistics.router],
            start=start,
            migrations=[MIGRATIONS],
            publishes=None,  # a read model: no events of its own, no outbox relay
            consumes=Consumes(topics=SOURCE_TOPICS, listener=live),
        ),
    )


def main() -> None:
    run_service(SERVICE, ProjectorSettings, create_app)
