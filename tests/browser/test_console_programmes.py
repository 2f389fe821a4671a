"""帮扶项目 in the cadre console (issue 20) in headless Chromium on the real stack.

送温暖: a district cadre launches a campaign from the console, allocates part of it to a base
union, generates that union's distribution list (a front-line member is on it), adjusts an amount
with a reason and submits it; the submitter sees approval refused (four eyes); a second cadre of
the district approves and pays it; the report shows the money, and exports. 金秋助学: a window is
opened from the console, an application a grid worker filed is reviewed and appears in the
disclosure list with masked names, and an objection to it is answered; another is declined with
a reason; the evidence opens through the download endpoint. 困难企业认定: an employer of the
register is designated with a reason.

Relief's programmes are built at the same time (parts A and B): each test first checks relief's
OpenAPI for its routes and skips with the part's name while they are missing, so the same test runs
in full once they are merged. axe-core on every view; screenshots console-programmes-*.png."""

import csv
import io
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
import pytest
from playwright.async_api import Browser, FilePayload, Page, expect

from scripts.fake_people import person
from services.enrollment.domain.employers import random_credit_code
from shared.auth import Role
from shared.events import CHINA
from tests.browser.conftest import CheckAccessibility, Screenshot, new_page
from tests.conftest import Stack
from tests.integration.conftest import eventually
from tests.integration.test_enrollment_to_card import Api

pytestmark = pytest.mark.browser

PASSWORD = "帮扶项目-correct horse battery"
RIDER = "赵一线"  # a delivery rider (flexible employment): the campaign's front-line group
PARENT = "钱助学"  # a member whose child was admitted to university
# The smallest file a PDF reader opens: what the evidence upload checks the bytes against.
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@dataclass
class Office:
    """A district union with two base unions, two cadres of the district with staff accounts
    (one prepares and submits, the other approves and pays), and members relief knows."""

    s: Stack
    http: httpx.AsyncClient
    api: Api
    units: dict[str, uuid.UUID]
    preparer: str
    approver: str
    rider: dict[str, str]
    parent: dict[str, str]

    async def needs(self, path: str, part: str) -> None:
        spec = await self.http.get(f"{self.s.services['relief'].url}/openapi.json")
        if spec.status_code != 200 or path not in spec.json().get("paths", {}):
            pytest.skip(f"needs {part} of issue 20: relief has no {path} yet")


@pytest.fixture
async def page(browser: Browser, web_stack: Stack) -> AsyncIterator[Page]:
    """The console on a cadre's desk (a desktop window)."""
    opened = await new_page(browser, web_stack.services["web"].url, viewport={"width": 1280, "height": 900})
    yield opened
    await opened.context.close()


async def staff_account(s: Stack, http: httpx.AsyncClient, union_id: uuid.UUID, display_name: str) -> str:
    identity = s.services["identity"].url
    username = f"cadre.{uuid.uuid4().hex[:8]}"
    made = await http.post(
        f"{identity}/staff/accounts",
        json={"username": username, "display_name": display_name, "password": PASSWORD},
        headers=s.headers(Role.ADMIN),
    )
    assert made.status_code == 201, made.text
    bound = await http.post(
        f"{identity}/staff/accounts/{made.json()['account_id']}/bindings",
        json={"role": "cadre", "union_id": str(union_id)},
        headers=s.headers(Role.ADMIN),
    )
    assert bound.status_code == 201, bound.text
    return username


@pytest.fixture(scope="module")
async def office(web_stack: Stack) -> AsyncIterator[Office]:
    s = web_stack
    async with httpx.AsyncClient(timeout=20) as http:
        api = Api(s, http)
        units = await api.tree()
        preparer = await staff_account(s, http, units["district"], "西湖区工会干部小王")
        approver = await staff_account(s, http, units["district"], "西湖区工会干部老陈")
        rider = await api.enrolled_member(units["logistics"], name=RIDER, employment_type="flexible")
        parent = await api.enrolled_member(units["logistics"], name=PARENT, employment_type="employee")
        relief = s.services["relief"].url

        for member in (rider, parent):
            cases = f"{relief}/members/{member['member_id']}/cases"

            async def relief_knows(url: str = cases) -> bool:
                r = await http.get(url, headers=s.headers(Role.ADMIN))
                return r.status_code == 200

            await eventually(relief_knows)

        # The console lists the scope's unions from the reports' read model (its own consumer):
        # the base union must be there before a page offers it.
        async def reports_know_the_base_union() -> bool:
            r = await http.get(
                f"{s.services['reports'].url}/unions/{units['district']}/coverage",
                headers=s.headers(Role.ADMIN),
            )
            return r.status_code == 200 and str(units["logistics"]) in {
                u["union_id"] for u in r.json()["items"]
            }

        await eventually(reports_know_the_base_union)
        yield Office(s, http, api, units, preparer, approver, rider, parent)


async def sign_in(page: Page, username: str) -> None:
    await page.goto("/console")
    await expect(page.get_by_test_id("view-sign-in")).to_be_visible()
    await page.get_by_test_id("console-username").fill(username)
    await page.get_by_test_id("console-password").fill(PASSWORD)
    await page.get_by_test_id("console-sign-in-submit").click()
    await expect(page.get_by_test_id("view-queues")).to_be_visible()
    await page.get_by_test_id("nav-programmes").click()
    await expect(page.get_by_test_id("view-programmes")).to_be_visible()


async def sign_out(page: Page) -> None:
    await page.get_by_test_id("console-sign-out").click()
    await expect(page.get_by_test_id("view-sign-in")).to_be_visible()


async def test_the_programmes_view_opens_with_its_two_tabs(
    page: Page, office: Office, check_accessibility: CheckAccessibility
) -> None:
    """Needs no part: the view, its tabs (mouse and arrow keys) and its forms, without a script
    error, whatever relief already offers (a missing part says 暂未开通)."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await sign_in(page, office.preparer)
    campaigns, student_aid = page.get_by_test_id("tab-campaigns"), page.get_by_test_id("tab-student-aid")
    await expect(campaigns).to_have_attribute("aria-selected", "true")
    await expect(page.get_by_test_id("campaigns-table").locator("tbody tr").first).to_be_visible()
    await expect(page.get_by_test_id("difficulty-table").locator("tbody tr").first).to_be_visible()
    # The launch form names every group in Chinese, in yuan.
    await page.locator("#campaign-launch summary").click()
    await expect(page.get_by_test_id("campaign-form")).to_contain_text("困难劳模")
    await page.get_by_test_id("campaign-launch-submit").click()
    await expect(page.get_by_test_id("campaigns-message")).to_contain_text("请填写")
    await check_accessibility(page)

    await student_aid.click()
    await expect(student_aid).to_have_attribute("aria-selected", "true")
    await expect(page.get_by_test_id("panel-campaigns")).to_be_hidden()
    await expect(page.get_by_test_id("aid-applications").locator("li").first).to_be_visible()
    await check_accessibility(page)
    await student_aid.press("ArrowLeft")
    await expect(campaigns).to_be_focused()
    await expect(page.get_by_test_id("panel-campaigns")).to_be_visible()
    assert not errors, errors


async def test_a_campaign_is_launched_allocated_listed_signed_off_by_two_and_paid(
    page: Page, office: Office, check_accessibility: CheckAccessibility, screenshot: Screenshot
) -> None:
    await office.needs("/campaigns", "part A (p20-campaigns)")
    today = datetime.now(CHINA).date()
    title = f"{today.year + 1}年春节送温暖-{uuid.uuid4().hex[:4]}"
    await sign_in(page, office.preparer)
    await expect(page.get_by_test_id("panel-campaigns")).to_be_visible()
    await check_accessibility(page)

    # Launch: yuan in the form, fen on the wire; only the groups given an amount are consoled.
    await page.locator("#campaign-launch summary").click()
    await page.get_by_test_id("campaign-title-input").fill(title)
    await page.get_by_test_id("campaign-starts").fill(today.isoformat())
    await page.get_by_test_id("campaign-ends").fill((today + timedelta(days=30)).isoformat())
    await page.get_by_test_id("campaign-total").fill("10,000")
    await page.get_by_test_id("campaign-amount-deep").fill("1000")
    await page.get_by_test_id("campaign-amount-front_line").fill("500")
    await page.get_by_test_id("campaign-launch-submit").click()
    campaign = page.get_by_test_id("campaign")
    await expect(page.get_by_test_id("campaign-heading")).to_contain_text(title)
    await expect(page.get_by_test_id("campaign-meta")).to_contain_text("¥10,000.00")
    await expect(page.get_by_test_id("campaign-meta")).to_contain_text("一线职工 ¥500.00")

    # Allocate to the base union: it shows its eligible households and a suggested amount.
    row = campaign.locator(f'[data-testid="allocation-row"][data-union-id="{office.units["logistics"]}"]')
    await expect(row.get_by_test_id("allocation-households")).not_to_have_text("0")
    await row.get_by_test_id("allocation-input").fill("2000")
    await row.get_by_test_id("allocation-save").click()
    await expect(row.get_by_test_id("allocation-total")).to_have_text("¥2,000.00")
    await expect(page.get_by_test_id("allocation-summary")).to_contain_text("尚可分配 ¥8,000.00")

    # The base union's list, generated from what relief knows: the rider, as a front-line worker.
    await page.get_by_test_id("list-union").select_option(str(office.units["logistics"]))
    await page.get_by_test_id("list-generate").click()
    listing = page.get_by_test_id("list")
    await expect(listing).to_have_attribute("data-status", "draft")
    entry = listing.get_by_test_id("entry-row").filter(has_text=RIDER)
    await expect(entry).to_contain_text("一线职工")
    await expect(entry.get_by_test_id("entry-amount")).to_have_text("¥500.00")

    # An adjustment asks for its reason first.
    await entry.get_by_test_id("entry-adjust").click()
    await page.get_by_test_id("entry-edit-amount").fill("600")
    await page.get_by_test_id("entry-edit-submit").click()
    await expect(page.get_by_test_id("list-message")).to_contain_text("理由")
    await page.get_by_test_id("entry-edit-reason").fill("家中老人住院，酌情增加")
    await page.get_by_test_id("entry-edit-submit").click()
    await expect(entry.get_by_test_id("entry-amount")).to_have_text("¥600.00")
    await expect(entry).to_contain_text("家中老人住院")
    await check_accessibility(page)

    # Submitted by this cadre: approval is refused to them, and said why.
    await listing.get_by_test_id("list-submit").click()
    await expect(listing).to_have_attribute("data-status", "submitted")
    await expect(listing.get_by_test_id("list-approve")).to_be_disabled()
    await expect(listing.get_by_test_id("list-four-eyes")).to_have_text("同一人不能既提交又审批(四眼原则)")
    await screenshot(page, "console-programmes-list")
    await sign_out(page)

    # The second cadre approves and pays.
    await sign_in(page, office.approver)
    await page.get_by_test_id("campaign-row").filter(has_text=title).get_by_test_id("campaign-open").click()
    await expect(page.get_by_test_id("campaign-heading")).to_contain_text(title)
    list_row = page.get_by_test_id("list-row").filter(has_text="某物流公司工会")
    await list_row.get_by_test_id("list-open").click()
    await expect(listing).to_have_attribute("data-status", "submitted")
    await expect(listing.get_by_test_id("list-four-eyes")).to_have_count(0)
    await listing.get_by_test_id("list-approve").click()
    await expect(listing).to_have_attribute("data-status", "approved")
    await listing.get_by_test_id("list-pay").click()
    await expect(page.get_by_test_id("list-message")).to_contain_text("已发放")
    await expect(listing).to_have_attribute("data-status", "paid")
    await expect(entry.get_by_test_id("entry-paid")).to_contain_text("已发放")

    # The report: the money reached the base union's front-line group.
    report = page.get_by_test_id("campaign-report")
    line = (
        report.get_by_test_id("campaign-report-row")
        .filter(has_text="某物流公司工会")
        .filter(has_text="一线职工")
    )
    await expect(line).to_contain_text("¥600.00")
    await expect(report.get_by_test_id("campaign-report-total")).to_contain_text("¥600.00")
    await check_accessibility(page)
    await page.evaluate("document.getElementById('campaign').scrollIntoView()")  # its figures and allocation
    await screenshot(page, "console-programmes-campaign")

    async with page.expect_download() as info:
        await page.get_by_test_id("campaign-report-csv").click()
    download = await info.value
    assert download.suggested_filename.endswith(".csv"), download.suggested_filename
    rows = list(csv.reader(io.StringIO((await download.path()).read_text(encoding="utf-8-sig"))))
    assert rows and all(rows[0]), rows[:2]  # labelled columns
    assert any("600" in cell for row in rows[1:] for cell in row), rows  # ¥600 in yuan or fen


async def test_an_employer_is_designated_in_difficulty_with_a_reason(
    page: Page, office: Office, check_accessibility: CheckAccessibility
) -> None:
    await office.needs("/employers/{employer_id}/difficulty", "part A (p20-campaigns)")
    name = f"杭州某某纺织有限公司{uuid.uuid4().hex[:4]}"
    body = {"name": name, "credit_code": random_credit_code(random.Random()), "region": "330106",
            "workforce": 80, "responsible_union_id": str(office.units["district"]),
            "base_union_id": str(office.units["logistics"])}  # fmt: skip
    cadre = office.api.cadre(office.units["district"])
    r = await office.http.post(f"{office.api.enrollment}/employers", json=body, headers=cadre)
    assert r.status_code == 201, r.text
    employer_id = r.json()["employer_id"]
    relief = office.s.services["relief"].url

    async def in_relief(designated: bool = False) -> bool:  # relief learns of it from events
        r = await office.http.get(f"{relief}/employers", params={"union_id": str(office.units["district"]), "q": name},
                                  headers=cadre)  # fmt: skip
        found = (
            [e for e in r.json()["items"] if e["employer_id"] == employer_id] if r.status_code == 200 else []
        )
        return bool(found) and found[0]["in_difficulty"] is designated

    await eventually(in_relief)
    await sign_in(page, office.preparer)
    await page.get_by_test_id("difficulty-q").fill(name)
    await page.get_by_test_id("difficulty-search").click()
    row = page.locator(f'[data-testid="difficulty-row"][data-id="{employer_id}"]')
    await expect(row.get_by_test_id("difficulty-flag")).to_have_text("否")
    await row.get_by_test_id("difficulty-toggle").click()  # no reason yet: asked for
    await expect(page.get_by_test_id("campaigns-message")).to_contain_text("理由")
    await row.get_by_test_id("difficulty-reason").fill("订单锐减，停产半年")
    await row.get_by_test_id("difficulty-toggle").click()
    row = page.locator(f'[data-testid="difficulty-row"][data-id="{employer_id}"]')
    await expect(row.get_by_test_id("difficulty-flag")).to_have_text("是")
    await expect(row).to_contain_text("订单锐减")
    await expect(row.get_by_test_id("difficulty-toggle")).to_have_text("取消认定")
    assert await in_relief(designated=True)
    await check_accessibility(page)


async def application(office: Office, window_id: str, student_name: str = "钱小明") -> str:
    """An application a grid worker of the base union files for a member (the cadre who files
    it may not review it: the console's cadre does)."""
    relief = office.s.services["relief"].url
    grid = office.s.headers(Role.CADRE, union_id=office.units["logistics"], sub="grid-li")
    r = await office.http.post(
        f"{relief}/student-aid/evidence", params={"file_name": "录取通知书.pdf"}, content=PDF,
        headers={**grid, "Content-Type": "application/pdf"},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    student = person(random.Random())
    body = {
        "window_id": window_id, "member_id": office.parent["member_id"], "student_name": student_name,
        "student_id_number": student.national_id, "school_name": "浙江大学", "school_type": "undergraduate",
        "admission_year": datetime.now(CHINA).year, "evidence_file_id": r.json()["file_id"],
        "household": {"monthly_income_fen": 120_000, "household_size": 4},
    }  # fmt: skip
    r = await office.http.post(f"{relief}/student-aid/applications", json=body, headers=grid)
    assert r.status_code == 201, r.text
    application_id: str = r.json()["application_id"]
    return application_id


async def district_window(office: Office, year: int, amounts_fen: dict[str, int]) -> str:
    """The district's open window for the year: opened now, or the one another test opened (a union
    has one a year)."""
    relief = office.s.services["relief"].url
    district = office.s.headers(Role.CADRE, union_id=office.units["district"], sub="aid-chair")
    now = datetime.now(CHINA)
    body = {
        "union_id": str(office.units["district"]), "academic_year": year, "amounts_fen": amounts_fen,
        "opens_at": (now - timedelta(minutes=1)).isoformat(), "closes_at": (now + timedelta(days=20)).isoformat(),
    }  # fmt: skip
    r = await office.http.post(f"{relief}/student-aid/windows", json=body, headers=district)
    if r.status_code == 201:
        return str(r.json()["window_id"])
    assert r.status_code == 409, r.text
    listed = await office.http.get(
        f"{relief}/student-aid/windows", params={"union_id": str(office.units["district"])}, headers=district
    )
    [existing] = [w for w in listed.json()["items"] if w["academic_year"] == year and w["status"] == "open"]
    assert set(amounts_fen) <= {a["school_type"] for a in existing["amounts"]}, existing
    return str(existing["window_id"])


async def test_a_student_aid_application_is_reviewed_into_disclosure(
    page: Page, office: Office, check_accessibility: CheckAccessibility, screenshot: Screenshot
) -> None:
    await office.needs("/student-aid/windows", "part B (p20-student-aid)")
    await sign_in(page, office.preparer)
    await page.get_by_test_id("tab-student-aid").click()
    await expect(page.get_by_test_id("panel-student-aid")).to_be_visible()
    await expect(page.get_by_test_id("panel-campaigns")).to_be_hidden()

    # A window opened now, per school type in yuan.
    now = datetime.now(CHINA).replace(second=0, microsecond=0)
    await page.locator("#window-create summary").click()
    await page.get_by_test_id("window-year").fill(str(now.year))
    await page.get_by_test_id("window-opens").fill((now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"))
    await page.get_by_test_id("window-closes").fill((now + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M"))
    await page.get_by_test_id("window-amount-undergraduate").fill("3000")
    await page.get_by_test_id("window-amount-secondary_vocational").fill("1500")
    await page.get_by_test_id("window-submit").click()
    await expect(page.get_by_test_id("aid-message")).to_contain_text("金秋助学")
    window = page.get_by_test_id("window-row").filter(has_text=f"{now.year}年金秋助学")
    await expect(window).to_contain_text("本科 ¥3,000.00")
    window_id = await window.get_attribute("data-id")
    assert window_id

    application_id = await application(office, window_id)
    await window.get_by_test_id("window-applications").click()
    item = page.locator(f'[data-testid="aid-application"][data-id="{application_id}"]')
    await expect(item).to_have_attribute("data-status", "submitted")
    await expect(item).to_contain_text("浙江大学")
    await expect(item).not_to_contain_text(PARENT)  # masked names only
    await expect(item).not_to_contain_text("钱小明")
    await check_accessibility(page)

    # The evidence opens through relief's download endpoint, the bytes as uploaded.
    async with page.expect_download() as info:
        await item.get_by_test_id("aid-evidence").click()
    assert (await (await info.value).path()).read_bytes() == PDF

    await item.get_by_test_id("aid-approve").click()
    await expect(item).to_have_attribute("data-status", "in_disclosure")
    await expect(item.get_by_test_id("aid-status-label")).not_to_be_empty()
    disclosed = page.locator(f'[data-testid="aid-disclosure-row"][data-id="{application_id}"]')
    await expect(disclosed).to_contain_text("¥3,000.00")
    await expect(disclosed).to_contain_text("本科")
    await expect(disclosed).not_to_contain_text("钱小明")

    # A member of the union objects during the disclosure; the cadre answers (not upheld) and
    # the application stays in disclosure, the answer shown under the objection.
    relief = office.s.services["relief"].url
    member = office.s.headers(Role.MEMBER, member_id=office.rider["member_id"])
    r = await office.http.post(
        f"{relief}/student-aid/applications/{application_id}/objections", json={"text": "其家庭收入似乎不低"},
        headers=member,
    )  # fmt: skip
    assert r.status_code == 201, r.text
    await page.get_by_test_id("aid-status").select_option("in_disclosure")
    await page.get_by_test_id("aid-search").click()
    objection = item.get_by_test_id("aid-objection")
    await expect(objection).to_contain_text("其家庭收入似乎不低")
    await objection.get_by_test_id("aid-objection-send").click()  # no answer yet: asked for
    await expect(page.get_by_test_id("aid-message")).to_contain_text("请填写答复")
    await objection.get_by_test_id("aid-objection-answer").fill("经核实，家庭人均月收入低于当地标准")
    await objection.get_by_test_id("aid-objection-send").click()
    await expect(item.get_by_test_id("aid-objection")).to_contain_text("异议不成立")
    await expect(item).to_have_attribute("data-status", "in_disclosure")

    # Another child's application is declined: only with a reason, which the item then shows.
    declined_id = await application(office, window_id, student_name="钱小红")
    await page.get_by_test_id("aid-status").select_option("submitted")
    await page.get_by_test_id("aid-search").click()
    other = page.locator(f'[data-testid="aid-application"][data-id="{declined_id}"]')
    await other.get_by_test_id("aid-decline").click()
    await expect(page.get_by_test_id("aid-message")).to_contain_text("理由")
    await other.get_by_test_id("aid-review-reason").fill("录取通知书与学校名称不符")
    await other.get_by_test_id("aid-decline").click()
    await expect(other).to_have_attribute("data-status", "declined")
    await expect(other).to_contain_text("录取通知书与学校名称不符")
    await page.get_by_test_id("aid-status").select_option("in_disclosure")
    await page.get_by_test_id("aid-search").click()
    await expect(item).to_be_visible()
    await check_accessibility(page)
    await page.evaluate("document.getElementById('aid-apps-title').scrollIntoView()")
    await screenshot(page, "console-programmes-student-aid")


async def test_a_cadre_files_student_aid_for_a_member_and_another_cadre_reviews_it(
    page: Page, office: Office, check_accessibility: CheckAccessibility
) -> None:
    """“A member, or a cadre for them, applies”: the console's 代会员申请 — the member found by
    name, the evidence checked in the page and uploaded, and the filing cadre refused the review."""
    await office.needs("/student-aid/windows", "part B (p20-student-aid)")
    # Next year's window (this year's is the other tests', with other school types).
    window_id = await district_window(office, datetime.now(CHINA).year + 1, {"junior_college": 200_000})

    await sign_in(page, office.preparer)
    await page.get_by_test_id("tab-student-aid").click()
    await page.locator("#aid-file summary").click()
    await page.get_by_test_id("aid-file-window").select_option(window_id)
    await expect(page.get_by_test_id("aid-file-school-type")).to_contain_text("高职(专科)（¥2,000.00）")
    await page.get_by_test_id("aid-file-q").fill(RIDER)
    await page.get_by_test_id("aid-file-find").click()
    await expect(page.get_by_test_id("aid-message")).to_contain_text("找到 1 位在册会员")
    await page.get_by_test_id("aid-file-member").select_option(office.rider["member_id"])
    await page.get_by_test_id("aid-file-student").fill("赵小专")
    await page.get_by_test_id("aid-file-student-id").fill(person(random.Random()).national_id)
    await page.get_by_test_id("aid-file-school").fill("浙江机电职业技术学院")
    await page.get_by_test_id("aid-file-size").fill("3")
    await page.get_by_test_id("aid-file-income").fill("1,500")
    evidence = page.get_by_test_id("aid-file-evidence")
    await evidence.set_input_files(
        files=[FilePayload(name="通知书.pdf", mimeType="application/pdf", buffer=b"not a pdf")]
    )
    await expect(page.get_by_test_id("aid-message")).to_contain_text("只能上传 JPG、PNG 图片或 PDF 文件")
    await evidence.set_input_files(
        files=[FilePayload(name="通知书.pdf", mimeType="application/pdf", buffer=PDF)]
    )
    await page.get_by_test_id("aid-file-submit").click()
    await expect(page.get_by_test_id("aid-message")).to_contain_text("已代为申请：赵*")
    await expect(page.get_by_test_id("aid-file-student-id")).to_have_value("")  # not kept in the page

    filed = page.get_by_test_id("aid-application").filter(has_text="浙江机电职业技术学院")
    await expect(filed).to_have_attribute("data-status", "submitted")
    await expect(filed).not_to_contain_text("赵小专")
    await filed.get_by_test_id("aid-approve").click()  # the filing cadre: four eyes
    await expect(page.get_by_test_id("aid-message")).to_contain_text("四眼原则")
    await expect(filed).to_have_attribute("data-status", "submitted")
    await check_accessibility(page)

    await sign_out(page)
    await sign_in(page, office.approver)
    await page.get_by_test_id("tab-student-aid").click()
    await page.get_by_test_id("aid-status").select_option("submitted")
    await page.get_by_test_id("aid-search").click()
    filed = page.get_by_test_id("aid-application").filter(has_text="浙江机电职业技术学院")
    await filed.get_by_test_id("aid-approve").click()
    await expect(filed).to_have_attribute("data-status", "in_disclosure")


async def test_an_application_waits_in_the_queue_and_is_reviewed_from_it(
    page: Page, office: Office, check_accessibility: CheckAccessibility, screenshot: Screenshot
) -> None:
    await office.needs("/queues/programmes", "part E (p20-queues)")
    relief = office.s.services["relief"].url
    district = office.s.headers(Role.CADRE, union_id=office.units["district"], sub="cadre-zhao")
    now = datetime.now(CHINA)
    window_id = await district_window(office, now.year, {"undergraduate": 300_000})
    application_id = await application(office, window_id, student_name="钱小华")

    # 待办 is where a cadre lands: the 帮扶项目 queue lists the application, names masked.
    await page.goto("/console")
    await page.get_by_test_id("console-username").fill(office.approver)
    await page.get_by_test_id("console-password").fill(PASSWORD)
    await page.get_by_test_id("console-sign-in-submit").click()
    queue = page.get_by_test_id("queue-programmes")
    await expect(queue.get_by_role("heading")).to_contain_text("帮扶项目")
    item = queue.locator(f'[data-testid="queue-item"][data-id="student-aid:{application_id}"]')
    await expect(item.get_by_test_id("queue-item-title")).to_contain_text("钱*华")
    await expect(item).not_to_contain_text("钱小华")
    await expect(item).not_to_contain_text(PARENT)
    await expect(item.get_by_test_id("queue-item-blocked")).to_have_count(0)

    # The review asks yes or no, never assumes it: sent without one, it is asked for.
    await item.get_by_test_id("action-review").click()
    await expect(page.get_by_test_id("console-message")).to_contain_text("请选择审核结论")
    await expect(item.get_by_test_id("action-review-approve")).to_contain_text("不通过")
    await item.get_by_test_id("action-review-approve-true").check()
    await item.get_by_test_id("action-review-reason").fill("录取材料齐全,家庭困难属实")
    await check_accessibility(page)
    await screenshot(page, "console-programmes-queue")
    await item.get_by_test_id("action-review").click()
    await expect(item.get_by_test_id("queue-item-done")).to_have_text("已审核")

    r = await office.http.get(f"{relief}/student-aid/applications/{application_id}", headers=district)
    assert r.status_code == 200 and r.json()["status"] == "in_disclosure", r.text
