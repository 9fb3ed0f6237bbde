"""Transfers between warehouses and stocktakes (issue 16), on both databases: every unit
is on a shelf or in transit, a count's variance is right however stock moves while it is
open, big variances wait for another person's approval, and orders' reservations hold."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from domain.inventory import (
    StocktakeOpening,
    StocktakeStatus,
    TransferLine,
    TransferRequest,
    TransferStatus,
)
from persistence.database import Database, sync_url
from persistence.demo_catalogue import seed_demo_catalogue
from persistence.invariants import check_database
from persistence.migrate import downgrade, upgrade
from persistence.models import StockLevel, StockMovement, StocktakeLine
from persistence.stock_views import stock_rows
from persistence.transactions import intake, stock
from persistence.transactions.stock import StockOperationError
from persistence.transactions.stocktakes import (
    approve_variance,
    cancel_stocktake,
    open_stocktake,
    post_stocktake,
    record_count,
    stocktake_view,
)
from persistence.transactions.transfers import dispatch_transfer, receive_transfer
from tests.commands import oms
from tests.conftest import throwaway_postgres
from tests.factories import submission


def on_hand(db: Database, sku: str, warehouse_id: str) -> tuple[int, int]:
    with db.reading() as session:
        level = session.get(StockLevel, (sku, warehouse_id))
        return (0, 0) if level is None else (level.on_hand, level.reserved)


def clean(db: Database) -> None:
    with db.reading() as session:
        assert check_database(session) == []


def transfer(*lines: tuple[str, int], reference: str = "") -> TransferRequest:
    return TransferRequest(
        from_warehouse_id="WH-BER",
        to_warehouse_id="WH-HAM",
        lines=[TransferLine(sku=sku, quantity=n) for sku, n in lines],
        reference=reference,
        actor="kai",
    )


def test_a_transfer_is_in_transit_until_received_and_sent_once_per_note(db: Database) -> None:
    sent = dispatch_transfer(db, transfer(("WIDGET-1", 30), ("GADGET-2", 4), reference="TN-1"))
    assert sent.status is TransferStatus.IN_TRANSIT
    assert not sent.repeated
    assert on_hand(db, "WIDGET-1", "WH-BER") == (470, 0)
    assert on_hand(db, "GADGET-2", "WH-BER") == (36, 0)
    assert on_hand(db, "WIDGET-1", "WH-HAM") == (300, 0)  # not there yet
    clean(db)  # in transit is accounted for
    again = dispatch_transfer(db, transfer(("WIDGET-1", 30), ("GADGET-2", 4), reference="TN-1"))
    assert again.repeated
    assert again.id == sent.id
    assert on_hand(db, "WIDGET-1", "WH-BER") == (470, 0)

    received = receive_transfer(db, sent.id, "lena")
    assert (received.status, received.received_by) == (TransferStatus.RECEIVED, "lena")
    assert on_hand(db, "WIDGET-1", "WH-HAM") == (330, 0)
    assert on_hand(db, "GADGET-2", "WH-HAM") == (4, 0)  # a level it never had before
    with pytest.raises(StockOperationError, match=f"transfer {sent.id} was received by lena"):
        receive_transfer(db, sent.id, "lena")
    with db.reading() as session:
        rows = session.scalars(
            select(StockMovement).where(StockMovement.reference == f"transfer-{sent.id}")
        ).all()
        assert sorted((r.kind, r.warehouse_id, r.sku, r.on_hand_change) for r in rows) == [
            ("transfer_in", "WH-HAM", "GADGET-2", 4),
            ("transfer_in", "WH-HAM", "WIDGET-1", 30),
            ("transfer_out", "WH-BER", "GADGET-2", -4),
            ("transfer_out", "WH-BER", "WIDGET-1", -30),
        ]
    clean(db)


def test_a_transfer_never_sends_what_orders_hold_and_sends_all_or_nothing(db: Database) -> None:
    intake.receive_order(db, submission("HOLD-T"), run_id="test")
    stock.reserve_stock(db, "HOLD-T")
    held, reserved = on_hand(db, "WIDGET-1", "WH-BER")
    free = held - reserved
    with pytest.raises(StockOperationError) as refused:
        dispatch_transfer(db, transfer(("GADGET-2", 1), ("WIDGET-1", free + 1), ("NOPE", 1)))
    assert f"WIDGET-1: {free + 1} asked, {free} free in WH-BER" in str(refused.value)
    assert "NOPE: no such product" in str(refused.value)
    assert on_hand(db, "GADGET-2", "WH-BER") == (40, 0)  # the good line was not sent either
    assert on_hand(db, "WIDGET-1", "WH-BER") == (held, reserved)
    with pytest.raises(StockOperationError, match="a transfer goes to another warehouse"):
        dispatch_transfer(
            db,
            TransferRequest(
                from_warehouse_id="WH-BER",
                to_warehouse_id="WH-BER",
                lines=[TransferLine(sku="WIDGET-1", quantity=1)],
                actor="kai",
            ),
        )
    with pytest.raises(StockOperationError, match="each product once per transfer"):
        dispatch_transfer(db, transfer(("WIDGET-1", 1), ("WIDGET-1", 2)))
    clean(db)


def count_of(db: Database, *skus: str, threshold: str = "100.00") -> int:
    opening = StocktakeOpening(
        warehouse_id="WH-BER", skus=list(skus), approval_threshold=threshold, actor="lena"
    )
    return open_stocktake(db, opening).id


def test_a_count_corrects_for_stock_moving_while_it_is_open(db: Database) -> None:
    take = count_of(db)  # every product WH-BER keeps: GADGET-2 and WIDGET-1
    counted = record_count(db, take, {"WIDGET-1": 495, "GADGET-2": 40}, "kai")
    assert [(line.sku, line.book, line.variance) for line in counted.lines] == [
        ("GADGET-2", 40, 0),
        ("WIDGET-1", 500, -5),
    ]
    assert all(line.book is None and line.variance is None for line in counted.blind().lines)
    # after the count, before posting: an order reserves and 20 go out on a transfer
    intake.receive_order(db, submission("DURING"), run_id="test")
    stock.reserve_stock(db, "DURING")
    dispatch_transfer(db, transfer(("WIDGET-1", 20)))
    before, reserved = on_hand(db, "WIDGET-1", "WH-BER")
    assert before == 480

    posted = post_stocktake(db, take, "lena")
    assert posted.status is StocktakeStatus.POSTED
    assert on_hand(db, "WIDGET-1", "WH-BER") == (475, reserved)  # 495 found, 20 left since
    with db.reading() as session:
        rows = session.scalars(
            select(StockMovement).where(StockMovement.reference == f"stocktake-{take}")
        ).all()
        assert [(r.kind, r.sku, r.on_hand_change, r.reason, r.actor) for r in rows] == [
            ("stocktake", "WIDGET-1", -5, "stocktake", "lena")
        ]
    with pytest.raises(StockOperationError, match=f"stocktake {take} is posted"):
        record_count(db, take, {"WIDGET-1": 1}, "kai")
    clean(db)


def test_a_big_variance_waits_for_another_persons_approval(db: Database) -> None:
    take = count_of(db, "GADGET-2", threshold="200.00")  # GADGET-2 costs 137.00
    with pytest.raises(StockOperationError, match="GADGET-2: not counted"):
        post_stocktake(db, take, "lena")
    record_count(db, take, {"GADGET-2": 38}, "kai")  # -2 x 137.00 = -274.00
    with pytest.raises(StockOperationError, match=r"variance -2 worth -274.00 needs a super"):
        post_stocktake(db, take, "lena")
    with pytest.raises(StockOperationError, match="counted by kai; another person approves"):
        approve_variance(db, take, "GADGET-2", "kai")
    approved = approve_variance(db, take, "GADGET-2", "lena")
    assert approved.lines[0].approved_by == "lena"
    assert not approved.lines[0].needs_approval
    record_count(db, take, {"GADGET-2": 37}, "kai")  # a recount needs approval again
    with pytest.raises(StockOperationError, match=r"variance -3 worth -411\.00"):
        post_stocktake(db, take, "lena")
    approve_variance(db, take, "GADGET-2", "lena")
    post_stocktake(db, take, "lena")
    assert on_hand(db, "GADGET-2", "WH-BER") == (37, 0)
    clean(db)


def test_a_count_never_breaks_what_orders_hold(db: Database) -> None:
    intake.receive_order(db, submission("HOLD-C"), run_id="test")
    stock.reserve_stock(db, "HOLD-C")
    held, reserved = on_hand(db, "WIDGET-1", "WH-BER")
    take = count_of(db, "WIDGET-1", threshold="1000000")
    record_count(db, take, {"WIDGET-1": reserved - 1}, "kai")
    with pytest.raises(StockOperationError, match=f"orders hold {reserved}; recount it"):
        post_stocktake(db, take, "lena")
    assert on_hand(db, "WIDGET-1", "WH-BER") == (held, reserved)
    cancelled = cancel_stocktake(db, take, "lena")
    assert cancelled.status is StocktakeStatus.CANCELLED
    with pytest.raises(StockOperationError, match="no such product: NOPE"):
        count_of(db, "WIDGET-1", "NOPE")
    with pytest.raises(StockOperationError, match="NOPE: not on this count"):
        record_count(db, count_of(db, "WIDGET-1"), {"NOPE": 1}, "kai")
    clean(db)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_oms_transfers_and_counts_from_the_terminal(db: Database, database_url: str) -> None:
    environment = {**os.environ, "OMS_DATABASE_URL": database_url}

    def run(*args: str, actor: str = "kai") -> str:
        done = oms(*args, *(["--as", actor] if actor else []), environment=environment)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "is in transit" in run("stock", "transfer", "WH-BER", "WH-HAM", "WIDGET-1=5")
    listed = oms("stock", "transfers", "--in-transit", "--json", environment=environment)
    transfer_id = json.loads(listed.stdout)[0]["id"]
    assert "received" in run("stock", "receive-transfer", str(transfer_id))
    bad = oms("stock", "transfer", "WH-BER", "WH-HAM", "WIDGET-1:5", environment=environment)
    assert bad.returncode == 1
    assert "write each line as SKU=UNITS" in bad.stderr

    opened = json.loads(run("stocktake", "open", "WH-BER", "--sku", "WIDGET-1", "--json"))
    take = str(opened["id"])
    counted = run("stocktake", "count", take, "WIDGET-1=490")
    assert "counted 490" in counted
    assert "book" not in counted
    assert "variance -5" in run("stocktake", "show", take, "--book", actor="")
    assert "posted" in run("stocktake", "post", take)
    assert on_hand(db, "WIDGET-1", "WH-BER") == (490, 0)
    clean(db)


@pytest.fixture(params=["sqlite", "postgresql"])
def own_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of this test's own, migrated to head (it is taken down and up again)."""
    if request.param == "postgresql":
        with throwaway_postgres() as url:
            yield url
        return
    url = f"sqlite:///{tmp_path / 'counts.db'}"
    upgrade(url)
    yield url


def test_upgrading_cancels_a_count_that_overlaps_an_older_open_one(own_database_url: str) -> None:
    """Counts opened before one product could be on one open count only: the oldest stays
    open, a later one holding the same product is cancelled (and says why), the rest stay.
    A transfer in transit to a warehouse without the product's level gets one."""
    db = Database(own_database_url)
    seed_demo_catalogue(db)
    older = count_of(db, "WIDGET-1")
    elsewhere = count_of(db, "GADGET-2", "BOLT-M8")
    dispatch_transfer(
        db,
        TransferRequest(
            from_warehouse_id="WH-BER",
            to_warehouse_id="WH-HAM",
            lines=[TransferLine(sku="GADGET-2", quantity=5)],
            actor="kai",
        ),
    )
    db.dispose()
    downgrade(own_database_url, "0026")
    engine = create_engine(sync_url(own_database_url))
    with engine.begin() as connection:  # what the old code let in: a second open count
        connection.execute(  # and a transfer in transit to where the product has no level
            text("DELETE FROM stock_levels WHERE sku = 'GADGET-2' AND warehouse_id = 'WH-HAM'")
        )
        later = connection.execute(
            text(
                "INSERT INTO stocktakes (warehouse_id, status, approval_threshold, opened_by, "
                "opened_at) VALUES ('WH-BER', 'open', 100, 'kai', :now) RETURNING id"
            ),
            {"now": datetime.now(UTC).replace(tzinfo=None)},
        ).scalar_one()
        connection.execute(
            text("INSERT INTO stocktake_lines (stocktake_id, sku) VALUES (:id, 'WIDGET-1')"),
            {"id": later},
        )
    engine.dispose()
    upgrade(own_database_url)
    db = Database(own_database_url)
    try:
        assert stocktake_view(db, older).status is StocktakeStatus.OPEN
        assert stocktake_view(db, elsewhere).status is StocktakeStatus.OPEN
        cancelled = stocktake_view(db, later)
        assert cancelled.status is StocktakeStatus.CANCELLED
        assert cancelled.closed_by == f"upgrade 0027: overlaps stocktake {older}"
        with db.reading() as session:
            lines = session.scalars(
                select(StocktakeLine).order_by(StocktakeLine.stocktake_id, StocktakeLine.sku)
            )
            assert [
                (n.stocktake_id, n.sku, n.warehouse_id, n.closed_at is None) for n in lines
            ] == [
                (older, "WIDGET-1", "WH-BER", True),
                (elsewhere, "BOLT-M8", "WH-BER", True),
                (elsewhere, "GADGET-2", "WH-BER", True),
                (later, "WIDGET-1", "WH-BER", False),
            ]
        with pytest.raises(StockOperationError, match=f"open stocktake {older}"):
            count_of(db, "WIDGET-1")
        incoming = {r.warehouse_id: r.incoming for r in stock_rows(db, sku="GADGET-2")}
        assert incoming == {"WH-BER": 0, "WH-HAM": 5}
    finally:
        db.dispose()
