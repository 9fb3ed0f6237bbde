"""The warehouse's pages in Chromium (issue 16): a goods receipt, a blind stocktake whose
variance an admin approves, and a replenishment proposal approved with another quantity."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from playwright.async_api import Browser, expect
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.inventory_review import run_review
from domain.access import Role
from domain.catalogue import StockPolicyRecord
from domain.orders import TASK_QUEUE
from domain.replenishment import ProposalStatus, ReplenishmentRules
from persistence.database import Database
from persistence.models import StockLevel
from persistence.transactions import accounts
from persistence.transactions.catalogue import load_stock_policies
from persistence.transactions.replenishment import proposals
from tests.test_browser import PASSWORD, browser, log_in, site  # noqa: F401 - fixtures
from tests.test_inventory_review import activities
from tests.workflow_fakes import STEP_THREADS
from workflows.registry import ORDER_WORKFLOWS

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def on_hand(db: Database, sku: str) -> int:
    with db.reading() as session:
        level = session.get(StockLevel, (sku, "WH-BER"))
        assert level is not None
        return level.on_hand


async def test_a_warehouse_user_receives_counts_and_replenishes(
    site: str,  # noqa: F811
    browser: Browser,  # noqa: F811
    db: Database,
    time_skipping_env: WorkflowEnvironment,
) -> None:
    accounts.create_user(db, "kai.wu", PASSWORD, Role.WAREHOUSE, actor="test")
    accounts.create_user(db, "ana.admin", PASSWORD, Role.ADMIN, actor="test")
    page = await browser.new_page(locale="en-GB")
    await log_in(page, site, "kai.wu")

    # a goods receipt
    await page.goto(f"{site}/stock/operations")
    receipt = page.get_by_role("form", name="Goods receipt")
    await receipt.get_by_label("SKU").fill("WIDGET-1")
    await receipt.get_by_label("Warehouse").select_option("WH-BER")
    await receipt.get_by_label("Units").fill("25")
    await receipt.get_by_label("Reference").fill("DN-2026-1")
    await receipt.get_by_role("button", name="Book").click()
    await expect(page.get_by_role("status")).to_contain_text("now 525 on hand")
    assert on_hand(db, "WIDGET-1") == 525

    # a blind count with a variance above the threshold
    await page.goto(f"{site}/stock/stocktakes")
    opening = page.get_by_role("form", name="Open a count")
    await opening.locator("select[name=warehouse_id]").select_option("WH-BER")
    await opening.get_by_label("Products").fill("GADGET-2")
    await opening.get_by_role("button", name="Open").click()
    await expect(page.locator("h1")).to_contain_text("of WH-BER")
    assert await page.get_by_text("Book", exact=True).count() == 0  # blind
    await page.get_by_label("Counted units of GADGET-2").fill("37")
    await page.get_by_role("button", name="Save the counts").click()
    await expect(page.get_by_role("status")).to_have_text("The counts are saved.")
    # posting would be refused until a supervisor approves the variance: not offered
    await expect(page.get_by_role("button", name="Post the count")).to_have_count(0)
    await expect(page.get_by_text("each large variance is approved")).to_be_visible()
    count_url = page.url.split("?", 1)[0]

    supervisor = await browser.new_page(locale="en-GB")
    await log_in(supervisor, site, "ana.admin")
    await supervisor.goto(count_url)
    row = supervisor.get_by_role("row", name="GADGET-2")
    await expect(row).to_contain_text("-3")
    await expect(row).to_contain_text("needs approval")
    await supervisor.get_by_role("button", name="Approve the variance of GADGET-2").click()
    await expect(supervisor.get_by_role("status")).to_have_text("The variance is approved.")
    await supervisor.get_by_role("button", name="Post the count").click()
    await expect(supervisor.get_by_role("status")).to_contain_text("The count is posted")
    assert on_hand(db, "GADGET-2") == 37

    # a replenishment proposal approved with another quantity
    load_stock_policies(
        db,
        [StockPolicyRecord(sku="WIDGET-1", warehouse_id="WH-BER", reorder_point=600, maximum=1000)],
    )
    run_review(db, ReplenishmentRules(), datetime.now(UTC).date())
    [proposal] = proposals(db)
    assert proposal.quantity == 475
    worker = Worker(
        time_skipping_env.client,
        task_queue=TASK_QUEUE,
        workflows=ORDER_WORKFLOWS,
        activities=activities(db),
        activity_executor=STEP_THREADS,
    )
    async with worker:
        await page.goto(f"{site}/stock/replenishment")
        form = page.get_by_role("form", name=f"Approve proposal {proposal.id}")
        await form.get_by_label(f"Quantity to order for proposal {proposal.id}").fill("500")
        await form.get_by_role("button", name="Approve").click()
        await expect(page.get_by_role("status")).to_contain_text("Approved")
        [ordered] = proposals(db, status=ProposalStatus.ORDERED)
        assert (ordered.quantity, ordered.decided_by) == (500, "kai.wu")
        delivery = page.get_by_role("form", name=f"Receive a delivery for proposal {proposal.id}")
        for _ in range(50):  # the order is placed with the supplier within moments
            await page.goto(f"{site}/stock/replenishment")
            if await delivery.count():
                break
            await asyncio.sleep(0.1)
        await delivery.get_by_label(f"Units delivered for proposal {proposal.id}").fill("500")
        await delivery.get_by_label(f"Delivery note for proposal {proposal.id}").fill("DN-77")
        await delivery.get_by_role("button", name="Receive").click()
        await expect(page.get_by_role("status")).to_contain_text("booked into stock")
        handle = time_skipping_env.client.get_workflow_handle(f"replenishment-{proposal.id}")
        await handle.result()
        await page.goto(f"{site}/stock/replenishment")
        await expect(page.get_by_role("row", name=f"{proposal.id} WIDGET-1")).to_contain_text(
            "500 of 500 received"
        )
        await page.screenshot(path="/tmp/replenishment-approved.png", full_page=True)
    assert on_hand(db, "WIDGET-1") == 1025
