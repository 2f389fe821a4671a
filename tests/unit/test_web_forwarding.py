"""The web service's forwarding rules (services/web/domain/forwarding.py): which page calls go to
which service, what is refused before any service is asked, and which headers travel."""

import importlib
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from services.web.domain.forwarding import (
    ALLOWED,
    BODY_LIMITS,
    Forward,
    Refusal,
    answer_headers,
    forward_headers,
    resolve,
    session_cookies,
)
from services.web.domain.qr import qr_svg
from services.web.domain.security import CONTENT_SECURITY_POLICY

MEMBER = "7c9e6679-7425-40de-944b-e07fc1f90ae7"


@pytest.mark.parametrize(
    ("method", "service", "path"),
    [
        ("POST", "identity", "/web/sessions"),
        ("POST", "identity", "/codes"),
        ("GET", "identity", "/me"),
        ("GET", "projector", f"/cards/{MEMBER}"),
        ("GET", "projector", f"/cards/{MEMBER}/offers"),
        ("GET", "enrollment", "/directory/unions"),
        ("POST", "partners", f"/members/{MEMBER}/card-codes"),
        ("POST", "partners", "/partner-api/v1/redemptions"),
        ("GET", "partners", "/partner-api/v1/redemptions"),
        ("GET", "partners", "/partner-api/v1/offers"),
        ("GET", "partners", "/partner-api/v1/offers/spring-2027.dining"),
        ("POST", "relief", "/cases"),
        # 金秋助学 in the member app (issue 20, part C).
        ("GET", "relief", "/student-aid/windows"),
        ("POST", "relief", "/student-aid/evidence"),
        ("GET", "relief", f"/student-aid/evidence/{MEMBER}"),
        ("POST", "relief", "/student-aid/applications"),
        ("GET", "relief", "/student-aid/applications/mine"),
        ("GET", "relief", f"/student-aid/applications/{MEMBER}"),
        ("GET", "competitions", "/competitions/open"),
        ("POST", "competitions", f"/competitions/{MEMBER}/entries"),
        # The cadre console (issue 19).
        ("GET", "enrollment", "/applications"),
        ("POST", "enrollment", f"/applications/{MEMBER}/approve"),
        ("POST", "enrollment", f"/applications/{MEMBER}/reject"),
        ("POST", "enrollment", f"/transfers/{MEMBER}/accept"),
        ("GET", "enrollment", "/members/search"),
        ("GET", "enrollment", "/members/export"),
        ("POST", "enrollment", "/imports"),
        ("GET", "enrollment", f"/imports/{MEMBER}/lines"),
        ("POST", "enrollment", f"/imports/{MEMBER}/commit"),
        ("PUT", "enrollment", f"/employers/{MEMBER}"),
        ("GET", "relief", "/queues/approvals"),
        ("GET", "relief", "/queues/programmes"),
        ("POST", "relief", f"/cases/{MEMBER}/steps/approval/approve"),
        ("POST", "relief", f"/cases/{MEMBER}/objections/{MEMBER}/answer"),
        ("GET", "legal", "/queues/deadlines"),
        ("POST", "legal", f"/supervisions/{MEMBER}/remind"),
        ("GET", "competitions", "/queues/spread"),
        ("GET", "reports", "/reports"),
        ("GET", "reports", "/reports/relief"),
        ("GET", "reports", "/reports/relief/charts/by_month.svg"),
        ("GET", "reports", "/reports/coverage/export"),
        ("GET", "reports", f"/unions/{MEMBER}/coverage"),
        # The console's programmes (issue 20, part D).
        ("GET", "relief", "/campaigns"),
        ("POST", "relief", "/campaigns"),
        ("GET", "relief", f"/campaigns/{MEMBER}"),
        ("GET", "relief", f"/campaigns/{MEMBER}/allocations"),
        ("PUT", "relief", f"/campaigns/{MEMBER}/allocations/{MEMBER}"),
        ("POST", "relief", f"/campaigns/{MEMBER}/lists"),
        ("GET", "relief", f"/campaigns/{MEMBER}/report/export"),
        ("GET", "relief", f"/campaign-lists/{MEMBER}"),
        ("POST", "relief", f"/campaign-lists/{MEMBER}/entries"),
        ("PATCH", "relief", f"/campaign-lists/{MEMBER}/entries/{MEMBER}"),
        ("POST", "relief", f"/campaign-lists/{MEMBER}/entries/{MEMBER}/exclude"),
        ("POST", "relief", f"/campaign-lists/{MEMBER}/entries/{MEMBER}/include"),
        ("POST", "relief", f"/campaign-lists/{MEMBER}/approve"),
        ("POST", "relief", f"/campaign-lists/{MEMBER}/pay"),
        ("GET", "relief", "/employers"),
        ("PUT", "relief", f"/employers/{MEMBER}/difficulty"),
        ("POST", "relief", "/student-aid/windows"),
        ("GET", "relief", "/student-aid/applications"),
        ("POST", "relief", f"/student-aid/applications/{MEMBER}/review"),
        ("POST", "relief", f"/student-aid/applications/{MEMBER}/pay"),
        ("GET", "relief", "/student-aid/disclosure"),
        ("POST", "relief", f"/student-aid/applications/{MEMBER}/objections"),
        ("POST", "relief", f"/student-aid/objections/{MEMBER}/answer"),
        ("GET", "relief", f"/student-aid/evidence/{MEMBER}"),
    ],
)
def test_an_allowed_call_goes_to_its_service_unchanged(method: str, service: str, path: str) -> None:
    assert resolve(method, service, path) == Forward(service, path)


@pytest.mark.parametrize(
    ("method", "service", "path", "status"),
    [
        ("GET", "nope", "/x", 404),  # no such service
        ("GET", "web", "/card-code", 404),  # the web service is not its own upstream
        ("GET", "projector", "/projection/status", 404),  # exists, but not for pages
        ("GET", "projector", f"/unions/{MEMBER}/cards", 404),
        ("POST", "enrollment", f"/applications/{MEMBER}/erasure", 404),  # not the console's
        ("DELETE", "enrollment", "/applications", 405),
        ("GET", "enrollment", "/members/everyone", 404),  # only a member id, search or export
        ("POST", "enrollment", "/members/search", 405),
        ("GET", "reports", "/reports/Relief", 404),  # a report's name: lower case only
        ("GET", "reports", "/reports/relief/charts/by_month.png", 404),  # charts are SVG
        ("GET", "reports", "/reports/relief/charts/.svg", 400),  # not a plain segment
        ("POST", "reports", "/reports/relief", 405),  # reports are read only
        ("POST", "relief", f"/cases/{MEMBER}/steps/approval/override", 404),
        ("POST", "partners", "/partner-api/v1/offers", 405),  # listing only: publishing is not a page's
        ("GET", "projector", "/cards/not-a-uuid", 404),
        # 金秋助学 in the member app (issue 20, part C): filing, reading one's own, the evidence.
        ("POST", "relief", "/student-aid/applications/mine", 405),
        ("DELETE", "relief", f"/student-aid/applications/{MEMBER}", 405),
        ("PUT", "relief", f"/student-aid/evidence/{MEMBER}", 405),
        ("GET", "relief", "/student-aid/applications/mine/all", 404),
        ("GET", "identity", "", 404),
        ("GET", "identity", "/", 404),
        ("DELETE", "identity", "/me", 405),
        ("GET", "identity", "/codes", 405),
        # The console's programmes: only what the cadres' pages do.
        ("DELETE", "relief", f"/campaigns/{MEMBER}", 405),  # a campaign closes on its timer
        ("PUT", "relief", f"/campaigns/{MEMBER}/allocations/not-a-union", 404),
        ("DELETE", "relief", f"/campaign-lists/{MEMBER}/entries/{MEMBER}", 405),  # excluded, never erased
        ("POST", "relief", f"/campaign-lists/{MEMBER}/delete", 404),
        ("PUT", "relief", f"/employers/{MEMBER}", 404),  # the register itself is enrollment's
        ("PUT", "relief", f"/student-aid/windows/{MEMBER}", 405),
        ("GET", "relief", "/student-aid/evidence/some-file.pdf", 404),
    ],
)
def test_a_call_outside_the_allowlist_is_refused(method: str, service: str, path: str, status: int) -> None:
    refused = resolve(method, service, path)
    assert isinstance(refused, Refusal) and refused.status == status
    assert re.search(r"[\u4e00-\u9fff]", refused.detail), "the page shows the reason: in Chinese"


@pytest.mark.parametrize(
    "path",
    [
        f"/cards/{MEMBER}/../../projection/status",  # traversal
        "/cards/..",
        f"/cards/./{MEMBER}",
        f"/cards/{MEMBER}/",  # trailing slash: an empty segment
        f"/cards//{MEMBER}",
        f"/cards%2F{MEMBER}",  # an encoded slash
        f"/cards%2f{MEMBER}",
        f"/cards/%2E%2E/{MEMBER}",  # encoded dots
        f"/cards/{MEMBER}%00",
        f"/cards/{MEMBER}\\..\\x",  # backslashes
        "/cards/" + "a" * 200,
    ],
)
def test_traversal_and_encoded_separators_never_reach_a_pattern(path: str) -> None:
    refused = resolve("GET", "projector", path)
    assert isinstance(refused, Refusal) and refused.status in (400, 404)


def test_every_allowed_route_exists_in_its_service() -> None:
    """A typo in the allowlist would be a dead button: each pattern names a real route, with
    that method."""
    package = {"projector": "projector"}
    for service, routes in ALLOWED.items():
        real = _routes_of(package.get(service, service))
        for method, pattern in routes:
            template = re.sub(r"\{(uuid|code|name)\}", "{}", pattern)
            assert (method, template) in real, f"{service} has no {method} {pattern}"


def _routes_of(service: str) -> set[tuple[str, str]]:
    try:
        api = importlib.import_module(f"services.{service}.api")
    except ModuleNotFoundError:  # a service still being built (reports, issue 19)
        return set()
    found: set[tuple[str, str]] = set()
    for info in pkgutil.iter_modules(api.__path__):
        module = importlib.import_module(f"{api.__name__}.{info.name}")
        for value in vars(module).values():
            if isinstance(value, APIRouter):
                for route in value.routes:
                    if isinstance(route, APIRoute):
                        template = re.sub(r"\{[^}]+\}", "{}", route.path)
                        found |= {(m, template) for m in route.methods or ()}
    return found


# Headers -----------------------------------------------------------------------------------------


def test_only_the_listed_headers_and_the_session_cookies_travel() -> None:
    incoming = [
        ("Authorization", "Bearer t"),
        ("Content-Type", "application/json"),
        ("X-CSRF-Token", "c"),
        ("Idempotency-Key", "k-12345678"),
        ("Accept-Language", "zh-CN"),
        ("Host", "evil.example"),
        ("X-Forwarded-For", "6.6.6.6"),  # a chain the client wrote itself
        ("X-Role", "admin"),
        ("Cookie", "__Host-zhijia-refresh=r1; tracking=abc; __Host-zhijia-csrf=c1"),
    ]
    out = dict(forward_headers(incoming, "10.0.0.7", "corr-1"))
    assert out == {
        "authorization": "Bearer t",
        "content-type": "application/json",
        "x-csrf-token": "c",
        "idempotency-key": "k-12345678",
        "accept-language": "zh-CN",
        "cookie": "__Host-zhijia-refresh=r1; __Host-zhijia-csrf=c1",
        "x-forwarded-for": "10.0.0.7",  # the client as the server resolved it, nothing else
        "x-correlation-id": "corr-1",
    }


def test_other_cookies_and_broken_cookie_headers_are_dropped() -> None:
    assert session_cookies("tracking=abc; other=1") is None
    assert session_cookies('__Host-zhijia-refresh="unterminated') is None
    assert dict(forward_headers([("Cookie", "a=b")], None, "c")) == {"x-correlation-id": "c"}


def test_an_answer_keeps_its_type_cookies_and_retry_after_only() -> None:
    upstream = [
        ("content-type", "application/json"),
        ("set-cookie", "__Host-zhijia-refresh=r2; Secure; HttpOnly"),
        ("set-cookie", "__Host-zhijia-csrf=c2; Secure"),
        ("Retry-After", "3"),
        ("server", "uvicorn"),
        ("x-correlation-id", "upstream-id"),
    ]
    assert answer_headers(upstream) == [
        ("content-type", "application/json"),
        ("set-cookie", "__Host-zhijia-refresh=r2; Secure; HttpOnly"),
        ("set-cookie", "__Host-zhijia-csrf=c2; Secure"),
        ("retry-after", "3"),
    ]


def test_the_policy_allows_only_this_origin_and_no_framing() -> None:
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"  # no inline script, no CDN
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY and "http" not in CONTENT_SECURITY_POLICY


def test_the_qr_is_a_standalone_svg_of_the_code_alone() -> None:
    svg = qr_svg("AbCdEfGh12345678_-xy")
    assert svg.startswith("<svg") and 'xmlns="http://www.w3.org/2000/svg"' in svg
    assert "AbCdEfGh12345678" not in svg  # the code is in the picture, not in the text


def test_the_card_page_weighs_well_under_200_kb() -> None:
    """What a phone loads for the card: the page, its script and style, and the largest QR."""
    static = Path(__file__).resolve().parents[2] / "services" / "web" / "static"
    files = sum((static / name).stat().st_size for name in ("index.html", "session.js", "app.js", "app.css"))
    qr = len(qr_svg("A" * 64).encode())
    assert files + qr < 200 * 1024, (files, qr)


# Bodies and files ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def web() -> Iterator[TestClient]:
    """The web service with every upstream away (nothing listens on port 9): a call the
    forwarder lets through answers 503, one it refuses answers before any upstream."""
    from services.web.app import create_app
    from services.web.settings import WebSettings

    away = "http://127.0.0.1:9"
    urls = {f"{name}_url": away for name in WebSettings().upstreams() if name != "projector"}
    settings = WebSettings.model_validate({**urls, "cards_url": away, "web_upstream_timeout": 2})
    with TestClient(create_app(settings)) as client:
        yield client


def test_only_the_roster_import_and_the_admission_evidence_take_a_body_past_64_kib(web: TestClient) -> None:
    roster = b"\xe5\xa7\x93\xe5\x90\x8d\n" + b"x" * (200 * 1024)  # 200 KiB of CSV
    csv = {"Content-Type": "text/csv"}
    through = web.post("/api/enrollment/imports?union_id=x&file_name=a.csv", content=roster, headers=csv)
    assert through.status_code == 503, through.text  # past the limit check, to the (away) service
    too_big = web.post("/api/enrollment/imports", content=b"x" * (5 * 1024 * 1024 + 1), headers=csv)
    assert too_big.status_code == 413
    elsewhere = web.post("/api/relief/cases", content=roster, headers=csv)
    assert elsewhere.status_code == 413  # every other route keeps the kit's limit
    pdf = {"Content-Type": "application/pdf"}
    evidence = b"%PDF-1.4\n" + b"x" * (1024 * 1024)  # 1 MiB of a scanned admission letter
    through = web.post("/api/relief/student-aid/evidence?file_name=a.pdf", content=evidence, headers=pdf)
    assert through.status_code == 503, through.text
    too_big = web.post("/api/relief/student-aid/evidence", content=b"x" * (5 * 1024 * 1024 + 1), headers=pdf)
    assert too_big.status_code == 413
    assert BODY_LIMITS == {
        ("enrollment", "POST", "/imports"): 5 * 1024 * 1024,
        ("relief", "POST", "/student-aid/evidence"): 5 * 1024 * 1024,
    }


def test_the_large_body_route_still_refuses_what_the_allowlist_refuses(web: TestClient) -> None:
    assert web.get("/api/enrollment/imports").status_code == 405
    assert web.post("/api/enrollment/imports/../members", content=b"x").status_code in (400, 404)


def test_a_file_answer_keeps_its_name_and_type() -> None:
    upstream = [
        ("content-type", "text/csv; charset=utf-8"),
        ("content-disposition", "attachment; filename*=UTF-8''relief.csv"),
        ("cache-control", "private, max-age=60"),
        ("etag", '"v3"'),
    ]
    assert answer_headers(upstream) == upstream
