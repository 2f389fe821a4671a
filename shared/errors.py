"""Errors a command can end in, each with the HTTP status it maps to and a reason for the caller."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from shared.db import TRANSIENT_ERRORS
from shared.logging import get_logger

log = get_logger(__name__)


class DomainError(Exception):
    status_code = 400

    def __init__(self, reason: str, **context: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.context = context


class InvalidInput(DomainError):
    status_code = 422


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    """The request clashes with the current state (an illegal transition, a duplicate)."""

    status_code = 409


class Forbidden(DomainError):
    status_code = 403


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse({"detail": exc.reason, **exc.context}, status_code=exc.status_code)

    for transient in TRANSIENT_ERRORS:
        # Nothing was committed: the caller may safely retry (commands answer a retry idempotently).
        app.add_exception_handler(transient, _temporarily_unavailable)


async def _temporarily_unavailable(_: Request, exc: Exception) -> JSONResponse:
    log.warning("request_failed_infrastructure_unavailable", error=repr(exc))
    return JSONResponse(
        {"detail": "temporarily unavailable, nothing was changed: retry shortly"},
        status_code=503,
        headers={"Retry-After": "1"},
    )
