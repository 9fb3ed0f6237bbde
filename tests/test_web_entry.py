"""Manual order entry: the phone desk's form builds the starter's submission, shows each
problem beside its field, and submits a correct order by signal-with-start."""

from __future__ import annotations

import asyncio
import html
import re
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from domain.access import Locale, Role
from domain.orders import SUBMIT_ORDER_SIGNAL, OrderSubmission, order_workflow_id
from persistence.database import Database
from persistence.transactions import accounts
from runtime.settings import Settings
from tests.test_web_actions import PASSWORD, log_in
from web.app import create_app

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

ADDRESS = {
    "shipping_address-name": "Acme Retail GmbH",
    "shipping_address-street": "Hauptstraße 1",
    "shipping_address-postal_code": "10115",
    "shipping_address-city": "Berlin",
    "shipping_address-country": "DE",
}


@pytest.fixture
def desk(db: Database, database_url: str, time_skipping_env: WorkflowEnvironment) -> TestClient:
    accounts.create_user(db, "olivia", PASSWORD, Role.ORDER_PROCESSING, actor="test")
    accounts.create_user(db, "wen.li", PASSWORD, Role.ANALYST, actor="test")
    app = create_app(Settings(database_url=database_url), db, time_skipping_env.client)
    return TestClient(app, follow_redirects=False)


def field_errors(page: str, name: str) -> list[str]:
    """The problems shown beside the field ``name``."""
    cell = re.search(
        rf'name="{re.escape(name)}"[^>]*>((?:<span class="error field-error">[^<]*</span>)*)', page
    )
    assert cell, f"no field {name}"
    found = re.findall(r'<span class="error field-error">([^<]*)</span>', cell.group(1))
    return [html.unescape(message) for message in found]


def test_only_roles_that_enter_orders_get_the_form(desk: TestClient) -> None:
    log_in(desk, "wen.li")
    assert desk.get("/orders/new").status_code == 403
    desk.cookies.clear()
    log_in(desk, "olivia")
    form = desk.get("/orders/new")
    assert form.status_code == 200
    assert 'name="lines-1-sku"' in form.text
    assert '<option value="CUST-ACME">Acme Retail GmbH</option>' in form.text
    assert '<option value="LEGACY-0">' not in form.text  # discontinued: not offered


def test_each_problem_is_shown_beside_its_field_and_nothing_is_submitted(
    desk: TestClient,
) -> None:
    token = log_in(desk, "olivia")
    answer = desk.post(
        "/orders/new",
        data={
            "csrf_token": token,
            "channel": "phone",
            "order_id": "PHONE-TEST-1",
            "customer_id": "CUST-NOBODY",
            "lines-1-sku": "WIDGET-1",
            "lines-1-quantity": "2",
            "lines-3-sku": "GADGET-2",
            "lines-3-quantity": "three",
            **ADDRESS,
            "shipping_address-city": "",
        },
    )
    assert answer.status_code == 422
    page = answer.text
    assert field_errors(page, "lines-3-quantity")  # not a whole number: the document check
    assert field_errors(page, "lines-1-quantity") == []
    assert 'value="three"' in page  # what was typed stays
    # The intake rules speak at the same time about what could be read.
    assert field_errors(page, "customer_id") == ["customer_id 'CUST-NOBODY': no such customer"]
    assert field_errors(page, "shipping_address-city")
    # With the quantity fixed, the line's own rule speaks beside its field.
    again = desk.post(
        "/orders/new",
        data={
            "csrf_token": token,
            "channel": "phone",
            "order_id": "PHONE-TEST-1",
            "customer_id": "CUST-NOBODY",
            "lines-1-sku": "WIDGET-1",
            "lines-1-quantity": "2",
            "lines-3-sku": "NO-SUCH-SKU",
            "lines-3-quantity": "3",
            **ADDRESS,
            "shipping_address-city": "",
        },
    )
    assert again.status_code == 422
    assert field_errors(again.text, "customer_id") == [
        "customer_id 'CUST-NOBODY': no such customer"
    ]
    assert field_errors(again.text, "lines-3-sku") == [
        "lines[2].sku 'NO-SUCH-SKU': no such product"
    ]
    assert field_errors(again.text, "shipping_address-city")
    assert 'aria-invalid="true"' in again.text


async def test_a_correct_order_is_submitted_by_signal_with_start_priced_from_the_list(
    desk: TestClient, time_skipping_env: WorkflowEnvironment
) -> None:
    token = await asyncio.to_thread(log_in, desk, "olivia")
    answer = await asyncio.to_thread(
        desk.post,
        "/orders/new",
        data={
            "csrf_token": token,
            "channel": "fax",
            "customer_id": "CUST-ACME",
            "customer_reference": "PO-4711",
            "lines-2-sku": "WIDGET-1",
            "lines-2-quantity": "5",
            **ADDRESS,
        },
    )
    assert answer.status_code == 303
    entered = re.search(r"entered=(FAX-\d{8}-[0-9A-F]{6})$", answer.headers["location"])
    assert entered, answer.headers["location"]
    handle = time_skipping_env.client.get_workflow_handle(order_workflow_id(entered.group(1)))
    history = await handle.fetch_history()
    signal = next(
        event.workflow_execution_signaled_event_attributes
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    )
    assert signal.signal_name == SUBMIT_ORDER_SIGNAL
    [submission] = await time_skipping_env.client.data_converter.decode(
        signal.input.payloads, [OrderSubmission]
    )
    assert submission.order_id == entered.group(1)
    assert submission.customer_reference == "PO-4711"
    assert [(line.sku, line.quantity, line.unit_price) for line in submission.lines] == [
        ("WIDGET-1", 5, Decimal("19.90"))
    ]
    assert submission.shipping_address.city == "Berlin"
    await handle.terminate("test over")


def test_parse_problems_and_business_rules_are_shown_together(desk: TestClient) -> None:
    """A country written out in full no longer hides the rest until a second submit."""
    token = log_in(desk, "olivia")
    answer = desk.post(
        "/orders/new",
        data={
            "csrf_token": token,
            "channel": "phone",
            "order_id": "PHONE-TEST-2",
            "customer_id": "CUST-OLD",
            "lines-1-sku": "NO-SUCH-SKU",
            "lines-1-quantity": "2",
            "lines-2-sku": "WIDGET-1",
            "lines-2-quantity": "1",
            "lines-2-unit_price": "1.00",
            **ADDRESS,
            "shipping_address-street": "",
            "shipping_address-country": "Germany",
        },
    )
    assert answer.status_code == 422
    page = answer.text
    assert len(field_errors(page, "shipping_address-country")) == 1  # the document check's
    assert field_errors(page, "customer_id") == ["customer_id 'CUST-OLD': customer is not active"]
    assert field_errors(page, "lines-1-sku") == ["lines[1].sku 'NO-SUCH-SKU': no such product"]
    assert field_errors(page, "lines-2-unit_price")  # not the list price
    assert field_errors(page, "shipping_address-street")


def test_a_chinese_desk_reads_every_problem_in_chinese_by_its_label(
    db: Database, desk: TestClient
) -> None:
    """The document check's and the intake rules' problems in the reader's language; the
    English the workflow would record is unchanged (tests above)."""
    accounts.create_user(
        db, "mei", PASSWORD, Role.ORDER_PROCESSING, Locale.TRADITIONAL_CHINESE, actor="test"
    )
    token = log_in(desk, "mei")
    answer = desk.post(
        "/orders/new",
        data={
            "csrf_token": token,
            "channel": "phone",
            "order_id": "PHONE-TEST-3",
            "customer_id": "NOPE-1",
            "currency": "usd",
            "lines-1-sku": "NOPE-SKU",
            "lines-1-quantity": "2",
            "lines-2-sku": "WIDGET-1",
            "lines-2-quantity": "x",
            "lines-3-sku": "WIDGET-1",
            "lines-3-quantity": "1",
            "lines-3-unit_price": "nan",
            **ADDRESS,
        },
    )
    assert answer.status_code == 422
    page = answer.text
    assert field_errors(page, "currency") == ["格式不符合此欄位（三個大寫英文字母，例如 EUR）"]  # noqa: RUF001
    assert field_errors(page, "lines-2-quantity") == ["請填寫整數"]
    assert field_errors(page, "lines-3-unit_price") == ["請填寫有限的數字"]
    again = desk.post(
        "/orders/new",
        data={
            "csrf_token": token,
            "channel": "phone",
            "order_id": "PHONE-TEST-3",
            "customer_id": "NOPE-1",
            "currency": "USD",
            "lines-1-sku": "NOPE-SKU",
            "lines-1-quantity": "2",
            "lines-2-sku": "WIDGET-1",
            "lines-2-quantity": "1",
            "customer_reference": "x" * 300,
            **ADDRESS,
        },
    )
    page = again.text
    assert field_errors(page, "customer_id") == ["客戶 'NOPE-1'：查無此客戶"]  # noqa: RUF001
    assert field_errors(page, "lines-1-sku") == ["第 1 行的 SKU 'NOPE-SKU'：查無此產品"]  # noqa: RUF001
    assert field_errors(page, "lines-2-sku") == [
        "第 2 行的 SKU 'WIDGET-1'：以 EUR 計價，但訂單幣別為 USD"  # noqa: RUF001
    ]
    assert field_errors(page, "customer_reference") == ["最多 64 個字元"]
    for english in ("should", "no such", "priced in", "Input"):
        assert english not in page
