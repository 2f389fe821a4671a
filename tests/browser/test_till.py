"""The till page (/till) in headless Chromium on the real stack (issue 18): a member made through
the APIs (sign up, real name, apply, a cadre's approval) with a partner's offer on their card; the
partner's till staff sign in with their own account, pick the offer from the partner's live
offers (an upcoming one is not listed; the choice is remembered on the device), type the member's current card code → 可以使用
with the masked name, redeem → 成功; the same code again, and an expired one, → 不可使用; the card
then shows the redemption (使用记录). The camera path: Chromium's fake capture plays a QR picture of
a live code, the page decodes it with jsQR and shows the verdict. When the list fails, the offer
id is typed. axe-core on the page."""

import asyncio
import random
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import segno
from playwright.async_api import Browser, Page, Playwright, Route, expect

from scripts.fake_people import person
from scripts.identity_client import IdentityClient, Tokens
from services.identity.adapters.dev_notifier import last_code
from shared.auth import Role
from tests.browser.conftest import CheckAccessibility, Screenshot, launch_chromium, new_page
from tests.conftest import Stack
from tests.integration.conftest import eventually
from tests.integration.test_enrollment_to_card import Api
from tests.integration.test_offers_on_card import keys_of
from tests.integration.test_partners import Partners, offer

pytestmark = pytest.mark.browser

PASSWORD = "收银台-correct horse battery"
OFFER_TITLE = "工会会员午餐 8.5 折"
LATER_OFFER = "dinner-next-month"  # published, not started yet: not in the till's list


@dataclass
class Till:
    """A member with an active card and the partner's offer on it; the partner's till staff."""

    s: Stack
    http: httpx.AsyncClient
    member_id: uuid.UUID
    member: Tokens
    partner_id: str
    offer_id: str
    username: str

    @property
    def web(self) -> str:
        return self.s.services["web"].url

    async def card_code(self) -> tuple[str, datetime]:
        """The member's current card code, as their card page gets it (the partners service's)."""
        r = await self.http.post(
            f"{self.web}/api/partners/members/{self.member_id}/card-codes", headers=self.member.headers
        )
        assert r.status_code == 201, r.text
        return r.json()["code"], datetime.fromisoformat(r.json()["expires_at"])

    async def card(self) -> dict[str, Any]:
        r = await self.http.get(
            f"{self.web}/api/projector/cards/{self.member_id}", headers=self.member.headers
        )
        assert r.status_code == 200, r.text
        card: dict[str, Any] = r.json()
        return card


async def _member(
    s: Stack, http: httpx.AsyncClient, api: Api, union_id: uuid.UUID
) -> tuple[uuid.UUID, Tokens]:
    """Signed up by phone and code, real name verified, applied for themself, approved by a cadre."""
    identity = s.services["identity"]
    client = IdentityClient(http, identity.url, Path(identity.env["IDENTITY_DEV_CODES_FILE"]))
    who = person(random.Random())
    member = await client.member(who.phone, who.name, who.national_id)
    form = {
        "name": who.name, "national_id": who.national_id, "phone": who.phone, "employer": who.employer or "某物流公司",
        "employment_type": who.employment_type, "base_union_id": str(union_id),
    }  # fmt: skip
    applied = await http.post(f"{api.enrollment}/applications", json=form, headers=member.headers)
    assert applied.status_code == 201, applied.text
    application = applied.json()["application"]["application_id"]
    approve = f"{api.enrollment}/applications/{application}/approve"
    approved = await http.post(approve, headers=api.cadre(union_id))
    assert approved.status_code == 200, approved.text
    member_id = uuid.UUID(approved.json()["member_id"])
    await api.card_when(str(member_id), "active")
    return member_id, member


@pytest.fixture(scope="module")
async def till(web_stack: Stack) -> AsyncIterator[Till]:
    s = web_stack
    async with httpx.AsyncClient(timeout=20) as http:
        api = Api(s, http)
        units = await api.tree()
        member_id, member = await _member(s, http, api, units["logistics"])  # region 330100

        partners = Partners(s, http)
        partner_id, api_key = await partners.register("till-page")
        shop = f"{partner_id}-shop"
        await partners.merchant(partner_id, shop)
        offer_id = "lunch"
        body = offer(shop, offer_id, title=OFFER_TITLE, schema_version=2, per_member_per_day=3)
        submitted = await partners.submit(api_key, body)
        assert submitted.status_code == 202, submitted.text

        async def on_card() -> bool:
            return f"{partner_id}/{offer_id}" in await keys_of(api, member_id, partner_id, member.headers)

        await eventually(on_card, timeout=30)
        later = offer(shop, LATER_OFFER, valid_from=(datetime.now(UTC) + timedelta(days=10)).isoformat())
        assert (await partners.submit(api_key, later)).status_code == 202
        assert await eventually(lambda: partners.offer_version(api_key, LATER_OFFER), timeout=30) == 1

        # The till's staff account: made by an admin, bound to the partner (docs/identity-staff.md).
        admin = s.headers(Role.ADMIN)
        username = f"till.{uuid.uuid4().hex[:8]}"
        identity = s.services["identity"].url
        made = await http.post(
            f"{identity}/staff/accounts",
            json={"username": username, "display_name": "收银员小李", "password": PASSWORD},
            headers=admin,
        )
        assert made.status_code == 201, made.text
        bound = await http.post(
            f"{identity}/staff/accounts/{made.json()['account_id']}/bindings",
            json={"role": "partner_staff", "partner_id": partner_id},
            headers=admin,
        )
        assert bound.status_code == 201, bound.text
        yield Till(s, http, member_id, member, partner_id, offer_id, username)


async def sign_in(page: Page, username: str) -> None:
    await page.goto("/till")
    await expect(page.get_by_test_id("till-sign-in")).to_be_visible()
    await page.get_by_test_id("till-username").fill(username)
    await page.get_by_test_id("till-password").fill(PASSWORD)
    await page.get_by_test_id("till-sign-in-submit").click()
    await expect(page.get_by_test_id("till-work")).to_be_visible()


async def sign_in_and_choose(page: Page, till: Till) -> None:
    """Signed in, the offer picked from the partner's list (no id to type while there is one)."""
    await sign_in(page, till.username)
    await page.get_by_test_id("till-offer-select").select_option(till.offer_id)
    await expect(page.get_by_test_id("till-offer-chosen")).to_contain_text(OFFER_TITLE)
    await expect(page.get_by_test_id("till-offer-manual")).to_be_hidden()


async def type_and_verify(page: Page, code: str) -> None:
    await page.get_by_test_id("till-code").fill(code)
    await page.get_by_test_id("till-verify").click()
    await expect(page.get_by_test_id("till-verdict")).to_be_visible()


async def test_the_till_verifies_a_typed_code_redeems_it_once_and_the_card_shows_it(
    page: Page, till: Till, check_accessibility: CheckAccessibility, screenshot: Screenshot
) -> None:
    await page.goto("/till")
    await expect(page.get_by_test_id("till-sign-in")).to_be_visible()
    await check_accessibility(page)
    await sign_in(page, till.username)
    # The pick-list: the partner's live offers only (not the one starting next month).
    select = page.get_by_test_id("till-offer-select")
    await expect(select.locator("option")).to_have_count(2)  # the placeholder and the live offer
    values = await select.locator("option").evaluate_all("options => options.map(o => o.value)")
    assert values == ["", till.offer_id], values
    await expect(select.locator(f'option[value="{till.offer_id}"]')).to_contain_text(OFFER_TITLE)
    await expect(page.get_by_test_id("till-offer-id")).to_be_hidden()
    await check_accessibility(page)
    await select.select_option(till.offer_id)
    await expect(page.get_by_test_id("till-offer-chosen")).to_contain_text(OFFER_TITLE)
    await expect(page.get_by_test_id("till-redemptions-empty")).to_be_visible()

    code, _ = await till.card_code()
    await type_and_verify(page, code)
    verdict = page.get_by_test_id("till-verdict")
    await expect(verdict).to_contain_text("可以使用")
    await expect(verdict).to_have_attribute("data-ok", "true")
    masked = (await page.get_by_test_id("till-member").inner_text()).removeprefix("会员：")
    assert "*" in masked, masked
    await check_accessibility(page)
    await screenshot(page, "till-verdict")

    await page.get_by_test_id("till-redeem").click()
    result = page.get_by_test_id("till-result")
    await expect(result).to_contain_text("核销成功")
    await expect(result).to_contain_text(masked)
    await expect(page.get_by_test_id("till-redemption")).to_have_count(1)
    await expect(page.get_by_test_id("till-redemption")).to_contain_text(till.offer_id)

    # The same code again: used, so no; never why, and nothing to redeem.
    await type_and_verify(page, code)
    await expect(verdict).to_have_text("不可使用")
    await expect(verdict).to_have_attribute("data-ok", "false")
    await expect(page.get_by_test_id("till-redeem")).to_be_hidden()
    await check_accessibility(page)

    # The member's card shows the redemption (使用记录), with the offer's title.
    async def redeemed() -> list[dict[str, Any]]:
        return [r for r in (await till.card()).get("redemptions", []) if r["partner_id"] == till.partner_id]

    uses = await eventually(redeemed, timeout=20)
    assert [u["offer_title"] for u in uses] == [OFFER_TITLE]

    # A reload keeps the session (the refresh cookie) and the offer picked on this device;
    # signing out ends the session.
    await page.reload()
    await expect(page.get_by_test_id("till-work")).to_be_visible()
    await expect(page.get_by_test_id("till-offer-select")).to_have_value(till.offer_id)
    await expect(page.get_by_test_id("till-offer-chosen")).to_contain_text(OFFER_TITLE)
    await page.get_by_test_id("till-sign-out").click()
    await expect(page.get_by_test_id("till-sign-in")).to_be_visible()
    await page.reload()
    await expect(page.get_by_test_id("till-sign-in")).to_be_visible()


async def test_an_expired_code_is_refused_at_the_till(page: Page, till: Till) -> None:
    code, expires_at = await till.card_code()
    await sign_in_and_choose(page, till)
    # The browser tests' stack gives card codes a short life (tests/browser/conftest.py).
    left = (expires_at - datetime.now(UTC)).total_seconds()
    await asyncio.sleep(max(0.0, left) + 1)
    await type_and_verify(page, code)
    await expect(page.get_by_test_id("till-verdict")).to_have_text("不可使用")
    await expect(page.get_by_test_id("till-redeem")).to_be_hidden()


async def test_a_typed_code_that_is_no_code_is_refused_before_asking(page: Page, till: Till) -> None:
    await sign_in_and_choose(page, till)
    await page.get_by_test_id("till-code").fill("not a code!")
    await page.get_by_test_id("till-verify").click()
    await expect(page.get_by_test_id("till-notice")).to_contain_text("会员码格式不正确")
    await expect(page.get_by_test_id("till-verdict")).to_be_hidden()


async def test_when_the_offer_list_fails_the_offer_id_is_typed(page: Page, till: Till) -> None:
    async def unavailable(route: Route) -> None:
        await route.fulfill(
            status=503,
            content_type="application/problem+json",
            body='{"title": "Service Unavailable", "status": 503, "detail": "服务暂时不可用，请稍后再试"}',
            headers={"Retry-After": "2"},
        )

    await page.route(lambda url: "/api/partners/partner-api/v1/offers?" in url, unavailable)
    await sign_in(page, till.username)
    await expect(page.get_by_test_id("till-offer-list-state")).to_contain_text("手动输入优惠编号")
    await expect(page.get_by_test_id("till-offer-select")).to_be_hidden()
    await page.get_by_test_id("till-offer-id").fill(till.offer_id)
    await page.get_by_test_id("till-offer-set").click()
    await expect(page.get_by_test_id("till-offer-chosen")).to_contain_text(OFFER_TITLE)
    code, _ = await till.card_code()
    await type_and_verify(page, code)
    await expect(page.get_by_test_id("till-verdict")).to_have_attribute("data-ok", "true")


async def test_a_wrong_password_keeps_the_till_signed_out_with_a_chinese_reason(
    page: Page, till: Till
) -> None:
    await page.goto("/till")
    await page.get_by_test_id("till-username").fill(till.username)
    await page.get_by_test_id("till-password").fill("not the password at all")
    await page.get_by_test_id("till-sign-in-submit").click()
    notice = page.get_by_test_id("till-notice")
    await expect(notice).to_be_visible()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in await notice.inner_text())
    await expect(page.get_by_test_id("till-work")).to_be_hidden()


def write_y4m(text: str, path: Path, width: int = 640, height: int = 480) -> None:
    """One frame of a QR code of `text`, black on white, as a Y4M file (4:2:0, the format
    Chromium's --use-file-for-fake-video-capture plays in a loop)."""
    rows = [list(row) for row in segno.make(text, error="m").matrix_iter(scale=10, border=4)]
    size = len(rows)
    assert size <= height, size
    top, left = (height - size) // 2, (width - size) // 2
    luma = bytearray(b"\xff" * (width * height))
    for y, row in enumerate(rows):
        for x, dark in enumerate(row):
            if dark:
                luma[(top + y) * width + left + x] = 0
    chroma = b"\x80" * ((width // 2) * (height // 2))
    header = f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + b"FRAME\n" + bytes(luma) + chroma + chroma)


async def test_the_till_reads_a_code_from_the_camera(
    playwright: Playwright, till: Till, tmp_path: Path, screenshot: Screenshot
) -> None:
    video = tmp_path / "camera.y4m"
    write_y4m("nothing to see yet", video)  # the fake camera opens the file when the page asks
    chromium = await launch_chromium(
        playwright,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    )
    try:
        page = await new_page(chromium, till.web)
        await sign_in_and_choose(page, till)
        code, _ = await till.card_code()
        write_y4m(code, video)
        await page.get_by_test_id("till-scan").click()
        verdict = page.get_by_test_id("till-verdict")
        await expect(verdict).to_contain_text("可以使用")
        await expect(page.get_by_test_id("till-code")).to_have_value(code)
        await expect(page.get_by_test_id("till-video")).to_be_hidden()  # the camera is off again
        await screenshot(page, "till-camera-verdict")
    finally:
        await chromium.close()


async def test_a_staff_account_of_no_partner_cannot_check_codes_at_the_till(page: Page, till: Till) -> None:
    """A cadre signed in at the till: the partner API refuses them, the page says so in Chinese."""
    identity = till.s.services["identity"].url
    admin = till.s.headers(Role.ADMIN)
    username = f"cadre.{uuid.uuid4().hex[:8]}"
    made = await till.http.post(
        f"{identity}/staff/accounts",
        json={"username": username, "display_name": "王干部", "password": PASSWORD},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    union = await Api(till.s, till.http).union(f"某公司工会-{uuid.uuid4().hex[:4]}", "city")
    bound = await till.http.post(
        f"{identity}/staff/accounts/{made.json()['account_id']}/bindings",
        json={"role": "cadre", "union_id": str(union)},
        headers=admin,
    )
    assert bound.status_code == 201, bound.text
    await sign_in(page, username)
    # The partner API refuses the list at once; typing an id is refused the same way.
    await expect(page.get_by_test_id("till-notice")).to_contain_text("无权核验")
    await expect(page.get_by_test_id("till-offer-select")).to_be_hidden()
    await page.get_by_test_id("till-offer-id").fill(till.offer_id)
    await page.get_by_test_id("till-offer-set").click()
    await expect(page.get_by_test_id("till-notice")).to_contain_text("无权核验")
    await expect(page.get_by_test_id("till-offer-chosen")).to_have_text("")


async def test_the_code_on_the_members_card_page_is_redeemed_and_the_card_page_shows_it(
    browser: Browser, page: Page, till: Till
) -> None:
    """The whole loop in two browsers: a member's phone (the member app, signed in by phone and
    code, the card with its QR) and the till; the till takes the code the card page shows, redeems
    it, and the member's card page then lists it under 使用记录."""
    s, http = till.s, till.http
    api = Api(s, http)
    union_id = (await api.tree())["logistics"]
    identity = s.services["identity"]
    codes = Path(identity.env["IDENTITY_DEV_CODES_FILE"])
    client = IdentityClient(http, identity.url, codes)
    who = person(random.Random())
    phone = await new_page(browser, till.web)
    try:
        # Signed in in the phone's browser (the session's cookies in its context), as the sign-in
        # page does it; real name and application with the page's token; a cadre approves.
        sent_before = last_code(codes, who.phone)
        await client.send_code(who.phone)
        code = await client.last_code(who.phone, after=sent_before)
        signed = await phone.request.post(
            "/api/identity/web/sessions", data={"phone": who.phone, "code": code}
        )
        assert signed.status == 200, await signed.text()
        bearer = {"Authorization": f"Bearer {(await signed.json())['access_token']}"}
        verified = await http.post(
            f"{identity.url}/me/real-name", json={"name": who.name, "national_id": who.national_id},
            headers=bearer,
        )  # fmt: skip
        assert verified.status_code == 200, verified.text
        csrf = next(c["value"] for c in await phone.context.cookies() if c["name"] == "__Host-zhijia-csrf")
        renewed = await phone.request.post("/api/identity/web/token", headers={"X-CSRF-Token": csrf})
        assert renewed.status == 200, await renewed.text()
        member = {"Authorization": f"Bearer {(await renewed.json())['access_token']}"}
        form = {
            "name": who.name, "national_id": who.national_id, "phone": who.phone,
            "employer": who.employer or "某物流公司", "employment_type": who.employment_type,
            "base_union_id": str(union_id),
        }  # fmt: skip
        applied = await http.post(f"{api.enrollment}/applications", json=form, headers=member)
        assert applied.status_code == 201, applied.text
        application = applied.json()["application"]["application_id"]
        approved = await http.post(
            f"{api.enrollment}/applications/{application}/approve", headers=api.cadre(union_id)
        )
        assert approved.status_code == 200, approved.text
        member_id = uuid.UUID(approved.json()["member_id"])
        await api.card_when(str(member_id), "active")

        async def offer_on_card() -> bool:
            keys = await keys_of(api, member_id, till.partner_id, member)
            return f"{till.partner_id}/{till.offer_id}" in keys

        await eventually(offer_on_card, timeout=30)

        # The member opens the card: the QR and, under it, the code as text.
        await phone.goto("/#/card")
        await expect(phone.get_by_test_id("card-qr")).to_be_visible()
        await expect(phone.get_by_test_id("card-redemptions")).to_contain_text("暂无使用记录")
        shown = (await phone.get_by_test_id("card-code-text").inner_text()).strip()
        assert shown, "the card page shows no code"

        # The till takes that code.
        await sign_in_and_choose(page, till)
        await type_and_verify(page, shown)
        await expect(page.get_by_test_id("till-verdict")).to_have_text(re.compile("可以使用"))
        await page.get_by_test_id("till-redeem").click()
        await expect(page.get_by_test_id("till-result")).to_contain_text("核销成功")

        # The member's card page lists it (the projector has it from partners.OfferRedeemed).
        async def listed() -> bool:
            await phone.goto("about:blank")
            await phone.goto("/#/card")
            await expect(phone.get_by_test_id("card-qr")).to_be_visible()
            return OFFER_TITLE in await phone.get_by_test_id("card-redemptions").inner_text()

        assert await eventually(listed, timeout=30)
    finally:
        await phone.context.close()
