"""Every service's OpenAPI documents every status a route answers, with the kit's one error body.

The kit adds what any route can answer (400 malformed input, 401 when the route takes a token,
413 when it takes a body, 422 invalid request, 503 infrastructure away); a route declares its own
refusals with `responses=problems(403, 404, 409)`. Every 4xx/5xx is `application/problem+json`
with the Problem schema (shared/errors.py makes the bodies), FastAPI's HTTPValidationError is gone.
"""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from shared.errors import PROBLEM_JSON

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; an error may add members of its own (e.g. `allowed`).",
    "type": "object",
    "required": ["type", "title", "status", "detail", "code", "instance"],
    "properties": {
        "type": {"type": "string", "examples": ["urn:zhijia:problem:conflict"]},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "why, for a person; never the refused value"},
        "code": {"type": "string", "description": "what a client branches on"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "for invalid or malformed requests: where and which rule, never the value",
            "items": {
                "type": "object",
                "required": ["loc", "msg", "type"],
                "properties": {
                    "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}

_MEANINGS = {
    400: "malformed: not UTF-8 JSON, a forbidden character in text, a number out of range",
    401: "missing, expired or invalid token",
    403: "the caller may not do this",
    404: "no such record (or not visible to the caller)",
    409: "clashes with the current state",
    413: "the body is over this route's limit",
    422: "invalid request, or refused by a business rule",
    503: "temporarily unavailable, nothing was changed: retry (Retry-After)",
}


def _problem_response(status: int, description: str | None = None) -> dict[str, Any]:
    return {
        "description": description or _MEANINGS.get(status, "refused"),
        "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}},
    }


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """A route's own refusals for its `responses=`: `problems(403, 404, 409)`."""
    return {status: _problem_response(status) for status in statuses}


def _document(operation: dict[str, Any], health: bool) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    kit = [400] if health else [400, 422, 503]
    if "requestBody" in operation:
        kit.append(413)
    if operation.get("security"):
        kit.append(401)
    for status in kit:
        responses.setdefault(str(status), {})
    for code, response in responses.items():
        if code[0] in "45":
            # The kit's body for every refusal, whatever FastAPI put there.
            described = response.get("description")
            if described in ("Validation Error", "Additional Response"):
                described = None
            response.update(_problem_response(int(code), described))


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            schemas.pop("HTTPValidationError", None)
            schemas.pop("ValidationError", None)
            schemas["Problem"] = PROBLEM_SCHEMA
            for path, item in schema.get("paths", {}).items():
                for operation in item.values():
                    _document(operation, health=path.startswith("/health"))
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
