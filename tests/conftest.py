"""Real infrastructure for the tests: never an in-memory broker.

Kafka and PostgreSQL addresses come from KAFKA_BOOTSTRAP_SERVERS and POSTGRES_DSN when set;
otherwise from testcontainers when a Docker engine answers; otherwise from the project's own
`deploy/infra.sh up`, which starts a real broker and a real database on this machine.
"""

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

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
