"""An SMS gateway on loopback, for development and tests (real HTTP).

It takes messages the way SmsGatewayNotifier (services/identity/adapters) sends them
(docs/identity-adapters.md), refuses a request whose key id, signature, timestamp or nonce is wrong
(401), and keeps what it would have sent instead of sending it. Control endpoints (loopback,
unauthenticated: this is a development tool):

    GET  /_control/messages[?phone_number=...]   the messages kept, oldest first
    PUT  /_control/failure   {"mode": "none|unavailable|slow|garbage", "seconds": 10}
    PUT  /_control/refusal   {"code": "isv.BUSINESS_LIMIT_CONTROL"} (or null): answer with that code
    GET  /_control/stats     {"accepted": n, "refused": n}

Run it: `python -m scripts.fake_sms_gateway --port 8091 --key-id ID --secret SECRET` (prints its
URL; the key id and secret default to SMS_GATEWAY_KEY_ID and SMS_GATEWAY_SECRET). In tests:
`with running_fake_sms_gateway(key_id=..., secret=...) as gateway:`.
"""

import argparse
import os
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from scripts.fake_realname_provider import (
    Failure,
    FailureMode,
    SignatureCheck,
    json_body,
    serve_forever,
    serving_on_loopback,
)

SEND_PATH = "/v1/messages"
_MOBILE = re.compile("1[3-9][0-9]{9}")
_FIELDS = ("request_id", "phone_number", "sign_name", "template_id")


@dataclass(frozen=True)
class SmsMessage:
    request_id: str
    message_id: str
    phone_number: str
    sign_name: str
    template_id: str
    template_params: dict[str, str]


@dataclass
class FakeSmsGateway:
    """The handle a test holds: where the fake listens, what it kept, and its controls."""

    key_id: str
    secret: str
    base_url: str = ""
    failure: Failure = field(default_factory=Failure)
    refusal: str | None = None
    messages: list[SmsMessage] = field(default_factory=list)
    refused: int = 0  # requests refused for their authentication

    @property
    def url(self) -> str:
        """What SMS_GATEWAY_URL is set to."""
        return self.base_url + SEND_PATH

    def to(self, phone_number: str) -> list[SmsMessage]:
        return [m for m in self.messages if m.phone_number == phone_number]

    def last_code(self, phone_number: str) -> str | None:
        sent = self.to(phone_number)
        return sent[-1].template_params.get("code") if sent else None

    def fail(self, mode: FailureMode, seconds: float = 10.0) -> None:
        self.failure = Failure(mode=mode, seconds=seconds)

    def refuse(self, code: str | None = "isv.BUSINESS_LIMIT_CONTROL") -> None:
        """Answer 200 with this refusal code (None: accept again), like a carrier's rate limit."""
        self.refusal = code

    def recover(self) -> None:
        self.failure, self.refusal = Failure(), None


def _message(send: Any) -> SmsMessage | None:
    if not isinstance(send, dict) or not all(isinstance(send.get(f), str) for f in _FIELDS):
        return None
    params = send.get("template_params")
    if not isinstance(params, dict) or not all(isinstance(v, str) for v in params.values()):
        return None
    return SmsMessage(
        request_id=send["request_id"],
        message_id=uuid.uuid4().hex,
        phone_number=send["phone_number"],
        sign_name=send["sign_name"],
        template_id=send["template_id"],
        template_params=params,
    )


def build_app(fake: FakeSmsGateway) -> Starlette:
    check = SignatureCheck(fake.secret, key_id=fake.key_id)

    async def send(request: Request) -> Response:
        body = await request.body()
        problem = check.problem(request.headers.get("authorization", ""), "POST", SEND_PATH, body)
        if problem is not None:
            fake.refused += 1
            return JSONResponse({"error": problem}, status_code=401)
        failed = await fake.failure.response()
        if failed is not None:
            return failed
        message = _message(await json_body(request))
        if message is None:
            return JSONResponse({"error": "malformed message"}, status_code=400)
        answer = {"request_id": message.request_id}
        if fake.refusal is not None:
            return JSONResponse({**answer, "code": fake.refusal})
        if not _MOBILE.fullmatch(message.phone_number):
            return JSONResponse({**answer, "code": "isv.MOBILE_NUMBER_ILLEGAL"})
        if "code" not in message.template_params:
            return JSONResponse({**answer, "code": "isv.TEMPLATE_MISSING_PARAMETERS"})
        fake.messages.append(message)
        return JSONResponse({**answer, "code": "OK", "message_id": message.message_id})

    async def messages(request: Request) -> Response:
        phone = request.query_params.get("phone_number")
        kept = fake.messages if phone is None else fake.to(phone)
        return JSONResponse([asdict(m) for m in kept])

    async def set_failure(request: Request) -> Response:
        try:
            fake.failure = Failure.parse(await json_body(request))
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return Response(status_code=204)

    async def set_refusal(request: Request) -> Response:
        body = await json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("code"), str | None):
            return JSONResponse({"error": "code must be a string or null"}, status_code=400)
        fake.refuse(body.get("code"))
        return Response(status_code=204)

    async def stats(_request: Request) -> Response:
        return JSONResponse({"accepted": len(fake.messages), "refused": fake.refused})

    return Starlette(
        routes=[
            Route(SEND_PATH, send, methods=["POST"]),
            Route("/_control/messages", messages, methods=["GET"]),
            Route("/_control/failure", set_failure, methods=["PUT"]),
            Route("/_control/refusal", set_refusal, methods=["PUT"]),
            Route("/_control/stats", stats, methods=["GET"]),
        ]
    )


@contextmanager
def running_fake_sms_gateway(key_id: str, secret: str, port: int = 0) -> Iterator[FakeSmsGateway]:
    fake = FakeSmsGateway(key_id=key_id, secret=secret)
    with serving_on_loopback(build_app(fake), port) as base_url:
        fake.base_url = base_url
        yield fake


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--key-id", default=os.environ.get("SMS_GATEWAY_KEY_ID"))
    parser.add_argument("--secret", default=os.environ.get("SMS_GATEWAY_SECRET"))
    args = parser.parse_args()
    if not args.key_id or not args.secret:
        sys.exit("--key-id and --secret (or SMS_GATEWAY_KEY_ID and SMS_GATEWAY_SECRET) are required")
    fake = FakeSmsGateway(key_id=args.key_id, secret=args.secret)
    serve_forever(build_app(fake), args.port, "{base_url}" + SEND_PATH)


if __name__ == "__main__":
    main()
