"""Stock operations in the console (issue 16): a warehouse user books receipts, issues,
adjustments and transfers and counts stock blind; an admin approves big variances."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from domain.access import Locale, Role
from domain.catalogue import StockPolicyRecord
from domain.inventory import MovementKind
from domain.stock_alerts import AlertRules
from persistence.database import Database
from persistence.invariants import check_database
from persistence.models import StockLevel, StockMovement
from persistence.stock_views import stock_timeline
from persistence.transactions import accounts, intake, stock
from persistence.transactions.alerts import review_alerts
from persistence.transactions.catalogue import (
    load_stock_policies,
    load_warehouses,
    warehouse_records,
)
from persistence.transactions.parcels import plan_shipments
from persistence.transactions.stock import change_stock
from runtime.settings import Settings
from tests.factories import submission
from tests.test_web_admin import PASSWORD, log_in
from web.app import create_app


@pytest.fixture
def client(db: Database, database_url: str) -> Iterator[TestClient]:
    accounts.create_user(db, "kai.wu", PASSWORD, Role.WAREHOUSE, actor="test")
    accounts.create_user(db, "ana.admin", PASSWORD, Role.ADMIN, actor="test")
    accounts.create_user(db, "wen.li", PASSWORD, Role.ANALYST, actor="test")
    with TestClient(
        create_app(Settings(database_url=database_url), db), follow_redirects=False
    ) as test_client:
        yield test_client


def level(db: Database, sku: str, warehouse_id: str) -> int:
    with db.reading() as session:
        row = session.get(StockLevel, (sku, warehouse_id))
        return 0 if row is None else row.on_hand


def text_of(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def test_receipts_issues_and_adjustments_from_the_forms(client: TestClient, db: Database) -> None:
    token = log_in(client, "kai.wu")
    form = {"csrf_token": token, "sku": "WIDGET-1", "warehouse_id": "WH-BER"}
    received = client.post(
        "/stock/operations/receipt",
        data={**form, "quantity": "25", "reason": "supplier_delivery", "action_id": "a1"},
    )
    assert received.status_code == 200
    assert "receipt: 25 x WIDGET-1 in WH-BER; now 525 on hand" in text_of(received.text)
    again = client.post(  # the same form sent twice (a double click) books once
        "/stock/operations/receipt",
        data={**form, "quantity": "25", "reason": "supplier_delivery", "action_id": "a1"},
    )
    assert again.status_code == 200
    assert level(db, "WIDGET-1", "WH-BER") == 525

    unreadable = client.post(
        "/stock/operations/issue", data={**form, "quantity": "ten", "reason": "scrap"}
    )
    assert unreadable.status_code == 422
    assert "Quantity: a whole number of units, not 'ten'" in text_of(unreadable.text)
    assert 'value="ten"' in unreadable.text  # what was typed stays in the form
    wrong_reason = client.post(
        "/stock/operations/issue", data={**form, "quantity": "1", "reason": "found"}
    )
    assert wrong_reason.status_code == 409
    assert "reason 'found' is not one for a stock issue" in text_of(wrong_reason.text)
    refused = client.post(
        "/stock/operations/issue", data={**form, "quantity": "9999", "reason": "scrap"}
    )
    assert refused.status_code == 409
    assert "issue of 9999 refused: 525 on hand, 0 reserved" in refused.text
    adjusted = client.post(
        "/stock/operations/adjustment", data={**form, "quantity": "-5", "reason": "lost"}
    )
    assert adjusted.status_code == 200
    assert level(db, "WIDGET-1", "WH-BER") == 520
    with db.reading() as session:
        assert check_database(session) == []

    analyst = log_in(client, "wen.li")
    forbidden = client.post(
        "/stock/operations/receipt",
        data={**form, "csrf_token": analyst, "quantity": "1", "reason": "supplier_delivery"},
    )
    assert forbidden.status_code == 403
    assert level(db, "WIDGET-1", "WH-BER") == 520


def test_a_transfer_sent_and_received_in_the_console(client: TestClient, db: Database) -> None:
    token = log_in(client, "kai.wu")
    sent = client.post(
        "/stock/transfers",
        data={
            "csrf_token": token,
            "from_warehouse_id": "WH-BER",
            "to_warehouse_id": "WH-HAM",
            "line-1-sku": "GADGET-2",
            "line-1-quantity": "3",
            "reference": "TN-77",
        },
    )
    assert sent.status_code == 200
    assert "in transit to WH-HAM" in text_of(sent.text)
    page = client.get("/stock/transfers?in_transit=true")
    transfer_id = re.search(r'action="/stock/transfers/(\d+)/receive"', page.text)
    assert transfer_id
    assert "3 × GADGET-2" in page.text  # noqa: RUF001 - the page writes a multiplication sign
    assert level(db, "GADGET-2", "WH-HAM") == 0
    received = client.post(
        f"/stock/transfers/{transfer_id.group(1)}/receive", data={"csrf_token": token}
    )
    assert received.status_code == 303
    assert level(db, "GADGET-2", "WH-HAM") == 3
    assert "goods received" in client.get("/stock/transfers").text  # not an order "received"
    twice = client.post(
        f"/stock/transfers/{transfer_id.group(1)}/receive", data={"csrf_token": token}
    )
    assert twice.status_code == 409
    assert "was received by kai.wu" in twice.text
    no_lines = client.post(
        "/stock/transfers",
        data={"csrf_token": token, "from_warehouse_id": "WH-BER", "to_warehouse_id": "WH-HAM"},
    )
    assert no_lines.status_code == 422
    assert "Lines: needs at least one entry" in text_of(no_lines.text)


def test_a_blind_count_with_a_variance_an_admin_approves(client: TestClient, db: Database) -> None:
    token = log_in(client, "kai.wu")
    opened = client.post(
        "/stock/stocktakes",
        data={"csrf_token": token, "warehouse_id": "WH-BER", "skus": "GADGET-2, WIDGET-1"},
    )
    assert opened.status_code == 303
    count_page = opened.headers["location"]
    counted = client.post(
        f"{count_page}/count",
        data={"csrf_token": token, "count-GADGET-2": "37", "count-WIDGET-1": "500"},
    )
    assert counted.status_code == 303
    blind = client.get(count_page).text
    assert "Book" not in blind
    assert "needs approval" not in blind  # counters see no variances
    assert "Post the count" not in blind  # posting is offered only when it would be accepted
    assert "once every line is counted and each large variance is approved" in blind
    refused = client.post(f"{count_page}/post", data={"csrf_token": token})
    assert refused.status_code == 409
    assert "GADGET-2: variance -3 worth -411.00 needs a supervisor" in refused.text
    self_approval = client.post(
        f"{count_page}/approve", data={"csrf_token": token, "sku": "GADGET-2"}
    )
    assert self_approval.status_code == 403

    admin = log_in(client, "ana.admin")
    supervised = text_of(client.get(count_page).text)
    assert "GADGET-2 Gadget, deluxe (pcs) 37 kai.wu 40 -3" in supervised
    assert "needs approval" in supervised
    assert "Post the count" not in supervised
    approved = client.post(f"{count_page}/approve", data={"csrf_token": admin, "sku": "GADGET-2"})
    assert approved.status_code == 303
    assert "Post the count" in client.get(count_page).text
    assert client.post(f"{count_page}/post", data={"csrf_token": admin}).status_code == 303
    assert "approved by ana.admin" in client.get(count_page).text
    assert level(db, "GADGET-2", "WH-BER") == 37
    assert level(db, "WIDGET-1", "WH-BER") == 500


def test_a_products_page_charts_on_hand_and_free_stock_from_the_ledger(
    client: TestClient, db: Database
) -> None:
    today = datetime.now(UTC).date()
    with db.transaction() as session:  # 10 days ago 60 arrived, 3 days ago 20 were reserved
        for days_ago, on_hand, reserved in ((10, 60, 0), (3, 0, 20)):
            change_stock(
                session,
                sku="GADGET-2",
                warehouse_id="WH-BER",
                kind=MovementKind.RECEIVE if on_hand else MovementKind.RESERVE,
                on_hand_change=on_hand,
                reserved_change=reserved,
            )
            session.flush()
            session.execute(
                update(StockMovement)
                .where(StockMovement.id == select(func.max(StockMovement.id)).scalar_subquery())
                .values(created_at=datetime.now(UTC) - timedelta(days=days_ago))
            )
    points = stock_timeline(db, "GADGET-2", warehouse_id="WH-BER", days=14, today=today)
    by_day = {(today - p.day).days: (p.on_hand, p.free) for p in points}
    assert by_day[13] == (0, 0)
    assert by_day[10] == (60, 60)
    assert by_day[3] == (60, 40)
    assert by_day[0] == (100, 80)  # and today the demo's opening 40

    log_in(client, "wen.li")  # analysts read stock
    page = client.get("/stock/products/GADGET-2?warehouse=WH-BER")
    assert page.status_code == 200
    assert "/stock/products/GADGET-2/chart.svg?warehouse=WH-BER" in page.text
    chart = client.get("/stock/products/GADGET-2/chart.svg?warehouse=WH-BER")
    assert chart.headers["content-type"] == "image/svg+xml"
    assert chart.text.startswith("<?xml")
    assert "On hand" in chart.text
    assert "GADGET-2 · WH-BER" in chart.text
    assert client.get("/stock/products/NOPE").status_code == 404


def test_the_alerts_page_shows_open_alerts_and_their_history(
    client: TestClient, db: Database
) -> None:
    load_stock_policies(
        db, [StockPolicyRecord(sku="WIDGET-1", warehouse_id="WH-BER", reorder_point=600)]
    )
    now = datetime.now(UTC)
    review_alerts(db, AlertRules(), now)
    log_in(client, "wen.li")
    page = text_of(client.get("/stock/alerts").text)
    assert "Low stock WIDGET-1 WH-BER 500 free + 0 incoming <= reorder point 600" in page
    load_stock_policies(
        db, [StockPolicyRecord(sku="WIDGET-1", warehouse_id="WH-BER", reorder_point=100)]
    )
    review_alerts(db, AlertRules(), now + timedelta(hours=1))
    assert "No alerts." in client.get("/stock/alerts").text
    assert "Low stock WIDGET-1" in text_of(client.get("/stock/alerts?history=true").text)


def test_the_packing_queue_lists_parcels_of_warehouses_that_confirm_packing(
    client: TestClient, db: Database
) -> None:
    ham = next(w for w in warehouse_records(db) if w.id == "WH-BER")
    load_warehouses(db, [ham.model_copy(update={"confirm_packing": True})])
    intake.receive_order(db, submission("PACK-1"), run_id="test")
    stock.reserve_stock(db, "PACK-1")
    [parcel] = plan_shipments(db, "PACK-1").shipments
    assert parcel.confirm_packing
    token = log_in(client, "kai.wu")
    page = text_of(client.get("/stock/packing").text)
    assert "PACK-1-S1 PACK-1 WH-BER 3 × WIDGET-1" in page  # noqa: RUF001 - the page's sign
    bad = client.post("/stock/packing/PACK-1-S1", data={"csrf_token": token, "packages": "0"})
    assert bad.status_code == 422
    assert "Packages: must be at least 1" in text_of(bad.text)


def test_a_chinese_warehouse_reads_what_was_booked_and_refused_in_chinese(
    client: TestClient, db: Database
) -> None:
    accounts.set_locale(db, "kai.wu", Locale.TRADITIONAL_CHINESE)
    token = log_in(client, "kai.wu")
    form = {"csrf_token": token, "warehouse_id": "WH-BER", "reason": "supplier_delivery"}
    booked = client.post(
        "/stock/operations/receipt", data={**form, "sku": "WIDGET-1", "quantity": "25"}
    )
    assert booked.status_code == 200
    assert "已記帳： 收貨：WH-BER 的 WIDGET-1 25 件；目前在庫 525 件" in text_of(booked.text)  # noqa: RUF001
    wrong = [
        ({"sku": "WIDGET-1", "quantity": "1e3"}, "數量：須為整數數量，不可為 '1e3'"),  # noqa: RUF001
        ({"sku": "NOPE-1", "quantity": "1"}, "SKU 'NOPE-1'：查無此產品"),  # noqa: RUF001
        ({"sku": "WIDGET-1", "quantity": "0"}, "數量：收貨至少須異動一件"),  # noqa: RUF001
        ({"sku": "WIDGET-1", "quantity": "1", "reference": "\x07"}, "含有控制字元 U+0007"),
    ]
    for typed, said in wrong:
        page = text_of(client.post("/stock/operations/receipt", data={**form, **typed}).text)
        assert said in page, page
        assert "should" not in page
        assert "no such" not in page
    sent = client.post(
        "/stock/transfers",
        data={
            "csrf_token": token,
            "from_warehouse_id": "WH-BER",
            "to_warehouse_id": "WH-BER",
            "line-1-sku": "WIDGET-1",
            "line-1-quantity": "2",
        },
    )
    assert "調入倉庫：調撥必須送往另一個倉庫" in text_of(sent.text)  # noqa: RUF001
    moved = client.post(
        "/stock/transfers",
        data={
            "csrf_token": token,
            "from_warehouse_id": "WH-BER",
            "to_warehouse_id": "WH-HAM",
            "line-1-sku": "WIDGET-1",
            "line-1-quantity": "x",
        },
    )
    assert "第 1 行的數量：須為整數數量，不可為 'x'" in text_of(moved.text)  # noqa: RUF001


def test_a_count_refused_keeps_every_typed_figure_beside_the_problem(
    client: TestClient, db: Database
) -> None:
    accounts.set_locale(db, "kai.wu", Locale.TRADITIONAL_CHINESE)
    token = log_in(client, "kai.wu")
    opened = client.post(
        "/stock/stocktakes",
        data={"csrf_token": token, "warehouse_id": "WH-BER", "skus": "GADGET-2, WIDGET-1"},
    )
    count_page = opened.headers["location"]
    refused = client.post(
        f"{count_page}/count",
        data={"csrf_token": token, "count-GADGET-2": "abc", "count-WIDGET-1": "500"},
    )
    assert refused.status_code == 422
    assert "GADGET-2：須為整數數量，不可為 'abc'" in text_of(refused.text)  # noqa: RUF001
    assert 'name="count-WIDGET-1" inputmode="numeric" value="500"' in refused.text
    assert 'name="count-GADGET-2" inputmode="numeric" value="abc"' in refused.text
