"""Partner offer ingress on the real broker and database: both paths (a partner's own topic and the
HTTP API), ownership, rejections dead-lettered and visible to their partner, versions in any order,
and a good offer on a member's card."""

import json
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from scripts.identity_client import IdentityClient
from scripts.partner_kafka_access import grant
from shared.auth import Role
from shared.contracts import decode_event
from shared.contracts.topics import (
    PARTNERS_EVENTS,
    dead_letter_topic,
    partner_offers_topic,
    partner_rejections_topic,
)
from tests.integration.conftest import Stack, eventually, partner_listener, read_topic
from tests.integration.test_enrollment_to_card import Api

pytestmark = pytest.mark.integration


class Partners:
    """The federation admin's and the partners' calls to the partners service."""

    def __init__(self, s: Stack, http: httpx.AsyncClient) -> None:
        self.s = s
        self.http = http
        self.url = s.services["partners"].url
        self.admin = s.headers(Role.ADMIN)

    async def register(self, name: str) -> tuple[str, str]:
        partner_id = f"{name}-{uuid.uuid4().hex[:6]}"
        r = await self.http.post(
            f"{self.url}/partners",
            json={"partner_id": partner_id, "name": f"{name} 平台"},
            headers=self.admin,
        )
        assert r.status_code == 201, r.text
        return partner_id, r.json()["key"]["api_key"]

    async def merchant(self, partner_id: str, merchant_id: str, region: str = "330100") -> None:
        body = {
            "name": f"商户 {merchant_id}",
            "category": "dining",
            "region": region,
            "address": "湖滨路 1 号",
        }
        r = await self.http.put(
            f"{self.url}/partners/{partner_id}/merchants/{merchant_id}", json=body, headers=self.admin
        )
        assert r.status_code == 200, r.text

    async def submit(self, key: str, body: Any) -> httpx.Response:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return await self.http.post(
            f"{self.url}/partner-api/v1/offers",
            content=content,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )

    async def get(self, key: str, path: str) -> httpx.Response:
        return await self.http.get(
            f"{self.url}/partner-api/v1{path}", headers={"Authorization": f"Bearer {key}"}
        )

    async def rejections(self, key: str) -> list[dict[str, Any]]:
        r = await self.get(key, "/rejections")
        assert r.status_code == 200, r.text
        items: list[dict[str, Any]] = r.json()["items"]
        return items

    async def offer_version(self, key: str, offer_id: str) -> int | None:
        r = await self.get(key, f"/offers/{offer_id}")
        return int(r.json()["version"]) if r.status_code == 200 else None


@pytest.fixture
def partners(stack_env: Stack, http: httpx.AsyncClient) -> Partners:
    return Partners(stack_env, http)


def offer(merchant_id: str, offer_id: str, version: int = 1, **changes: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    body: dict[str, Any] = {
        "action": "create" if version == 1 else "update",
        "merchant_id": merchant_id,
        "offer_id": offer_id,
        "version": version,
        "title": f"会员专享 v{version}",
        "discount": {"kind": "percent", "percent": "15"},
        "category": "dining",
        "region": "330100",
        "valid_from": (now - timedelta(days=1)).isoformat(),
        "valid_until": (now + timedelta(days=30)).isoformat(),
        "eligibility": "all_members",
    }
    body.update(changes)
    return body


async def published(s: Stack, offer_key: str) -> list[dict[str, Any]]:
    """The partners service's events about one offer, in order."""
    found = []
    for record in await read_topic(s.bootstrap, s.topic(PARTNERS_EVENTS)):
        envelope, payload = decode_event(record.value)
        if envelope.subject == offer_key:
            found.append({"type": envelope.event_type, **payload.model_dump(mode="json")})
    return found


async def test_a_good_offer_over_http_reaches_the_member_card(
    partners: Partners, stack_env: Stack, http: httpx.AsyncClient
) -> None:
    partner_id, key = await partners.register("meituan")
    await partners.merchant(partner_id, f"{partner_id}-shop")
    r = await partners.submit(key, offer(f"{partner_id}-shop", "winter-dining"))
    assert r.status_code == 202, r.text
    assert r.json()["topic"] == stack_env.topic(partner_offers_topic(partner_id))

    assert await eventually(lambda: partners.offer_version(key, "winter-dining")) == 1
    events = await eventually(lambda: published(stack_env, f"{partner_id}/winter-dining"))
    assert [(e["type"], e["version"]) for e in events] == [("partners.OfferPublished", 1)]

    api = Api(stack_env, http)
    member = await api.enrolled_member((await api.tree())["logistics"])  # region 330100, like the offer
    me = stack_env.headers(Role.MEMBER, member_id=uuid.UUID(member["member_id"]))

    async def on_card() -> list[str]:
        r = await http.get(f"{api.cards}/cards/{member['member_id']}/offers", headers=me)
        return [item["offer_key"] for item in r.json()["items"]] if r.status_code == 200 else []

    assert f"{partner_id}/winter-dining" in await eventually(on_card)


async def test_another_partners_merchant_is_refused_and_the_refusal_is_visible(
    partners: Partners, stack_env: Stack
) -> None:
    a, key_a = await partners.register("acme")
    b, _ = await partners.register("other")
    await partners.merchant(a, f"{a}-shop")
    await partners.merchant(b, f"{b}-shop")

    r = await partners.submit(key_a, offer(f"{b}-shop", "poach"))
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "invalid_input" and r.json()["status"] == 422
    assert any(f"not one of your merchants (partner '{a}')" in reason for reason in r.json()["reasons"])
    # Same answer for a merchant that does not exist at all: nothing learned about B.
    unknown = await partners.submit(key_a, offer("no-such-shop", "poach"))
    assert unknown.json()["reasons"][0].replace("no-such-shop", f"{b}-shop") == r.json()["reasons"][0]

    rejections = await partners.rejections(key_a)
    assert [x["offer_id"] for x in rejections] == ["poach", "poach"]
    assert all(x["outcome"] == "rejected" and x["source"] == "http" for x in rejections)

    async def letters() -> list[Any]:
        return [
            rec
            for rec in await read_topic(stack_env.bootstrap, stack_env.topic(dead_letter_topic("partners")))
            if dict(rec.headers).get("deadletter_topic") == stack_env.topic(partner_offers_topic(a)).encode()
        ]

    dead = await eventually(letters)
    assert b"not one of your merchants" in dict(dead[0].headers)["deadletter_reason"]
    assert json.loads(dead[0].value)["merchant_id"] == f"{b}-shop"  # the bytes as the partner sent them

    notices = await eventually(
        lambda: read_topic(stack_env.bootstrap, stack_env.topic(partner_rejections_topic(a)))
    )
    assert json.loads(notices[0].value)["offer_id"] == "poach"
    # B's own log knows nothing of A's attempt.
    r_b = await partners.http.get(f"{partners.url}/partners/{b}/rejections", headers=partners.admin)
    assert r_b.json()["items"] == []


async def test_events_on_the_partners_own_topic_in_any_order_and_resent(
    partners: Partners, stack_env: Stack, kafka_producer: AIOKafkaProducer
) -> None:
    partner_id, key = await partners.register("eleme")
    shop = f"{partner_id}-shop"
    await partners.merchant(partner_id, shop)
    topic = stack_env.topic(partner_offers_topic(partner_id))

    async def send(body: Any) -> None:
        value = body if isinstance(body, bytes) else json.dumps(body).encode()
        await kafka_producer.send_and_wait(topic, value, key=b"noodles")

    v1, v2, v3 = (offer(shop, "noodles", v, title=f"面馆 v{v}") for v in (1, 2, 3))
    await send(v2)  # overtakes its creation
    await send(v1)  # older: stale, never overwrites v2
    await send(v2)  # re-sent: idempotent
    await send({**v2, "title": "changed without a new version"})  # same version, other content
    await send(b"\x00 garbage")
    await send({**v3, "valid_until": "2020-01-01T00:00:00+08:00"})  # already ended
    await send(v3)
    withdraw = {"action": "withdraw", "merchant_id": shop, "offer_id": "noodles", "version": 4}
    await send(withdraw)
    await send(withdraw)  # re-sent withdrawal
    await send({**offer(shop, "noodles", 5)})  # after withdrawal: refused

    async def settled() -> list[dict[str, Any]] | None:
        found = await partners.rejections(key)
        return found if len(found) >= 5 else None

    rejections = await eventually(settled)
    by_outcome = [(x["outcome"], x["version"]) for x in rejections]
    assert by_outcome == [("stale", 1), ("rejected", 2), ("rejected", None), ("rejected", 3), ("rejected", 5)]
    reasons = [x["reasons"][0] for x in rejections]
    assert "older than the accepted version 2" in reasons[0]
    assert "already accepted with other content" in reasons[1]
    assert "not JSON the union accepts" in reasons[2]
    assert "already ended" in reasons[3]
    assert "withdrawn at version 4" in reasons[4]

    events = await eventually(lambda: published(stack_env, f"{partner_id}/noodles"))
    assert [(e["type"], e["version"]) for e in events] == [
        ("partners.OfferPublished", 2),
        ("partners.OfferPublished", 3),
        ("partners.OfferWithdrawn", 4),
    ]
    assert events[0]["title"] == "面馆 v2"
    state = (await partners.get(key, "/offers/noodles")).json()
    assert state["version"] == 4 and state["withdrawn"] is True
    outcomes = [h["outcome"] for h in state["history"]]
    assert outcomes.count("duplicate") == 2 and outcomes.count("accepted") == 3


async def test_partner_credentials_are_checked(partners: Partners) -> None:
    partner_id, key = await partners.register("auth")
    await partners.merchant(partner_id, f"{partner_id}-shop")
    body = offer(f"{partner_id}-shop", "x")
    assert (await partners.http.post(f"{partners.url}/partner-api/v1/offers", json=body)).status_code == 401
    assert (await partners.submit(key, b"{" + b" " * 20_000 + b"}")).status_code == 413
    forged = f"zjp_{partner_id}_{'A' * 43}"
    assert (await partners.submit(forged, body)).status_code == 401

    # A second key, then the first revoked: only the second works.
    r = await partners.http.post(f"{partners.url}/partners/{partner_id}/keys", headers=partners.admin)
    second = r.json()["api_key"]
    assert (await partners.submit(key, body)).status_code == 202
    third = await partners.http.post(f"{partners.url}/partners/{partner_id}/keys", headers=partners.admin)
    revoked = await partners.http.delete(
        f"{partners.url}/partners/{partner_id}/keys/{third.json()['key_id']}", headers=partners.admin
    )
    assert revoked.status_code == 204
    assert (await partners.submit(third.json()["api_key"], body)).status_code == 401
    assert (await partners.submit(second, {**body, "version": 2})).status_code == 202
    # A cadre or member token is not an admin: partners are the federation's to manage.
    cadre = partners.s.headers(Role.CADRE, union_id=uuid.uuid4())
    assert (await partners.http.get(f"{partners.url}/partners", headers=cadre)).status_code == 403

    r = await partners.http.post(
        f"{partners.url}/partners/{partner_id}/suspend",
        json={"reason": "contract ended"},
        headers=partners.admin,
    )
    assert r.json()["status"] == "suspended"
    suspended = await partners.submit(second, body)
    assert suspended.status_code == 403 and "suspended" in suspended.json()["detail"]
    # A refusal is problem details (RFC 9457), the same shape in every service.
    assert suspended.headers["content-type"] == "application/problem+json"
    assert suspended.json()["code"] == "forbidden" and suspended.json()["status"] == 403


async def test_bad_admin_requests_get_reasons(partners: Partners) -> None:
    r = await partners.http.post(
        f"{partners.url}/partners", json={"partner_id": "Bad Id!", "name": "x"}, headers=partners.admin
    )
    assert r.status_code == 422
    partner_id, _ = await partners.register("dup")
    again = await partners.http.post(
        f"{partners.url}/partners", json={"partner_id": partner_id, "name": "x"}, headers=partners.admin
    )
    assert again.status_code == 409
    other, _ = await partners.register("owner")
    await partners.merchant(other, f"{other}-shop")
    steal = await partners.http.put(
        f"{partners.url}/partners/{partner_id}/merchants/{other}-shop",
        json={"name": "x", "category": "dining", "region": "330100"},
        headers=partners.admin,
    )
    assert steal.status_code == 409
    bad_region = await partners.http.put(
        f"{partners.url}/partners/{partner_id}/merchants/m1",
        json={"name": "x", "category": "dining", "region": "990000"},
        headers=partners.admin,
    )
    assert bad_region.status_code == 422 and "province" in bad_region.json()["detail"]


async def test_a_partner_on_its_authenticated_kafka_listener_reaches_the_service(
    partners: Partners, stack_env: Stack, infra: dict[str, str]
) -> None:
    """The real partner path: SCRAM login on the partner listener, its own topic, nothing else."""
    external = partner_listener(infra)
    if external is None:
        pytest.skip("this broker has no partner listener (started by testcontainers, not deploy/infra.sh)")
    partner_id, key = await partners.register("sasl")
    await partners.merchant(partner_id, f"{partner_id}-shop")
    password = secrets.token_urlsafe(24)
    await grant(stack_env.bootstrap, partner_id, stack_env.topic_prefix, password, partitions=3)

    producer = AIOKafkaProducer(
        bootstrap_servers=external,
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_plain_username=partner_id,
        sasl_plain_password=password,
        enable_idempotence=True,
    )
    await producer.start()
    try:
        body = json.dumps(offer(f"{partner_id}-shop", "over-kafka")).encode()
        await producer.send_and_wait(
            stack_env.topic(partner_offers_topic(partner_id)), body, key=b"over-kafka"
        )
    finally:
        await producer.stop()
    assert await eventually(lambda: partners.offer_version(key, "over-kafka")) == 1


async def test_a_partners_staff_signed_in_through_identity_use_the_partner_api_without_its_key(
    partners: Partners,
) -> None:
    """Till staff hold an identity token bound to their partner (role partner_staff), never the
    partner's API key; the token reaches that partner only, and a revoked binding stops it."""
    partner_id, key = await partners.register("till")
    await partners.merchant(partner_id, f"{partner_id}-shop")
    identity = IdentityClient(partners.http, partners.s.services["identity"].url, Path("unused"))
    username = f"till.{uuid.uuid4().hex[:8]}"
    account, password = await identity.staff_account(partners.admin, username)
    binding = await identity.grant(partners.admin, account, "partner_staff", partner_id=partner_id)
    staff = await identity.staff_sign_in(username, password)

    mine = await partners.get(staff.access_token, "/merchants")
    assert mine.status_code == 200, mine.text
    assert [m["merchant_id"] for m in mine.json()] == [f"{partner_id}-shop"]
    assert (await partners.submit(staff.access_token, offer(f"{partner_id}-shop", "till"))).status_code == 202

    # Another role's token is no partner's: refused with the reason; garbage is no token at all.
    for role, claims in ((Role.CADRE, {"union_id": uuid.uuid4()}), (Role.ADMIN, {}), (Role.MEMBER, {})):
        answer = await partners.get(partners.s.token(role, **claims), "/merchants")
        assert answer.status_code == 403 and "partner_staff" in answer.json()["detail"], (
            role,
            answer.text,
        )
    assert (await partners.get("not-a-token", "/merchants")).status_code == 401
    other = partners.s.token(Role.PARTNER_STAFF, partner_id=f"nobody-{uuid.uuid4().hex[:6]}")
    assert (await partners.get(other, "/merchants")).status_code == 403

    revoke = f"{identity.url}/staff/accounts/{account}/bindings/{binding}/revoke"
    assert (await partners.http.post(revoke, headers=partners.admin)).status_code == 200

    async def refused() -> bool:
        return (await partners.get(staff.access_token, "/merchants")).status_code == 401

    await eventually(refused, timeout=5)
    assert (await partners.get(key, "/merchants")).status_code == 200  # the partner's key lives on
