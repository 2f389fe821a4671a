"""HTTP pieces every service's API shares: correlation ids, request logs, health checks."""

import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from faststream.kafka import KafkaBroker
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth import Caller, CurrentPrincipal
from shared.logging import get_logger

log = get_logger(__name__)

CORRELATION_HEADER = "X-Correlation-ID"
_HEADER_KEY = CORRELATION_HEADER.lower().encode()
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")

ReadinessCheck = Callable[[], Awaitable[None]]
D = TypeVar("D")


def correlation_id_of(request: Request) -> str:
    return str(request.state.correlation_id)


async def _caller(request: Request, principal: CurrentPrincipal) -> Caller:
    # async: a plain def dependency would run on the thread pool, a hop per request.
    return Caller(
        principal=principal,
        correlation_id=correlation_id_of(request),
        credentials=request.headers.get("authorization", ""),
    )


# The authenticated caller of a route, with the request's correlation id.
CallerDep = Annotated[Caller, Depends(_caller)]


def deps_of(request: Request, kind: type[D]) -> D:
    """A service's handler dependencies (what its `start` returned)."""
    deps = request.app.state.deps
    assert isinstance(deps, kind), f"this service's start returns {type(deps).__name__}, not {kind.__name__}"
    return deps


async def _app_deps(request: Request) -> Any:
    return request.app.state.deps


# The same for a route's signature: `DepsDep = Annotated[Deps, AppDeps]`. FastAPI resolves it
# like any dependency, ~30 µs of CPU a request (measured); the hottest reads take the Request
# and call deps_of instead.
AppDeps = Depends(_app_deps)


class CorrelationMiddleware:
    """Correlation id and one log line per request, as a plain ASGI middleware.

    (Starlette's BaseHTTPMiddleware, which `@app.middleware("http")` makes, runs every request
    through extra tasks and memory streams: on the card reads it cost more CPU than the route.)
    The id is the request's `X-Correlation-ID` when short and plain, else a new uuid; it is in
    request.state, bound in the logs while the request runs, and sent back in the same header.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = ""
        for name, value in scope.get("headers") or ():
            if name == _HEADER_KEY:
                incoming = value.decode("latin-1")
                break
        # An untrusted header only becomes a correlation id when it is short and plain.
        correlation_id = incoming if _SAFE_ID.match(incoming) else str(uuid.uuid4())
        scope.setdefault("state", {})["correlation_id"] = correlation_id
        started = time.perf_counter()
        status: list[int] = []

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
                headers = MutableHeaders(scope=message)
                headers[CORRELATION_HEADER] = correlation_id
            await send(message)

        with structlog.contextvars.bound_contextvars(correlation_id=correlation_id):
            await self.app(scope, receive, send_with_id)
            path: str = scope.get("path", "")
            if status and not path.startswith("/health"):
                log.info(
                    "http_request",
                    method=scope.get("method"),
                    path=path,
                    status=status[0],
                    ms=round((time.perf_counter() - started) * 1000, 1),
                )


def install_common(app: FastAPI, service: str, readiness: dict[str, ReadinessCheck]) -> None:
    app.add_middleware(CorrelationMiddleware)

    @app.get("/health/alive", tags=["health"])
    async def alive() -> dict[str, str]:
        return {"status": "alive", "service": service}

    @app.get("/health/ready", tags=["health"])
    async def ready() -> JSONResponse:
        failures: dict[str, str] = {}
        for name, check in readiness.items():
            try:
                await check()
            except Exception as exc:
                failures[name] = repr(exc)
        if failures:
            return JSONResponse({"status": "not ready", "failures": failures}, status_code=503)
        return JSONResponse({"status": "ready", "checks": sorted(readiness)})


def standard_checks(
    app: FastAPI, *, broker: KafkaBroker | None = None, relay: bool = False, revocations: bool = False
) -> dict[str, ReadinessCheck]:
    """Readiness of what a service stands on: its database, its broker, its outbox relay, and
    the token revocations it must know before it accepts a token (shared/revocations.py)."""

    async def database() -> None:
        await app.state.pool.fetchval("SELECT 1")

    checks: dict[str, ReadinessCheck] = {"database": database}
    if broker is not None:

        async def kafka() -> None:
            if not await broker.ping(timeout=2.0):
                raise RuntimeError("kafka broker does not answer")

        checks["kafka"] = kafka
    if relay:

        async def outbox_relay() -> None:
            if not app.state.relay.running:
                raise RuntimeError("outbox relay is not running")

        checks["outbox_relay"] = outbox_relay
    if revocations:
        checks["token_revocations"] = _revocations_read(app)
    return checks


def _revocations_read(app: FastAPI) -> ReadinessCheck:
    """Ready once the revocations the identity topic held at start are read (a restarted
    service must not accept a token revoked while it was down)."""

    async def token_revocations() -> None:
        if not app.state.revocations.caught_up:
            raise RuntimeError("still reading the token revocations of identity's topic")

    return token_revocations
