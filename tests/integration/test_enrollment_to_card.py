"""End to end on real processes, a real broker and a real database:
HTTP → PostgreSQL → outbox → Kafka → projector → card API."""

import json
import random
import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from scripts.fake_people import person, with_bad_checksum
from shared.auth import Role
from shared.contracts import decode_event, encode_event, new_envelope
from shared.contracts.enrollment import MemberLeft, MemberSnapshot
from shared.contracts.topics import ENROLLMENT_EVENTS, dead_letter_topic
from tests.integration.conftest import Stack, eventually, read_topic

pytestmark = pytest.mark.integration


class Api:
    """The calls a union office makes, with the right tokens."""

    def __init__(self, s: Stack, http: httpx.AsyncClient) -> None:
        self.s = s
        self.http = http
        self.enrollment = s.services["enrollment"].url
        self.cards = s.services["projector"].url
        self.admin = s.headers(Role.ADMIN)
        self.rng = random.Random()

    async def union(self, name: str, kind: str, parent: uuid.UUID | None = None) -> uuid.UUID:
        body: dict[str, Any] = {"name": name, "kind": kind, "parent_id": str(parent) if parent else None}
        if parent is None:
            body["region"] = "330100"
        r = await self.http.post(f"{self.enrollment}/unions", json=body, headers=self.admin)
        assert r.status_code == 201, r.text
        return uuid.UUID(r.json()["union_id"])

    async def tree(self) -> dict[str, uuid.UUID]:
        tag = uuid.uuid4().hex[:6]
        city = await self.union(f"杭州市总工会-{tag}", "city")
        district = await self.union("西湖区总工会", "county", city)
        return {
            "city": city,
            "district": district,
            "logistics": await self.union("某物流公司工会", "base", district),
            "riders": await self.union("外卖骑手网格工会", "base", district),
            "other_city": await self.union(f"宁波市总工会-{tag}", "city"),
        }

    def cadre(self, union_id: uuid.UUID) -> dict[str, str]:
        return self.s.headers(Role.CADRE, union_id=union_id)

    async def apply(self, union_id: uuid.UUID, **override: Any) -> httpx.Response:
        p = person(self.rng)
        body = {
            "name": p.name, "national_id": p.national_id, "phone": p.phone, "employer": p.employer or "个体",
            "employment_type": p.employment_type, "base_union_id": str(union_id),
        }  # fmt: skip
        body.update(override)
        return await self.http.post(f"{self.enrollment}/applications", json=body, headers=self.admin)

    async def enrolled_member(self, union_id: uuid.UUID, **override: Any) -> dict[str, Any]:
        r = await self.apply(union_id, **override)
        assert r.status_code == 201, r.text
        app_id = r.json()["application"]["application_id"]
        approved = await self.http.post(
            f"{self.enrollment}/applications/{app_id}/approve", headers=self.cadre(union_id)
        )
        assert approved.status_code == 200, approved.text
        member: dict[str, Any] = approved.json()
        return member

    async def card(self, member_id: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.http.get(f"{self.cards}/cards/{member_id}", headers=headers or self.admin)

    async def card_when(self, member_id: str, status: str, version_check: Any = None) -> dict[str, Any]:
        async def check() -> dict[str, Any] | None:
            r = await self.card(member_id)
            if r.status_code != 200:
                return None
            body: dict[str, Any] = r.json()
            m = body.get("membership")
            return (
                body
                if m and m["status"] == status and (version_check is None or version_check(body))
                else None
            )

        result: dict[str, Any] = await eventually(check)
        return result


@pytest.fixture
def api(stack_env: Stack, http: httpx.AsyncClient) -> Api:
    return Api(stack_env, http)


async def test_approved_application_reaches_the_member_card(api: Api, stack_env: Stack) -> None:
    units = await api.tree()
    national_id = person(random.Random()).national_id
    member = await api.enrolled_member(units["logistics"], national_id=national_id)
    assert member["status"] == "active"
    assert member["membership_number"].startswith("ZJ") and len(member["card_number"]) == 16

    card = await api.card_when(member["member_id"], "active")
    m = card["membership"]
    assert m["card_number"] == member["card_number"]
    assert m["national_id_masked"] == national_id[:4] + "*" * 10 + national_id[-4:]
    assert m["base_union"]["path"] == [
        "杭州市总工会-" + m["base_union"]["path"][0].split("-")[1],
        "西湖区总工会",
        "某物流公司工会",
    ]
    assert card["application"]["status"] == "approved"

    # The member sees their own card; another member and a cadre elsewhere do not.
    own = await api.card(
        member["member_id"], stack_env.headers(Role.MEMBER, member_id=uuid.UUID(member["member_id"]))
    )
    assert own.status_code == 200
    other = await api.card(member["member_id"], stack_env.headers(Role.MEMBER, member_id=uuid.uuid4()))
    assert other.status_code == 404  # not "forbidden": a member cannot probe which ids exist
    outsider = await api.card(member["member_id"], api.cadre(units["other_city"]))
    assert outsider.status_code == 403
    district_cadre = await api.card(member["member_id"], api.cadre(units["district"]))
    assert district_cadre.status_code == 200

    # The ID number is nowhere in clear: not on the topic, not in the card read model.
    records = await read_topic(stack_env.bootstrap, stack_env.topic(ENROLLMENT_EVENTS))
    assert records and not any(national_id.encode() in (r.value or b"") for r in records)
    conn = await asyncpg.connect(stack_env.services["projector"].dsn)
    try:
        dump = await conn.fetchval("SELECT string_agg(t::text, '') FROM cards t")
    finally:
        await conn.close()
    assert national_id not in dump


async def test_second_application_returns_the_existing_member(api: Api, stack_env: Stack) -> None:
    units = await api.tree()
    national_id = person(random.Random()).national_id
    member = await api.enrolled_member(units["logistics"], national_id=national_id)

    again = await api.apply(units["riders"], national_id=national_id.lower(), name="改了名字")
    assert again.status_code == 200
    body = again.json()
    assert body["outcome"] == "existing_member"
    assert body["member"]["member_id"] == member["member_id"]
    assert body["member"]["card_number"] == member["card_number"]

    conn = await asyncpg.connect(stack_env.services["enrollment"].dsn)
    try:
        count = await conn.fetchval(
            "SELECT count(*) FROM applications WHERE person_id = $1", uuid.UUID(member["member_id"])
        )
    finally:
        await conn.close()
    assert count == 1


async def test_a_retried_submission_is_answered_with_the_pending_application(api: Api) -> None:
    units = await api.tree()
    p = person(random.Random())
    first = await api.apply(units["riders"], national_id=p.national_id)
    second = await api.apply(units["riders"], national_id=p.national_id)
    assert first.status_code == 201 and second.status_code == 200
    assert second.json()["outcome"] == "same_pending"
    assert second.json()["application"]["application_id"] == first.json()["application"]["application_id"]
    elsewhere = await api.apply(units["logistics"], national_id=p.national_id)
    assert elsewhere.status_code == 409 and "already pending" in elsewhere.json()["detail"]


async def test_bad_requests_get_a_4xx_with_a_reason_and_write_nothing(api: Api, stack_env: Stack) -> None:
    units = await api.tree()
    conn = await asyncpg.connect(stack_env.services["enrollment"].dsn)

    async def counts() -> tuple[int, int, int]:
        row = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM applications) a, (SELECT count(*) FROM persons) p,"
            " (SELECT count(*) FROM audit_trail) l"
        )
        assert row is not None
        return row["a"], row["p"], row["l"]

    try:
        before = await counts()
        valid = person(random.Random()).national_id
        bad_checksum = await api.apply(units["logistics"], national_id=with_bad_checksum(valid))
        assert bad_checksum.status_code == 422 and "checksum" in bad_checksum.json()["detail"]
        not_base = await api.apply(units["district"], national_id=valid)
        assert not_base.status_code == 422 and "base union" in not_base.json()["detail"]
        unknown_union = await api.apply(uuid.uuid4(), national_id=valid)
        assert unknown_union.status_code == 404
        malformed = await api.http.post(
            f"{api.enrollment}/applications", json={"name": "x", "extra": 1}, headers=api.admin
        )
        assert malformed.status_code == 422 and malformed.json()["detail"]
        no_token = await api.http.post(f"{api.enrollment}/applications", json={})
        assert no_token.status_code == 401 and no_token.json()["detail"] == "missing bearer token"
        forged = await api.http.post(
            f"{api.enrollment}/applications", json={}, headers={"Authorization": "Bearer not.a.token"}
        )
        assert forged.status_code == 401 and forged.json()["detail"] == "invalid token"
        outsider = await api.http.post(
            f"{api.enrollment}/applications",
            json={
                "name": "李四",
                "national_id": valid,
                "phone": "13800138000",
                "employer": "x",
                "employment_type": "employee",
                "base_union_id": str(units["logistics"]),
            },
            headers=api.cadre(units["other_city"]),
        )
        assert outsider.status_code == 403
        # Every refusal is an RFC 9457 problem: its media type, a machine-readable code, the status.
        assert outsider.headers["content-type"] == "application/problem+json"
        problem = outsider.json()
        assert problem["code"] == "forbidden" and problem["status"] == 403 and "scope" in problem["detail"]
        assert malformed.headers["content-type"] == "application/problem+json"
        assert malformed.json()["code"] == "invalid_request"
        assert {tuple(e["loc"]) for e in malformed.json()["errors"]} >= {("body", "extra")}
        reject_without_reason = await api.http.post(
            f"{api.enrollment}/applications/{uuid.uuid4()}/reject", json={"reason": ""}, headers=api.admin
        )
        assert reject_without_reason.status_code == 422
        assert await counts() == before
    finally:
        await conn.close()


async def test_transfer_leave_and_reinstatement_show_on_the_card_with_the_gap(api: Api) -> None:
    units = await api.tree()
    member = await api.enrolled_member(units["logistics"])
    mid = member["member_id"]

    moved = await api.http.post(  # both unions are under the district: accepted at once
        f"{api.enrollment}/members/{mid}/transfers",
        json={"to_union_id": str(units["riders"]), "reason": "换工作成为骑手"},
        headers=api.cadre(units["logistics"]),
    )
    assert moved.status_code == 200, moved.text
    card = await api.card_when(
        mid, "active", lambda c: c["membership"]["base_union"]["name"] == "外卖骑手网格工会"
    )
    assert card["membership"]["member_since"] == member["member_since"]

    left = await api.http.post(
        f"{api.enrollment}/members/{mid}/leave",
        json={"reason": "离开本市"},
        headers=api.s.headers(Role.MEMBER, member_id=uuid.UUID(mid)),
    )
    assert left.status_code == 200 and left.json()["status"] == "left"
    again = await api.http.post(
        f"{api.enrollment}/members/{mid}/leave", json={"reason": "x"}, headers=api.admin
    )
    assert again.status_code == 409

    back = await api.http.post(
        f"{api.enrollment}/members/{mid}/reinstate",
        json={"union_id": str(units["logistics"])},
        headers=api.cadre(units["logistics"]),
    )
    assert back.status_code == 200 and back.json()["status"] == "active"
    card = await api.card_when(mid, "active", lambda c: len(c["membership"]["gaps"]) == 1)
    gap = card["membership"]["gaps"][0]
    assert gap["left_at"] < gap["returned_at"]
    assert card["membership"]["card_number"] == member["card_number"]  # numbers are kept


async def test_rejection_reaches_the_applicant_card_with_its_reason(api: Api, stack_env: Stack) -> None:
    units = await api.tree()
    r = await api.apply(units["riders"])
    app = r.json()["application"]
    rejected = await api.http.post(
        f"{api.enrollment}/applications/{app['application_id']}/reject",
        json={"reason": "身份证照片不清晰"},
        headers=api.cadre(units["riders"]),
    )
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    twice = await api.http.post(
        f"{api.enrollment}/applications/{app['application_id']}/approve", headers=api.cadre(units["riders"])
    )
    assert twice.status_code == 409

    async def rejected_card() -> dict[str, Any] | None:
        me = stack_env.headers(Role.MEMBER, member_id=uuid.UUID(app["member_id"]))
        resp = await api.card(app["member_id"], me)
        body: dict[str, Any] = resp.json()
        return body if resp.status_code == 200 and body["application"]["status"] == "rejected" else None

    card = await eventually(rejected_card)
    assert card["membership"] is None
    assert any("身份证照片不清晰" in a for a in card["needs_action"])


async def _events_of(s: Stack, member_id: str) -> list[Any]:
    records = await read_topic(s.bootstrap, s.topic(ENROLLMENT_EVENTS))
    return [r for r in records if r.key == member_id.encode()]


async def _position(s: Stack, topic: str, partition: int) -> int:
    conn = await asyncpg.connect(s.services["projector"].dsn)
    try:
        value = await conn.fetchval(
            'SELECT "offset" FROM consumer_positions WHERE topic = $1 AND partition = $2', topic, partition
        )
        return int(value) if value is not None else -1
    finally:
        await conn.close()


async def test_a_redelivered_event_changes_nothing(
    api: Api, stack_env: Stack, kafka_producer: AIOKafkaProducer
) -> None:
    units = await api.tree()
    member = await api.enrolled_member(units["logistics"])
    mid = member["member_id"]
    await api.card_when(mid, "active")
    conn = await asyncpg.connect(stack_env.services["projector"].dsn)
    try:
        before = await conn.fetchrow(
            "SELECT version, updated_at FROM cards WHERE member_id = $1", uuid.UUID(mid)
        )
        processed_before = await conn.fetchval("SELECT count(*) FROM processed_events")
        original = (await _events_of(stack_env, mid))[-1]
        meta = await kafka_producer.send_and_wait(
            original.topic, original.value, key=original.key, headers=list(original.headers)
        )
        await eventually(lambda: _at_least(stack_env, meta.topic, meta.partition, meta.offset))
        after = await conn.fetchrow(
            "SELECT version, updated_at FROM cards WHERE member_id = $1", uuid.UUID(mid)
        )
        assert after == before
        assert await conn.fetchval("SELECT count(*) FROM processed_events") == processed_before
    finally:
        await conn.close()


async def _at_least(s: Stack, topic: str, partition: int, offset: int) -> bool:
    return await _position(s, topic, partition) >= offset


async def test_an_older_event_arriving_after_a_newer_one_is_ignored(
    api: Api, stack_env: Stack, kafka_producer: AIOKafkaProducer
) -> None:
    units = await api.tree()
    member = await api.enrolled_member(units["logistics"])
    mid = member["member_id"]
    card = await api.card_when(mid, "active")
    enrolled_env, enrolled = decode_event((await _events_of(stack_env, mid))[-1].value)
    assert isinstance(enrolled.model_dump(), dict)

    # A stale "left" snapshot, with a version older than the card's, must not win.
    stale = new_envelope(
        MemberLeft(
            reason="stale",
            member=MemberSnapshot.model_validate(
                {**json.loads(enrolled.model_dump_json())["member"], "status": "left"}
            ),
        ),
        source="enrollment",
        subject=mid,
        subject_version=enrolled_env.subject_version - 1,
        correlation_id="test-stale",
    )
    meta = await kafka_producer.send_and_wait(
        stack_env.topic(ENROLLMENT_EVENTS), encode_event(stale), key=mid.encode()
    )
    await eventually(lambda: _at_least(stack_env, meta.topic, meta.partition, meta.offset))
    again = (await api.card(mid)).json()
    assert again["membership"]["status"] == "active"
    assert again == card


async def test_a_poison_event_is_dead_lettered_with_its_reason_and_the_projector_keeps_going(
    api: Api, stack_env: Stack, kafka_producer: AIOKafkaProducer
) -> None:
    topic = stack_env.topic(ENROLLMENT_EVENTS)
    key = uuid.uuid4().hex.encode()
    await kafka_producer.send_and_wait(topic, b"\x00garbage{", key=key)
    await kafka_producer.send_and_wait(topic, b'{"event_type": "x"}', key=key)

    dlq = stack_env.topic(dead_letter_topic("projector"))

    async def dead() -> list[Any]:
        return [r for r in await read_topic(stack_env.bootstrap, dlq) if r.key == key]

    letters = await eventually(lambda: _n(dead, 2))
    headers = [dict(r.headers) for r in letters]
    assert all(h["deadletter_reason"].startswith(b"invalid envelope") for h in headers)
    assert {h["deadletter_topic"] for h in headers} == {topic.encode()}
    assert letters[0].value == b"\x00garbage{"

    units = await api.tree()  # the consumer is still alive and applying
    member = await api.enrolled_member(units["riders"])
    await api.card_when(member["member_id"], "active")


async def _n(fetch: Any, n: int) -> list[Any] | None:
    got: list[Any] = await fetch()
    return got if len(got) >= n else None
