"""Adapters of the identity service's ports (domain/ports.py) to the outside over HTTP:
realname.py (name + ID number check) and sms_gateway.py (one-time codes by SMS).
docs/identity-adapters.md describes their settings and request formats.

Both sign their requests the same way, with the client below: HMAC-SHA256 over method, path,
timestamp, nonce and the body's digest, rather than a bearer key. The secret never travels, so a
proxy or a log that sees a request cannot reuse it, a changed body fails the signature, and the
timestamp and nonce let the other side refuse replays.
"""

import hashlib
import hmac
import secrets
import time
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr

SIGNATURE_SCHEME = "ZJ-HMAC-SHA256"

# Only errors raised before a request could reach the other side are retried: a verification may
# be billed and a text message may already be on its way when an answer is merely late.
_RETRIED = (httpx.ConnectError, httpx.ConnectTimeout)


class OutsideUnreachable(Exception):
    """No answer: the connection failed twice, the answer was late, or the exchange broke.
    Carries the error's class name only: httpx's exceptions hold the request, and with it the body."""


def string_to_sign(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    return "\n".join((method.upper(), path, timestamp, nonce, hashlib.sha256(body).hexdigest()))


def signature(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = string_to_sign(method, path, timestamp, nonce, body).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class SignedJsonClient:
    """POSTs JSON bodies to one URL, each signed afresh (a retry gets a new timestamp and nonce)."""

    def __init__(
        self,
        url: str,
        secret: SecretStr,
        timeout: float,
        *,
        key_id: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._url = url
        self._path = urlsplit(url).path or "/"
        self._secret = secret
        self._key_id = key_id
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(timeout), transport=transport)

    async def post(self, body: bytes) -> httpx.Response:
        failure = ""
        for _attempt in range(2):  # one retry
            try:
                return await self._client.post(self._url, content=body, headers=self._headers(body))
            except _RETRIED as exc:
                failure = type(exc).__name__
            except httpx.HTTPError as exc:
                failure = type(exc).__name__
                break
        # Raised outside the except clauses, so that no httpx error (and its request) is its context.
        raise OutsideUnreachable(failure)

    async def aclose(self) -> None:
        await self._client.aclose()

    def _headers(self, body: bytes) -> dict[str, str]:
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        signed = signature(self._secret.get_secret_value(), "POST", self._path, timestamp, nonce, body)
        key_id = f"KeyId={self._key_id}, " if self._key_id is not None else ""
        authorization = f"{SIGNATURE_SCHEME} {key_id}Timestamp={timestamp}, Nonce={nonce}, Signature={signed}"
        return {"Content-Type": "application/json; charset=utf-8", "Authorization": authorization}
