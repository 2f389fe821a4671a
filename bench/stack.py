"""The services under test as separate processes, on the bench's own topics, databases and ports.

Like tests/integration/conftest.py: each run uses a topic prefix and database names of its own
(`zbench...`), and free ports, so it never collides with the tests or `make run`. Every service
process's resident memory (VmRSS) is sampled while it runs.
"""

import asyncio
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from bench import cpu
from scripts import stack
from scripts.leftovers import delete_topics, drop_database, prefix_matcher
from scripts.stack import free_port
from shared.auth import Role, dev_key_pair, sign_dev_token
from shared.contracts.identity import AccessClaims

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "bench" / "raw"  # logs, profiles: git-ignored
PERSON_KEY_SECRET = "bench-only-auth-secret-" + "b" * 24
# The bench's own dev issuer key pair: the services get the public half only.
DEV_TOKEN_PRIVATE_KEY, DEV_TOKEN_PUBLIC_KEY = dev_key_pair()
PII_KEY = "bench-only-pii-key-" + "p" * 28
SPECS = {s.name: s for s in stack.SERVICES}


def bench_token(role: Role, **claims: Any) -> str:
    """A dev token of the bench's issuer (15 minutes: mint again for longer runs)."""
    return sign_dev_token(DEV_TOKEN_PRIVATE_KEY, AccessClaims(role=role, **claims))


def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {bench_token(Role.ADMIN, sub='bench-admin')}"}


def rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time the process has used so far (0 when it is gone)."""
    if pid is None:
        return 0.0
    try:
        return cpu.process_times(Path(f"/proc/{pid}/stat").read_text())[1]
    except OSError:
        return 0.0


@dataclass
class Service:
    label: str  # e.g. "projector" or "projector#2"
    name: str  # the service package
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

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc and self.proc.poll() is None else None


@dataclass
class RssSampler:
    """Peak and last VmRSS of every service process, per phase of the run."""

    interval: float = 0.5
    peaks: dict[str, dict[str, float]] = field(default_factory=dict)  # phase -> label -> MB
    phase: str = "setup"
    _services: list[Service] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None

    def watch(self, service: Service) -> None:
        self._services.append(service)

    def sample(self) -> None:
        for svc in list(self._services):
            pid = svc.pid
            if pid is None:
                continue
            mb = rss_mb(pid)
            if mb is not None:
                phase = self.peaks.setdefault(self.phase, {})
                phase[svc.label] = max(phase.get(svc.label, 0.0), mb)

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


@dataclass
class BenchStack:
    run_id: str
    bootstrap: str
    postgres_dsn: str
    partitions: int
    rss: RssSampler = field(default_factory=RssSampler)
    services: list[Service] = field(default_factory=list)
    databases: set[str] = field(default_factory=set)
    prefixes: set[str] = field(default_factory=set)

    def prefix(self, part: str) -> str:
        p = f"zbench{self.run_id}.{part}."
        self.prefixes.add(p)
        return p

    def database(self, part: str) -> str:
        name = f"zbench_{self.run_id}_{part}"
        self.databases.add(name)
        return name

    def dsn(self, database: str) -> str:
        return stack.database_url(self.postgres_dsn, database)

    def service(
        self,
        name: str,
        *,
        prefix: str,
        database: str,
        label: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> Service:
        port = free_port()
        env = stack.service_env(
            SPECS[name],
            port=port,
            database=database,
            topic_prefix=prefix,
            extra={
                "POSTGRES_DSN": self.postgres_dsn,
                "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
                "PERSON_KEY_SECRET": PERSON_KEY_SECRET,
                "DEV_TOKEN_PUBLIC_KEY": DEV_TOKEN_PUBLIC_KEY,
                "PII_KEY": PII_KEY,
                "TOPIC_PARTITIONS": str(self.partitions),
                "LOG_LEVEL": "INFO",
                **(extra or {}),
            },
        )
        label = label or name
        svc = Service(label, name, port, database, env, RAW / "logs" / f"{label.replace('#', '-')}.log")
        self.services.append(svc)
        return svc

    async def start(self, *services: Service, profile: Path | None = None) -> None:
        """Start the services at once and wait until every one answers /health/ready."""
        for svc in services:
            svc.log_path.parent.mkdir(parents=True, exist_ok=True)
            with svc.log_path.open("ab") as log:
                svc.proc = subprocess.Popen(
                    [sys.executable, "-m", f"services.{svc.name}"],
                    cwd=ROOT,
                    env=svc.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            self.rss.watch(svc)
        await asyncio.gather(
            *(asyncio.to_thread(stack.wait_ready, s.port, s.proc, s.log_path, 120) for s in services)
        )

    async def stop(self, *services: Service) -> None:
        await asyncio.gather(*(asyncio.to_thread(self._stop_one, s) for s in services))

    @staticmethod
    def _stop_one(svc: Service) -> None:
        if svc.proc and svc.proc.poll() is None:
            stack.stop(svc.proc.pid, proc=svc.proc)

    async def close(self) -> None:
        """Stop every service, drop the bench's databases and delete its topics."""
        await self.stop(*self.services)
        await self.rss.stop()
        conn = await asyncpg.connect(self.dsn("postgres"))
        try:
            for name in sorted(self.databases):
                await drop_database(conn, name)
        finally:
            await conn.close()
        await delete_topics(self.bootstrap, prefix_matcher(*self.prefixes))


def py_spy() -> str | None:
    found = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    return found


def profile(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes] | None:
    """Sample a running process with py-spy for `seconds` (collapsed stacks into out); None if
    py-spy is missing or may not attach."""
    exe = py_spy()
    if exe is None:
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [
            exe,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(max(1, int(seconds))),
            "--rate",
            "200",
            "--format",
            "raw",
            "--output",
            str(out),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def top_frames(collapsed: Path, n: int = 12) -> list[tuple[str, float, float]]:
    """From py-spy's collapsed stacks: the frames with most own samples, then the project's own
    frames with most samples under them, as (frame, own %, total %)."""
    if not collapsed.exists():
        return []
    own: dict[str, int] = {}
    total: dict[str, int] = {}
    samples = 0
    for line in collapsed.read_text(errors="replace").splitlines():
        stack_part, _, count_part = line.rpartition(" ")
        if not count_part.isdigit():
            continue
        count = int(count_part)
        frames = [f for f in stack_part.split(";") if f]
        if not frames:
            continue
        samples += count
        own[frames[-1]] = own.get(frames[-1], 0) + count
        for f in set(frames):
            total[f] = total.get(f, 0) + count
    if not samples:
        return []
    ranked = sorted(own, key=lambda f: -own[f])[:n]
    # and the project's own functions (services/, shared/) that most time is spent under
    ours = [
        f
        for f in total
        if ("services/" in f or "shared/" in f) and f not in ranked and total[f] < 0.75 * samples
    ]
    ranked += sorted(ours, key=lambda f: -total[f])[: n // 2]
    return [(f, 100 * own[f] / samples if f in own else 0.0, 100 * total[f] / samples) for f in ranked]


def wall() -> float:
    return time.monotonic()
