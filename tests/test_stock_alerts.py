"""Stock alerts (issue 16): each raised once when its condition starts, cleared when it
ends, kept as history; on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from domain.catalogue import StockPolicyRecord
from domain.inventory import StockChange, StockOperation, StockReason
from domain.stock_alerts import AlertKind, AlertRules, LevelFacts, alert_conditions
from persistence.database import Database
from persistence.models import StockAlert
from persistence.stock_views import inventory_kpis
from persistence.transactions import intake, stock
from persistence.transactions.alerts import review_alerts, stock_alerts
from persistence.transactions.catalogue import load_stock_policies
from persistence.transactions.stock import book_stock_change
from tests.factories import submission

RULES = AlertRules(slow_moving_days=60, dead_stock_days=180, overstock_cover_days=100)


def kinds(changes: list) -> set[tuple[str, str, AlertKind]]:  # type: ignore[type-arg]
    return {(a.sku, a.warehouse_id, a.kind) for a in changes}


def book(
    db: Database, operation: StockOperation, sku: str, units: int, reason: StockReason
) -> None:
    book_stock_change(
        db,
        StockChange(
            operation=operation,
            sku=sku,
            warehouse_id="WH-BER",
            quantity=units,
            reason=reason,
            actor="kai",
        ),
    )


def test_an_alert_is_raised_once_and_cleared_when_its_condition_ends(db: Database) -> None:
    load_stock_policies(
        db,
        [
            StockPolicyRecord(sku="WIDGET-1", warehouse_id="WH-BER", reorder_point=600),
            StockPolicyRecord(sku="BOLT-M8", warehouse_id="WH-HAM", reorder_point=10, maximum=900),
        ],
    )
    now = datetime.now(UTC)
    first = review_alerts(db, RULES, now)
    assert kinds(first.raised) == {
        ("WIDGET-1", "WH-BER", AlertKind.LOW_STOCK),  # 500 free <= 600
        ("BOLT-M8", "WH-HAM", AlertKind.OVERSTOCK),  # 1000 > 900
    }
    assert "500 free + 0 incoming <= reorder point 600" in first.raised[-1].detail
    again = review_alerts(db, RULES, now + timedelta(minutes=5))
    assert again.raised == []
    assert again.cleared == []

    book(db, StockOperation.RECEIPT, "WIDGET-1", 200, StockReason.SUPPLIER_DELIVERY)
    cleared = review_alerts(db, RULES, now + timedelta(minutes=10))
    assert kinds(cleared.cleared) == {("WIDGET-1", "WH-BER", AlertKind.LOW_STOCK)}
    book(db, StockOperation.ISSUE, "WIDGET-1", 700, StockReason.SCRAP)
    out = review_alerts(db, RULES, now + timedelta(minutes=15))
    assert kinds(out.raised) == {("WIDGET-1", "WH-BER", AlertKind.STOCK_OUT)}  # not also low

    history = stock_alerts(db, open_only=False, sku="WIDGET-1")
    assert [(a.kind, a.cleared_at is not None) for a in history] == [
        (AlertKind.STOCK_OUT, False),
        (AlertKind.LOW_STOCK, True),
    ]
    assert [a.kind for a in stock_alerts(db, sku="WIDGET-1")] == [AlertKind.STOCK_OUT]


def test_stock_that_stops_moving_turns_slow_then_dead(db: Database) -> None:
    now = datetime.now(UTC)
    assert review_alerts(db, RULES, now).raised == []  # no policies: nothing is low or out
    slow = review_alerts(db, RULES, now + timedelta(days=61))
    assert ("PANEL-X", "WH-HAM", AlertKind.SLOW_MOVING) in kinds(slow.raised)
    assert "no goods out since the first receipt 61 days ago" in next(
        a.detail for a in slow.raised if a.sku == "PANEL-X"
    )
    dead = review_alerts(db, RULES, now + timedelta(days=181))
    assert ("PANEL-X", "WH-HAM", AlertKind.DEAD_STOCK) in kinds(dead.raised)
    assert ("PANEL-X", "WH-HAM", AlertKind.SLOW_MOVING) in kinds(dead.cleared)


def test_two_open_alerts_of_one_kind_cannot_exist(db: Database) -> None:
    now = datetime.now(UTC)
    review_alerts(db, RULES, now + timedelta(days=61))
    with pytest.raises(IntegrityError), db.transaction() as session:
        session.add(
            StockAlert(
                sku="PANEL-X",
                warehouse_id="WH-HAM",
                kind="slow_moving",
                detail="again",
                raised_at=now,
            )
        )
    with db.reading() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(StockAlert)
                .where(StockAlert.cleared_at.is_(None), StockAlert.sku == "PANEL-X")
            )
            == 1
        )


def test_days_of_cover_count_as_overstock_only_with_a_forecast() -> None:
    facts = LevelFacts(
        sku="X", warehouse_id="W", on_hand=500, reserved=0, incoming=0, has_policy=False
    )
    now = datetime.now(UTC)
    assert alert_conditions(facts, RULES, now) == []
    slow_seller = facts.model_copy(update={"daily_demand": Decimal("2")})  # 250 days
    assert [c.kind for c in alert_conditions(slow_seller, RULES, now)] == [AlertKind.OVERSTOCK]
    fast_seller = facts.model_copy(update={"daily_demand": Decimal("10")})  # 50 days
    assert alert_conditions(fast_seller, RULES, now) == []


def test_inventory_kpis_on_a_known_period(db: Database) -> None:
    now = datetime.now(UTC)
    value_before = inventory_kpis(db, now=now).stock_value
    book(db, StockOperation.ISSUE, "WIDGET-1", 100, StockReason.SCRAP)  # 100 x 10.90 out
    intake.receive_order(db, submission("KPI-1"), run_id="test")
    stock.reserve_stock(db, "KPI-1")  # its lines come from stock: filled
    with db.transaction() as session:
        session.add(
            StockAlert(
                sku="GADGET-2",
                warehouse_id="WH-BER",
                kind="stock_out",
                detail="out",
                raised_at=now - timedelta(days=2),
                cleared_at=now - timedelta(days=1),
            )
        )
    kpis = inventory_kpis(db, now=now, period_days=90)
    assert kpis.goods_out_cost == Decimal("1090.00")
    assert kpis.stock_value == value_before - Decimal("1090.00")
    assert kpis.turnover == pytest.approx(1090 * 365 / 90 / float(kpis.stock_value))
    assert kpis.days_of_cover == pytest.approx(float(kpis.stock_value) / (1090 / 90))
    assert kpis.fill_rate == 1.0
    assert kpis.stockout_days == 1.0
    assert inventory_kpis(db, now=now, warehouse_id="WH-HAM").goods_out_cost == 0


def test_incoming_promised_to_orders_does_not_keep_stock_from_running_low() -> None:
    facts = LevelFacts(
        sku="GADGET-2",
        warehouse_id="WH-BER",
        on_hand=10,
        reserved=0,
        incoming=20,
        incoming_promised=20,
        has_policy=True,
        reorder_point=15,
    )
    [low] = alert_conditions(facts, AlertRules(), datetime.now(UTC))
    assert low.kind is AlertKind.LOW_STOCK
    assert low.detail == (
        "10 free + 0 incoming <= reorder point 15 (20 more incoming, promised to orders)"
    )
    free_incoming = facts.model_copy(update={"incoming_promised": 0})
    assert alert_conditions(free_incoming, AlertRules(), datetime.now(UTC)) == []
