"""The kit's pure parts: problem details, traces, the clock, the versions CTE; and a guard that
no service hands an error context under a name problem details reserve."""

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import httpx
import pytest
from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel, ValidationError

from shared.auth import Caller, Principal, Role
from shared.contracts.envelope import EventMetadata
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound, install_error_handlers
from shared.events import CHINA, Trace, china_date, next_version_cte
from shared.http import AppDeps, deps_of
from shared.money import Fen
from shared.rows import from_row

ROOT = Path(__file__).resolve().parents[2]


class Body(BaseModel):
    name: str
    age: int


def app_with_errors() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/conflict")
    async def conflict() -> None:
        raise Conflict("the stage is closed", stage_status="closed", allowed=["reopen"])

    @app.get("/clash")
    async def clash() -> None:
        raise Conflict("a context member named like a problem member", status="closed")

    @app.get("/forbidden")
    async def forbidden() -> None:
        raise Forbidden("outside your scope")

    @app.get("/gone")
    async def gone() -> None:
        raise NotFound("no such case")

    @app.get("/invalid")
    async def invalid() -> None:
        raise InvalidInput("bad range", lowest=1)

    @app.get("/unauthorized")
    async def unauthorized() -> None:
        raise HTTPException(401, detail="missing bearer token", headers={"WWW-Authenticate": "Bearer"})

    @app.get("/down")
    async def down() -> None:
        raise ConnectionRefusedError("database away")

    @app.post("/people")
    async def people(body: Body) -> None:
        return None

    return app


async def call(method: str, path: str, **kw: object) -> httpx.Response:
    transport = httpx.ASGITransport(app=app_with_errors())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.request(method, path, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/conflict", 409, "conflict"),
        ("/forbidden", 403, "forbidden"),
        ("/gone", 404, "not_found"),
        ("/invalid", 422, "invalid_input"),
        ("/unauthorized", 401, "unauthorized"),
        ("/down", 503, "temporarily_unavailable"),
        ("/nowhere", 404, "not_found"),
    ],
)
async def test_every_refusal_is_problem_details(path: str, status: int, code: str) -> None:
    r = await call("GET", path)
    assert r.status_code == status
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"] == f"urn:zhijia:problem:{code}"
    assert (body["status"], body["code"], body["instance"]) == (status, code, path)
    assert body["title"] and isinstance(body["detail"], str) and body["detail"]


async def test_context_travels_as_members_and_headers_are_kept() -> None:
    conflict = (await call("GET", "/conflict")).json()
    assert conflict["detail"] == "the stage is closed"
    assert (conflict["stage_status"], conflict["allowed"]) == ("closed", ["reopen"])
    assert (await call("GET", "/unauthorized")).headers["www-authenticate"] == "Bearer"
    assert (await call("GET", "/down")).headers["retry-after"] == "1"


async def test_a_reserved_name_never_overrides_a_problem_member() -> None:
    body = (await call("GET", "/clash")).json()
    assert (body["status"], body["code"]) == (409, "conflict")


async def test_validation_errors_name_the_fields_without_echoing_the_input() -> None:
    r = await call("POST", "/people", json={"name": "张三", "age": "七十"})
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "invalid_request" and "body.age" in body["detail"]
    assert body["errors"] == [
        {"loc": ["body", "age"], "msg": body["errors"][0]["msg"], "type": "int_parsing"}
    ]
    assert "七十" not in r.text


def test_no_service_names_an_error_context_like_a_problem_member() -> None:
    raised = re.compile(
        r"(?:Conflict|InvalidInput|NotFound|Forbidden|DomainError)\([^)]*?\b(type|title|status|detail|code|instance)=",
        re.S,
    )
    offenders = [
        f"{path.relative_to(ROOT)}: {m.group(1)}="
        for path in [*ROOT.glob("services/**/*.py"), *ROOT.glob("shared/**/*.py")]
        for m in raised.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_traces_say_who_and_in_answer_to_what() -> None:
    principal = Principal(sub="c1", role=Role.CADRE, union_id=uuid.uuid4())
    assert Trace.of(Caller(principal, "corr-1")) == Trace("cadre:c1", "corr-1", None)
    event_id = uuid.uuid4()
    envelope = EventMetadata(
        event_id=event_id, event_type="enrollment.MemberLeft", schema_version=1, source="enrollment",
        subject="m", subject_version=3, occurred_at=datetime.now(UTC), correlation_id="corr-2",
    )  # fmt: skip
    assert Trace.answering(envelope) == Trace("enrollment:enrollment.MemberLeft", "corr-2", str(event_id))
    assert Trace.answering(envelope, "relief:follow").actor == "relief:follow"


def test_days_are_counted_in_china() -> None:
    late_evening_utc = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)  # 01:30 on 1 January in China
    assert china_date(late_evening_utc) == date(2027, 1, 1)
    assert CHINA.utcoffset(None) == timedelta(hours=8)


def test_the_versions_cte_takes_the_subject_it_is_given() -> None:
    cte = next_version_cte("v", "$3::text")
    assert cte.startswith("v AS (INSERT INTO event_versions")
    assert "VALUES ($3::text, 1)" in cte and cte.endswith("RETURNING version)")


class Snapshot(BaseModel):
    case_id: uuid.UUID
    status: str
    paid_fen: int


@dataclass(frozen=True)
class Row:
    case_id: uuid.UUID
    status: str
    notes: str  # not in the model: not copied


def test_models_are_filled_from_rows_with_what_is_computed_beside_them() -> None:
    row = Row(uuid.uuid4(), "verified", "internal notes")
    assert from_row(Snapshot, row, paid_fen=1200) == Snapshot(
        case_id=row.case_id, status="verified", paid_fen=1200
    )
    assert from_row(Snapshot, row, status="suspended", paid_fen=0).status == "suspended"
    with pytest.raises(ValidationError):
        from_row(Snapshot, row)  # what the row lacks must be given


class Payment(BaseModel):
    amount_fen: Fen


@pytest.mark.parametrize("amount", [12.5, "1250", -1, 10**15 + 1])
def test_money_is_whole_fen_in_range(amount: object) -> None:
    with pytest.raises(ValidationError):
        Payment.model_validate({"amount_fen": amount})
    assert Payment(amount_fen=1250).amount_fen == 1250


def test_the_member_meant_is_the_one_named_or_the_caller_themself() -> None:
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    member = Caller(Principal(sub="m", role=Role.MEMBER, member_id=mine), "c")
    cadre = Caller(Principal(sub="c", role=Role.CADRE, union_id=uuid.uuid4()), "c")
    assert member.member_meant(None, "whose?") == mine
    assert member.member_meant(theirs, "whose?") == theirs  # scope is checked by the handler
    assert cadre.member_meant(theirs, "whose?") == theirs
    with pytest.raises(InvalidInput, match="member_id is required: whose dispute is it"):
        cadre.member_meant(None, "whose dispute is it?")


async def test_routes_reach_the_service_deps_by_dependency_or_by_request() -> None:
    class Deps:
        pass

    app = FastAPI()
    app.state.deps = Deps()

    @app.get("/by-dependency")
    async def by_dependency(deps: Annotated[Deps, AppDeps]) -> str:
        return type(deps).__name__

    @app.get("/by-request")
    async def by_request(request: Request) -> str:
        return type(deps_of(request, Deps)).__name__

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/by-dependency")).json() == "Deps"
        assert (await client.get("/by-request")).json() == "Deps"
