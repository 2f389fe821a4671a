"""Real infrastructure for the tests: never an in-memory broker.

Kafka and PostgreSQL addresses come from KAFKA_BOOTSTRAP_SERVERS and POSTGRES_DSN when set;
otherwise from testcontainers when a Docker engine answers; otherwise from the project's own
`deploy/infra.sh up`, which starts a real broker and a real database on this machine.
"""

import asyncio
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from scripts import leftovers, stack
from scripts.fake_realname_provider import FakeRealNameProvider, running_fake_realname_provider
from scripts.stack import free_port
from shared.auth import Role, dev_key_pair, sign_dev_token
from shared.contracts.identity import AccessClaims

ROOT = Path(__file__).resolve().parent.parent


def _docker_engine_answers() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _from_infra_script() -> dict[str, str]:
    script = ROOT / "deploy" / "infra.sh"
    up = subprocess.run(["bash", str(script), "up"], capture_output=True, text=True)
    if up.returncode != 0:
        pytest.exit(f"deploy/infra.sh up failed:\n{up.stdout}\n{up.stderr}", returncode=3)
    out = subprocess.run(["bash", str(script), "env"], capture_output=True, text=True, check=True)
    env: dict[str, str] = {}
    for line in out.stdout.splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        if key in ("KAFKA_BOOTSTRAP_SERVERS", "POSTGRES_DSN"):
            env[key] = value.strip("'\"")
    return env


@pytest.fixture(scope="session")
def infra() -> Iterator[dict[str, str]]:
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") and os.environ.get("POSTGRES_DSN"):
        yield {k: os.environ[k] for k in ("KAFKA_BOOTSTRAP_SERVERS", "POSTGRES_DSN")}
        return
    if _docker_engine_answers():
        from testcontainers.kafka import KafkaContainer
        from testcontainers.postgres import PostgresContainer

        with (
            KafkaContainer("apache/kafka:4.4.0").with_kraft() as kafka,
            PostgresContainer("postgres:16", username="zhijia", password="zhijia") as pg,
        ):
            dsn = pg.get_connection_url(driver=None).replace("postgresql+psycopg2", "postgresql")
            yield {"KAFKA_BOOTSTRAP_SERVERS": kafka.get_bootstrap_server(), "POSTGRES_DSN": dsn}
        return
    env = _from_infra_script()
    os.environ.update(env)
    yield env


PERSON_KEY_SECRET = "integration-tests-only-" + "x" * 24
# The development issuer's key pair of this test session: services get the public half only.
DEV_TOKEN_PRIVATE_KEY, DEV_TOKEN_PUBLIC_KEY = dev_key_pair()
PII_KEY = "integration-tests-pii-key-" + "y" * 24


@dataclass
class RunningService:
    spec: stack.ServiceSpec
    port: int
    database: str | None  # None: the service has none (web)
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


def dev_token(
    role: Role,
    *,
    member_id: uuid.UUID | None = None,
    union_id: uuid.UUID | None = None,
    ttl_seconds: int = 900,
    **claims: Any,
) -> str:
    """A token of this session's dev issuer (sub defaults to test-<role>)."""
    claims.setdefault("sub", f"test-{role}")
    access = AccessClaims(role=role, member_id=member_id, union_id=union_id, **claims)
    return sign_dev_token(DEV_TOKEN_PRIVATE_KEY, access, ttl_seconds=ttl_seconds)


def token_secrets() -> dict[str, str]:
    """What a service started by a test is given for tokens and person keys (no private key)."""
    return {
        "PERSON_KEY_SECRET": PERSON_KEY_SECRET,
        "DEV_TOKEN_PUBLIC_KEY": DEV_TOKEN_PUBLIC_KEY,
        "ZHIJIA_MODE": "development",
    }


REALNAME_KEY = "stack-realname-provider-" + "r" * 24


@dataclass
class Stack:
    run_id: str
    topic_prefix: str
    bootstrap: str
    postgres_dsn: str
    services: dict[str, RunningService] = field(default_factory=dict)
    realname: ExitStack = field(default_factory=ExitStack)
    provider: FakeRealNameProvider | None = None

    @property
    def realname_env(self) -> dict[str, str]:
        assert self.provider is not None
        return {"REALNAME_PROVIDER_URL": self.provider.url, "REALNAME_PROVIDER_KEY": REALNAME_KEY}

    def token(
        self,
        role: Role,
        *,
        member_id: uuid.UUID | None = None,
        union_id: uuid.UUID | None = None,
        **claims: Any,
    ) -> str:
        """A dev token; `claims` may give sub, partner_id, counsel_id, bid, sid."""
        return dev_token(role, member_id=member_id, union_id=union_id, **claims)

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


@contextmanager
def running_stack(
    infra: dict[str, str],
    run_id: str,
    logs: Path,
    tag: str = "",
    settings: dict[str, dict[str, str]] | None = None,
) -> Iterator[Stack]:
    """Every service as a real process on topics and databases of this run; `tag` keeps a second
    stack of the same run (the contract suite's) apart from the first. Both are named under the
    run's prefixes, so the run's end removes them whatever happens here. `settings` adds to (or
    overrides) one service's environment, by service name."""
    os.environ["POSTGRES_DSN"] = infra["POSTGRES_DSN"]
    s = Stack(
        run_id=run_id,
        topic_prefix=f"t{run_id}.{tag}",
        bootstrap=infra["KAFKA_BOOTSTRAP_SERVERS"],
        postgres_dsn=infra["POSTGRES_DSN"],
    )
    # Identity's real-name provider: a fake on loopback that checks each request's signature.
    s.provider = s.realname.enter_context(running_fake_realname_provider(key=REALNAME_KEY))
    ports = {spec.name: free_port() for spec in stack.SERVICES}
    for spec in stack.SERVICES:
        port = ports[spec.name]
        database = f"zt_{run_id}_{tag}{spec.name}" if spec.database else None
        env = stack.service_env(
            spec,
            port=port,
            database=database,
            topic_prefix=s.topic_prefix,
            extra={
                "KAFKA_BOOTSTRAP_SERVERS": s.bootstrap,
                **token_secrets(),
                **stack.token_env(ports, spec.name),
                "PII_KEY": PII_KEY,
                "TOPIC_PARTITIONS": "3",
                "LOG_LEVEL": "INFO",
                # A partner registered by a test is read from within a second, not ten.
                "TOPIC_DISCOVERY_MS": "1000",
                # Partners purges expired till codes every second, not every minute.
                "TILL_PURGE_INTERVAL_SECONDS": "1",
                # Relief's programme timers (student-aid windows, disclosures) fire within a second.
                "TIMER_INTERVAL_SECONDS": "1",
                # Identity's development notifier writes one-time codes here (tests read them).
                "IDENTITY_DEV_CODES_FILE": str(logs / "codes.log"),
                # A new signing key signs 2 s after it is published (a rotation test waits for it).
                "IDENTITY_KEY_LEAD_SECONDS": "2",
                **stack.peers_of(spec.name, ports),
                **(s.realname_env if spec.name == "identity" else {}),
                **(settings or {}).get(spec.name, {}),
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
        asyncio.run(drop_databases(s))
        s.realname.close()


async def drop_databases(s: Stack) -> None:
    conn = await asyncpg.connect(stack.database_url(s.postgres_dsn, "postgres"))
    try:
        for svc in s.services.values():
            if svc.database is not None:
                await leftovers.drop_database(conn, svc.database)
    finally:
        await conn.close()
