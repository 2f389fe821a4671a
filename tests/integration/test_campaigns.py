"""送温暖 end to end on real processes, a real broker and a real database: a campaign launched at
the city, split down the tree, a base union's list generated from what relief knows (a register
household, a model worker in hardship, a front-line worker, an employer in difficulty), edited
with reasons, signed off by two cadres, paid once, reported, and closed by the durable timer."""

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from services.enrollment.domain.employers import random_credit_code
from services.relief.domain.campaigns import split_largest_remainder
from shared.auth import Role
from shared.contracts import decode_event
from shared.contracts.topics import RELIEF_EVENTS
from shared.events import china_date, utcnow
from shared.membership.refresh import refresh_employment_types
from shared.settings import ConsumingSettings
from tests.integration.conftest import Stack, eventually, read_topic
from tests.integration.test_enrollment_to_card import Api
from tests.integration.test_relief import TODAY, Relief

pytestmark = pytest.mark.integration

AMOUNTS = {"deep": 100_000, "relative": 80_000, "accident": 80_000, "model_worker": 150_000,
           "front_line": 30_000, "employer": 500_000}  # fmt: skip


class Campaigns:
    """The calls a union office makes for a campaign, on top of relief's."""

    def __init__(self, relief: Relief) -> None:
        self.relief = relief
        self.api = relief.api
        self.http = relief.http
        self.url = relief.url

    def cadre(self, union_id: uuid.UUID, who: str = "wang") -> dict[str, str]:
        return self.api.s.headers(Role.CADRE, union_id=union_id, sub=f"cadre-{who}")

    async def call(
        self, method: str, path: str, headers: dict[str, str], body: Any = None, **params: Any
    ) -> httpx.Response:
        return await self.http.request(method, f"{self.url}{path}", json=body, headers=headers, params=params)

    @staticmethod
    def ok(r: httpx.Response, status: int = 200) -> Any:
        assert r.status_code == status, r.text
        return r.json()

    async def launch(self, union_id: uuid.UUID, total_fen: int = 10_000_000, **change: Any) -> dict[str, Any]:
        body = {"title": "2027年春节送温暖", "union_id": str(union_id), "starts_on": str(TODAY),
                "ends_on": str(TODAY + timedelta(days=40)), "total_fen": total_fen, "amounts_fen": AMOUNTS}  # fmt: skip
        body.update(change)
        return self.ok(await self.call("POST", "/campaigns", self.cadre(union_id), body), 201)  # type: ignore[no-any-return]

    async def allocate(
        self, cid: str, union_id: uuid.UUID, parent: uuid.UUID, total_fen: int
    ) -> httpx.Response:
        return await self.call(
            "PUT", f"/campaigns/{cid}/allocations/{union_id}", self.cadre(parent), {"total_fen": total_fen}
        )

    async def front_line_member(self, union_id: uuid.UUID, kind: str = "flexible") -> str:
        member = await self.api.enrolled_member(union_id, employment_type=kind)
        mid: str = member["member_id"]
        await self.relief.known(mid)
        return mid

    async def employer_in_difficulty(self, base: uuid.UUID, responsible: uuid.UUID) -> str:
        body = {"name": "杭州某某纺织有限公司", "credit_code": random_credit_code(self.relief.rng), "region": "330106",
                "workforce": 80, "responsible_union_id": str(responsible), "base_union_id": str(base)}  # fmt: skip
        created = await self.http.post(
            f"{self.api.enrollment}/employers", json=body, headers=self.cadre(responsible)
        )
        eid: str = self.ok(created, 201)["employer_id"]

        async def designated() -> dict[str, Any] | None:
            r = await self.call(
                "PUT",
                f"/employers/{eid}/difficulty",
                self.cadre(base),
                {"in_difficulty": True, "reason": "订单锐减, 停产半年"},
            )
            return r.json() if r.status_code == 200 else None  # relief learns of it from events

        assert (await eventually(designated))["in_difficulty"] is True
        return eid

    async def pay(
        self, list_id: str, union_id: uuid.UUID, key: str | None, who: str = "li"
    ) -> httpx.Response:
        headers = {**self.cadre(union_id, who), **({"Idempotency-Key": key} if key else {})}
        return await self.http.post(f"{self.url}/campaign-lists/{list_id}/pay", headers=headers)


@pytest.fixture
async def campaigns(stack_env: Stack, http: httpx.AsyncClient) -> AsyncIterator[Campaigns]:
    yield Campaigns(Relief(Api(stack_env, http)))


async def model_worker_in_hardship(c: Campaigns, units: dict[str, uuid.UUID]) -> str:
    member = await c.api.enrolled_member(units["logistics"])
    mid: str = member["member_id"]
    await c.relief.known(mid)
    await c.relief.in_register(member, units["logistics"])
    honours = f"{c.api.s.services['competitions'].url}/honours"
    body = {"member_id": mid, "kind": "model_worker", "title": "杭州市劳动模范",
            "granted_on": str(TODAY - timedelta(days=365)), "valid_until": str(TODAY + timedelta(days=3 * 365))}  # fmt: skip

    async def granted() -> httpx.Response | None:
        r = await c.http.post(honours, json=body, headers=c.cadre(units["city"]))
        return None if r.status_code == 404 else r

    assert (await eventually(granted)).status_code == 201
    conn = await asyncpg.connect(c.api.s.services["relief"].dsn)
    try:

        async def known() -> bool:
            return bool(
                await conn.fetchval(
                    "SELECT count(*) FROM model_worker_honours WHERE member_id = $1", uuid.UUID(mid)
                )
            )

        await eventually(known)
    finally:
        await conn.close()
    return mid


async def test_a_campaign_from_launch_to_payment_and_report(campaigns: Campaigns, stack_env: Stack) -> None:
    c = campaigns
    units = await c.api.tree()
    city, district, logistics, riders = units["city"], units["district"], units["logistics"], units["riders"]

    # Who relief knows in the logistics union: a register household, a model worker in hardship,
    # a front-line worker, an ordinary employee (not consoled), and an employer in difficulty.
    household = await c.api.enrolled_member(logistics)
    await c.relief.known(household["member_id"])
    case = await c.relief.in_register(household, logistics)
    tier = case["tier"]
    model_worker = await model_worker_in_hardship(c, units)
    rider = await c.front_line_member(logistics, "flexible")
    clerk = await c.front_line_member(logistics, "employee")
    employer = await c.employer_in_difficulty(logistics, district)
    elsewhere = await c.front_line_member(riders, "migrant")
    register = c.ok(await c.call("GET", "/employers", c.cadre(district), in_difficulty="true", q="纺织"))
    assert [(e["employer_id"], e["difficulty_reason"]) for e in register["items"]] == [
        (employer, "订单锐减, 停产半年")
    ]
    assert c.ok(await c.call("GET", "/employers", c.cadre(riders)))["items"] == []

    # Launch: a federation cadre; a member may not; a bad form is a 422 in Chinese.
    member = stack_env.headers(Role.MEMBER, member_id=uuid.UUID(rider))
    body = {"title": "x", "union_id": str(city), "starts_on": str(TODAY), "ends_on": str(TODAY),
            "total_fen": 100, "amounts_fen": {"deep": 100}}  # fmt: skip
    assert (await c.call("POST", "/campaigns", member, body)).status_code == 403
    assert (await c.call("POST", "/campaigns", c.cadre(units["other_city"]), body)).status_code == 403
    bad = await c.call("POST", "/campaigns", c.cadre(city), {**body, "amounts_fen": {"deep": 200}})
    assert bad.status_code == 422 and "总额" in bad.json()["detail"]
    assert (
        await c.call("POST", "/campaigns", c.cadre(city), {**body, "amounts_fen": {"nobody": 1}})
    ).status_code == 422
    campaign = await c.launch(city)
    cid = campaign["campaign_id"]
    assert campaign["status"] == "open" and campaign["status_label"] == "进行中"
    assert campaign["union_name"].startswith("杭州市总工会") and campaign["paid_fen"] == 0
    assert {g["group"]: (g["label"], g["amount_fen"]) for g in campaign["groups"]}["employer"] == (
        "困难企业",
        500_000,
    )
    seen = c.ok(await c.call("GET", "/campaigns", c.cadre(logistics)))
    assert cid in [x["campaign_id"] for x in seen["items"]]  # launched above it
    assert cid not in [
        x["campaign_id"]
        for x in c.ok(await c.call("GET", "/campaigns", c.cadre(units["other_city"])))["items"]
    ]
    assert (await c.call("GET", f"/campaigns/{cid}", c.cadre(units["other_city"]))).status_code == 403
    # A second campaign, at the district: paged newest first, a page at a time.
    local = await c.launch(
        district, total_fen=100_000, title="区总工会一线职工慰问", amounts_fen={"front_line": 20_000}
    )
    first = c.ok(await c.call("GET", "/campaigns", c.cadre(logistics), limit=1))
    assert [x["campaign_id"] for x in first["items"]] == [local["campaign_id"]] and first["next"]
    rest = c.ok(await c.call("GET", "/campaigns", c.cadre(logistics), limit=1, after=first["next"]))
    assert [x["campaign_id"] for x in rest["items"]] == [cid] and rest["next"] is None
    assert (await c.call("GET", "/campaigns", c.cadre(logistics), after="nonsense")).status_code == 422
    at_city = c.ok(await c.call("GET", "/campaigns", c.cadre(city), status="open"))["items"]
    assert {x["campaign_id"] for x in at_city} == {cid, local["campaign_id"]}  # inside its subtree

    # Allocations down the tree: the city to the district, the district to the base union.
    tree = c.ok(await c.call("GET", f"/campaigns/{cid}/allocations", c.cadre(city), union_id=city))
    assert tree["total_fen"] == tree["remaining_fen"] == 10_000_000
    [to_district] = [x for x in tree["children"] if x["union_id"] == str(district)]
    assert (to_district["eligible_households"], to_district["eligible_employers"]) == (4, 1)
    assert to_district["suggested_fen"] == 10_000_000  # the only child with anyone to console
    assert (await c.allocate(cid, district, district, 2_000_000)).status_code == 403  # covers the parent only
    c.ok(await c.allocate(cid, district, city, 2_000_000))
    too_much = await c.allocate(cid, logistics, district, 2_000_001)
    assert too_much.status_code == 409 and too_much.json()["remaining_fen"] == 2_000_000, too_much.text
    assert (await c.allocate(cid, logistics, district, 800_000)).status_code == 200
    below = c.ok(await c.call("GET", f"/campaigns/{cid}/allocations", c.cadre(district), union_id=district))
    assert (below["total_fen"], below["allocated_fen"], below["remaining_fen"]) == (
        2_000_000,
        800_000,
        1_200_000,
    )
    by_union = {x["union_id"]: x for x in below["children"]}
    costs = AMOUNTS[tier] + AMOUNTS["model_worker"] + AMOUNTS["front_line"] + AMOUNTS["employer"]
    assert (
        by_union[str(logistics)]["eligible_households"] == 3
        and by_union[str(riders)]["eligible_households"] == 1
    )
    # The district's 1 200 000 left, split by what each child's recipients cost, sums exactly.
    assert by_union[str(logistics)]["suggested_fen"] + by_union[str(riders)]["suggested_fen"] == 1_200_000
    expected = split_largest_remainder(1_200_000, {logistics: costs, riders: AMOUNTS["front_line"]})
    assert by_union[str(logistics)]["suggested_fen"] == expected[logistics] > 0

    # The base union's list, generated: one entry each, in the group paying the most.
    wang, li = c.cadre(logistics, "wang"), c.cadre(logistics, "li")
    assert (
        await c.call("POST", f"/campaigns/{cid}/lists", c.cadre(district), {"union_id": str(district)})
    ).status_code == 422
    made = c.ok(await c.call("POST", f"/campaigns/{cid}/lists", wang, {"union_id": str(logistics)}), 201)
    lid = made["list_id"]
    entries = {e["member_id"] or e["employer_id"]: e for e in made["entries"]}
    assert set(entries) == {household["member_id"], model_worker, rider, employer}
    assert entries[household["member_id"]]["group"] == tier
    assert entries[model_worker]["group"] == "model_worker" and entries[model_worker]["amount_fen"] == 150_000
    assert entries[rider]["group_label"] == "一线职工" and entries[employer]["recipient"] == "employer"
    assert entries[employer]["name"] == "杭州某某纺织有限公司" and entries[rider]["name"]
    assert made["status"] == "draft" and made["status_label"] == "草稿"
    assert (await c.call("GET", f"/campaign-lists/{lid}", c.cadre(riders))).status_code == 404
    assert (await c.call("GET", f"/campaign-lists/{lid}", member)).status_code == 403

    # Edited with reasons, and generating again keeps the edits.
    rider_entry = entries[rider]["entry_id"]
    no_reason = await c.call(
        "POST", f"/campaign-lists/{lid}/entries/{rider_entry}/exclude", wang, {"reason": " "}
    )
    assert no_reason.status_code == 422
    edited = c.ok(
        await c.call(
            "POST", f"/campaign-lists/{lid}/entries/{rider_entry}/exclude", wang, {"reason": "已离职"}
        )
    )
    assert [e["included"] for e in edited["entries"] if e["entry_id"] == rider_entry] == [False]
    edited = c.ok(
        await c.call(
            "POST", f"/campaign-lists/{lid}/entries/{rider_entry}/include", wang, {"reason": "核实仍在岗"}
        )
    )
    hh = entries[household["member_id"]]["entry_id"]
    edited = c.ok(
        await c.call(
            "PATCH",
            f"/campaign-lists/{lid}/entries/{hh}",
            wang,
            {"amount_fen": 120_000, "reason": "家中新增病人"},
        )
    )
    added = c.ok(await c.call("POST", f"/campaign-lists/{lid}/entries", wang,
                              {"member_id": clerk, "group": "front_line", "reason": "环卫岗位临时顶岗"}))  # fmt: skip
    assert len(added["entries"]) == 5
    outsider = await c.call("POST", f"/campaign-lists/{lid}/entries", wang,
                            {"member_id": elsewhere, "group": "front_line", "reason": "x"})  # fmt: skip
    assert outsider.status_code == 409
    twice = await c.call(
        "POST",
        f"/campaign-lists/{lid}/entries",
        wang,
        {"member_id": clerk, "group": "front_line", "reason": "x"},
    )
    assert twice.status_code == 409
    again = c.ok(await c.call("POST", f"/campaigns/{cid}/lists", wang, {"union_id": str(logistics)}))
    assert again["list_id"] == lid and len(again["entries"]) == 5
    assert [e["amount_fen"] for e in again["entries"] if e["entry_id"] == hh] == [120_000]
    total = 120_000 + 150_000 + 30_000 + 500_000 + 30_000
    assert again["total_fen"] == total and again["included_count"] == 5

    # Signed off: submitted by one, approved by another; never both by one person.
    assert (await c.pay(lid, logistics, "too-early-001")).status_code == 409
    c.ok(await c.call("POST", f"/campaign-lists/{lid}/submit", wang))
    assert (
        await c.call(
            "POST",
            f"/campaign-lists/{lid}/entries",
            wang,
            {"member_id": clerk, "group": "front_line", "reason": "x"},
        )
    ).status_code == 409
    same = await c.call("POST", f"/campaign-lists/{lid}/approve", wang)
    assert same.status_code == 403 and same.json()["detail"] == "同一人不能既提交又审批(四眼原则)"
    approved = c.ok(await c.call("POST", f"/campaign-lists/{lid}/approve", li))
    assert approved["status"] == "approved" and approved["approved_by"].endswith("cadre-li")

    # Paid: once, in one go; a retry replays; a new key pays nothing more.
    assert (await c.pay(lid, logistics, None)).status_code == 422
    short = await c.pay(lid, logistics, f"short-{uuid.uuid4().hex}")
    assert short.status_code == 409 and short.json()["remaining_fen"] == 800_000, short.text
    assert c.ok(await c.call("GET", f"/campaign-lists/{lid}", wang))["paid_fen"] == 0  # nothing paid
    c.ok(await c.allocate(cid, logistics, district, 1_000_000))
    key = f"spring-{uuid.uuid4().hex}"
    paid = c.ok(await c.pay(lid, logistics, key))
    assert (paid["paid_count"], paid["paid_fen"], paid["already_paid_count"], paid["replayed"]) == (
        5,
        total,
        0,
        False,
    )
    assert paid["status"] == "paid" and paid["status_label"] == "已发放"
    replay = c.ok(await c.pay(lid, logistics, key))
    assert replay["replayed"] is True and replay["paid_fen"] == total
    more = c.ok(await c.pay(lid, logistics, f"spring-{uuid.uuid4().hex}"))
    assert (more["paid_count"], more["paid_fen"]) == (0, 0)
    shown = c.ok(await c.call("GET", f"/campaign-lists/{lid}", wang))
    assert all(e["paid"] and e["paid_at"] for e in shown["entries"]) and shown["paid_fen"] == total

    # On the topic: the member's receipts whole; the employer consoled under its own key.
    async def aid_paid() -> tuple[Any, Any] | None:
        records = await read_topic(stack_env.bootstrap, stack_env.topic(RELIEF_EVENTS))
        found = [decode_event(r.value) for r in records if r.key == household["member_id"].encode()]
        return found[-1] if found and found[-1][0].event_type == "relief.ProgrammeAidPaid" else None

    _, event = await eventually(aid_paid)
    assert event.payment.amount_fen == 120_000 and event.payment.title == "2027年春节送温暖"
    assert [r.payment_id for r in event.receipts] == [event.payment.payment_id]
    assert event.group.value == tier and str(event.base_union_id) == str(logistics)
    records = await read_topic(stack_env.bootstrap, stack_env.topic(RELIEF_EVENTS))
    consoled = [decode_event(r.value) for r in records if r.key == f"employer:{employer}".encode()]
    assert [(m.event_type, getattr(p, "amount_fen", None)) for m, p in consoled] == [
        ("relief.EmployerConsoled", 500_000)
    ]
    launched = [decode_event(r.value)[0].event_type for r in records if r.key == f"campaign:{cid}".encode()]
    assert launched == ["relief.CampaignLaunched"]

    # On the member's card, through the projector: what they received, for them alone.
    household_self = stack_env.headers(Role.MEMBER, member_id=uuid.UUID(household["member_id"]))

    async def on_card() -> list[dict[str, Any]] | None:
        r = await c.api.card(household["member_id"], household_self)
        aid: list[dict[str, Any]] = r.json().get("programme_aid", []) if r.status_code == 200 else []
        return aid or None

    [received] = await eventually(on_card)
    assert (received["programme_label"], received["title"], received["amount_fen"]) == (
        "送温暖", "2027年春节送温暖", 120_000,
    )  # fmt: skip
    seen_by_cadre = await c.api.card(household["member_id"], wang)
    assert seen_by_cadre.status_code == 200 and seen_by_cadre.json()["programme_aid"] == []

    # The member's copy of their data names the payment and the list they were on.
    mine = c.ok(await c.call("GET", f"/members/{rider}/personal-data", member))
    kinds = {r["kind"]: r for r in mine["records"]}
    assert kinds["programme_receipt"]["data"]["amount_fen"] == 30_000
    assert kinds["campaign_list_entry"]["data"]["reason"] == "核实仍在岗"

    # The report: per child union and group, rolled up; and as a file.
    at_city = c.ok(await c.call("GET", f"/campaigns/{cid}/report", c.cadre(city)))
    assert {r["union_id"] for r in at_city["rows"]} == {str(district)}
    assert at_city["totals"] == {"households": 4, "employers": 1, "amount_fen": total}
    at_district = c.ok(await c.call("GET", f"/campaigns/{cid}/report", c.cadre(district), union_id=district))
    groups = {r["group"]: r for r in at_district["rows"]}
    assert groups["front_line"]["households"] == 2 and groups["front_line"]["amount_fen"] == 60_000
    assert groups["employer"]["employers"] == 1 and groups["employer"]["group_label"] == "困难企业"
    csv = await c.call("GET", f"/campaigns/{cid}/report/export", c.cadre(city), format="csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "合计" in csv.content.decode("utf-8-sig") and "attachment" in csv.headers["content-disposition"]

    # The federation's statistics (the reports service, its own consumer group): the same money by
    # programme and group in the city's relief report for this month.
    month = str(china_date(utcnow()))[:7]

    async def in_statistics() -> dict[str, dict[str, Any]] | None:
        r = await c.http.get(
            f"{stack_env.services['reports'].url}/reports/relief",
            params={"union_id": str(city), "from": month, "to": month}, headers=c.cadre(city),
        )  # fmt: skip
        if r.status_code != 200:
            return None
        [table] = [t for t in r.json()["tables"] if t["table"] == "programmes"]
        rows = {row["group"]: row for row in table["rows"]}
        return rows if sum(row["paid"] for row in rows.values()) == total else None

    figures = await eventually(in_statistics)
    assert figures["困难企业"]["recipients"] == 1 and figures["困难企业"]["paid"] == 500_000
    assert figures["一线职工"]["recipients"] == 2 and figures["一线职工"]["programme"] == "送温暖"
    assert (
        await c.call("GET", f"/campaigns/{cid}/report", c.cadre(riders), union_id=district)
    ).status_code == 403
    now = c.ok(await c.call("GET", f"/campaigns/{cid}", c.cadre(city)))
    assert (now["paid_fen"], now["allocated_fen"]) == (total, 2_000_000)
    alloc = c.ok(await c.call("GET", f"/campaigns/{cid}/allocations", c.cadre(logistics), union_id=logistics))
    assert (alloc["paid_fen"], alloc["remaining_fen"]) == (total, 1_000_000 - total)
    # Below what the union has paid, its allocation cannot go.
    assert (await c.allocate(cid, logistics, district, total - 1)).status_code == 409

    # The durable timer closes it after its last day (brought forward here): nothing more is paid.
    conn = await asyncpg.connect(stack_env.services["relief"].dsn)
    try:
        await conn.execute(
            "UPDATE timers SET fire_at = now() WHERE kind = 'campaign.close' AND subject = $1",
            f"campaign:{cid}",
        )
    finally:
        await conn.close()

    async def closed() -> dict[str, Any] | None:
        got: dict[str, Any] = c.ok(await c.call("GET", f"/campaigns/{cid}", c.cadre(city)))
        return got if got["status"] == "closed" else None

    assert (await eventually(closed, timeout=30))["status_label"] == "已结束"
    assert (await c.allocate(cid, riders, district, 1)).status_code == 409
    riders_list = await c.call("POST", f"/campaigns/{cid}/lists", c.cadre(riders), {"union_id": str(riders)})
    assert riders_list.status_code == 201
    rid = riders_list.json()["list_id"]
    c.ok(await c.call("POST", f"/campaign-lists/{rid}/submit", c.cadre(riders, "wang")))
    c.ok(await c.call("POST", f"/campaign-lists/{rid}/approve", c.cadre(riders, "li")))
    late = await c.pay(rid, riders, f"late-{uuid.uuid4().hex}")
    assert late.status_code == 409 and "已结束" in late.json()["detail"]
    records = await read_topic(stack_env.bootstrap, stack_env.topic(RELIEF_EVENTS))
    closing = [decode_event(r.value)[0].event_type for r in records if r.key == f"campaign:{cid}".encode()]
    assert closing == ["relief.CampaignLaunched", "relief.CampaignClosed"]


class _ReliefReading(ConsumingSettings):
    service = "relief"


async def test_members_held_before_employment_types_get_theirs_from_enrollments_state(
    campaigns: Campaigns, stack_env: Stack
) -> None:
    """An upgrade: relief held this rider before its view kept employment types (NULL). The
    refresh reads enrollment's state topic and fills it, and nothing is left to do afterwards."""
    c = campaigns
    units = await c.api.tree()
    rider = await c.front_line_member(units["logistics"])
    settings = _ReliefReading(
        kafka_bootstrap_servers=stack_env.bootstrap, topic_prefix=stack_env.topic_prefix,
        database_url=stack_env.services["relief"].dsn, person_key_secret="refresh-test-" + "x" * 32,
    )  # fmt: skip
    pool = await asyncpg.create_pool(stack_env.services["relief"].dsn, min_size=1, max_size=2)
    try:
        await pool.execute("UPDATE members SET employment_type = NULL WHERE member_id = $1", uuid.UUID(rider))
        assert await refresh_employment_types(settings, pool) >= 1
        held = await pool.fetchval(
            "SELECT employment_type FROM members WHERE member_id = $1", uuid.UUID(rider)
        )
        assert held == "flexible"
        assert await pool.fetchval("SELECT count(*) FROM members WHERE employment_type IS NULL") == 0
        assert await refresh_employment_types(settings, pool) == 0  # nothing missing: not even a read
    finally:
        await pool.close()
