"""Relief on the member card: the member, and only the member, sees their case and aid paid."""

import random
import uuid
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


async def test_the_member_sees_their_relief_case_on_the_card_and_nobody_else_does(
    api: Api, stack_env: Stack
) -> None:
    units = await api.tree()
    member = await api.enrolled_member(units["logistics"], national_id=person(random.Random()).national_id)
    mid = member["member_id"]
    relief = stack_env.services["relief"].url
    grid_worker = api.cadre(units["logistics"])
    report = {"member_id": mid, "household_register_no": f"3301{random.randrange(10**8):08d}",
              "household_size": 3, "monthly_income_fen": 240_000, "causes": ["illness"]}  # fmt: skip

    async def opened() -> dict[str, Any] | None:
        r = await api.http.post(f"{relief}/cases", json=report, headers=grid_worker)
        return r.json() if r.status_code == 201 else None  # relief learns of the member from events

    case = (await eventually(opened))["case"]
    me = stack_env.headers(Role.MEMBER, member_id=uuid.UUID(mid))

    async def relief_on_card() -> dict[str, Any] | None:
        r = await api.card(mid, me)
        body: dict[str, Any] = r.json()
        return body if r.status_code == 200 and body.get("relief") else None

    card = await eventually(relief_on_card)
    assert card["relief"]["case_id"] == case["case_id"]
    assert card["relief"]["status"] == "reported"
    assert card["relief"]["aid_paid_yuan"] == "0.00"

    visit = {"visited_on": "2026-11-20", "household_size": 3, "monthly_income_fen": 240_000,
             "causes": ["illness"], "findings": "入户核实"}  # fmt: skip
    assert (
        await api.http.post(f"{relief}/cases/{case['case_id']}/visits", json=visit, headers=grid_worker)
    ).status_code == 200
    asked = await api.http.post(
        f"{relief}/cases/{case['case_id']}/verification", json={"note": "核实"}, headers=grid_worker
    )
    assert asked.status_code == 200, asked.text

    async def newer_status() -> dict[str, Any] | None:
        body: dict[str, Any] = (await api.card(mid, me)).json()
        return body if body["relief"]["status"] == "verification_requested" else None

    await eventually(newer_status)

    # A cadre above the member and an admin see the card, but not the hardship case.
    for viewer in (api.cadre(units["district"]), api.admin):
        seen = await api.card(mid, viewer)
        assert seen.status_code == 200 and seen.json()["relief"] is None
