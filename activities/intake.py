"""Receive & confirm: record the submitted order and validate it."""

from __future__ import annotations

from decimal import Decimal

import structlog
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity

from domain.intake import (
    RECEIVE_ORDER,
    RECORD_ORDER_STATUS,
    RECORD_REFUSED_SUBMISSION,
    ReceiveOutcome,
    RefusedSubmission,
    StatusChange,
)
from domain.orders import EventKind, OrderStatus, OrderSubmission, order_workflow_id
from domain.pricing import line_total, order_total
from domain.validation import find_problems
from persistence.database import SessionFactory
from persistence.idempotency import (
    Done,
    Effect,
    run_once,
    step_key,
    store_result,
    stored_result_in,
)
from persistence.models import Customer, Order, OrderLine, Product

from ._read_model import (
    customer_profile,
    product_info,
    raise_escalation_level,
    utcnow,
    write_event,
)

log = structlog.get_logger(__name__)

TAKEN_BY = "taken_by"
"""Idempotency step naming the workflow run that took the order in."""


class TakenBy(BaseModel):
    """Which run of the order's workflow received the order (stored under :data:`TAKEN_BY`)."""

    run_id: str


class IntakeActivities:
    """Activities that take orders in and keep their status current."""

    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    @activity.defn(name=RECEIVE_ORDER)
    async def receive_order(self, submission: OrderSubmission) -> ReceiveOutcome:
        """Record the order and its lines, validate it, and confirm or reject it.

        A run of the order's workflow other than the one that took the order in
        (a client let the workflow id be reused) gets ``earlier_status`` and
        nothing is written.
        """
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

        outcome = await self._take_in_once(submission.order_id, RECEIVE_ORDER, effect)
        log.info("order received", accepted=outcome.accepted, problems=len(outcome.problems))
        return outcome

    @activity.defn(name=RECORD_REFUSED_SUBMISSION)
    async def record_refused_submission(self, refused: RefusedSubmission) -> ReceiveOutcome:
        """Record an order whose document could not be taken: REJECTED, with every reason.

        The row holds no personal data (none was read); a run other than the one
        that took the order in gets ``earlier_status`` and nothing is written.
        """
        structlog.contextvars.bind_contextvars(order_id=refused.order_id)

        async def effect(session: AsyncSession) -> ReceiveOutcome:
            now = utcnow()
            session.add(
                Order(
                    id=refused.order_id,
                    workflow_id=order_workflow_id(refused.order_id),
                    channel="",
                    customer_id="",
                    status=OrderStatus.RECEIVED.value,
                    currency="",
                    total=Decimal(0),
                    ship_to_name="",
                    ship_to_street="",
                    ship_to_postal_code="",
                    ship_to_city="",
                    ship_to_country="",
                    rejection_reasons=[],
                    created_at=now,
                    updated_at=now,
                )
            )
            await session.flush()
            await write_event(
                session, refused.order_id, EventKind.RECEIVED, "an order document that was refused"
            )
            await write_event(
                session,
                refused.order_id,
                EventKind.REJECTED,
                "; ".join(refused.problems),
                status=OrderStatus.REJECTED,
                rejection_reasons=refused.problems,
            )
            return ReceiveOutcome(accepted=False, problems=refused.problems, total=Decimal(0))

        outcome = await self._take_in_once(refused.order_id, RECORD_REFUSED_SUBMISSION, effect)
        log.info("order document refused", problems=len(outcome.problems))
        return outcome

    async def _take_in_once(
        self, order_id: str, step: str, effect: Effect[ReceiveOutcome]
    ) -> ReceiveOutcome:
        """Run a step that takes the order in: once, and only for the run that took it in.

        Another run of the order's workflow (a client let its id be reused) gets
        the order's status as ``earlier_status`` and writes nothing. On the usual
        path the check costs one read in the step's own transaction; it is made
        again only when a stored answer comes back (this run's retry, or another
        run's).
        """
        took_in = False

        async def for_this_run(session: AsyncSession) -> ReceiveOutcome:
            nonlocal took_in
            earlier = await _earlier_run(session, order_id)
            if earlier is not None:
                return earlier
            took_in = True
            outcome = await effect(session)
            await store_result(session, step_key(order_id, TAKEN_BY), TakenBy(run_id=_this_run()))
            return outcome

        outcome = await run_once(
            self._sessions, step_key(order_id, step), ReceiveOutcome, for_this_run
        )
        if took_in or outcome.earlier_status is not None:
            return outcome
        async with self._sessions() as session:
            earlier = await _earlier_run(session, order_id)
        return outcome if earlier is None else earlier

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


def _this_run() -> str:
    """The run of the order's workflow this activity works for."""
    return activity.info().workflow_run_id or ""


async def _earlier_run(session: AsyncSession, order_id: str) -> ReceiveOutcome | None:
    """The outcome for a run that must do nothing, because another run took the order in.

    Orders received before runs were recorded count as taken by another run once
    they have finished.
    """
    order = await session.get(Order, order_id)
    if order is None:
        return None
    taken = await stored_result_in(session, step_key(order_id, TAKEN_BY), TakenBy)
    if taken is not None and taken.run_id == _this_run():
        return None
    status = OrderStatus(order.status)
    if taken is None and not status.is_final:
        return None
    log.info("order taken in by an earlier run; this run does nothing", status=status.value)
    return ReceiveOutcome(accepted=False, total=order.total, earlier_status=status)
