"""Real-name verification (实名核验, name + ID number) over HTTP: the production RealNameProvider.

Requests are HMAC-signed (see the package's docstring). The national ID is in the body only:
never in a log line, an error or the URL.
"""

import time
import uuid
from typing import Self

import httpx
from pydantic import BaseModel, Field, HttpUrl, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.identity.adapters import OutsideUnreachable, SignedJsonClient
from services.identity.domain.ports import ProviderUnavailable, RealNameVerdict
from shared.logging import get_logger

log = get_logger(__name__)


class RealNameProviderSettings(BaseSettings):
    """REALNAME_PROVIDER_URL, REALNAME_PROVIDER_KEY, REALNAME_PROVIDER_TIMEOUT."""

    # A wrong setting's error names the setting, not its value: the value may be the secret.
    model_config = SettingsConfigDict(
        env_prefix="REALNAME_PROVIDER_", env_file=None, extra="ignore", hide_input_in_errors=True
    )

    url: HttpUrl  # the verification endpoint itself, e.g. https://idv.example.cn/v1/verifications
    key: SecretStr = Field(min_length=32)
    timeout: float = Field(default=5.0, gt=0, le=60)  # seconds, for connecting and for the answer each


class _Ask(BaseModel):
    request_id: str
    name: str
    id_number: str


class _Answer(BaseModel):
    request_id: str
    result: RealNameVerdict


class HttpRealNameProvider:
    def __init__(self, settings: RealNameProviderSettings, transport: httpx.AsyncBaseTransport | None = None):
        self._http = SignedJsonClient(str(settings.url), settings.key, settings.timeout, transport=transport)

    @classmethod
    def from_env(cls) -> Self:
        return cls(RealNameProviderSettings())

    async def aclose(self) -> None:
        await self._http.aclose()

    async def verify(self, name: str, national_id: str) -> RealNameVerdict:
        request_id = str(uuid.uuid4())
        started = time.monotonic()
        try:
            response = await self._http.post(
                _Ask(request_id=request_id, name=name, id_number=national_id).model_dump_json().encode()
            )
        except OutsideUnreachable as exc:
            log.warning("realname.unreachable", request_id=request_id, error=str(exc))
            raise ProviderUnavailable("实名核验服务暂时无法连接") from None
        verdict = self._read(response, request_id)
        ms = round((time.monotonic() - started) * 1000)
        log.info("realname.verified", request_id=request_id, verdict=verdict.value, ms=ms)
        return verdict

    def _read(self, response: httpx.Response, request_id: str) -> RealNameVerdict:
        if response.status_code in (401, 403):
            # Our key or our clock is wrong: an operator must act, the member can only wait.
            log.error("realname.refused_credentials", request_id=request_id, status=response.status_code)
            raise ProviderUnavailable("实名核验服务暂时不可用")
        if response.status_code != 200:
            log.warning("realname.bad_status", request_id=request_id, status=response.status_code)
            raise ProviderUnavailable("实名核验服务暂时不可用")
        try:
            answer: _Answer | None = _Answer.model_validate_json(response.content)
        except ValidationError:
            answer = None  # raised below, outside the clause: the error quotes the answer it read
        if answer is None or answer.request_id != request_id:
            log.warning("realname.unreadable_answer", request_id=request_id)
            raise ProviderUnavailable("实名核验服务应答无法识别")
        return answer.result
