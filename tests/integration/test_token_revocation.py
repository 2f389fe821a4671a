"""A revoked binding, a disabled account and an ended session stop their tokens in every service
within 5 seconds (issue 17), long before the tokens expire. The revocations are published
straight to the stack's identity topic, as the identity service will publish them."""

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from shared.auth import DEV_KID, Role, load_private_key, sign_access_token
from shared.contracts import encode_event, new_envelope
from shared.contracts.envelope import EventPayload
from shared.contracts.identity import (
    DEV_ISSUER,
    AccessClaims,
    AccountDisabled,
    RoleBindingRevoked,
    SessionRevoked,
)
from shared.contracts.topics import IDENTITY_EVENTS
from shared.kafka import ensure_topics
from tests.conftest import DEV_TOKEN_PRIVATE_KEY
from tests.integration.conftest import Stack, side_service

pytestmark = pytest.mark.integration

WITHIN_SECONDS = 5.0
SERVICES = ("enrollment", "projector", "relief", "legal", "competitions", "partners")

# One call per service that a signed-in admin (A) or the member themself (M) is answered 2xx.
Probe = Callable[[httpx.AsyncClient, "Tokens"], Awaitable[httpx.Response]]


class Tokens:
    """An admin's and a member's token that share what a revocation names (bid, sid, sub)."""

    def __init__(self, claims: dict[str, Any], issued_at: float | None = None) -> None:
        self.member_id = uuid.uuid4()
        self.admin = _sign(AccessClaims(role=Role.ADMIN, **claims), issued_at)
        self.member = _sign(AccessClaims(role=Role.MEMBER, member_id=self.member_id, **claims), issued_at)

    def of(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin if who == 'admin' else self.member}"}


def _sign(claims: AccessClaims, issued_at: float | None) -> str:
    key = load_private_key(DEV_TOKEN_PRIVATE_KEY)
    return sign_access_token(key, DEV_KID, claims, issuer=DEV_ISSUER, ttl_seconds=900, now=issued_at)


def _probes(s: Stack, union_id: uuid.UUID) -> dict[str, Probe]:
    url = {name: svc.url for name, svc in s.services.items()}

    def get(service: str, path: Callable[["Tokens"], str], who: str) -> Probe:
        async def call(http: httpx.AsyncClient, tokens: Tokens) -> httpx.Response:
            return await http.get(f"{url[service]}{path(tokens)}", headers=tokens.of(who))

        return call

    return {
        "enrollment": get("enrollment", lambda t: f"/unions/{union_id}/subtree", "admin"),
        "projector": get("projector", lambda t: "/projection/status", "admin"),
        "relief": get("relief", lambda t: f"/members/{t.member_id}/personal-data", "member"),
        "legal": get("legal", lambda t: f"/members/{t.member_id}/personal-data", "member"),
        "competitions": get("competitions", lambda t: f"/members/{t.member_id}/personal-data", "member"),
        "partners": get("partners", lambda t: "/partners", "admin"),
    }


@pytest.fixture
async def probes(stack_env: Stack, http: httpx.AsyncClient) -> dict[str, Probe]:
    assert set(stack_env.services) >= set(SERVICES)
    body = {"name": f"吊销测试总工会-{uuid.uuid4().hex[:6]}", "kind": "city", "region": "330100"}
    r = await http.post(
        f"{stack_env.services['enrollment'].url}/unions", json=body, headers=stack_env.headers(Role.ADMIN)
    )
    assert r.status_code == 201, r.text
    return _probes(stack_env, uuid.UUID(r.json()["union_id"]))


async def _statuses(http: httpx.AsyncClient, probes: dict[str, Probe], tokens: Tokens) -> dict[str, int]:
    answers = await asyncio.gather(*(probe(http, tokens) for probe in probes.values()))
    return {name: r.status_code for name, r in zip(probes, answers, strict=True)}


async def _publish(s: Stack, producer: AIOKafkaProducer, payload: EventPayload, subject: str) -> None:
    envelope = new_envelope(
        payload, source="identity", subject=subject, subject_version=1, correlation_id="t"
    )
    await producer.send_and_wait(s.topic(IDENTITY_EVENTS), encode_event(envelope), key=subject.encode())


async def _refused_everywhere_within(
    http: httpx.AsyncClient, probes: dict[str, Probe], tokens: Tokens, since: float
) -> dict[str, float]:
    """When each service first answered 401 to the tokens, seconds after `since`."""
    refused: dict[str, float] = {}
    while len(refused) < len(probes) and time.monotonic() - since < WITHIN_SECONDS:
        for name, status in (await _statuses(http, probes, tokens)).items():
            if status == 401 and name not in refused:
                refused[name] = time.monotonic() - since
        await asyncio.sleep(0.1)
    return refused


async def _check_revocation(
    s: Stack,
    http: httpx.AsyncClient,
    producer: AIOKafkaProducer,
    probes: dict[str, Probe],
    revoked: Tokens,
    untouched: Tokens,
    payload: EventPayload,
    subject: str,
) -> None:
    before = await _statuses(http, probes, revoked)
    assert all(200 <= status < 300 for status in before.values()), before
    # A record that is no identity event on the way: the followers skip it and read on.
    await producer.send_and_wait(s.topic(IDENTITY_EVENTS), b"\x00 not an event", key=b"junk")
    since = time.monotonic()
    await _publish(s, producer, payload, subject)
    refused = await _refused_everywhere_within(http, probes, revoked, since)
    assert sorted(refused) == sorted(SERVICES), f"refused within {WITHIN_SECONDS}s only by {refused}"
    reason = await probes["partners"](http, revoked)
    assert reason.json()["detail"] == "token revoked"
    after = await _statuses(http, probes, untouched)
    assert all(200 <= status < 300 for status in after.values()), after


async def test_a_revoked_role_binding_stops_its_tokens_in_every_service(
    stack_env: Stack, http: httpx.AsyncClient, kafka_producer: AIOKafkaProducer, probes: dict[str, Probe]
) -> None:
    account, binding = uuid.uuid4(), uuid.uuid4()
    revoked = Tokens({"sub": str(account), "bid": binding})
    untouched = Tokens({"sub": str(account), "bid": uuid.uuid4()})  # another binding
    payload = RoleBindingRevoked(
        binding_id=binding, account_id=account, revoked_by="admin:test", revoked_at=datetime.now(UTC)
    )
    await _check_revocation(
        stack_env, http, kafka_producer, probes, revoked, untouched, payload, str(account)
    )


async def test_a_disabled_account_stops_the_tokens_issued_before(
    stack_env: Stack, http: httpx.AsyncClient, kafka_producer: AIOKafkaProducer, probes: dict[str, Probe]
) -> None:
    account = uuid.uuid4()
    now = time.time()
    revoked = Tokens({"sub": str(account)}, issued_at=now - 20)
    # Issued after the account was disabled (say, enabled again and signed in anew): it works.
    untouched = Tokens({"sub": str(account)}, issued_at=now)
    payload = AccountDisabled(account_id=account, disabled_at=datetime.fromtimestamp(now - 10, UTC))
    await _check_revocation(
        stack_env, http, kafka_producer, probes, revoked, untouched, payload, str(account)
    )


async def test_a_revoked_session_stops_its_tokens_in_every_service(
    stack_env: Stack, http: httpx.AsyncClient, kafka_producer: AIOKafkaProducer, probes: dict[str, Probe]
) -> None:
    account, session = uuid.uuid4(), uuid.uuid4()
    revoked = Tokens({"sub": str(account), "sid": session})
    untouched = Tokens({"sub": str(account), "sid": uuid.uuid4()})  # another device
    payload = SessionRevoked(session_id=session, account_id=account, revoked_at=datetime.now(UTC))
    await _check_revocation(
        stack_env, http, kafka_producer, probes, revoked, untouched, payload, str(account)
    )


async def test_a_service_started_after_a_revocation_refuses_the_token_from_its_first_request(
    stack_env: Stack, http: httpx.AsyncClient, kafka_producer: AIOKafkaProducer, tmp_path: Path
) -> None:
    """Ready only once it has read the revocations: a restarted service forgets none."""
    tag, account, session = "late", uuid.uuid4(), uuid.uuid4()
    topic = f"{stack_env.topic_prefix}{tag}.{IDENTITY_EVENTS}"
    await ensure_topics(stack_env.bootstrap, {topic: 1})
    payload = SessionRevoked(session_id=session, account_id=account, revoked_at=datetime.now(UTC))
    envelope = new_envelope(
        payload, source="identity", subject=str(account), subject_version=1, correlation_id="t"
    )
    await kafka_producer.send_and_wait(topic, encode_event(envelope), key=str(account).encode())
    revoked = Tokens({"sub": str(account), "sid": session})
    other = Tokens({"sub": str(account), "sid": uuid.uuid4()})
    async with side_service(stack_env, "partners", tag, tmp_path) as partners:
        first = await http.get(f"{partners.url}/partners", headers=revoked.of("admin"))
        assert first.status_code == 401 and first.json()["detail"] == "token revoked"
        assert (await http.get(f"{partners.url}/partners", headers=other.of("admin"))).status_code == 200
