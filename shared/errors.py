"""One way to refuse, for every service: errors a command can end in, each with its HTTP status
and a machine-readable code, answered as RFC 9457 problem details
(`application/problem+json`: type, title, status, detail, code, instance, and what the error
adds). FastAPI's own refusals (validation, unknown route, wrong method, 401) take the same shape.
"""

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import Scope

from shared.db import TRANSIENT_ERRORS
from shared.inputs import InputRefused, bounded_loc
from shared.logging import get_logger

log = get_logger(__name__)

PROBLEM_JSON = "application/problem+json"
# The members every problem has; what an error adds may not take these names.
_RESERVED = frozenset({"type", "title", "status", "detail", "code", "instance"})


class DomainError(Exception):
    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(self, reason: str, **context: Any) -> None:
        # What the error adds under a reserved name would be lost (the problem's own members
        # win, see `problem`); tests/unit/test_service_kit.py keeps the services from doing it.
        super().__init__(reason)
        self.reason = reason
        self.context = context


class InvalidInput(DomainError):
    status_code = 422
    code = "invalid_input"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    """The request clashes with the current state (an illegal transition, a duplicate)."""

    status_code = 409
    code = "conflict"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


# Codes of the refusals that do not come from a DomainError, by status.
_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
    503: "temporarily_unavailable",
}


def problem(
    request: Request,
    status: int,
    detail: str,
    *,
    code: str | None = None,
    headers: dict[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
    instance: str | None = None,
) -> JSONResponse:
    code = code or _CODES.get(status, "error")
    body = {
        **{k: v for k, v in (extra or {}).items() if k not in _RESERVED},
        "type": f"urn:zhijia:problem:{code}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": request.url.path if instance is None else instance,
    }
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


# An answer to a huge invalid body stays small: so many errors, each message so long.
MAX_ERRORS, MAX_MSG = 20, 200


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # loc, msg and type only: the rejected input is the caller's own and may be personal data.
    return [
        {"loc": bounded_loc(e.get("loc", ())), "msg": _msg_without_input(e), "type": str(e.get("type", ""))}
        for e in exc.errors()[:MAX_ERRORS]
    ]


def _msg_without_input(error: Mapping[str, Any]) -> str:
    # A validator's message may quote what it refused ("invalid ID 3301..."): never send it back.
    msg = str(error.get("msg", ""))
    value = error.get("input")
    if isinstance(value, str | int) and not isinstance(value, bool) and len(str(value)) >= 4:
        msg = msg.replace(str(value), "<input>")
    return msg[:MAX_MSG]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        return problem(request, exc.status_code, exc.reason, code=exc.code, extra=exc.context)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_errors(exc)
        summary = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:5])
        return problem(
            request, 422, summary or "invalid request", code="invalid_request", extra={"errors": errors}
        )

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        extra: dict[str, Any] = {}
        if isinstance(exc, InputRefused):
            extra["errors"] = exc.errors
        code = "malformed_request" if isinstance(exc, InputRefused) else None
        return problem(
            request, exc.status_code, detail, code=code, headers=dict(exc.headers or {}), extra=extra
        )

    async def temporarily_unavailable(request: Request, exc: Exception) -> JSONResponse:
        # Nothing was committed: the caller may safely retry (commands answer a retry idempotently).
        log.warning("request_failed_infrastructure_unavailable", error=repr(exc))
        return problem(
            request, 503, "temporarily unavailable, nothing was changed: retry shortly",
            headers={"Retry-After": "1"},
        )  # fmt: skip

    for transient in TRANSIENT_ERRORS:
        app.add_exception_handler(transient, temporarily_unavailable)


def refused_url(scope: Scope, part: str, rule: str) -> JSONResponse:
    """The answer of UrlTextMiddleware (shared/inputs.py): 400 naming the part and the rule."""
    request = Request(scope)
    # A refused path is shown as it came, percent-encoded: never decoded into the answer.
    instance = (scope.get("raw_path") or b"").decode("latin-1") if part == "path" else None
    return problem(
        request, 400, f"{part}: {rule}", code="malformed_request", instance=instance,
        extra={"errors": [{"loc": [part], "msg": rule, "type": "invalid_text"}]},
    )  # fmt: skip
