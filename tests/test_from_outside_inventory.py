"""Issue 25's inventory items, reproduced from outside as the testers tried them, on both
databases: two open counts of one product (26), stock in transit to a warehouse that never
held the product (27), supply promised to backorders counted as free (28), a transfer
reference reused for another transfer (29), a MASE of 0.00 for a series that sold nothing
in the backtest window (31)."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from html import unescape

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from activities.inventory_review import run_review
from domain.access import Role, SystemRole
from domain.catalogue import StockPolicyRecord
from domain.forecasting import (
    DemandSeries,
    MaseNotMeasured,
    forecast_demand,
    overall_accuracy,
)
from domain.inventory import (
    StockChange,
    StockOperation,
    StockReason,
    StocktakeOpening,
    StocktakeStatus,
    TransferLine,
    TransferRequest,
)
from domain.replenishment import ProposalStatus, ReplenishmentRules
from domain.stock_alerts import AlertKind, AlertRules
from domain.supply import SupplyRequest
from persistence.database import Database
from persistence.invariants import check_database
from persistence.models import Order, StockLevel, StocktakeLine, StockTransfer
from persistence.stock_views import stock_rows
from persistence.transactions import accounts, api_keys, intake, stock, supply
from persistence.transactions.alerts import review_alerts, stock_alerts
from persistence.transactions.catalogue import load_stock_policies
from persistence.transactions.replenishment import forecast_report, proposals
from persistence.transactions.stock import (
    ReusedReferenceError,
    StockOperationError,
    book_stock_change,
)
from persistence.transactions.stocktakes import (
    cancel_stocktake,
    open_stocktake,
    post_stocktake,
    record_count,
    stocktakes,
)
from persistence.transactions.transfers import dispatch_transfer
from runtime.settings import Settings
from tests.commands import oms, one_line_error
from tests.factories import line, submission
from tests.test_web_admin import PASSWORD, log_in
from web.app import create_app


def on_hand(db: Database, sku: str, warehouse_id: str) -> tuple[int, int]:
    with db.reading() as session:
        level = session.get(StockLevel, (sku, warehouse_id))
        return (0, 0) if level is None else (level.on_hand, level.reserved)


def text_of(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def count(db: Database, *skus: str, actor: str = "lena") -> int:
    opening = StocktakeOpening(warehouse_id="WH-BER", skus=list(skus), actor=actor)
    return open_stocktake(db, opening).id


# --- 26: one open count per product and warehouse ------------------------------------------


def test_a_second_open_count_of_the_same_product_is_refused_naming_the_first(
    db: Database,
) -> None:
    first = count(db, "WIDGET-1")
    with pytest.raises(StockOperationError) as refused:
        count(db, "GADGET-2", "WIDGET-1", actor="kai")
    assert f"WIDGET-1 in WH-BER already on open stocktake {first} (opened by lena" in str(
        refused.value
    )
    assert "post or cancel it first" in str(refused.value)
    with pytest.raises(StockOperationError, match=f"open stocktake {first}"):
        open_stocktake(db, StocktakeOpening(warehouse_id="WH-BER", actor="kai"))  # all of it
    assert [s.id for s in stocktakes(db)] == [first]  # nothing of the refused ones was kept

    # The testers' case: both counts found 5 lost; the loss is posted once.
    record_count(db, first, {"WIDGET-1": 495}, "lena")
    post_stocktake(db, first, "lena")
    assert on_hand(db, "WIDGET-1", "WH-BER") == (495, 0)
    second = count(db, "WIDGET-1", actor="kai")  # once the first is closed, a new count opens
    record_count(db, second, {"WIDGET-1": 495}, "kai")
    assert post_stocktake(db, second, "kai").status is StocktakeStatus.POSTED
    assert on_hand(db, "WIDGET-1", "WH-BER") == (495, 0)
    cancelled = count(db, "WIDGET-1")
    cancel_stocktake(db, cancelled, "lena")
    count(db, "WIDGET-1")  # a cancelled count holds nothing either
    # Another warehouse's count of the same product is another count.
    open_stocktake(db, StocktakeOpening(warehouse_id="WH-HAM", skus=["WIDGET-1"], actor="kai"))
    with db.reading() as session:
        assert check_database(session) == []


def test_the_database_itself_refuses_a_product_on_two_open_counts(db: Database) -> None:
    first = count(db, "WIDGET-1")
    second = count(db, "GADGET-2")
    with pytest.raises(IntegrityError), db.transaction() as session:  # what a racing opening hits
        session.add(StocktakeLine(stocktake_id=second, sku="WIDGET-1", warehouse_id="WH-BER"))
    cancel_stocktake(db, first, "lena")
    with db.transaction() as session:  # closed lines are history: no longer in the way
        session.add(StocktakeLine(stocktake_id=second, sku="WIDGET-1", warehouse_id="WH-BER"))


def test_counts_opened_at_the_same_moment_open_once(db: Database) -> None:
    opened: list[int] = []
    refused: list[str] = []
    start = threading.Barrier(6)

    def open_one(actor: str) -> None:
        start.wait()
        try:
            opened.append(count(db, "WIDGET-1", "GADGET-2", actor=actor))
        except StockOperationError as refusal:
            refused.append(str(refusal))

    racers = [threading.Thread(target=open_one, args=(f"counter-{n}",)) for n in range(6)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    assert len(opened) == 1
    assert len(refused) == 5
    assert all(f"already on open stocktake {opened[0]}" in reason for reason in refused)


# --- 27: in transit to a warehouse that never held the product -----------------------------


def test_stock_in_transit_to_a_new_warehouse_shows_as_incoming_there(db: Database) -> None:
    assert [r.warehouse_id for r in stock_rows(db, sku="GADGET-2")] == ["WH-BER"]
    sent = dispatch_transfer(
        db,
        TransferRequest(
            from_warehouse_id="WH-BER",
            to_warehouse_id="WH-HAM",
            lines=[TransferLine(sku="GADGET-2", quantity=5)],
            actor="kai",
        ),
    )
    rows = {r.warehouse_id: r for r in stock_rows(db, sku="GADGET-2")}
    assert (rows["WH-HAM"].on_hand, rows["WH-HAM"].incoming) == (0, 5)
    assert (rows["WH-BER"].on_hand, rows["WH-BER"].incoming) == (35, 0)
    with db.reading() as session:
        assert session.get(StockTransfer, sent.id) is not None
        assert check_database(session) == []


def test_the_stock_api_and_page_show_the_transit_to_a_new_warehouse(
    db: Database, database_url: str
) -> None:
    accounts.create_user(db, "kai.wu", PASSWORD, Role.WAREHOUSE, actor="test")
    key = api_keys.create_api_key(db, "wms", SystemRole.WAREHOUSE, actor="root").key
    headers = {"Authorization": f"Bearer {key}"}
    with TestClient(create_app(Settings(database_url=database_url), db)) as api:
        sent = api.post(
            "/api/v1/stock/transfers",
            json={
                "from_warehouse_id": "WH-BER",
                "to_warehouse_id": "WH-HAM",
                "lines": [{"sku": "GADGET-2", "quantity": 5}],
            },
            headers=headers,
        )
        assert sent.status_code == 200, sent.text
        levels = api.get("/api/v1/stock", params={"q": "GADGET-2"}, headers=headers).json()
        assert [(r["warehouse_id"], r["on_hand"], r["incoming"]) for r in levels] == [
            ("WH-BER", 35, 0),
            ("WH-HAM", 0, 5),
        ]
        log_in(api, "kai.wu")
        page = text_of(api.get("/stock/products/GADGET-2").text)
        assert "WH-HAM 0 0 0 5" in page  # on hand, reserved, free, incoming


# --- 28: supply promised to backorders is not free incoming --------------------------------


def backorder_of_20(db: Database) -> None:
    """The testers' case: 1 GADGET-2 on hand in WH-BER, an order of 21 takes it and opens
    a purchase of 20 for the rest."""
    book_stock_change(
        db,
        StockChange(
            operation=StockOperation.ISSUE,
            sku="GADGET-2",
            warehouse_id="WH-BER",
            quantity=39,
            reason=StockReason.SCRAP,
            actor="kai",
        ),
    )
    order = submission("BACK-21", lines=[line("GADGET-2", 21, "249.00")])
    intake.receive_order(db, order, run_id="test")
    reserved = stock.reserve_stock(db, "BACK-21")
    [backorder] = reserved.backorders
    assert backorder.quantity == 20
    request = SupplyRequest(
        order_id="BACK-21", line_no=backorder.line_no, sku="GADGET-2", quantity=20
    )
    plan = supply.plan_supply(db, request)
    supply.record_supply_order(
        db,
        request,
        "BACK-21:place_supply",
        plan,
        partner="simulated-supplier",
        partner_reference="PO-1",
        expected_at=datetime.now(UTC) + timedelta(days=10),
    )
    assert on_hand(db, "GADGET-2", "WH-BER") == (1, 1)


def test_the_review_proposes_stock_while_supply_is_only_for_a_backorder(
    db: Database, database_url: str
) -> None:
    backorder_of_20(db)
    [row] = stock_rows(db, sku="GADGET-2")
    assert (row.free, row.incoming, row.incoming_promised, row.incoming_free) == (0, 20, 20, 0)
    assert row.below_reorder_point  # reorder point 15: nothing will be free

    run_review(db, ReplenishmentRules(), datetime.now(UTC).date())
    [proposal] = [p for p in proposals(db) if p.sku == "GADGET-2"]
    assert (proposal.warehouse_id, proposal.status) == ("WH-BER", ProposalStatus.PROPOSED)
    assert proposal.quantity == 60  # up to the maximum: the 20 coming are the order's
    assert "20 more incoming, promised to orders" in proposal.reason

    with TestClient(create_app(Settings(database_url=database_url), db)) as client:
        accounts.create_user(db, "kai.wu", PASSWORD, Role.WAREHOUSE, actor="test")
        log_in(client, "kai.wu")
        page = text_of(client.get("/stock", params={"q": "GADGET-2"}).text)
        assert "WH-BER 1 1 0 20 (20 for orders) 15 60" in page
        assert "below the reorder point" in page

    review_alerts(db, AlertRules(), datetime.now(UTC))
    kinds = {a.kind for a in stock_alerts(db, sku="GADGET-2", warehouse_id="WH-BER")}
    assert AlertKind.STOCK_OUT in kinds


def test_supply_for_stock_still_counts_as_incoming_free(db: Database) -> None:
    load_stock_policies(
        db,
        [StockPolicyRecord(sku="WIDGET-1", warehouse_id="WH-HAM", reorder_point=290, maximum=500)],
    )
    before = {r.warehouse_id: r for r in stock_rows(db, sku="WIDGET-1")}["WH-HAM"]
    assert (before.incoming_free, before.below_reorder_point) == (0, False)
    dispatch_transfer(
        db,
        TransferRequest(
            from_warehouse_id="WH-HAM",
            to_warehouse_id="WH-BER",
            lines=[TransferLine(sku="WIDGET-1", quantity=20)],
            actor="kai",
        ),
    )
    rows = {r.warehouse_id: r for r in stock_rows(db, sku="WIDGET-1")}
    assert rows["WH-HAM"].below_reorder_point  # 280 free, nothing coming
    assert (rows["WH-BER"].incoming, rows["WH-BER"].incoming_free) == (20, 20)


# --- 29: a transfer reference reused for another transfer ----------------------------------


def transfer(units: int, reference: str = "TN-7", to: str = "WH-HAM") -> TransferRequest:
    return TransferRequest(
        from_warehouse_id="WH-BER",
        to_warehouse_id=to,
        lines=[TransferLine(sku="WIDGET-1", quantity=units)],
        reference=reference,
        actor="kai",
    )


def test_a_reused_transfer_reference_asking_for_another_quantity_is_refused(
    db: Database,
) -> None:
    first = dispatch_transfer(db, transfer(30))
    assert dispatch_transfer(db, transfer(30)).repeated  # the same request: a repeat
    with pytest.raises(ReusedReferenceError) as refused:
        dispatch_transfer(db, transfer(20))
    assert str(refused.value).startswith(
        f"reference 'TN-7' was used for transfer {first.id} (WH-BER to WH-HAM: 30 x WIDGET-1)"
    )
    assert "this request differs (WH-BER to WH-HAM: 20 x WIDGET-1): nothing was sent" in str(
        refused.value
    )
    with pytest.raises(ReusedReferenceError):
        dispatch_transfer(db, transfer(30, to="WH-BER2"))
    assert on_hand(db, "WIDGET-1", "WH-BER") == (470, 0)


def test_a_reused_receipt_reference_asking_for_another_quantity_is_refused(
    db: Database,
) -> None:
    def receipt(units: int, reason: StockReason = StockReason.SUPPLIER_DELIVERY) -> StockChange:
        return StockChange(
            operation=StockOperation.RECEIPT,
            sku="GADGET-2",
            warehouse_id="WH-BER",
            quantity=units,
            reason=reason,
            reference="DN-77",
            actor="kai",
        )

    book_stock_change(db, receipt(5))
    assert book_stock_change(db, receipt(5)).repeated
    with pytest.raises(ReusedReferenceError, match="reference 'DN-77' was booked before as"):
        book_stock_change(db, receipt(7))
    with pytest.raises(ReusedReferenceError, match=r"differs \(receipt of 5 x GADGET-2 in"):
        book_stock_change(db, receipt(5, StockReason.CUSTOMER_RETURN))
    assert on_hand(db, "GADGET-2", "WH-BER") == (45, 0)


@pytest.fixture
def console_and_api(db: Database, database_url: str) -> Iterator[tuple[TestClient, str]]:
    accounts.create_user(db, "kai.wu", PASSWORD, Role.WAREHOUSE, actor="test")
    key = api_keys.create_api_key(db, "wms", SystemRole.WAREHOUSE, actor="root").key
    with TestClient(
        create_app(Settings(database_url=database_url), db), follow_redirects=False
    ) as client:
        yield client, key


def test_the_api_and_the_console_refuse_a_reused_reference_for_another_transfer(
    db: Database, console_and_api: tuple[TestClient, str]
) -> None:
    client, key = console_and_api
    headers = {"Authorization": f"Bearer {key}"}
    body = {
        "from_warehouse_id": "WH-BER",
        "to_warehouse_id": "WH-HAM",
        "lines": [{"sku": "WIDGET-1", "quantity": 30}],
        "reference": "TN-9",
    }
    first = client.post("/api/v1/stock/transfers", json=body, headers=headers)
    assert first.status_code == 200, first.text
    again = client.post("/api/v1/stock/transfers", json=body, headers=headers)
    assert (again.status_code, again.json()["repeated"]) == (200, True)
    other = {**body, "lines": [{"sku": "WIDGET-1", "quantity": 20}]}
    refused = client.post("/api/v1/stock/transfers", json=other, headers=headers)
    assert refused.status_code == 409
    assert "reference 'TN-9' was used for transfer" in refused.text
    assert "this request differs" in refused.text

    token = log_in(client, "kai.wu")
    form = {
        "csrf_token": token,
        "from_warehouse_id": "WH-BER",
        "to_warehouse_id": "WH-HAM",
        "line-1-sku": "WIDGET-1",
        "reference": "TN-9",
        "action_id": "form-1",
    }
    repeat = client.post("/stock/transfers", data={**form, "line-1-quantity": "30"})
    assert repeat.status_code == 200
    assert "was sent before with this reference; nothing changed" in text_of(repeat.text)
    differing = client.post("/stock/transfers", data={**form, "line-1-quantity": "20"})
    assert differing.status_code == 409
    assert "reference 'TN-9' was used for transfer" in text_of(differing.text)
    assert on_hand(db, "WIDGET-1", "WH-BER") == (470, 0)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_oms_refuses_a_reused_reference_for_another_transfer(
    db: Database, database_url: str
) -> None:
    environment = {**os.environ, "OMS_DATABASE_URL": database_url}

    def send(units: int) -> object:
        return oms(
            "stock",
            "transfer",
            "WH-BER",
            "WH-HAM",
            f"WIDGET-1={units}",
            "--reference",
            "TN-5",
            "--as",
            "kai",
            environment=environment,
        )

    sent = send(5)
    assert "is in transit" in sent.stdout  # type: ignore[attr-defined]
    assert "was sent before with this reference" in send(5).stdout  # type: ignore[attr-defined]
    refusal = one_line_error(send(6))  # type: ignore[arg-type]
    assert "reference 'TN-5' was used for transfer" in refusal
    assert "this request differs (WH-BER to WH-HAM: 6 x WIDGET-1): nothing was sent" in refusal
    assert on_hand(db, "WIDGET-1", "WH-BER") == (495, 0)


# --- 31: MASE of a series that sold nothing in the backtest window -------------------------


def test_a_series_without_demand_in_the_backtest_window_has_no_mase(db: Database) -> None:
    today = datetime.now(UTC).date()
    days = 182
    rng = np.random.default_rng(7)
    sold_then_stopped = [float(v) for v in rng.poisson(6, days - 60)] + [0.0] * 60
    steady = [float(v) for v in rng.poisson(6, days)]
    start = today - timedelta(days=days)
    series = [
        DemandSeries(sku="STOPPED", warehouse_id="WH-BER", start=start, units=sold_then_stopped),
        DemandSeries(sku="STEADY", warehouse_id="WH-BER", start=start, units=steady),
    ]
    found = {f.sku: f for f in forecast_demand(series, horizon=14)}
    stopped = found["STOPPED"]
    assert (stopped.mase, stopped.naive_mase) == (None, None)  # not 0.00: nothing to measure
    assert stopped.mase_not_measured is MaseNotMeasured.NO_DEMAND
    assert "no demand in the backtest window" in MaseNotMeasured.NO_DEMAND.reason
    assert found["STEADY"].mase is not None
    assert found["STEADY"].mase_not_measured is None
    assert overall_accuracy(list(found.values())).backtested == 2  # its errors still count


def test_the_forecast_pages_say_mase_is_not_measured_and_why(
    db: Database, database_url: str
) -> None:
    """A review over an order history whose product stopped selling: the forecast page and
    the product page say n/a with the reason, never 0.00."""
    accounts.create_user(db, "wen.li", PASSWORD, Role.ANALYST, actor="test")
    today = datetime.now(UTC).date()
    for ago in range(120, 50, -1):  # sold every day until 50 days ago, then nothing
        order_id = f"OLD-{ago}"
        intake.receive_order(db, submission(order_id), run_id="test")
        stock.reserve_stock(db, order_id)
        _backdate(db, order_id, today - timedelta(days=ago))
    run_review(db, ReplenishmentRules(), today)
    [row] = [r for r in forecast_report(db, sku="WIDGET-1").rows if r.warehouse_id == "WH-BER"]
    assert row.mase is None
    assert row.mase_not_measured is MaseNotMeasured.NO_DEMAND
    with TestClient(create_app(Settings(database_url=database_url), db)) as client:
        log_in(client, "wen.li")
        listing = client.get("/stock/forecast")
        assert listing.status_code == 200
        assert "MASE not measured: no demand in the backtest window" in listing.text
        assert ">n/a</abbr>" in listing.text
        product = text_of(client.get("/stock/products/WIDGET-1?warehouse=WH-BER").text)
        assert "MASE not measured: no demand in the backtest window" in product
        assert "MASE 0.00" not in product


def _backdate(db: Database, order_id: str, day: date) -> None:
    with db.transaction() as session:
        session.execute(
            update(Order)
            .where(Order.id == order_id)
            .values(created_at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC))
        )


def test_supply_for_an_order_into_a_warehouse_without_the_product_shows_as_incoming(
    db: Database,
) -> None:
    """The same fault through supply: part of an order's widgets wait in Berlin (Hamburg
    has too few), so the bolts Hamburg cannot cover are made for it in Berlin, which never
    kept bolts; they show as incoming (promised) in Berlin."""
    lines = [line("WIDGET-1", 400, "19.90"), line("BOLT-M8", 1200, "7.45")]
    order = submission("BOLTS", lines=lines)
    intake.receive_order(db, order, run_id="test")
    [backorder] = stock.reserve_stock(db, "BOLTS").backorders
    request = SupplyRequest(
        order_id="BOLTS", line_no=backorder.line_no, sku="BOLT-M8", quantity=backorder.quantity
    )
    plan = supply.plan_supply(db, request)
    assert plan.warehouse_id == "WH-BER"
    supply.record_supply_order(
        db,
        request,
        "BOLTS:place_supply",
        plan,
        partner="simulated-factory",
        partner_reference="MO-1",
        expected_at=datetime.now(UTC) + timedelta(days=5),
    )
    rows = {r.warehouse_id: r for r in stock_rows(db, sku="BOLT-M8")}
    assert (rows["WH-BER"].incoming, rows["WH-BER"].incoming_promised) == (200, 200)
