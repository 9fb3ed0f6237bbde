"""Taking orders in (recorded, validated, confirmed or rejected) and keeping their status."""

from __future__ import annotations

from decimal import Decimal

import structlog
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.catalogue import CustomerProfile
from domain.intake import (
    RECEIVE_ORDER,
    RECORD_REFUSED_SUBMISSION,
    ReceiveOutcome,
    RefusedSubmission,
    StatusChange,
)
from domain.orders import (
    CHANNEL_WORDS,
    EventKind,
    OrderStatus,
    OrderSubmission,
    ShippingAddress,
    order_workflow_id,
)
from domain.pricing import line_total, order_total
from domain.validation import find_problems, problem_wordings
from domain.wording import N_, Wording
from persistence.database import Database
from persistence.idempotency import (
    Done,
    Effect,
    run_once,
    step_key,
    store_result,
    stored_result_in,
)
from persistence.models import Customer, Order, OrderLine, Product

from .records import (
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


def receive_order(db: Database, submission: OrderSubmission, run_id: str) -> ReceiveOutcome:
    """Record the order and its lines, validate it, and confirm or reject it.

    Only the workflow run ``run_id`` that took the order in writes: another run
    (a client let the workflow id be reused) gets ``earlier_status`` and
    nothing is written.
    """

    def effect(session: Session) -> ReceiveOutcome:
        customer, problems = _validate(session, submission)
        total = order_total(submission.lines)
        address = submission.shipping_address
        now = utcnow()
        erased = _erased(session, submission.customer_id)
        if erased:  # keep nothing personal of an order for a customer who was erased
            address = ShippingAddress(country=address.country)
            problems = [*problems, f"customer {submission.customer_id} was erased"]
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
                payment_token=None if erased else submission.payment_token,
                ship_to_name=address.name,
                ship_to_street=address.street,
                ship_to_postal_code=address.postal_code,
                ship_to_city=address.city,
                ship_to_country=address.country,
                rejection_reasons=[],
                created_at=now,
                updated_at=now,
                status_since=now,
                personal_data_removed_at=now if erased else None,
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
        session.flush()
        write_event(
            session,
            submission.order_id,
            EventKind.RECEIVED,
            Wording(
                message=N_("via %(channel)s, %(lines)s line(s), total %(total)s %(currency)s"),
                args={
                    "lines": len(submission.lines),
                    "total": total,
                    "currency": submission.currency,
                },
                terms={"channel": CHANNEL_WORDS[submission.channel]},
            ),
        )
        if problems:
            write_event(
                session,
                submission.order_id,
                EventKind.REJECTED,
                "; ".join(problems),
                status=OrderStatus.REJECTED,
                rejection_reasons=problems,
            )
        else:
            write_event(
                session, submission.order_id, EventKind.CONFIRMED, status=OrderStatus.CONFIRMED
            )
        return ReceiveOutcome(
            accepted=not problems,
            problems=problems,
            total=total,
            payment_terms=customer.payment_terms if customer else None,
        )

    return _take_in_once(db, submission.order_id, RECEIVE_ORDER, run_id, effect)


def _erased(session: Session, customer_id: str) -> bool:
    row = session.get(Customer, customer_id)
    return row is not None and row.erased_at is not None


def problems_of(db: Database, submission: OrderSubmission) -> list[Wording]:
    """Every reason the order would be rejected at intake, checked now without recording
    anything (the manual order entry form asks before it submits), as wordings: their
    English is what a rejection would record."""
    with db.reading() as session:
        customer_row = session.get(Customer, submission.customer_id)
        skus = {line.sku for line in submission.lines}
        product_rows = session.scalars(select(Product).where(Product.sku.in_(skus))).all()
        customer = customer_profile(customer_row) if customer_row else None
        products = {row.sku: product_info(row) for row in product_rows}
        return problem_wordings(submission, customer, products)


def _validate(
    session: Session, submission: OrderSubmission
) -> tuple[CustomerProfile | None, list[str]]:
    """The customer, and every reason the order cannot be accepted (validation rules)."""
    customer_row = session.get(Customer, submission.customer_id)
    skus = {line.sku for line in submission.lines}
    product_rows = session.scalars(select(Product).where(Product.sku.in_(skus))).all()
    customer = customer_profile(customer_row) if customer_row else None
    products = {row.sku: product_info(row) for row in product_rows}
    return customer, find_problems(submission, customer, products)


def record_refused_submission(
    db: Database, refused: RefusedSubmission, run_id: str
) -> ReceiveOutcome:
    """Record an order whose document could not be taken: REJECTED, with every reason.

    The row holds no personal data (none was read); a run other than the one
    that took the order in gets ``earlier_status`` and nothing is written.
    """

    def effect(session: Session) -> ReceiveOutcome:
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
                status_since=now,
            )
        )
        session.flush()
        write_event(
            session,
            refused.order_id,
            EventKind.RECEIVED,
            Wording(message=N_("an order document that was refused")),
        )
        write_event(
            session,
            refused.order_id,
            EventKind.REJECTED,
            "; ".join(refused.problems),
            status=OrderStatus.REJECTED,
            rejection_reasons=refused.problems,
        )
        return ReceiveOutcome(accepted=False, problems=refused.problems, total=Decimal(0))

    return _take_in_once(db, refused.order_id, RECORD_REFUSED_SUBMISSION, run_id, effect)


def _take_in_once(
    db: Database, order_id: str, step: str, run_id: str, effect: Effect[ReceiveOutcome]
) -> ReceiveOutcome:
    """Run a step that takes the order in: once, and only for the run that took it in.

    Another run of the order's workflow (a client let its id be reused) gets
    the order's status as ``earlier_status`` and writes nothing. On the usual
    path the check costs one read in the step's own transaction; it is made
    again only when a stored answer comes back (this run's retry, or another
    run's).
    """
    took_in = False

    def for_this_run(session: Session) -> ReceiveOutcome:
        nonlocal took_in
        earlier = _earlier_run(session, order_id, run_id)
        if earlier is not None:
            return earlier
        took_in = True
        outcome = effect(session)
        store_result(session, step_key(order_id, TAKEN_BY), TakenBy(run_id=run_id))
        return outcome

    outcome = run_once(db, step_key(order_id, step), ReceiveOutcome, for_this_run)
    if took_in or outcome.earlier_status is not None:
        return outcome
    with db.reading() as session:
        earlier = _earlier_run(session, order_id, run_id)
    return outcome if earlier is None else earlier


def record_order_status(db: Database, change: StatusChange) -> None:
    """Write an audit event and optionally a new status.

    With ``change.step`` set the write happens at most once, however often
    the workflow's task is retried.
    """

    def effect(session: Session) -> Done:
        values: dict[str, object] = {}
        if change.rejection_reasons:
            values["rejection_reasons"] = change.rejection_reasons
        if change.needs_attention is not None:
            values["needs_attention"] = change.needs_attention or None
            values["needs_attention_wording"] = (
                change.needs_attention_wording if change.needs_attention else None
            )
        write_event(
            session,
            change.order_id,
            change.event,
            change.detail,
            wording=change.wording,
            actor=change.actor,
            status=change.status,
            **values,
        )
        if change.escalation_level is not None:
            raise_escalation_level(session, change.order_id, change.escalation_level)
        return Done()

    if change.step is None:
        with db.transaction() as session:
            effect(session)
    else:
        run_once(db, step_key(change.order_id, change.step), Done, effect)


def _earlier_run(session: Session, order_id: str, run_id: str) -> ReceiveOutcome | None:
    """The outcome for a run that must do nothing, because another run took the order in.

    Orders received before runs were recorded count as taken by another run once
    they have finished.
    """
    order = session.get(Order, order_id)
    if order is None:
        return None
    taken = stored_result_in(session, step_key(order_id, TAKEN_BY), TakenBy)
    if taken is not None and taken.run_id == run_id:
        return None
    status = OrderStatus(order.status)
    if taken is None and not status.is_final:
        return None
    log.info("order taken in by an earlier run; this run does nothing", status=status.value)
    return ReceiveOutcome(accepted=False, total=order.total, earlier_status=status)


def record_duplicate_submission(db: Database, submission: OrderSubmission, *, actor: str) -> None:
    """Note in the order's audit log that it was submitted again after it had finished."""
    with db.transaction() as session:
        write_event(
            session,
            submission.order_id,
            EventKind.DUPLICATE_SUBMISSION,
            Wording(
                message=N_("via %(channel)s after the order had finished; ignored"),
                terms={"channel": CHANNEL_WORDS[submission.channel]},
            ),
            actor=actor,
        )
