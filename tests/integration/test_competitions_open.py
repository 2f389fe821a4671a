"""报名竞赛: the competitions open to a member (organised at or above their base union, no
results published yet) and to a cadre; a member registers themself and nobody else."""

import uuid
from typing import Any

import httpx
import pytest

from shared.auth import Role
from tests.integration.conftest import Stack, eventually
from tests.integration.test_competitions import CRITERIA, Contest
from tests.integration.test_enrollment_to_card import Api

pytestmark = pytest.mark.integration


@pytest.fixture
def contest(stack_env: Stack, http: httpx.AsyncClient) -> Contest:
    return Contest(Api(stack_env, http))


async def create(contest: Contest, union_id: uuid.UUID, name: str, kind: str = "skills") -> dict[str, Any]:
    body = {
        "name": name, "kind": kind, "union_id": str(union_id), "criteria": CRITERIA,
        "stages": [{"name": "初赛", "judges": ["j-li", "j-wang"], "chief_judge": "j-li", "blind": False,
                    "objection_days": 3}],
    }  # fmt: skip
    return await contest.create(contest.api.cadre(union_id), body)


async def test_a_member_sees_the_open_competitions_of_their_union_path_and_registers_themself_only(
    contest: Contest, stack_env: Stack
) -> None:
    api = contest.api
    units = await api.tree()
    me_member = await api.enrolled_member(units["logistics"])
    colleague = await api.enrolled_member(units["logistics"])
    me = contest.member(me_member["member_id"])

    at_district = await create(contest, units["district"], "西湖区叉车技能比武")
    at_city = await create(contest, units["city"], "杭州市工人先锋号评选", kind="team_title")
    at_base = await create(contest, units["logistics"], "物流公司安康杯", kind="labour")
    sibling = await create(contest, units["riders"], "骑手安全竞赛")
    elsewhere = await create(contest, units["other_city"], "宁波市技能比武")
    closed = await create(contest, units["district"], "已公示的比武")
    # One entry scored by both judges and the results published: registration is closed for it.
    stage_id = closed["stages"][0]["stage_id"]
    scored = contest.ok(
        await contest.register(
            closed["competition_id"], api.cadre(units["logistics"]), member_ids=[colleague["member_id"]]
        ),
        201,
    )
    for judge in ("j-li", "j-wang"):
        points = {"entry_id": scored["entry_id"], "points": {"technique": "80", "safety": "40"}}
        contest.ok(
            await contest.post(f"/stages/{stage_id}/scores", contest.judge(judge, units["city"]), points), 201
        )
    contest.ok(await contest.post(f"/stages/{stage_id}/publish", api.cadre(units["district"])))

    ours = {c["competition_id"] for c in (at_district, at_city, at_base, sibling, elsewhere, closed)}

    async def listed(headers: dict[str, str]) -> dict[str, dict[str, Any]]:
        r = await contest.get("/competitions/open", headers)
        assert r.status_code == 200, r.text
        return {c["competition_id"]: c for c in r.json() if c["competition_id"] in ours}

    async def member_list() -> dict[str, dict[str, Any]] | None:
        found = await listed(me)
        return found or None  # empty until competitions has heard of the member

    mine = await eventually(member_list)
    assert set(mine) == {at_district["competition_id"], at_city["competition_id"], at_base["competition_id"]}
    skills = mine[at_district["competition_id"]]
    assert skills == {
        "competition_id": at_district["competition_id"], "title": "西湖区叉车技能比武", "kind": "skills",
        "kind_label": "技能竞赛", "union_id": str(units["district"]), "union_name": "西湖区总工会",
        "registration_closes_on": None, "team": False,
    }  # fmt: skip
    assert mine[at_city["competition_id"]]["team"] is True
    assert mine[at_city["competition_id"]]["kind_label"] == "先进集体评选"
    assert mine[at_base["competition_id"]]["kind_label"] == "劳动竞赛"

    # A cadre of the district: the ones at or above it and below it; an admin: every open one.
    district = await listed(api.cadre(units["district"]))
    assert set(district) == {
        at_district["competition_id"], at_city["competition_id"], at_base["competition_id"],
        sibling["competition_id"],
    }  # fmt: skip
    assert set(await listed(api.admin)) == ours - {closed["competition_id"]}
    partner = stack_env.headers(Role.PARTNER_STAFF, partner_id="p-open", sub="till-1")
    assert (await contest.get("/competitions/open", partner)).status_code == 403

    # The member registers themself (no member_ids) ...
    cid = at_district["competition_id"]
    entry = contest.ok(await contest.register(cid, me), 201)
    assert entry["member_ids"] == [me_member["member_id"]]
    # ... and may not register a colleague, alone or in a team, nor name themself and a colleague.
    for body in (
        {"member_ids": [colleague["member_id"]]},
        {"member_ids": [me_member["member_id"], colleague["member_id"]], "team_name": "叉车一班",
         "team_union_id": str(units["logistics"])},
    ):  # fmt: skip
        refused = await contest.post(f"/competitions/{at_base['competition_id']}/entries", me, body)
        assert refused.status_code == 403, refused.text
    view = contest.ok(
        await contest.get(f"/competitions/{at_base['competition_id']}", api.cadre(units["logistics"]))
    )
    assert view["entries"] == []  # nothing was registered by the refused attempts
    # A closed competition refuses an entry with the reason.
    late = await contest.post(f"/competitions/{closed['competition_id']}/entries", me)
    assert late.status_code == 409 and "registration is closed" in late.text
