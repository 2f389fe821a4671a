"""The web service on a real stack (issue 18): a member signs in through the pages' forwarder
with a phone and code, verifies their name, applies, and once a cadre approved reads their own
card and its QR code, and nobody else's; hostile input gets a 4xx, never a 5xx; every answer
carries the security headers; a service that is away is a 503 with Retry-After."""

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import httpx
import pytest

from scripts.fake_people import person
from services.identity.adapters.dev_notifier import last_code
from shared.auth import Role
from tests.integration.conftest import Stack, eventually, side_service
from tests.integration.test_enrollment_to_card import Api

pytestmark = pytest.mark.integration


class Page:
    """What the member app does, through the web service only. The session cookies are kept by
    hand: they are `Secure`, which a cookie jar sends over https only."""

    def __init__(self, s: Stack, http: httpx.AsyncClient) -> None:
        self.web = s.services["web"].url
        self.http = http
        self.codes = Path(s.services["identity"].env["IDENTITY_DEV_CODES_FILE"])
        self.cookies: dict[str, str] = {}
        self.token = ""

    def headers(self, **more: str) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return {**headers, **more}

    def keep_cookies(self, r: httpx.Response) -> None:
        for header in r.headers.get_list("set-cookie"):
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel.value:
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)

    @property
    def cookie_header(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}

    async def sign_in(self, phone: str) -> httpx.Response:
        before = last_code(self.codes, phone)
        sent = await self.http.post(
            f"{self.web}/api/identity/codes", json={"phone": phone, "purpose": "sign_in"}
        )
        assert sent.status_code == 202, sent.text

        async def new_code() -> str | None:
            code = last_code(self.codes, phone)
            return code if code and code != before else None

        code = await eventually(new_code, timeout=10)
        r = await self.http.post(f"{self.web}/api/identity/web/sessions", json={"phone": phone, "code": code})
        if r.status_code == 200:
            self.keep_cookies(r)
            self.token = r.json()["access_token"]
        return r

    async def renew(self) -> httpx.Response:
        csrf = self.cookies.get("__Host-zhijia-csrf", "")
        r = await self.http.post(
            f"{self.web}/api/identity/web/token", headers={**self.cookie_header, "X-CSRF-Token": csrf}
        )
        if r.status_code == 200:
            self.keep_cookies(r)
            self.token = r.json()["access_token"]
        return r

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.http.get(f"{self.web}{path}", headers=self.headers(), **kw)

    async def post(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return await self.http.post(f"{self.web}{path}", json=json, headers=self.headers(), **kw)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=20) as client:
        yield client


async def test_a_member_signs_up_applies_and_reads_their_own_card_and_qr_through_the_web(
    stack_env: Stack, http: httpx.AsyncClient
) -> None:
    api = Api(stack_env, http)
    units = await api.tree()
    page = Page(stack_env, http)
    who = person(api.rng)

    # Sign in: the refresh token and the CSRF token come back as the identity service set them.
    signed_in = await page.sign_in(who.phone)
    assert signed_in.status_code == 200, signed_in.text
    assert {"__Host-zhijia-refresh", "__Host-zhijia-csrf"} <= set(page.cookies)
    refresh_cookie = next(h for h in signed_in.headers.get_list("set-cookie") if "zhijia-refresh" in h)
    assert "HttpOnly" in refresh_cookie and "Secure" in refresh_cookie
    assert "refresh_token" not in signed_in.json()  # the page never holds it

    # Real name, then a renewed token that names the member.
    verified = await page.post(
        "/api/identity/me/real-name", {"name": who.name, "national_id": who.national_id}
    )
    assert verified.status_code == 200, verified.text
    member_id = verified.json()["member_id"]
    without_csrf = await http.post(f"{page.web}/api/identity/web/token", headers=page.cookie_header)
    assert without_csrf.status_code == 403, without_csrf.text  # the CSRF proof is passed, not made up
    renewed = await page.renew()
    assert renewed.status_code == 200, renewed.text
    me = await page.get("/api/identity/me")
    assert me.status_code == 200 and me.json()["member_id"] == member_id, me.text

    # The public directory, then the application for themself.
    found = await page.get(
        "/api/enrollment/directory/unions", params={"q": "物流", "region": "330100", "limit": 1000}
    )
    assert found.status_code == 200, found.text
    assert str(units["logistics"]) in {u["union_id"] for u in found.json()}
    form = {
        "name": who.name, "national_id": who.national_id, "phone": who.phone, "employer": "某物流公司",
        "employment_type": who.employment_type, "base_union_id": str(units["logistics"]),
    }  # fmt: skip
    applied = await page.post("/api/enrollment/applications", form)
    assert applied.status_code == 201, applied.text
    application = applied.json()["application"]["application_id"]
    approved = await http.post(
        f"{api.enrollment}/applications/{application}/approve", headers=api.cadre(units["logistics"])
    )
    assert approved.status_code == 200, approved.text

    async def active_card() -> dict[str, Any] | None:
        r = await page.get(f"/api/projector/cards/{member_id}")
        card: dict[str, Any] = r.json() if r.status_code == 200 else {}
        return card if (card.get("membership") or {}).get("status") == "active" else None

    card = await eventually(active_card, timeout=20)
    assert card["membership"]["card_number"] == approved.json()["card_number"]
    assert card["membership"]["status_label"] and card["membership"]["status_label"] != "active"

    # Somebody else's card: the projector's refusal (a member is told "no card", not that one
    # exists) passes through unchanged.
    somebody = await api.enrolled_member(units["logistics"])

    async def projected() -> bool:
        return (await api.card(somebody["member_id"])).status_code == 200

    await eventually(projected, timeout=20)  # a 403, not the 404 of a card not there yet
    other = await page.get(f"/api/projector/cards/{somebody['member_id']}")
    assert other.status_code in (403, 404), other.text
    assert other.headers["content-type"].startswith("application/problem+json")
    assert other.json()["instance"] == f"/cards/{somebody['member_id']}"  # the projector's own answer
    assert somebody["card_number"] not in other.text

    # The rotating code with its QR, made from the code alone.
    issued = await page.post("/api/web/card-code")
    assert issued.status_code == 201, issued.text
    qr = issued.json()
    assert set(qr) == {"code", "expires_at", "svg"}
    assert re.fullmatch(r"[A-Za-z0-9_-]{16,64}", qr["code"])
    assert qr["svg"].startswith("<svg") and who.name not in qr["svg"] and member_id not in qr["svg"]
    assert issued.headers["cache-control"] == "no-store"
    # Nobody but a member with a member id gets one.
    page_without = Page(stack_env, http)
    assert (await page_without.post("/api/web/card-code")).status_code == 401

    # Sign out: the session ends, the cookies are cleared.
    out = await http.post(
        f"{page.web}/api/identity/web/sign-out",
        headers={**page.cookie_header, "X-CSRF-Token": page.cookies["__Host-zhijia-csrf"]},
    )
    assert out.status_code == 204, out.text
    page.keep_cookies(out)
    assert "__Host-zhijia-refresh" not in page.cookies


async def _raw_status(port: int, request_line: str) -> int:
    """The status of a request sent byte for byte (httpx would tidy `..` away first)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"{request_line}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode("latin-1"))
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    await writer.wait_closed()
    return int(status_line.split()[1])


async def test_hostile_input_gets_a_reason_and_never_a_5xx(stack_env: Stack, http: httpx.AsyncClient) -> None:
    web = stack_env.services["web"]
    member = stack_env.headers(Role.MEMBER, member_id=uuid.uuid4())
    card = f"/api/projector/cards/{uuid.uuid4()}"
    answers = {
        "unknown service": await http.get(f"{web.url}/api/nothing/here"),
        "unknown route": await http.get(f"{web.url}/api/projector/projection/status"),
        "a cadre's route": await http.post(f"{web.url}/api/enrollment/applications/{uuid.uuid4()}/approve"),
        "wrong method": await http.delete(f"{web.url}/api/identity/me", headers=member),
        "encoded slash": await http.get(f"{web.url}/api/projector/cards%2F{uuid.uuid4()}"),
        "encoded dots": await http.get(f"{web.url}/api/projector/cards/%2E%2E/projection/status"),
        "NUL": await http.get(f"{web.url}{card}%00"),
        "huge body": await http.post(
            f"{web.url}/api/relief/cases",
            content=b"{" + b" " * 70_000 + b"}",
            headers={**member, "Content-Type": "application/json"},
        ),
        "bad JSON": await http.post(
            f"{web.url}/api/relief/cases",
            content=b'{"household_size": ',
            headers={**member, "Content-Type": "application/json"},
        ),
        "bad token": await http.get(f"{web.url}{card}", headers={"Authorization": "Bearer nonsense"}),
        "unknown query": await http.get(f"{web.url}{card}/offers", params={"nope": "1"}, headers=member),
    }
    for what, r in answers.items():
        assert 400 <= r.status_code < 500, f"{what}: {r.status_code} {r.text}"
        assert r.json()["detail"], what
    assert answers["unknown service"].status_code == 404
    assert answers["huge body"].status_code == 413
    assert answers["bad JSON"].status_code == 400
    assert answers["bad token"].status_code == 401
    for path in ("/api/projector/cards/../projection/status", "/api/identity/../../etc/passwd"):
        status = await _raw_status(web.port, f"GET {path} HTTP/1.1")
        assert 400 <= status < 500, (path, status)


async def test_pages_and_answers_carry_the_security_headers(
    stack_env: Stack, http: httpx.AsyncClient
) -> None:
    web = stack_env.services["web"].url
    page = await http.get(f"{web}/")
    assert page.status_code == 200 and 'lang="zh-CN"' in page.text
    assert "<script>" not in page.text  # scripts are files (no inline script under the policy)
    assert re.search(r'(src|href)="(https?:)?//', page.text) is None  # nothing from elsewhere
    for r in (
        page,
        await http.get(f"{web}/till"),
        await http.get(f"{web}/assets/app.js"),
        await http.get(f"{web}/api/x/y"),
    ):
        csp = r.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
    assert (await http.get(f"{web}/docs")).status_code == 404  # Swagger UI would load a CDN's scripts
    # Files are kept by the browser but asked about again: a 304 when unchanged.
    script = await http.get(f"{web}/assets/app.js")
    assert script.headers["cache-control"] == "no-cache" and script.headers["etag"]
    again = await http.get(f"{web}/assets/app.js", headers={"If-None-Match": script.headers["etag"]})
    assert again.status_code == 304 and not again.content


async def test_a_service_that_is_away_is_a_503_with_retry_after(
    stack_env: Stack, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    closed = f"http://127.0.0.1:{_closed_port()}"
    async with side_service(stack_env, "web", "away", tmp_path, extra={"CARDS_URL": closed}) as web:
        r = await http.get(f"{web.url}/api/projector/cards/{uuid.uuid4()}")
        assert r.status_code == 503, r.text
        assert r.headers["retry-after"] and "稍后" in r.json()["detail"]


def _closed_port() -> int:
    from scripts.stack import free_port

    return free_port()  # nobody listens there once the probe socket is closed
