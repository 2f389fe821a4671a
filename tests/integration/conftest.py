"""Fixtures for integration tests: isolated topics and databases, services as real processes."""

import asyncio
import contextlib
import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from scripts import leftovers, stack
from tests.conftest import PERSON_KEY_SECRET, PII_KEY, RunningService, Stack, running_stack, token_secrets

# The integration tests import these from here.
__all__ = ["PERSON_KEY_SECRET", "PII_KEY", "RunningService", "Stack"]

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def stack_env(
    infra: dict[str, str], run_id: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """Every service as a real process, on this run's own topics and databases."""
    with running_stack(infra, run_id, tmp_path_factory.mktemp("logs")) as s:
        yield s


@contextlib.asynccontextmanager
async def side_service(
    s: Stack, name: str, tag: str, log_dir: Path, extra: dict[str, str] | None = None
) -> AsyncIterator[RunningService]:
    """One more service process beside the stack, on topics (prefix + tag) and a database of its
    own, so it shares no consumer group with the stack's; `extra` overrides its environment."""
    spec = next(spec for spec in stack.SERVICES if spec.name == name)
    database = f"zt_{s.run_id}_{tag}_{name}"
    port = stack.free_port()
    env = stack.service_env(
        spec, port=port, database=database, topic_prefix=f"{s.topic_prefix}{tag}.",
        extra={
            "KAFKA_BOOTSTRAP_SERVERS": s.bootstrap, **token_secrets(), "PII_KEY": PII_KEY,
            "TOPIC_PARTITIONS": "1", **(extra or {}),
        },
    )  # fmt: skip
    service = RunningService(spec, port, database, env, log_dir / f"{tag}-{name}.log")
    await asyncio.to_thread(service.start)
    try:
        yield service
    finally:
        await asyncio.to_thread(service.stop)
        conn = await asyncpg.connect(stack.database_url(s.postgres_dsn, "postgres"))
        try:
            await leftovers.drop_database(conn, database)
        finally:
            await conn.close()


@pytest.fixture
async def scratch_dsn(infra: dict[str, str], run_id: str) -> AsyncIterator[str]:
    """An empty database of the test's own, dropped at the end whatever happens (named like the
    run's databases, so a killed run's is swept with them)."""
    name = f"zt_{run_id}_scratch_{uuid.uuid4().hex[:12]}"
    yield stack.database_url(infra["POSTGRES_DSN"], name)
    conn = await asyncpg.connect(stack.database_url(infra["POSTGRES_DSN"], "postgres"))
    try:
        await leftovers.drop_database(conn, name)
    finally:
        await conn.close()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


@pytest.fixture
async def kafka_producer(stack_env: Stack) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=stack_env.bootstrap, enable_idempotence=True)
    await producer.start()
    yield producer
    await producer.stop()


async def read_topic(bootstrap: str, topic: str, timeout: float = 5.0) -> list[Any]:
    """Every record currently in a topic, from the beginning."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = consumer.partitions_for_topic(topic)
        deadline = asyncio.get_running_loop().time() + timeout
        while not parts and asyncio.get_running_loop().time() < deadline:
            await consumer._client.force_metadata_update()
            parts = consumer.partitions_for_topic(topic)
        tps = [TopicPartition(topic, p) for p in sorted(parts or [])]
        if not tps:
            return []
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        end = await consumer.end_offsets(tps)
        records: list[Any] = []
        while [tp for tp in tps if await consumer.position(tp) < end[tp]]:
            batch = await consumer.getmany(timeout_ms=500)
            for recs in batch.values():
                records.extend(recs)
        return records
    finally:
        await consumer.stop()


async def eventually(check: Callable[[], Any], timeout: float = 15.0, interval: float = 0.1) -> Any:
    """Poll an async check until it returns a truthy value; fail with the last value seen."""
    deadline = asyncio.get_running_loop().time() + timeout
    last: Any = None
    while asyncio.get_running_loop().time() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s; last value: {last!r}")


def partner_listener(infra: dict[str, str]) -> str | None:
    """The partner listener of the broker the `infra` fixture gave us, if it has one."""
    if os.environ.get("KAFKA_PARTNER_BOOTSTRAP_SERVERS"):
        return os.environ["KAFKA_PARTNER_BOOTSTRAP_SERVERS"]
    out = subprocess.run(
        ["bash", str(stack.ROOT / "deploy" / "infra.sh"), "env"], capture_output=True, text=True, check=True
    )
    env = dict(
        line.removeprefix("export ").partition("=")[::2] for line in out.stdout.splitlines() if "=" in line
    )
    # Only when the broker in use is the one deploy/infra.sh runs (not testcontainers').
    if env.get("KAFKA_BOOTSTRAP_SERVERS") == infra["KAFKA_BOOTSTRAP_SERVERS"]:
        return env.get("KAFKA_PARTNER_BOOTSTRAP_SERVERS")
    return None
