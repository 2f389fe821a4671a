"""The cadres' work queues on real processes: relief (its cases, and the programmes 送温暖 and
金秋助学), legal and competitions driven into each state a queue lists, read by the cadres who
work it (actionable or not), and by a cadre of another subtree, who sees none of it."""

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import asyncpg
import httpx
import pytest

from services.relief.domain.campaigns import FOUR_EYES as LIST_FOUR_EYES
from tests.integration.conftest import Stack, eventually
from tests.integration.test_campaigns import Campaigns
from tests.integration.test_competitions import Contest
from tests.integration.test_enrollment_to_card import Api
from tests.integration.test_legal import Legal
from tests.integration.test_relief import Relief
from tests.integration.test_student_aid import StudentAid

pytestmark = pytest.mark.integration

CHINA = timezone(timedelta(hours=8))
TODAY = datetime.now(CHINA).date()
FOUR_EYES = "同一人不能既申请又审批(四眼原则)"


@pytest.fixture
def api(stack_env: Stack, http: httpx.AsyncClient) -> Api:
    return Api(stack_env, http)


async def queue(
    http: httpx.AsyncClient, url: str, headers: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    """A queue's items, once the service has heard of the caller's union (its events come first)."""

    async def read() -> dict[str, Any] | None:
        r = await http.get(url, headers=headers, params=params)
        if r.status_code == 404:
            return None
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    body = await eventually(read)
    assert set(body) == {"items", "next"}
    items: list[dict[str, Any]] = body["items"]
    return items


def of(items: list[dict[str, Any]], subject_id: str) -> list[dict[str, Any]]:
    return [i for i in items if i["subject_id"] == subject_id]


async def test_relief_queues_show_the_waiting_steps_with_four_eyes_and_the_ending_disclosures(
    api: Api, stack_env: Stack
) -> None:
    relief = Relief(api)
    member, units = await relief.member_and_union()
    union = units["logistics"]
    wang, li = relief.cadre(union, "wang"), relief.cadre(union, "li")
    outsider = relief.cadre(units["other_city"], "zhou")
    url = relief.url + "/queues"

    # A verification step requested by wang: in wang's queue, not his to decide; li may.
    opened = await relief.ok(await relief.report(wang, member_id=member["member_id"]), 201)
    cid = opened["case"]["case_id"]
    visit = {"visited_on": str(TODAY), "household_size": 3, "monthly_income_fen": 240_000,
             "causes": ["illness"], "findings": "三口之家, 丈夫透析"}  # fmt: skip
    await relief.ok(await relief.post(f"/cases/{cid}/visits", wang, visit))
    await relief.ok(await relief.post(f"/cases/{cid}/verification", wang, {"note": "入户核实完毕"}))

    (mine,) = of(await queue(api.http, f"{url}/approvals", wang), cid)
    assert mine["kind"] == "relief.approval" and mine["can_act"] is False
    assert mine["blocked_reason"] == FOUR_EYES
    assert member["name"] not in mine["title"]  # masked
    (theirs,) = of(await queue(api.http, f"{url}/approvals", li), cid)
    assert theirs["can_act"] is True and theirs["blocked_reason"] is None
    approve = next(a for a in theirs["actions"] if a["action"] == "approve")
    assert approve["method"] == "POST" and approve["path"] == f"/cases/{cid}/steps/verification/approve"
    # A cadre higher up the tree sees it too; a cadre of another city does not, nor may ask for it.
    assert of(await queue(api.http, f"{url}/approvals", relief.cadre(units["city"], "hu")), cid)
    assert not of(await queue(api.http, f"{url}/approvals", outsider), cid)
    refused = await api.http.get(f"{url}/approvals", headers=outsider, params={"union_id": str(union)})
    assert refused.status_code == 403
    member_refused = await api.http.get(f"{url}/approvals", headers=relief.member(member["member_id"]))
    assert member_refused.status_code == 403

    # The action the item names works, and the item leaves the queue.
    await relief.ok(await relief.post(approve["path"], li, {"note": "同意"}))
    assert not of(await queue(api.http, f"{url}/approvals", li), cid)

    # In disclosure for five days: not yet in the queue; with two days left it is.
    await relief.ok(await relief.post(f"/cases/{cid}/disclosure", wang, {"proposed_aid": ["medical"]}))
    assert not of(await queue(api.http, f"{url}/disclosures", wang), cid)
    await relief.backdate_disclosure(cid, days=3)
    (ending,) = of(await queue(api.http, f"{url}/disclosures", wang), cid)
    assert ending["kind"] == "relief.disclosure" and ending["state_label"] == "公示即将结束"
    assert datetime.fromisoformat(ending["due_at"]) <= datetime.now(CHINA) + timedelta(days=3)

    # An objection waits for its answer; the plan is offered once the window is over and it is answered.
    objection = await relief.ok(
        await relief.post(f"/cases/{cid}/objections", wang, {"objector": "匿名", "content": "其家有车"}), 201
    )
    items = of(await queue(api.http, f"{url}/disclosures", li), cid)
    assert {i["kind"] for i in items} == {"relief.disclosure", "relief.objection"}
    answer = next(i for i in items if i["kind"] == "relief.objection")["actions"][0]
    assert answer["path"] == f"/cases/{cid}/objections/{objection['objection_id']}/answer"
    assert not of(await queue(api.http, f"{url}/disclosures", outsider), cid)
    await relief.backdate_disclosure(cid, days=3)
    await relief.ok(await relief.post(answer["path"], wang, {"answer": "经核实为单位用车"}))
    (ended,) = of(await queue(api.http, f"{url}/disclosures", wang), cid)
    assert ended["state_label"] == "公示期已满" and ended["actions"][0]["action"] == "request_plan"

    # Into the register: due for re-verification in a year, so not yet; overdue, first in the queue.
    await relief.ok(
        await relief.post(f"/cases/{cid}/plan", wang, {"aid": ["medical"], "summary": "医疗救助"})
    )
    await relief.ok(await relief.post(f"/cases/{cid}/steps/plan/approve", li, {"note": "同意"}))
    assert not of(await queue(api.http, f"{url}/reverifications", wang), cid)
    conn = await asyncpg.connect(stack_env.services["relief"].dsn)
    try:
        await conn.execute(
            "UPDATE cases SET next_review_due = $2 WHERE case_id = $1",
            uuid.UUID(cid),
            TODAY - timedelta(days=2),
        )
    finally:
        await conn.close()
    due = await queue(api.http, f"{url}/reverifications", wang)
    (review,) = of(due, cid)
    assert review["state_label"] == "年度复核已逾期2天"
    assert [a["action"] for a in review["actions"]] == ["reverify", "exit"]
    assert not of(await queue(api.http, f"{url}/reverifications", outsider), cid)


async def test_legal_queues_show_deadlines_within_the_window_and_letters_awaiting_a_reply(api: Api) -> None:
    legal = Legal(api)
    units = await api.tree()
    member = await legal.member_known(units["logistics"])
    cadre = legal.cadre(units["district"])
    outsider = legal.cadre(units["other_city"])
    url = legal.url + "/queues"

    # Mediation accepted ten days ago: its 15-day window ends in five days.
    case = await legal.ok(await legal.file(legal.member(member["member_id"])), 201)
    cid = case["case_id"]
    # The test cannot wait ten days: the filing moves into the past in the database.
    conn = await asyncpg.connect(api.s.services["legal"].dsn)
    try:
        await conn.execute(
            "UPDATE cases SET filed_at = filed_at - interval '20 days' WHERE case_id = $1", uuid.UUID(cid)
        )
    finally:
        await conn.close()
    await legal.ok(await legal.post(f"/cases/{cid}/disposition", cadre, {"disposition": "accept"}))
    on = str(TODAY - timedelta(days=10))
    await legal.ok(await legal.post(f"/cases/{cid}/stage", cadre, {"stage": "mediation", "on": on}))

    (item,) = of(await queue(api.http, f"{url}/deadlines", cadre, days=7), cid)
    assert item["kind"] == "legal.deadline" and item["state_label"] == "调解中"
    due_on = TODAY + timedelta(days=5)
    assert "调解期限" in item["title"] and due_on.isoformat() in item["title"]
    assert datetime.fromisoformat(item["due_at"]).date() == due_on
    assert item["actions"][0]["path"] == f"/cases/{cid}/mediation/outcome"
    assert not of(await queue(api.http, f"{url}/deadlines", cadre, days=3), cid)
    assert not of(await queue(api.http, f"{url}/deadlines", outsider, days=7), cid)
    for days in (0, 61):
        r = await api.http.get(f"{url}/deadlines", headers=cadre, params={"days": days})
        assert r.status_code == 422, r.text

    # Two opinion letters awaiting the employer's reply: the overdue one first.
    async def letter(employer: str, sent_days_ago: int) -> str:
        body = {"union_id": str(units["logistics"]), "employer": employer, "issue": "拖欠工资",
                "on": str(TODAY - timedelta(days=sent_days_ago + 1))}  # fmt: skip
        s = await legal.ok(await legal.post("/supervisions", cadre, body), 201)
        sid: str = s["supervision_id"]
        sent = {"on": str(TODAY - timedelta(days=sent_days_ago))}
        await legal.ok(await legal.post(f"/supervisions/{sid}/send_opinion", cadre, sent))
        return sid

    fresh = await letter("杭州某新建材有限公司", 1)
    late = await letter("杭州某老建材有限公司", 40)
    items = [
        i for i in await queue(api.http, f"{url}/supervisions", cadre) if i["subject_id"] in (fresh, late)
    ]
    assert [i["subject_id"] for i in items] == [late, fresh]
    assert items[0]["state_label"].startswith("逾期未答复")
    assert items[0]["actions"][-1]["action"] == "send_recommendation"
    assert "send_recommendation" not in [a["action"] for a in items[1]["actions"]]
    assert not of(await queue(api.http, f"{url}/supervisions", outsider), late)

    # Answered: out of the queue.
    await legal.ok(await legal.post(f"/supervisions/{fresh}/employer_rectified", cadre, {}))
    assert not of(await queue(api.http, f"{url}/supervisions", cadre), fresh)


async def test_the_spread_queue_shows_a_wide_spread_to_the_chief_judge_and_the_organisers(api: Api) -> None:
    contest = Contest(api)
    units = await api.tree()
    entrant = await api.enrolled_member(units["riders"])
    comp = await contest.competition(
        units["district"], blind=False, judges=["j-li", "j-wang"], chief_judge="j-li", spread_gap="20"
    )
    cid, sid = comp["competition_id"], comp["stages"][0]["stage_id"]
    entry = contest.ok(
        await contest.register(cid, api.cadre(units["riders"]), member_ids=[entrant["member_id"]]), 201
    )
    eid = entry["entry_id"]
    li, wang = contest.judge("j-li", units["city"]), contest.judge("j-wang", units["city"])
    url = contest.url + "/queues/spread"

    async def score(judge: dict[str, str], technique: str, safety: str) -> None:
        body = {"entry_id": eid, "points": {"technique": technique, "safety": safety}}
        contest.ok(await contest.post(f"/stages/{sid}/scores", judge, body), 201)

    await score(li, "95", "48")
    assert not of(await queue(api.http, url, li), eid)  # one judge: no spread yet
    await score(wang, "40", "20")  # 95.2 against 40: a spread of 55.2

    (chief,) = of(await queue(api.http, url, li), eid)
    assert chief["kind"] == "competitions.spread" and chief["can_act"] is True
    assert entrant["name"] not in chief["title"]
    (organiser,) = of(await queue(api.http, url, api.cadre(units["district"])), eid)
    assert organiser["can_act"] is False and organiser["blocked_reason"]
    assert not of(await queue(api.http, url, api.cadre(units["other_city"])), eid)

    review = chief["actions"][0]
    body = {**review["body_hint"], "note": "两位评委对安全规范理解不同, 已核对, 维持原分"}
    contest.ok(await contest.post(review["path"], li, body))
    assert not of(await queue(api.http, url, li), eid)


async def test_the_programmes_queue_shows_lists_applications_and_objections_with_four_eyes(
    api: Api, stack_env: Stack
) -> None:
    relief = Relief(api)
    c = Campaigns(relief)
    aid = StudentAid(relief)
    units = await api.tree()
    city, district, logistics = units["city"], units["district"], units["logistics"]
    wang, li = relief.cadre(logistics, "wang"), relief.cadre(logistics, "li")
    outsider = relief.cadre(units["other_city"], "zhou")
    url = relief.url + "/queues/programmes"

    # 送温暖: a front-line rider on the logistics union's list, submitted by wang.
    rider = await c.front_line_member(logistics, "flexible")
    campaign = await c.launch(city, title="春节送温暖(待办测试)")
    cid = campaign["campaign_id"]
    c.ok(await c.allocate(cid, district, city, 1_000_000))
    c.ok(await c.allocate(cid, logistics, district, 500_000))
    made = c.ok(await c.call("POST", f"/campaigns/{cid}/lists", wang, {"union_id": str(logistics)}), 201)
    lid = made["list_id"]
    assert not of(await queue(api.http, url, wang), lid)  # a draft is no one's approval yet
    c.ok(await c.call("POST", f"/campaign-lists/{lid}/submit", wang))

    # Four eyes both ways: the submitter sees it blocked (and the command agrees); another may act.
    (mine,) = of(await queue(api.http, url, wang), lid)
    assert mine["kind"] == "relief.campaign_list" and mine["can_act"] is False
    assert mine["blocked_reason"] == LIST_FOUR_EYES
    assert mine["title"] == f"送温暖名单待审批:春节送温暖(待办测试) · {made['union_name']}"
    approve = next(a for a in mine["actions"] if a["action"] == "approve")
    refused = await relief.post(approve["path"], wang)
    assert refused.status_code == 403 and refused.json()["detail"] == LIST_FOUR_EYES
    (theirs,) = of(await queue(api.http, url, li), lid)
    assert theirs["can_act"] is True and theirs["blocked_reason"] is None
    assert [a["action"] for a in theirs["actions"]] == ["approve", "return"]
    assert of(await queue(api.http, url, relief.cadre(city, "hu")), lid)  # above it: seen
    assert not of(await queue(api.http, url, outsider), lid)
    assert (await api.http.get(url, headers=outsider, params={"union_id": str(logistics)})).status_code == 403
    assert (await api.http.get(url, headers=relief.member(rider))).status_code == 403
    c.ok(await c.call("POST", approve["path"], li))
    assert not of(await queue(api.http, url, li), lid)

    # 金秋助学: wang files for a member; the title masks both names; wang may not review it.
    member = await api.enrolled_member(logistics)
    await relief.known(member["member_id"])
    window = await aid.window(city, timedelta(hours=1))
    household = {"monthly_income_fen": 360_000, "household_size": 3}
    filed = await relief.ok(
        await aid.apply(
            wang,
            window["window_id"],
            member_id=member["member_id"],
            household=household,
            student_name="赵小燕",
        ),
        201,
    )
    aid_id = filed["application_id"]
    (own,) = of(await queue(api.http, url, wang), aid_id)
    assert own["kind"] == "relief.student_aid" and own["can_act"] is False
    assert own["blocked_reason"] == "同一人不能既代为申请又审核(四眼原则)"
    assert member["name"] not in own["title"] and "赵小燕" not in own["title"] and "赵*燕" in own["title"]
    (other,) = of(await queue(api.http, url, li), aid_id)
    assert other["can_act"] is True
    (review,) = other["actions"]
    assert review["body_hint"]["approve"] == "boolean"
    assert not of(await queue(api.http, url, outsider), aid_id)
    await relief.ok(await relief.post(review["path"], li, {"approve": True, "reason": "材料齐全"}))

    # In disclosure: an objection waits for its answer, due when the disclosure ends.
    assert not of(await queue(api.http, url, li), aid_id)
    raised = await relief.ok(
        await relief.post(
            f"/student-aid/applications/{aid_id}/objections", relief.member(rider), {"text": "家里有车"}
        ),
        201,
    )
    (objection,) = of(await queue(api.http, url, li), aid_id)
    assert objection["kind"] == "relief.student_aid_objection" and objection["can_act"] is True
    assert "家里有车" not in objection["title"] and "赵小燕" not in objection["title"]
    ends_at = (await relief.ok(await relief.get(f"/student-aid/applications/{aid_id}", li)))[
        "disclosure_ends_at"
    ]
    assert datetime.fromisoformat(objection["due_at"]) == datetime.fromisoformat(ends_at)
    (answer,) = objection["actions"]
    assert answer["path"] == f"/student-aid/objections/{raised['objection_id']}/answer"
    assert not of(await queue(api.http, url, outsider), aid_id)
    await relief.ok(await relief.post(answer["path"], li, {"upheld": False, "answer": "经核实为借用车辆"}))
    assert not of(await queue(api.http, url, li), aid_id)
