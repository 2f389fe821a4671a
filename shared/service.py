"""The service kit's builder: every service's app.py declares what is its own (name, topics,
migration packages, routes, and a `start` that makes its handler dependencies) and
`build_service` wires the rest the same way for all of them:

- the database pool, migrated: the shared migrations, then the service's own packages in order;
- its topics, a Kafka producer and, for a service that publishes, the outbox relay;
- for a service that consumes, one batch subscriber (a consumer group shared by its replicas)
  feeding the handler `start` returns — usually the idempotent consumer (`Runtime.consumer`);
- background loops such as the durable timer (`Runtime.background`);
- the FastAPI app with health checks, correlation ids, problem-details errors and its routes.

Started in that order and stopped in reverse: consuming stops first (an unfinished batch is not
committed, so it is read again), then background loops, the relay, the producer, the pool.

A service with neither database nor Kafka (web: pages and a forwarder) declares a `FrontSpec`
and gets the same HTTP app from `build_front` (`http_app` is what both share).
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

import asyncpg
from aiokafka import AIOKafkaProducer, ConsumerRebalanceListener
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.subscriber.usecase import BatchSubscriber

from shared.auth import KeySource, TokenVerifier
from shared.consumer import Apply, Decode, IdempotentConsumer, Prepare, decode_record
from shared.contracts.topics import (
    ENROLLMENT_EVENTS,
    ENROLLMENT_STATE,
    IDENTITY_EVENTS,
    PERSON_KEYS,
    state_topic,
)
from shared.db import open_pool
from shared.errors import install_error_handlers, refused_url
from shared.events import EventWriter
from shared.http import ReadinessCheck, install_common, standard_checks
from shared.inputs import StrictRoute, UrlTextMiddleware
from shared.kafka import ensure_topics, running_producer
from shared.logging import get_logger
from shared.openapi import install_openapi
from shared.outbox import running_relay
from shared.person_keys import KeyBook
from shared.positions import ResumeFromStoredPositions
from shared.revocations import following_revocations
from shared.settings import ConsumingSettings, HttpSettings, ServiceSettings
from shared.subscriber import batch_subscriber, make_broker, records_of
from shared.token_keys import TrustedKeys, running_trusted_keys

log = get_logger(__name__)

D = TypeVar("D")

# What a consuming service does with one batch of records from its subscriber.
OnBatch = Callable[[KafkaMessage], Awaitable[None]]


def group_consumer(
    settings: ConsumingSettings,
    pool: asyncpg.Pool,
    producer: AIOKafkaProducer,
    apply: Apply,
    *,
    decode: Decode | None = None,
    prepare: Prepare | None = None,
    batch_writes: bool = False,
    keys: KeyBook | None = None,
    stopping: asyncio.Event | None = None,
) -> IdempotentConsumer:
    """The idempotent consumer of a service's group, dead-lettering to its own topic; also for
    work outside the running service (the projector's rebuild). With `keys`, sealed personal
    fields reach the handlers opened; `stopping` (Runtime.stopping) ends its waits for the
    database when the service stops."""
    return IdempotentConsumer(
        settings.consumer_name, pool, producer, settings.dead_letter_topic, apply,
        prepare=prepare, decode=decode or decode_record, batch_writes=batch_writes,
        open_sealed=keys.open_sealed if keys is not None else None, stopping=stopping,
    )  # fmt: skip


def reads_sealed(topics: Sequence[str]) -> bool:
    """Whether a consumer of these (unprefixed) topics meets enrollment's sealed fields."""
    return bool({ENROLLMENT_EVENTS, ENROLLMENT_STATE} & set(topics))


@contextlib.asynccontextmanager
async def running_key_book(
    settings: ServiceSettings, stopping: asyncio.Event | None = None
) -> AsyncIterator[KeyBook]:
    """The person keys followed while the block runs (shared/person_keys.py)."""
    keys = KeyBook(
        settings.kafka_bootstrap_servers, settings.topic(PERSON_KEYS),
        settings.person_key_secret.get_secret_value(), settings.topic_partitions, stopping,
    )  # fmt: skip
    await keys.start()
    try:
        yield keys
    finally:
        await keys.stop()


class Background(Protocol):
    """A loop the service runs beside its requests (the durable timer): stopped, then awaited."""

    async def run(self) -> None: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class Consumes:
    """What a consuming service reads: topics by name (the deployment's prefix is added), or a
    pattern of topic names (already prefixed), and optionally a rebalance listener (without one,
    the consumer resumes from its database's positions: shared/positions.py)."""

    topics: Sequence[str] = ()
    pattern: str | None = None
    listener: ConsumerRebalanceListener | None = None
    broker_options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Started(Generic[D]):
    """What a service's `start` returns: its handler dependencies (the routes' `AppDeps`) and,
    for a consuming service, what it does with a batch: usually its idempotent consumer
    (`runtime.consumer(apply)`), or a function of its own (the projector's)."""

    deps: D
    on_batch: "OnBatch | IdempotentConsumer | None" = None


@dataclass(frozen=True)
class Runtime:
    """What the kit started, handed to the service's `start`."""

    settings: ServiceSettings
    pool: asyncpg.Pool
    producer: AIOKafkaProducer
    publishing: EventWriter | None
    subscriber: BatchSubscriber | None
    # Whatever `start` enters or pushes here is stopped before the kit's own parts.
    stack: contextlib.AsyncExitStack
    # The person keys, for a service that reads enrollment's topics (its sealed fields).
    keys: KeyBook | None = None
    # Set first when the service stops: a consumer waiting for the database gives its batch back.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    # The public keys this service verifies access tokens with (shared/token_keys.py).
    token_keys: TrustedKeys = field(default_factory=TrustedKeys)

    @property
    def events(self) -> EventWriter:
        """How the service emits its events (its source name and its topic)."""
        if self.publishing is None:
            raise RuntimeError("this service's ServiceSpec names no topic it publishes")
        return self.publishing

    def consumer(
        self,
        apply: Apply,
        *,
        decode: Decode | None = None,
        prepare: Prepare | None = None,
        batch_writes: bool = False,
    ) -> IdempotentConsumer:
        """The idempotent consumer of this service's group, dead-lettering to its own topic."""
        settings = self.settings
        assert isinstance(settings, ConsumingSettings), "a consuming service has ConsumingSettings"
        return group_consumer(
            settings,
            self.pool,
            self.producer,
            apply,
            decode=decode,
            prepare=prepare,
            batch_writes=batch_writes,
            keys=self.keys,
            stopping=self.stopping,
        )

    def add_token_keys(self, source: KeySource) -> None:
        """Trust the keys of one more source as well (identity: its own signing keys, read from
        its database rather than from itself over HTTP)."""
        self.token_keys.add(source)

    def background(self, name: str, loop: Background, stop_timeout: float = 10) -> None:
        task = asyncio.create_task(loop.run(), name=name)

        async def stop() -> None:
            loop.stop()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(task, timeout=stop_timeout)

        self.stack.push_async_callback(stop)


@dataclass(frozen=True)
class ServiceSpec(Generic[D]):
    name: str
    title: str
    description: str
    routers: Sequence[APIRouter]
    start: Callable[[Runtime], Awaitable[Started[D]]]
    # The service's own migration package first, then the kit packages it opts into.
    migrations: Sequence[str] = ()
    publishes: str | None = None  # its events topic (unprefixed): an outbox relay publishes it
    consumes: Consumes | None = None


class _BatchSlot:
    """The subscriber is declared when the app is built; what it feeds exists once the service
    has started (it needs the pool and the producer)."""

    def __init__(self) -> None:
        self.on_batch: OnBatch | None = None

    async def handle(self, body: list[bytes], message: KafkaMessage) -> None:
        assert self.on_batch is not None, "a batch arrived before the service started consuming"
        await self.on_batch(message)


def handle_records(consumer: IdempotentConsumer) -> OnBatch:
    async def on_batch(message: KafkaMessage) -> None:
        await consumer.handle_batch(records_of(message))

    return on_batch


def _consuming(
    settings: ServiceSettings, spec: ServiceSpec[D], slot: "_BatchSlot", own_topics: list[str]
) -> tuple[KafkaBroker | None, BatchSubscriber | None, ResumeFromStoredPositions | None]:
    """A consuming service's broker and batch subscriber (its topics added to `own_topics`)."""
    if spec.consumes is None:
        return None, None, None
    assert isinstance(settings, ConsumingSettings), "a consuming service has ConsumingSettings"
    consumes = spec.consumes
    broker = make_broker(settings.kafka_bootstrap_servers, spec.name, **consumes.broker_options)
    sources = [settings.topic(t) for t in consumes.topics]
    resume = ResumeFromStoredPositions(settings.consumer_name) if consumes.listener is None else None
    subscriber = batch_subscriber(
        broker, sources, settings.consumer_name, settings.batch_size,
        listener=consumes.listener or resume, pattern=consumes.pattern,
    )  # fmt: skip
    subscriber(slot.handle)
    own_topics += [*sources, settings.dead_letter_topic]
    return broker, subscriber, resume


def build_service(settings: ServiceSettings, spec: ServiceSpec[D]) -> FastAPI:
    slot = _BatchSlot()
    own_topics = [settings.topic(spec.publishes)] if spec.publishes else []
    # Next to a publisher's events topic, its compacted state topic (docs/retention.md).
    own_topics += [state_topic(t) for t in own_topics]
    broker, subscriber, resume = _consuming(settings, spec, slot, own_topics)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            pool = await open_pool(settings.database_url, spec.name, spec.migrations)
            stack.push_async_callback(pool.close)
            await ensure_topics(
                settings.kafka_bootstrap_servers, dict.fromkeys(own_topics, settings.topic_partitions)
            )
            producer = await stack.enter_async_context(
                running_producer(settings.kafka_bootstrap_servers, client_id=spec.name)
            )
            events = None
            if spec.publishes:
                published = settings.topic(spec.publishes)
                events = EventWriter(spec.name, published, state_topic(published))
                app.state.relay = await stack.enter_async_context(
                    running_relay(
                        settings.database_url,
                        producer,
                        spec.name,
                        bootstrap=settings.kafka_bootstrap_servers,
                        own_topic=events.topic,
                    )
                )
            # Tokens: public keys only (identity's JWKS, the dev key outside production), and
            # the revocations of identity's topic, followed by every service (docs/auth.md).
            token_keys = await stack.enter_async_context(running_trusted_keys(settings))
            revocations = await stack.enter_async_context(
                following_revocations(
                    settings.kafka_bootstrap_servers,
                    settings.topic(IDENTITY_EVENTS),
                    settings.topic_partitions,
                )
            )
            app.state.revocations = revocations
            app.state.tokens = TokenVerifier(token_keys, revocations)
            app.state.pool = pool
            if resume is not None and subscriber is not None:
                resume.bind(pool, lambda: subscriber.consumer if subscriber is not None else None)
            keys = None
            stopping = asyncio.Event()
            if spec.consumes is not None and reads_sealed(spec.consumes.topics):
                keys = await stack.enter_async_context(running_key_book(settings, stopping))
            runtime = Runtime(
                settings, pool, producer, events, subscriber, stack, keys, stopping, token_keys=token_keys
            )
            started = await spec.start(runtime)
            if token_keys.empty:
                log.warning(
                    "no_token_keys", reason="neither IDENTITY_JWKS_URL nor a dev key: every token is refused"
                )
            app.state.deps = started.deps
            if broker is not None:
                on_batch = started.on_batch
                assert on_batch is not None, "a consuming service's start returns on_batch"
                slot.on_batch = (
                    handle_records(on_batch) if isinstance(on_batch, IdempotentConsumer) else on_batch
                )
                await broker.start()
                stack.push_async_callback(broker.stop)  # left first: stop consuming
                stack.callback(runtime.stopping.set)  # before that: no batch waits for the database
            log.info("service_started", port=settings.http_port, topics=own_topics)
            yield
        log.info("service_stopped")

    return http_app(
        spec.name, spec.title, spec.description, lifespan, spec.routers,
        lambda app: standard_checks(app, broker=broker, relay=spec.publishes is not None, revocations=True),
    )  # fmt: skip


def http_app(
    name: str,
    title: str,
    description: str,
    lifespan: Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]],
    routers: Sequence[APIRouter],
    readiness: Callable[[FastAPI], dict[str, ReadinessCheck]],
    *,
    docs: bool = True,
) -> FastAPI:
    """The HTTP side every service shares: input policy, correlation ids, health, problem
    answers, the routers (StrictRoute only) and the OpenAPI with the kit's refusals. `docs`:
    the interactive /docs and /redoc pages (their scripts come from a CDN)."""
    # The input policy (shared/inputs.py): StrictRoute (the strict JSON reader, a body limit)
    # on every route, the text rule on every URL.
    app = FastAPI(
        title=title, version="1.0", description=description, lifespan=lifespan,
        docs_url="/docs" if docs else None, redoc_url="/redoc" if docs else None,
    )  # fmt: skip
    app.router.route_class = StrictRoute
    app.add_middleware(UrlTextMiddleware, refuse=refused_url)  # inside the correlation id's
    install_common(app, name, readiness(app))
    install_error_handlers(app)
    for router in routers:
        loose = [r.path for r in router.routes if isinstance(r, APIRoute) and not isinstance(r, StrictRoute)]
        assert not loose, f"{name}: make its routers with APIRouter(route_class=StrictRoute): {loose}"
        app.include_router(router)
    install_openapi(app)
    return app


@dataclass(frozen=True)
class FrontSpec(Generic[D]):
    """A service with no database and no Kafka of its own (web: pages and a forwarder). Its
    `start` makes the routes' dependencies (HTTP clients, pushed on the stack to be closed)."""

    name: str
    title: str
    description: str
    routers: Sequence[APIRouter]
    start: Callable[[contextlib.AsyncExitStack], Awaitable[D]]


def build_front(settings: HttpSettings, spec: FrontSpec[D]) -> FastAPI:
    """The same HTTP app as build_service's, without pool, topics, relay or tokens: ready as
    soon as it has started (what it stands on is other services, each with its own health)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            app.state.deps = await spec.start(stack)
            log.info("service_started", port=settings.http_port)
            yield
        log.info("service_stopped")

    # No /docs: its page loads scripts from a CDN, which a front's pages must never do
    # (/openapi.json stays).
    return http_app(
        spec.name, spec.title, spec.description, lifespan, spec.routers, lambda app: {}, docs=False
    )
