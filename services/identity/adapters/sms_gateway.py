"""One-time codes by SMS through an HTTP gateway: the production CodeNotifier.

The request has the shape of the common Chinese SMS services (Aliyun, Tencent Cloud): a sign name
(签名) and a template id approved by the carrier, the template's parameters ({"code": ...}) and
the phone number; HMAC-signed with a key id and a secret (see the package's docstring). Logs name
the masked phone, our request id and the gateway's message id; never the code, the secret or the
whole number.
"""

import time
import uuid
from typing import Self

import httpx
from pydantic import BaseModel, Field, HttpUrl, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.identity.adapters import OutsideUnreachable, SignedJsonClient
from services.identity.domain.ports import NotifierUnavailable
from shared.logging import get_logger
from shared.pii import mask_phone

log = get_logger(__name__)

ACCEPTED = "OK"


class SmsGatewaySettings(BaseSettings):
    """SMS_GATEWAY_URL, SMS_GATEWAY_KEY_ID, SMS_GATEWAY_SECRET, SMS_SIGN_NAME, SMS_TEMPLATE_ID,
    SMS_GATEWAY_TIMEOUT."""

    # A wrong setting's error names the setting, not its value: the value may be the secret.
    model_config = SettingsConfigDict(
        env_prefix="SMS_", env_file=None, extra="ignore", hide_input_in_errors=True
    )

    gateway_url: HttpUrl  # the send endpoint itself, e.g. https://sms.example.cn/v1/messages
    gateway_key_id: str = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")  # goes into a header: no spaces
    gateway_secret: SecretStr = Field(min_length=16)
    sign_name: str = Field(min_length=2, max_length=20)  # the approved 签名, e.g. 职工之家
    template_id: str = Field(min_length=1, max_length=64)  # an approved template with a ${code} parameter
    gateway_timeout: float = Field(default=5.0, gt=0, le=60)


class _Send(BaseModel):
    request_id: str
    phone_number: str
    sign_name: str
    template_id: str
    template_params: dict[str, str]


class _Answer(BaseModel):
    request_id: str
    code: str  # "OK", or the gateway's reason for refusing (a carrier limit, a blocked number ...)
    message_id: str | None = Field(default=None, max_length=128)


class SmsGatewayNotifier:
    def __init__(self, settings: SmsGatewaySettings, transport: httpx.AsyncBaseTransport | None = None):
        self._sign_name = settings.sign_name
        self._template_id = settings.template_id
        self._http = SignedJsonClient(
            str(settings.gateway_url),
            settings.gateway_secret,
            settings.gateway_timeout,
            key_id=settings.gateway_key_id,
            transport=transport,
        )

    @classmethod
    def from_env(cls) -> Self:
        return cls(SmsGatewaySettings())

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send_code(self, phone: str, code: str, *, purpose: str) -> None:
        request_id = str(uuid.uuid4())
        about = {"request_id": request_id, "phone": mask_phone(phone), "purpose": purpose}
        send = _Send(
            request_id=request_id,
            phone_number=phone,
            sign_name=self._sign_name,
            template_id=self._template_id,
            template_params={"code": code},
        )
        started = time.monotonic()
        try:
            response = await self._http.post(send.model_dump_json().encode())
        except OutsideUnreachable as exc:
            log.warning("sms.unreachable", **about, error=str(exc))
            raise NotifierUnavailable("短信网关暂时无法连接") from None
        message_id = self._read(response, about)
        log.info("sms.sent", **about, message_id=message_id, ms=round((time.monotonic() - started) * 1000))

    def _read(self, response: httpx.Response, about: dict[str, str]) -> str | None:
        if response.status_code in (401, 403):
            # Our key or our clock is wrong: an operator must act.
            log.error("sms.refused_credentials", **about, status=response.status_code)
            raise NotifierUnavailable("短信网关暂时不可用")
        if response.status_code != 200:
            log.warning("sms.bad_status", **about, status=response.status_code)
            raise NotifierUnavailable("短信网关暂时不可用")
        try:
            answer: _Answer | None = _Answer.model_validate_json(response.content)
        except ValidationError:
            answer = None  # raised below, outside the clause: the error quotes the answer it read
        if answer is None or answer.request_id != about["request_id"]:
            log.warning("sms.unreadable_answer", **about)
            raise NotifierUnavailable("短信网关应答无法识别")
        if answer.code != ACCEPTED:
            # The gateway's reason is a short code of its own (no message text: it may quote the number).
            log.warning("sms.refused", **about, gateway_code=answer.code[:64])
            raise NotifierUnavailable("短信网关拒绝发送")
        return answer.message_id
