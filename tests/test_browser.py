"""The console in a real browser: Debian's Chromium driven by Playwright, against the
application served by uvicorn, with a real order workflow behind the approve button.

Chromium is launched by its path; nothing is downloaded. Without it the tests are
skipped on a developer's machine and fail in CI (``CI=true``), where ``.ci/run``
installs it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator

import pytest
import uvicorn
from playwright.async_api import Browser, Page, async_playwright
from temporalio.testing import WorkflowEnvironment

from domain.access import Locale, Role
from domain.credit import CreditOutcome
from domain.intake import StatusChange
from domain.orders import EventKind, OrderStatus
from persistence.database import Database
from persistence.transactions import accounts, intake
from runtime.settings import Settings
from tests.conftest import free_port
from tests.workflow_fakes import FakePartners, order_worker, start, unique_order, wait_for_status
from web.app import create_app

PASSWORD = "correct horse battery"


def chromium_path() -> str:
    """Debian's Chromium; a failure in CI when it is missing, else a skip."""
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return path


@pytest.fixture
async def site(
    db: Database, database_url: str, time_skipping_env: WorkflowEnvironment
) -> AsyncIterator[str]:
    """The console served by uvicorn on this event loop; its address."""
    accounts.create_user(db, "olivia", PASSWORD, Role.ORDER_PROCESSING, actor="test")
    accounts.create_user(db, "wen.li", PASSWORD, Role.ANALYST, Locale.ENGLISH, actor="test")
    app = create_app(Settings(database_url=database_url), db, time_skipping_env.client)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn says so only by this flag
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await serving


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    path = chromium_path()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield launched
        await launched.close()


async def log_in(page: Page, site: str, username: str, password: str = PASSWORD) -> None:
    await page.goto(f"{site}/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_login_refusal_lock_and_language_switch(site: str, browser: Browser) -> None:
    page = await browser.new_page(locale="en-GB")
    await log_in(page, site, "olivia", "not my password")
    assert await page.locator("p.error").inner_text() == "Wrong user name or password."
    for _ in range(4):
        await log_in(page, site, "wen.li", "guessing")
    await log_in(page, site, "wen.li", "guessing")
    await log_in(page, site, "wen.li")  # locked: refused as a wrong password is (issue 25)
    assert await page.locator("p.error").inner_text() == "Wrong user name or password."
    assert "locked for a while" in await page.locator("p.hint").inner_text()

    await log_in(page, site, "olivia")
    assert page.url == f"{site}/"
    assert await page.locator("h1").inner_text() == "Welcome, olivia"
    await page.goto(f"{site}/account")
    await page.select_option("select[name=locale]", "zh_Hant")
    await page.click("form[action='/account/language'] button")
    await page.goto(f"{site}/")
    assert await page.locator("h1").inner_text() == "歡迎，olivia"  # noqa: RUF001


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_text_as_written_keeps_its_line_breaks_under_the_content_security_policy(
    site: str, browser: Browser
) -> None:
    """The console's policy refuses inline style attributes (issue 25, item 34): a
    complaint's text keeps its line breaks through the style sheet's class."""
    page = await browser.new_page(locale="en-GB")
    await log_in(page, site, "olivia")
    white_space = await page.evaluate(
        """() => {
            const shown = document.querySelector("main");
            shown.insertAdjacentHTML("beforeend",
                '<p class="as-written" id="sheet">text</p>' +
                '<p style="white-space: pre-wrap" id="inline">text</p>');
            const style = (id) => getComputedStyle(document.getElementById(id)).whiteSpace;
            return [style("sheet"), style("inline")];
        }"""
    )
    assert white_space == ["pre-wrap", "normal"]  # the inline attribute is refused


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_order_processing_approves_a_held_order_and_an_analyst_cannot(
    site: str, browser: Browser, db: Database, time_skipping_env: WorkflowEnvironment
) -> None:
    partners = FakePartners(credit=CreditOutcome.HOLD)
    worker, queue = order_worker(time_skipping_env.client, partners.activities())
    async with worker:
        order = unique_order()
        handle = await start(time_skipping_env.client, queue, order)
        await wait_for_status(handle, OrderStatus.AWAITING_APPROVAL)
        # The fake steps write no read model: the row the real ones would have written.
        intake.receive_order(db, order, run_id="browser-test")
        intake.record_order_status(
            db,
            StatusChange(
                order_id=order.order_id,
                event=EventKind.CREDIT_HOLD,
                status=OrderStatus.AWAITING_APPROVAL,
            ),
        )

        analyst = await browser.new_page(locale="en-GB")
        await log_in(analyst, site, "wen.li")
        await analyst.goto(f"{site}/orders/{order.order_id}")
        assert await analyst.locator("form[action$='/approve']").count() == 0
        assert "Erika Mustermann" not in await analyst.content()
        forged = await analyst.request.post(
            f"{site}/orders/{order.order_id}/approve",
            form={"csrf_token": "whatever", "reason": "sneaky", "action_id": "x"},
        )
        assert forged.status == 403

        clerk = await browser.new_page(locale="en-GB")
        await log_in(clerk, site, "olivia")
        await clerk.goto(f"{site}/orders?list=awaiting_approval")
        await clerk.click(f"a[href='/orders/{order.order_id}']")
        assert "Erika Mustermann" in await clerk.content()
        approve = clerk.locator("form[action$='/approve']")
        await approve.locator("input[name=reason]").fill("customer confirmed by phone")
        await approve.locator("button").click()
        await clerk.wait_for_url(f"{site}/orders/{order.order_id}?done=approve")
        assert await clerk.locator("p.done").inner_text() == "Approved."
        result = await handle.result()

    assert result.status is OrderStatus.COMPLETED
    approvals = [change for change in partners.status_changes if change.actor == "olivia"]
    assert [change.event.value for change in approvals] == ["approved_by_staff"]
