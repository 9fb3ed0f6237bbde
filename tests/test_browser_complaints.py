"""A complaint handled in Chromium (issue 18): customer service takes a phone complaint about
a delivered order, replies, proposes a partial refund above the approval amount, a
supervisor approves it, and the complaint is resolved; the order's money balances."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
import uvicorn
from playwright.async_api import Browser, expect
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from domain.access import Role
from domain.complaints import ComplaintStatus, complaint_workflow_id
from persistence.database import Database
from persistence.invariants import check_database
from persistence.models import CreditNote, Payment
from persistence.transactions import accounts
from persistence.transactions.complaints import find_case
from runtime.settings import Settings
from tests.conftest import free_port
from tests.test_browser import PASSWORD, browser, log_in  # noqa: F401 - fixtures
from tests.test_complaints import completed_prepaid_order
from tests.test_web_complaints import cases_on_the_orders_queue, number_complaints_from, settled
from web.app import create_app

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
async def site(
    db: Database, database_url: str, dev_server: WorkflowEnvironment
) -> AsyncIterator[str]:
    """The console (remedies above 25.00 need approval) and a worker for complaint cases."""
    accounts.create_user(db, "mia.chen", PASSWORD, Role.CUSTOMER_SERVICE, actor="test")
    accounts.create_user(db, "sam.lead", PASSWORD, Role.ADMIN, actor="test")
    number_complaints_from(db, 5_000_000 + free_port())
    settings = Settings(database_url=database_url, complaint_approval_above=Decimal(25))
    app = create_app(settings, db, dev_server.client)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_config=None, access_log=False)
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn says so only by this flag
        await asyncio.sleep(0.05)
    async with cases_on_the_orders_queue(dev_server, db):
        yield f"http://127.0.0.1:{server.config.port}"
    server.should_exit = True
    await serving


async def test_customer_service_resolves_a_phone_complaint_with_an_approved_partial_refund(
    site: str,
    browser: Browser,  # noqa: F811
    db: Database,
    dev_server: WorkflowEnvironment,
) -> None:
    await completed_prepaid_order(db)  # Jane's order T-1: three widgets, 59.70 EUR, paid
    page = await browser.new_page(locale="en-GB")
    await log_in(page, site, "mia.chen")
    await page.get_by_role("link", name="Complaints").click()
    await page.get_by_role("link", name="Take a complaint (phone or chat)").click()
    form = page.get_by_role("form", name="Complaint")
    await form.get_by_label("Channel").select_option("phone")
    await form.get_by_label("Order", exact=True).fill("T-1")
    await form.get_by_label("Category").select_option("damaged")
    await form.get_by_label("Subject", exact=True).fill("Two widgets scratched")
    await form.get_by_label("What the customer says").fill(
        "Two of the three widgets are scratched."
    )
    await form.get_by_role("button", name="File the complaint").click()
    await expect(page.get_by_role("status")).to_have_text("The complaint is filed; its case runs.")
    heading = page.locator("h1")
    await expect(heading).to_contain_text("Two widgets scratched")
    complaint_id = int(page.url.split("/complaints/")[1].split("?")[0])
    await settled(db, complaint_id, "assigned")

    reply = page.get_by_role("form", name="Reply to the customer")
    await reply.get_by_label("Reply", exact=True).fill("Sorry! We refund the two widgets.")
    await reply.get_by_role("button", name="Send the reply").click()
    await expect(page.get_by_role("status")).to_have_text("The reply is sent.")
    remedy = page.get_by_role("form", name="Remedy")
    await remedy.get_by_label("Remedy").select_option("refund")
    await remedy.get_by_label("Amount").fill("39.80")
    await remedy.get_by_label("Why").fill("two widgets scratched")
    await remedy.get_by_role("button", name="Propose the remedy").click()
    await expect(page.get_by_role("region", name="Remedies")).to_contain_text("awaiting approval")
    await page.get_by_role("button", name="Log out").click()

    await log_in(page, site, "sam.lead")
    await page.goto(f"{site}/complaints/{complaint_id}")
    remedies = page.get_by_role("region", name="Remedies")
    await remedies.get_by_label("Reason").fill("fair: they are a good customer")
    await remedies.get_by_role("button", name="Approve").click()
    await expect(page.get_by_role("region", name="Remedies")).to_contain_text(
        "done: refunded 39.80"
    )
    await page.get_by_role("button", name="Log out").click()

    await log_in(page, site, "mia.chen")
    await page.goto(f"{site}/complaints/{complaint_id}")
    resolve = page.get_by_role("form", name="Resolve")
    await resolve.get_by_label("How it was solved").fill("Refunded the two scratched widgets")
    await resolve.get_by_label("Root cause").select_option("packing_error")
    await resolve.get_by_role("button", name="Resolve the complaint").click()
    await expect(heading).to_contain_text("resolved")
    history = page.get_by_role("region", name="History")
    for entry in ("reply sent", "remedy approved", "remedy carried out", "resolved"):
        await expect(history).to_contain_text(entry)

    case = await db.run(find_case, db, complaint_id)
    assert case is not None
    assert (case.status, case.remedy_cost) == (ComplaintStatus.RESOLVED, Decimal("39.80"))
    with db.reading() as session:
        assert session.scalars(select(CreditNote.amount)).all() == [Decimal("39.80")]
        refunds = select(Payment.amount).where(Payment.kind == "refund")
        assert session.scalars(refunds).all() == [Decimal("39.80")]
        assert check_database(session) == []
    await page.goto(f"{site}/customers/CUST-JANE")
    await expect(page.get_by_role("region", name="Complaints")).to_contain_text(f"#{complaint_id}")
    await dev_server.client.get_workflow_handle(complaint_workflow_id(complaint_id)).terminate(
        "test over"
    )
