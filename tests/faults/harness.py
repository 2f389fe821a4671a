"""The fault-injection harness: its own Kafka and PostgreSQL, supervised service processes,
a workload that remembers which commands were accepted, and the faults themselves.

Its infrastructure is separate from the one `make infra-up` runs (own cache, ports and data),
so restarting the broker or the database here disturbs nothing else on the machine.
"""

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from scripts import stack

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "deploy" / "infra.sh"


@dataclass(frozen=True)
class FaultInfra:
    """deploy/infra.sh pointed at a private cache and private ports."""

    base: Path
    # Below Linux's ephemeral range (32768-60999): while the broker or the server is down, the
    # many clients reconnecting to it must not be able to take its port as their own local port
    # (a TCP self-connect holds the port, and the restart fails with "Address already in use").
    kafka_port: int = 29092
    controller_port: int = 29093
    partner_port: int = 29094
    pg_port: int = 25432

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "ZHIJIA_CACHE": str(self.base / "cache"),
            "ZHIJIA_PG_DIR": str(self.base / "pg"),
            "KAFKA_PORT": str(self.kafka_port),
            "KAFKA_CONTROLLER_PORT": str(self.controller_port),
            "KAFKA_PARTNER_PORT": str(self.partner_port),
            "PG_PORT": str(self.pg_port),
        }

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def postgres_dsn(self) -> str:
        return f"postgresql://zhijia:zhijia@127.0.0.1:{self.pg_port}/postgres"

    def run(self, *args: str) -> str:
        done = subprocess.run(
            ["bash", str(INFRA), *args], env=self.env, capture_output=True, text=True, timeout=300
        )
        if done.returncode != 0:
            raise RuntimeError(f"infra.sh {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def up(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        self.base.chmod(0o755)  # the postgres OS user must reach its data directory below
        self.run("up")

    def restart_kafka(self) -> float:
        """SIGTERM the broker (a clean restart, as an operator would), then start it again."""
        started = time.monotonic()
        pid = int((self.base / "cache" / "kafka" / "kafka.pid").read_text())
        os.kill(pid, signal.SIGTERM)
        _wait_gone(pid, 60)
        self.run("up")
        return time.monotonic() - started

    def restart_postgres(self) -> float:
        """Fast shutdown (SIGINT to the postmaster: every connection is cut), then start again."""
        started = time.monotonic()
        pid = int((self.base / "pg" / "data" / "postmaster.pid").read_text().splitlines()[0])
        os.kill(pid, signal.SIGINT)
        _wait_gone(pid, 60)
        self.run("up")
        return time.monotonic() - started


def _wait_gone(pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    raise RuntimeError(f"process {pid} did not stop within {timeout}s")


@dataclass
class Replica:
    """One service process; the supervisor restarts it, without failpoints, when it dies."""

    spec: stack.ServiceSpec
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    deaths: list[int] = field(default_factory=list)  # exit codes of unplanned deaths
    restarts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, failpoints: str = "") -> None:
        env = {**self.env, "ZHIJIA_FAILPOINTS": failpoints}
        self.proc = stack.start(self.spec, env, self.log_path)

    def wait_ready(self, timeout: float = 90) -> None:
        stack.wait_ready(self.port, self.proc, self.log_path, timeout=timeout)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def terminate(self, timeout: float = 30) -> float:
        """SIGTERM and wait: the time it took to shut down gracefully."""
        assert self.proc is not None
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout)
        return time.monotonic() - started

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            stack.stop(self.proc.pid, proc=self.proc)


async def supervise(replicas: list[Replica], stop: asyncio.Event) -> None:
    """What systemd or Kubernetes would do: restart a service that died."""
    while not stop.is_set():
        for r in replicas:
            if r.proc is not None and r.proc.poll() is not None:
                r.deaths.append(r.proc.returncode)
                r.restarts += 1
                r.start()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=0.3)


_ASSIGNED = re.compile(r"assigned to partitions: \((.*)\)")


def assigned_partitions(log_path: Path) -> set[int]:
    """The partitions a consumer replica last said it was assigned (from its own log)."""
    if not log_path.exists():
        return set()
    latest: set[int] | None = None
    for line in log_path.read_text(errors="replace").splitlines():
        if match := _ASSIGNED.search(line):
            latest = {int(p) for p in re.findall(r"partition=(\d+)", match.group(1))}
    return latest or set()
