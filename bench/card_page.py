"""Measure 6: the member's card page (`/#/card` of the web service) in Debian's headless Chromium.

The projector that caught up on the city's day is started again on its database (every member of
the city has a card there), with partners (the card's code) and the web service in front of them,
as `make run` has them. Each load is a fresh browser context (nothing cached), then the page
opened again in the same context (its files from the browser's cache). Rendered = the card's
name, numbers and the QR image are in the page, timed by the browser's own clock from the
navigation's start. Weight = the bytes the page fetched (transferSize of the document and every
resource: headers and bodies as sent).

Identity is not started: its two answers (`/web/token`, `/me`) are served by a stub of the bench
(IdentityStub, on loopback behind the web service as identity is) with a token of the bench's
development issuer, which the services trust here. They are a few hundred bytes each; the card
itself, the code and the QR come from the real services. Side by side in the same run: the
card's API call alone, straight to the projector and through the web service's forwarder, so the
forwarder's cost per call is a ratio, not a guess.
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx

from bench.stack import BenchStack, bench_token
from bench.stats import percentiles
from scripts import chromium
from shared.auth import Role

if TYPE_CHECKING:
    from playwright._impl._api_structures import SetCookieParam

RENDERED = (
    "() => { const img = document.querySelector('[data-testid=card-qr]');"
    " const name = document.querySelector('[data-testid=card-name]');"
    " return !!(img && img.complete && img.naturalWidth > 0 && name && name.textContent.trim()); }"
)
WEIGHT = (
    "() => [performance.getEntriesByType('navigation')[0], ...performance.getEntriesByType('resource')]"
    ".reduce((sum, e) => sum + (e.transferSize || 0), 0)"
)
ELAPSED = "() => performance.now()"
WARM_UP = 2  # loads before the counted ones
# Where the time of a load went: each fetch's start and end (ms from navigation start).
WATERFALL = (
    "() => [performance.getEntriesByType('navigation')[0], ...performance.getEntriesByType('resource')]"
    ".map(e => [e.name.replace(location.origin, ''), Math.round(e.startTime), Math.round(e.responseEnd),"
    " e.transferSize || 0])"
)
# The page renews its session when identity's CSRF cookie is there (`__Host-`: no Domain attribute
# is sent by a server, but the browser's API names the host it belongs to).
CSRF_COOKIE: "SetCookieParam" = {
    "name": "__Host-zhijia-csrf",
    "value": "bench",
    "domain": "127.0.0.1",
    "path": "/",
    "secure": True,
}


class IdentityStub:
    """Identity's two answers the card page asks for, for the member being measured now (a
    plain HTTP server on loopback, so the browser's cache works as it does for a member:
    Playwright's request routing would turn the cache off)."""

    def __init__(self) -> None:
        self.member = ""
        self.tokens: dict[str, str] = {}
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, body: dict[str, Any]) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                if self.path.startswith("/web/token"):
                    token = stub.tokens[stub.member]
                    self._answer(200, {"access_token": token, "token_type": "Bearer", "expires_in": 900})
                else:
                    self._answer(404, {"detail": "not in the bench"})

            def do_GET(self) -> None:
                if self.path.startswith("/me"):
                    m = stub.member
                    self._answer(200, {
                        "account_id": f"bench-{m}", "kind": "member", "phone_masked": "138****0000",
                        "realname_status": "verified", "realname_label": "已实名", "person_id": m,
                        "member_id": m,
                    })  # fmt: skip
                else:
                    self._answer(404, {"detail": "not in the bench"})

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _stats(values: list[float]) -> dict[str, float]:
    found = percentiles(values)
    if found is None:
        raise RuntimeError("nothing was measured")
    return found


async def _members(dsn: str, n: int) -> list[str]:
    """Members whose card has the most on it first (relief, honours, legal cases)."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            """SELECT c.member_id::text AS id
                 FROM public.cards c
                WHERE c.status = 'active'
                ORDER BY (SELECT count(*) FROM public.honours h WHERE h.member_id = c.member_id)
                       + (SELECT count(*) FROM public.legal_cases l WHERE l.member_id = c.member_id)
                       + (SELECT count(*) FROM public.relief_cases r WHERE r.member_id = c.member_id) DESC,
                         c.member_id
                LIMIT $1""",
            n,
        )
    finally:
        await conn.close()
    return [r["id"] for r in rows]


async def _api_calls(url: str, paths: list[str], tokens: list[str], rounds: int) -> list[float]:
    """Sequential GETs (ms each): one client, keep-alive, as the page's own calls go."""
    took = []
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        for k in range(rounds):
            i = k % len(paths)
            began = time.perf_counter()
            answer = await client.get(paths[i], headers={"Authorization": f"Bearer {tokens[i]}"})
            took.append(1000 * (time.perf_counter() - began))
            if answer.status_code != 200:
                raise RuntimeError(f"GET {paths[i]} answered {answer.status_code}: {answer.text[:200]}")
    return took


async def measure(bench: BenchStack, prefix: str, database: str, loads: int = 20) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    identity = IdentityStub()

    projector = bench.service("projector", prefix=prefix, database=database, label="projector (page)")
    partners = bench.service(
        "partners",
        prefix=prefix,
        database=bench.database("page_partners"),
        extra={"CARDS_URL": projector.url},
    )
    await bench.start(projector)
    await bench.start(partners)
    web = bench.service(
        "web",
        prefix=prefix,
        database="",
        extra={
            "CARDS_URL": projector.url,
            "PARTNERS_URL": partners.url,
            "IDENTITY_URL": identity.url,
        },
    )
    await bench.start(web)
    members = await _members(projector.dsn, loads)
    if not members:
        raise RuntimeError("no active card in the projector's database")
    tokens = {m: bench_token(Role.MEMBER, sub=f"bench-{m}", member_id=m) for m in members}
    identity.tokens = tokens

    cold_ms: list[float] = []
    warm_ms: list[float] = []
    cold_bytes: list[int] = []
    slowest: list[Any] = []
    warm_bytes: list[int] = []
    async with async_playwright() as pw:
        browser = await chromium.launch(pw)
        try:
            # Two loads first, not counted: the services have just started (their first calls
            # open connection pools and warm their code paths), as no member's phone meets them.
            for k, member in enumerate((members * (loads + WARM_UP))[: loads + WARM_UP]):
                counted = k >= WARM_UP
                context = await browser.new_context(
                    base_url=web.url, viewport={"width": 390, "height": 844}, locale="zh-CN"
                )
                await context.add_cookies([CSRF_COOKIE])
                identity.member = member
                page = await context.new_page()
                for cold in (True, False):
                    if not cold:  # the app opened again: its files from the browser's cache
                        await page.goto("about:blank")
                    await page.goto("/#/card")
                    await page.wait_for_function(RENDERED, timeout=15_000)
                    elapsed = float(await page.evaluate(ELAPSED))
                    weight = int(await page.evaluate(WEIGHT))
                    if not counted:
                        continue
                    (cold_ms if cold else warm_ms).append(elapsed)
                    (cold_bytes if cold else warm_bytes).append(weight)
                    if cold and elapsed >= max(cold_ms):
                        slowest = await page.evaluate(WATERFALL)
                await context.close()
        finally:
            await browser.close()

    # Side by side: the card's API call alone, direct and through the web service's forwarder.
    paths = [f"/cards/{m}" for m in members]
    token_list = [tokens[m] for m in members]
    direct = await _api_calls(projector.url, paths, token_list, 300)
    forwarded = await _api_calls(web.url, [f"/api/projector{p}" for p in paths], token_list, 300)
    await bench.stop(web, partners, projector)
    identity.close()
    result: dict[str, Any] = {
        "loads": loads,
        "members": len(members),
        "cold_ms": _stats(cold_ms),
        "warm_ms": _stats(warm_ms),
        "cold_bytes": _stats([float(b) for b in cold_bytes]),
        "warm_bytes": _stats([float(b) for b in warm_bytes]),
        "card_api_direct_ms": _stats(direct),
        "card_api_forwarded_ms": _stats(forwarded),
        "slowest_cold_load": slowest,
    }
    result["forwarder_ratio_p50"] = result["card_api_forwarded_ms"]["p50"] / max(
        result["card_api_direct_ms"]["p50"], 1e-9
    )
    print("    card page: " + json.dumps({k: result[k] for k in ("cold_ms", "cold_bytes")}))
    return result
