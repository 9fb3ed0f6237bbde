"""Stock operations outside orders (issue 16): receipts, issues and adjustments, each one
ledger row with reason, actor and reference, never breaking what orders hold."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from domain.inventory import StockChange, StockOperation, StockReason
from persistence.database import Database
from persistence.invariants import check_database
from persistence.models import StockLevel, StockMovement
from persistence.transactions import intake, stock
from persistence.transactions.stock import StockOperationError, book_stock_change
from tests.commands import oms
from tests.factories import submission


def change(
    operation: StockOperation, quantity: int, reason: StockReason, **more: str
) -> StockChange:
    return StockChange(
        operation=operation,
        sku=more.get("sku", "WIDGET-1"),
        warehouse_id=more.get("warehouse_id", "WH-BER"),
        quantity=quantity,
        reason=reason,
        reference=more.get("reference", ""),
        actor="kai.wu",
    )


def level(db: Database) -> tuple[int, int]:
    with db.reading() as session:
        row = session.get(StockLevel, ("WIDGET-1", "WH-BER"))
        assert row is not None
        return row.on_hand, row.reserved


def test_a_receipt_books_one_ledger_row_once_per_delivery_note(db: Database) -> None:
    before = level(db)
    receipt = change(StockOperation.RECEIPT, 40, StockReason.SUPPLIER_DELIVERY, reference="DN-7")
    first = book_stock_change(db, receipt)
    again = book_stock_change(db, receipt)
    assert (first.on_hand, first.repeated) == (before[0] + 40, False)
    assert again.repeated
    assert level(db)[0] == before[0] + 40
    with db.reading() as session:
        rows = session.scalars(select(StockMovement).where(StockMovement.reference == "DN-7")).all()
        assert [(r.kind, r.on_hand_change, r.reason, r.actor) for r in rows] == [
            ("receive", 40, "supplier_delivery", "kai.wu")
        ]
        assert check_database(session) == []


def test_an_issue_or_adjustment_never_takes_what_orders_hold(db: Database) -> None:
    intake.receive_order(db, submission("HOLD-1"), run_id="test")
    stock.reserve_stock(db, "HOLD-1")
    on_hand, reserved = level(db)
    assert reserved > 0
    free = on_hand - reserved
    with pytest.raises(StockOperationError, match=f"{on_hand} on hand, {reserved} reserved"):
        book_stock_change(db, change(StockOperation.ISSUE, free + 1, StockReason.SCRAP))
    with pytest.raises(StockOperationError, match="reserved for orders"):
        book_stock_change(db, change(StockOperation.ADJUSTMENT, -(free + 1), StockReason.LOST))
    assert level(db) == (on_hand, reserved)  # nothing changed
    issued = book_stock_change(db, change(StockOperation.ISSUE, free, StockReason.SAMPLE))
    assert (issued.on_hand, issued.reserved) == (reserved, reserved)
    with db.reading() as session:
        assert check_database(session) == []


def test_unknown_products_and_wrong_reasons_are_refused_naming_them(db: Database) -> None:
    with pytest.raises(StockOperationError, match="sku 'NOPE': no such product"):
        book_stock_change(
            db, change(StockOperation.RECEIPT, 1, StockReason.OPENING_BALANCE, sku="NOPE")
        )
    with pytest.raises(StockOperationError, match="warehouse 'WH-X': no such warehouse"):
        book_stock_change(
            db, change(StockOperation.RECEIPT, 1, StockReason.OPENING_BALANCE, warehouse_id="WH-X")
        )
    with pytest.raises(StockOperationError, match="reason 'found' is not one for a stock issue"):
        book_stock_change(db, change(StockOperation.ISSUE, 1, StockReason.FOUND))
    with pytest.raises(StockOperationError, match="found stock adds units"):
        book_stock_change(db, change(StockOperation.ADJUSTMENT, -2, StockReason.FOUND))
    with pytest.raises(StockOperationError, match="lost stock takes units away"):
        book_stock_change(db, change(StockOperation.ADJUSTMENT, 2, StockReason.LOST))
    with pytest.raises(StockOperationError, match="an adjustment changes stock by at least one"):
        book_stock_change(db, change(StockOperation.ADJUSTMENT, 0, StockReason.CORRECTION))
    with pytest.raises(StockOperationError, match="a stock receipt moves at least one unit"):
        book_stock_change(db, change(StockOperation.RECEIPT, 0, StockReason.SUPPLIER_DELIVERY))
    with db.reading() as session:
        assert check_database(session) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_oms_stock_books_and_refuses_with_the_reason(db: Database, database_url: str) -> None:
    environment = {**os.environ, "OMS_DATABASE_URL": database_url}
    received = oms(
        "stock",
        "receive",
        "WIDGET-1",
        "WH-BER",
        "10",
        "--reference",
        "DN-9",
        "--as",
        "kai",
        environment=environment,
    )
    assert received.returncode == 0, received.stderr
    assert "receipt of 10 x WIDGET-1 in WH-BER booked" in received.stdout
    refused = oms(
        "stock",
        "issue",
        "WIDGET-1",
        "WH-BER",
        "99999",
        "--reason",
        "scrap",
        environment=environment,
    )
    assert refused.returncode == 1
    assert "issue of 99999 refused" in refused.stderr
    lost = oms(
        "stock",
        "adjust",
        "WIDGET-1",
        "WH-BER",
        "--by",
        "-2",
        "--reason",
        "lost",
        environment=environment,
    )
    assert lost.returncode == 0, lost.stderr
