"""Receive & confirm: record the submitted order and validate it."""

from __future__ import annotations

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity

from domain.intake import RECEIVE_ORDER, RECORD_ORDER_STATUS, ReceiveOutcome, StatusChange
from domain.orders import EventKind, OrderStatus, OrderSubmission, order_workflow_id
from domain.pricing import line_total, order_total
from domain.validation import find_problems
from persistence.database import SessionFactory
from persistence.idempotency import Done, run_once, step_key
from persistence.models import Customer, Order, OrderLine, Product

from ._read_model import (
    customer_profile,
    product_info,
    raise_escalation_level,
    utcnow,
    write_event,
)

log = structlog.get_logger(__name__)


class IntakeActivities:
    """Activities that take orders in and keep their status current."""

    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    @activity.defn(name=RECEIVE_ORDER)
    async def receive_order(self, submission: OrderSubmission) -> ReceiveOutcome:
        """Record the order and its lines, validate it, and confirm or reject it."""
        structlog.contextvars.bind_contextvars(order_id=submission.order_id)

        async def effect(session: AsyncSession) -> ReceiveOutcome:
            customer_row = await session.get(Customer, submission.customer_id)
            skus = {line.sku for line in submission.lines}
            product_rows = (
                await session.scalars(select(Product).where(Product.sku.in_(skus)))
            ).all()
            customer = customer_profile(customer_row) if customer_row else None
            products = {row.sku: product_info(row) for row in product_rows}
            problems = find_problems(submission, customer, products)
            total = order_total(submission.lines)
            address = submission.shipping_address
            now = utcnow()
            session.add(
                Order(
                    id=submission.order_id,
                    workflow_id=order_workflow_id(submission.order_id),
                    channel=submission.channel.value,
                    customer_id=submission.customer_id,
                    customer_reference=submission.customer_reference,
                    status=OrderStatus.RECEIVED.value,
                    currency=submission.currency,
                    total=total,
                    payment_terms=customer.payment_terms.value if customer else None,
                    payment_token=submission.payment_token,
                    ship_to_name=address.name,
                    ship_to_street=address.street,
                    ship_to_postal_code=address.postal_code,
                    ship_to_city=address.city,
                    ship_to_country=address.country,
                    rejection_reasons=[],
                    created_at=now,
                    updated_at=now,
                )
            )
            session.add_all(
                OrderLine(
                    order_id=submission.order_id,
                    line_no=line_no,
                    sku=line.sku,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    line_total=line_total(line),
                )
                for line_no, line in enumerate(submission.lines, start=1)
            )
            await session.flush()
            await write_event(
                session,
                submission.order_id,
                EventKind.RECEIVED,
                f"via {submission.channel.value}, {len(submission.lines)} line(s), total {total}",
            )
            if problems:
                await write_event(
                    session,
                    submission.order_id,
                    EventKind.REJECTED,
                    "; ".join(problems),
                    status=OrderStatus.REJECTED,
                    rejection_reasons=problems,
                )
            else:
                await write_event(
                    session, submission.order_id, EventKind.CONFIRMED, status=OrderStatus.CONFIRMED
                )
            return ReceiveOutcome(
                accepted=not problems,
                problems=problems,
                total=total,
                payment_terms=customer.payment_terms if customer else None,
            )

        outcome = await run_once(
            self._sessions, step_key(submission.order_id, RECEIVE_ORDER), ReceiveOutcome, effect
        )
        log.info("order received", accepted=outcome.accepted, problems=len(outcome.problems))
        return outcome

    @activity.defn(name=RECORD_ORDER_STATUS)
    async def record_order_status(self, change: StatusChange) -> None:
        """Write an audit event and optionally a new status (a short local activity).

        With ``change.step`` set the write happens at most once, however often
        the workflow's task is retried.
        """

        async def effect(session: AsyncSession) -> Done:
            values: dict[str, object] = {}
            if change.rejection_reasons:
                values["rejection_reasons"] = change.rejection_reasons
            if change.needs_attention is not None:
                values["needs_attention"] = change.needs_attention or None
            await write_event(
                session,
                change.order_id,
                change.event,
                change.detail,
                actor=change.actor,
                status=change.status,
                **values,
            )
            if change.escalation_level is not None:
                await raise_escalation_level(session, change.order_id, change.escalation_level)
            return Done()

        if change.step is None:
            async with self._sessions() as session, session.begin():
                await effect(session)
        else:
            await run_once(self._sessions, step_key(change.order_id, change.step), Done, effect)
