"""Activities against SQLite and PostgreSQL: effects, idempotency and atomic stock."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory
from temporalio.testing import ActivityEnvironment

from activities import (
    ArchiveActivities,
    CreditActivities,
    IntakeActivities,
    InventoryActivities,
    NotificationActivities,
    SettlementActivities,
    ShippingActivities,
    SupplyActivities,
)
from domain.compensation import UndoRequest
from domain.credit import CreditOutcome
from domain.intake import OrderRef, RefusedSubmission, StatusChange
from domain.inventory import INSUFFICIENT_STOCK, MovementKind
from domain.notifications import Audience, Notification
from domain.orders import EventKind, OrderStatus, ShippingAddress
from domain.settlement import PAYMENT_DECLINED, IncomingPayment, PaymentBooking
from domain.shipping import Milestone, MilestoneRecord, ShipmentRef, TrackingEvent, TrackingPoll
from domain.supply import SupplyArrival, SupplyKind, SupplyReceipt, SupplyRequest
from integrations.simulated_carrier import SimulatedCarrier
from integrations.simulated_notifier import SimulatedNotifier
from integrations.simulated_payment import SimulatedPaymentGateway
from integrations.simulated_supply import simulated_factory, simulated_supplier
from persistence.database import Database
from persistence.invariants import check_database, stock_conservation
from persistence.models import (
    ArchiveRecord,
    CreditNote,
    Customer,
    IdempotencyKey,
    Invoice,
    NotificationRow,
    Order,
    OrderEventRow,
    OrderLine,
    Payment,
    Receipt,
    Reservation,
    Shipment,
    StockLevel,
    StockMovement,
    SupplyOrder,
)
from persistence.order_views import load_order_view
from persistence.transactions.parcels import PICKED_UP_ALREADY
from persistence.transactions.records import write_event
from persistence.transactions.stock import change_stock
from tests.activity_runs import run, run_in
from tests.factories import line, submission


async def count(db: Database, model: Any, *where: Any) -> int:
    with db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def stock(db: Database, sku: str, warehouse_id: str) -> tuple[int, int]:
    with db.reading() as session:
        level = session.get(StockLevel, (sku, warehouse_id))
        assert level is not None
        return level.on_hand, level.reserved


async def ledger_matches_levels(db: Database) -> bool:
    """Every stock level equals the sums of its ledger (``oms check``'s own check)."""
    with db.reading() as session:
        violations = stock_conservation(session)
    return not [v for v in violations if v.invariant == "stock level equals its ledger"]


async def receive(db: Database, order_id: str = "T-1", **changes: Any) -> None:
    outcome = await run(IntakeActivities(db).receive_order, submission(order_id, **changes))
    assert outcome.accepted, outcome.problems


async def test_valid_order_is_recorded_and_confirmed(db: Database) -> None:
    outcome = await run(IntakeActivities(db).receive_order, submission("T-1"))
    assert outcome.accepted
    assert outcome.total == Decimal("59.70")
    with db.reading() as session:
        order = session.get(Order, "T-1")
        assert order is not None
        assert order.status == OrderStatus.CONFIRMED
        assert order.total == Decimal("59.70")
        kinds = session.scalars(select(OrderEventRow.kind).order_by(OrderEventRow.id))
        assert list(kinds) == ["received", "confirmed"]
    assert await count(db, OrderLine) == 1


async def test_invalid_order_is_recorded_rejected_with_all_reasons(
    db: Database,
) -> None:
    bad = submission("T-2", customer_id="CUST-OLD", lines=[line("WIDGET-1", -1, "19.90")])
    outcome = await run(IntakeActivities(db).receive_order, bad)
    assert not outcome.accepted
    with db.reading() as session:
        order = session.get(Order, "T-2")
        assert order is not None
        assert order.status == OrderStatus.REJECTED
        assert order.rejection_reasons == [
            "customer_id 'CUST-OLD': customer is not active",
            "lines[1].quantity -1: must be at least 1",
        ]
    assert await count(db, Reservation) == 0


async def test_receiving_the_same_order_twice_changes_nothing(db: Database) -> None:
    intake = IntakeActivities(db)
    first = await run(intake.receive_order, submission("T-1"))
    second = await run(intake.receive_order, submission("T-1"))
    assert first == second
    assert await count(db, OrderLine) == 1
    assert await count(db, OrderEventRow) == 2


def in_run(run_id: str) -> ActivityEnvironment:
    """An activity environment that runs activities for workflow run ``run_id``."""
    environment = ActivityEnvironment()
    environment.info = dataclasses.replace(environment.info, workflow_run_id=run_id)
    return environment


async def test_a_second_run_of_a_finished_order_changes_nothing(db: Database) -> None:
    intake = IntakeActivities(db)
    first = await run_in(in_run("run-1"), intake.receive_order, submission("T-1"))
    assert first.accepted
    assert first.earlier_status is None
    retried = await run_in(in_run("run-1"), intake.receive_order, submission("T-1"))
    assert retried == first, "the same run retrying its step gets its own answer"
    events = await count(db, OrderEventRow)
    second = await run_in(in_run("run-2"), intake.receive_order, submission("T-1", currency="USD"))
    refused = await run_in(
        in_run("run-3"),
        intake.record_refused_submission,
        RefusedSubmission(order_id="T-1", problems=["x"]),
    )
    assert not second.accepted
    assert second.earlier_status is OrderStatus.CONFIRMED
    assert refused.earlier_status is OrderStatus.CONFIRMED
    assert await count(db, OrderEventRow) == events
    assert await count(db, OrderLine) == 1


async def test_a_run_after_a_refused_document_finds_the_order_taken(
    db: Database,
) -> None:
    intake = IntakeActivities(db)
    refused = RefusedSubmission(order_id="T-1", problems=["channel: Field required"])
    await run_in(in_run("run-1"), intake.record_refused_submission, refused)
    events = await count(db, OrderEventRow)
    again = await run_in(in_run("run-2"), intake.receive_order, submission("T-1"))
    assert again.earlier_status is OrderStatus.REJECTED
    assert await count(db, OrderEventRow) == events
    assert await count(db, OrderLine) == 0


async def test_a_refused_document_is_recorded_rejected_without_personal_data(
    db: Database,
) -> None:
    problems = ["channel: Field required", "lines.0.quantity: Input should be a valid integer"]
    refused = RefusedSubmission(order_id="RAW-1", problems=problems)
    outcome = await run(IntakeActivities(db).record_refused_submission, refused)
    again = await run(IntakeActivities(db).record_refused_submission, refused)
    assert outcome == again
    assert outcome.problems == problems
    with db.reading() as session:
        order = session.get(Order, "RAW-1")
        assert order is not None
        assert order.status == OrderStatus.REJECTED
        assert order.rejection_reasons == problems
        assert order.ship_to_name == ""
        kinds = session.scalars(select(OrderEventRow.kind).order_by(OrderEventRow.id))
        assert list(kinds) == ["received", "rejected"]


async def test_an_order_shows_the_highest_escalation_any_of_its_waits_reached(
    db: Database,
) -> None:
    intake = IntakeActivities(db)
    await run(intake.receive_order, submission("T-1"))
    for level in (2, 1):  # the parcel's wait reached 2; then the order's own reached 1
        change = StatusChange(
            order_id="T-1",
            event=EventKind.ESCALATED,
            detail=f"level {level}",
            escalation_level=level,
        )
        await run(intake.record_order_status, change)
    with db.reading() as session:
        order = session.get(Order, "T-1")
        assert order is not None
        assert order.escalation_level == 2


async def test_an_order_value_that_is_no_column_is_refused_not_dropped(
    db: Database,
) -> None:
    await run(IntakeActivities(db).receive_order, submission("T-1"))
    with pytest.raises(ValueError, match="orders has no column"), db.transaction() as session:
        write_event(session, "T-1", EventKind.ESCALATED, escalation_levle=3)
    assert await count(db, OrderEventRow) == 2  # the event was rolled back with it


async def test_credit_over_limit_is_held(db: Database) -> None:
    big = [line("PANEL-X", 5, "1290.00")]
    await receive(db, "T-3", customer_id="CUST-BOLT", payment_token=None, lines=big)
    with db.transaction() as session:
        session.execute(update(Order).where(Order.id == "T-3").values(total=Decimal("25000")))
    decision = await run(CreditActivities(db).check_credit, OrderRef(order_id="T-3"))
    assert decision.outcome is CreditOutcome.HOLD
    with db.reading() as session:
        order = session.get(Order, "T-3")
        assert order is not None
        assert order.status == OrderStatus.AWAITING_APPROVAL


async def test_reservation_takes_stock_with_a_ledger_entry_once(db: Database) -> None:
    await receive(db)
    inventory = InventoryActivities(db)
    first = await run(inventory.reserve_stock, OrderRef(order_id="T-1"))
    again = await run(inventory.reserve_stock, OrderRef(order_id="T-1"))
    assert first == again
    assert [(r.warehouse_id, r.quantity) for r in first.reservations] == [("WH-BER", 3)]
    assert await stock(db, "WIDGET-1", "WH-BER") == (500, 3)
    assert await count(db, Reservation) == 1
    assert await count(db, StockMovement, StockMovement.kind == "reserve") == 1
    assert await ledger_matches_levels(db)


async def test_shortage_of_a_stock_only_product_reserves_nothing(
    db: Database,
) -> None:
    await receive(db, lines=[line("PANEL-X", 2, "1290.00"), line("WIDGET-1", 900, "19.90")])
    with pytest.raises(ApplicationError) as caught:
        await run(InventoryActivities(db).reserve_stock, OrderRef(order_id="T-1"))
    assert caught.value.type == INSUFFICIENT_STOCK
    assert caught.value.non_retryable
    assert "line 2 WIDGET-1: requested 900, available 800" in caught.value.message
    assert await count(db, Reservation) == 0
    assert await stock(db, "PANEL-X", "WH-HAM") == (5, 0)


async def test_shortage_of_a_made_product_is_backordered_and_supplied(
    db: Database,
) -> None:
    await receive(db, lines=[line("PANEL-X", 7, "1290.00")])
    reservation = await run(InventoryActivities(db).reserve_stock, OrderRef(order_id="T-1"))
    assert [(b.line_no, b.sku, b.quantity) for b in reservation.backorders] == [(1, "PANEL-X", 2)]
    supply = SupplyActivities(db, factory=simulated_factory(), supplier=simulated_supplier())
    request = SupplyRequest(order_id="T-1", line_no=1, sku="PANEL-X", quantity=2)
    placed = await run(supply.place_supply_order, request)
    assert placed == await run(supply.place_supply_order, request)
    assert (placed.kind, placed.warehouse_id) == (SupplyKind.PRODUCTION, "WH-HAM")
    for note in ("DN-1", "DN-1", "DN-2"):
        arrival = SupplyArrival(
            supply_order_id=placed.supply_order_id,
            order_id="T-1",
            line_no=1,
            receipt=SupplyReceipt(receipt_id=note, quantity=1),
        )
        balance = await run(supply.receive_supply, arrival)
    assert (balance.received, balance.outstanding) == (2, 0)
    assert await stock(db, "PANEL-X", "WH-HAM") == (7, 7)
    with db.reading() as session:
        row = session.get(SupplyOrder, placed.supply_order_id)
        assert row is not None
        assert (row.status, row.received_quantity) == ("received", 2)
        quantities = session.scalars(select(Reservation.quantity))
        assert list(quantities) == [7]
    undone = await run(supply.cancel_supply_order, request)
    assert undone.detail == f"supply order {placed.supply_order_id} is received"
    assert await ledger_matches_levels(db)


async def test_supply_can_arrive_where_the_product_was_never_kept(
    db: Database,
) -> None:
    await receive(db, customer_id="CUST-ACME", payment_token=None)
    supply = SupplyActivities(db, factory=simulated_factory(), supplier=simulated_supplier())
    request = SupplyRequest(order_id="T-1", line_no=2, sku="PANEL-X", quantity=3)
    placed = await run(supply.place_supply_order, request)
    assert placed.warehouse_id == "WH-BER"
    receipt = SupplyReceipt(receipt_id="DN-1", quantity=3)
    arrival = SupplyArrival(
        supply_order_id=placed.supply_order_id, order_id="T-1", line_no=2, receipt=receipt
    )
    await run(supply.receive_supply, arrival)
    assert await stock(db, "PANEL-X", "WH-BER") == (3, 3)
    assert await ledger_matches_levels(db)


async def test_cancelled_supply_order_is_cancelled_once_with_the_partner(
    db: Database,
) -> None:
    await receive(db, lines=[line("GADGET-2", 50, "249.00")])
    await run(InventoryActivities(db).reserve_stock, OrderRef(order_id="T-1"))
    supply = SupplyActivities(db, factory=simulated_factory(), supplier=simulated_supplier())
    request = SupplyRequest(order_id="T-1", line_no=1, sku="GADGET-2", quantity=10)
    placed = await run(supply.place_supply_order, request)
    assert (placed.kind, placed.partner) == (SupplyKind.PURCHASE, "simulated-supplier")
    first = await run(supply.cancel_supply_order, request)
    again = await run(supply.cancel_supply_order, request)
    assert first.detail.startswith(f"purchase order {placed.supply_order_id} cancelled")
    assert again.detail == f"supply order {placed.supply_order_id} is cancelled"
    assert await count(db, OrderEventRow, OrderEventRow.kind == "supply_cancelled") == 1


async def test_two_orders_racing_for_the_last_unit_exactly_one_wins(
    db: Database,
) -> None:
    with db.transaction() as session:
        for warehouse_id, on_hand, change in (("WH-BER", 1, -499), ("WH-HAM", 0, -300)):
            session.execute(
                update(StockLevel)
                .where(StockLevel.sku == "WIDGET-1", StockLevel.warehouse_id == warehouse_id)
                .values(on_hand=on_hand)
            )
            session.add(
                StockMovement(
                    sku="WIDGET-1",
                    warehouse_id=warehouse_id,
                    kind="stocktake",
                    on_hand_change=change,
                    reserved_change=0,
                    created_at=datetime.now(UTC),
                )
            )
    widget = [line("WIDGET-1", 1, "19.90")]
    await receive(db, "RACE-A", lines=widget)
    await receive(db, "RACE-B", lines=widget)
    inventory = InventoryActivities(db)
    outcomes = await asyncio.gather(
        run(inventory.reserve_stock, OrderRef(order_id="RACE-A")),
        run(inventory.reserve_stock, OrderRef(order_id="RACE-B")),
        return_exceptions=True,
    )
    winners = [o for o in outcomes if not isinstance(o, BaseException)]
    losers = [o for o in outcomes if isinstance(o, ApplicationError)]
    assert len(winners) == 1
    assert len(losers) == 1
    assert await stock(db, "WIDGET-1", "WH-BER") == (1, 1)
    assert await count(db, Reservation) == 1


async def test_release_gives_the_stock_back(db: Database) -> None:
    await receive(db)
    inventory = InventoryActivities(db)
    await run(inventory.reserve_stock, OrderRef(order_id="T-1"))
    undo = UndoRequest(order_id="T-1", reason="test")
    undone = await run(inventory.release_reservations, undo)
    await run(inventory.release_reservations, undo)
    assert undone.detail == "3 reserved unit(s) released"
    assert await stock(db, "WIDGET-1", "WH-BER") == (500, 0)
    assert await ledger_matches_levels(db)


async def test_declined_payment_is_a_business_rejection(db: Database) -> None:
    await receive(db, payment_token="tok_decline_insufficient_funds")
    settlement = SettlementActivities(db, SimulatedPaymentGateway())
    with pytest.raises(ApplicationError) as caught:
        await run(settlement.authorise_payment, OrderRef(order_id="T-1"))
    assert caught.value.type == PAYMENT_DECLINED
    assert caught.value.category is ApplicationErrorCategory.BENIGN, "no warning in the logs"
    assert "tok_decline" not in caught.value.message
    assert caught.value.message.startswith("payment declined: payment token '[redacted]'")
    assert caught.value.__cause__ is None, "the provider's own text travels nowhere"
    assert await count(db, Payment) == 0


async def test_a_finished_order_keeps_no_payment_token_and_shows_its_void(
    db: Database,
) -> None:
    await receive(db)
    settlement = SettlementActivities(db, SimulatedPaymentGateway())
    await run(settlement.authorise_payment, OrderRef(order_id="T-1"))
    undo = UndoRequest(order_id="T-1", reason="cancelled by sam: customer changed mind")
    await run(settlement.void_authorisation, undo)
    change = StatusChange(
        order_id="T-1",
        event=EventKind.CANCELLED,
        detail=undo.reason,
        status=OrderStatus.CANCELLED,
        step="final_status",
    )
    await run(IntakeActivities(db).record_order_status, change)
    with db.reading() as session:
        order = session.get(Order, "T-1")
        assert order is not None
        assert order.payment_token is None
        view = load_order_view(session, "T-1")
    assert view is not None
    assert view.money.authorised == view.money.voided == Decimal("59.70")


async def test_whole_prepaid_journey_leaves_one_of_everything(db: Database) -> None:
    ref = OrderRef(order_id="T-1")
    await receive(db)
    settlement = SettlementActivities(db, SimulatedPaymentGateway())
    shipping = ShippingActivities(db, SimulatedCarrier(step_seconds=0), poll_seconds=0.01)
    await run(CreditActivities(db).check_credit, ref)
    for _ in range(2):  # every step run twice: the second run must change nothing
        await run(settlement.authorise_payment, ref)
        await run(InventoryActivities(db).reserve_stock, ref)
        planned = await run(shipping.plan_shipments, ref)
        for parcel in planned.shipments:
            await follow_to_delivery(shipping, parcel.shipment_id)
        await run(settlement.capture_payment, ref)
        invoice = await run(settlement.issue_invoice, ref)
        receipt = await run(settlement.issue_receipt, ref)
        await run(ArchiveActivities(db).archive_order, ref)
    assert invoice.number.startswith("INV-")
    assert receipt.invoice_number == invoice.number
    assert await count(db, Payment, Payment.kind == "authorisation") == 1
    assert await count(db, Payment, Payment.kind == "capture") == 1
    assert await count(db, Reservation, Reservation.status == "shipped") == 1
    assert await count(db, Shipment, Shipment.status == "delivered") == 1
    assert await count(db, Invoice, Invoice.status == "paid") == 1
    assert await count(db, Receipt) == 1
    assert await count(db, ArchiveRecord) == 1
    assert await count(db, IdempotencyKey, IdempotencyKey.key.startswith("T-1:")) >= 9
    assert await stock(db, "WIDGET-1", "WH-BER") == (497, 0)
    assert await ledger_matches_levels(db)
    with db.reading() as session:
        order = session.get(Order, "T-1")
        assert order is not None
        assert order.status == OrderStatus.COMPLETED
        assert order.payment_token is None
        archive = session.get(ArchiveRecord, "T-1")
        assert archive is not None
        assert "Erika" not in str(archive.summary)
        assert "Heidestrasse" not in str(archive.summary)


async def follow_to_delivery(shipping: ShippingActivities, parcel: str) -> None:
    """Book, poll and record every milestone, as the shipment workflow does."""
    booking = await run(shipping.book_shipment, ShipmentRef(order_id="T-1", shipment_id=parcel))
    poll = TrackingPoll(order_id="T-1", shipment_id=parcel, tracking_number=booking.tracking_number)
    news = await run(shipping.poll_tracking, poll)
    assert [event.milestone for event in news.events] == [
        Milestone.PICKED_UP,
        Milestone.IN_TRANSIT,
        Milestone.DELIVERED,
    ]
    for event in news.events:
        record = MilestoneRecord(order_id="T-1", shipment_id=parcel, event=event)
        await run(shipping.record_milestone, record)


async def test_parcel_can_be_cancelled_until_it_is_picked_up(db: Database) -> None:
    ref = OrderRef(order_id="T-1")
    await receive(db)
    await run(InventoryActivities(db).reserve_stock, ref)
    shipping = ShippingActivities(db, SimulatedCarrier(step_seconds=3600), poll_seconds=0.01)
    planned = await run(shipping.plan_shipments, ref)
    parcel = ShipmentRef(order_id="T-1", shipment_id=planned.shipments[0].shipment_id)
    await run(shipping.book_shipment, parcel)
    undo = UndoRequest(order_id="T-1", reason="test")
    undone = await run(shipping.cancel_shipments, undo)
    assert undone.detail.startswith(f"parcel {parcel.shipment_id} cancelled (SIMCXL-")
    assert (await run(shipping.cancel_shipments, undo)).detail == "no parcel to cancel"

    await receive(db, "T-2")
    await run(InventoryActivities(db).reserve_stock, OrderRef(order_id="T-2"))
    second = (await run(shipping.plan_shipments, OrderRef(order_id="T-2"))).shipments[0]
    moved = ShipmentRef(order_id="T-2", shipment_id=second.shipment_id)
    await run(shipping.book_shipment, moved)
    picked_up = TrackingEvent(milestone=Milestone.PICKED_UP, at=datetime.now(UTC))
    await run(
        shipping.record_milestone,
        MilestoneRecord(order_id="T-2", shipment_id=second.shipment_id, event=picked_up),
    )
    with pytest.raises(ApplicationError) as caught:
        await run(shipping.cancel_shipments, UndoRequest(order_id="T-2", reason="test"))
    assert caught.value.type == PICKED_UP_ALREADY
    assert await stock(db, "WIDGET-1", "WH-BER") == (497, 3)
    assert await ledger_matches_levels(db)


async def test_cancellation_refunds_the_capture_and_voids_the_invoice_by_credit_note(
    db: Database,
) -> None:
    ref = OrderRef(order_id="T-1")
    undo = UndoRequest(order_id="T-1", reason="cancelled by sam: customer changed mind")
    await receive(db)
    settlement = SettlementActivities(db, SimulatedPaymentGateway())
    await run(settlement.authorise_payment, ref)
    await run(settlement.capture_payment, ref)
    invoice = await run(settlement.issue_invoice, ref)
    for _ in range(2):
        refunded = await run(settlement.refund_payment, undo)
        voided = await run(settlement.void_invoice, undo)
        await run(settlement.void_authorisation, undo)
    assert refunded.detail == "refunded 59.70 EUR already"
    assert voided.detail.startswith(f"invoice {invoice.number} voided by credit note CN-")
    assert await count(db, Payment, Payment.kind == "refund") == 1
    assert await count(db, Payment, Payment.kind == "void") == 0
    with db.reading() as session:
        note = session.scalar(select(CreditNote))
        assert note is not None
        assert (note.amount, note.reason) == (Decimal("59.70"), undo.reason)
        assert note.number.endswith("-000001")
        stored = session.scalar(select(Invoice))
        assert stored is not None
        assert stored.status == "voided"


async def test_a_notification_is_sent_and_kept_once_per_key(db: Database) -> None:
    notifications = NotificationActivities(db, SimulatedNotifier())
    message = Notification(
        order_id="T-1", key="approval:rung1", audience=Audience.ASSIGNEE, subject="s", message="m"
    )
    first = await run(notifications.notify, message)
    assert first == await run(notifications.notify, message)
    assert await count(db, NotificationRow) == 1


async def test_invoice_numbers_are_consecutive_per_year(db: Database) -> None:
    settlement = SettlementActivities(db, SimulatedPaymentGateway())
    for order_id in ("N-1", "N-2", "N-3"):
        await receive(db, order_id)
    invoices = await asyncio.gather(
        *(run(settlement.issue_invoice, OrderRef(order_id=o)) for o in ("N-1", "N-2", "N-3"))
    )
    sequences = sorted(int(invoice.number.rsplit("-", 1)[1]) for invoice in invoices)
    assert sequences == [1, 2, 3]


async def test_net_terms_payments_count_once_per_bank_id(db: Database) -> None:
    await receive(db, "NET-1", customer_id="CUST-ACME", payment_token=None)
    settlement = SettlementActivities(db, SimulatedPaymentGateway())
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


async def test_personal_data_is_encrypted_at_rest_and_reads_back(db: Database) -> None:
    address = ShippingAddress(
        name="Zacharias Quellbrunn",
        street="Mühlgasse 9",
        postal_code="99423",
        city="Weimar",
        country="DE",
    )
    await receive(db, "PII-1", shipping_address=address, payment_token="tok_visa_quell")
    with db.reading() as session:
        raw_orders = (session.execute(text("SELECT * FROM orders"))).all()
        raw_customers = (session.execute(text("SELECT * FROM customers"))).all()
        stored = " ".join(str(value) for row in [*raw_orders, *raw_customers] for value in row)
        for secret in ("Quellbrunn", "Mühlgasse", "Weimar", "tok_visa_quell", "Acme Retail"):
            assert secret not in stored
        assert "enc:v1:test:" in stored
        order = session.get(Order, "PII-1")
        assert order is not None
        assert (order.ship_to_name, order.ship_to_city) == ("Zacharias Quellbrunn", "Weimar")
        customer = session.get(Customer, "CUST-JANE")
        assert customer is not None
        assert customer.email == "jane@example.org"


async def test_invariant_checks_find_what_is_broken(db: Database) -> None:
    ref = OrderRef(order_id="T-1")
    await receive(db)
    await run(InventoryActivities(db).reserve_stock, ref)
    with db.reading() as session:
        assert check_database(session) == []
    with db.transaction() as session:
        session.execute(
            update(StockLevel)
            .where(StockLevel.sku == "GADGET-2", StockLevel.warehouse_id == "WH-BER")
            .values(on_hand=41)
        )
        session.execute(
            update(Order).where(Order.id == "T-1").values(status=OrderStatus.CANCELLED.value)
        )
    with db.reading() as session:
        found = {(v.invariant, v.subject) for v in check_database(session)}
    assert found == {
        ("stock level equals its ledger", "GADGET-2@WH-BER"),
        ("nothing left open for a finished order", "order T-1"),
    }


async def test_invariant_checks_find_an_effect_applied_twice(db: Database) -> None:
    ref = OrderRef(order_id="T-1")
    await receive(db)
    [reserved] = (await run(InventoryActivities(db).reserve_stock, ref)).reservations
    await run(SettlementActivities(db, SimulatedPaymentGateway()).authorise_payment, ref)
    with db.transaction() as session:
        # The reservation taken a second time, level and ledger kept consistent...
        change_stock(
            session,
            sku=reserved.sku,
            warehouse_id=reserved.warehouse_id,
            kind=MovementKind.RESERVE,
            reserved_change=reserved.quantity,
            order_id="T-1",
        )
        session.execute(
            update(Reservation)
            .where(Reservation.order_id == "T-1")
            .values(quantity=Reservation.quantity + reserved.quantity)
        )
        # ...and the authorisation recorded twice under a second key.
        [authorisation] = session.scalars(select(Payment).where(Payment.order_id == "T-1"))
        session.add(
            Payment(
                order_id="T-1",
                kind=authorisation.kind,
                amount=authorisation.amount,
                currency=authorisation.currency,
                reference=authorisation.reference,
                idempotency_key=authorisation.idempotency_key + ":again",
                created_at=authorisation.created_at,
            )
        )
    with db.reading() as session:
        found = {(v.subject, v.detail) for v in check_database(session)}
    assert found == {
        ("order T-1 line 1", f"{2 * reserved.quantity} unit(s) reserved for 3 ordered"),
        ("order T-1", "2 authorisation payments"),
    }
