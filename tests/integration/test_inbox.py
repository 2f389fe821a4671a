"""The member's inbox (消息) on the real stack: events from the services become items in plain
Chinese, once each, for the member only; a near legal deadline appears among them."""

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from scripts.fake_people import person
from shared.auth import Role
from shared.contracts import encode_event, new_envelope
from shared.contracts.legal import CaseSnapshot, DeadlineName, DisputeKind, NextDeadline, Stage, StageChanged
from shared.contracts.topics import LEGAL_EVENTS
from shared.events import CHINA
from tests.integration.conftest import Stack, eventually
from tests.integration.test_enrollment_to_card import Api, _at_least

pytestmark = pytest.mark.integration


@pytest.fixture
def api(stack_env: Stack, http: httpx.AsyncClient) -> Api:
    return Api(stack_env, http)


async def read_inbox(api: Api, member_id: str, headers: dict[str, str], **params: Any) -> httpx.Response:
    return await api.http.get(f"{api.cards}/cards/{member_id}/inbox", params=params, headers=headers)


async def titles_when(api: Api, member_id: str, me: dict[str, str], *wanted: str) -> list[dict[str, Any]]:
    """The whole inbox (first page of 100) once every wanted title is in it."""

    async def check() -> list[dict[str, Any]] | None:
        r = await read_inbox(api, member_id, me, limit=100)
        assert r.status_code == 200, r.text
        items: list[dict[str, Any]] = r.json()["items"]
        return items if set(wanted) <= {i["title"] for i in items} else None

    found: list[dict[str, Any]] = await eventually(check, timeout=30)
    return found


async def test_events_become_inbox_items_once_each_for_the_member_only(
    api: Api, stack_env: Stack, kafka_producer: AIOKafkaProducer
) -> None:
    units = await api.tree()
    member = await api.enrolled_member(units["riders"], national_id=person(random.Random()).national_id)
    mid = member["member_id"]
    me = stack_env.headers(Role.MEMBER, member_id=uuid.UUID(mid))

    # Enrollment: the application and its approval, with the member's numbers.
    items = await titles_when(api, mid, me, "入会申请已提交", "入会申请已通过")
    welcome = next(i for i in items if i["title"] == "入会申请已通过")
    assert welcome["kind"] == "membership" and member["membership_number"] in welcome["body"]

    # Legal: the member files for themself; a cadre accepts. Each step is one item.
    legal = stack_env.services["legal"].url
    filing = {"kind": "wage_arrears", "employer": "某外卖配送站", "amount_claimed_fen": 680_000,
              "learned_on": (datetime.now(UTC).date() - timedelta(days=20)).isoformat(),
              "migrant_worker": True}  # fmt: skip

    async def filed() -> dict[str, Any] | None:
        r = await api.http.post(f"{legal}/cases", json=filing, headers=me)
        return r.json() if r.status_code == 201 else None  # legal learns of the member from events

    case = await eventually(filed)
    case_id = case.get("case_id") or case["case"]["case_id"]
    accepted = await api.http.post(
        f"{legal}/cases/{case_id}/disposition",
        json={"disposition": "accept"},
        headers=api.cadre(units["riders"]),
    )
    assert accepted.status_code == 200, accepted.text
    items = await titles_when(api, mid, me, "法律援助申请已登记", "法律援助申请已受理")
    accepted_item = next(i for i in items if i["title"] == "法律援助申请已受理")
    assert accepted_item["kind"] == "legal" and "欠薪" in accepted_item["body"]

    # Another dispute moves to litigation with the suit deadline two days away; the event is
    # delivered twice (same event id): one item, and the deadline shows as near.
    today = datetime.now(CHINA).date()
    snapshot = CaseSnapshot(
        case_id=uuid.uuid4(), case_no="维权2026-990001", kind=DisputeKind.DISMISSAL, stage=Stage.LITIGATION,
        outcome=None, union_id=units["riders"], member_ids=[uuid.UUID(mid)],
        next_deadline=NextDeadline(name=DeadlineName.SUIT_LIMIT, due_on=today + timedelta(days=2)),
    )  # fmt: skip
    moved = new_envelope(
        StageChanged(case=snapshot, from_stage=Stage.ARBITRATION, changed_at=datetime.now(UTC)),
        source="legal", subject=mid, subject_version=10_000, correlation_id="test-inbox",
    )  # fmt: skip
    for _ in range(2):
        meta = await kafka_producer.send_and_wait(
            stack_env.topic(LEGAL_EVENTS), encode_event(moved), key=mid.encode()
        )
    await eventually(lambda: _at_least(stack_env, meta.topic, meta.partition, meta.offset))
    items = await titles_when(api, mid, me, "维权案件进入新阶段：诉讼中")
    assert [i["title"] for i in items].count("维权案件进入新阶段：诉讼中") == 1
    near = [i for i in items if i["kind"] == "deadline"]
    assert len(near) == 1 and near[0]["title"] == "期限临近：起诉期限（裁决后15日内）"
    assert "维权2026-990001（违法解除）" in near[0]["body"] and "还有 2 天" in near[0]["body"]

    # Newest first; never a raw code; seq unique.
    stored = [i for i in items if i["kind"] != "deadline"]
    assert [i["occurred_at"] for i in stored] == sorted((i["occurred_at"] for i in stored), reverse=True)
    assert len({i["seq"] for i in items}) == len(items)
    for i in items:
        assert not any(
            code in i["title"] + i["body"] for code in ("litigation", "wage_arrears", "suit_limit")
        )

    # Paging one item at a time walks the same inbox, in the same order, and ends.
    walked: list[dict[str, Any]] = []
    after: str | None = None
    for _ in range(len(items) + 1):
        r = await read_inbox(api, mid, me, limit=1, **({"after": after} if after else {}))
        assert r.status_code == 200, r.text
        walked += r.json()["items"]
        after = r.json()["next_after"]
        if after is None:
            break
    assert after is None or (await read_inbox(api, mid, me, after=after)).json()["items"] == []
    assert [i["seq"] for i in walked] == [i["seq"] for i in items]

    # Nobody else reads it: another member, a cadre of the member's own union, an admin.
    for other in (
        stack_env.headers(Role.MEMBER, member_id=uuid.uuid4()),
        api.cadre(units["riders"]),
        api.admin,
    ):
        refused = await read_inbox(api, mid, other)
        assert refused.status_code == 403, refused.text
        assert "维权" not in refused.text
    forged = await read_inbox(api, mid, me, after="bm90IGEgY3Vyc29y")
    assert forged.status_code == 422, forged.text


async def test_a_hardship_case_moving_is_told_in_words(api: Api, stack_env: Stack) -> None:
    units = await api.tree()
    member = await api.enrolled_member(units["logistics"], national_id=person(random.Random()).national_id)
    mid = member["member_id"]
    me = stack_env.headers(Role.MEMBER, member_id=uuid.UUID(mid))
    relief = stack_env.services["relief"].url
    report = {"member_id": mid, "household_register_no": f"3301{random.randrange(10**8):08d}",
              "household_size": 3, "monthly_income_fen": 240_000, "causes": ["illness"]}  # fmt: skip

    async def opened() -> dict[str, Any] | None:
        r = await api.http.post(f"{relief}/cases", json=report, headers=me)
        return r.json() if r.status_code == 201 else None

    await eventually(opened)
    items = await titles_when(api, mid, me, "困难帮扶：已受理")
    item = next(i for i in items if i["title"] == "困难帮扶：已受理")
    assert item["kind"] == "relief" and "入户走访" in item["body"] and "reported" not in item["body"]
