"""The services the web service talks to: one pooled HTTP client per service, closed at stop."""

import contextlib
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx

from shared.logging import get_logger

log = get_logger(__name__)


class UpstreamAway(Exception):
    """The service did not answer (refused, timed out, broke off): nothing is known to be done."""


class Upstreams:
    def __init__(self, urls: dict[str, str], timeout: float) -> None:
        limits = httpx.Limits(max_connections=50, max_keepalive_connections=20)
        self._clients = {
            name: httpx.AsyncClient(
                base_url=url.rstrip("/"),
                timeout=httpx.Timeout(timeout, connect=2.0),
                limits=limits,
                follow_redirects=False,
                # A jar that keeps nothing: one caller's Set-Cookie must never ride on another's
                # request. Each request carries its page's own cookies (domain/forwarding.py).
                cookies=httpx.Cookies(CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))),
            )
            for name, url in urls.items()
        }

    async def request(
        self,
        service: str,
        method: str,
        path: str,
        *,
        query: bytes = b"",
        headers: list[tuple[str, str]] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        client = self._clients[service]
        url = httpx.URL(path, query=query) if query else path
        try:
            request = client.build_request(method, url, headers=headers, content=content)
            return await client.send(request)
        except (httpx.TransportError, httpx.TimeoutException) as exc:
            log.warning("upstream_away", service=service, error=type(exc).__name__)
            raise UpstreamAway(service) from exc

    async def aclose(self) -> None:
        for client in self._clients.values():
            with contextlib.suppress(Exception):
                await client.aclose()
