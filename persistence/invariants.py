"""Invariants of the business database, for operators (``oms check``) and tests.

Each check returns the violations it finds; an empty list means the invariant holds.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.complaints import ComplaintStatus
from domain.inventory import MovementKind, ReservationStatus, TransferStatus
from domain.orders import FINAL_STATUSES
from domain.settlement import InvoiceStatus, PaymentKind
from domain.shipping import ShipmentStatus
from domain.supply import SupplyStatus
from persistence.models import (
    ComplaintRow,
    CreditNote,
    Invoice,
    Order,
    OrderLine,
    Payment,
    Reservation,
    Shipment,
    StockLevel,
    StockMovement,
    StockTransfer,
    StockTransferLine,
    SupplyOrder,
)

FINAL = [status.value for status in FINAL_STATUSES]


class Violation(BaseModel):
    """One broken invariant, named so an operator can find the rows."""

    invariant: str
    subject: str
    """The stock level, order or row concerned."""
    detail: str


def stock_conservation(session: Session) -> list[Violation]:
    """Levels equal the sums of their ledger, and reserved equals the active reservations."""
    ledger = {
        (sku, warehouse): (int(on_hand), int(reserved))
        for sku, warehouse, on_hand, reserved in session.execute(
            select(
                StockMovement.sku,
                StockMovement.warehouse_id,
                func.sum(StockMovement.on_hand_change),
                func.sum(StockMovement.reserved_change),
            ).group_by(StockMovement.sku, StockMovement.warehouse_id)
        )
    }
    promised = {
        (sku, warehouse): int(quantity)
        for sku, warehouse, quantity in session.execute(
            select(Reservation.sku, Reservation.warehouse_id, func.sum(Reservation.quantity))
            .where(Reservation.status == ReservationStatus.ACTIVE.value)
            .group_by(Reservation.sku, Reservation.warehouse_id)
        )
    }
    violations = []
    for level in session.scalars(select(StockLevel)):
        where = f"{level.sku}@{level.warehouse_id}"
        booked = ledger.get((level.sku, level.warehouse_id), (0, 0))
        if (level.on_hand, level.reserved) != booked:
            violations.append(
                Violation(
                    invariant="stock level equals its ledger",
                    subject=where,
                    detail=f"level on hand/reserved {level.on_hand}/{level.reserved}, "
                    f"ledger {booked[0]}/{booked[1]}",
                )
            )
        active = promised.get((level.sku, level.warehouse_id), 0)
        if level.reserved != active:
            violations.append(
                Violation(
                    invariant="reserved stock equals active reservations",
                    subject=where,
                    detail=f"level reserves {level.reserved}, active reservations {active}",
                )
            )
    return violations


def money_conservation(session: Session) -> list[Violation]:
    """For every finished order: money kept (in - refunded) equals invoiced - credit-noted."""
    kept: dict[str, Decimal] = defaultdict(Decimal)
    for order_id, kind, amount in session.execute(
        select(Payment.order_id, Payment.kind, func.sum(Payment.amount))
        .join(Order, Order.id == Payment.order_id)
        .where(Order.status.in_(FINAL))
        .group_by(Payment.order_id, Payment.kind)
    ):
        if kind in (PaymentKind.CAPTURE.value, PaymentKind.INCOMING.value):
            kept[order_id] += Decimal(amount)
        elif kind == PaymentKind.REFUND.value:
            kept[order_id] -= Decimal(amount)
    billed: dict[str, Decimal] = defaultdict(Decimal)
    for order_id, amount in session.execute(
        select(Invoice.order_id, Invoice.amount)
        .join(Order, Order.id == Invoice.order_id)
        .where(Order.status.in_(FINAL))
    ):
        billed[order_id] += Decimal(amount)
    for order_id, amount in session.execute(
        select(CreditNote.order_id, CreditNote.amount)
        .join(Order, Order.id == CreditNote.order_id)
        .where(Order.status.in_(FINAL))
    ):
        billed[order_id] -= Decimal(amount)
    return [
        Violation(
            invariant="money kept equals money billed",
            subject=f"order {order_id}",
            detail=f"kept {kept[order_id]}, billed {billed[order_id]}",
        )
        for order_id in sorted(set(kept) | set(billed))
        if kept[order_id] != billed[order_id]
    ]


def nothing_open_for_finished_orders(session: Session) -> list[Violation]:
    """A finished order holds no active reservation, open supply order, parcel or open invoice."""
    checks = [
        (Reservation, Reservation.status == ReservationStatus.ACTIVE.value, "active reservation"),
        (SupplyOrder, SupplyOrder.status == SupplyStatus.OPEN.value, "open supply order"),
        (
            Shipment,
            Shipment.status.in_([ShipmentStatus.PLANNED.value, ShipmentStatus.BOOKED.value])
            # A replacement a complaint sends after the order ended is the case's to follow.
            & Shipment.complaint_id.is_(None),
            "parcel not yet picked up",
        ),
        (Invoice, Invoice.status == InvoiceStatus.OPEN.value, "open invoice"),
    ]
    violations = []
    for model, condition, what in checks:
        rows = session.execute(
            select(Order.id, Order.status, func.count())
            .join(model, model.order_id == Order.id)  # type: ignore[attr-defined]
            .where(Order.status.in_(FINAL), condition)
            .group_by(Order.id, Order.status)
        )
        violations += [
            Violation(
                invariant="nothing left open for a finished order",
                subject=f"order {order_id}",
                detail=f"{status} but has {count} {what}(s)",
            )
            for order_id, status, count in rows
        ]
    return violations


def effects_applied_once(session: Session) -> list[Violation]:
    """No step's effect was applied twice (a retried or replayed step that was not idempotent).

    Per order line, no more units were ever reserved than ordered; per order, the
    ledger's reservations match the reservation rows, there is at most one
    authorisation and one capture, and at most one parcel per warehouse that is
    not a replacement. (One invoice and one receipt per order are unique keys.)
    """
    violations = []
    over_reserved = session.execute(
        select(
            OrderLine.order_id,
            OrderLine.line_no,
            OrderLine.quantity,
            func.sum(Reservation.quantity),
        )
        .join(
            Reservation,
            (Reservation.order_id == OrderLine.order_id)
            & (Reservation.line_no == OrderLine.line_no),
        )
        .group_by(OrderLine.order_id, OrderLine.line_no, OrderLine.quantity)
        .having(func.sum(Reservation.quantity) > OrderLine.quantity)
    )
    violations += [
        Violation(
            invariant="each effect applied once",
            subject=f"order {order_id} line {line_no}",
            detail=f"{reserved} unit(s) reserved for {ordered} ordered",
        )
        for order_id, line_no, ordered, reserved in over_reserved
    ]
    ledger = {
        order_id: int(units)
        for order_id, units in session.execute(
            select(StockMovement.order_id, func.sum(StockMovement.reserved_change))
            .where(
                StockMovement.kind == MovementKind.RESERVE.value,
                StockMovement.order_id.is_not(None),
            )
            .group_by(StockMovement.order_id)
        )
        if order_id is not None
    }
    rows = {
        order_id: int(units)
        for order_id, units in session.execute(
            select(Reservation.order_id, func.sum(Reservation.quantity)).group_by(
                Reservation.order_id
            )
        )
    }
    violations += [
        Violation(
            invariant="each effect applied once",
            subject=f"order {order_id}",
            detail=f"ledger reserved {ledger.get(order_id, 0)} unit(s), "
            f"reservations hold {rows.get(order_id, 0)}",
        )
        for order_id in sorted(set(ledger) | set(rows))
        if ledger.get(order_id, 0) != rows.get(order_id, 0)
    ]
    repeated_payments = session.execute(
        select(Payment.order_id, Payment.kind, func.count())
        .where(Payment.kind.in_([PaymentKind.AUTHORISATION.value, PaymentKind.CAPTURE.value]))
        .group_by(Payment.order_id, Payment.kind)
        .having(func.count() > 1)
    )
    violations += [
        Violation(
            invariant="each effect applied once",
            subject=f"order {order_id}",
            detail=f"{count} {kind} payments",
        )
        for order_id, kind, count in repeated_payments
    ]
    repeated_parcels = session.execute(
        select(Shipment.order_id, Shipment.warehouse_id, func.count())
        .where(Shipment.replaces_id.is_(None))
        .group_by(Shipment.order_id, Shipment.warehouse_id)
        .having(func.count() > 1)
    )
    violations += [
        Violation(
            invariant="each effect applied once",
            subject=f"order {order_id}",
            detail=f"{count} parcels from {warehouse_id}, none of them a replacement",
        )
        for order_id, warehouse_id, count in repeated_parcels
    ]
    return violations


def transfers_accounted(session: Session) -> list[Violation]:
    """Every unit a transfer took out of one warehouse is in transit or in the other:
    per transfer and product, the ledger's ``transfer_out`` is the line's quantity, and
    its ``transfer_in`` too once received (none while in transit)."""
    booked: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for reference, sku, kind, units in session.execute(
        select(
            StockMovement.reference,
            StockMovement.sku,
            StockMovement.kind,
            func.sum(StockMovement.on_hand_change),
        )
        .where(
            StockMovement.kind.in_(
                [MovementKind.TRANSFER_OUT.value, MovementKind.TRANSFER_IN.value]
            )
        )
        .group_by(StockMovement.reference, StockMovement.sku, StockMovement.kind)
    ):
        booked[(reference, sku)][kind] += int(units)
    expected: dict[tuple[str, str], dict[str, int]] = {}
    for transfer_id, status, sku, quantity in session.execute(
        select(
            StockTransfer.id,
            StockTransfer.status,
            StockTransferLine.sku,
            StockTransferLine.quantity,
        ).join(StockTransferLine, StockTransferLine.transfer_id == StockTransfer.id)
    ):
        received = quantity if status == TransferStatus.RECEIVED.value else 0
        expected[(f"transfer-{transfer_id}", sku)] = {
            MovementKind.TRANSFER_OUT.value: -quantity,
            MovementKind.TRANSFER_IN.value: received,
        }
    violations = []
    for key in sorted(set(booked) | set(expected)):
        want = expected.get(key, {})
        got = booked.get(key, {})
        if any(got.get(kind, 0) != want.get(kind, 0) for kind in set(got) | set(want)):
            reference, sku = key
            violations.append(
                Violation(
                    invariant="transfers accounted for",
                    subject=f"{reference} {sku}",
                    detail=f"expected out/in {dict(want)}, ledger {dict(got)}",
                )
            )
    return violations


def check_database(session: Session) -> list[Violation]:
    """Every invariant the business database alone can prove."""
    return [
        *stock_conservation(session),
        *transfers_accounted(session),
        *money_conservation(session),
        *nothing_open_for_finished_orders(session),
        *effects_applied_once(session),
    ]


def unfinished_order_ids(session: Session) -> list[str]:
    """Orders whose status says their workflow should still be running."""
    rows = session.scalars(select(Order.id).where(Order.status.not_in(FINAL)))
    return list(rows)


def unclosed_complaint_ids(session: Session) -> list[int]:
    """Complaints not yet closed: each must have its case workflow running."""
    return list(
        session.scalars(
            select(ComplaintRow.id)
            .where(ComplaintRow.status != ComplaintStatus.CLOSED.value)
            .order_by(ComplaintRow.id)
        )
    )
