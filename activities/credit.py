"""Credit review against the customer's limit and standing."""

from __future__ import annotations

from decimal import Decimal

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity

from domain.credit import CHECK_CREDIT, CreditDecision, CreditOutcome, decide_credit
from domain.intake import OrderRef
from domain.orders import EventKind, OrderStatus
from domain.settlement import InvoiceStatus, PaymentKind
from persistence.database import SessionFactory
from persistence.idempotency import run_once, step_key
from persistence.models import Customer, Invoice, Order, Payment

from ._read_model import customer_profile, load_order, write_event

log = structlog.get_logger(__name__)

OPEN_ORDER_STATUSES = (
    OrderStatus.APPROVED,
    OrderStatus.AWAITING_SUPPLY,
    OrderStatus.ALLOCATED,
    OrderStatus.SHIPMENT_BOOKED,
    OrderStatus.DELIVERED,
)
"""Approved orders not yet invoiced: credit already promised to the customer."""


async def customer_exposure(session: AsyncSession, customer_id: str, except_order: str) -> Decimal:
    """Open receivables plus approved, uninvoiced orders of ``customer_id``."""
    invoiced = await session.scalar(
        select(func.coalesce(func.sum(Invoice.amount), 0)).where(
            Invoice.customer_id == customer_id, Invoice.status == InvoiceStatus.OPEN.value
        )
    )
    paid_on_open = await session.scalar(
        select(func.coalesce(func.sum(Payment.amount), 0))
        .join(Invoice, Invoice.order_id == Payment.order_id)
        .where(
            Invoice.customer_id == customer_id,
            Invoice.status == InvoiceStatus.OPEN.value,
            Payment.kind == PaymentKind.INCOMING.value,
        )
    )
    uninvoiced = await session.scalar(
        select(func.coalesce(func.sum(Order.total), 0)).where(
            Order.customer_id == customer_id,
            Order.id != except_order,
            Order.status.in_([status.value for status in OPEN_ORDER_STATUSES]),
        )
    )
    return Decimal(invoiced or 0) - Decimal(paid_on_open or 0) + Decimal(uninvoiced or 0)


class CreditActivities:
    """Credit review."""

    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    @activity.defn(name=CHECK_CREDIT)
    async def check_credit(self, ref: OrderRef) -> CreditDecision:
        """Decide whether the order may proceed without a person, and record why."""
        structlog.contextvars.bind_contextvars(order_id=ref.order_id)

        async def effect(session: AsyncSession) -> CreditDecision:
            order = await load_order(session, ref.order_id)
            customer = await session.get(Customer, order.customer_id)
            if customer is None:
                raise ValueError(f"customer {order.customer_id!r} vanished after validation")
            exposure = await customer_exposure(session, customer.id, order.id)
            decision = decide_credit(customer_profile(customer), exposure, order.total)
            approved = decision.outcome is CreditOutcome.APPROVED
            await write_event(
                session,
                order.id,
                EventKind.CREDIT_APPROVED if approved else EventKind.CREDIT_HOLD,
                decision.reason,
                status=OrderStatus.APPROVED if approved else OrderStatus.AWAITING_APPROVAL,
            )
            return decision

        decision = await run_once(
            self._sessions, step_key(ref.order_id, CHECK_CREDIT), CreditDecision, effect
        )
        log.info("credit reviewed", outcome=decision.outcome, reason=decision.reason)
        return decision
