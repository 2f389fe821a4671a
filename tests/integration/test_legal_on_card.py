"""A member's labour disputes on their card: stage and next statutory deadline, for them only."""

import random
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from scripts.fake_people import person
from shared.auth import Role
from tests.integration.conftest import Stack, eventually
from tests.integration.test_enrollment_to_card import Api

pytestmark = pytest.mark.integration


@pytest.fixture
def api(stack_env: Stack, http: httpx.AsyncClient) -> Api:
    return Api(stack_env, http)


async def test_the_member_sees_their_dispute_stage_and_next_deadline_on_the_card(
    api: Api, stack_env: Stack
) -> None:
    units = await api.tree()
    member = await api.enrolled_member(units["riders"], national_id=person(random.Random()).national_id)
    mid = member["member_id"]
    me = stack_env.headers(Role.MEMBER, member_id=uuid.UUID(mid))
    legal = stack_env.services["legal"].url
    filing = {"kind": "wage_arrears", "employer": "某外卖配送站", "amount_claimed_fen": 680_000,
              "learned_on": (date.today() - timedelta(days=20)).isoformat(), "migrant_worker": True}  # fmt: skip

    async def filed() -> dict[str, Any] | None:
        r = await api.http.post(f"{legal}/cases", json=filing, headers=me)
        return r.json() if r.status_code == 201 else None  # legal learns of the member from events

    case = await eventually(filed)
    case_no = case.get("case_no") or case["case"]["case_no"]

    async def on_card() -> dict[str, Any] | None:
        body: dict[str, Any] = (await api.card(mid, me)).json()
        return body if body.get("legal_cases") else None

    card = await eventually(on_card)
    dispute = card["legal_cases"][0]
    assert dispute["case_no"] == case_no and dispute["kind"] == "wage_arrears"
    assert dispute["stage"] == "intake" and dispute["next_deadline"] is None  # clocks start on acceptance

    case_id = case.get("case_id") or case["case"]["case_id"]
    accepted = await api.http.post(
        f"{legal}/cases/{case_id}/disposition",
        json={"disposition": "accept"},
        headers=api.cadre(units["riders"]),
    )
    assert accepted.status_code == 200, accepted.text

    async def accepted_on_card() -> dict[str, Any] | None:
        body: dict[str, Any] = (await api.card(mid, me)).json()
        return body["legal_cases"][0] if body["legal_cases"][0]["stage"] != "intake" else None

    dispute = await eventually(accepted_on_card)
    assert dispute["next_deadline"] is not None and dispute["next_due_on"] is not None

    for viewer in (api.cadre(units["district"]), api.admin):
        seen = await api.card(mid, viewer)
        assert seen.status_code == 200 and seen.json()["legal_cases"] == []
