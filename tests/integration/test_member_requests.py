"""The member app's requests, each with the member's own token: 困难申请 (relief POST /cases), 法律援助
(legal POST /cases), 接转 (enrollment POST /members/{id}/transfers). A member files for themself;
another member (a real one) filing for them is refused with 403 and nothing is written."""

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from shared.auth import Role
from tests.integration.conftest import Stack, eventually
from tests.integration.test_enrollment_to_card import Api

pytestmark = pytest.mark.integration


@pytest.fixture
def api(stack_env: Stack, http: httpx.AsyncClient) -> Api:
    return Api(stack_env, http)


async def test_a_member_files_each_request_for_themself_and_not_for_another_member(
    api: Api, stack_env: Stack
) -> None:
    units = await api.tree()
    me_member = await api.enrolled_member(units["logistics"])
    other_member = await api.enrolled_member(units["logistics"])
    mid = me_member["member_id"]
    me = stack_env.headers(Role.MEMBER, member_id=uuid.UUID(mid))
    other = stack_env.headers(Role.MEMBER, member_id=uuid.UUID(other_member["member_id"]))
    relief = stack_env.services["relief"].url
    legal = stack_env.services["legal"].url

    async def once_known(url: str, body: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
        """The answer once the service has heard of both members from enrollment's events."""

        async def attempt() -> httpx.Response | None:
            r = await api.http.post(url, json=body, headers=headers)
            return None if r.status_code == 404 else r

        answer: httpx.Response = await eventually(attempt, timeout=30)
        return answer

    # 困难申请: another member is refused; the member themself opens their case.
    report = {"member_id": mid, "household_register_no": f"3301{random.randrange(10**8):08d}",
              "household_size": 3, "monthly_income_fen": 240_000, "causes": ["illness"]}  # fmt: skip
    refused = await once_known(f"{relief}/cases", report, other)
    assert refused.status_code == 403, refused.text
    opened = await once_known(f"{relief}/cases", report, me)
    assert opened.status_code == 201, opened.text
    assert opened.json()["outcome"] == "opened"  # a new file: the refused report wrote none
    assert (
        opened.json()["case"]["member_id"] == mid and opened.json()["case"]["channel"] == "self_application"
    )

    # 法律援助: the same.
    filing = {"member_id": mid, "kind": "wage_arrears", "employer": "某物流公司", "amount_claimed_fen": 300_000,
              "learned_on": (datetime.now(UTC).date() - timedelta(days=10)).isoformat(),
              "migrant_worker": False}  # fmt: skip
    refused = await once_known(f"{legal}/cases", filing, other)
    assert refused.status_code == 403, refused.text
    filed = await once_known(f"{legal}/cases", filing, me)
    assert filed.status_code == 201, filed.text
    assert filed.json()["member_id"] == mid

    # 接转: another member may not ask for the member's transfer; the member may.
    enrollment = stack_env.services["enrollment"].url
    ask = {"to_union_id": str(units["riders"]), "reason": "换工作"}
    refused = await api.http.post(f"{enrollment}/members/{mid}/transfers", json=ask, headers=other)
    assert refused.status_code == 403, refused.text
    member_now = await api.http.get(f"{enrollment}/members/{mid}", headers=api.admin)
    assert member_now.json()["base_union_id"] == str(units["logistics"])  # the refusal moved nothing
    moved = await api.http.post(f"{enrollment}/members/{mid}/transfers", json=ask, headers=me)
    assert moved.status_code == 200, moved.text
    assert moved.json()["member_id"] == mid and moved.json()["requested_by"].startswith("member:")
