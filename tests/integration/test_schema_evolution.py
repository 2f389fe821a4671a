"""Schema evolution on a real broker: ApplicationSubmitted v1 bytes still on the topic are applied
(upcast to the latest), a version from the future is dead-lettered, and the service now emits v3
(the channel, and the personal fields sealed)."""

import json
import random
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from scripts.fake_people import person
from shared.auth import Role
from shared.contracts import encode_event, new_envelope
from shared.contracts.enrollment import ApplicationSubmittedV1, EmploymentType
from shared.contracts.topics import ENROLLMENT_EVENTS, dead_letter_topic
from tests.integration.conftest import Stack, eventually, read_topic

pytestmark = pytest.mark.integration


async def _base_union(s: Stack, http: httpx.AsyncClient) -> uuid.UUID:
    """A city union and a base union under it, registered through the API (so the projector knows them)."""
    admin = s.headers(Role.ADMIN)
    url = f"{s.services['enrollment'].url}/unions"
    tag = uuid.uuid4().hex[:6]
    city = await http.post(url, json={"name": f"深圳市总工会-{tag}", "kind": "city", "region": "440300"},
                           headers=admin)  # fmt: skip
    assert city.status_code == 201, city.text
    base = await http.post(
        url,
        json={"name": "某快递网点工会", "kind": "base", "parent_id": city.json()["union_id"]},
        headers=admin,
    )
    assert base.status_code == 201, base.text
    return uuid.UUID(base.json()["union_id"])


def _hand_made_v1(person_id: uuid.UUID, union_id: uuid.UUID, **envelope_changes: Any) -> bytes:
    """An ApplicationSubmitted exactly as the enrollment service emitted it before version 2."""
    payload = ApplicationSubmittedV1(
        application_id=uuid.uuid4(), person_id=person_id, name="赵六",
        national_id_masked="4403**********1234", base_union_id=union_id, employer="某快递网点",
        employment_type=EmploymentType.FLEXIBLE, submitted_at=datetime.now(UTC),
    )  # fmt: skip
    envelope = new_envelope(payload, source="enrollment", subject=str(person_id), subject_version=1,
                            correlation_id=f"test-v1-{person_id}")  # fmt: skip
    assert envelope.schema_version == 1
    return encode_event(envelope.model_copy(update=envelope_changes))


async def _card(s: Stack, http: httpx.AsyncClient, person_id: uuid.UUID) -> dict[str, Any] | None:
    r = await http.get(f"{s.services['projector'].url}/cards/{person_id}", headers=s.headers(Role.ADMIN))
    body: dict[str, Any] = r.json()
    return body if r.status_code == 200 else None


async def _pending_card(s: Stack, http: httpx.AsyncClient, person_id: uuid.UUID) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        card = await _card(s, http, person_id)
        return card if card and card["application"] and card["application"]["status"] == "pending" else None

    card: dict[str, Any] = await eventually(check)
    return card


async def _projector_position(s: Stack, topic: str, partition: int) -> int:
    conn = await asyncpg.connect(s.services["projector"].dsn)
    try:
        value = await conn.fetchval(
            'SELECT "offset" FROM consumer_positions WHERE topic = $1 AND partition = $2', topic, partition
        )
        return int(value) if value is not None else -1
    finally:
        await conn.close()


async def test_a_v1_application_still_on_the_topic_is_applied_by_the_projector(
    stack_env: Stack, http: httpx.AsyncClient, kafka_producer: AIOKafkaProducer
) -> None:
    union_id = await _base_union(stack_env, http)
    person_id = uuid.uuid4()
    v1 = _hand_made_v1(person_id, union_id)
    application_id = json.loads(v1)["payload"]["application_id"]
    await kafka_producer.send_and_wait(stack_env.topic(ENROLLMENT_EVENTS), v1, key=str(person_id).encode())
    card = await _pending_card(stack_env, http, person_id)
    assert card["membership"] is None
    assert card["application"]["application_id"] == application_id

    # In scope for the cadre of the union the v1 application named (once the projector has that
    # union too: its UnionRegistered travels on another partition, so it may come later).
    async def seen_by_the_cadre() -> bool:
        r = await http.get(
            f"{stack_env.services['projector'].url}/cards/{person_id}",
            headers=stack_env.headers(Role.CADRE, union_id=union_id),
        )
        return r.status_code == 200 and r.json()["application"]["status"] == "pending"

    await eventually(seen_by_the_cadre)


async def test_a_future_version_is_dead_lettered_and_the_projector_keeps_going(
    stack_env: Stack, http: httpx.AsyncClient, kafka_producer: AIOKafkaProducer
) -> None:
    union_id = await _base_union(stack_env, http)
    topic = stack_env.topic(ENROLLMENT_EVENTS)
    from_the_future = uuid.uuid4()
    key = str(from_the_future).encode()
    v4 = _hand_made_v1(from_the_future, union_id, schema_version=4)
    sent = await kafka_producer.send_and_wait(topic, v4, key=key)

    dlq = stack_env.topic(dead_letter_topic("projector"))

    async def dead_lettered() -> list[Any]:
        return [r for r in await read_topic(stack_env.bootstrap, dlq) if r.key == key]

    [letter] = await eventually(dead_lettered)
    headers = dict(letter.headers)
    reason = headers["deadletter_reason"].decode()
    assert "enrollment.ApplicationSubmitted schema version 4 is not supported" in reason, reason
    assert headers["deadletter_topic"] == topic.encode()
    assert headers["deadletter_offset"] == str(sent.offset).encode()
    assert letter.value == v4
    assert await _card(stack_env, http, from_the_future) is None

    # The consumer moved past it: a later event on the same partition is still applied.
    async def past_it() -> bool:
        return await _projector_position(stack_env, topic, sent.partition) >= int(sent.offset)

    await eventually(past_it)
    later = await kafka_producer.send_and_wait(
        topic, _hand_made_v1(from_the_future, union_id, subject_version=2), key=key
    )
    assert later.partition == sent.partition
    await _pending_card(stack_env, http, from_the_future)


async def test_the_service_emits_v3_with_the_channel_it_answers_with(
    stack_env: Stack, http: httpx.AsyncClient
) -> None:
    union_id = await _base_union(stack_env, http)
    enrollment = stack_env.services["enrollment"].url
    rng = random.Random()

    async def submit(headers: dict[str, str], **extra: Any) -> dict[str, Any]:
        p = person(rng)
        body = {
            "name": p.name, "national_id": p.national_id, "phone": p.phone, "employer": p.employer or "个体",
            "employment_type": p.employment_type, "base_union_id": str(union_id), **extra,
        }  # fmt: skip
        r = await http.post(f"{enrollment}/applications", json=body, headers=headers)
        if r.status_code == 201:  # an admin is told the new application ...
            application: dict[str, Any] = r.json()["application"]
            return application
        # ... a cadre gets the neutral answer and reads it in their union's list, as they may.
        assert r.status_code == 202 and r.json()["outcome"] == "received", r.text
        listed = await http.get(
            f"{enrollment}/applications", params={"union_id": str(union_id)}, headers=headers
        )
        filed: list[dict[str, Any]] = [a for a in listed.json() if a["name"] == p.name]
        assert len(filed) == 1, filed
        return filed[0]

    by_cadre = await submit(stack_env.headers(Role.CADRE, union_id=union_id))
    via_wechat = await submit(stack_env.headers(Role.ADMIN), channel="wechat")
    online = await submit(stack_env.headers(Role.ADMIN))
    assert (by_cadre["channel"], via_wechat["channel"], online["channel"]) == ("cadre", "wechat", "online")

    unknown = await http.post(
        f"{enrollment}/applications", json={"channel": "fax"}, headers=stack_env.headers(Role.ADMIN)
    )
    assert unknown.status_code == 422

    listed = await http.get(
        f"{enrollment}/applications",
        params={"union_id": str(union_id)},
        headers=stack_env.headers(Role.ADMIN),
    )
    assert {a["application_id"]: a["channel"] for a in listed.json()} == {
        a["application_id"]: a["channel"] for a in (by_cadre, via_wechat, online)
    }

    async def submitted_events() -> dict[str, dict[str, Any]] | None:
        records = await read_topic(stack_env.bootstrap, stack_env.topic(ENROLLMENT_EVENTS))
        wanted = {a["member_id"] for a in (by_cadre, via_wechat, online)}
        found = {r.key.decode(): json.loads(r.value) for r in records if r.key and r.key.decode() in wanted}
        return found if len(found) == len(wanted) else None

    events = await eventually(submitted_events)
    for application in (by_cadre, via_wechat, online):
        event = events[application["member_id"]]
        assert event["event_type"] == "enrollment.ApplicationSubmitted"
        assert event["schema_version"] == 3
        assert event["payload"]["channel"] == application["channel"]
        # Sealed with the applicant's own key: no name on the topic.
        assert event["payload"]["name"]["key_id"] == application["member_id"]
        assert application["name"] not in json.dumps(event, ensure_ascii=False)
        await _pending_card(stack_env, http, uuid.UUID(application["member_id"]))
