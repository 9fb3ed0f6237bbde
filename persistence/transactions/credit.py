"""Credit review against the customer's limit, standing and exposure."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import case, exists, func, select
from sqlalchemy.orm import Session

from domain.catalogue import PaymentTerms
from domain.credit import CHECK_CREDIT, CreditDecision, CreditOutcome, decide_credit
from domain.orders import EventKind, OrderStatus
from domain.settlement import InvoiceStatus, PaymentKind
from persistence.database import Database
from persistence.idempotency import run_once, step_key
from persistence.models import Customer, Invoice, Order, Payment

from .money import MONEY_IN
from .records import customer_profile, load_order, write_event

OPEN_ORDER_STATUSES = (
    OrderStatus.APPROVED,
    OrderStatus.AWAITING_SUPPLY,
    OrderStatus.ALLOCATED,
    OrderStatus.SHIPMENT_BOOKED,
    OrderStatus.DELIVERED,
)
"""Approved orders on their way: credit promised to the customer until they are invoiced."""


def customer_exposure(session: Session, customer_id: str, except_order: str) -> Decimal:
    """What ``customer_id`` owes or is about to owe on credit: open invoices less the money
    already received for them, plus approved net-terms orders not invoiced yet.

    A prepaid order's money is authorised or captured, never lent: it owes nothing, even
    while its invoice stays open until the delivery. An invoiced order counts once, by its
    invoice, whatever its status says.
    """
    open_invoice = (Invoice.customer_id == customer_id) & (
        Invoice.status == InvoiceStatus.OPEN.value
    )
    invoiced = session.scalar(
        select(func.coalesce(func.sum(Invoice.amount), 0)).where(open_invoice)
    )
    received = session.scalar(
        select(
            func.coalesce(
                func.sum(
                    case(
                        (Payment.kind == PaymentKind.REFUND.value, -Payment.amount),
                        else_=Payment.amount,
                    )
                ),
                0,
            )
        )
        .join(Invoice, Invoice.order_id == Payment.order_id)
        .where(open_invoice, Payment.kind.in_([*MONEY_IN, PaymentKind.REFUND.value]))
    )
    uninvoiced = session.scalar(
        select(func.coalesce(func.sum(Order.total), 0)).where(
            Order.customer_id == customer_id,
            Order.id != except_order,
            Order.status.in_([status.value for status in OPEN_ORDER_STATUSES]),
            Order.payment_terms.is_distinct_from(PaymentTerms.PREPAID.value),
            ~exists().where(Invoice.order_id == Order.id),
        )
    )
    return Decimal(invoiced or 0) - Decimal(received or 0) + Decimal(uninvoiced or 0)


def check_credit(db: Database, order_id: str) -> CreditDecision:
    """Decide whether the order may proceed without a person, and record why."""

    def effect(session: Session) -> CreditDecision:
        order = load_order(session, order_id)
        customer = session.get(Customer, order.customer_id)
        if customer is None:
            raise ValueError(f"customer {order.customer_id!r} vanished after validation")
        exposure = customer_exposure(session, customer.id, order.id)
        decision = decide_credit(customer_profile(customer), exposure, order.total)
        approved = decision.outcome is CreditOutcome.APPROVED
        write_event(
            session,
            order.id,
            EventKind.CREDIT_APPROVED if approved else EventKind.CREDIT_HOLD,
            decision.wording or decision.reason,
            status=OrderStatus.APPROVED if approved else OrderStatus.AWAITING_APPROVAL,
        )
        return decision

    return run_once(db, step_key(order_id, CHECK_CREDIT), CreditDecision, effect)
