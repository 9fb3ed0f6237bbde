"""Activities against SQLite and PostgreSQL: effects, idempotency and atomic stock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, update
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities import (
    ArchiveActivities,
    CreditActivities,
    IntakeActivities,
    InventoryActivities,
    SettlementActivities,
    ShippingActivities,
)
from domain.credit import CreditOutcome
from domain.intake import OrderRef
from domain.inventory import INSUFFICIENT_STOCK
from domain.orders import OrderStatus
from domain.settlement import PAYMENT_DECLINED, IncomingPayment, PaymentBooking
from domain.shipping import TrackingRequest
from integrations.simulated_carrier import SimulatedCarrier
from integrations.simulated_payment import SimulatedPaymentGateway
from persistence.database import SessionFactory
from persistence.models import (
    ArchiveRecord,
    IdempotencyKey,
    Invoice,
    Order,
    OrderEventRow,
    OrderLine,
    Payment,
    Receipt,
    Reservation,
    Shipment,
    StockLevel,
    StockMovement,
)
from tests.factories import line, submission

run = ActivityEnvironment().run


async def count(sessions: SessionFactory, model: Any, *where: Any) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def stock(sessions: SessionFactory, sku: str, warehouse_id: str) -> tuple[int, int]:
    async with sessions() as session:
        level = await session.get(StockLevel, (sku, warehouse_id))
        assert level is not None
        return level.on_hand, level.reserved


async def ledger_matches_levels(sessions: SessionFactory) -> bool:
    async with sessions() as session:
        sums = {
            (sku, wh): (on_hand, reserved)
            for sku, wh, on_hand, reserved in await session.execute(
                select(
                    StockMovement.sku,
                    StockMovement.warehouse_id,
                    func.sum(StockMovement.on_hand_change),
                    func.sum(StockMovement.reserved_change),
                ).group_by(StockMovement.sku, StockMovement.warehouse_id)
            )
        }
        levels = {
            (level.sku, level.warehouse_id): (level.on_hand, level.reserved)
            for level in await session.scalars(select(StockLevel))
        }
    return sums == levels


async def receive(sessions: SessionFactory, order_id: str = "T-1", **changes: Any) -> None:
    outcome = await run(IntakeActivities(sessions).receive_order, submission(order_id, **changes))
    assert outcome.accepted, outcome.problems


async def test_valid_order_is_recorded_and_confirmed(sessions: SessionFactory) -> None:
    outcome = await run(IntakeActivities(sessions).receive_order, submission("T-1"))
    assert outcome.accepted
    assert outcome.total == Decimal("59.70")
    async with sessions() as session:
        order = await session.get(Order, "T-1")
        assert order is not None
        assert order.status == OrderStatus.CONFIRMED
        assert order.total == Decimal("59.70")
        kinds = await session.scalars(select(OrderEventRow.kind).order_by(OrderEventRow.id))
        assert list(kinds) == ["received", "confirmed"]
    assert await count(sessions, OrderLine) == 1


async def test_invalid_order_is_recorded_rejected_with_all_reasons(
    sessions: SessionFactory,
) -> None:
    bad = submission("T-2", customer_id="CUST-OLD", lines=[line("WIDGET-1", -1, "19.90")])
    outcome = await run(IntakeActivities(sessions).receive_order, bad)
    assert not outcome.accepted
    async with sessions() as session:
        order = await session.get(Order, "T-2")
        assert order is not None
        assert order.status == OrderStatus.REJECTED
        assert order.rejection_reasons == [
            "customer_id 'CUST-OLD': customer is not active",
            "lines[1].quantity -1: must be at least 1",
        ]
    assert await count(sessions, Reservation) == 0


async def test_receiving_the_same_order_twice_changes_nothing(sessions: SessionFactory) -> None:
    intake = IntakeActivities(sessions)
    first = await run(intake.receive_order, submission("T-1"))
    second = await run(intake.receive_order, submission("T-1"))
    assert first == second
    assert await count(sessions, OrderLine) == 1
    assert await count(sessions, OrderEventRow) == 2


async def test_credit_over_limit_is_held(sessions: SessionFactory) -> None:
    big = [line("PANEL-X", 5, "1290.00")]
    await receive(sessions, "T-3", customer_id="CUST-BOLT", payment_token=None, lines=big)
    async with sessions() as session, session.begin():
        await session.execute(update(Order).where(Order.id == "T-3").values(total=Decimal("25000")))
    decision = await run(CreditActivities(sessions).check_credit, OrderRef(order_id="T-3"))
    assert decision.outcome is CreditOutcome.HOLD
    async with sessions() as session:
        order = await session.get(Order, "T-3")
        assert order is not None
        assert order.status == OrderStatus.AWAITING_APPROVAL


async def test_reservation_takes_stock_with_a_ledger_entry_once(sessions: SessionFactory) -> None:
    await receive(sessions)
    inventory = InventoryActivities(sessions)
    first = await run(inventory.reserve_stock, OrderRef(order_id="T-1"))
    again = await run(inventory.reserve_stock, OrderRef(order_id="T-1"))
    assert first == again
    assert [(r.warehouse_id, r.quantity) for r in first.reservations] == [("WH-BER", 3)]
    assert await stock(sessions, "WIDGET-1", "WH-BER") == (500, 3)
    assert await count(sessions, Reservation) == 1
    assert await count(sessions, StockMovement, StockMovement.kind == "reserve") == 1
    assert await ledger_matches_levels(sessions)


async def test_shortage_is_rejected_without_reserving_anything(sessions: SessionFactory) -> None:
    await receive(sessions, lines=[line("WIDGET-1", 2, "19.90"), line("PANEL-X", 6, "1290.00")])
    with pytest.raises(ApplicationError) as caught:
        await run(InventoryActivities(sessions).reserve_stock, OrderRef(order_id="T-1"))
    assert caught.value.type == INSUFFICIENT_STOCK
    assert caught.value.non_retryable
    assert "line 2 PANEL-X: requested 6, available 5" in caught.value.message
    assert await count(sessions, Reservation) == 0
    assert await stock(sessions, "WIDGET-1", "WH-BER") == (500, 0)


async def test_two_orders_racing_for_the_last_unit_exactly_one_wins(
    sessions: SessionFactory,
) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            update(StockLevel).where(StockLevel.sku == "PANEL-X").values(on_hand=1)
        )
        session.add(
            StockMovement(
                sku="PANEL-X",
                warehouse_id="WH-HAM",
                kind="stocktake",
                on_hand_change=-4,
                reserved_change=0,
                created_at=datetime.now(UTC),
            )
        )
    panel = [line("PANEL-X", 1, "1290.00")]
    await receive(sessions, "RACE-A", lines=panel)
    await receive(sessions, "RACE-B", lines=panel)
    inventory = InventoryActivities(sessions)
    outcomes = await asyncio.gather(
        run(inventory.reserve_stock, OrderRef(order_id="RACE-A")),
        run(inventory.reserve_stock, OrderRef(order_id="RACE-B")),
        return_exceptions=True,
    )
    winners = [o for o in outcomes if not isinstance(o, BaseException)]
    losers = [o for o in outcomes if isinstance(o, ApplicationError)]
    assert len(winners) == 1
    assert len(losers) == 1
    assert await stock(sessions, "PANEL-X", "WH-HAM") == (1, 1)
    assert await count(sessions, Reservation) == 1


async def test_release_gives_the_stock_back(sessions: SessionFactory) -> None:
    await receive(sessions)
    inventory = InventoryActivities(sessions)
    await run(inventory.reserve_stock, OrderRef(order_id="T-1"))
    undone = await run(inventory.release_reservations, OrderRef(order_id="T-1"))
    await run(inventory.release_reservations, OrderRef(order_id="T-1"))
    assert undone.detail == "3 reserved unit(s) released"
    assert await stock(sessions, "WIDGET-1", "WH-BER") == (500, 0)
    assert await ledger_matches_levels(sessions)


async def test_declined_payment_is_a_business_rejection(sessions: SessionFactory) -> None:
    await receive(sessions, payment_token="tok_decline_insufficient_funds")
    settlement = SettlementActivities(sessions, SimulatedPaymentGateway())
    with pytest.raises(ApplicationError) as caught:
        await run(settlement.authorise_payment, OrderRef(order_id="T-1"))
    assert caught.value.type == PAYMENT_DECLINED
    assert await count(sessions, Payment) == 0


async def test_whole_prepaid_journey_leaves_one_of_everything(sessions: SessionFactory) -> None:
    ref = OrderRef(order_id="T-1")
    await receive(sessions)
    settlement = SettlementActivities(sessions, SimulatedPaymentGateway())
    shipping = ShippingActivities(sessions, SimulatedCarrier(step_seconds=0), poll_seconds=0.01)
    await run(CreditActivities(sessions).check_credit, ref)
    for _ in range(2):  # every step run twice: the second run must change nothing
        await run(settlement.authorise_payment, ref)
        await run(InventoryActivities(sessions).reserve_stock, ref)
        booked = await run(shipping.book_shipments, ref)
        for parcel in booked.shipments:
            await run(
                shipping.track_shipment,
                TrackingRequest(order_id="T-1", shipment_id=parcel.shipment_id),
            )
        await run(settlement.capture_payment, ref)
        invoice = await run(settlement.issue_invoice, ref)
        receipt = await run(settlement.issue_receipt, ref)
        await run(ArchiveActivities(sessions).archive_order, ref)
    assert invoice.number.startswith("INV-")
    assert receipt.invoice_number == invoice.number
    assert await count(sessions, Payment, Payment.kind == "authorisation") == 1
    assert await count(sessions, Payment, Payment.kind == "capture") == 1
    assert await count(sessions, Reservation, Reservation.status == "shipped") == 1
    assert await count(sessions, Shipment, Shipment.status == "delivered") == 1
    assert await count(sessions, Invoice, Invoice.status == "paid") == 1
    assert await count(sessions, Receipt) == 1
    assert await count(sessions, ArchiveRecord) == 1
    assert await count(sessions, IdempotencyKey, IdempotencyKey.key.startswith("T-1:")) >= 9
    assert await stock(sessions, "WIDGET-1", "WH-BER") == (497, 0)
    assert await ledger_matches_levels(sessions)
    async with sessions() as session:
        order = await session.get(Order, "T-1")
        assert order is not None
        assert order.status == OrderStatus.COMPLETED
        assert order.payment_token is None
        archive = await session.get(ArchiveRecord, "T-1")
        assert archive is not None
        assert "Erika" not in str(archive.summary)
        assert "Heidestrasse" not in str(archive.summary)


async def test_invoice_numbers_are_consecutive_per_year(sessions: SessionFactory) -> None:
    settlement = SettlementActivities(sessions, SimulatedPaymentGateway())
    for order_id in ("N-1", "N-2", "N-3"):
        await receive(sessions, order_id)
    invoices = await asyncio.gather(
        *(run(settlement.issue_invoice, OrderRef(order_id=o)) for o in ("N-1", "N-2", "N-3"))
    )
    sequences = sorted(int(invoice.number.rsplit("-", 1)[1]) for invoice in invoices)
    assert sequences == [1, 2, 3]


async def test_net_terms_payments_count_once_per_bank_id(sessions: SessionFactory) -> None:
    await receive(sessions, "NET-1", customer_id="CUST-ACME", payment_token=None)
    settlement = SettlementActivities(sessions, SimulatedPaymentGateway())
    await run(settlement.issue_invoice, OrderRef(order_id="NET-1"))
    part = IncomingPayment(payment_id="BANK-1", amount=Decimal("20.00"))
    booking = PaymentBooking(order_id="NET-1", payment=part)
    await run(settlement.record_payment, booking)
    balance = await run(settlement.record_payment, booking)
    assert balance.paid == Decimal("20.00")
    assert balance.outstanding == Decimal("39.70")
    with pytest.raises(ApplicationError):
        await run(settlement.issue_receipt, OrderRef(order_id="NET-1"))
    rest = IncomingPayment(payment_id="BANK-2", amount=Decimal("39.70"))
    balance = await run(settlement.record_payment, PaymentBooking(order_id="NET-1", payment=rest))
    assert balance.outstanding == Decimal("0")
    receipt = await run(settlement.issue_receipt, OrderRef(order_id="NET-1"))
    assert receipt.amount == Decimal("59.70")
