"""The stock view (issue 16): per product and warehouse, for the roles that may see stock."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from domain.access import Locale, Role
from domain.catalogue import StockPolicyRecord
from domain.inventory import StockChange, StockOperation, StockReason
from domain.stock_alerts import AlertRules
from persistence.database import Database
from persistence.transactions import accounts
from persistence.transactions.alerts import review_alerts
from persistence.transactions.catalogue import (
    load_products,
    load_stock_policies,
    product_records,
)
from persistence.transactions.stock import book_stock_change
from runtime.settings import Settings
from tests.test_web_admin import PASSWORD, log_in
from web import i18n
from web.app import create_app


@pytest.fixture
def client(db: Database, database_url: str) -> Iterator[TestClient]:
    accounts.create_user(db, "kai.wu", PASSWORD, Role.WAREHOUSE, actor="test")
    accounts.create_user(db, "cs.lin", PASSWORD, Role.CUSTOMER_SERVICE, actor="test")
    widget = next(r for r in product_records(db) if r.sku == "WIDGET-1")
    load_products(db, [widget.model_copy(update={"cost": Decimal("8.00"), "unit": "pcs"})])
    load_stock_policies(
        db,
        [
            StockPolicyRecord(
                sku="WIDGET-1", warehouse_id="WH-BER", reorder_point=600, maximum=900
            ),
            StockPolicyRecord(sku="PANEL-X", warehouse_id="WH-HAM", reorder_point=1, maximum=2),
        ],
    )
    with TestClient(
        create_app(Settings(database_url=database_url), db), follow_redirects=False
    ) as test_client:
        yield test_client


def row_of(page: str, sku: str, warehouse: str) -> list[str]:
    """The cells of the stock row of ``sku`` in ``warehouse``."""
    for row in re.findall(r"<tr>(.*?)</tr>", page, flags=re.S):
        cells = [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
        ]
        if cells[:1] == [sku] and cells[2] == warehouse:
            return cells
    raise AssertionError(f"no row for {sku} in {warehouse}")


def test_the_warehouse_sees_stock_with_its_value_and_what_needs_attention(
    client: TestClient,
) -> None:
    log_in(client, "kai.wu")
    page = client.get("/stock").text
    widget = row_of(page, "WIDGET-1", "WH-BER")
    assert widget[3:10] == ["500", "0", "500", "0", "600", "900", "€4,000.00"]
    assert widget[10] == "below the reorder point"  # 500 free + 0 incoming <= 600
    panel = row_of(page, "PANEL-X", "WH-HAM")
    assert panel[10] == "above the maximum"  # 5 on hand, at most 2
    assert row_of(page, "GADGET-2", "WH-BER")[10] == ""  # no policy: nothing to say
    only_hamburg = client.get("/stock", params={"warehouse": "WH-HAM"}).text
    assert "<td>WH-BER</td>" not in only_hamburg
    assert "<td>WH-HAM</td>" in only_hamburg
    assert '<option value="WH-HAM" selected>WH-HAM · Hamburg port</option>' in only_hamburg
    assert '<option value="WH-BER" >WH-BER · Berlin central</option>' in only_hamburg
    assert '<input name="warehouse"' not in page  # the catalogue's warehouses, nothing typed
    searched = client.get("/stock", params={"q": "panel"}).text
    assert "PANEL-X" in searched
    assert "WIDGET-1" not in searched


def kpi(page: str, label: str) -> str:
    """The figure under ``label`` in the stock page's figures."""
    found = re.search(rf'<span class="hint">{label}</span><strong>(.*?)</strong>', page, flags=re.S)
    assert found, label
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def test_a_stock_out_counts_in_the_figures_as_the_alerts_list_it(
    client: TestClient, db: Database
) -> None:
    """A stock-out raised minutes ago showed 'Stock-out days 0.0' beside the alert: the
    figures now count the same alerts, a started day as a whole one."""
    book_stock_change(
        db,
        StockChange(
            operation=StockOperation.ISSUE,
            sku="PANEL-X",
            warehouse_id="WH-HAM",
            quantity=5,
            reason=StockReason.SCRAP,
            actor="kai.wu",
        ),
    )
    review_alerts(db, AlertRules(), datetime.now(UTC))
    log_in(client, "kai.wu")
    listed = client.get("/stock/alerts").text.count('<span class="error">Stock-out</span>')
    assert listed == 1  # PANEL-X in Hamburg: nothing left
    page = client.get("/stock").text
    assert kpi(page, "Out of stock now") == str(listed)
    assert kpi(page, "Stock-out days") == "1"
    assert "a started day counts as a whole one" in page  # each figure says what it is
    assert "Units on hand now times each product" in page
    berlin = client.get("/stock", params={"warehouse": "WH-BER"}).text
    berlin_alerts = client.get("/stock/alerts", params={"warehouse": "WH-BER"}).text
    assert kpi(berlin, "Out of stock now") == "0"
    assert kpi(berlin, "Stock-out days") == "0"
    assert "Stock-out</span>" not in berlin_alerts


def test_the_stock_out_figures_say_they_are_as_of_the_last_review(
    client: TestClient, db: Database
) -> None:
    """The figures come from the alerts of the last inventory review, so after stock moved
    they disagreed with the table without saying why: the page says when they are from."""
    reviewed = datetime.now(UTC).replace(microsecond=0)
    book_stock_change(
        db,
        StockChange(
            operation=StockOperation.ISSUE,
            sku="PANEL-X",
            warehouse_id="WH-HAM",
            quantity=5,
            reason=StockReason.SCRAP,
            actor="kai.wu",
        ),
    )
    review_alerts(db, AlertRules(), reviewed)
    log_in(client, "kai.wu")
    page = client.get("/stock").text
    when = i18n.when(reviewed, Locale.ENGLISH)
    assert f"as of the last inventory review, {when} (a stock-out ends as soon as" in page
    assert 'href="/stock/alerts?history=true"' in page  # the days link the alerts they count
    assert kpi(page, "Out of stock now") == "1"
    book_stock_change(  # goods arrive: the stock-out ends now, not at the next review
        db,
        StockChange(
            operation=StockOperation.RECEIPT,
            sku="PANEL-X",
            warehouse_id="WH-HAM",
            quantity=4,
            reason=StockReason.SUPPLIER_DELIVERY,
            actor="kai.wu",
        ),
    )
    after = client.get("/stock").text
    assert kpi(after, "Out of stock now") == "0"
    assert kpi(after, "Stock-out days") == "1"  # the spell still counts
    assert f"as of the last inventory review, {when} (" in after  # the review's time, still
    assert "Stock-out</span>" not in client.get("/stock/alerts").text


def test_customer_service_may_not_see_stock(client: TestClient) -> None:
    log_in(client, "cs.lin")
    assert client.get("/stock").status_code == 403
    assert 'href="/stock"' not in client.get("/").text


def test_the_movements_page_shows_the_ledger_with_reason_actor_and_reference(
    client: TestClient, db: Database
) -> None:
    book_stock_change(
        db,
        StockChange(
            operation=StockOperation.ISSUE,
            sku="WIDGET-1",
            warehouse_id="WH-BER",
            quantity=3,
            reason=StockReason.SCRAP,
            reference="SCRAP-12",
            actor="kai.wu",
        ),
    )
    log_in(client, "kai.wu")
    page = client.get("/stock/movements", params={"outside_orders": "true", "kind": "issue"}).text
    rows = re.findall(r"<tr><td>.*?</tr>", page, flags=re.S)
    assert len(rows) == 1
    cells = [
        re.sub(r"<[^>]+>", "", c).strip()
        for c in re.findall(r"<td[^>]*>(.*?)</td>", rows[0], flags=re.S)
    ]
    assert cells[1:] == [
        "WIDGET-1",
        "WH-BER",
        "goods issue",
        "-3",
        "",
        "Scrap",
        "kai.wu",
        "SCRAP-12",
    ]
    everything = client.get("/stock/movements").text
    assert everything.count("<tr><td>") >= 6  # the demo catalogue's opening receipts too
