"""The scenario's 送温暖 step (`make run` / `make scenario`): the city federation launches a Spring
Festival campaign, splits it down the tree by what each union's recipients would cost, a base
union draws up its list, a second cadre signs it off (four eyes) and it is paid; the city reads
the report. One line per step, in Chinese.

Called from scripts/scenario.py once the relief step has run:
    await play_campaign(office, city, bases)
"""

import asyncio
import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

from shared.events import CHINA

if TYPE_CHECKING:  # scripts/scenario.py imports this module: no cycle at run time
    from scripts.scenario import Office

RELIEF = "http://127.0.0.1:8003"
AMOUNTS_FEN = {"deep": 100_000, "relative": 80_000, "accident": 80_000, "model_worker": 150_000,
               "front_line": 30_000, "employer": 300_000}  # fmt: skip


def _yuan(fen: int) -> str:
    return f"{fen // 100:,}.{fen % 100:02d}元"


async def _until(office: "Office", method: str, url: str, expect: int, **kw: Any) -> httpx.Response:
    """Relief learns of unions and employers from enrollment's events: a moment after."""
    r: httpx.Response | None = None
    for _ in range(100):
        r = await office.call(method, url, **kw)
        if r.status_code == expect:
            return r
        await asyncio.sleep(0.1)
    assert r is not None
    r.raise_for_status()
    raise RuntimeError(f"{method} {url}: {r.status_code} {r.text}")


async def _designate_employer(office: "Office", city: str, say: Any) -> None:
    """One employer of the register declared in difficulty (困难企业认定) by its district."""
    items: list[dict[str, Any]] = []
    for _ in range(100):  # the register reaches relief through enrollment's events
        r = await office.call(
            "GET", f"{RELIEF}/employers", params={"union_id": city, "q": "小餐馆"}, headers=office.admin
        )
        items = r.json()["items"] if r.status_code == 200 else []
        if items:
            break
        await asyncio.sleep(0.1)
    if not items:
        say("困难企业认定: 帮扶系统尚未收到企业名录, 跳过")
        return
    employer = items[0]
    cadre = await office.cadre(employer["responsible_union_id"], "chair")
    body = {"in_difficulty": True, "reason": "受疫情影响停业三个月, 经营困难"}
    r = await office.call(
        "PUT", f"{RELIEF}/employers/{employer['employer_id']}/difficulty", json=body, headers=cadre
    )
    r.raise_for_status()
    say(f"困难企业认定: {employer['name']}(理由: {body['reason']})")


async def play_campaign(
    office: "Office", city: str, bases: list[str], title: str | None = None
) -> tuple[list[str], list[str]]:
    """Launch, allocate down to one base union, generate, sign off, pay, report. Returns the lines
    it printed and the members it consoled (`bases`: the scenario's base unions; the list is drawn
    up in the one of them with the most to console)."""
    lines: list[str] = []

    def say(line: str) -> None:
        lines.append(line)
        print(f"送温暖 · {line}")

    today = datetime.now(CHINA).date()
    title = title or f"{today.year + (1 if today.month >= 11 else 0)}年春节送温暖"
    await _designate_employer(office, city, say)

    chair = await office.cadre(city, "chair")
    body = {"title": title, "union_id": city, "starts_on": today.isoformat(),
            "ends_on": (today + timedelta(days=30)).isoformat(), "total_fen": 5_000_000,
            "amounts_fen": AMOUNTS_FEN}  # fmt: skip
    campaign = (await _until(office, "POST", f"{RELIEF}/campaigns", 201, json=body, headers=chair)).json()
    cid = campaign["campaign_id"]
    groups = "、".join(f"{g['label']}{_yuan(g['amount_fen'])}" for g in campaign["groups"])
    say(
        f"市总工会发起“{title}”: 总额{_yuan(campaign['total_fen'])}, "
        f"{campaign['starts_on']}至{campaign['ends_on']}; {groups}"
    )

    # Down the tree: each union hands its children their suggested share (by what their
    # recipients would cost), then the one with the most to console is followed down.
    union, cadre = city, chair
    while True:
        view = (
            await office.call(
                "GET", f"{RELIEF}/campaigns/{cid}/allocations", params={"union_id": union}, headers=cadre
            )
        ).json()
        shared_out = [c for c in view["children"] if c["suggested_fen"] > 0]
        if not shared_out:
            break
        for child in shared_out:
            r = await office.call(
                "PUT", f"{RELIEF}/campaigns/{cid}/allocations/{child['union_id']}",
                json={"total_fen": child["suggested_fen"]}, headers=cadre,
            )  # fmt: skip
            r.raise_for_status()
        split = "、".join(f"{c['name']}{_yuan(c['suggested_fen'])}" for c in shared_out)
        say(f"{view['union_name']}按受助对象测算下拨: {split}")
        chosen = max(
            shared_out, key=lambda c: (c["eligible_households"] + c["eligible_employers"], c["suggested_fen"])
        )
        union, cadre = chosen["union_id"], await office.cadre(chosen["union_id"], "chair")
        if chosen["kind"] == "base":
            break
    if union == city or union not in bases:
        say("本次没有可慰问的对象, 到此为止")
        return lines, []

    grid = await office.cadre(union, "grid")
    made = await office.call(
        "POST", f"{RELIEF}/campaigns/{cid}/lists", json={"union_id": union}, headers=grid
    )
    made.raise_for_status()
    roster = made.json()
    lid = roster["list_id"]
    by_group = Counter(e["group_label"] for e in roster["entries"])
    say(
        f"{roster['union_name']}生成发放名单: {roster['entries_count']}个对象("
        + "、".join(f"{g}{n}" for g, n in by_group.items())
        + f"), 合计{_yuan(roster['total_fen'])}"
    )
    members_listed = [e for e in roster["entries"] if e["recipient"] == "member"]
    if len(members_listed) > 2:
        entry = members_listed[-1]
        reason = {"reason": "本人已领取单位春节慰问, 不重复发放"}
        r = await office.call(
            "POST",
            f"{RELIEF}/campaign-lists/{lid}/entries/{entry['entry_id']}/exclude",
            json=reason,
            headers=grid,
        )
        r.raise_for_status()
        say(f"修改名单: 暂不纳入{(entry['name'] or '某')[:1]}*(理由: {reason['reason']})")

    submitted = await office.call("POST", f"{RELIEF}/campaign-lists/{lid}/submit", headers=grid)
    submitted.raise_for_status()
    say(f"网格员提交名单({submitted.json()['status_label']})")
    refused = await office.call("POST", f"{RELIEF}/campaign-lists/{lid}/approve", headers=grid)
    say(f"同一人审批被拒绝: {refused.json()['detail']}")
    approved = await office.call("POST", f"{RELIEF}/campaign-lists/{lid}/approve", headers=cadre)
    approved.raise_for_status()
    say(f"工会主席审批通过({approved.json()['status_label']})")

    key = {"Idempotency-Key": f"scenario-{uuid.uuid4().hex}"}
    paid = await office.call("POST", f"{RELIEF}/campaign-lists/{lid}/pay", headers={**cadre, **key})
    if paid.status_code != 200:
        say(f"发放未成功: {paid.json()['detail']}")
        return lines, []
    p = paid.json()
    say(f"发放完成: {p['paid_count']}个对象, {_yuan(p['paid_fen'])}({p['status_label']})")
    again = (await office.call("POST", f"{RELIEF}/campaign-lists/{lid}/pay", headers={**cadre, **key})).json()
    say(f"重复提交同一发放请求: 未重复发放(replayed={again['replayed']}, 金额{_yuan(again['paid_fen'])})")

    report = (
        await office.call("GET", f"{RELIEF}/campaigns/{cid}/report", params={"union_id": city}, headers=chair)
    ).json()
    t = report["totals"]
    say(f"市总工会统计: 慰问职工{t['households']}户、困难企业{t['employers']}家, 共{_yuan(t['amount_fen'])}")
    consoled = (await office.call("GET", f"{RELIEF}/campaign-lists/{lid}", headers=cadre)).json()
    return lines, [e["member_id"] for e in consoled["entries"] if e["paid"] and e["member_id"]]
