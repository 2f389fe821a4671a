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
from services.identity.adapters import signature
from services.identity.adapters.realname import HttpRealNameProvider, RealNameProviderSettings
from services.identity.domain.ports import ProviderUnavailable, RealNameVerdict

pytestmark = pytest.mark.integration

REALNAME_KEY = "realname-tests-only-" + "k" * 24
NAME = "李小梅"
ID_NUMBER = national_id(random.Random(17))


@pytest.fixture
def provider_fake() -> Iterator[FakeRealNameProvider]:
    with running_fake_realname_provider(key=REALNAME_KEY) as fake:
        yield fake


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
