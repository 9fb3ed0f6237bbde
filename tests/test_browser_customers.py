"""Customer service's pages in Chromium (issue 17): a new customer entered on the form
(a wrong e-mail named and corrected), the customer view with its change audit, a change
of consent, the care tasks and the segment figures."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.async_api import Browser, expect

from domain.access import Role
from domain.care import CareReviewRequest, CareRules
from persistence.database import Database
from persistence.transactions import accounts
from persistence.transactions.care import create_care_tasks
from persistence.transactions.customers import find_customer
from tests.test_browser import PASSWORD, browser, log_in, site  # noqa: F401 - fixtures

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def test_customer_service_enters_and_changes_a_customer(
    site: str,  # noqa: F811
    browser: Browser,  # noqa: F811
    db: Database,
) -> None:
    accounts.create_user(db, "mia.chen", PASSWORD, Role.CUSTOMER_SERVICE, actor="test")
    create_care_tasks(
        db, CareReviewRequest(at=datetime.now(UTC), at_risk=["CUST-BOLT"]), CareRules()
    )
    page = await browser.new_page(locale="en-GB")
    await log_in(page, site, "mia.chen")
    await page.goto(f"{site}/customers")
    await page.get_by_role("link", name="New customer").click()
    form = page.get_by_role("form", name="Customer")
    await form.get_by_label("Customer id", exact=True).fill("CUST-NORD")
    await form.get_by_label("Name", exact=True).fill("Nordlicht Handel GmbH")
    await form.get_by_label("E-mail", exact=True).fill("einkauf at nordlicht")
    await form.get_by_label("Billing city", exact=True).fill("Kiel")
    await form.get_by_label("Billing country (e.g. DE)", exact=True).fill("DE")
    await form.get_by_label("Payment terms").select_option("net")
    await form.get_by_label("Days to pay (net terms)", exact=True).fill("30")
    await form.get_by_label("Credit limit", exact=True).fill("15000")
    await form.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("alert")).to_contain_text("E-mail: has a form")
    await expect(form.get_by_label("Name", exact=True)).to_have_value("Nordlicht Handel GmbH")
    await form.get_by_label("E-mail", exact=True).fill("einkauf@nordlicht.example")
    await form.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("status")).to_have_text("Saved.")
    await expect(page.locator("h1")).to_contain_text("Nordlicht Handel GmbH")
    record = find_customer(db, "CUST-NORD")
    assert record is not None
    assert record.credit_limit == 15000

    await page.get_by_role("link", name="Change", exact=True).click()
    await form.get_by_label("Marketing consent", exact=True).check()
    await form.get_by_label("How the consent was given", exact=True).fill("signed form at the fair")
    await form.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("status")).to_have_text("Saved.")
    audit = page.get_by_role("row", name="Marketing consent")
    await expect(audit.first).to_contain_text("mia.chen")
    await expect(audit.first.get_by_role("cell").nth(3)).to_have_text("no")  # was false
    await expect(audit.first.get_by_role("cell").nth(4)).to_have_text("yes")
    record = find_customer(db, "CUST-NORD")
    assert record is not None
    assert record.marketing_consent

    await page.goto(f"{site}/customers/care")
    await expect(page.get_by_role("table", name="My tasks")).to_contain_text("CUST-BOLT")
    await page.goto(f"{site}/customers/segments")
    await expect(page.locator("h1")).to_have_text("Customer segments")
