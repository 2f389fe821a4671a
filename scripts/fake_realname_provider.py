"""A real-name verification provider on loopback, for development and tests (real HTTP).

It answers like a provider: `match` when the ID number's GB 11643 checksum is valid and the name
has 2-30 characters, unless that pair was registered as a mismatch; it checks every request's
HMAC signature (docs/identity-adapters.md) and refuses a wrong key, a stale timestamp or a replayed
nonce with 401. Control endpoints (loopback, unauthenticated: this is a development tool):

    POST /_control/mismatches  {"name": "...", "id_number": "..."}   that pair answers mismatch
    PUT  /_control/failure     {"mode": "none|unavailable|slow|garbage", "seconds": 10}
    GET  /_control/stats       {"verifications": n, "refused": n}

Run it: `python -m scripts.fake_realname_provider --port 8090 --key KEY` (prints its URL; the key
defaults to REALNAME_PROVIDER_KEY). In tests: `with running_fake_realname_provider(key=...) as p:`.
"""

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import re
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from services.enrollment.domain.national_id import check_char

VERIFY_PATH = "/v1/verifications"
CLOCK_SKEW_SECONDS = 300
FailureMode = Literal["none", "unavailable", "slow", "garbage"]
_FAILURE_MODES: tuple[str, ...] = get_args(FailureMode)
_AUTHORIZATION = re.compile(
    r"ZJ-HMAC-SHA256 (?:KeyId=(?P<key_id>[A-Za-z0-9._-]{1,64}), )?Timestamp=(?P<timestamp>[0-9]{1,12}), "
    r"Nonce=(?P<nonce>[0-9a-f]{16,64}), Signature=(?P<signature>[0-9a-f]{64})"
)
_ID_SHAPE = re.compile("[0-9]{17}[0-9X]")


def checksum_valid(id_number: str) -> bool:
    return bool(_ID_SHAPE.fullmatch(id_number)) and check_char(id_number[:17]) == id_number[17]


class SignatureCheck:
    """The provider's side of the signature, written from the documented format (not with the
    adapter's code, so that a mistake in the adapter shows). Nonces are kept for the clock window."""

    def __init__(self, secret: str, key_id: str | None = None) -> None:
        self._secret = secret.encode()
        self._key_id = key_id
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def problem(self, authorization: str, method: str, path: str, body: bytes) -> str | None:
        """None if the request is authentic, else why not."""
        found = _AUTHORIZATION.fullmatch(authorization)
        if found is None:
            return "missing or malformed Authorization"
        if found["key_id"] != self._key_id:
            return "unknown key id"
        timestamp, nonce = found["timestamp"], found["nonce"]
        if abs(time.time() - int(timestamp)) > CLOCK_SKEW_SECONDS:
            return "timestamp outside the allowed clock skew"
        message = "\n".join((method, path, timestamp, nonce, hashlib.sha256(body).hexdigest()))
        expected = hmac.new(self._secret, message.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, found["signature"]):
            return "bad signature"
        with self._lock:
            now = time.time()
            self._seen = {n: t for n, t in self._seen.items() if now - t < 2 * CLOCK_SKEW_SECONDS}
            if nonce in self._seen:
                return "replayed nonce"
            self._seen[nonce] = now
        return None


@dataclass
class Failure:
    """How a fake misbehaves on its main endpoint: answer 503, answer late, or answer garbage."""

    mode: FailureMode = "none"
    seconds: float = 10.0

    async def response(self) -> Response | None:
        """The failing answer, or None to answer normally (after a delay when slow)."""
        if self.mode == "unavailable":
            return JSONResponse({"error": "service unavailable"}, status_code=503)
        if self.mode == "garbage":
            return PlainTextResponse("<html>502 Bad Gateway</html>", status_code=200)
        if self.mode == "slow":
            await asyncio.sleep(self.seconds)
        return None

    @staticmethod
    def parse(body: Any) -> "Failure":
        if not isinstance(body, dict) or body.get("mode") not in _FAILURE_MODES:
            raise ValueError(f"mode must be one of {', '.join(_FAILURE_MODES)}")
        seconds = body.get("seconds", 10.0)
        if not isinstance(seconds, int | float) or not 0 <= seconds <= 600:
            raise ValueError("seconds must be a number from 0 to 600")
        return Failure(mode=body["mode"], seconds=float(seconds))


@dataclass
class FakeRealNameProvider:
    """The handle a test holds: where the fake listens and its controls (also reachable over HTTP)."""

    key: str
    base_url: str = ""
    failure: Failure = field(default_factory=Failure)
    mismatches: set[tuple[str, str]] = field(default_factory=set)
    verifications: int = 0  # authentic verification requests answered (or failed on purpose)
    refused: int = 0  # requests refused for their authentication

    @property
    def url(self) -> str:
        """What REALNAME_PROVIDER_URL is set to."""
        return self.base_url + VERIFY_PATH

    def register_mismatch(self, name: str, id_number: str) -> None:
        self.mismatches.add((name, id_number))

    def fail(self, mode: FailureMode, seconds: float = 10.0) -> None:
        self.failure = Failure(mode=mode, seconds=seconds)

    def recover(self) -> None:
        self.failure = Failure()

    def verdict(self, name: str, id_number: str) -> str:
        if (name, id_number) in self.mismatches or not 2 <= len(name) <= 30:
            return "mismatch"
        return "match" if checksum_valid(id_number) else "mismatch"


async def json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        return None


def build_app(fake: FakeRealNameProvider) -> Starlette:
    check = SignatureCheck(fake.key)

    async def verify(request: Request) -> Response:
        body = await request.body()
        problem = check.problem(request.headers.get("authorization", ""), "POST", VERIFY_PATH, body)
        if problem is not None:
            fake.refused += 1
            return JSONResponse({"error": problem}, status_code=401)
        fake.verifications += 1
        failed = await fake.failure.response()
        if failed is not None:
            return failed
        ask = await json_body(request)
        fields = ("request_id", "name", "id_number")
        if not isinstance(ask, dict) or not all(isinstance(ask.get(f), str) for f in fields):
            return JSONResponse({"error": "request_id, name and id_number are required"}, status_code=400)
        verdict = fake.verdict(ask["name"], ask["id_number"])
        return JSONResponse({"request_id": ask["request_id"], "result": verdict})

    async def add_mismatch(request: Request) -> Response:
        pair = await json_body(request)
        if not isinstance(pair, dict) or not all(isinstance(pair.get(f), str) for f in ("name", "id_number")):
            return JSONResponse({"error": "name and id_number are required"}, status_code=400)
        fake.register_mismatch(pair["name"], pair["id_number"])
        return Response(status_code=204)

    async def set_failure(request: Request) -> Response:
        try:
            fake.failure = Failure.parse(await json_body(request))
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return Response(status_code=204)

    async def stats(_request: Request) -> Response:
        return JSONResponse({"verifications": fake.verifications, "refused": fake.refused})

    return Starlette(
        routes=[
            Route(VERIFY_PATH, verify, methods=["POST"]),
            Route("/_control/mismatches", add_mismatch, methods=["POST"]),
            Route("/_control/failure", set_failure, methods=["PUT"]),
            Route("/_control/stats", stats, methods=["GET"]),
        ]
    )


def loopback_socket(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


def _server(app: Starlette) -> uvicorn.Server:
    # A slow answer must not hold a test's exit: in-flight requests get a second, then are cut.
    return uvicorn.Server(
        uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=1
        )
    )


@contextmanager
def serving_on_loopback(app: Starlette, port: int = 0) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 (a free port by default) in a thread; yields its base URL."""
    sock = loopback_socket(port)
    server = _server(app)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the loopback server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def serve_forever(app: Starlette, port: int, announce: str) -> None:
    """The command-line form: bind, print where, serve until interrupted."""
    sock = loopback_socket(port)
    print(announce.format(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}"), flush=True)
    _server(app).run(sockets=[sock])


@contextmanager
def running_fake_realname_provider(key: str, port: int = 0) -> Iterator[FakeRealNameProvider]:
    fake = FakeRealNameProvider(key=key)
    with serving_on_loopback(build_app(fake), port) as base_url:
        fake.base_url = base_url
        yield fake


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--key", default=os.environ.get("REALNAME_PROVIDER_KEY"), help="the shared HMAC key")
    args = parser.parse_args()
    if not args.key:
        sys.exit("--key or REALNAME_PROVIDER_KEY is required")
    serve_forever(build_app(FakeRealNameProvider(key=args.key)), args.port, "{base_url}" + VERIFY_PATH)


if __name__ == "__main__":
    main()
