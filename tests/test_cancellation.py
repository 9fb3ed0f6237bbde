"""Cancelling an order at every stage, with the real activities, on SQLite and PostgreSQL.

The workflows run on the time-skipping server; the activities are the real ones
against the business database, with the simulated partners. Where an order
would rush through a stage, a gate holds one step until the cancellation has
arrived. Afterwards the database must look as if the order had never taken
anything: stock and reservations as before, captures refunded, invoices voided
by credit note, supply orders and parcels cancelled.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from temporalio import activity
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import order_activities
from domain.intake import OrderRef
from domain.orders import CANCEL_SIGNAL, OrderStatus, OrderSubmission, StaffDecision
from domain.settlement import CAPTURE_PAYMENT
from domain.shipping import PLAN_SHIPMENTS
from integrations.simulated_carrier import SimulatedCarrier
from integrations.simulated_notifier import SimulatedNotifier
from integrations.simulated_payment import SimulatedPaymentGateway
from integrations.simulated_supply import simulated_factory, simulated_supplier
from persistence.database import Database
from persistence.invariants import check_database
from persistence.models import (
    CreditNote,
    Invoice,
    Order,
    Payment,
    Reservation,
    Shipment,
    StockLevel,
    SupplyOrder,
)
from tests.factories import line
from tests.workflow_fakes import order_worker, start, unique_order, wait_for_status

CANCEL = StaffDecision(actor="sam", reason="customer withdrew the order")
NET_ORDER = {"customer_id": "CUST-ACME", "payment_token": None}


@dataclass
class Gate:
    """Holds one activity until the test opens it; tells the test when it was reached."""

    name: str
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    opened: asyncio.Event = field(default_factory=asyncio.Event)

    def wrap(self, real: Callable[..., Any]) -> Callable[..., Any]:
        """The real activity ``real``, registered under the same name, behind the gate."""

        @activity.defn(name=self.name)
        async def gated(ref: OrderRef) -> Any:
            self.reached.set()
            await self.opened.wait()
            if inspect.iscoroutinefunction(real):
                return await real(ref)
            return await asyncio.to_thread(real, ref)  # a database step, on a thread

        return gated


@pytest.fixture
def shop(time_skipping_env: WorkflowEnvironment, db: Database) -> Callable[[Gate | None], Worker]:
    """Builds a worker with the real activities, optionally gated.

    The carrier is told to push events (which nobody sends), so parcels stay put
    and no tracking poll is left running: the time-skipping server stops skipping
    time for good when an activity of a finished workflow never reports back.
    """

    def build(gate: Gate | None = None) -> Worker:
        activities = order_activities(
            db,
            gateway=SimulatedPaymentGateway(),
            carrier=SimulatedCarrier(pushes_events=True),
            factory=simulated_factory(),
            supplier=simulated_supplier(),
            notifier=SimulatedNotifier(),
            tracking_poll_seconds=0.05,
        )
        if gate is not None:
            real = next(fn for fn in activities if fn.__name__ == gate.name)
            activities = [fn for fn in activities if fn is not real] + [gate.wrap(real)]
        worker, _ = order_worker(time_skipping_env.client, activities)
        return worker

    return build


async def stock_levels(db: Database) -> dict[tuple[str, str], tuple[int, int]]:
    with db.reading() as session:
        return {
            (level.sku, level.warehouse_id): (level.on_hand, level.reserved)
            for level in session.scalars(select(StockLevel))
        }


async def money(db: Database, order_id: str, kind: str) -> Decimal:
    with db.reading() as session:
        total = session.scalar(
            select(func.coalesce(func.sum(Payment.amount), 0)).where(
                Payment.order_id == order_id, Payment.kind == kind
            )
        )
    return Decimal(total or 0)


async def assert_fully_undone(
    db: Database,
    order_id: str,
    stock_before: dict[tuple[str, str], tuple[int, int]],
) -> None:
    """Nothing the order took is still taken, and the money is back."""
    assert await stock_levels(db) == stock_before
    assert await money(db, order_id, "capture") == await money(db, order_id, "refund")
    with db.reading() as session:
        order = session.get(Order, order_id)
        assert order is not None
        assert order.status == OrderStatus.CANCELLED
        assert order.rejection_reasons == [f"cancelled by sam: {CANCEL.reason}"]
        reservations = set(
            session.scalars(select(Reservation.status).where(Reservation.order_id == order_id))
        )
        assert reservations <= {"released"}
        supply = set(
            session.scalars(select(SupplyOrder.status).where(SupplyOrder.order_id == order_id))
        )
        assert supply <= {"cancelled"}
        parcels = set(session.scalars(select(Shipment.status).where(Shipment.order_id == order_id)))
        assert parcels <= {"cancelled"}
        for invoice in session.scalars(select(Invoice).where(Invoice.order_id == order_id)):
            assert invoice.status == "voided"
            note = session.scalar(select(CreditNote).where(CreditNote.invoice_id == invoice.id))
            assert note is not None
            assert note.amount == invoice.amount
        assert check_database(session) == []


async def test_cancel_before_credit_review(
    time_skipping_env: WorkflowEnvironment,
    db: Database,
    shop: Callable[[Gate | None], Worker],
) -> None:
    before = await stock_levels(db)
    order = unique_order()
    worker = shop(None)
    handle = await start(time_skipping_env.client, worker.task_queue, order)
    await handle.signal(CANCEL_SIGNAL, CANCEL)
    async with worker:
        result = await handle.result()
    assert result.status is OrderStatus.CANCELLED
    await assert_fully_undone(db, order.order_id, before)
    assert await money(db, order.order_id, "authorisation") == 0


async def cancel_when(
    env: WorkflowEnvironment,
    worker: Worker,
    order: OrderSubmission,
    status: OrderStatus,
) -> OrderStatus:
    async with worker:
        handle = await start(env.client, worker.task_queue, order)
        await wait_for_status(handle, status)
        await handle.signal(CANCEL_SIGNAL, CANCEL)
        return (await handle.result()).status


async def cancel_at_gate(
    env: WorkflowEnvironment,
    shop: Callable[[Gate | None], Worker],
    gate: Gate,
    order: OrderSubmission,
    check: Callable[[], Awaitable[None]] | None = None,
) -> OrderStatus:
    """Run ``order`` until ``gate`` holds its step, cancel, then let the step finish."""
    worker = shop(gate)
    async with worker:
        handle = await start(env.client, worker.task_queue, order)
        await gate.reached.wait()
        if check is not None:
            await check()
        await handle.signal(CANCEL_SIGNAL, CANCEL)
        gate.opened.set()
        return (await handle.result()).status


async def test_cancel_while_held_for_approval(
    time_skipping_env: WorkflowEnvironment,
    db: Database,
    shop: Callable[[Gate | None], Worker],
) -> None:
    before = await stock_levels(db)
    order = unique_order(customer_id="CUST-WATCH", payment_token=None)
    status = await cancel_when(time_skipping_env, shop(None), order, OrderStatus.AWAITING_APPROVAL)
    assert status is OrderStatus.CANCELLED
    await assert_fully_undone(db, order.order_id, before)


async def test_cancel_while_waiting_for_supply(
    time_skipping_env: WorkflowEnvironment,
    db: Database,
    shop: Callable[[Gate | None], Worker],
) -> None:
    before = await stock_levels(db)
    order = unique_order(lines=[line("PANEL-X", 7, "1290.00")], **NET_ORDER)
    worker = shop(None)
    async with worker:
        handle = await start(time_skipping_env.client, worker.task_queue, order)
        await wait_for_status(handle, OrderStatus.AWAITING_SUPPLY)
        for _ in range(100):
            with db.reading() as session:
                if session.scalar(select(func.count()).select_from(SupplyOrder)):
                    break
            await asyncio.sleep(0.05)
        await handle.signal(CANCEL_SIGNAL, CANCEL)
        result = await handle.result()
    assert result.status is OrderStatus.CANCELLED
    await assert_fully_undone(db, order.order_id, before)
    with db.reading() as session:
        supply = session.scalar(select(SupplyOrder))
        assert supply is not None
        assert supply.status == "cancelled"


async def test_cancel_after_reservation(
    time_skipping_env: WorkflowEnvironment,
    db: Database,
    shop: Callable[[Gate | None], Worker],
) -> None:
    before = await stock_levels(db)
    order = unique_order()

    async def reserved() -> None:
        assert (await stock_levels(db))[("WIDGET-1", "WH-BER")] == (500, 3)

    status = await cancel_at_gate(time_skipping_env, shop, Gate(PLAN_SHIPMENTS), order, reserved)
    assert status is OrderStatus.CANCELLED
    await assert_fully_undone(db, order.order_id, before)
    assert await money(db, order.order_id, "void") == Decimal("59.70")


async def test_cancel_after_shipment_booking(
    time_skipping_env: WorkflowEnvironment,
    db: Database,
    shop: Callable[[Gate | None], Worker],
) -> None:
    before = await stock_levels(db)
    order = unique_order()
    status = await cancel_at_gate(time_skipping_env, shop, Gate(CAPTURE_PAYMENT), order)
    assert status is OrderStatus.CANCELLED
    await assert_fully_undone(db, order.order_id, before)
    assert await money(db, order.order_id, "refund") == Decimal("59.70")
    with db.reading() as session:
        parcel = session.scalar(select(Shipment))
        assert parcel is not None
        assert (parcel.status, parcel.tracking_number[:6]) == ("cancelled", "SIMTRK")


async def test_cancel_after_invoicing(
    time_skipping_env: WorkflowEnvironment,
    db: Database,
    shop: Callable[[Gate | None], Worker],
) -> None:
    before = await stock_levels(db)
    order = unique_order(**NET_ORDER)
    status = await cancel_when(time_skipping_env, shop(None), order, OrderStatus.INVOICED)
    assert status is OrderStatus.CANCELLED
    await assert_fully_undone(db, order.order_id, before)
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(CreditNote)) == 1
