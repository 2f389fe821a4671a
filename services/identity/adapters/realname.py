"""Real-name verification (实名核验, name + ID number) over HTTP: the production RealNameProvider.

Requests are signed with HMAC-SHA256 over method, path, timestamp, nonce and the body's digest
rather than sent with a bearer key: the key never travels, so a proxy or a log that sees a request
cannot reuse it, a changed body fails the signature, and the timestamp and nonce let the provider
refuse replays. The national ID is in the body only: never in a log line, an error or the URL.
"""

import hashlib
import hmac
import secrets
import time
import uuid
from typing import Self
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, Field, HttpUrl, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.identity.domain.ports import ProviderUnavailable, RealNameVerdict
from shared.logging import get_logger

log = get_logger(__name__)

SIGNATURE_SCHEME = "ZJ-HMAC-SHA256"


class RealNameProviderSettings(BaseSettings):
    """REALNAME_PROVIDER_URL, REALNAME_PROVIDER_KEY, REALNAME_PROVIDER_TIMEOUT."""

    model_config = SettingsConfigDict(env_prefix="REALNAME_PROVIDER_", env_file=None, extra="ignore")

    url: HttpUrl  # the verification endpoint itself, e.g. https://idv.example.cn/v1/verifications
    key: SecretStr = Field(min_length=32)
    timeout: float = Field(default=5.0, gt=0, le=60)  # seconds, for connecting and for the answer each


class _AskBody(BaseModel):
    request_id: str
    name: str
    id_number: str


class _Answer(BaseModel):
    request_id: str
    result: RealNameVerdict


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def string_to_sign(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    return "\n".join((method.upper(), path, timestamp, nonce, body_digest(body)))


def sign(key: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = string_to_sign(method, path, timestamp, nonce, body).encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


# Only errors raised before the request could reach the provider are retried: a verification may
# be billed, and a read timeout may mean the provider has already done it.
_RETRIED = (httpx.ConnectError, httpx.ConnectTimeout)


class HttpRealNameProvider:
    def __init__(self, settings: RealNameProviderSettings, transport: httpx.AsyncBaseTransport | None = None):
        self._url = str(settings.url)
        self._path = urlsplit(self._url).path or "/"
        self._key = settings.key
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(settings.timeout), transport=transport)

    @classmethod
    def from_env(cls) -> Self:
        return cls(RealNameProviderSettings())

    async def aclose(self) -> None:
        await self._client.aclose()

    async def verify(self, name: str, national_id: str) -> RealNameVerdict:
        request_id = str(uuid.uuid4())
        body = _AskBody(request_id=request_id, name=name, id_number=national_id).model_dump_json().encode()
        started = time.monotonic()
        response = await self._post(body, request_id)
        answer = self._read(response, request_id)
        log.info(
            "realname.verified",
            request_id=request_id,
            verdict=answer.value,
            ms=round((time.monotonic() - started) * 1000),
        )
        return answer

    async def _post(self, body: bytes, request_id: str) -> httpx.Response:
        for attempt in (1, 2):
            try:
                return await self._client.post(self._url, content=body, headers=self._headers(body))
            except _RETRIED as exc:
                if attempt == 2:
                    log.warning("realname.unreachable", request_id=request_id, error=type(exc).__name__)
                    raise ProviderUnavailable("实名核验服务暂时无法连接") from None
                log.info("realname.retrying", request_id=request_id, error=type(exc).__name__)
            except httpx.HTTPError as exc:
                # `from None`: the chained exception would carry the request, and with it the body.
                log.warning("realname.failed", request_id=request_id, error=type(exc).__name__)
                raise ProviderUnavailable("实名核验服务暂时无法应答") from None
        raise AssertionError("unreachable")

    def _read(self, response: httpx.Response, request_id: str) -> RealNameVerdict:
        if response.status_code in (401, 403):
            # Our key or clock is wrong: an operator must act, the member can only wait.
            log.error("realname.refused_credentials", request_id=request_id, status=response.status_code)
            raise ProviderUnavailable("实名核验服务暂时不可用")
        if response.status_code != 200:
            log.warning("realname.bad_status", request_id=request_id, status=response.status_code)
            raise ProviderUnavailable("实名核验服务暂时不可用")
        try:
            answer = _Answer.model_validate_json(response.content)
        except ValidationError:
            log.warning("realname.malformed_answer", request_id=request_id)
            raise ProviderUnavailable("实名核验服务应答无法识别") from None
        if answer.request_id != request_id:
            log.warning("realname.answer_for_another_request", request_id=request_id)
            raise ProviderUnavailable("实名核验服务应答无法识别")
        return answer.result

    def _headers(self, body: bytes) -> dict[str, str]:
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        signature = sign(self._key.get_secret_value(), "POST", self._path, timestamp, nonce, body)
        return {
            "Content-Type": "application/json; charset=utf-8",
            "Authorization": f"{SIGNATURE_SCHEME} Timestamp={timestamp}, Nonce={nonce}, "
            f"Signature={signature}",
        }
