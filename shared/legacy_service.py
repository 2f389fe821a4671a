"""TEMPORARY: the wiring API before the kit's builder (shared.service.build_service), kept
only while services move to the builder; removed once none imports it."""

import contextlib
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaProducer
from fastapi import APIRouter, FastAPI
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from shared.auth import VerifiedTokens
from shared.consumer import IdempotentConsumer
from shared.contracts.topics import ENROLLMENT_EVENTS
from shared.db import open_pool
from shared.errors import install_error_handlers
from shared.http import install_common, standard_checks
from shared.kafka import ensure_topics, running_producer
from shared.outbox import running_relay
from shared.service import ConsumingSettings
from shared.settings import ServiceSettings
from shared.subscriber import batch_subscriber, records_of


class MembershipViewSettings(ConsumingSettings):
    """A service keeping its own view of unions and membership from enrollment's events."""

    @property
    def source_topics(self) -> list[str]:
        return [self.topic(ENROLLMENT_EVENTS)]


@dataclass(frozen=True)
class Runtime:
    pool: asyncpg.Pool
    producer: AIOKafkaProducer
    # Whatever the service starts after the runtime goes here too, to be stopped before it.
    stack: contextlib.AsyncExitStack


@contextlib.asynccontextmanager
async def service_runtime(
    app: FastAPI, settings: ServiceSettings, service: str, migrations: str, topics: Iterable[str]
) -> AsyncIterator[Runtime]:
    async with contextlib.AsyncExitStack() as stack:
        pool = await open_pool(settings.database_url, service, [migrations])
        stack.push_async_callback(pool.close)
        await ensure_topics(
            settings.kafka_bootstrap_servers, dict.fromkeys(topics, settings.topic_partitions)
        )
        producer = await stack.enter_async_context(
            running_producer(settings.kafka_bootstrap_servers, client_id=service)
        )
        # Entered last, left first: the relay stops before the producer and the pool close.
        app.state.relay = await stack.enter_async_context(
            running_relay(settings.database_url, producer, service)
        )
        app.state.verified_tokens = VerifiedTokens(settings.auth_secret.get_secret_value())
        app.state.pool = pool
        yield Runtime(pool, producer, stack)


class ConsumerSlot:
    """The subscriber is declared when the app is built; the consumer it feeds exists only once
    the service has started (it needs the pool and the producer)."""

    def __init__(self) -> None:
        self.consumer: IdempotentConsumer | None = None

    async def handle(self, message: KafkaMessage) -> None:
        assert self.consumer is not None, "a batch arrived before the service started consuming"
        await self.consumer.handle_batch(records_of(message))


def subscribe(
    broker: KafkaBroker, settings: ConsumingSettings, topics: Sequence[str] = (), pattern: str | None = None
) -> ConsumerSlot:
    slot = ConsumerSlot()

    @batch_subscriber(broker, topics, settings.consumer_name, settings.batch_size, pattern=pattern)
    async def on_batch(body: list[bytes], message: KafkaMessage) -> None:
        await slot.handle(message)

    return slot


async def start_consuming(
    runtime: Runtime, broker: KafkaBroker, slot: ConsumerSlot, consumer: IdempotentConsumer
) -> None:
    slot.consumer = consumer
    await broker.start()
    # Left first: stop consuming (an unfinished batch is not committed: it is read again), then
    # the rest in the reverse order it started.
    runtime.stack.push_async_callback(broker.stop)


def service_app(
    service: str,
    *,
    title: str,
    description: str,
    lifespan: Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]],
    router: APIRouter,
    broker: KafkaBroker | None = None,
) -> FastAPI:
    app = FastAPI(title=title, version="1.0", description=description, lifespan=lifespan)
    install_common(app, service, standard_checks(app, broker=broker, relay=True))
    install_error_handlers(app)
    app.include_router(router)
    return app
