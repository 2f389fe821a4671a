"""Fixtures for integration tests: isolated topics and databases, services as real processes."""

import asyncio
import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from scripts import leftovers, stack
from scripts.stack import free_port
from shared.auth import Role, mint_token

pytestmark = pytest.mark.integration

AUTH_SECRET = "integration-tests-only-" + "x" * 24
PII_KEY = "integration-tests-pii-key-" + "y" * 24


@dataclass
class RunningService:
    spec: stack.ServiceSpec
    port: int
    database: str
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def dsn(self) -> str:
        return self.env["DATABASE_URL"]

    def start(self) -> None:
        self.proc = stack.start(self.spec, self.env, self.log_path)
        stack.wait_ready(self.port, self.proc, self.log_path)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            stack.stop(self.proc.pid, proc=self.proc)
        self.proc = None


@dataclass
class Stack:
    run_id: str
    topic_prefix: str
    bootstrap: str
    postgres_dsn: str
    services: dict[str, RunningService] = field(default_factory=dict)

    def token(
        self, role: Role, *, member_id: uuid.UUID | None = None, union_id: uuid.UUID | None = None
    ) -> str:
        return mint_token(AUTH_SECRET, sub=f"test-{role}", role=role, member_id=member_id, union_id=union_id)

    def headers(self, role: Role, **kw: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, **kw)}"}

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"


@pytest.fixture(scope="session")
def run_id(infra: dict[str, str]) -> Iterator[str]:
    """This run's id; its topics and databases go when it ends, with those of killed earlier runs."""
    bootstrap, dsn = infra["KAFKA_BOOTSTRAP_SERVERS"], infra["POSTGRES_DSN"]
    asyncio.run(leftovers.sweep(bootstrap, dsn))
    run = leftovers.new_run_id()
    yield run
    asyncio.run(leftovers.remove_run(bootstrap, dsn, run))


@pytest.fixture(scope="session")
def stack_env(
    infra: dict[str, str], run_id: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """Enrollment and projector as real processes, on this run's own topics and databases."""
    os.environ["POSTGRES_DSN"] = infra["POSTGRES_DSN"]
    logs = tmp_path_factory.mktemp("logs")
    s = Stack(
        run_id=run_id,
        topic_prefix=f"t{run_id}.",
        bootstrap=infra["KAFKA_BOOTSTRAP_SERVERS"],
        postgres_dsn=infra["POSTGRES_DSN"],
    )
    for spec in stack.SERVICES:
        port = free_port()
        database = f"zt_{run_id}_{spec.name}"
        env = stack.service_env(
            spec,
            port=port,
            database=database,
            topic_prefix=s.topic_prefix,
            extra={
                "KAFKA_BOOTSTRAP_SERVERS": s.bootstrap,
                "AUTH_SECRET": AUTH_SECRET,
                "PII_KEY": PII_KEY,
                "TOPIC_PARTITIONS": "3",
                "LOG_LEVEL": "INFO",
                # A partner registered by a test is read from within a second, not ten.
                "TOPIC_DISCOVERY_MS": "1000",
            },
        )
        s.services[spec.name] = RunningService(spec, port, database, env, logs / f"{spec.name}.log")
    try:
        for svc in s.services.values():
            svc.start()
        yield s
    finally:
        for svc in s.services.values():
            svc.stop()
        asyncio.run(_drop_databases(s))


async def _drop_databases(s: Stack) -> None:
    conn = await asyncpg.connect(stack.database_url(s.postgres_dsn, "postgres"))
    try:
        for svc in s.services.values():
            await leftovers.drop_database(conn, svc.database)
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
