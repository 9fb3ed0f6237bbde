"""Read the order read model as domain views (for ``oms`` and reports)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    func,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from domain.orders import (
    LineView,
    MoneyView,
    OrderEvent,
    OrderStatus,
    OrderView,
    ReservationView,
    ShipmentView,
    ShippingAddress,
    SupplyView,
)
from domain.settlement import PaymentKind
from domain.wording import Wording
from domain.worklists import LIST_STATUSES, OrderList
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
from persistence.transactions.records import read_wording


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
    needs_attention_wording: Wording | None = None
    """``needs_attention`` as a wording, for the console."""
    updated_at: datetime
    status_since: datetime | None = None
    """When the order took its status: how long it has been held, waiting or in a stage."""


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
        needs_attention_wording=_attention_wording(order),
        allocation_reason=order.allocation_reason,
        allocation_wording=read_wording(order.allocation_wording)
        if order.allocation_reason
        else None,
        history=[
            OrderEvent(
                at=e.created_at,
                kind=e.kind,
                detail=e.detail,
                wording=read_wording(e.wording),
                actor=e.actor,
            )
            for e in events
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
    return [_summary(order) for order in rows]


def order_views(db: Database, order_ids: Sequence[str]) -> list[OrderView | None]:
    """The views of ``order_ids`` (None for one not in the database), read together."""
    with db.reading() as session:
        return [load_order_view(session, order_id) for order_id in order_ids]


def order_view(db: Database, order_id: str) -> OrderView | None:
    """The view of one order, or None if it is not in the database."""
    return order_views(db, [order_id])[0]


class OrderQuery(BaseModel):
    """What an order list asks for: the list, filters, a search and a page."""

    worklist: OrderList = OrderList.NEW
    channel: str | None = None
    customer_id: str | None = None
    status: OrderStatus | None = None
    created_from: date | None = None
    created_to: date | None = None
    """Inclusive: orders created on this day are in."""
    search: str | None = None
    """An order id (or its beginning) or a customer reference."""
    page: int = 1
    page_size: int = 50


class OrderPage(BaseModel):
    """One page of a list, how many orders the whole list holds, and each list's count."""

    rows: list[OrderSummary]
    total: int
    counts: dict[OrderList, int]
    page: int
    pages: int


def order_page(db: Database, query: OrderQuery) -> OrderPage:
    """A page of ``query.worklist``, newest change first, with every list's count under the
    same filters (read from the read model, never from Temporal)."""
    filters = _filters(query, db.dialect)
    in_list = _in_list(query.worklist)
    with db.reading() as session:
        by_status = dict(
            session.execute(
                select(Order.status, func.count()).where(*filters).group_by(Order.status)
            ).all()
        )
        flagged = session.scalar(
            select(func.count())
            .select_from(Order)
            .where(*filters, _in_list(OrderList.NEEDS_ATTENTION))
        )
        total = int(
            session.scalar(select(func.count()).select_from(Order).where(*filters, in_list)) or 0
        )
        pages = max(1, -(-total // query.page_size))
        page = min(max(query.page, 1), pages)
        if db.dialect == "sqlite" and _mostly_everything(query):
            # The processed list holds nearly every order: walking the newest-first index
            # and skipping the few others beats sorting them all, which SQLite does when it
            # finds them by status. A unary + keeps it from using the status index here.
            statuses = [status.value for status in LIST_STATUSES[query.worklist]]
            in_list = literal_column("+orders.status", String).in_(statuses)
        rows = session.scalars(
            select(Order)
            .where(*filters, in_list)
            .order_by(Order.updated_at.desc(), Order.id)
            .offset((page - 1) * query.page_size)
            .limit(query.page_size)
        ).all()
    counts = {
        worklist: sum(by_status.get(status.value, 0) for status in LIST_STATUSES[worklist])
        for worklist in OrderList
    }
    counts[OrderList.NEEDS_ATTENTION] = int(flagged or 0)
    return OrderPage(
        rows=[_summary(order) for order in rows], total=total, counts=counts, page=page, pages=pages
    )


def _mostly_everything(query: OrderQuery) -> bool:
    """Whether the list asked for is most of the orders: the processed list, narrowed by
    nothing that an index finds faster (a customer, a status, a search)."""
    return query.worklist is OrderList.PROCESSED and not (
        query.customer_id or query.status or query.search
    )


def _filters(query: OrderQuery, dialect: str) -> list[ColumnElement[bool]]:
    filters: list[ColumnElement[bool]] = []
    if query.channel:
        filters.append(Order.channel == query.channel)
    if query.customer_id:
        filters.append(Order.customer_id == query.customer_id)
    if query.status:
        filters.append(Order.status == query.status.value)
    if query.created_from:
        filters.append(Order.created_at >= datetime.combine(query.created_from, time(), UTC))
    if query.created_to:
        day_after = datetime.combine(query.created_to, time(), UTC) + timedelta(days=1)
        filters.append(Order.created_at < day_after)
    if query.search:
        term = query.search.strip()
        filters.append(or_(_id_prefix(term, dialect), Order.customer_reference == term))
    return filters


def _in_list(worklist: OrderList) -> ColumnElement[bool]:
    statuses = [status.value for status in LIST_STATUSES[worklist]]
    if worklist is OrderList.NEEDS_ATTENTION:
        # Two indexed lookups joined, not an OR that SQLite answers by reading every order.
        return Order.id.in_(
            union_all(
                select(Order.id).where(Order.status.in_(statuses)),
                select(Order.id).where(Order.needs_attention.is_not(None)),
            )
        )
    return Order.status.in_(statuses)


def _id_prefix(term: str, dialect: str) -> ColumnElement[bool]:
    """Orders whose id begins with ``term``. On SQLite, whose LIKE ignores case and so
    cannot use the primary key, a range on the key finds them and LIKE keeps them exact."""
    like = Order.id.startswith(term, autoescape=True)
    if dialect != "sqlite" or not term:
        return like
    upper = term[:-1] + chr(ord(term[-1]) + 1)
    return and_(Order.id >= term, Order.id < upper, like)


def _summary(order: Order) -> OrderSummary:
    return OrderSummary(
        order_id=order.id,
        channel=order.channel,
        customer_id=order.customer_id,
        status=OrderStatus(order.status),
        total=order.total,
        currency=order.currency,
        escalation_level=order.escalation_level,
        needs_attention=order.needs_attention,
        needs_attention_wording=_attention_wording(order),
        updated_at=order.updated_at,
        status_since=order.status_since,
    )


def _attention_wording(order: Order) -> Wording | None:
    """Why the order needs a person, as a wording (None when it needs none, or when the
    row was written before wordings)."""
    return read_wording(order.needs_attention_wording) if order.needs_attention else None


def shipping_address(db: Database, order_id: str) -> ShippingAddress | None:
    """Where the order goes (personal data: only for roles that may see it)."""
    with db.reading() as session:
        order = session.get(Order, order_id)
        if order is None:
            return None
        return ShippingAddress.model_construct(
            name=order.ship_to_name,
            street=order.ship_to_street,
            postal_code=order.ship_to_postal_code,
            city=order.ship_to_city,
            country=order.ship_to_country,
        )


def ship_to_country(db: Database, order_id: str) -> str | None:
    """The country the order goes to: all that roles without personal data see of the
    address (nothing personal is decrypted for them)."""
    with db.reading() as session:
        return session.scalar(select(Order.ship_to_country).where(Order.id == order_id))
