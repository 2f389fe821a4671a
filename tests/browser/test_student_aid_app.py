"""金秋助学 in the member app (issue 20) in headless Chromium on the real stack: a member whose
union has a window open finds it on the 助学 page, the page refuses a file that is not JPEG, PNG
or PDF before any upload, and the member applies with a small PDF (uploaded as the raw file through
the forwarder); the application shows 待审核 in words. Then the union reviews it, its disclosure
ends (the durable timer, brought forward), and it is paid from the tuition budget: the application
reads 已发放 and the card's 「我的慰问与助学」 lists the receipt in yuan. axe-core on the views."""

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from playwright.async_api import FilePayload, Page, expect

from scripts.fake_people import national_id, person
from shared.auth import Role
from tests.browser.conftest import CheckAccessibility, Screenshot
from tests.browser.test_member_app import World, apply, shown_after_reloads, sign_in, verify_real_name
from tests.conftest import Stack
from tests.integration.conftest import eventually
from tests.integration.test_enrollment_to_card import Api

pytestmark = pytest.mark.browser

# The smallest PDF a scanner might send: what relief checks is its first bytes.
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
UNDERGRADUATE_FEN = 300_000  # ¥3000.00


def a_file(name: str, data: bytes) -> FilePayload:
    return {"name": name, "mimeType": "application/pdf", "buffer": data}


@pytest.fixture(scope="module")
async def world(web_stack: Stack) -> AsyncIterator[World]:
    s = web_stack
    async with httpx.AsyncClient(timeout=20) as http:
        api = Api(s, http)
        units = await api.tree()  # in region 330100
        tag = uuid.uuid4().hex[:8]
        union_id = await api.union(f"某快递站工会-{tag}", "base", units["district"])
        codes = Path(s.services["identity"].env["IDENTITY_DEV_CODES_FILE"])
        yield World(s, http, api, union_id, tag, units["district"], "", codes)


async def open_window(world: World) -> dict[str, Any]:
    """The district opens this year's 金秋助学 (relief learns of the union from enrollment first)."""
    relief = world.s.services["relief"].url
    now = datetime.now(UTC)
    body = {"union_id": str(world.district), "academic_year": date.today().year,
            "opens_at": (now - timedelta(hours=1)).isoformat(), "closes_at": (now + timedelta(days=30)).isoformat(),
            "amounts_fen": {"undergraduate": UNDERGRADUATE_FEN, "junior_college": 200_000},
            "disclosure_days": 1}  # fmt: skip

    async def opened() -> dict[str, Any] | None:
        r = await world.http.post(
            f"{relief}/student-aid/windows", json=body, headers=world.api.cadre(world.district)
        )
        return r.json() if r.status_code == 201 else None

    window: dict[str, Any] = await eventually(opened, timeout=20)
    return window


async def window_seen_by(world: World, member_id: str, window_id: str) -> None:
    """Relief knows the member (from enrollment's events) and shows them the window."""
    relief = world.s.services["relief"].url
    me = world.s.headers(Role.MEMBER, member_id=uuid.UUID(member_id))

    async def seen() -> bool:
        r = await world.http.get(f"{relief}/student-aid/windows", params={"open": "true"}, headers=me)
        return r.status_code == 200 and any(w["window_id"] == window_id for w in r.json()["items"])

    await eventually(seen, timeout=20)


async def review(world: World, member_id: str) -> str:
    """The union's side, through relief's API: approve (the disclosure starts)."""
    relief, http, cadre = world.s.services["relief"].url, world.http, world.api.cadre(world.district)
    r = await http.get(
        f"{relief}/student-aid/applications", params={"union_id": str(world.district)}, headers=cadre
    )
    assert r.status_code == 200, r.text
    [application] = [a for a in r.json()["items"] if a["member_id"] == member_id]
    app_id = application["application_id"]
    reviewed = await http.post(f"{relief}/student-aid/applications/{app_id}/review",
                               json={"approve": True, "reason": "录取材料齐全"}, headers=cadre)  # fmt: skip
    assert reviewed.status_code == 200 and reviewed.json()["status"] == "in_disclosure", reviewed.text
    return str(app_id)


async def answer_objections(world: World, app_id: str) -> None:
    """The union looks into each objection and finds it unfounded."""
    relief, http, cadre = world.s.services["relief"].url, world.http, world.api.cadre(world.district)
    got = await http.get(f"{relief}/student-aid/applications/{app_id}", headers=cadre)
    objections = got.json()["objections"]
    assert objections, got.text
    for o in objections:
        answered = await http.post(f"{relief}/student-aid/objections/{o['objection_id']}/answer",
                                   json={"upheld": False, "answer": "经核实，录取与家庭情况属实"}, headers=cadre)  # fmt: skip
        assert answered.status_code == 200, answered.text


async def end_disclosure_and_pay(world: World, app_id: str) -> None:
    """The disclosure's timer brought forward (a day is no test), a tuition budget, the payment."""
    s, http = world.s, world.http
    relief = s.services["relief"].url
    cadre = world.api.cadre(world.district)
    conn = await asyncpg.connect(s.services["relief"].dsn)
    try:
        async with conn.transaction():  # the disclosure ended a moment ago, and its timer is due
            await conn.execute(
                """UPDATE student_aid_applications SET disclosure_ends_at = now() - interval '1 second'
                   WHERE application_id = $1""",
                uuid.UUID(app_id),
            )
            await conn.execute(
                "UPDATE timers SET fire_at = now() WHERE subject = $1 AND status = 'pending'",
                f"student_aid_application:{app_id}",
            )
    finally:
        await conn.close()

    async def approved() -> bool:
        got = await http.get(f"{relief}/student-aid/applications/{app_id}", headers=cadre)
        return bool(got.json()["status"] == "approved")

    await eventually(approved, timeout=20)
    china_year = (datetime.now(UTC) + timedelta(hours=8)).year
    budget = await http.put(f"{relief}/budgets/{world.district}/{china_year}/tuition",
                            json={"total_fen": 10 * UNDERGRADUATE_FEN}, headers=cadre)  # fmt: skip
    assert budget.status_code == 200, budget.text
    paid = await http.post(f"{relief}/student-aid/applications/{app_id}/pay", json={"budget_union_id": str(world.district)},
                           headers={**cadre, "Idempotency-Key": str(uuid.uuid4())})  # fmt: skip
    assert paid.status_code == 200 and paid.json()["status"] == "paid", paid.text


async def test_a_member_applies_for_student_aid_and_sees_it_paid_on_the_card(
    page: Page, world: World, check_accessibility: CheckAccessibility, screenshot: Screenshot
) -> None:
    who = person(random.Random())
    window = await open_window(world)
    await page.goto("/")
    await sign_in(page, world, who)
    await verify_real_name(page, who, check_accessibility)
    await apply(page, who, world.tag, check_accessibility)
    member = await world.approve_pending()
    await window_seen_by(world, member["member_id"], window["window_id"])

    # 助学: the open window, its amounts in yuan; the form takes the window's school types.
    await page.goto("/#/student-aid")
    await page.reload()
    await expect(page.get_by_test_id("view-student-aid")).to_be_visible()
    ours = page.get_by_test_id("student-aid-window-item").filter(has_text=window["title"])
    await expect(ours).to_have_count(1)
    await expect(ours).to_contain_text("本科 ¥3000.00")
    await ours.get_by_test_id("student-aid-choose").click()
    await expect(page.get_by_test_id("student-aid-window")).to_contain_text(window["title"])
    await expect(page.get_by_test_id("student-aid-applications")).to_contain_text("还没有助学申请")
    await check_accessibility(page)

    await page.get_by_test_id("student-aid-student-name").fill("张小明")
    await page.get_by_test_id("student-aid-student-id").fill(national_id(random.Random(), date(2008, 3, 1)))
    await page.get_by_test_id("student-aid-school").fill("浙江大学")
    await page.get_by_test_id("student-aid-school-type").select_option("undergraduate")
    await expect(page.get_by_test_id("student-aid-admission-year")).to_have_value(str(date.today().year))
    # Not in the relief register: the household's figures, assessed by the relief rules.
    await expect(page.get_by_test_id("student-aid-household")).to_be_visible()
    await page.get_by_test_id("student-aid-size").fill("3")
    await page.get_by_test_id("student-aid-income").fill("1200")

    # A text file named like a PDF: refused in the page, nothing uploaded.
    evidence = page.get_by_test_id("student-aid-evidence")
    await evidence.set_input_files(files=[a_file("录取通知书.pdf", "这不是PDF".encode())])
    await expect(page.get_by_test_id("student-aid-message")).to_contain_text(
        "只能上传 JPG、PNG 图片或 PDF 文件"
    )
    await page.get_by_test_id("student-aid-submit").click()
    await expect(page.get_by_test_id("student-aid-message")).to_have_class("message error")
    # Past 5 MB: refused in the page too.
    await evidence.set_input_files(files=[a_file("scan.pdf", PDF + b" " * (5 * 1024 * 1024))])
    await expect(page.get_by_test_id("student-aid-message")).to_contain_text("不能超过 5 MB")

    await evidence.set_input_files(files=[a_file("录取通知书.pdf", PDF)])
    await expect(page.get_by_test_id("student-aid-message")).to_have_text("")
    await page.get_by_test_id("student-aid-submit").click()
    await expect(page.get_by_test_id("student-aid-message")).to_contain_text("助学申请已提交")
    await expect(page.get_by_test_id("student-aid-student-id")).to_have_value("")  # not kept
    mine = page.get_by_test_id("student-aid-application")
    await expect(mine).to_have_count(1)
    await expect(mine.get_by_test_id("student-aid-status")).to_have_text("待审核")
    await expect(mine).to_contain_text("张*明")  # the student's name masked
    await expect(mine).to_contain_text("¥3000.00")
    await expect(mine).to_contain_text("按帮扶标准认定")
    # The evidence comes back through the forwarder as the file it was.
    async with page.expect_download() as download:
        await mine.get_by_test_id("student-aid-evidence-download").click()
    saved = await (await download.value).path()
    assert await asyncio.to_thread(Path(saved).read_bytes) == PDF
    body = await page.locator("main").inner_text()
    assert "submitted" not in body and "assessment" not in body  # words only, never codes
    await check_accessibility(page)
    await screenshot(page, "member-student-aid")

    # The union approves: the application is on the public list, where a member may object.
    app_id = await review(world, member["member_id"])
    await page.reload()
    disclosed = page.get_by_test_id("student-aid-disclosed").filter(has_text="张*明")
    await expect(disclosed).to_have_count(1)
    await expect(disclosed).to_contain_text("¥3000.00")
    assert "张小明" not in await page.get_by_test_id("student-aid-disclosure").inner_text()
    await disclosed.get_by_test_id("student-aid-objection-text").fill("短")
    await disclosed.get_by_test_id("student-aid-objection-submit").click()
    await expect(page.get_by_test_id("student-aid-disclosure-message")).to_contain_text("至少 5 个字")
    await disclosed.get_by_test_id("student-aid-objection-text").fill("该户家庭收入与申报不符，请核实")
    await disclosed.get_by_test_id("student-aid-objection-submit").click()
    await expect(page.get_by_test_id("student-aid-disclosure-message")).to_contain_text("异议已提交")
    await page.reload()
    await expect(mine).to_contain_text("公示异议：该户家庭收入与申报不符，请核实；工会正在核实")
    await check_accessibility(page)

    # The union answers, the disclosure ends, the tuition budget pays: 已发放, and on the card.
    await answer_objections(world, app_id)
    await end_disclosure_and_pay(world, app_id)
    await page.reload()
    await expect(mine).to_contain_text("工会答复：经核实，录取与家庭情况属实（异议不成立）")
    await expect(mine.get_by_test_id("student-aid-status")).to_have_text("已发放")
    await expect(mine).to_contain_text("发放 ¥3000.00")
    await page.get_by_test_id("nav-card").click()
    await expect(page.get_by_test_id("view-card")).to_be_visible()
    await shown_after_reloads(page, page.get_by_test_id("card-programme-aid"), "金秋助学")
    receipt = page.get_by_test_id("card-programme-aid")
    await expect(receipt).to_contain_text(f"金秋助学 · {window['title']}：¥3000.00")
    china_today = (datetime.now(UTC) + timedelta(hours=8)).date().isoformat()
    await expect(receipt).to_contain_text(china_today)
    await check_accessibility(page)
