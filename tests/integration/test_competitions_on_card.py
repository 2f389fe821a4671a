"""Honours and results on the member card, from competition events (the contracts are the interface)."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from shared.auth import Role
from shared.contracts import encode_event, new_envelope
from shared.contracts.competitions import (
    CompetitionKind,
    CompetitionRef,
    EntryRef,
    HonourGranted,
    HonourKind,
    HonourRevoked,
    ResultFinalized,
)
from shared.contracts.envelope import EventPayload
from shared.contracts.topics import COMPETITIONS_EVENTS
from tests.integration.conftest import Stack, eventually
from tests.integration.test_enrollment_to_card import Api

pytestmark = pytest.mark.integration


@pytest.fixture
def api(stack_env: Stack, http: httpx.AsyncClient) -> Api:
    return Api(stack_env, http)


async def test_the_card_shows_current_honours_and_recent_results_only(
    api: Api, stack_env: Stack, kafka_producer: AIOKafkaProducer
) -> None:
    units = await api.tree()
    member = await api.enrolled_member(units["logistics"])
    mid = uuid.UUID(member["member_id"])
    contest = CompetitionRef(
        competition_id=uuid.uuid4(), name="2026年物流行业技能大赛", kind=next(iter(CompetitionKind)),
        union_id=units["district"],
    )  # fmt: skip
    today = date.today()
    kind = next(iter(HonourKind))
    current = HonourGranted(member_id=mid, honour_id=uuid.uuid4(), kind=kind, title="技术能手",
                            granted_on=today - timedelta(days=30), valid_until=today + timedelta(days=365))  # fmt: skip
    expired = HonourGranted(member_id=mid, honour_id=uuid.uuid4(), kind=kind, title="岗位标兵",
                            granted_on=today - timedelta(days=800), valid_until=today - timedelta(days=1))  # fmt: skip
    revoked = HonourGranted(member_id=mid, honour_id=uuid.uuid4(), kind=kind, title="劳动模范",
                            granted_on=today - timedelta(days=10), valid_until=today + timedelta(days=900))  # fmt: skip
    events: list[EventPayload] = [
        current,
        expired,
        revoked,
        HonourRevoked(
            member_id=mid, honour_id=revoked.honour_id, kind=kind, title=revoked.title, revoked_on=today
        ),
        ResultFinalized(
            member_id=mid,
            competition=contest,
            entry=EntryRef(entry_id=uuid.uuid4(), entry_no=7),
            stage_id=uuid.uuid4(),
            stage_name="决赛",
            rank=2,
            of_entries=30,
            score=Decimal("91.5000"),
            finalized_at=datetime.now(UTC),
        ),
    ]
    topic = stack_env.topic(COMPETITIONS_EVENTS)
    for version, payload in enumerate(events, start=1):
        envelope = new_envelope(payload, source="competitions", subject=str(mid), subject_version=version,
                                correlation_id="card-test")  # fmt: skip
        await kafka_producer.send_and_wait(topic, encode_event(envelope), key=str(mid).encode())

    async def with_result() -> dict[str, Any] | None:
        body: dict[str, Any] = (await api.card(str(mid))).json()
        return body if body.get("results") and body.get("honours") is not None else None

    card = await eventually(with_result)
    assert [h["title"] for h in card["honours"]] == ["技术能手"]  # not the expired, not the revoked
    assert card["results"][0]["rank"] == 2 and card["results"][0]["stage_name"] == "决赛"

    # Honours are public recognition: the member and a cadre above them both see them.
    me = stack_env.headers(Role.MEMBER, member_id=mid)
    mine = (await api.card(str(mid), me)).json()
    assert [h["title"] for h in mine["honours"]] == ["技术能手"]
