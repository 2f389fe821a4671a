"""Competitions end to end on real processes, a real broker and a real database: members enrolled
through enrollment take part; judges score blind under encrypted codes; results are published,
objected to, corrected by the chief judge, made final; awards and honours reach the topic."""

import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any

import asyncpg
import httpx
import pytest

from shared.auth import Role
from shared.contracts import decode_event
from shared.contracts.topics import COMPETITIONS_EVENTS
from tests.integration.conftest import Stack, eventually, read_topic
from tests.integration.test_enrollment_to_card import Api

pytestmark = pytest.mark.integration

CHINA = timezone(timedelta(hours=8))
TODAY = datetime.now(CHINA).date()
CRITERIA = [
    {"key": "technique", "name": "操作技能", "weight": 60, "max_points": "100"},
    {"key": "safety", "name": "安全规范", "weight": 40, "max_points": "50"},
]


class Contest:
    """The calls organisers, judges and entrants make to the competitions service."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.http = api.http
        self.url = api.s.services["competitions"].url

    def judge(self, sub: str, union_id: uuid.UUID) -> dict[str, str]:
        return self.api.s.headers(Role.CADRE, union_id=union_id, sub=sub)

    def member(self, member_id: str) -> dict[str, str]:
        return self.api.s.headers(Role.MEMBER, member_id=uuid.UUID(member_id))

    async def post(
        self, path: str, headers: dict[str, str], body: dict[str, Any] | None = None
    ) -> httpx.Response:
        return await self.http.post(f"{self.url}{path}", json=body or {}, headers=headers)

    async def get(self, path: str, headers: dict[str, str], **params: Any) -> httpx.Response:
        return await self.http.get(f"{self.url}{path}", headers=headers, params=params)

    @staticmethod
    def ok(r: httpx.Response, status: int = 200) -> Any:
        assert r.status_code == status, r.text
        return r.json()

    async def competition(self, union_id: uuid.UUID, **stage: Any) -> dict[str, Any]:
        body = {
            "name": "2026年叉车技能比武",
            "kind": "skills",
            "union_id": str(union_id),
            "criteria": CRITERIA,
            "stages": [{"name": "第一季度", "judges": ["j-li", "j-wang", "j-zhao", "j-chen"],
                        "chief_judge": "j-li", "blind": True, "objection_days": 3, **stage}],
        }  # fmt: skip
        return await self.create(self.api.cadre(union_id), body)

    async def create(self, headers: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
        """Creates once the service has heard of the organising union from enrollment's events."""

        async def attempt() -> httpx.Response | None:
            r = await self.post("/competitions", headers, body)
            return None if r.status_code == 404 and "not known" in r.text else r

        created: dict[str, Any] = self.ok(await eventually(attempt), 201)
        return created

    async def register(self, competition_id: str, headers: dict[str, str], **body: Any) -> httpx.Response:
        """Registers once the service has heard of the member(s) from enrollment's events."""

        async def attempt() -> httpx.Response | None:
            r = await self.post(f"/competitions/{competition_id}/entries", headers, body)
            return None if r.status_code == 404 and "not known" in r.text else r

        r: httpx.Response = await eventually(attempt)
        return r

    async def close_window(self, stage_id: str) -> None:
        """The test cannot wait out the objection window: move it into the past in the database."""
        conn = await asyncpg.connect(self.api.s.services["competitions"].dsn)
        try:
            await conn.execute(
                "UPDATE stages SET objection_ends_at = now() - interval '1 second' WHERE stage_id = $1",
                uuid.UUID(stage_id),
            )
        finally:
            await conn.close()

    async def events(self, competition_id: str) -> list[tuple[str, dict[str, Any]]]:
        records = await read_topic(self.api.s.bootstrap, self.api.s.topic(COMPETITIONS_EVENTS))
        found = []
        for rec in records:
            envelope, payload = decode_event(rec.value)
            data = payload.model_dump(mode="json")
            comp = data.get("competition") or {}
            if comp.get("competition_id") == competition_id:
                found.append((envelope.event_type, data))
        return found


@pytest.fixture
def contest(stack_env: Stack, http: httpx.AsyncClient) -> Contest:
    return Contest(Api(stack_env, http))


async def test_a_skills_contest_from_registration_to_awards(contest: Contest) -> None:
    api = contest.api
    units = await api.tree()
    logistics, riders = units["logistics"], units["riders"]
    m1 = await api.enrolled_member(logistics)
    m2 = await api.enrolled_member(riders)
    m3 = await api.enrolled_member(riders)
    comp = await contest.competition(units["district"])
    cid, sid = comp["competition_id"], comp["stages"][0]["stage_id"]

    # Members only, from the organiser's subtree; a member registers themself, a cadre others.
    e1 = contest.ok(await contest.register(cid, contest.member(m1["member_id"])), 201)
    e2 = contest.ok(await contest.register(cid, api.cadre(riders), member_ids=[m2["member_id"]]), 201)
    e3 = contest.ok(await contest.register(cid, api.cadre(riders), member_ids=[m3["member_id"]]), 201)
    assert [e1["entry_no"], e2["entry_no"], e3["entry_no"]] == [1, 2, 3]
    again = await contest.post(
        f"/competitions/{cid}/entries", api.cadre(riders), {"member_ids": [m2["member_id"]]}
    )
    assert again.status_code == 409, again.text

    # Judged blind: the sheet shows encrypted codes only.
    li, wang, zhao = (contest.judge(s, units["city"]) for s in ("j-li", "j-wang", "j-zhao"))
    chen = contest.judge("j-chen", logistics)  # from the logistics union: conflicted on entry 1
    sheet = contest.ok(await contest.get(f"/stages/{sid}/sheet", li))
    assert len(sheet) == 3 and all(line["entry_id"] is None and line["entry_no"] is None for line in sheet)
    codes = [line["code"] for line in sheet]
    assert len(set(codes)) == 3 and not any(e1["entry_id"] in c for c in codes)
    chen_sheet = contest.ok(await contest.get(f"/stages/{sid}/sheet", chen))
    # The entry from the judge's own union is left off the sheet (a mark would unblind it).
    assert len(chen_sheet) == 2 and {line["code"] for line in chen_sheet} < set(codes)

    async def score(judge: dict[str, str], code: str, technique: str, safety: str) -> httpx.Response:
        body = {"code": code, "points": {"technique": technique, "safety": safety}}
        return await contest.post(f"/stages/{sid}/scores", judge, body)

    # The one code missing from the logistics judge's sheet is entry 1's; the other two are the riders'.
    code_of = {e1["entry_id"]: next(iter(set(codes) - {line["code"] for line in chen_sheet}))}
    rest = [c for c in codes if c != code_of[e1["entry_id"]]]
    sheets = {code_of[e1["entry_id"]]: ((90, 45), (80, 40), (85, 42)), rest[0]: ((70, 30), (72, 35), (60, 30)),
              rest[1]: ((88, 44), (95, 40), (86, 45))}  # fmt: skip
    for code, marks in sheets.items():
        for judge, (t, s) in zip((li, wang, zhao), marks, strict=True):
            contest.ok(await score(judge, code, str(t), str(s)), 201)

    # The conflicted judge is refused on entry 1 and may score a riders' entry.
    refused = await score(chen, code_of[e1["entry_id"]], "100", "50")
    assert refused.status_code == 403 and "conflict of interest" in refused.text
    # Refusals are problem details (RFC 9457), with the refusal's own code.
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["status"] == 403 and problem["code"] == "conflict_of_interest"
    assert problem["instance"] == f"/stages/{sid}/scores"
    contest.ok(await score(chen, rest[0], "71", "31"), 201)
    # A sheet is locked: a second one by the same judge is refused and changes nothing.
    second = await score(li, rest[0], "100", "50")
    assert second.status_code == 409 and "locked" in second.text
    assert second.json()["code"] == "already_scored"
    # Bad input gets a clear 4xx and changes nothing.
    for body, expected in (
        ({"code": rest[1], "points": {"technique": "90"}}, 422),  # a criterion missing
        ({"code": rest[1], "points": {"technique": "101", "safety": "40"}}, 422),  # above the maximum
        ({"code": rest[1], "points": {"technique": "90.555", "safety": "40"}}, 422),  # three places
        ({"entry_id": e1["entry_id"], "points": {"technique": "90", "safety": "40"}}, 422),  # not blind
        ({"code": "NOSUCHCODE", "points": {"technique": "90", "safety": "40"}}, 404),
    ):
        r = await contest.post(f"/stages/{sid}/scores", chen, body)
        assert r.status_code == expected, (body, r.text)
    outsider = contest.judge("j-nobody", units["city"])
    assert (await score(outsider, rest[1], "90", "40")).status_code == 403
    chen_after = contest.ok(await contest.get(f"/stages/{sid}/sheet", chen))
    assert sum(line["scored"] for line in chen_after) == 1

    # Publication (成绩公示): codes decoded, ranking public, the objection window opens.
    members = contest.member(m2["member_id"])
    assert (await contest.post(f"/stages/{sid}/publish", members)).status_code == 403
    published = contest.ok(await contest.post(f"/stages/{sid}/publish", api.cadre(units["district"])))
    ranking = published["ranking"]
    assert [r["rank"] for r in ranking] == [1, 2, 3]
    assert {r["entry_id"] for r in ranking} == {e1["entry_id"], e2["entry_id"], e3["entry_id"]}
    assert code_of[e1["entry_id"]] == next(r["code"] for r in ranking if r["entry_id"] == e1["entry_id"])
    assert all("." in r["score"] for r in ranking) and published["tie_break"].startswith("higher stage score")
    sheet_now = contest.ok(await contest.get(f"/stages/{sid}/sheet", li))
    assert all(line["entry_id"] is not None for line in sheet_now)  # decoded after publication
    late = await score(li, rest[1], "90", "40")
    assert late.status_code == 409
    public = contest.ok(await contest.get(f"/stages/{sid}/results", contest.member(m1["member_id"])))
    assert public["ranking"] == ranking

    # An objection within the window; final only after the window, once it is resolved.
    last = ranking[-1]
    last_member = last["member_ids"][0]
    assert (await contest.post(f"/stages/{sid}/objections", contest.member(m1["member_id"]),
                               {"entry_id": last["entry_id"], "reason": "not mine"})).status_code == 403  # fmt: skip
    objection = contest.ok(
        await contest.post(f"/stages/{sid}/objections", contest.member(last_member),
                           {"entry_id": last["entry_id"], "reason": "评委王的技能分登记错误"}), 201,
    )  # fmt: skip
    district = api.cadre(units["district"])
    not_yet = await contest.post(f"/stages/{sid}/finalize", district)
    assert not_yet.status_code == 409, not_yet.text
    correction = {"upheld": True, "resolution": "复核: 登记错误, 更正", "corrections": [
        {"judge": "j-wang", "points": {"technique": "100", "safety": "50"}}]}  # fmt: skip
    assert (
        await contest.post(f"/objections/{objection['objection_id']}/resolve", wang, correction)
    ).status_code == 403
    resolved = contest.ok(
        await contest.post(f"/objections/{objection['objection_id']}/resolve", li, correction)
    )
    assert resolved["status"] == "upheld"
    after = contest.ok(await contest.get(f"/stages/{sid}/results", district))["ranking"]
    moved = next(r for r in after if r["entry_id"] == last["entry_id"])
    assert moved["score"] != last["score"]
    await contest.close_window(sid)
    closed = await contest.post(f"/stages/{sid}/objections", contest.member(last_member),
                                {"entry_id": last["entry_id"], "reason": "again"})  # fmt: skip
    assert closed.status_code == 409
    final = contest.ok(await contest.post(f"/stages/{sid}/finalize", district))
    assert final["stage"]["status"] == "final"
    winner = final["ranking"][0]

    # Awards from the final results; an honour comes with a term of at most five years.
    award = {"stage_id": sid, "entry_id": winner["entry_id"], "title": "技术能手",
             "honour_kind": "technical_expert", "honour_valid_until": str(TODAY + timedelta(days=3 * 365))}  # fmt: skip
    contest.ok(await contest.post(f"/competitions/{cid}/awards", district, award), 201)
    assert (await contest.post(f"/competitions/{cid}/awards", district, award)).status_code == 409
    too_long = {**award, "title": "一等奖", "honour_valid_until": str(TODAY + timedelta(days=6 * 365))}
    assert (await contest.post(f"/competitions/{cid}/awards", district, too_long)).status_code == 422
    winner_member = winner["member_ids"][0]
    honours = contest.ok(
        await contest.get(f"/members/{winner_member}/honours", contest.member(winner_member))
    )
    assert [h["title"] for h in honours] == ["技术能手"]

    # The trail holds every decision, the correction with its before and after.
    trail = contest.ok(await contest.get(f"/competitions/{cid}/trail", district))
    actions = [t["action"] for t in trail]
    for action in ("competition_created", "entry_registered", "sheet_submitted", "results_published",
                   "objection_raised", "score_corrected", "objection_upheld", "results_finalized", "award_granted"):  # fmt: skip
        assert action in actions, action
    corrected = next(t for t in trail if t["action"] == "score_corrected")
    assert (
        corrected["detail"]["after"] == {"technique": "100", "safety": "50"}
        and corrected["actor"] == "cadre:j-li"
    )

    # Events carry what a member card needs.
    async def all_events() -> list[tuple[str, dict[str, Any]]] | None:
        found = await contest.events(cid)
        return found if any(t == "competitions.AwardGranted" for t, _ in found) else None

    found = await eventually(all_events)
    types = [t for t, _ in found]
    assert types.count("competitions.EntryRegistered") == 3
    assert types.count("competitions.ResultFinalized") == 3
    assert types.count("competitions.AwardGranted") == 1
    first = next(p for t, p in found if t == "competitions.ResultFinalized" and p["rank"] == 1)
    assert first["member_id"] == winner_member and first["competition"]["name"] == "2026年叉车技能比武"
    assert first["competition"]["kind"] == "skills" and first["of_entries"] == 3
    honour = next(p for t, p in found if t == "competitions.HonourGranted")
    assert honour["member_id"] == winner_member and honour["title"] == "技术能手"
    assert honour["valid_until"] == award["honour_valid_until"]


async def test_a_leaver_s_entry_is_withdrawn(contest: Contest) -> None:
    api = contest.api
    units = await api.tree()
    member = await api.enrolled_member(units["logistics"])
    comp = await contest.competition(units["district"])
    cid = comp["competition_id"]
    entry = contest.ok(await contest.register(cid, contest.member(member["member_id"])), 201)
    left = await api.http.post(
        f"{api.enrollment}/members/{member['member_id']}/leave",
        json={"reason": "回老家"},
        headers=contest.member(member["member_id"]),
    )
    assert left.status_code == 200, left.text

    async def withdrawn() -> dict[str, Any] | None:
        view = contest.ok(await contest.get(f"/competitions/{cid}", api.cadre(units["district"])))
        e = next(x for x in view["entries"] if x["entry_id"] == entry["entry_id"])
        return e if e["status"] == "withdrawn" else None

    await eventually(withdrawn)
    sheet = contest.ok(await contest.get(f"/stages/{comp['stages'][0]['stage_id']}/sheet",
                                         contest.judge("j-li", units["city"])))  # fmt: skip
    assert sheet == []

    async def event() -> list[dict[str, Any]]:
        return [p for t, p in await contest.events(cid) if t == "competitions.EntryWithdrawn"]

    [withdrawal] = await eventually(event)
    assert withdrawal["member_id"] == member["member_id"] and withdrawal["reason"] == "member_left"
    again = await contest.post(f"/competitions/{cid}/entries", api.cadre(units["district"]),
                               {"member_ids": [member["member_id"]]})  # fmt: skip
    assert again.status_code == 409  # only members take part


async def test_model_worker_titles_are_current_only_within_their_term(contest: Contest) -> None:
    api = contest.api
    units = await api.tree()
    member = await api.enrolled_member(units["logistics"])
    mid = member["member_id"]
    city = api.cadre(units["city"])
    body = {"member_id": mid, "kind": "model_worker", "title": "杭州市劳动模范",
            "granted_on": str(TODAY - timedelta(days=4 * 365)), "valid_until": str(TODAY + timedelta(days=200))}  # fmt: skip

    async def grant() -> httpx.Response | None:
        r = await contest.post("/honours", city, body)
        return None if r.status_code == 404 else r

    honour = contest.ok(await eventually(grant), 201)
    hid = honour["honour_id"]
    too_long = {**body, "valid_until": str(TODAY + timedelta(days=2 * 365))}
    assert (await contest.post("/honours", city, too_long)).status_code == 422
    assert (await contest.post("/honours", api.cadre(units["other_city"]), body)).status_code == 403

    def on(day: date) -> dict[str, str]:
        return {"on": str(day)}

    now = contest.ok(await contest.get(f"/members/{mid}/honours", contest.member(mid)))
    assert [h["honour_id"] for h in now] == [hid]
    later = contest.ok(await contest.get(f"/members/{mid}/honours", city, **on(TODAY + timedelta(days=300))))
    assert later == []
    refused = await contest.post(f"/honours/{hid}/renew", city,
                                 {"assessment_passed": False, "valid_until": str(TODAY + timedelta(days=900))})  # fmt: skip
    assert refused.status_code == 409
    renewed = contest.ok(await contest.post(f"/honours/{hid}/renew", city,
                                            {"assessment_passed": True, "valid_until": str(TODAY + timedelta(days=900))}))  # fmt: skip
    assert renewed["valid_until"] == str(TODAY + timedelta(days=900))
    assert contest.ok(await contest.get(f"/members/{mid}/honours", city, **on(TODAY + timedelta(days=300))))
    contest.ok(await contest.post(f"/honours/{hid}/revoke", city, {"reason": "考核不合格"}))
    assert contest.ok(await contest.get(f"/members/{mid}/honours", city)) == []
    assert (await contest.post(f"/honours/{hid}/revoke", city, {"reason": "again"})).status_code == 409
    trail = contest.ok(await contest.get(f"/honours/{hid}/trail", city))
    assert [(t["action"], t["reason"]) for t in trail] == [
        ("honour_granted", None),
        ("honour_renewed", None),
        ("honour_revoked", "考核不合格"),
    ]

    async def events() -> list[str] | None:
        records = await read_topic(api.s.bootstrap, api.s.topic(COMPETITIONS_EVENTS))
        mine = [decode_event(r.value) for r in records]
        types = [e.event_type for e, p in mine if getattr(p, "honour_id", None) == uuid.UUID(hid)]
        return types if len(types) == 3 else None

    assert await eventually(events) == [
        "competitions.HonourGranted",
        "competitions.HonourRenewed",
        "competitions.HonourRevoked",
    ]


async def test_bad_set_up_is_refused_with_a_reason_and_creates_nothing(contest: Contest) -> None:
    api = contest.api
    units = await api.tree()
    district = api.cadre(units["district"])
    await contest.competition(units["district"])  # the union is known to the service
    base = {"name": "金点子征集", "kind": "golden_ideas", "union_id": str(units["district"]), "criteria": CRITERIA,
            "stages": [{"name": "评审", "judges": ["j-li"], "chief_judge": "j-li"}]}  # fmt: skip
    bad_cases = [
        {**base, "kind": "lottery"},
        {**base, "criteria": [{**CRITERIA[0], "weight": 1.5}]},
        {**base, "criteria": [{**CRITERIA[0], "weight": 0}]},
        {**base, "criteria": [CRITERIA[0], CRITERIA[0]]},
        {**base, "stages": [{"name": "评审", "judges": ["j-li"], "chief_judge": "j-wang"}]},
        {**base, "stages": [{"name": "评审", "judges": ["j-li"], "chief_judge": "j-li", "expert_weight": 0}]},
        {**base, "criteria": []},
    ]
    for body in bad_cases:
        r = await contest.post("/competitions", district, body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["detail"]
    outside = await contest.post("/competitions", api.cadre(units["other_city"]), base)
    assert outside.status_code == 403
    ok = contest.ok(await contest.post("/competitions", district, base), 201)
    trail = contest.ok(await contest.get(f"/competitions/{ok['competition_id']}/trail", district))
    assert [t["action"] for t in trail] == ["competition_created"]
    member = await api.enrolled_member(units["logistics"])
    no_idea = await contest.register(ok["competition_id"], contest.member(member["member_id"]))
    assert no_idea.status_code == 422 and "idea_title" in no_idea.text


async def test_a_team_title_mixes_the_public_vote_and_waits_for_the_chief_judge(contest: Contest) -> None:
    api = contest.api
    units = await api.tree()
    logistics, riders, district = units["logistics"], units["riders"], api.cadre(units["district"])
    m1, m2 = await api.enrolled_member(logistics), await api.enrolled_member(logistics)
    m3, m4 = await api.enrolled_member(riders), await api.enrolled_member(riders)
    body = {"name": "工人先锋号评选", "kind": "team_title", "union_id": str(units["district"]),
            "criteria": [{"key": "performance", "name": "业绩", "weight": 1}],
            "stages": [{"name": "年度评选", "judges": ["j-li", "j-wang"], "chief_judge": "j-li",
                        "expert_weight": 60, "public_weight": 40, "spread_gap": "10", "objection_days": 0}]}  # fmt: skip
    comp = await contest.create(district, body)
    cid, sid = comp["competition_id"], comp["stages"][0]["stage_id"]
    alone = await contest.register(cid, contest.member(m1["member_id"]))
    assert alone.status_code == 422 and "team" in alone.text
    team_a = contest.ok(await contest.register(cid, api.cadre(logistics), member_ids=[m1["member_id"], m2["member_id"]],
                                               team_name="叉车班", team_union_id=str(logistics)), 201)  # fmt: skip
    team_b = contest.ok(await contest.register(cid, api.cadre(riders), member_ids=[m3["member_id"], m4["member_id"]],
                                               team_name="骑手先锋队", team_union_id=str(riders)), 201)  # fmt: skip
    li, wang = contest.judge("j-li", units["city"]), contest.judge("j-wang", units["city"])
    for judge, entry, points in (
        (li, team_a, "90"),
        (li, team_b, "70"),
        (wang, team_a, "60"),
        (wang, team_b, "72"),
    ):
        sheet = {"entry_id": entry["entry_id"], "points": {"performance": points}}
        contest.ok(await contest.post(f"/stages/{sid}/scores", judge, sheet), 201)
    for entry, votes in ((team_a, 100), (team_b, 300)):
        tally = {"entry_id": entry["entry_id"], "votes": votes}
        contest.ok(await contest.post(f"/stages/{sid}/votes", district, tally))

    # Team A's judges are 30 points apart (gap 10): publication waits for the chief judge.
    standings = contest.ok(await contest.get(f"/stages/{sid}/results", district))["ranking"]
    assert [r["flagged"] for r in standings if r["entry_id"] == team_a["entry_id"]] == [True]
    blocked = await contest.post(f"/stages/{sid}/publish", district)
    assert blocked.status_code == 409 and blocked.json()["entries"] == [team_a["entry_no"]]
    review = {"entry_id": team_a["entry_id"], "note": "复核评分表: 评分有据"}
    assert (await contest.post(f"/stages/{sid}/reviews", wang, review)).status_code == 403
    contest.ok(await contest.post(f"/stages/{sid}/reviews", li, review))
    not_flagged = await contest.post(f"/stages/{sid}/reviews", li, {**review, "entry_id": team_b["entry_id"]})
    assert not_flagged.status_code == 409

    # 60 % experts, 40 % public: A = 0.6*75 + 0.4*33.33.. = 58.3333; B = 0.6*71 + 0.4*100 = 82.6.
    ranking = contest.ok(await contest.post(f"/stages/{sid}/publish", district))["ranking"]
    assert [(r["entry_id"], r["score"]) for r in ranking] == [
        (team_b["entry_id"], "82.6000"),
        (team_a["entry_id"], "58.3333"),
    ]
    final = contest.ok(await contest.post(f"/stages/{sid}/finalize", district))  # a window of 0 days
    assert final["stage"]["status"] == "final"
    award = {"stage_id": sid, "entry_id": team_b["entry_id"], "title": "工人先锋号", "honour_kind": "pioneer_team",
             "honour_valid_until": str(TODAY + timedelta(days=4 * 365))}  # fmt: skip
    contest.ok(await contest.post(f"/competitions/{cid}/awards", district, award), 201)

    async def honours() -> list[dict[str, Any]] | None:
        found = [p for t, p in await contest.events(cid) if t == "competitions.HonourGranted"]
        return found if len(found) == 2 else None

    granted = await eventually(honours)
    assert {p["member_id"] for p in granted} == {m3["member_id"], m4["member_id"]}
    assert all(p["team_name"] == "骑手先锋队" and p["kind"] == "pioneer_team" for p in granted)
    finalized = [p for t, p in await contest.events(cid) if t == "competitions.ResultFinalized"]
    assert sorted((p["rank"], p["entry"]["team_name"]) for p in finalized) == [
        (1, "骑手先锋队"), (1, "骑手先锋队"), (2, "叉车班"), (2, "叉车班"),
    ]  # fmt: skip


async def test_a_golden_idea_is_reviewed_then_adopted_once(contest: Contest) -> None:
    api = contest.api
    units = await api.tree()
    district = api.cadre(units["district"])
    body = {"name": "金点子征集", "kind": "golden_ideas", "union_id": str(units["district"]),
            "criteria": [{"key": "value", "name": "效益", "weight": 1}],
            "stages": [{"name": "评审", "judges": ["j-li"], "chief_judge": "j-li", "objection_days": 0}]}  # fmt: skip
    comp = await contest.create(district, body)
    cid, sid = comp["competition_id"], comp["stages"][0]["stage_id"]
    member = await api.enrolled_member(units["logistics"])
    idea = contest.ok(
        await contest.register(cid, contest.member(member["member_id"]), idea_title="叉车电池夜间错峰充电"),
        201,
    )
    early = await contest.post(f"/competitions/{cid}/entries/{idea['entry_id']}/adoption", district)
    assert early.status_code == 409  # not reviewed yet
    sheet = {"entry_id": idea["entry_id"], "points": {"value": "88.5"}}
    contest.ok(await contest.post(f"/stages/{sid}/scores", contest.judge("j-li", units["city"]), sheet), 201)
    contest.ok(await contest.post(f"/stages/{sid}/publish", district))
    contest.ok(await contest.post(f"/stages/{sid}/finalize", district))
    contest.ok(await contest.post(f"/competitions/{cid}/entries/{idea['entry_id']}/adoption", district))
    again = await contest.post(f"/competitions/{cid}/entries/{idea['entry_id']}/adoption", district)
    assert again.status_code == 409

    async def adopted() -> list[dict[str, Any]]:
        return [p for t, p in await contest.events(cid) if t == "competitions.IdeaAdopted"]

    [event] = await eventually(adopted)
    assert event["member_id"] == member["member_id"] and event["idea_title"] == "叉车电池夜间错峰充电"
