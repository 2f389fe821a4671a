"""The member app (/) in headless Chromium on the real stack (issue 18): a person signs up with
their phone and the code, verifies their real name, finds their union in the public directory and
applies; a cadre approves (through the API); the card then shows its numbers, its status in words
and a QR code that rotates; the offers list a partner's offer with the merchant's address; a legal
aid request is taken; the inbox opens; signing out ends the session. axe-core on every view;
screenshots of sign-in, card and offers at 390×844 into docs/screens/."""

import random
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Locator, Page, expect

from scripts.fake_people import Person, person
from services.identity.adapters.dev_notifier import last_code
from tests.browser.conftest import CheckAccessibility, Screenshot
from tests.conftest import Stack
from tests.integration.conftest import eventually
from tests.integration.test_enrollment_to_card import Api
from tests.integration.test_partners import Partners, offer

pytestmark = pytest.mark.browser

CODE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")  # a card code as partners issues it


@dataclass
class World:
    s: Stack
    http: httpx.AsyncClient
    api: Api
    union_id: uuid.UUID
    tag: str  # in the union's name: the directory finds it and nothing else
    district: uuid.UUID
    offer_title: str
    codes: Path

    async def code_after(self, phone: str, before: str | None) -> str:
        async def fresh() -> str | None:
            code = last_code(self.codes, phone)
            return code if code and code != before else None

        code: str = await eventually(fresh, timeout=10)
        return code

    async def pending_application(self, union_id: uuid.UUID) -> str:
        """The id of the one application waiting in the union, as its cadre lists it."""

        async def pending() -> list[dict[str, Any]]:
            r = await self.http.get(
                f"{self.api.enrollment}/applications",
                params={"union_id": str(union_id), "status": "pending"},
                headers=self.api.cadre(union_id),
            )
            assert r.status_code == 200, r.text
            found: list[dict[str, Any]] = r.json()
            return found

        [application] = await eventually(pending, timeout=10)
        return str(application["application_id"])

    async def approve_pending(self) -> dict[str, Any]:
        """The cadre of the union approves the one application waiting there."""
        application = await self.pending_application(self.union_id)
        approved = await self.http.post(
            f"{self.api.enrollment}/applications/{application}/approve", headers=self.api.cadre(self.union_id)
        )
        assert approved.status_code == 200, approved.text
        member: dict[str, Any] = approved.json()
        await self.api.card_when(member["member_id"], "active")
        return member


@pytest.fixture(scope="module")
async def world(web_stack: Stack) -> AsyncIterator[World]:
    s = web_stack
    async with httpx.AsyncClient(timeout=20) as http:
        api = Api(s, http)
        units = await api.tree()  # in region 330100
        tag = uuid.uuid4().hex[:8]
        union_id = await api.union(f"某快递站工会-{tag}", "base", units["district"])

        # A partner's offer for every member of the region, with a merchant that has an address.
        partners = Partners(s, http)
        partner_id, key = await partners.register(f"member-app-{tag}")
        shop = f"{partner_id}-shop"
        await partners.merchant(partner_id, shop)
        title = f"会员午餐立减-{tag}"
        submitted = await partners.submit(key, offer(shop, "lunch", title=title))
        assert submitted.status_code == 202, submitted.text

        codes = Path(s.services["identity"].env["IDENTITY_DEV_CODES_FILE"])
        yield World(s, http, api, union_id, tag, units["district"], title, codes)


async def sign_in(page: Page, world: World, who: Person) -> None:
    await page.get_by_test_id("signin-phone").fill(who.phone)
    before = last_code(world.codes, who.phone)
    await page.get_by_test_id("signin-send-code").click()
    await expect(page.get_by_test_id("signin-message")).to_contain_text("验证码")
    await page.get_by_test_id("signin-code").fill(await world.code_after(who.phone, before))
    await page.get_by_test_id("signin-submit").click()


async def verify_real_name(page: Page, who: Person, check_accessibility: CheckAccessibility) -> None:
    """实名认证: a new account is nobody yet."""
    await expect(page.get_by_test_id("view-real-name")).to_be_visible()
    await expect(page.get_by_test_id("nav-card")).to_be_hidden()
    await check_accessibility(page)
    await page.get_by_test_id("realname-name").fill(who.name)
    await page.get_by_test_id("realname-id").fill(who.national_id)
    await page.get_by_test_id("realname-submit").click()


async def apply(page: Page, who: Person, tag: str, check_accessibility: CheckAccessibility) -> None:
    """我要入会: no card yet, so the join view; the directory finds the union by its name."""
    await expect(page.get_by_test_id("view-join")).to_be_visible()
    await expect(page.get_by_test_id("application-status")).to_be_hidden()
    await page.get_by_test_id("directory-q").fill(tag)
    await page.get_by_test_id("directory-region").fill("330100")
    await page.get_by_test_id("directory-search").click()
    await expect(page.get_by_test_id("directory-choose")).to_have_count(1)
    await check_accessibility(page)
    await page.get_by_test_id("directory-choose").click()
    await expect(page.get_by_test_id("join-union")).to_contain_text(tag)
    await expect(page.get_by_test_id("join-name")).to_have_value(who.name)  # from the real-name step
    await page.get_by_test_id("join-id").fill(who.national_id)
    await page.get_by_test_id("join-phone").fill(who.phone)
    await page.get_by_test_id("join-employer").fill("某快递站")
    await page.get_by_test_id("join-employment-type").select_option("flexible")
    await page.get_by_test_id("join-submit").click()
    await expect(page.get_by_test_id("join-message")).to_have_class("message ok")


async def test_sign_up_apply_and_use_the_card_in_the_browser(
    page: Page, world: World, check_accessibility: CheckAccessibility, screenshot: Screenshot
) -> None:
    who = person(random.Random())

    # 登录 / 注册
    await page.goto("/")
    await expect(page.get_by_test_id("view-sign-in")).to_be_visible()
    await check_accessibility(page)
    await screenshot(page, "member-sign-in")
    await sign_in(page, world, who)

    await verify_real_name(page, who, check_accessibility)
    await apply(page, who, world.tag, check_accessibility)

    # 申请进度: the application in words, never its code.
    await shown_after_reloads(page, page.get_by_test_id("application-label"), "审核中")
    await expect(page.get_by_test_id("application-next-step")).to_contain_text("审核")
    await check_accessibility(page)

    # A cadre approves; the reloaded page (the session survives in its cookie) shows the card.
    member = await world.approve_pending()
    await page.goto("/#/card")
    await page.reload()
    await expect(page.get_by_test_id("view-card")).to_be_visible()
    await expect(page.get_by_test_id("card-number")).to_have_text(member["card_number"])
    await expect(page.get_by_test_id("membership-number")).to_have_text(member["membership_number"])
    await expect(page.get_by_test_id("card-status")).to_have_text("在会")
    await expect(page.get_by_test_id("card-union-path")).to_contain_text(world.tag)
    await expect(page.get_by_test_id("card-redemptions")).to_contain_text("暂无使用记录")
    body = await page.locator("main").inner_text()
    assert "active" not in body and "pending" not in body  # statuses in words only

    # The dynamic QR: an image, the code beside it, a countdown; a new code before the old expires
    # (the browser stack's codes live 20 s: renewed with 10 s left).
    qr = page.get_by_test_id("card-qr")
    await expect(qr).to_be_visible()
    assert (await qr.get_attribute("src") or "").startswith("data:image/svg+xml")
    code = page.get_by_test_id("card-code-text")
    await expect(code).to_have_text(CODE)
    first = await code.inner_text()
    await expect(page.get_by_test_id("card-qr-countdown")).to_contain_text("秒后更新")
    await check_accessibility(page)
    await screenshot(page, "member-card")
    await expect(code).not_to_have_text(first, timeout=20_000)

    # 优惠: the partner's offer with its merchant's address.
    await page.get_by_test_id("nav-offers").click()
    await expect(page.get_by_test_id("view-offers")).to_be_visible()
    ours = page.get_by_test_id("offer").filter(has_text=world.offer_title)
    await _offer_on_card(page, world)
    await expect(ours).to_have_count(1)
    await expect(ours).to_contain_text("8.5 折")  # 15% off, as a Chinese shop says it
    await expect(ours).to_contain_text("地址：")
    await check_accessibility(page)
    await screenshot(page, "member-offers")

    # 办事: a legal aid request is taken, its answer in Chinese.
    await page.get_by_test_id("nav-requests").click()
    await expect(page.get_by_test_id("view-requests")).to_be_visible()
    await expect(page.get_by_test_id("competitions-list")).to_be_visible()
    await page.get_by_test_id("legal-employer").fill("某快递站")
    await page.get_by_test_id("legal-amount").fill("6800")
    await page.get_by_test_id("legal-learned-on").fill("2026-11-20")
    await page.get_by_test_id("legal-submit").click()
    await expect(page.get_by_test_id("legal-message")).to_contain_text("已受理")
    # 困难申请: an income that is no amount never leaves the page; a real one is taken.
    await page.get_by_test_id("relief-household-no").fill(f"3301{random.randrange(10**8):08d}")
    await page.get_by_test_id("relief-size").fill("3")
    await page.get_by_test_id("relief-income").fill("很多")
    await page.get_by_test_id("relief-submit").click()
    await expect(page.get_by_test_id("relief-message")).to_have_class("message error")
    await page.get_by_test_id("relief-income").fill("1500.50")
    await page.get_by_test_id("relief-cause-illness").check()
    await page.get_by_test_id("relief-submit").click()
    await expect(page.get_by_test_id("relief-message")).to_contain_text("已受理")
    # 接转: the receiving union chosen from the directory.
    other_tag = uuid.uuid4().hex[:8]
    await world.api.union(f"某餐饮店工会-{other_tag}", "base", world.district)
    await page.get_by_test_id("transfer-q").fill(other_tag)
    await page.get_by_test_id("transfer-search").click()
    await page.get_by_test_id("transfer-results").get_by_test_id("directory-choose").click()
    await expect(page.get_by_test_id("transfer-union")).to_contain_text(other_tag)
    await page.get_by_test_id("transfer-reason").fill("换工作到餐饮店")
    await page.get_by_test_id("transfer-submit").click()
    await expect(page.get_by_test_id("transfer-message")).to_contain_text("接转申请已提交")
    await check_accessibility(page)

    # 消息
    await page.get_by_test_id("nav-inbox").click()
    await expect(page.get_by_test_id("view-inbox")).to_be_visible()
    if await _has_route(world, "projector", "/cards/{member_id}/inbox"):
        await expect(page.get_by_test_id("inbox-item").filter(has_text="入会申请已通过")).to_have_count(1)
    else:  # the projector without its inbox yet (another branch of issue 18): read as empty
        await expect(page.get_by_test_id("inbox-list")).to_have_text("暂无消息")
    await check_accessibility(page)

    # The card shows the legal case's stage in words.
    await page.get_by_test_id("nav-card").click()

    await shown_after_reloads(page, page.get_by_test_id("card-legal"), "欠薪")
    # Between two base unions of one parent a transfer is accepted at once: the card names the new one.
    await shown_after_reloads(page, page.get_by_test_id("card-union-path"), other_tag)
    await expect(page.get_by_test_id("card-relief")).not_to_contain_text("没有困难帮扶档案")

    # 退出登录: the session ends; a reload stays signed out.
    await page.get_by_test_id("sign-out").click()
    await expect(page.get_by_test_id("view-sign-in")).to_be_visible()
    await page.reload()
    await expect(page.get_by_test_id("view-sign-in")).to_be_visible()


async def _has_route(world: World, service: str, path: str) -> bool:
    spec = (await world.http.get(f"{world.s.services[service].url}/openapi.json")).json()
    return path in spec["paths"]


async def shown_after_reloads(page: Page, where: Locator, text: str, timeout: float = 20) -> None:
    """The page shows `text` once the read model has it: reload until it does (each reload's
    own reads given a few seconds)."""

    async def shown() -> bool:
        await page.reload()
        try:
            await expect(where).to_contain_text(text, timeout=3_000)
        except AssertionError:
            return False
        return True

    await eventually(shown, timeout=timeout, interval=0.2)


async def _offer_on_card(page: Page, world: World) -> None:
    """The offer reaches the card through Kafka: filter again until it is listed."""

    async def listed() -> bool:
        if await page.get_by_test_id("offer").filter(has_text=world.offer_title).count() == 1:
            return True
        await page.get_by_test_id("offers-filter").click()  # read again; looked at next round
        return False

    await eventually(listed, timeout=30, interval=0.5)


async def test_a_rejected_application_shows_the_reason_and_what_to_do(
    page: Page, world: World, check_accessibility: CheckAccessibility
) -> None:
    who = person(random.Random())
    tag = uuid.uuid4().hex[:8]
    union_id = await world.api.union(f"某快递站工会-{tag}", "base", world.district)
    await page.goto("/")

    # A wrong code: identity's reason, in Chinese, and still signed out.
    await page.get_by_test_id("signin-phone").fill(who.phone)
    await page.get_by_test_id("signin-code").fill("000000")
    await page.get_by_test_id("signin-submit").click()
    await expect(page.get_by_test_id("signin-message")).to_have_text("验证码错误或已过期")
    await expect(page.get_by_test_id("view-sign-in")).to_be_visible()

    await sign_in(page, world, who)
    await verify_real_name(page, who, check_accessibility)
    await apply(page, who, tag, check_accessibility)
    application = await world.pending_application(union_id)
    reason = "所选工会与工作单位不符"
    rejected = await world.http.post(
        f"{world.api.enrollment}/applications/{application}/reject",
        json={"reason": reason},
        headers=world.api.cadre(union_id),
    )
    assert rejected.status_code == 200, rejected.text

    await shown_after_reloads(page, page.get_by_test_id("application-label"), "未通过")
    await expect(page.get_by_test_id("application-reason")).to_have_text(f"原因：{reason}")
    await expect(page.get_by_test_id("application-next-step")).to_contain_text("重新申请")
    await expect(page.get_by_test_id("view-card")).to_be_hidden()  # no card, no QR
    await check_accessibility(page)
