"""Read the order read model as domain views (for ``oms`` and reports)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.orders import (
    LineView,
    MoneyView,
    OrderEvent,
    OrderStatus,
    OrderView,
    ReservationView,
    ShipmentView,
    SupplyView,
)
from domain.settlement import PaymentKind
from persistence.database import Database
from persistence.models import (
    CreditNote,
    Invoice,
    Order,
    OrderEventRow,
    OrderLine,
    Payment,
    Receipt,
    Reservation,
    Shipment,
    SupplyOrder,
)


class OrderSummary(BaseModel):
    """One row of an order list."""

    order_id: str
    channel: str
    customer_id: str
    status: OrderStatus
    total: Decimal
    currency: str
    escalation_level: int
    needs_attention: str | None
    updated_at: datetime


def load_order_view(session: Session, order_id: str) -> OrderView | None:
    """The full view of ``order_id`` from the read model, or None if it is unknown."""
    order = session.get(Order, order_id)
    if order is None:
        return None
    lines = session.scalars(
        select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.line_no)
    )
    reservations = session.scalars(
        select(Reservation)
        .where(Reservation.order_id == order_id)
        .order_by(Reservation.line_no, Reservation.warehouse_id)
    )
    shipments = session.scalars(
        select(Shipment).where(Shipment.order_id == order_id).order_by(Shipment.id)
    )
    events = session.scalars(
        select(OrderEventRow).where(OrderEventRow.order_id == order_id).order_by(OrderEventRow.id)
    )
    totals_by_kind = session.execute(
        select(Payment.kind, func.sum(Payment.amount))
        .where(Payment.order_id == order_id)
        .group_by(Payment.kind)
    )
    amounts: dict[str, Decimal] = {kind: Decimal(total) for kind, total in totals_by_kind}
    invoice = session.scalar(select(Invoice).where(Invoice.order_id == order_id))
    credit_note = session.scalar(select(CreditNote.number).where(CreditNote.order_id == order_id))
    supply = session.scalars(
        select(SupplyOrder).where(SupplyOrder.order_id == order_id).order_by(SupplyOrder.line_no)
    )
    receipt = session.scalar(select(Receipt.number).where(Receipt.order_id == order_id))
    return OrderView(
        order_id=order.id,
        workflow_id=order.workflow_id,
        channel=order.channel,
        customer_id=order.customer_id,
        status=OrderStatus(order.status),
        rejection_reasons=order.rejection_reasons,
        lines=[
            LineView(
                line_no=line.line_no,
                sku=line.sku,
                quantity=line.quantity,
                unit_price=line.unit_price,
                line_total=line.line_total,
            )
            for line in lines
        ],
        reservations=[
            ReservationView(
                line_no=r.line_no,
                sku=r.sku,
                warehouse_id=r.warehouse_id,
                quantity=r.quantity,
                status=r.status,
            )
            for r in reservations
        ],
        shipments=[
            ShipmentView(
                shipment_id=s.id,
                warehouse_id=s.warehouse_id,
                carrier=s.carrier,
                tracking_number=s.tracking_number,
                status=s.status,
                promised_by=s.promised_by,
            )
            for s in shipments
        ],
        supply=[
            SupplyView(
                line_no=row.line_no,
                sku=row.sku,
                kind=row.kind,
                quantity=row.quantity,
                received=row.received_quantity,
                status=row.status,
                expected_at=row.expected_at,
            )
            for row in supply
        ],
        money=MoneyView(
            currency=order.currency,
            total=order.total,
            payment_terms=order.payment_terms or "",
            authorised=amounts.get(PaymentKind.AUTHORISATION.value, Decimal(0)),
            voided=amounts.get(PaymentKind.VOID.value, Decimal(0)),
            captured=amounts.get(PaymentKind.CAPTURE.value, Decimal(0)),
            received=amounts.get(PaymentKind.INCOMING.value, Decimal(0)),
            refunded=amounts.get(PaymentKind.REFUND.value, Decimal(0)),
            invoice_number=invoice.number if invoice else None,
            due_date=invoice.due_date if invoice else None,
            credit_note_number=credit_note,
            receipt_number=receipt,
        ),
        escalation_level=order.escalation_level,
        needs_attention=order.needs_attention,
        history=[
            OrderEvent(at=e.created_at, kind=e.kind, detail=e.detail, actor=e.actor) for e in events
        ],
    )


def list_orders(
    db: Database,
    *,
    statuses: Sequence[OrderStatus] = (),
    customer_id: str | None = None,
    needs_attention: bool = False,
    escalated: int = 0,
    limit: int = 100,
) -> list[OrderSummary]:
    """Orders, newest change first, filtered by status, customer, attention and escalation.

    ``escalated`` keeps orders at that escalation level or higher (0 keeps all).
    """
    query = select(Order).order_by(Order.updated_at.desc(), Order.id).limit(limit)
    if statuses:
        query = query.where(Order.status.in_([status.value for status in statuses]))
    if customer_id:
        query = query.where(Order.customer_id == customer_id)
    if needs_attention:
        query = query.where(Order.needs_attention.is_not(None))
    if escalated:
        query = query.where(Order.escalation_level >= escalated)
    with db.reading() as session:
        rows = session.scalars(query).all()
    return [
        OrderSummary(
            order_id=order.id,
            channel=order.channel,
            customer_id=order.customer_id,
            status=OrderStatus(order.status),
            total=order.total,
            currency=order.currency,
            escalation_level=order.escalation_level,
            needs_attention=order.needs_attention,
            updated_at=order.updated_at,
        )
        for order in rows
    ]


def order_views(db: Database, order_ids: Sequence[str]) -> list[OrderView | None]:
    """The views of ``order_ids`` (None for one not in the database), read together."""
    with db.reading() as session:
        return [load_order_view(session, order_id) for order_id in order_ids]


def order_view(db: Database, order_id: str) -> OrderView | None:
    """The view of one order, or None if it is not in the database."""
    return order_views(db, [order_id])[0]
