"""Payments with the provider, invoices and receipts: adapters onto
:mod:`persistence.transactions.money`.

A step that calls the payment provider runs on the event loop; its database
work runs on the database's threads, before and after the call, never holding
a transaction open while the provider answers.
"""

from __future__ import annotations

import structlog
from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from domain.compensation import Undone, UndoRequest
from domain.intake import OrderRef
from domain.orders import EventKind
from domain.redaction import redact
from domain.settlement import (
    AUTHORISE_PAYMENT,
    CAPTURE_PAYMENT,
    ISSUE_INVOICE,
    ISSUE_RECEIPT,
    PAYMENT_DECLINED,
    RECORD_PAYMENT,
    REFUND_PAYMENT,
    VOID_AUTHORISATION,
    VOID_INVOICE,
    InvoiceRecord,
    PaymentBalance,
    PaymentBooking,
    PaymentKind,
    PaymentRecord,
    ReceiptRecord,
)
from domain.wording import N_, Wording
from integrations.ports import PaymentDeclinedError, PaymentGateway
from persistence.database import Database
from persistence.idempotency import step_key, stored_result
from persistence.transactions import money

log = structlog.get_logger(__name__)

NOTHING_TO_CAPTURE = "NothingToCapture"
"""ApplicationError type: capture was asked for an order with no authorisation."""


def _voided(reference: str) -> Undone:
    """The authorisation was voided: its English detail begins ``authorisation voided``
    (the order workflow reads that to show the voided amount)."""
    return Undone(
        wording=Wording(
            message=N_("authorisation voided (%(reference)s)"), args={"reference": reference}
        )
    )


class SettlementActivities:
    """Authorise, capture and void payments; issue invoices and receipts."""

    def __init__(self, db: Database, gateway: PaymentGateway) -> None:
        self._db = db
        self._gateway = gateway

    @activity.defn(name=AUTHORISE_PAYMENT)
    async def authorise_payment(self, ref: OrderRef) -> PaymentRecord:
        """Authorise the order total with the payment provider."""
        structlog.contextvars.bind_contextvars(order_id=ref.order_id)
        key = step_key(ref.order_id, AUTHORISE_PAYMENT)
        done = await self._db.run(stored_result, self._db, key, PaymentRecord)
        if done is not None:
            return done
        charge = await self._db.run(money.charge_of, self._db, ref.order_id)
        try:
            authorisation = await self._gateway.authorise(
                idempotency_key=key,
                payment_token=charge.payment_token,
                amount=charge.total,
                currency=charge.currency,
            )
        except PaymentDeclinedError as declined:
            # The provider's text can echo the token: it is cut out before the reason
            # reaches the order's record, its audit log, the history or a log line.
            reason = redact(str(declined), charge.payment_token)
            raise ApplicationError(
                f"payment declined: {reason}",
                type=PAYMENT_DECLINED,
                non_retryable=True,
                category=ApplicationErrorCategory.BENIGN,
            ) from None
        return await self._db.run(
            money.book_payment,
            self._db,
            ref.order_id,
            AUTHORISE_PAYMENT,
            PaymentKind.AUTHORISATION,
            charge.total,
            charge.currency,
            authorisation,
            EventKind.PAYMENT_AUTHORISED,
        )

    @activity.defn(name=VOID_AUTHORISATION)
    async def void_authorisation(self, ref: UndoRequest) -> Undone:
        """Release the order's authorisation if it was never captured (compensation)."""
        structlog.contextvars.bind_contextvars(order_id=ref.order_id)
        key = step_key(ref.order_id, VOID_AUTHORISATION)
        payments = await self._db.run(money.payments_of, self._db, ref.order_id)
        authorisation = payments.get(PaymentKind.AUTHORISATION)
        if (voided := payments.get(PaymentKind.VOID)) is not None:
            return _voided(voided.reference)
        if authorisation is None or PaymentKind.CAPTURE in payments:
            return Undone(wording=Wording(message=N_("no uncaptured authorisation to void")))
        void = await self._gateway.void(idempotency_key=key, authorisation=authorisation.reference)
        await self._db.run(
            money.book_payment,
            self._db,
            ref.order_id,
            VOID_AUTHORISATION,
            PaymentKind.VOID,
            authorisation.amount,
            authorisation.currency,
            void,
            EventKind.AUTHORISATION_VOIDED,
        )
        return _voided(void)

    @activity.defn(name=CAPTURE_PAYMENT)
    async def capture_payment(self, ref: OrderRef) -> PaymentRecord:
        """Capture the authorised amount."""
        structlog.contextvars.bind_contextvars(order_id=ref.order_id)
        key = step_key(ref.order_id, CAPTURE_PAYMENT)
        done = await self._db.run(stored_result, self._db, key, PaymentRecord)
        if done is not None:
            return done
        payments = await self._db.run(money.payments_of, self._db, ref.order_id)
        authorisation = payments.get(PaymentKind.AUTHORISATION)
        if authorisation is None:
            raise ApplicationError(
                f"order {ref.order_id!r} has no payment authorisation to capture",
                type=NOTHING_TO_CAPTURE,
                non_retryable=True,
            )
        capture = await self._gateway.capture(
            idempotency_key=key,
            authorisation=authorisation.reference,
            amount=authorisation.amount,
            currency=authorisation.currency,
        )
        return await self._db.run(
            money.book_payment,
            self._db,
            ref.order_id,
            CAPTURE_PAYMENT,
            PaymentKind.CAPTURE,
            authorisation.amount,
            authorisation.currency,
            capture,
            EventKind.PAYMENT_CAPTURED,
        )

    @activity.defn(name=ISSUE_INVOICE)
    def issue_invoice(self, ref: OrderRef) -> InvoiceRecord:
        """Issue the order's invoice with the next number of the year; due per the terms."""
        structlog.contextvars.bind_contextvars(order_id=ref.order_id)
        return money.issue_invoice(self._db, ref.order_id)

    @activity.defn(name=RECORD_PAYMENT)
    def record_payment(self, booking: PaymentBooking) -> PaymentBalance:
        """Book money received from a net-terms customer; the bank's id makes it once only."""
        structlog.contextvars.bind_contextvars(order_id=booking.order_id)
        return money.record_incoming_payment(self._db, booking)

    @activity.defn(name=ISSUE_RECEIPT)
    def issue_receipt(self, ref: OrderRef) -> ReceiptRecord:
        """Issue the receipt for the fully paid invoice and mark it paid."""
        structlog.contextvars.bind_contextvars(order_id=ref.order_id)
        return money.issue_receipt(self._db, ref.order_id)

    @activity.defn(name=REFUND_PAYMENT)
    async def refund_payment(self, request: UndoRequest) -> Undone:
        """Give back whatever was captured and not yet refunded (compensation)."""
        structlog.contextvars.bind_contextvars(order_id=request.order_id)
        payments = await self._db.run(money.payments_of, self._db, request.order_id)
        if (refunded := payments.get(PaymentKind.REFUND)) is not None:
            return Undone(
                wording=Wording(
                    message=N_("refunded %(amount)s %(currency)s already"),
                    args={"amount": refunded.amount, "currency": refunded.currency},
                )
            )
        capture = payments.get(PaymentKind.CAPTURE)
        if capture is None:
            return Undone(wording=Wording(message=N_("nothing was captured")))
        key = step_key(request.order_id, REFUND_PAYMENT)
        refund = await self._gateway.refund(
            idempotency_key=key,
            capture=capture.reference,
            amount=capture.amount,
            currency=capture.currency,
        )
        record = await self._db.run(
            money.book_payment,
            self._db,
            request.order_id,
            REFUND_PAYMENT,
            PaymentKind.REFUND,
            capture.amount,
            capture.currency,
            refund,
            EventKind.PAYMENT_REFUNDED,
        )
        return Undone(
            wording=Wording(
                message=N_("refunded %(amount)s %(currency)s (%(reference)s)"),
                args={"amount": record.amount, "currency": record.currency, "reference": refund},
            )
        )

    @activity.defn(name=VOID_INVOICE)
    def void_invoice(self, request: UndoRequest) -> Undone:
        """Void the order's invoice with a credit note of the next number (compensation)."""
        structlog.contextvars.bind_contextvars(order_id=request.order_id)
        return money.void_invoice(self._db, request.order_id, request.reason)
