"""Start and stop the services as separate local processes: `python -m scripts.stack up|down|status`.

Infrastructure addresses come from the environment (KAFKA_BOOTSTRAP_SERVERS, POSTGRES_DSN), as
`deploy/infra.sh env` prints them. Development secrets are generated once into .run/secrets.env
(git-ignored): PERSON_KEY_SECRET, PII_KEY and the development token key pair; the same names in
the environment take precedence. Services get the dev key's public half only (`service_env`);
its private half signs `make token`'s tokens and nothing else.
"""

import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from shared.auth import dev_key_pair

ROOT = Path(__file__).resolve().parent.parent
RUN_DIR = ROOT / ".run"


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    port: int
    database: str | None  # None: the service has no database (web)


SERVICES = [
    ServiceSpec("identity", 8007, "zhijia_identity"),
    ServiceSpec("enrollment", 8001, "zhijia_enrollment"),
    ServiceSpec("projector", 8002, "zhijia_projector"),
    ServiceSpec("relief", 8003, "zhijia_relief"),
    ServiceSpec("legal", 8004, "zhijia_legal"),
    ServiceSpec("competitions", 8005, "zhijia_competitions"),
    ServiceSpec("partners", 8006, "zhijia_partners"),
    # Figures for the cadres' reports, from every service's events (docs/reports.md).
    ServiceSpec("reports", 8008, "zhijia_reports"),
    # Pages and a forwarder to the others: no database, no Kafka (docs/member-app.md).
    ServiceSpec("web", 8000, None),
]


# Enrollment gathers a person's export from these services (EnrollmentSettings.export_sources).
EXPORT_SOURCES = ("relief", "legal", "competitions")


def peer_urls(ports: dict[str, int]) -> dict[str, str]:
    """Where enrollment finds the services of a person's export, given each service's port."""
    return {f"{name.upper()}_URL": f"http://127.0.0.1:{ports[name]}" for name in EXPORT_SOURCES}


def peers_of(name: str, ports: dict[str, int]) -> dict[str, str]:
    """The other services' addresses a service is given (enrollment's export, identity's links)."""
    if name == "enrollment":
        return peer_urls(ports)
    if name == "identity":
        return {"ENROLLMENT_URL": f"http://127.0.0.1:{ports['enrollment']}"}
    if name == "partners":  # a member's code lists the offers the card (projector) shows them
        return {"CARDS_URL": f"http://127.0.0.1:{ports['projector']}"}
    if name == "web":  # it forwards the pages' calls to every service
        return {f"{WEB_PEERS[peer]}_URL": f"http://127.0.0.1:{ports[peer]}" for peer in WEB_PEERS}
    return {}


# The services the web service forwards to, and the name of each one's URL setting.
WEB_PEERS = {
    "identity": "IDENTITY",
    "enrollment": "ENROLLMENT",
    "projector": "CARDS",
    "partners": "PARTNERS",
    "relief": "RELIEF",
    "legal": "LEGAL",
    "competitions": "COMPETITIONS",
    "reports": "REPORTS",
}


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now (for services started on the side).

    Picked below the kernel's ephemeral range: a port there (what bind(0) hands out) can be taken,
    between this pick and the service's own bind, as the local end of any outgoing connection of
    the stack's hundreds (a contract run lost a service to EADDRINUSE that way)."""
    low = max(_ephemeral_low(), 10_001)
    for _ in range(500):
        port = random.randrange(10_000, low)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port found between 10000 and {low}")


DEV_SECRETS = (
    "PERSON_KEY_SECRET",
    "PII_KEY",
    "IDENTITY_KEY_SECRET",
    "REALNAME_PROVIDER_KEY",
    "DEV_TOKEN_PRIVATE_KEY",
    "DEV_TOKEN_PUBLIC_KEY",
)
# What no service process is given: only `make token` (and tests) sign with it.
PRIVATE_SECRETS = ("DEV_TOKEN_PRIVATE_KEY",)
# A secret only its own service is given: identity's wraps its signing keys.
OWN_SECRETS = {"IDENTITY_KEY_SECRET": "identity", "REALNAME_PROVIDER_KEY": "identity"}


# Services that hold no secret at all (the web service only forwards the caller's own).
SECRETLESS = ("web",)


def withheld_from(service: str | None) -> set[str]:
    """The secrets a service's process must not hold."""
    if service in SECRETLESS:
        return set(DEV_SECRETS)
    return {*PRIVATE_SECRETS, *(k for k, owner in OWN_SECRETS.items() if owner != service)}


def dev_secrets() -> dict[str, str]:
    """The development secrets: from the environment, else from .run/secrets.env (made once,
    completed when a name is missing). An older file's AUTH_SECRET is carried over as
    PERSON_KEY_SECRET: it wrapped the person keys, so existing dev data still opens."""
    path = RUN_DIR / "secrets.env"
    stored: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            key, _, value = line.partition("=")
            if key:
                stored[key] = value
    wanted = dict(stored)
    if "PERSON_KEY_SECRET" not in wanted:
        wanted["PERSON_KEY_SECRET"] = wanted.pop("AUTH_SECRET", "") or secrets.token_urlsafe(48)
    wanted.setdefault("PII_KEY", secrets.token_urlsafe(48))
    wanted.setdefault("IDENTITY_KEY_SECRET", secrets.token_urlsafe(48))
    wanted.setdefault("REALNAME_PROVIDER_KEY", secrets.token_urlsafe(48))
    if "DEV_TOKEN_PRIVATE_KEY" not in wanted or "DEV_TOKEN_PUBLIC_KEY" not in wanted:
        wanted["DEV_TOKEN_PRIVATE_KEY"], wanted["DEV_TOKEN_PUBLIC_KEY"] = dev_key_pair()
    if wanted != stored:
        RUN_DIR.mkdir(exist_ok=True)
        path.touch(mode=0o600)
        path.write_text("".join(f"{k}={v}\n" for k, v in wanted.items()))
        path.chmod(0o600)
    return {k: os.environ.get(k) or wanted[k] for k in DEV_SECRETS}


def service_secrets(service: str | None = None) -> dict[str, str]:
    """The development secrets a service (or a tool run like one) is given: no private key, and
    no other service's own secret."""
    withheld = withheld_from(service)
    return {k: v for k, v in dev_secrets().items() if k not in withheld}


def token_env(ports: dict[str, int], service: str | None = None) -> dict[str, str]:
    """Where a service finds identity's public keys (identity itself reads its own table)."""
    if "identity" not in ports or service == "identity":
        return {}
    return {"IDENTITY_JWKS_URL": f"http://127.0.0.1:{ports['identity']}/.well-known/jwks.json"}


def database_url(postgres_dsn: str, database: str) -> str:
    return urlunsplit(urlsplit(postgres_dsn)._replace(path=f"/{database}"))


def service_env(
    spec: ServiceSpec,
    *,
    port: int | None = None,
    database: str | None = None,
    topic_prefix: str = "",
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    postgres = os.environ.get("POSTGRES_DSN")
    if not postgres:
        raise SystemExit('POSTGRES_DSN is not set: run `eval "$(deploy/infra.sh env)"` first')
    withheld = withheld_from(spec.name)
    own_database = database or spec.database
    env = {
        **{k: v for k, v in os.environ.items() if k not in withheld},
        **service_secrets(spec.name),
        **({"DATABASE_URL": database_url(postgres, own_database)} if own_database else {}),
        "HTTP_PORT": str(port or spec.port),
        "TOPIC_PREFIX": topic_prefix,
        "PYTHONUNBUFFERED": "1",
    }
    env.setdefault("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    env.update({k: v for k, v in (extra or {}).items() if k not in withheld})
    return env


def start(spec: ServiceSpec, env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        return subprocess.Popen(  # noqa: S603 (our own module, fixed argv)
            [sys.executable, "-m", f"services.{spec.name}"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def wait_ready(port: int, proc: subprocess.Popen[bytes] | None, log_path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{port}/health/ready"
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"service on port {port} exited ({proc.returncode}); log:\n{tail(log_path)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"service on port {port} not ready after {timeout:.0f}s; log:\n{tail(log_path)}")


def tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def stop(pid: int, timeout: float = 15, proc: subprocess.Popen[bytes] | None = None) -> None:
    """SIGTERM the service's process group, SIGKILL it if it has not exited within timeout.

    Pass proc when the service is our own child: waiting on it reaps it, where probing the pid
    would keep seeing the zombie until the deadline."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    if proc is not None:
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(pid, signal.SIGKILL)
            proc.wait()
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.killpg(pid, signal.SIGKILL)


def _pid_file(spec: ServiceSpec) -> Path:
    return RUN_DIR / f"{spec.name}.pid"


def _running_pid(spec: ServiceSpec) -> int | None:
    path = _pid_file(spec)
    if not path.exists():
        return None
    pid = int(path.read_text())
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    return pid


# Development only: identity checks real names with a fake provider on loopback, unless
# REALNAME_PROVIDER_URL names a real one (docs/identity-adapters.md).
DEV_PROVIDER = ServiceSpec("fake-realname-provider", 8097, None)


def start_dev_provider() -> dict[str, str]:
    """The fake real-name provider (started once), and the settings identity needs for it."""
    if os.environ.get("REALNAME_PROVIDER_URL"):
        return {}
    key = dev_secrets()["REALNAME_PROVIDER_KEY"]
    if not _running_pid(DEV_PROVIDER):
        log_path = RUN_DIR / "logs" / f"{DEV_PROVIDER.name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "scripts.fake_realname_provider", "--port", str(DEV_PROVIDER.port)]
        with log_path.open("ab") as log:
            proc = subprocess.Popen(  # noqa: S603 (our own module, fixed argv)
                argv, cwd=ROOT, env={**os.environ, "REALNAME_PROVIDER_KEY": key},
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        _pid_file(DEV_PROVIDER).write_text(str(proc.pid))
        _wait_listening(DEV_PROVIDER.port, proc, log_path)
        print(f"{DEV_PROVIDER.name}: up on http://127.0.0.1:{DEV_PROVIDER.port} (development only)")
    url = f"http://127.0.0.1:{DEV_PROVIDER.port}/v1/verifications"
    return {"REALNAME_PROVIDER_URL": url, "REALNAME_PROVIDER_KEY": key}


def _wait_listening(port: int, proc: subprocess.Popen[bytes], log_path: Path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"port {port}: the process exited; log:\n{tail(log_path)}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {timeout:.0f}s; log:\n{tail(log_path)}")


def up() -> None:
    ports = {s.name: s.port for s in SERVICES}
    provider = start_dev_provider()
    for spec in SERVICES:
        log_path = RUN_DIR / "logs" / f"{spec.name}.log"
        if _running_pid(spec):
            print(f"{spec.name}: already running on :{spec.port}")
            continue
        peers = peers_of(spec.name, ports) | (provider if spec.name == "identity" else {})
        proc = start(spec, service_env(spec, extra={**token_env(ports, spec.name), **peers}), log_path)
        _pid_file(spec).write_text(str(proc.pid))
        wait_ready(spec.port, proc, log_path)
        print(
            f"{spec.name}: up on http://127.0.0.1:{spec.port} (docs /docs, log {log_path.relative_to(ROOT)})"
        )


def down() -> None:
    for spec in [*reversed(SERVICES), DEV_PROVIDER]:
        pid = _running_pid(spec)
        if pid:
            stop(pid)
            print(f"{spec.name}: stopped")
        _pid_file(spec).unlink(missing_ok=True)


def status() -> None:
    for spec in SERVICES:
        pid = _running_pid(spec)
        print(f"{spec.name}: {'up (pid ' + str(pid) + ')' if pid else 'down'} :{spec.port}")


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "status"
    {"up": up, "down": down, "status": status}.get(command, status)()
