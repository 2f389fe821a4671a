"""The kit's input policy (shared/inputs.py): the strict JSON reader and the text rule as
properties, and every service's routes held to the bounded types, read from their OpenAPI."""

import importlib
import json
import math
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from shared.inputs import INT64_MAX, INT64_MIN, Day, InputRefused, json_refusal, strict_json, text_refusal
from shared.settings import HttpSettings, ServiceSettings

SERVICES = ["identity", "enrollment", "relief", "legal", "competitions", "partners", "projector", "web"]
SECRETS = {
    "database_url": "postgresql://nowhere/none",
    "person_key_secret": "s" * 32,
    "pii_key": "k" * 32,
    "identity_key_secret": "i" * 32,
}

# Characters the text rule refuses: C0 but tab/newline/CR, DEL, C1, lone surrogates.
FORBIDDEN = st.one_of(
    st.sampled_from(
        [chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)]]
    ),
    st.integers(0xD800, 0xDFFF).map(chr),
)
CLEAN_TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="") | st.sampled_from("\t\n\r"),
    max_size=30,
)
CLEAN_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(INT64_MIN, INT64_MAX)
    | st.floats(allow_nan=False, allow_infinity=False)
    | CLEAN_TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(CLEAN_TEXT, children, max_size=4),
    max_leaves=20,
)


def _encoded(value: Any) -> bytes:
    # ensure_ascii: a lone surrogate can only travel escaped, as in a hostile body.
    return json.dumps(value, ensure_ascii=True).encode()


@given(CLEAN_JSON)
def test_clean_json_round_trips_unchanged(value: Any) -> None:
    assert strict_json(_encoded(value)) == value
    assert strict_json(json.dumps(value, ensure_ascii=False).encode()) == value
    assert json_refusal(_encoded(value)) is None


@given(CLEAN_TEXT, FORBIDDEN, CLEAN_TEXT, st.booleans())
def test_any_text_with_a_forbidden_character_is_refused(
    before: str, bad: str, after: str, as_key: bool
) -> None:
    text = before + bad + after
    assert text_refusal(text) is not None
    body = {text: 1} if as_key else {"name": [text]}
    with pytest.raises(InputRefused) as refused:
        strict_json(_encoded(body))
    # Where and which rule, never the value.
    assert refused.value.errors[0]["loc"] == (["body", "<key>"] if as_key else ["body", "name", 0])
    assert text not in str(refused.value.detail)
    assert json_refusal(_encoded(body)) is not None


@given(st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-1e400"]))
def test_non_finite_numbers_are_refused(literal: str) -> None:
    with pytest.raises(InputRefused, match="finite"):
        strict_json(f'{{"amount": {literal}}}'.encode())
    # (Events leave non-finite numbers to the contracts' pydantic types: see shared.inputs._suspect.)


@given(st.integers(INT64_MAX + 1, 2**200) | st.integers(-(2**200), INT64_MIN - 1))
def test_integers_beyond_64_bits_are_refused(number: int) -> None:
    with pytest.raises(InputRefused, match="64 bits"):
        strict_json(f'{{"n": [{number}]}}'.encode())
    assert json_refusal(f'{{"n": [{number}]}}'.encode()) is not None


@given(st.integers(INT64_MIN, INT64_MAX))
def test_integers_within_64_bits_pass(number: int) -> None:
    assert strict_json(f'{{"n": {number}}}'.encode()) == {"n": number}


def test_deep_nesting_and_non_utf8_are_refused_with_a_reason() -> None:
    for raw, kind in [
        (b"[" * 33 + b"]" * 33, "too_deep"),
        (b"[" * 100_000 + b"]" * 100_000, "too_deep"),
        ('{"a": "é"}'.encode("latin-1"), "invalid_utf8"),
        ('{"a": "x"}'.encode("utf-16"), "invalid_utf8"),
        (b'{"a": ', "json_invalid"),
    ]:
        with pytest.raises(InputRefused) as refused:
            strict_json(raw)
        assert refused.value.errors[0]["type"] == kind
    assert strict_json(b"[" * 32 + b"]" * 32) is not None


# Every service's routes keep the policy ----------------------------------------------------------


def _app(service: str) -> FastAPI:
    module = importlib.import_module(f"services.{service}.app")
    settings_class = next(
        v
        for v in vars(module).values()
        if isinstance(v, type)
        and issubclass(v, HttpSettings)
        and v.__module__.startswith(f"services.{service}.")
    )
    required = {n for n, f in settings_class.model_fields.items() if f.is_required()}
    settings = settings_class.model_validate({n: SECRETS[n] for n in required})
    app: FastAPI = module.create_app(settings)
    return app


@pytest.fixture(scope="module")
def openapis() -> dict[str, dict[str, Any]]:
    return {service: _app(service).openapi() for service in SERVICES}


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    resolved: dict[str, Any] = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return resolved


def _leaves(
    schema: dict[str, Any], spec: dict[str, Any], where: str, seen: set[str]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every scalar schema an input can reach, with where it is."""
    ref = schema.get("$ref")
    if ref is not None:
        if ref in seen:
            return
        seen = {*seen, ref}
    schema = _resolve(schema, spec)
    options = [_resolve(o, spec) for key in ("anyOf", "oneOf", "allOf") for o in schema.get(key, [])]
    if {"number", "string"} <= {o.get("type") for o in options}:
        # A Decimal: a number or its text; bounded by the number's bounds (and its digits).
        options = [o for o in options if o.get("type") != "string"]
    for option in options:
        yield from _leaves(option, spec, where, seen)
    for name, prop in schema.get("properties", {}).items():
        yield from _leaves(prop, spec, f"{where}.{name}", seen)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from _leaves(schema[key], spec, f"{where}[]", seen)
    if schema.get("type") in ("integer", "number", "string"):
        yield where, schema


def _bounded(schema: dict[str, Any], low: float, high: float) -> bool:
    lowest = schema.get("minimum", schema.get("exclusiveMinimum"))
    highest = schema.get("maximum", schema.get("exclusiveMaximum"))
    return lowest is not None and highest is not None and low <= lowest and highest <= high


def _breaks_policy(schema: dict[str, Any]) -> str | None:
    kind, form = schema["type"], schema.get("format")
    if kind == "integer" and not _bounded(schema, INT64_MIN, INT64_MAX):
        return "an integer without bounds within int64"
    if kind == "number" and not _bounded(schema, -math.inf, math.inf):
        return "a number without finite bounds"
    if kind == "string" and form == "date" and not {"formatMinimum", "formatMaximum"} <= schema.keys():
        return "a date not of the bounded type shared.inputs.Day"
    free = (
        kind == "string"
        and form not in ("uuid", "date-time", "date")
        and not {"enum", "const"} & schema.keys()
    )
    if free and "maxLength" not in schema:
        return "a free string without maxLength"
    return None


def _inputs(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            route = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                where = f"{route} {parameter['in']} {parameter['name']}"
                yield from _leaves(parameter["schema"], spec, where, set())
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                yield from _leaves(body["schema"], spec, f"{route} body", set())


def test_every_input_of_every_route_is_bounded(openapis: dict[str, dict[str, Any]]) -> None:
    """So a new route cannot escape the policy: integers within int64, finite numbers, strings
    with a maxLength, dates in the calendar window."""
    broken = sorted(
        f"{service}: {where}: {reason}"
        for service, spec in openapis.items()
        for where, schema in _inputs(spec)
        if (reason := _breaks_policy(schema)) is not None
    )
    assert broken == []


def test_every_refusal_is_documented_as_a_problem(openapis: dict[str, dict[str, Any]]) -> None:
    """400/422/503 on every route, 413 where a body is taken, 401 where a token is: all with the
    kit's one error body, and no trace of FastAPI's HTTPValidationError."""
    for service, spec in openapis.items():
        assert "HTTPValidationError" not in spec["components"]["schemas"], service
        assert spec["components"]["schemas"]["Problem"]["required"][:3] == ["type", "title", "status"]
        for path, item in spec["paths"].items():
            for method, operation in item.items():
                responses = operation["responses"]
                route = f"{service} {method.upper()} {path}"
                expected = {"400"} if path.startswith("/health") else {"400", "422", "503"}
                if "requestBody" in operation:
                    expected.add("413")
                if operation.get("security"):
                    expected.add("401")
                assert expected <= responses.keys(), route
                for code, response in responses.items():
                    if code[0] in "45":
                        assert response["content"] == {
                            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                        }, route


def test_a_router_outside_the_kit_is_refused_at_build() -> None:
    from fastapi import APIRouter

    from shared.service import ServiceSpec, build_service

    loose = APIRouter()

    @loose.get("/loose")
    async def endpoint() -> None: ...

    settings = ServiceSettings.model_validate(
        {"database_url": "postgresql://nowhere/none", "person_key_secret": "s" * 32}
    )
    spec: ServiceSpec[None] = ServiceSpec("loose", "t", "d", routers=[loose], start=None)  # type: ignore[arg-type]
    with pytest.raises(AssertionError, match="StrictRoute"):
        build_service(settings, spec)


def test_the_partner_api_keeps_its_own_smaller_body_limit() -> None:
    from services.partners.api.routes import router
    from services.partners.domain.offers import MAX_BYTES
    from shared.inputs import DEFAULT_BODY_LIMIT, StrictRoute

    # By method too: GET /partner-api/v1/offers (the list) takes no body and keeps the default.
    limits = {
        (m, r.path): r.body_limit
        for r in router.routes
        if isinstance(r, StrictRoute)
        for m in r.methods or ()
    }
    assert limits.pop(("POST", "/partner-api/v1/offers")) == MAX_BYTES == 16_384
    assert set(limits.values()) == {DEFAULT_BODY_LIMIT}


async def test_an_unknown_query_parameter_is_refused_not_ignored() -> None:
    """As a body refuses extra members: `?statu=pending` must not silently widen an answer."""
    import httpx
    from fastapi import APIRouter, Depends

    from shared.errors import install_error_handlers
    from shared.inputs import Limit, StrictRoute

    def page(limit: Limit = 10) -> int:
        return limit

    router = APIRouter(route_class=StrictRoute)

    @router.get("/items")
    async def items(status: str | None = None, limit: int = Depends(page)) -> dict[str, Any]:
        return {"status": status, "limit": limit}

    app = FastAPI()
    install_error_handlers(app)
    app.include_router(router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        known = await client.get("/items", params={"status": "pending", "limit": 5})
        assert known.status_code == 200 and known.json() == {"status": "pending", "limit": 5}
        for query in ("statu=pending", "=true", "status=pending&extra=1"):
            refused = await client.get(f"/items?{query}")
            assert refused.status_code == 422, query
            assert refused.json()["errors"][0]["msg"] == "unknown query parameter"
            assert refused.headers["content-type"] == "application/problem+json"


def test_a_day_is_written_yyyy_mm_dd_not_as_a_unix_time() -> None:
    """pydantic alone reads "0" as 1970-01-01: schemathesis found `?to=0` answered 200."""
    days = TypeAdapter(Day)
    assert days.validate_python("2026-12-03") == date(2026, 12, 3)
    assert days.validate_python(date(2026, 12, 3)) == date(2026, 12, 3)
    for written in ("0", 0, 1_700_000_000, "2026-1-3", "2026-12-03T00:00:00", "1899-12-31"):
        with pytest.raises(ValidationError):
            days.validate_python(written)
