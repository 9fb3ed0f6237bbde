"""OrderWorkflow: one durable workflow per order, from receipt to archive.

Started by signal-with-start (signal ``submit_order``). Calls activities by the
names their areas own in ``domain``, so this module never imports persistence
or integrations. Every step that can be undone pushes its compensation; a
business rejection or a non-retryable failure runs them in reverse.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.archive import ARCHIVE_ORDER, ArchiveReceipt
    from domain.catalogue import PaymentTerms
    from domain.compensation import Undone
    from domain.credit import (
        APPROVE_SIGNAL,
        CHECK_CREDIT,
        REJECT_SIGNAL,
        CreditDecision,
        CreditOutcome,
        StaffDecision,
    )
    from domain.intake import (
        RECEIVE_ORDER,
        RECORD_ORDER_STATUS,
        OrderRef,
        ReceiveOutcome,
        StatusChange,
    )
    from domain.inventory import (
        INSUFFICIENT_STOCK,
        RELEASE_RESERVATIONS,
        RESERVE_STOCK,
        ReservationStatus,
        StockReservation,
    )
    from domain.orders import (
        PAYMENT_RECEIVED_SIGNAL,
        STATUS_QUERY,
        SUBMIT_ORDER_SIGNAL,
        WORKFLOW_TYPE,
        EventKind,
        LineView,
        MoneyView,
        OrderEvent,
        OrderResult,
        OrderStatus,
        OrderSubmission,
        OrderView,
        order_id_from_workflow_id,
    )
    from domain.pricing import line_total
    from domain.settlement import (
        AUTHORISE_PAYMENT,
        CAPTURE_PAYMENT,
        ISSUE_INVOICE,
        ISSUE_RECEIPT,
        PAYMENT_DECLINED,
        RECORD_PAYMENT,
        VOID_AUTHORISATION,
        IncomingPayment,
        InvoiceRecord,
        PaymentBalance,
        PaymentBooking,
        PaymentRecord,
        ReceiptRecord,
    )
    from domain.shipping import (
        BOOK_SHIPMENTS,
        TRACK_SHIPMENT,
        BookedShipments,
        Delivery,
        Milestone,
        TrackingRequest,
    )

from workflows.policies import (
    COMPENSATION_STEP,
    DATABASE_STEP,
    PARTNER_STEP,
    STATUS_WRITE,
    SUBMISSION_WAIT,
    TRACKING_STEP,
    StepPolicy,
)

ResultT = TypeVar("ResultT")

BUSINESS_REJECTIONS = frozenset({INSUFFICIENT_STOCK, PAYMENT_DECLINED})
"""Failure types that mean "we cannot take this order", not "something broke"."""


@dataclass(frozen=True)
class _Compensation:
    """An activity that undoes an earlier step."""

    activity: str
    summary: str
    event: EventKind


@workflow.defn(name=WORKFLOW_TYPE)
class OrderWorkflow:
    """Walks one order through receive, audit, reservation, shipment, settlement, archive."""

    def __init__(self) -> None:
        workflow_id = workflow.info().workflow_id
        self._order_id = order_id_from_workflow_id(workflow_id)
        self._submission: OrderSubmission | None = None
        self._staff_decision: tuple[bool, StaffDecision] | None = None
        self._pending_payments: list[IncomingPayment] = []
        self._seen_payment_ids: set[str] = set()
        self._compensations: list[_Compensation] = []
        self._view = OrderView(
            order_id=self._order_id,
            workflow_id=workflow_id,
            channel="",
            customer_id="",
            status=OrderStatus.RECEIVED,
            money=MoneyView(currency="", total=Decimal(0)),
        )

    # --- run -------------------------------------------------------------------------

    @workflow.run
    async def run(self) -> OrderResult:
        """Process the order once its submission has arrived."""
        try:
            await workflow.wait_condition(
                lambda: self._submission is not None, timeout=SUBMISSION_WAIT
            )
        except TimeoutError:
            self._set_status(
                OrderStatus.REJECTED, [f"no valid submission within {SUBMISSION_WAIT}"]
            )
            return self._result()
        assert self._submission is not None
        try:
            await self._fulfil(self._submission)
        except ActivityError as failure:
            await self._abandon(failure)
        except asyncio.CancelledError:
            await self._compensate()
            raise
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._result()

    async def _fulfil(self, submission: OrderSubmission) -> None:
        self._start_view(submission)
        ref = OrderRef(order_id=self._order_id)

        outcome = await self._step(
            RECEIVE_ORDER,
            submission,
            ReceiveOutcome,
            "Record and validate the order",
            DATABASE_STEP,
        )
        self._view.money.total = outcome.total
        self._view.money.payment_terms = outcome.payment_terms or ""
        self._note(EventKind.RECEIVED)
        if not outcome.accepted:
            self._note(EventKind.REJECTED, "; ".join(outcome.problems))
            self._set_status(OrderStatus.REJECTED, outcome.problems)
            return
        self._note(EventKind.CONFIRMED)
        self._set_status(OrderStatus.CONFIRMED)

        if not await self._pass_credit_review(ref):
            return

        if outcome.payment_terms is PaymentTerms.PREPAID:
            authorisation = await self._step(
                AUTHORISE_PAYMENT, ref, PaymentRecord, "Authorise the prepaid amount", PARTNER_STEP
            )
            self._compensations.append(
                _Compensation(
                    VOID_AUTHORISATION,
                    "Void the payment authorisation",
                    EventKind.AUTHORISATION_VOIDED,
                )
            )
            self._view.money.authorised = authorisation.amount
            self._note(EventKind.PAYMENT_AUTHORISED, authorisation.reference)

        reservation = await self._step(
            RESERVE_STOCK, ref, StockReservation, "Allocate and reserve stock", DATABASE_STEP
        )
        self._compensations.append(
            _Compensation(
                RELEASE_RESERVATIONS, "Release reserved stock", EventKind.RESERVATIONS_RELEASED
            )
        )
        self._view.reservations = reservation.reservations
        self._note(EventKind.STOCK_RESERVED, reservation.allocation_reason)
        self._set_status(OrderStatus.ALLOCATED)

        await self._ship(ref)

        if outcome.payment_terms is PaymentTerms.PREPAID:
            capture = await self._step(
                CAPTURE_PAYMENT, ref, PaymentRecord, "Capture the authorised payment", PARTNER_STEP
            )
            self._view.money.captured = capture.amount
            self._note(EventKind.PAYMENT_CAPTURED, capture.reference)

        invoice = await self._step(
            ISSUE_INVOICE, ref, InvoiceRecord, "Issue the invoice", DATABASE_STEP
        )
        self._view.money.invoice_number = invoice.number
        self._note(EventKind.INVOICE_ISSUED, invoice.number)
        self._set_status(OrderStatus.INVOICED)
        if outcome.payment_terms is PaymentTerms.NET:
            await self._collect_payment()

        receipt = await self._step(
            ISSUE_RECEIPT, ref, ReceiptRecord, "Issue the receipt", DATABASE_STEP
        )
        self._view.money.receipt_number = receipt.number
        self._note(EventKind.RECEIPT_ISSUED, receipt.number)
        self._set_status(OrderStatus.PAID)

        await self._step(ARCHIVE_ORDER, ref, ArchiveReceipt, "Archive the order", DATABASE_STEP)
        self._compensations.clear()
        self._note(EventKind.ARCHIVED)
        self._set_status(OrderStatus.COMPLETED)

    # --- stages ----------------------------------------------------------------------

    async def _pass_credit_review(self, ref: OrderRef) -> bool:
        """Review credit; a hold waits for support staff. True when the order may go on."""
        decision = await self._step(
            CHECK_CREDIT, ref, CreditDecision, "Review the customer's credit", DATABASE_STEP
        )
        if decision.outcome is CreditOutcome.APPROVED:
            self._note(EventKind.CREDIT_APPROVED, decision.reason)
            self._set_status(OrderStatus.APPROVED)
            return True
        self._note(EventKind.CREDIT_HOLD, decision.reason)
        self._set_status(OrderStatus.AWAITING_APPROVAL)
        await workflow.wait_condition(lambda: self._staff_decision is not None)
        assert self._staff_decision is not None
        approved, staff = self._staff_decision
        kind = EventKind.APPROVED_BY_STAFF if approved else EventKind.REJECTED_BY_STAFF
        status = OrderStatus.APPROVED if approved else OrderStatus.REJECTED
        reasons = [] if approved else [f"rejected by {staff.actor}: {staff.reason}"]
        await self._record(
            StatusChange(
                order_id=self._order_id,
                event=kind,
                detail=staff.reason,
                actor=staff.actor,
                status=status,
                step="staff_decision",
                rejection_reasons=reasons,
            )
        )
        self._note(kind, staff.reason, actor=staff.actor)
        self._set_status(status, reasons)
        return approved

    async def _ship(self, ref: OrderRef) -> None:
        """Book the parcels and follow each to delivery."""
        booked = await self._step(
            BOOK_SHIPMENTS, ref, BookedShipments, "Book parcels with the carrier", PARTNER_STEP
        )
        self._view.shipments = booked.shipments
        self._note(
            EventKind.SHIPMENT_BOOKED, ", ".join(s.tracking_number for s in booked.shipments)
        )
        self._set_status(OrderStatus.SHIPMENT_BOOKED)
        deliveries = await asyncio.gather(
            *(
                self._step(
                    TRACK_SHIPMENT,
                    TrackingRequest(order_id=self._order_id, shipment_id=shipment.shipment_id),
                    Delivery,
                    f"Follow parcel {shipment.shipment_id} to delivery",
                    TRACKING_STEP,
                )
                for shipment in booked.shipments
            )
        )
        for shipment in self._view.shipments:
            shipment.status = Milestone.DELIVERED.value
        for reservation in self._view.reservations:
            reservation.status = ReservationStatus.SHIPPED.value
        last = max(delivery.delivered_at for delivery in deliveries)
        await self._record(
            StatusChange(
                order_id=self._order_id,
                event=EventKind.DELIVERED,
                detail=f"all {len(deliveries)} parcel(s) delivered, last at {last.isoformat()}",
                status=OrderStatus.DELIVERED,
                step="delivered",
            )
        )
        self._note(EventKind.DELIVERED)
        self._set_status(OrderStatus.DELIVERED)

    async def _collect_payment(self) -> None:
        """Net terms: book incoming payments until the invoice is paid in full."""
        outstanding = self._view.money.total
        while outstanding > 0:
            await workflow.wait_condition(lambda: bool(self._pending_payments))
            payment = self._pending_payments.pop(0)
            balance = await self._step(
                RECORD_PAYMENT,
                PaymentBooking(order_id=self._order_id, payment=payment),
                PaymentBalance,
                f"Book payment {payment.payment_id}",
                DATABASE_STEP,
            )
            outstanding = balance.outstanding
            self._view.money.received = balance.paid
            self._note(EventKind.PAYMENT_RECEIVED, f"{payment.amount} ({payment.payment_id})")

    async def _abandon(self, failure: ActivityError) -> None:
        """Undo what was done and end REJECTED (business reason) or FAILED."""
        cause = failure.cause
        reason = str(cause.message if isinstance(cause, ApplicationError) else failure)
        rejected = isinstance(cause, ApplicationError) and cause.type in BUSINESS_REJECTIONS
        await self._compensate()
        status = OrderStatus.REJECTED if rejected else OrderStatus.FAILED
        kind = EventKind.REJECTED if rejected else EventKind.FAILED
        await self._record(
            StatusChange(
                order_id=self._order_id,
                event=kind,
                detail=reason,
                status=status,
                step="final_status",
                rejection_reasons=[reason],
            )
        )
        self._note(kind, reason)
        self._set_status(status, [reason])

    async def _compensate(self) -> None:
        """Run the compensation stack in reverse order."""
        ref = OrderRef(order_id=self._order_id)
        while self._compensations:
            compensation = self._compensations.pop()
            undone = await self._step(
                compensation.activity, ref, Undone, compensation.summary, COMPENSATION_STEP
            )
            self._note(compensation.event, undone.detail)

    # --- messages --------------------------------------------------------------------

    @workflow.signal(name=SUBMIT_ORDER_SIGNAL)
    async def submit_order(self, submission: OrderSubmission) -> None:
        """Take the order's submission; a repeat is recorded in the audit log and ignored."""
        if submission.order_id != self._order_id:
            workflow.logger.warning(
                "submission for order %s sent to workflow of order %s: ignored",
                submission.order_id,
                self._order_id,
            )
            return
        if self._submission is None:
            self._submission = submission
            return
        same = "identical to" if submission == self._submission else "differs from"
        detail = f"via {submission.channel.value}; {same} the first submission; ignored"
        self._note(EventKind.DUPLICATE_SUBMISSION, detail)
        await self._record(
            StatusChange(
                order_id=self._order_id, event=EventKind.DUPLICATE_SUBMISSION, detail=detail
            )
        )

    @workflow.signal(name=APPROVE_SIGNAL)
    async def approve(self, decision: StaffDecision) -> None:
        """Support staff approve a held order."""
        await self._decide(True, decision)

    @workflow.signal(name=REJECT_SIGNAL)
    async def reject(self, decision: StaffDecision) -> None:
        """Support staff reject a held order."""
        await self._decide(False, decision)

    async def _decide(self, approved: bool, decision: StaffDecision) -> None:
        if self._view.status is OrderStatus.AWAITING_APPROVAL and self._staff_decision is None:
            self._staff_decision = (approved, decision)
            return
        verb = "approve" if approved else "reject"
        detail = f"{verb} by {decision.actor} ignored: order is {self._view.status.value}"
        self._note(EventKind.SIGNAL_IGNORED, detail, actor=decision.actor)
        await self._record(
            StatusChange(
                order_id=self._order_id,
                event=EventKind.SIGNAL_IGNORED,
                detail=detail,
                actor=decision.actor,
            )
        )

    @workflow.signal(name=PAYMENT_RECEIVED_SIGNAL)
    def payment_received(self, payment: IncomingPayment) -> None:
        """Money arrived for a net-terms order; the same bank id twice counts once."""
        if payment.payment_id in self._seen_payment_ids:
            return
        self._seen_payment_ids.add(payment.payment_id)
        self._pending_payments.append(payment)

    @workflow.query(name=STATUS_QUERY)
    def status(self) -> OrderView:
        """The full view of the order."""
        return self._view

    # --- helpers ---------------------------------------------------------------------

    async def _step(
        self, activity: str, arg: Any, result_type: type[ResultT], summary: str, policy: StepPolicy
    ) -> ResultT:
        result: ResultT = await workflow.execute_activity(
            activity,
            arg,
            result_type=result_type,
            start_to_close_timeout=policy.start_to_close,
            heartbeat_timeout=policy.heartbeat,
            retry_policy=policy.retry,
            summary=summary,
        )
        return result

    async def _record(self, change: StatusChange) -> None:
        await workflow.execute_local_activity(
            RECORD_ORDER_STATUS,
            change,
            start_to_close_timeout=STATUS_WRITE.start_to_close,
            retry_policy=STATUS_WRITE.retry,
            summary=f"Record {change.event.value}",
        )

    def _start_view(self, submission: OrderSubmission) -> None:
        self._view.channel = submission.channel.value
        self._view.customer_id = submission.customer_id
        self._view.money.currency = submission.currency
        self._view.lines = [
            LineView(
                line_no=line_no,
                sku=line.sku,
                quantity=line.quantity,
                unit_price=line.unit_price,
                line_total=line_total(line),
            )
            for line_no, line in enumerate(submission.lines, start=1)
        ]

    def _note(self, kind: EventKind, detail: str = "", actor: str = "system") -> None:
        self._view.history.append(
            OrderEvent(at=workflow.now(), kind=kind.value, detail=detail, actor=actor)
        )

    def _set_status(self, status: OrderStatus, reasons: list[str] | None = None) -> None:
        self._view.status = status
        if reasons:
            self._view.rejection_reasons = reasons

    def _result(self) -> OrderResult:
        return OrderResult(
            order_id=self._order_id,
            status=self._view.status,
            reasons=self._view.rejection_reasons,
            invoice_number=self._view.money.invoice_number,
            receipt_number=self._view.money.receipt_number,
        )
