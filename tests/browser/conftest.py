"""Browser tests: Debian's headless Chromium (scripts/browser.sh installs it) driven by Playwright's
Python package with executable_path, never a downloaded browser, on a real stack of every service
plus the web service (pages and forwarder), on the real Kafka and PostgreSQL.

Fixtures: `web_stack` (session: the running stack; the web service is `web_stack.services["web"]`),
`browser` (session: one Chromium), `page` (a fresh context per test: 390×844, zh-CN, base URL the
web service), `check_accessibility` (axe-core in the page: 0 serious or critical violations) and
`screenshot` ($SCREENS_DIR/{name}.png: `.run/screens/` by default, so `make test` leaves the tree
clean; `make screens` sets SCREENS_DIR=docs/screens to refresh the committed ones).
`launch_chromium(playwright, *extra_args)` starts another Chromium, e.g. with a fake camera
(tests/browser/test_till.py).
"""

import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, Playwright, ViewportSize, async_playwright

from scripts.chromium import CHROMIUM
from scripts.chromium import launch as launch_debian_chromium
from tests.conftest import ROOT, Stack, running_stack

VIEWPORT: ViewportSize = {"width": 390, "height": 844}  # a common phone
# Where screenshots go: git-ignored unless asked for (a relative SCREENS_DIR is from the root).
SCREENS = ROOT / os.environ.get("SCREENS_DIR", ".run/screens")
AXE = ROOT / "services" / "web" / "vendor" / "axe.min.js"
AXE_URL = "/assets/vendor/axe.min.js"
# A till's card code lives this long on the browser tests' stack (60 s in production), so a test
# can see a code expire without waiting a minute.
CARD_CODE_TTL_SECONDS = 20

CheckAccessibility = Callable[[Page], Awaitable[None]]
Screenshot = Callable[[Page, str], Awaitable[Path]]


@pytest.fixture(scope="package")
def web_stack(
    infra: dict[str, str], run_id: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """Every service as a real process, the web service among them, on this run's own topics and
    databases (tag `b`, apart from the integration suite's stack). For this package only: idle,
    its nine services and the browser would still cost the suites after it CPU."""
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `make vendor` (scripts/vendor.sh)")
    settings = {"partners": {"CARD_CODE_TTL_SECONDS": str(CARD_CODE_TTL_SECONDS)}}
    with running_stack(infra, run_id, tmp_path_factory.mktemp("logs"), tag="b", settings=settings) as s:
        if "web" not in s.services:
            pytest.fail("the web service is not in scripts/stack.py SERVICES")
        yield s


def _chromium() -> str:
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (scripts/browser.sh)")
    return CHROMIUM


async def launch_chromium(playwright: Playwright, *extra_args: str) -> Browser:
    _chromium()
    return await launch_debian_chromium(playwright, *extra_args)


@pytest.fixture(scope="package")
async def playwright() -> AsyncIterator[Playwright]:
    async with async_playwright() as pw:
        yield pw


@pytest.fixture(scope="package")
async def browser(playwright: Playwright) -> AsyncIterator[Browser]:
    chromium = await launch_chromium(playwright)
    yield chromium
    await chromium.close()


async def new_page(browser: Browser, base_url: str, **options: Any) -> Page:
    """A page in a fresh context (no cookies, no storage), as a phone in China would open it."""
    options.setdefault("viewport", VIEWPORT)
    context = await browser.new_context(
        base_url=base_url, locale="zh-CN", timezone_id="Asia/Shanghai", **options
    )
    context.set_default_timeout(15_000)
    return await context.new_page()


@pytest.fixture
async def page(browser: Browser, web_stack: Stack) -> AsyncIterator[Page]:
    opened = await new_page(browser, web_stack.services["web"].url)
    yield opened
    await opened.context.close()


async def _check_accessibility(page: Page) -> None:
    """axe-core in the page as it is now: no serious or critical violation (printed if any).
    Loaded from the web service's own /assets/vendor/ (the pages' CSP allows only 'self')."""
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.add_script_tag(url=AXE_URL)
    results: dict[str, Any] = await page.evaluate(
        "async () => await window.axe.run(document, {resultTypes: ['violations']})"
    )
    bad = [v for v in results["violations"] if v.get("impact") in ("serious", "critical")]
    for v in bad:
        targets = [node["target"] for node in v["nodes"]]
        print(f"axe {v['impact']}: {v['id']} ({v['help']}) at {json.dumps(targets, ensure_ascii=False)}")
    assert not bad, f"{len(bad)} serious/critical accessibility violations on {page.url}: " + ", ".join(
        v["id"] for v in bad
    )


async def _screenshot(page: Page, name: str) -> Path:
    SCREENS.mkdir(parents=True, exist_ok=True)
    path = SCREENS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=False)
    return path


@pytest.fixture
def check_accessibility() -> CheckAccessibility:
    return _check_accessibility


@pytest.fixture
def screenshot() -> Screenshot:
    return _screenshot
