"""The order processing module's lists and details, from the read model, per role."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from domain.access import Locale, Role
from domain.intake import StatusChange
from domain.orders import Channel, EventKind, OrderStatus
from domain.worklists import OrderList
from persistence.database import Database
from persistence.order_views import OrderQuery, order_page
from persistence.transactions import accounts, intake, stock
from runtime.settings import Settings
from tests.factories import submission
from web.app import create_app

PASSWORD = "correct horse battery"


def receive(
    db: Database, order_id: str, status: OrderStatus | None = None, **changes: object
) -> None:
    """An order in the read model, taken in and (optionally) moved to ``status``."""
    intake.receive_order(db, submission(order_id, **changes), run_id="test-run")
    if status is not None:
        change = StatusChange(order_id=order_id, event=EventKind.CREDIT_HOLD, status=status)
        intake.record_order_status(db, change)


@pytest.fixture
def orders(db: Database) -> Database:
    """Seven orders across the lists: three new (one by fax), two held, one in progress,
    one completed."""
    receive(db, "WEB-1")
    receive(db, "WEB-2", customer_reference="PO-7781")
    receive(db, "FAX-3", channel=Channel.FAX)
    receive(db, "WEB-4", OrderStatus.AWAITING_APPROVAL)
    receive(db, "WEB-5", OrderStatus.AWAITING_APPROVAL)
    receive(db, "WEB-6", OrderStatus.ALLOCATED)
    receive(db, "WEB-7", OrderStatus.COMPLETED)
    return db


@pytest.fixture
def client(orders: Database, database_url: str) -> Iterator[TestClient]:
    accounts.create_user(orders, "olivia", PASSWORD, Role.ORDER_PROCESSING, actor="test")
    accounts.create_user(
        orders, "wen.li", PASSWORD, Role.ANALYST, Locale.TRADITIONAL_CHINESE, actor="test"
    )
    settings = Settings(database_url=database_url)
    with TestClient(create_app(settings, orders), follow_redirects=False) as test_client:
        yield test_client


def log_in(client: TestClient, username: str) -> None:
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    answer = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert answer.status_code == 303


def order_ids(page_html: str) -> list[str]:
    return re.findall(r'<td><a href="/orders/([^"]+)">', page_html)


def test_each_list_holds_its_orders_and_every_count_is_shown(orders: Database) -> None:
    found = order_page(orders, OrderQuery(worklist=OrderList.NEW))
    assert sorted(row.order_id for row in found.rows) == ["FAX-3", "WEB-1", "WEB-2"]
    assert found.counts == {
        OrderList.NEW: 3,
        OrderList.AWAITING_APPROVAL: 2,
        OrderList.IN_PROGRESS: 1,
        OrderList.NEEDS_ATTENTION: 0,
        OrderList.PROCESSED: 1,
    }


def test_filters_search_and_pages_narrow_the_list(orders: Database) -> None:
    by_fax = order_page(orders, OrderQuery(worklist=OrderList.NEW, channel="fax"))
    assert [row.order_id for row in by_fax.rows] == ["FAX-3"]
    assert by_fax.counts[OrderList.AWAITING_APPROVAL] == 0  # counts follow the filters
    by_reference = order_page(orders, OrderQuery(worklist=OrderList.NEW, search="PO-7781"))
    assert [row.order_id for row in by_reference.rows] == ["WEB-2"]
    by_prefix = order_page(orders, OrderQuery(worklist=OrderList.AWAITING_APPROVAL, search="WEB-"))
    assert by_prefix.total == 2
    first = order_page(orders, OrderQuery(worklist=OrderList.NEW, page_size=2))
    second = order_page(orders, OrderQuery(worklist=OrderList.NEW, page_size=2, page=2))
    assert (first.pages, len(first.rows), len(second.rows)) == (2, 2, 1)
    assert {row.order_id for row in first.rows} | {row.order_id for row in second.rows} == {
        "FAX-3",
        "WEB-1",
        "WEB-2",
    }


def test_the_list_page_shows_the_tabs_counts_and_rows(client: TestClient) -> None:
    log_in(client, "olivia")
    page = client.get("/orders?list=awaiting_approval")
    assert page.status_code == 200
    assert sorted(order_ids(page.text)) == ["WEB-4", "WEB-5"]
    assert re.search(r"Awaiting approval <span class=\"count\">2</span>", page.text)
    assert "€59.70" in page.text  # money in the reader's locale
    filtered = client.get("/orders?list=new&channel=fax")
    assert order_ids(filtered.text) == ["FAX-3"]


def test_order_processing_sees_the_address_and_an_analyst_does_not(client: TestClient) -> None:
    log_in(client, "olivia")
    detail = client.get("/orders/WEB-1")
    assert detail.status_code == 200
    assert "Erika Mustermann" in detail.text
    assert "Heidestrasse 17" in detail.text
    assert "/workflows/order-WEB-1" in detail.text
    client.cookies.clear()
    log_in(client, "wen.li")
    hidden = client.get("/orders/WEB-1")
    assert hidden.status_code == 200
    assert "Erika Mustermann" not in hidden.text
    assert "Heidestrasse" not in hidden.text
    assert "姓名與地址屬個人資料，您的角色無法查看：客戶以編號識別。" in hidden.text  # noqa: RUF001 - Chinese punctuation
    assert "國家：DE" in hidden.text  # noqa: RUF001
    missing = client.get("/orders/NO-SUCH")
    assert missing.status_code == 404
    assert "no order &#39;NO-SUCH&#39;" in missing.text  # a page for people, not JSON
    assert missing.headers["content-type"].startswith("text/html")


def test_the_orders_need_a_login(client: TestClient) -> None:
    assert client.get("/orders").headers["location"] == "/login?next=/orders"


def test_an_orders_page_shows_its_reserved_stock_and_why_it_came_from_there(
    client: TestClient, orders: Database
) -> None:
    stock.reserve_stock(orders, "WEB-1")
    log_in(client, "olivia")
    page = client.get("/orders/WEB-1").text
    assert "Reserved stock" in page
    reasons = re.search(r'<h2>Reserved stock</h2>\s*<p class="hint">([^<]+)</p>', page)
    assert reasons
    assert "WH-BER" in reasons.group(1)  # the allocation rule's reason, as recorded
    assert re.search(r"<td>1</td><td>WIDGET-1</td><td>WH-BER</td><td class=\"num\">\d+</td>", page)


def test_lists_show_how_long_an_order_has_been_in_its_status(
    client: TestClient, orders: Database
) -> None:
    log_in(client, "olivia")
    page = client.get("/orders", params={"list": "awaiting_approval"}).text
    assert "In this status for" in page
    assert len(re.findall(r"<td>\d+ (?:second|minute)s?</td>", page)) == 2  # the two held


def test_the_orders_open_on_the_first_list_that_holds_any(client: TestClient) -> None:
    log_in(client, "olivia")
    assert sorted(order_ids(client.get("/orders").text)) == ["FAX-3", "WEB-1", "WEB-2"]
    # Nothing new among the orders searched for: the held one is shown, not "New 0".
    held = client.get("/orders", params={"q": "WEB-4"}).text
    assert order_ids(held) == ["WEB-4"]
    assert re.search(r'list=awaiting_approval" aria-current="page"', held)
    assert 'name="list" value="awaiting_approval"' in held  # the filters stay on it
    chosen = client.get("/orders", params={"list": "new", "q": "WEB-4"}).text
    assert order_ids(chosen) == []  # a list chosen is the list shown


def test_an_order_offers_only_what_its_workflow_would_take(
    client: TestClient, orders: Database
) -> None:
    receive(orders, "WEB-8", OrderStatus.DELIVERED)
    log_in(client, "olivia")
    delivered = client.get("/orders/WEB-8").text
    assert "Cancel the order" not in delivered  # delivered: a return, not a cancellation
    held = client.get("/orders/WEB-4").text
    for offered in ("Approve", "Reject", "Cancel the order", "Move the deadline"):
        assert f">{offered}</button>" in held
    for refused in ("Retry the failed undo steps", "Book the payment"):
        assert refused not in held
    assert "Act on this order" not in client.get("/orders/WEB-7").text  # completed
