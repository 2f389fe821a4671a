"""The identity service's adapters against the loopback fakes, over real HTTP (no Kafka needed)."""

import json
import random
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
import structlog

from scripts.fake_people import national_id, with_bad_checksum
from scripts.fake_realname_provider import FakeRealNameProvider, running_fake_realname_provider
from scripts.fake_sms_gateway import FakeSmsGateway, running_fake_sms_gateway
from services.identity.adapters import signature
from services.identity.adapters.realname import HttpRealNameProvider, RealNameProviderSettings
from services.identity.adapters.sms_gateway import SmsGatewayNotifier, SmsGatewaySettings
from services.identity.domain.ports import NotifierUnavailable, ProviderUnavailable, RealNameVerdict

pytestmark = pytest.mark.integration

REALNAME_KEY = "realname-tests-only-" + "k" * 24
NAME = "李小梅"
ID_NUMBER = national_id(random.Random(17))
SMS_KEY_ID = "zhijia-tests"
SMS_SECRET = "sms-tests-only-secret-" + "s" * 24
PHONE = "13912345678"
CODE = "583920"


@pytest.fixture
def provider_fake() -> Iterator[FakeRealNameProvider]:
    with running_fake_realname_provider(key=REALNAME_KEY) as fake:
        yield fake


@pytest.fixture
def sms_fake() -> Iterator[FakeSmsGateway]:
    with running_fake_sms_gateway(key_id=SMS_KEY_ID, secret=SMS_SECRET) as fake:
        yield fake


def sms_adapter(
    url: str, key_id: str = SMS_KEY_ID, secret: str = SMS_SECRET, timeout: float = 2.0
) -> SmsGatewayNotifier:
    return SmsGatewayNotifier(
        SmsGatewaySettings(
            gateway_url=url,
            gateway_key_id=key_id,
            gateway_secret=secret,
            sign_name="职工之家",
            template_id="SMS_270145",
            gateway_timeout=timeout,
        )
    )


def realname_adapter(url: str, key: str = REALNAME_KEY, timeout: float = 2.0) -> HttpRealNameProvider:
    return HttpRealNameProvider(RealNameProviderSettings(url=url, key=key, timeout=timeout))


@pytest.fixture
def logged(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> Iterator[Callable[[], str]]:
    """Everything logged while the test runs (structlog's events, the standard library's records,
    the process's output), as one text to search for secrets."""
    caplog.set_level("DEBUG")
    with structlog.testing.capture_logs() as events:

        def text() -> str:
            out, err = capsys.readouterr()
            return "\n".join([repr(events), caplog.text, out, err])

        yield text


async def test_name_and_id_that_belong_together_match(provider_fake: FakeRealNameProvider) -> None:
    adapter = realname_adapter(provider_fake.url)
    try:
        assert await adapter.verify(NAME, ID_NUMBER) == RealNameVerdict.MATCH
    finally:
        await adapter.aclose()
    assert provider_fake.verifications == 1


async def test_a_pair_registered_as_mismatch_over_http_answers_mismatch(
    provider_fake: FakeRealNameProvider,
) -> None:
    async with httpx.AsyncClient() as http:
        registered = await http.post(
            f"{provider_fake.base_url}/_control/mismatches", json={"name": NAME, "id_number": ID_NUMBER}
        )
    assert registered.status_code == 204
    adapter = realname_adapter(provider_fake.url)
    try:
        assert await adapter.verify(NAME, ID_NUMBER) == RealNameVerdict.MISMATCH
        assert await adapter.verify("王大伟", ID_NUMBER) == RealNameVerdict.MATCH  # only that pair
    finally:
        await adapter.aclose()


async def test_unknown_number_or_impossible_name_is_a_mismatch(provider_fake: FakeRealNameProvider) -> None:
    adapter = realname_adapter(provider_fake.url)
    try:
        assert await adapter.verify(NAME, with_bad_checksum(ID_NUMBER)) == RealNameVerdict.MISMATCH
        assert await adapter.verify("李", ID_NUMBER) == RealNameVerdict.MISMATCH
        assert await adapter.verify("李" * 31, ID_NUMBER) == RealNameVerdict.MISMATCH
    finally:
        await adapter.aclose()


@pytest.mark.parametrize("mode", ["unavailable", "garbage"])
async def test_provider_failing_or_answering_garbage_is_unavailable(
    provider_fake: FakeRealNameProvider, mode: str
) -> None:
    provider_fake.fail(mode)  # type: ignore[arg-type]
    adapter = realname_adapter(provider_fake.url)
    try:
        with pytest.raises(ProviderUnavailable):
            await adapter.verify(NAME, ID_NUMBER)
        provider_fake.recover()
        assert await adapter.verify(NAME, ID_NUMBER) == RealNameVerdict.MATCH
    finally:
        await adapter.aclose()


async def test_provider_too_slow_is_unavailable_after_the_timeout(
    provider_fake: FakeRealNameProvider,
) -> None:
    async with httpx.AsyncClient() as http:
        set_slow = await http.put(
            f"{provider_fake.base_url}/_control/failure", json={"mode": "slow", "seconds": 5}
        )
    assert set_slow.status_code == 204
    adapter = realname_adapter(provider_fake.url, timeout=0.3)
    try:
        with pytest.raises(ProviderUnavailable):
            await adapter.verify(NAME, ID_NUMBER)
    finally:
        await adapter.aclose()
    assert provider_fake.verifications == 1  # a read timeout is not retried: it may have been billed


async def test_provider_down_is_unavailable() -> None:
    with running_fake_realname_provider(key=REALNAME_KEY) as fake:
        url = fake.url
    adapter = realname_adapter(url)  # nothing listens there any more
    try:
        with pytest.raises(ProviderUnavailable):
            await adapter.verify(NAME, ID_NUMBER)
    finally:
        await adapter.aclose()


async def test_wrong_key_is_refused_by_the_provider_and_unavailable(
    provider_fake: FakeRealNameProvider,
) -> None:
    adapter = realname_adapter(provider_fake.url, key="not-the-provider-key-" + "z" * 24)
    try:
        with pytest.raises(ProviderUnavailable):
            await adapter.verify(NAME, ID_NUMBER)
    finally:
        await adapter.aclose()
    assert (provider_fake.refused, provider_fake.verifications) == (1, 0)


async def test_a_replayed_request_is_refused(provider_fake: FakeRealNameProvider) -> None:
    body = json.dumps({"request_id": "r1", "name": NAME, "id_number": ID_NUMBER}).encode()
    timestamp, nonce = str(int(time.time())), "0123456789abcdef0123456789abcdef"
    signed = signature(REALNAME_KEY, "POST", "/v1/verifications", timestamp, nonce, body)
    headers = {"Authorization": f"ZJ-HMAC-SHA256 Timestamp={timestamp}, Nonce={nonce}, Signature={signed}"}
    async with httpx.AsyncClient() as http:
        first = await http.post(provider_fake.url, content=body, headers=headers)
        replayed = await http.post(provider_fake.url, content=body, headers=headers)
    assert (first.status_code, first.json()) == (200, {"request_id": "r1", "result": "match"})
    assert (replayed.status_code, replayed.json()) == (401, {"error": "replayed nonce"})


async def test_name_and_id_number_are_never_logged(
    provider_fake: FakeRealNameProvider, logged: Callable[[], str]
) -> None:
    adapter = realname_adapter(provider_fake.url, timeout=0.3)
    try:
        await adapter.verify(NAME, ID_NUMBER)
        for mode in ("unavailable", "garbage", "slow"):
            provider_fake.fail(mode)
            with pytest.raises(ProviderUnavailable):
                await adapter.verify(NAME, ID_NUMBER)
    finally:
        await adapter.aclose()
    text = logged()
    assert "realname.verified" in text and "realname.bad_status" in text  # the capture works
    assert ID_NUMBER not in text and ID_NUMBER[6:14] not in text and NAME not in text
    assert REALNAME_KEY not in text


async def test_a_code_reaches_the_gateway_with_the_sign_name_and_template(sms_fake: FakeSmsGateway) -> None:
    notifier = sms_adapter(sms_fake.url)
    try:
        await notifier.send_code(PHONE, CODE, purpose="sign_in")
    finally:
        await notifier.aclose()
    [sent] = sms_fake.messages
    assert (sent.phone_number, sent.sign_name, sent.template_id, sent.template_params) == (
        PHONE, "职工之家", "SMS_270145", {"code": CODE},
    )  # fmt: skip
    assert sms_fake.refused == 0  # the signature and key id were right
    async with httpx.AsyncClient() as http:
        kept = await http.get(f"{sms_fake.base_url}/_control/messages", params={"phone_number": PHONE})
    assert [m["template_params"]["code"] for m in kept.json()] == [CODE]
    assert sms_fake.last_code(PHONE) == CODE


@pytest.mark.parametrize(
    ("key_id", "secret"), [(SMS_KEY_ID, "wrong-secret-" + "w" * 24), ("other-key", SMS_SECRET)]
)
async def test_a_wrong_secret_or_key_id_is_refused_by_the_gateway_and_unavailable(
    sms_fake: FakeSmsGateway, key_id: str, secret: str
) -> None:
    notifier = sms_adapter(sms_fake.url, key_id=key_id, secret=secret)
    try:
        with pytest.raises(NotifierUnavailable):
            await notifier.send_code(PHONE, CODE, purpose="sign_in")
    finally:
        await notifier.aclose()
    assert (sms_fake.refused, sms_fake.messages) == (1, [])


async def test_a_gateway_refusal_is_unavailable(sms_fake: FakeSmsGateway) -> None:
    async with httpx.AsyncClient() as http:
        refusing = await http.put(
            f"{sms_fake.base_url}/_control/refusal", json={"code": "isv.BUSINESS_LIMIT_CONTROL"}
        )
    assert refusing.status_code == 204
    notifier = sms_adapter(sms_fake.url)
    try:
        with pytest.raises(NotifierUnavailable):
            await notifier.send_code(PHONE, CODE, purpose="sign_in")
        sms_fake.recover()
        with pytest.raises(NotifierUnavailable):  # a number no carrier serves is refused as well
            await notifier.send_code("12345678901", CODE, purpose="sign_in")
        await notifier.send_code(PHONE, CODE, purpose="sign_in")
    finally:
        await notifier.aclose()
    assert [m.phone_number for m in sms_fake.messages] == [PHONE]


@pytest.mark.parametrize("mode", ["unavailable", "slow", "garbage"])
async def test_gateway_failing_slow_or_answering_garbage_is_unavailable(
    sms_fake: FakeSmsGateway, mode: str
) -> None:
    sms_fake.fail(mode, seconds=5)  # type: ignore[arg-type]
    notifier = sms_adapter(sms_fake.url, timeout=0.3)
    try:
        with pytest.raises(NotifierUnavailable):
            await notifier.send_code(PHONE, CODE, purpose="sign_in")
    finally:
        await notifier.aclose()
    assert sms_fake.messages == []


async def test_gateway_down_is_unavailable() -> None:
    with running_fake_sms_gateway(key_id=SMS_KEY_ID, secret=SMS_SECRET) as fake:
        url = fake.url
    notifier = sms_adapter(url)  # nothing listens there any more
    try:
        with pytest.raises(NotifierUnavailable):
            await notifier.send_code(PHONE, CODE, purpose="sign_in")
    finally:
        await notifier.aclose()


async def test_nothing_secret_is_logged_when_sending_codes(
    sms_fake: FakeSmsGateway, logged: Callable[[], str]
) -> None:
    notifier = sms_adapter(sms_fake.url, timeout=0.3)
    try:
        await notifier.send_code(PHONE, CODE, purpose="sign_in")
        sms_fake.refuse()
        with pytest.raises(NotifierUnavailable):
            await notifier.send_code(PHONE, CODE, purpose="sign_in")
        for mode in ("unavailable", "garbage", "slow"):
            sms_fake.fail(mode)
            with pytest.raises(NotifierUnavailable):
                await notifier.send_code(PHONE, CODE, purpose="sign_in")
    finally:
        await notifier.aclose()
    wrong = sms_adapter(sms_fake.url, secret="wrong-secret-" + "w" * 24)
    try:
        with pytest.raises(NotifierUnavailable):
            await wrong.send_code(PHONE, CODE, purpose="sign_in")
    finally:
        await wrong.aclose()
    text = logged()
    assert "sms.sent" in text and "sms.refused" in text and "139****5678" in text  # the capture works
    assert CODE not in text and PHONE not in text and SMS_SECRET not in text
