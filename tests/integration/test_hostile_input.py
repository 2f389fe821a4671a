"""The kit's input policy (shared/inputs.py) on real services: odd text and numbers, calendar
edges, oversized bodies and personal data in refusals never give a 5xx, never store a row and
never come back in the answer."""

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from shared.auth import Role
from shared.errors import PROBLEM_JSON
from tests.integration.conftest import Stack
from tests.integration.test_enrollment_to_card import Api

pytestmark = pytest.mark.integration

# The tables a refused write could have touched, by service. Every event emitted bumps
# event_versions (the outbox itself is emptied by the relay as it publishes).
TABLES = {
    "enrollment": ["unions", "persons", "applications", "members", "audit_trail"],
    "relief": ["cases", "case_reports", "visits", "audit_trail"],
    "legal": ["audit_trail"],
    "partners": ["partners", "partner_keys", "merchants"],
}


@pytest.fixture
async def api(stack_env: Stack, http: httpx.AsyncClient) -> Api:
    return Api(stack_env, http)


@pytest.fixture
async def rows(stack_env: Stack) -> AsyncIterator[Any]:
    """Counts every table a refused request could write, per service, to compare after."""
    conns = {name: await asyncpg.connect(stack_env.services[name].dsn) for name in TABLES}

    async def count() -> dict[str, int]:
        return {
            f"{name}.{table}": await conns[name].fetchval(f"SELECT count(*) FROM {table}")
            for name, tables in TABLES.items()
            for table in tables
        }

    yield count
    for conn in conns.values():
        await conn.close()


def _refusal(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = r.json()
    assert body["status"] == status
    return body


def _json(body: bytes) -> dict[str, str]:
    return {"content-type": "application/json", "content-length": str(len(body))}


def _with(body: dict[str, Any], field: str, text: str) -> bytes:
    """The body with `text` (JSON-escaped already, e.g. a lone surrogate) in `field`."""
    return json.dumps({**body, field: "§"}, ensure_ascii=False).replace('"§"', f'"{text}"').encode()


async def test_nul_in_any_text_is_refused_with_400_and_nothing_stored(api: Api, rows: Any) -> None:
    units = await api.tree()
    relief = api.s.services["relief"].url
    cadre = api.cadre(units["logistics"])
    before = await rows()
    application = {"name": "张三", "national_id": "11010519491231002X", "phone": "13800138000",
                   "employment_type": "full_time", "base_union_id": str(units["logistics"])}  # fmt: skip
    case = {"household_size": 3, "monthly_income_fen": 1, "causes": ["illness"]}
    for text in ("a\\u0000b", "\\ud800", "a\\u0007b", "\\u009b", "\\udfff\\ud800", "a\u0085b"):
        for field in ("name", "employer"):
            raw = _with(application, field, text)
            r = await api.http.post(
                f"{api.enrollment}/applications", content=raw, headers={**api.admin, **_json(raw)}
            )
            body = _refusal(r, 400)
            assert body["errors"][0]["loc"] == ["body", field], body
            assert text not in r.text
        # An object key, and a union's name.
        for raw in (_with({"name": "x", "kind": "base"}, "k", text).replace(b'"k"', f'"{text}"'.encode()),
                    _with({"kind": "city", "region": "330100"}, "name", text)):  # fmt: skip
            _refusal(
                await api.http.post(
                    f"{api.enrollment}/unions", content=raw, headers={**api.admin, **_json(raw)}
                ),
                400,
            )
        # Another service, through a cadre's command.
        raw = _with(case, "note", text)
        r = await api.http.post(f"{relief}/cases", content=raw, headers={**cadre, **_json(raw)})
        assert _refusal(r, 400)["errors"][0]["loc"] == ["body", "note"]
    # The same rule on the URL: %00, a C0 control, invalid UTF-8, an encoded surrogate.
    for query in ("%00", "a%01b", "%ff", "%ed%a0%80"):
        r = await api.http.get(f"{relief}/cases?union_id={query}", headers=api.admin)
        _refusal(r, 400)
        r = await api.http.get(f"{api.s.services['partners'].url}/partners/{query}", headers=api.admin)
        _refusal(r, 400)
    assert await rows() == before


async def test_nan_literal_is_refused_not_500(api: Api, rows: Any) -> None:
    units = await api.tree()
    relief = api.s.services["relief"].url
    cadre = api.cadre(units["logistics"])
    before = await rows()
    for literal in ("NaN", "Infinity", "-Infinity", "1e999", str(2**64), str(-(2**63) - 1)):
        raw = f'{{"household_size": 3, "monthly_income_fen": {literal}, "causes": ["illness"]}}'
        r = await api.http.post(f"{relief}/cases", content=raw, headers={**cadre, **_json(raw.encode())})
        body = _refusal(r, 400)
        assert body["errors"][0]["loc"] == ["body", "monthly_income_fen"]
        raw = f'{{"name": "x", "kind": "city", "region": "330100", "extra": [{literal}]}}'
        r = await api.http.post(
            f"{api.enrollment}/unions", content=raw, headers={**api.admin, **_json(raw.encode())}
        )
        _refusal(r, 400)
    assert await rows() == before


async def test_huge_integer_in_query_is_refused(api: Api, rows: Any) -> None:
    relief, partners = api.s.services["relief"].url, api.s.services["partners"].url
    union = uuid.uuid4()
    before = await rows()
    for number in (str(2**64), str(2**63), "-1", "99999999999999999999999999999"):
        r = await api.http.get(
            f"{relief}/cases", params={"union_id": str(union), "limit": number}, headers=api.admin
        )
        assert _refusal(r, 422)["errors"][0]["loc"] == ["query", "limit"]
        r = await api.http.get(
            f"{partners}/partners/p1/rejections", params={"after": number}, headers=api.admin
        )
        assert _refusal(r, 422)["errors"][0]["loc"] == ["query", "after"]
        r = await api.http.put(
            f"{relief}/budgets/{union}/{number}/medical", json={"total_fen": 1}, headers=api.admin
        )
        assert ["path", "year"] in [e["loc"] for e in _refusal(r, 422)["errors"]]
    assert await rows() == before


async def test_calendar_edge_dates_are_refused(api: Api, rows: Any) -> None:
    legal, relief = api.s.services["legal"].url, api.s.services["relief"].url
    competitions = api.s.services["competitions"].url
    union = uuid.uuid4()
    before = await rows()
    for start, end in (
        ("0001-01-01", "9999-12-31"),
        ("2020-01-01", "9999-12-31"),
        ("0001-01-01", "2020-01-01"),
    ):
        r = await api.http.get(
            f"{legal}/reports/summary",
            params={"union_id": str(union), "start": start, "end": end},
            headers=api.admin,
        )
        _refusal(r, 422)
    for day in ("9999-12-31", "0001-01-01", "1899-12-31", "2200-01-01"):
        r = await api.http.get(
            f"{relief}/reviews/due", params={"union_id": str(union), "on": day}, headers=api.admin
        )
        assert _refusal(r, 422)["errors"][0]["loc"] == ["query", "on"]
        r = await api.http.get(
            f"{competitions}/members/{uuid.uuid4()}/honours", params={"on": day}, headers=api.admin
        )
        assert _refusal(r, 422)["errors"][0]["loc"] == ["query", "on"]
    # The window's own ends are days like any other.
    r = await api.http.get(
        f"{legal}/reports/summary",
        params={"union_id": str(union), "start": "1900-01-01", "end": "2199-12-31"},
        headers=api.admin,
    )
    assert r.status_code < 500, r.text
    assert await rows() == before


async def test_validation_error_never_echoes_the_value(api: Api, rows: Any) -> None:
    units = await api.tree()
    before = await rows()
    national_id, phone = "11010519491231002X" + "9" * 20, "1380013800013800138000"
    body = {"name": "张三", "national_id": national_id, "phone": phone, "employer": 7,
            "employment_type": "full_time-" + phone, "base_union_id": national_id}  # fmt: skip
    r = await api.http.post(f"{api.enrollment}/applications", json=body, headers=api.admin)
    problem = _refusal(r, 422)
    assert {tuple(e["loc"]) for e in problem["errors"]} >= {("body", "national_id"), ("body", "phone")}
    for secret in (national_id, phone, "11010519491231002X", "13800138000"):
        assert secret not in r.text
    assert all(set(e) == {"loc", "msg", "type"} for e in problem["errors"])
    # Many errors, still a small answer: the list and each message are bounded.
    many = {f"k{i}": "v" * 20 for i in range(2000)}
    raw = json.dumps({**body, **many}).encode()
    assert len(raw) < 64 * 1024
    r = await api.http.post(
        f"{api.enrollment}/applications", content=raw, headers={**api.admin, **_json(raw)}
    )
    assert len(_refusal(r, 422)["errors"]) <= 20 and len(r.content) < 8 * 1024
    # Nor does a long key the caller made up come back whole (extra fields are refused by name).
    raw = json.dumps({**body, "k" * 60_000: 1}).encode()
    r = await api.http.post(
        f"{api.enrollment}/applications", content=raw, headers={**api.admin, **_json(raw)}
    )
    assert ["body", "k" * 64] in [e["loc"] for e in _refusal(r, 422)["errors"]] and len(r.content) < 8 * 1024
    raw = json.dumps({**body, "k" * 60_000: "\u0000"}).encode()
    r = await api.http.post(
        f"{api.enrollment}/applications", content=raw, headers={**api.admin, **_json(raw)}
    )
    assert _refusal(r, 400)["errors"][0]["loc"] == ["body", "k" * 64] and len(r.content) < 8 * 1024
    # A business rule's own refusal (a DomainError) has the same shape.
    cadre = api.cadre(units["logistics"])
    r = await api.http.post(
        f"{api.s.services['relief'].url}/cases",
        json={"household_size": 3, "monthly_income_fen": 1, "causes": ["illness"]},
        headers=cadre,
    )
    assert r.status_code < 500 and r.headers["content-type"] == PROBLEM_JSON, r.text
    assert await rows() == before


async def test_body_over_the_cap_gets_413(api: Api, rows: Any) -> None:
    units = await api.tree()
    before = await rows()
    huge = json.dumps({"name": "张三", "national_id": "11010519491231002X", "phone": "13800138000",
                       "employment_type": "full_time", "base_union_id": str(units["logistics"]),
                       "employer": "x" * (5 * 1024 * 1024)}).encode()  # fmt: skip
    r = await api.http.post(
        f"{api.enrollment}/applications", content=huge, headers={**api.admin, **_json(huge)}
    )
    assert "65536 bytes" in _refusal(r, 413)["detail"] and len(r.content) < 1024

    async def chunks() -> AsyncIterator[bytes]:  # chunked: no Content-Length to go by
        for part in range(0, len(huge), 8192):
            yield huge[part : part + 8192]

    r = await api.http.post(
        f"{api.enrollment}/applications",
        content=chunks(),
        headers={**api.admin, "content-type": "application/json"},
    )
    _refusal(r, 413)
    relief = api.s.services["relief"].url
    raw = json.dumps(
        {"household_size": 3, "monthly_income_fen": 1, "causes": ["illness"], "note": "y" * 70_000}
    )
    r = await api.http.post(
        f"{relief}/cases", content=raw, headers={**api.cadre(units["logistics"]), **_json(raw.encode())}
    )
    _refusal(r, 413)
    # The partner API's own, smaller cap (16 KiB) is the same mechanism: test_partners.py.
    assert await rows() == before


async def test_openapi_documents_the_problem_body_for_every_refusal(api: Api) -> None:
    for name in ("enrollment", "relief"):
        spec = (await api.http.get(f"{api.s.services[name].url}/openapi.json")).json()
        assert "HTTPValidationError" not in spec["components"]["schemas"]
        for path, item in spec["paths"].items():
            for operation in item.values():
                refusals = {c: r for c, r in operation["responses"].items() if c[0] in "45"}
                assert "400" in refusals, path
                assert all(list(r["content"]) == [PROBLEM_JSON] for r in refusals.values()), path


async def test_text_is_refused_before_authentication_too(stack_env: Stack, http: httpx.AsyncClient) -> None:
    """The policy does not depend on who asks: the body is read before the token is checked."""
    url = stack_env.services["enrollment"].url
    raw = b'{"name": "\\u0000", "kind": "city"}'
    for headers in (stack_env.headers(Role.MEMBER, member_id=uuid.uuid4()), {}):
        _refusal(await http.post(f"{url}/unions", content=raw, headers={**headers, **_json(raw)}), 400)
