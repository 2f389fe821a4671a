"""The identity adapters' own rules, with httpx's MockTransport in place of the network."""

import hashlib
import json

import httpx
import pytest
from pydantic import ValidationError

from services.identity.adapters import string_to_sign
from services.identity.adapters.realname import (
    HttpRealNameProvider,
    RealNameProviderSettings,
)
from services.identity.adapters.sms_gateway import SmsGatewayNotifier, SmsGatewaySettings
from services.identity.domain.ports import NotifierUnavailable, ProviderUnavailable, RealNameVerdict

KEY = "unit-tests-only-realname-key-" + "k" * 8
URL = "https://idv.example.cn/v1/verifications"


def provider(handler: httpx.MockTransport) -> HttpRealNameProvider:
    return HttpRealNameProvider(RealNameProviderSettings(url=URL, key=KEY), transport=handler)


def answering(result: str) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json={"request_id": json.loads(request.content)["request_id"], "result": result}
        )

    return httpx.MockTransport(answer)


def test_string_to_sign_is_method_path_timestamp_nonce_and_body_digest() -> None:
    body = b'{"a":1}'
    assert string_to_sign("post", "/v1/verifications", "1700000000", "ab12", body) == (
        f"POST\n/v1/verifications\n1700000000\nab12\n{hashlib.sha256(body).hexdigest()}"
    )


async def test_one_connection_error_is_retried_with_a_fresh_signature() -> None:
    calls: list[httpx.Request] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(
            200, json={"request_id": json.loads(request.content)["request_id"], "result": "match"}
        )

    adapter = provider(httpx.MockTransport(flaky))
    assert await adapter.verify("张三", "110101199003070011") == RealNameVerdict.MATCH
    assert len(calls) == 2
    assert calls[0].headers["authorization"] != calls[1].headers["authorization"]  # a new nonce
    await adapter.aclose()


async def test_a_second_connection_error_is_unavailable() -> None:
    calls: list[httpx.Request] = []

    def down(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ConnectTimeout("timed out", request=request)

    adapter = provider(httpx.MockTransport(down))
    with pytest.raises(ProviderUnavailable) as raised:
        await adapter.verify("张三", "110101199003070011")
    assert len(calls) == 2
    chain: list[BaseException] = []
    linked: BaseException | None = raised.value
    while linked is not None:
        chain.append(linked)
        linked = linked.__cause__ or linked.__context__
    assert not any(isinstance(e, httpx.HTTPError) for e in chain)  # its request holds the ID number
    await adapter.aclose()


async def test_a_read_timeout_is_not_retried() -> None:
    calls: list[httpx.Request] = []

    def slow(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ReadTimeout("timed out", request=request)

    adapter = provider(httpx.MockTransport(slow))
    with pytest.raises(ProviderUnavailable):
        await adapter.verify("张三", "110101199003070011")
    assert len(calls) == 1
    await adapter.aclose()


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(401, json={"error": "bad signature"}),
        httpx.Response(500, text="oops"),
        httpx.Response(200, json={"request_id": "someone-else", "result": "match"}),
        httpx.Response(200, json={"result": "perhaps"}),
        httpx.Response(200, text="<html>"),
    ],
    ids=["refused", "server-error", "other-request", "unknown-result", "not-json"],
)
async def test_anything_but_a_verdict_for_this_request_is_unavailable(response: httpx.Response) -> None:
    adapter = provider(httpx.MockTransport(lambda _request: response))
    with pytest.raises(ProviderUnavailable) as raised:
        await adapter.verify("张三", "110101199003070011")
    assert raised.value.__context__ is None  # no parsing error quoting the answer rides along
    await adapter.aclose()


async def test_the_verdict_is_the_providers() -> None:
    for result in ("match", "mismatch"):
        adapter = provider(answering(result))
        assert await adapter.verify("张三", "110101199003070011") == RealNameVerdict(result)
        await adapter.aclose()


def test_realname_settings_come_from_the_environment_and_never_print_the_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REALNAME_PROVIDER_URL", URL)
    monkeypatch.setenv("REALNAME_PROVIDER_KEY", KEY)
    settings = RealNameProviderSettings()
    assert (str(settings.url), settings.key.get_secret_value(), settings.timeout) == (URL, KEY, 5.0)
    monkeypatch.setenv("REALNAME_PROVIDER_KEY", "short-secret")
    with pytest.raises(ValidationError) as refused:
        RealNameProviderSettings()
    assert "short-secret" not in str(refused.value)  # a startup error must not print the key
    monkeypatch.delenv("REALNAME_PROVIDER_URL")
    with pytest.raises(ValidationError):
        HttpRealNameProvider.from_env()


SMS_ENV = {
    "SMS_GATEWAY_URL": "https://sms.example.cn/v1/messages",
    "SMS_GATEWAY_KEY_ID": "zhijia-prod",
    "SMS_GATEWAY_SECRET": "unit-tests-only-sms-secret",
    "SMS_SIGN_NAME": "职工之家",
    "SMS_TEMPLATE_ID": "SMS_270145",
}


def sms_settings(monkeypatch: pytest.MonkeyPatch) -> SmsGatewaySettings:
    for name, value in SMS_ENV.items():
        monkeypatch.setenv(name, value)
    return SmsGatewaySettings()


async def test_a_code_is_sent_as_template_params_signed_with_the_key_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[httpx.Request] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(
            200, json={"request_id": json.loads(request.content)["request_id"], "code": "OK"}
        )

    notifier = SmsGatewayNotifier(sms_settings(monkeypatch), transport=httpx.MockTransport(gateway))
    await notifier.send_code("13912345678", "583920", purpose="sign_in")
    await notifier.aclose()
    [request] = sent
    body = json.loads(request.content)
    del body["request_id"]
    assert body == {
        "phone_number": "13912345678",
        "sign_name": "职工之家",
        "template_id": "SMS_270145",
        "template_params": {"code": "583920"},
    }
    assert str(request.url) == SMS_ENV["SMS_GATEWAY_URL"]
    assert request.headers["authorization"].startswith("ZJ-HMAC-SHA256 KeyId=zhijia-prod, Timestamp=")


@pytest.mark.parametrize(
    "answer",
    [
        {"code": "isv.BUSINESS_LIMIT_CONTROL"},
        {"code": "OK", "request_id": "someone-else"},
        {"status": "sent"},
    ],
    ids=["refused", "other-request", "unknown-shape"],
)
async def test_anything_but_an_accepted_send_is_unavailable(
    monkeypatch: pytest.MonkeyPatch, answer: dict[str, str]
) -> None:
    def gateway(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"request_id": json.loads(request.content)["request_id"], **answer})

    notifier = SmsGatewayNotifier(sms_settings(monkeypatch), transport=httpx.MockTransport(gateway))
    with pytest.raises(NotifierUnavailable):
        await notifier.send_code("13912345678", "583920", purpose="sign_in")
    await notifier.aclose()


def test_sms_settings_refuse_a_header_breaking_key_id_and_never_print_the_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert sms_settings(monkeypatch).gateway_timeout == 5.0
    monkeypatch.setenv("SMS_GATEWAY_KEY_ID", "a, Signature=00")
    with pytest.raises(ValidationError):
        SmsGatewayNotifier.from_env()
    monkeypatch.setenv("SMS_GATEWAY_SECRET", "too-short")
    with pytest.raises(ValidationError) as refused:
        SmsGatewaySettings()
    assert "too-short" not in str(refused.value)
