"""The one input policy of every service: what text, numbers and sizes the kit lets in.

- Text (JSON strings and object keys, the URL's path and query, events): no NUL, no lone
  surrogate, no other C0/C1 control character but tab, newline and carriage return. PostgreSQL
  cannot store NUL, a lone surrogate cannot even be encoded in the answer: refused at the door
  instead of failing as a 500 deep inside.
- JSON numbers: finite (no NaN/Infinity, no 1e999), integers within signed 64 bits; nesting at
  most MAX_DEPTH deep.
- Bodies: at most DEFAULT_BODY_LIMIT bytes unless the route declares more (`max_body_size=`),
  413 past it, before reading when Content-Length says so, else as the chunks come.
- URL parameters: bounded types (`Limit`, `After`, `Day`); tests/unit/test_input_policy.py
  checks that every route of every service uses them.

A refusal is a 400 problem naming where (a JSON path or the URL part) and which rule, never the
value. `build_service` installs it all: `StrictRoute` for the routers, `UrlTextMiddleware`.
"""

import json
import math
import re
from collections.abc import Callable, Coroutine, Iterator, Sequence
from datetime import date
from typing import Annotated, Any, ClassVar
from urllib.parse import unquote_to_bytes

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BeforeValidator, Field
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# A JSON command is small; a route taking files declares its own (`max_body_size=`).
DEFAULT_BODY_LIMIT = 64 * 1024
MAX_DEPTH = 32
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# Dates a request may name: wide for any real record, far enough from date.min/date.max that
# a report's range arithmetic never overflows.
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2199, 12, 31)

# C0 controls but \t \n \r, DEL, C1 controls, and surrogates (in a str only a lone one remains).
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# The pre-screen of JSON bytes (events: pydantic parses them, and lets NUL, surrogates and huge
# integers by). Bytes without a raw control or C1 byte, an escape that can hide one (\u, and \b
# \f which JSON has for backspace and form feed) or 19 digits in a row need no walk: two
# translate() and a search, no regex over every byte (decoding stays within a few µs of before).
# NaN and 1e999 are left to the contracts: pydantic refuses them in an int or Decimal field, and
# no contract has a float.
_PLAIN = bytes(b for b in range(256) if b >= 0x20 and b not in (0x7F, 0xC2, ord("\\")))
_ZEROS = bytes.maketrans(b"123456789", b"000000000")
_HIDING = re.compile(rb"[\x00-\x1f\x7f]|\xc2[\x80-\x9f]|\\[ubf]")


def _suspect(raw: bytes) -> bool:
    # Left after deleting the plain bytes: controls, C1 lead bytes, backslashes (all rare).
    if raw.translate(None, _PLAIN) and _HIDING.search(raw):
        return True
    return b"0" * 19 in raw.translate(_ZEROS)


def bounded_loc(loc: Sequence[str | int]) -> list[str | int]:
    """A location fit for an answer: an object key is the caller's text, of any length."""
    return [part[:64] if isinstance(part, str) else part for part in list(loc)[:12]]


class InputRefused(HTTPException):
    """Input the policy refuses: 400, naming where and the rule (never the value).

    An HTTPException, not a DomainError: FastAPI passes HTTPExceptions raised while it reads the
    body through unchanged (any other error there becomes a bare 400)."""

    def __init__(self, loc: list[str | int], rule: str, kind: str) -> None:
        loc = bounded_loc(loc)
        where = ".".join(map(str, loc)) or "body"
        super().__init__(400, detail=f"{where}: {rule}")
        self.errors = [{"loc": loc, "msg": rule, "type": kind}]


def text_refusal(text: str) -> tuple[str, str] | None:
    """(rule, kind) when the text breaks the text rule, else None."""
    found = _FORBIDDEN.search(text)
    if found is None:
        return None
    code = ord(found.group())
    if code == 0:
        return "text may not contain a NUL character", "nul_character"
    if 0xD800 <= code <= 0xDFFF:
        return "text may not contain a lone surrogate", "lone_surrogate"
    return f"text may not contain the control character U+{code:04X}", "control_character"


def _check(value: Any, loc: list[str | int], depth: int = 0) -> None:
    # Walks what json.loads made; containers deeper than MAX_DEPTH are refused before recursing.
    if isinstance(value, dict | list):
        if depth >= MAX_DEPTH:
            raise InputRefused(loc, f"JSON may nest at most {MAX_DEPTH} levels", "too_deep")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str) and (refused := text_refusal(key)) is not None:
                raise InputRefused([*loc, "<key>"], *refused)
            _check(item, [*loc, key], depth + 1)
    elif (refused := _scalar_refusal(value)) is not None:
        raise InputRefused(loc, *refused)


def _scalar_refusal(value: Any) -> tuple[str, str] | None:
    if isinstance(value, str):
        return text_refusal(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
        return "integers must fit in signed 64 bits", "integer_out_of_range"
    if isinstance(value, float) and not math.isfinite(value):
        return "numbers must be finite (no NaN or Infinity)", "non_finite_number"
    return None


def strict_json(raw: bytes, loc: str = "body") -> Any:
    """The JSON value of `raw` (UTF-8 only) when it keeps the policy; InputRefused otherwise."""
    try:
        value = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputRefused([loc], "JSON must be UTF-8", "invalid_utf8") from exc
    except json.JSONDecodeError as exc:
        # exc.msg is the parser's rule ("Expecting value"), not the text.
        raise InputRefused([loc], f"invalid JSON: {exc.msg} at byte {exc.pos}", "json_invalid") from exc
    except RecursionError as exc:
        raise InputRefused([loc], f"JSON may nest at most {MAX_DEPTH} levels", "too_deep") from exc
    _check(value, [loc])
    return value


def json_refusal(raw: bytes, loc: str = "event") -> str | None:
    """Why JSON bytes break the policy ('where: rule'), or None; cheap for clean bytes. For
    events, which pydantic parses itself: its parser lets NUL, surrogates and huge ints by."""
    if not _suspect(raw):
        return None
    try:
        strict_json(raw, loc)
    except InputRefused as refused:
        # Bytes that are no JSON at all get the contract's own reason ("invalid envelope").
        return None if refused.errors[0]["type"] in ("json_invalid", "invalid_utf8") else str(refused.detail)
    return None


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, detail=f"the body may be at most {limit} bytes on this route")


def _capped(receive: Receive, limit: int, declared: int | None) -> Receive:
    """`receive` refusing (413) a body past `limit`: at once when Content-Length says so, else
    as the chunks arrive (chunked bodies have none)."""
    seen = 0

    async def capped() -> Message:
        nonlocal seen
        if declared is not None and declared > limit:
            raise BodyTooLarge(limit)
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
        return message

    return capped


class StrictRequest(Request):
    """A request whose JSON body is read by `strict_json`."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = strict_json(await self.body())
        return self._json


class StrictRoute(APIRoute):
    """The kit's route class (every service router: `APIRouter(route_class=StrictRoute)`;
    build_service refuses a route of another class): the strict JSON reader and a body limit,
    DEFAULT_BODY_LIMIT unless the route says `max_body_size=` (for files).

    Not FastAPI's own max_body_size: past a too large Content-Length, Starlette's limiter
    replaces whatever the app answers by a text/plain 413, never a problem."""

    # Whether the query is the route's to check (ForwardingRoute: the owning service's).
    forwards_query: ClassVar[bool] = False

    def __init__(
        self, path: str, endpoint: Callable[..., Any], *, max_body_size: int | None = None, **kw: Any
    ):
        # Before APIRoute's __init__, which builds the handler.
        self.body_limit = DEFAULT_BODY_LIMIT if max_body_size is None else max_body_size
        super().__init__(path, endpoint, **kw)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        limit = self.body_limit
        known = frozenset(_query_names(self.dependant))
        check_query = not self.forwards_query

        async def strict_handler(request: Request) -> Response:
            # As bodies forbid extra members: a misspelt filter must not silently widen an answer.
            if check_query and (unknown := [name for name in request.query_params if name not in known]):
                raise RequestValidationError([_unknown_query(name) for name in unknown[:20]])
            declared = request.headers.get("content-length")
            size = int(declared) if declared and declared.isdigit() else None
            return await handler(StrictRequest(request.scope, _capped(request.receive, limit, size)))

        return strict_handler


class ForwardingRoute(StrictRoute):
    """A route that hands its request on to another service (the web service's forwarder): the
    body limit and text rule hold, the query goes on as it came, to be checked by the service
    that declares its parameters."""

    forwards_query = True


def _unknown_query(name: str) -> dict[str, Any]:
    return {"loc": bounded_loc(("query", name)), "msg": "unknown query parameter", "type": "extra_forbidden"}


def _query_names(dependant: Dependant) -> Iterator[str]:
    yield from (param.alias for param in dependant.query_params)
    for sub in dependant.dependencies:
        yield from _query_names(sub)


class UrlTextMiddleware:
    """The text rule for the URL: the percent-decoded path and query must be UTF-8 and keep the
    rule, before any route sees them (Starlette would turn invalid UTF-8 into U+FFFD and hand
    %00 to the handler)."""

    def __init__(self, app: ASGIApp, refuse: Callable[[Scope, str, str], Response]) -> None:
        self.app = app
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
            for part, raw in (("path", raw_path), ("query", scope.get("query_string", b""))):
                if raw and (reason := _url_refusal(raw)) is not None:
                    await self.refuse(scope, part, reason)(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def _url_refusal(raw: bytes) -> str | None:
    if b"%" not in raw and raw.isascii() and not raw.translate(None, _PLAIN):
        return None  # the common case: plain ASCII, nothing escaped
    try:
        text = unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        return "must be UTF-8 once percent-decoded"
    refused = text_refusal(text)
    return None if refused is None else refused[0]


# Bounded URL parameters ---------------------------------------------------------------------------

# A page size.
Limit = Annotated[int, Field(ge=1, le=1000)]
# A position to continue after (a log id, an offset).
After = Annotated[int, Field(ge=0, le=INT64_MAX)]
_ISO_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def _iso_day(value: object) -> object:
    """A day is written YYYY-MM-DD: pydantic alone would read "0" or 1700000000 as a Unix time."""
    if isinstance(value, str) and not _ISO_DAY.fullmatch(value):
        raise ValueError("a day is written YYYY-MM-DD")
    if isinstance(value, int | float):
        raise ValueError("a day is written YYYY-MM-DD")
    return value


# A calendar day in the window every service accepts, written YYYY-MM-DD.
Day = Annotated[
    date,
    BeforeValidator(_iso_day),
    Field(
        ge=FIRST_DAY,
        le=LAST_DAY,
        json_schema_extra={"formatMinimum": FIRST_DAY.isoformat(), "formatMaximum": LAST_DAY.isoformat()},
    ),
]
