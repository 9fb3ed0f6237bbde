"""OrderWorkflow: one durable workflow per order, from receipt to archive.

Started by signal-with-start (signal ``submit_order``). Calls activities by the
names their areas own in ``domain``, so this module never imports persistence
or integrations. Shortages go to one ``SupplyWorkflow`` per line, parcels to
one ``ShipmentWorkflow`` each.

Every step that can be undone pushes its compensation *before* it runs (undo
steps cope with "nothing to undo"), so a cancellation that lands while a step
is running still undoes it. A cancellation (signal ``cancel`` or a Temporal
cancellation), a refund chosen for a lost parcel, a business rejection or a
non-retryable failure all run the stack in reverse, shielded from further
cancellation. An undo that keeps failing makes the order NEEDS_ATTENTION until
support sends ``retry_compensation``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RawValue, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel

    from domain.archive import ARCHIVE_ORDER, ArchiveReceipt
    from domain.catalogue import PaymentTerms
    from domain.compensation import Undone, UndoRequest
    from domain.credit import (
        APPROVAL_LADDER,
        APPROVE_SIGNAL,
        CHECK_CREDIT,
        REJECT_SIGNAL,
        CreditDecision,
        CreditOutcome,
        approval_subject,
    )
    from domain.escalation import (
        EXTEND_DEADLINE_SIGNAL,
        DeadlineExtension,
        EscalationRung,
        LadderPosition,
    )
    from domain.intake import (
        RECEIVE_ORDER,
        RECORD_REFUSED_SUBMISSION,
        SUBMITTED_UNENCRYPTED,
        OrderRef,
        ReceiveOutcome,
        RefusedSubmission,
        StatusChange,
    )
    from domain.inventory import (
        INSUFFICIENT_STOCK,
        RELEASE_RESERVATIONS,
        RESERVE_STOCK,
        Backorder,
        ReservationStatus,
        StockReservation,
    )
    from domain.messages import ARRIVED_UNENCRYPTED, MESSAGE_REFUSED, read_message
    from domain.notifications import Audience
    from domain.order_actions import (
        LEFT_THE_WAREHOUSE,
        Situation,
        approval_refusal,
        cancel_refusal,
        extension_refusal,
        payment_refusal,
        retry_refusal,
    )
    from domain.orders import (
        CANCEL_SIGNAL,
        CHANNEL_WORDS,
        PAYMENT_RECEIVED_SIGNAL,
        RETRY_COMPENSATION_SIGNAL,
        STATUS_QUERY,
        SUBMIT_ORDER_SIGNAL,
        UPDATE_SUFFIX,
        WORKFLOW_TYPE,
        EventKind,
        LineView,
        MoneyView,
        OrderEvent,
        OrderResult,
        OrderStatus,
        OrderSubmission,
        OrderView,
        ReservationView,
        ShipmentView,
        StaffDecision,
        SupplyView,
        WaitView,
        order_id_from_workflow_id,
    )
    from domain.pricing import line_total
    from domain.settlement import (
        AUTHORISE_PAYMENT,
        CAPTURE_PAYMENT,
        DUNNING_LADDER,
        ISSUE_INVOICE,
        ISSUE_RECEIPT,
        PAYMENT_DECLINED,
        RECORD_PAYMENT,
        REFUND_PAYMENT,
        VOID_AUTHORISATION,
        VOID_INVOICE,
        IncomingPayment,
        InvoiceRecord,
        PaymentBalance,
        PaymentBooking,
        PaymentRecord,
        ReceiptRecord,
        dunning_message,
        dunning_subject,
        more_than_owed,
    )
    from domain.shipping import (
        CANCEL_SHIPMENT,
        PLAN_SHIPMENTS,
        SHIPMENT_PROGRESS_SIGNAL,
        SHIPMENT_WORKFLOW_TYPE,
        PlannedShipments,
        ShipmentOutcome,
        ShipmentProgress,
        ShipmentStatus,
        shipment_workflow_id,
    )
    from domain.supply import (
        CANCEL_SUPPLY_ORDER,
        SUPPLY_PROGRESS_SIGNAL,
        SUPPLY_WORKFLOW_TYPE,
        SupplyRequest,
        SupplyResult,
        supply_workflow_id,
    )
    from domain.visibility import (
        CHANNEL,
        CUSTOMER_ID,
        ESCALATION_LEVEL,
        NEEDS_ATTENTION,
        ORDER_ID,
        ORDER_STAGE,
        ORDER_STATUS,
        ORDER_TOTAL,
        PROMISED_DATE,
        STAGE_OF_STATUS,
    )
    from domain.wording import N_, Wording

from workflows._common import (
    EscalatingWait,
    Inbound,
    deliver,
    english,
    ignored,
    next_rung_details,
    notify,
    read_payloads,
    read_update,
    record,
    records_ignored_messages,
    refuse,
    refused,
    run_step,
    runs_database_steps_locally,
)
from workflows.patches import INTAKE_NOTICE
from workflows.policies import (
    COMPENSATION_STEP,
    DATABASE_STEP,
    PARTNER_STEP,
    SUBMISSION_WAIT,
    StepPolicy,
)

ResultT = TypeVar("ResultT")
MessageT = TypeVar("MessageT", bound=BaseModel)

SIGNALS_DESCRIPTION = (
    "Signals: submit_order (OrderSubmission), approve, reject, cancel, retry_compensation "
    "(StaffDecision), extend_deadline (DeadlineExtension), payment_received (IncomingPayment). "
    "A payload that cannot be read is recorded in the order's audit log and ignored."
)
"""Shown by the Web UI for the one handler every signal goes through."""

BUSINESS_REJECTIONS = frozenset({INSUFFICIENT_STOCK, PAYMENT_DECLINED})
"""Failure types that mean "we cannot take this order", not "something broke"."""


def _texts(said: str | Wording) -> tuple[str, Wording | None]:
    """The English text of ``said`` (kept in the plain fields) and its wording, if it has one."""
    if isinstance(said, Wording):
        return said.english(), said
    return said, None


def _plain(text: str) -> Wording:
    """Text that has no catalogue message (older results) as a wording: shown as it is."""
    return Wording(message="%(text)s", args={"text": text})


class _CancellationRequestedError(Exception):
    """Raised at the next checkpoint once a cancellation has been accepted."""


@dataclass(frozen=True)
class _Compensation:
    """How to undo one step: a coroutine that reports what it undid."""

    summary: str
    event: EventKind
    undo: Callable[[], Awaitable[Undone]]


@workflow.defn(name=WORKFLOW_TYPE)
class OrderWorkflow:
    """Walks one order through receive, audit, supply, shipment, settlement, archive."""

    def __init__(self) -> None:
        workflow_id = workflow.info().workflow_id
        self._order_id = order_id_from_workflow_id(workflow_id)
        self._submission: OrderSubmission | None = None
        self._refused_submission: list[str] | None = None
        self._terms: PaymentTerms | None = None
        self._staff_decision: tuple[bool, StaffDecision] | None = None
        self._cancellation: StaffDecision | None = None
        self._retry: StaffDecision | None = None
        self._pending_payments: list[IncomingPayment] = []
        self._seen_payment_ids: set[str] = set()
        self._taken = Decimal(0)
        """The sum of the payments taken (booked or waiting to be): what is no longer owed."""
        self._compensations: list[_Compensation] = []
        self._undo_reason = ""
        self._wait: EscalatingWait | None = None
        self._own_attention: Wording | None = None
        self._supplies: dict[int, workflow.ChildWorkflowHandle[Any, SupplyResult]] = {}
        self._parcels: dict[str, workflow.ChildWorkflowHandle[Any, ShipmentOutcome]] = {}
        self._delivered = False
        self._local_steps = False
        self._any_client = False
        self._published: dict[str, Any] = {}
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
        self._local_steps = runs_database_steps_locally()
        self._any_client = records_ignored_messages()
        if self._any_client:
            self._show()
        try:
            await workflow.wait_condition(
                lambda: (
                    self._submission is not None
                    or self._refused_submission is not None
                    or self._cancellation is not None
                ),
                timeout=SUBMISSION_WAIT,
                timeout_summary="Wait for the order's submission",
            )
        except TimeoutError:
            self._refused_submission = [
                f"submit_order: no order document arrived within {SUBMISSION_WAIT} of the start"
            ]
        if self._refused_submission is not None and self._any_client:
            await self._refuse_submission(self._refused_submission)
            return self._result()
        if self._submission is None:
            if self._cancellation is None:
                self._set_status(OrderStatus.REJECTED, self._refused_submission)
            else:
                self._set_status(OrderStatus.CANCELLED, [self._cancellation_reason()])
            return self._result()
        outcome = await self._receive(self._submission)
        if outcome.accepted:
            try:
                await self._fulfil(outcome)
            except (_CancellationRequestedError, asyncio.CancelledError):
                await self._shielded(self._cancelled())
            except (ActivityError, ChildWorkflowError) as failure:
                if self._cancel_requested():
                    await self._shielded(self._cancelled())
                else:
                    await self._shielded(self._abandon(failure))
        await workflow.wait_condition(workflow.all_handlers_finished)
        if workflow.cancellation_reason() is not None:
            raise asyncio.CancelledError(self._cancellation_reason())
        return self._result()

    async def _receive(self, submission: OrderSubmission) -> ReceiveOutcome:
        """Record and validate; an invalid order ends here, REJECTED with every reason."""
        self._start_view(submission)
        outcome = await run_step(
            RECEIVE_ORDER,
            submission,
            ReceiveOutcome,
            "Record and validate the order",
            DATABASE_STEP,
        )
        if outcome.earlier_status is not None:
            await self._end_as_duplicate(outcome.earlier_status)
            return outcome
        self._terms = outcome.payment_terms
        self._view.money.total = outcome.total
        self._show()
        self._view.money.payment_terms = outcome.payment_terms or ""
        self._note(EventKind.RECEIVED)
        if not outcome.accepted:
            self._note(EventKind.REJECTED, "; ".join(outcome.problems))
            self._set_status(OrderStatus.REJECTED, outcome.problems)
        else:
            self._note(EventKind.CONFIRMED)
            self._set_status(OrderStatus.CONFIRMED)
        # Orders with local database steps all tell the customer at intake.
        if self._local_steps or workflow.patched(INTAKE_NOTICE):
            await self._tell_customer_about_intake(submission, outcome)
        return outcome

    async def _refuse_submission(self, problems: list[str]) -> None:
        """No readable order document: record the order REJECTED at once, naming every field."""
        outcome = await run_step(
            RECORD_REFUSED_SUBMISSION,
            RefusedSubmission(order_id=self._order_id, problems=problems),
            ReceiveOutcome,
            "Record the refused order document",
            DATABASE_STEP,
        )
        if outcome.earlier_status is not None:
            await self._end_as_duplicate(outcome.earlier_status)
            return
        self._note(EventKind.RECEIVED)
        self._note(EventKind.REJECTED, "; ".join(problems))
        self._set_status(OrderStatus.REJECTED, problems)

    async def _end_as_duplicate(self, earlier_status: OrderStatus) -> None:
        """An earlier run took this order: this run records the repeat and does nothing else."""
        detail = Wording(
            message=N_(
                "a new run (%(run)s) of an order that an earlier run took (now %(status)s); "
                "it ended at once and changed nothing"
            ),
            args={"run": workflow.info().run_id, "status": earlier_status.value},
        )
        await self._note_and_record(EventKind.DUPLICATE_SUBMISSION, detail)
        self._view.rejection_reasons = [detail.english()]
        self._set_status(earlier_status)

    async def _tell_customer_about_intake(
        self, submission: OrderSubmission, outcome: ReceiveOutcome
    ) -> None:
        """Confirm the order to the customer, or tell them every reason it was not accepted."""
        if outcome.accepted:
            subject = f"Order {self._order_id}: confirmed"
            message = (
                f"we have your order {self._order_id} for {outcome.total} {submission.currency}; "
                "we will tell you when it ships"
            )
        else:
            subject = f"Order {self._order_id}: not accepted"
            message = "we could not accept your order: " + "; ".join(outcome.problems)
        await notify(self._order_id, "intake", Audience.CUSTOMER, subject, message)

    async def _fulfil(self, outcome: ReceiveOutcome) -> None:
        self._checkpoint()
        ref = OrderRef(order_id=self._order_id)
        if not await self._pass_credit_review(ref):
            return

        prepaid = outcome.payment_terms is PaymentTerms.PREPAID
        if prepaid:
            self._push_undo(
                VOID_AUTHORISATION,
                N_("Void the payment authorisation"),
                EventKind.AUTHORISATION_VOIDED,
            )
            authorisation = await self._step(
                AUTHORISE_PAYMENT, ref, PaymentRecord, "Authorise the prepaid amount", PARTNER_STEP
            )
            self._view.money.authorised = authorisation.amount
            self._note(EventKind.PAYMENT_AUTHORISED, authorisation.reference)

        self._push_undo(
            RELEASE_RESERVATIONS, N_("Release reserved stock"), EventKind.RESERVATIONS_RELEASED
        )
        reservation = await self._step(
            RESERVE_STOCK, ref, StockReservation, "Allocate and reserve stock", DATABASE_STEP
        )
        self._view.reservations = reservation.reservations
        self._note(
            EventKind.STOCK_RESERVED,
            reservation.allocation_wording or reservation.allocation_reason,
        )
        if reservation.backorders:
            await self._supply(reservation.backorders)
        else:
            self._set_status(OrderStatus.ALLOCATED)

        invoice = await self._ship_and_invoice(ref, prepaid)
        if not prepaid:
            await self._collect_payment(invoice)
        receipt = await self._step(
            ISSUE_RECEIPT, ref, ReceiptRecord, "Issue the receipt", DATABASE_STEP
        )
        self._view.money.receipt_number = receipt.number
        self._note(EventKind.RECEIPT_ISSUED, receipt.number)
        self._set_status(OrderStatus.PAID)

        await self._step(ARCHIVE_ORDER, ref, ArchiveReceipt, "Archive the order", DATABASE_STEP)
        self._compensations.clear()
        self._note(EventKind.ARCHIVED, Wording(message=N_("archive record written")))
        self._set_status(OrderStatus.COMPLETED)

    # --- audit: credit review and the approval ladder ---------------------------------

    async def _pass_credit_review(self, ref: OrderRef) -> bool:
        """Review credit; a hold waits for support under the approval ladder."""
        decision = await self._step(
            CHECK_CREDIT, ref, CreditDecision, "Review the customer's credit", DATABASE_STEP
        )
        if decision.outcome is CreditOutcome.APPROVED:
            self._note(EventKind.CREDIT_APPROVED, decision.wording or decision.reason)
            self._set_status(OrderStatus.APPROVED)
            return True
        self._note(EventKind.CREDIT_HOLD, decision.wording or decision.reason)
        self._set_status(OrderStatus.AWAITING_APPROVAL)
        wait = self._start_wait(
            EscalatingWait(
                APPROVAL_LADDER,
                workflow.now(),
                order_id=self._order_id,
                subject=approval_subject(self._order_id, decision),
                key="approval",
            ),
            Wording(message=N_("an approve or reject decision from support staff")),
        )
        decided = await wait.until(
            lambda: self._staff_decision is not None or self._cancel_requested(), self._on_rung
        )
        self._end_wait()
        self._checkpoint()
        if not decided:
            reason = Wording(
                message=N_(
                    "held for approval (%(reason)s) and not decided within %(hours)s hours: "
                    "auto-rejected"
                ),
                args={"hours": int(APPROVAL_LADDER.rungs[-1].after.total_seconds() // 3600)},
                parts={"reason": decision.wording or _plain(decision.reason)},
            )
            await self._finish(OrderStatus.REJECTED, EventKind.AUTO_REJECTED, reason)
            return False
        assert self._staff_decision is not None
        approved, staff = self._staff_decision
        kind = EventKind.APPROVED_BY_STAFF if approved else EventKind.REJECTED_BY_STAFF
        if not approved:
            await self._finish(
                OrderStatus.REJECTED,
                kind,
                Wording(
                    message=N_("rejected by %(actor)s: %(reason)s"),
                    args={"actor": staff.actor, "reason": staff.reason},
                ),
                staff.actor,
            )
            return False
        await record(
            StatusChange(
                order_id=self._order_id,
                event=kind,
                detail=staff.reason,
                actor=staff.actor,
                status=OrderStatus.APPROVED,
                step="staff_decision",
                needs_attention="",
            )
        )
        self._note(kind, staff.reason, actor=staff.actor)
        self._set_status(OrderStatus.APPROVED)
        return True

    # --- supply for shortages ---------------------------------------------------------

    async def _supply(self, backorders: list[Backorder]) -> None:
        """One supply workflow per short line; wait until every unit has arrived."""
        self._set_status(OrderStatus.AWAITING_SUPPLY)
        for backorder in backorders:
            request = SupplyRequest(
                order_id=self._order_id,
                line_no=backorder.line_no,
                sku=backorder.sku,
                quantity=backorder.quantity,
            )
            self._view.supply.append(
                SupplyView(
                    line_no=backorder.line_no,
                    sku=backorder.sku,
                    kind="",
                    quantity=backorder.quantity,
                    status="ordering",
                )
            )
            self._compensations.append(
                _Compensation(
                    f"Cancel the supply order for line {backorder.line_no}",
                    EventKind.SUPPLY_CANCELLED,
                    partial(self._cancel_supply, request),
                )
            )
            self._supplies[backorder.line_no] = await workflow.start_child_workflow(
                SUPPLY_WORKFLOW_TYPE,
                request,
                id=supply_workflow_id(self._order_id, backorder.line_no),
                result_type=SupplyResult,
                static_summary=(
                    f"Supply {backorder.quantity} x {backorder.sku} for order "
                    f"{self._order_id} line {backorder.line_no}"
                ),
                static_details=(
                    f"Stock could not cover line {backorder.line_no}; this production or "
                    "purchase order brings the rest, then it is reserved for the order."
                ),
            )
        self._view.waiting = WaitView(
            waiting_for_wording=Wording(
                message=N_("supply for %(count)s line(s)"), args={"count": len(backorders)}
            ),
            since=workflow.now(),
        )
        self._describe()
        await self._until(lambda: all(handle.done() for handle in self._supplies.values()))
        for result in [handle.result() for handle in self._supplies.values()]:
            self._reserve_in_view(result)
        self._view.waiting = None
        self._set_status(OrderStatus.ALLOCATED)
        await record(
            StatusChange(
                order_id=self._order_id,
                event=EventKind.STOCK_RESERVED,
                wording=Wording(message=N_("every short line has arrived and is reserved")),
                status=OrderStatus.ALLOCATED,
                step="supply_complete",
                needs_attention="",
            )
        )

    def _reserve_in_view(self, arrived: SupplyResult) -> None:
        """Show the units a supply order brought among the order's reservations."""
        for reservation in self._view.reservations:
            if (reservation.line_no, reservation.warehouse_id) == (
                arrived.line_no,
                arrived.warehouse_id,
            ):
                reservation.quantity += arrived.reserved
                return
        self._view.reservations.append(
            ReservationView(
                line_no=arrived.line_no,
                sku=arrived.sku,
                warehouse_id=arrived.warehouse_id,
                quantity=arrived.reserved,
                status=ReservationStatus.ACTIVE.value,
            )
        )

    async def _cancel_supply(self, request: SupplyRequest) -> Undone:
        handle = self._supplies.get(request.line_no)
        if handle is not None and not handle.done():
            handle.cancel()
            await workflow.wait([handle])
        return await run_step(
            CANCEL_SUPPLY_ORDER,
            request,
            Undone,
            f"Cancel the supply order for line {request.line_no}",
            COMPENSATION_STEP,
        )

    # --- shipment, settlement at shipment, delivery -----------------------------------

    async def _ship_and_invoice(self, ref: OrderRef, prepaid: bool) -> InvoiceRecord:
        """Plan and book the parcels, settle at shipment, wait for delivery."""
        self._compensations.append(
            _Compensation(
                N_("Cancel the parcels"), EventKind.SHIPMENT_CANCELLED, self._cancel_parcels
            )
        )
        planned = await self._step(
            PLAN_SHIPMENTS, ref, PlannedShipments, "Plan one parcel per warehouse", DATABASE_STEP
        )
        for request in planned.shipments:
            self._view.shipments.append(
                ShipmentView(
                    shipment_id=request.shipment_id,
                    warehouse_id=request.warehouse_id,
                    status=ShipmentStatus.PLANNED.value,
                )
            )
            self._parcels[request.shipment_id] = await workflow.start_child_workflow(
                SHIPMENT_WORKFLOW_TYPE,
                request,
                id=shipment_workflow_id(request.shipment_id),
                result_type=ShipmentOutcome,
                static_summary=(
                    f"Parcel {request.shipment_id} of order {self._order_id}: "
                    f"{request.units} unit(s) from {request.warehouse_id}"
                ),
                static_details=(
                    "Books the carrier, follows tracking to delivery, tells the customer at "
                    "each milestone and escalates when late against the promised date."
                ),
            )
        await self._until(
            lambda: (
                all(s.status != ShipmentStatus.PLANNED.value for s in self._view.shipments)
                or any(handle.done() for handle in self._parcels.values())
            )
        )
        for handle in self._parcels.values():
            if handle.done():
                handle.result()
        await self._record_status(
            OrderStatus.SHIPMENT_BOOKED,
            EventKind.SHIPMENT_BOOKED,
            Wording(
                message=N_("%(count)s parcel(s) booked"), args={"count": len(planned.shipments)}
            ),
        )

        if prepaid:
            self._push_undo(
                REFUND_PAYMENT, N_("Refund the captured payment"), EventKind.PAYMENT_REFUNDED
            )
            capture = await self._step(
                CAPTURE_PAYMENT, ref, PaymentRecord, "Capture the authorised payment", PARTNER_STEP
            )
            self._view.money.captured = capture.amount
            self._note(EventKind.PAYMENT_CAPTURED, capture.reference)
        self._push_undo(
            VOID_INVOICE, N_("Void the invoice by credit note"), EventKind.INVOICE_VOIDED
        )
        invoice = await self._step(
            ISSUE_INVOICE, ref, InvoiceRecord, "Issue the invoice", DATABASE_STEP
        )
        self._view.money.invoice_number = invoice.number
        self._view.money.due_date = invoice.due_date
        self._note(EventKind.INVOICE_ISSUED, invoice.number)
        self._set_status(OrderStatus.INVOICED)

        self._view.waiting = WaitView(
            waiting_for_wording=Wording(message=N_("delivery of every parcel")),
            since=workflow.now(),
        )
        self._describe()
        await self._until(lambda: all(handle.done() for handle in self._parcels.values()))
        outcomes = [handle.result() for handle in self._parcels.values()]
        self._view.waiting = None
        refunded = [outcome for outcome in outcomes if outcome.refunded]
        if refunded:
            self._cancellation = StaffDecision(actor="support", reason=refunded[0].detail)
            raise _CancellationRequestedError
        last = max(outcome.delivered_at for outcome in outcomes if outcome.delivered_at)
        self._delivered = True
        await self._record_status(
            OrderStatus.DELIVERED,
            EventKind.DELIVERED,
            Wording(
                message=N_("all %(count)s parcel(s) delivered, last at %(at)s"),
                args={"count": len(outcomes)},
                moments={"at": last},
            ),
        )
        return invoice

    async def _cancel_parcels(self) -> Undone:
        """Stop following the parcels, then cancel those not yet on their way."""
        running = [handle for handle in self._parcels.values() if not handle.done()]
        for handle in running:
            handle.cancel()
        if running:
            await workflow.wait(running)
        request = UndoRequest(order_id=self._order_id, reason=self._undo_reason)
        return await run_step(
            CANCEL_SHIPMENT, request, Undone, "Cancel the parcels", COMPENSATION_STEP
        )

    # --- net terms: payment under the dunning ladder ----------------------------------

    async def _collect_payment(self, invoice: InvoiceRecord) -> None:
        """Book incoming payments until the invoice is paid, dunning from the due date."""
        due = datetime.combine(invoice.due_date, time(), UTC)
        wait = self._start_wait(
            EscalatingWait(
                DUNNING_LADDER,
                due,
                order_id=self._order_id,
                subject=dunning_subject(invoice, self._order_id),
                key="dunning",
                explain=lambda rung: dunning_message(invoice, self._view.money.received, rung),
            ),
            Wording(message=N_("payment of invoice %(invoice)s"), args={"invoice": invoice.number}),
        )
        outstanding = invoice.amount - self._view.money.received
        while outstanding > 0:
            await wait.until(lambda: bool(self._pending_payments), self._on_rung)
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
            self._note(
                EventKind.PAYMENT_RECEIVED,
                f"{payment.amount} ({payment.payment_id})",
                actor=payment.actor or "system",
            )
        self._end_wait()
        if self._own_attention is not None:
            self._own_attention = None
            self._refresh_attention()
            await record(
                StatusChange(
                    order_id=self._order_id,
                    event=EventKind.PAYMENT_RECEIVED,
                    wording=Wording(
                        message=N_("invoice %(invoice)s paid in full"),
                        args={"invoice": invoice.number},
                    ),
                    needs_attention="",
                )
            )

    # --- ending: rejection, failure, cancellation -------------------------------------

    async def _abandon(self, failure: ActivityError | ChildWorkflowError) -> None:
        """Undo what was done and end REJECTED (business reason) or FAILED."""
        cause = failure.cause
        while isinstance(cause, ActivityError | ChildWorkflowError):
            cause = cause.cause
        reason = str(cause.message if isinstance(cause, ApplicationError) else failure)
        rejected = isinstance(cause, ApplicationError) and cause.type in BUSINESS_REJECTIONS
        self._undo_reason = reason
        await self._compensate()
        if rejected:
            await self._finish(OrderStatus.REJECTED, EventKind.REJECTED, reason)
        else:
            await self._finish(OrderStatus.FAILED, EventKind.FAILED, reason)

    async def _cancelled(self) -> None:
        """Undo everything and end CANCELLED."""
        reason = self._cancellation_wording()
        actor = self._cancellation.actor if self._cancellation else "temporal"
        self._undo_reason = reason.english()
        await self._compensate()
        await self._finish(OrderStatus.CANCELLED, EventKind.CANCELLED, reason, actor)

    async def _compensate(self) -> None:
        """Run the compensation stack in reverse; an undo that keeps failing waits for a person."""
        while self._compensations:
            compensation = self._compensations[-1]
            try:
                undone = await compensation.undo()
            except (ActivityError, ChildWorkflowError) as failure:
                await self._wait_for_retry(compensation, failure)
                continue
            self._compensations.pop()
            self._note(compensation.event, undone.wording or undone.detail)
            if compensation.event is EventKind.AUTHORISATION_VOIDED and self._authorisation_voided(
                undone
            ):
                self._view.money.voided = self._view.money.authorised

    @staticmethod
    def _authorisation_voided(undone: Undone) -> bool:
        return undone.detail.startswith("authorisation voided")

    async def _wait_for_retry(
        self, compensation: _Compensation, failure: ActivityError | ChildWorkflowError
    ) -> None:
        cause = failure.cause if failure.cause is not None else failure
        reason = Wording(
            message=N_("undo step '%(step)s' keeps failing: %(cause)s"),
            args={"cause": str(cause)},
            terms={"step": compensation.summary},
        )
        status_before = self._view.status
        self._own_attention = reason
        self._refresh_attention()
        self._set_status(OrderStatus.NEEDS_ATTENTION)
        await record(
            StatusChange(
                order_id=self._order_id,
                event=EventKind.NEEDS_ATTENTION,
                wording=reason,
                status=OrderStatus.NEEDS_ATTENTION,
                needs_attention_wording=reason,
            )
        )
        self._note(EventKind.NEEDS_ATTENTION, reason)
        await notify(
            self._order_id,
            f"compensation:{len(self._view.history)}",
            Audience.SUPPORT,
            f"Order {self._order_id} needs attention",
            f"{reason.english()}. Fix the cause, then send retry_compensation (oms retry).",
        )
        await workflow.wait_condition(lambda: self._retry is not None)
        assert self._retry is not None
        staff, self._retry = self._retry, None
        self._own_attention = None
        self._refresh_attention()
        self._set_status(status_before)
        retried = Wording(
            message=N_("%(step)s: %(reason)s"),
            args={"reason": staff.reason},
            terms={"step": compensation.summary},
        )
        await record(
            StatusChange(
                order_id=self._order_id,
                event=EventKind.COMPENSATION_RETRIED,
                wording=retried,
                actor=staff.actor,
                status=status_before,
                needs_attention="",
            )
        )
        self._note(EventKind.COMPENSATION_RETRIED, retried, actor=staff.actor)

    async def _finish(
        self, status: OrderStatus, kind: EventKind, reason: str | Wording, actor: str = "system"
    ) -> None:
        """Record the final status with its reason; nobody needs to act any more."""
        english, wording = _texts(reason)
        await record(
            StatusChange(
                order_id=self._order_id,
                event=kind,
                detail=english,
                wording=wording,
                actor=actor,
                status=status,
                step="final_status",
                rejection_reasons=[english],
                needs_attention="",
            )
        )
        self._own_attention = None
        self._view.needs_attention = None
        self._view.needs_attention_wording = None
        self._view.waiting = None
        self._note(kind, reason, actor=actor)
        self._set_status(status, [english])

    @staticmethod
    async def _shielded(work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` to the end even if the workflow is cancelled meanwhile."""
        task = asyncio.create_task(work)
        while not task.done():
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                continue
        task.result()

    # --- messages --------------------------------------------------------------------

    @workflow.signal(dynamic=True, description=SIGNALS_DESCRIPTION)
    async def on_signal(self, name: str, payloads: Sequence[RawValue]) -> None:
        """Every signal comes in here and is read field by field (see ``deliver``)."""
        if name == SUBMIT_ORDER_SIGNAL:
            await self._take_submission(payloads)
            return
        inbound: dict[str, Inbound[Any]] = {
            SUBMIT_ORDER_SIGNAL: Inbound(OrderSubmission, lambda _: None),  # taken above
            APPROVE_SIGNAL: Inbound(StaffDecision, partial(self._decide_by_signal, True)),
            REJECT_SIGNAL: Inbound(StaffDecision, partial(self._decide_by_signal, False)),
            CANCEL_SIGNAL: Inbound(StaffDecision, self._cancel_by_signal),
            EXTEND_DEADLINE_SIGNAL: Inbound(DeadlineExtension, self._extend_by_signal),
            RETRY_COMPENSATION_SIGNAL: Inbound(StaffDecision, self._retry_by_signal),
            PAYMENT_RECEIVED_SIGNAL: Inbound(IncomingPayment, self._take_payment),
            SUPPLY_PROGRESS_SIGNAL: Inbound(SupplyView, self._supply_progress),
            SHIPMENT_PROGRESS_SIGNAL: Inbound(ShipmentProgress, self._shipment_progress),
        }
        await deliver(name, payloads, inbound, self._message_ignored)

    async def _take_submission(self, payloads: Sequence[RawValue]) -> None:
        """The order's document; a repeat is recorded in the audit log and ignored.

        A first document that cannot be read, names another order, or arrived
        unencrypted ends the order REJECTED at once with every reason.
        """
        reading = read_payloads(OrderSubmission, payloads)
        submission = reading.value
        if self._submission is not None or self._refused_submission is not None:
            detail: Wording
            if submission is None:
                detail = Wording(
                    message=N_("unreadable repeat ignored: %(problems)s"),
                    args={"problems": reading.summary()},
                )
            elif submission == self._submission:
                detail = Wording(
                    message=N_("via %(channel)s; identical to the first submission; ignored"),
                    terms={"channel": CHANNEL_WORDS[submission.channel]},
                )
            else:
                detail = Wording(
                    message=N_("via %(channel)s; differs from the first submission; ignored"),
                    terms={"channel": CHANNEL_WORDS[submission.channel]},
                )
            await self._note_and_record(EventKind.DUPLICATE_SUBMISSION, detail)
            return
        if not records_ignored_messages():  # started before refusals were recorded
            if submission is not None and submission.order_id == self._order_id:
                self._submission = submission
            else:
                workflow.logger.warning("order %s: submission ignored", self._order_id)
            return
        if submission is None:
            self._refused_submission = reading.problems
        elif submission.order_id != self._order_id:
            self._refused_submission = [
                f"order_id {submission.order_id!r}: the workflow is "
                f"{workflow.info().workflow_id!r}, for order {self._order_id!r}; send each order "
                "to workflow order-<order_id>"
            ]
        elif any(ARRIVED_UNENCRYPTED in raw.payload.metadata for raw in payloads):
            workflow.logger.warning(
                "security: order %s was submitted unencrypted (its personal data is in the "
                "history in clear); refused",
                self._order_id,
            )
            self._refused_submission = [SUBMITTED_UNENCRYPTED]
        else:
            self._submission = submission

    async def _decide_by_signal(self, approved: bool, decision: StaffDecision) -> None:
        await self._decide(approved, decision, self._approval_refusal())

    @workflow.update(name=APPROVE_SIGNAL + UPDATE_SUFFIX)
    async def approve_now(self, *arguments: Any) -> str:
        """As ``approve``, answering at once; refused (and recorded) when the order is not held."""
        decision = await self._take_update(APPROVE_SIGNAL, StaffDecision, arguments)
        await self._refuse_if(self._approval_refusal(), APPROVE_SIGNAL, decision.actor)
        await self._decide(True, decision, None)
        return f"order {self._order_id} approved by {decision.actor}"

    @workflow.update(name=REJECT_SIGNAL + UPDATE_SUFFIX)
    async def reject_now(self, *arguments: Any) -> str:
        """As ``reject``, answering at once; refused (and recorded) when the order is not held."""
        decision = await self._take_update(REJECT_SIGNAL, StaffDecision, arguments)
        await self._refuse_if(self._approval_refusal(), REJECT_SIGNAL, decision.actor)
        await self._decide(False, decision, None)
        return f"order {self._order_id} rejected by {decision.actor}"

    def _approval_refusal(self) -> Wording | None:
        return approval_refusal(self._view, self._situation())

    async def _decide(
        self, approved: bool, decision: StaffDecision, refusal: Wording | None
    ) -> None:
        if refusal is None:
            self._staff_decision = (approved, decision)
            return
        verb = APPROVE_SIGNAL if approved else REJECT_SIGNAL
        await self._ignored(ignored(verb, decision.actor, refusal), decision.actor)

    async def _cancel_by_signal(self, decision: StaffDecision) -> None:
        """Cancel the order and undo what was done; refused (and recorded) after dispatch."""
        refusal = self._cancel_refusal()
        if refusal is not None:
            detail = refused(CANCEL_SIGNAL, refusal, decision.actor)
            await self._note_and_record(EventKind.CANCELLATION_REFUSED, detail, decision.actor)
            return
        await self._accept_cancellation(decision)

    @workflow.update(name=CANCEL_SIGNAL + UPDATE_SUFFIX)
    async def cancel_now(self, *arguments: Any) -> str:
        """As ``cancel``, answering at once; refused (and recorded) when it cannot apply."""
        decision = await self._take_update(CANCEL_SIGNAL, StaffDecision, arguments)
        refusal = self._cancel_refusal()
        if refusal is not None:
            detail = refused(CANCEL_SIGNAL + UPDATE_SUFFIX, refusal, decision.actor)
            await self._note_and_record(EventKind.CANCELLATION_REFUSED, detail, decision.actor)
            raise ApplicationError(refusal.english(), type=MESSAGE_REFUSED, non_retryable=True)
        await self._accept_cancellation(decision)
        return f"order {self._order_id}: cancellation accepted, undoing every step"

    def _cancel_refusal(self) -> Wording | None:
        return cancel_refusal(self._view, self._situation())

    def _situation(self) -> Situation:
        """What the rules of :mod:`domain.order_actions` need beyond the view."""
        decided = self._staff_decision
        return Situation(
            cancelled_by=self._cancellation.actor if self._cancellation is not None else None,
            decided=None if decided is None else (decided[0], decided[1].actor),
            delivered=self._delivered,
            waits_on_deadline=self._wait is not None or bool(self._open_children()),
        )

    async def _accept_cancellation(self, decision: StaffDecision) -> None:
        self._cancellation = decision
        self._note(EventKind.CANCELLATION_REQUESTED, decision.reason, actor=decision.actor)
        await record(
            StatusChange(
                order_id=self._order_id,
                event=EventKind.CANCELLATION_REQUESTED,
                detail=decision.reason,
                actor=decision.actor,
            )
        )

    async def _extend_by_signal(self, extension: DeadlineExtension) -> None:
        """Move the ladder of whatever the order waits for; otherwise recorded and ignored."""
        refusal = self._extension_refusal(extension)
        if refusal is not None:
            await self._ignored(
                ignored(EXTEND_DEADLINE_SIGNAL, extension.actor, refusal), extension.actor
            )
            return
        await self._extend(extension)

    @workflow.update(name=EXTEND_DEADLINE_SIGNAL + UPDATE_SUFFIX)
    async def extend_deadline_now(self, *arguments: Any) -> str:
        """As ``extend_deadline``, answering at once; refused (and recorded) if it cannot apply."""
        extension = await self._take_update(EXTEND_DEADLINE_SIGNAL, DeadlineExtension, arguments)
        await self._refuse_if(
            self._extension_refusal(extension), EXTEND_DEADLINE_SIGNAL, extension.actor
        )
        target = await self._extend(extension)
        return f"{target}: next escalation moved to {extension.new_deadline.isoformat()}"

    def _extension_refusal(self, extension: DeadlineExtension) -> Wording | None:
        if extension.new_deadline.tzinfo is None:
            return Wording(
                message=N_(
                    "the new deadline must include a time zone (e.g. 2026-12-01T09:00:00+00:00)"
                )
            )
        if extension.new_deadline <= workflow.now():
            return Wording(
                message=N_("the new deadline %(deadline)s is not in the future (now %(now)s)"),
                moments={"deadline": extension.new_deadline, "now": workflow.now()},
            )
        return extension_refusal(self._view, self._situation())

    async def _extend(self, extension: DeadlineExtension) -> str:
        target_wording: Wording | None = None
        if self._wait is not None:
            self._wait.extend(extension)
            target = self._view.waiting.waiting_for if self._view.waiting else "the order"
            if self._view.waiting is not None:
                target_wording = self._view.waiting.waiting_for_wording
                self._view.waiting.ladder = self._wait.position
            self._own_attention = None
        else:
            children = self._open_children()
            for child in children:
                await child.signal(EXTEND_DEADLINE_SIGNAL, extension)
            target = ", ".join(child.id for child in children)
            # The children stop asking for a decision (a lost parcel still asks for one).
            waiting_children: list[SupplyView | ShipmentView] = [
                *self._view.supply,
                *self._view.shipments,
            ]
            for waiting in waiting_children:
                if waiting.status != ShipmentStatus.EXCEPTION.value:
                    waiting.needs_attention = None
                    waiting.needs_attention_wording = None
        self._refresh_attention()
        detail = f"{target} until {extension.new_deadline.isoformat()}: {extension.reason}"
        wording = Wording(
            message=N_("%(target)s until %(deadline)s: %(reason)s"),
            args={"reason": extension.reason},
            moments={"deadline": extension.new_deadline},
            parts={"target": target_wording or _plain(target)},
        )
        self._note(EventKind.DEADLINE_EXTENDED, wording, actor=extension.actor)
        await record(
            StatusChange(
                order_id=self._order_id,
                event=EventKind.DEADLINE_EXTENDED,
                detail=detail,
                wording=wording,
                actor=extension.actor,
                needs_attention="",
            )
        )
        return target

    def _open_children(self) -> list[workflow.ChildWorkflowHandle[Any, Any]]:
        supplies = [handle for handle in self._supplies.values() if not handle.done()]
        if supplies:
            return list(supplies)
        return [handle for handle in self._parcels.values() if not handle.done()]

    async def _retry_by_signal(self, decision: StaffDecision) -> None:
        """Try the failing undo step again; otherwise recorded and ignored."""
        refusal = self._retry_refusal()
        if refusal is not None:
            await self._ignored(
                ignored(RETRY_COMPENSATION_SIGNAL, decision.actor, refusal), decision.actor
            )
            return
        self._retry = decision

    @workflow.update(name=RETRY_COMPENSATION_SIGNAL + UPDATE_SUFFIX)
    async def retry_compensation_now(self, *arguments: Any) -> str:
        """As ``retry_compensation``, answering at once; refused (and recorded) if nothing waits."""
        decision = await self._take_update(RETRY_COMPENSATION_SIGNAL, StaffDecision, arguments)
        await self._refuse_if(self._retry_refusal(), RETRY_COMPENSATION_SIGNAL, decision.actor)
        self._retry = decision
        return f"order {self._order_id}: retrying the failed undo step"

    def _retry_refusal(self) -> Wording | None:
        return retry_refusal(self._view)

    def _take_payment(self, payment: IncomingPayment) -> None:
        """Money arrived for a net-terms order; the same bank id twice counts once."""
        if payment.payment_id in self._seen_payment_ids:
            return
        self._seen_payment_ids.add(payment.payment_id)
        self._taken += payment.amount
        self._pending_payments.append(payment)

    @workflow.update(name=PAYMENT_RECEIVED_SIGNAL + UPDATE_SUFFIX)
    async def payment_received_now(self, *arguments: Any) -> str:
        """As ``payment_received``, answering at once; refused (and recorded) if it cannot apply."""
        payment = await self._take_update(PAYMENT_RECEIVED_SIGNAL, IncomingPayment, arguments)
        refusal = self._payment_refusal(payment)
        await self._refuse_if(refusal, PAYMENT_RECEIVED_SIGNAL, payment.actor or "bank")
        self._take_payment(payment)
        return f"payment {payment.payment_id} of {payment.amount} taken for order {self._order_id}"

    @payment_received_now.validator
    def _payment_within_balance(self, *arguments: Any) -> None:
        """Refuse a payment booked by hand for more than the order still owes, before it
        is accepted (the console shows the refusal; ``oms pay`` prints it).

        A validator writes no history, so orders already running replay unchanged. A
        message that cannot be read, or that the handler refuses anyway, is left to the
        handler, which records why.
        """
        payment = read_message(IncomingPayment, arguments).value
        if payment is None or self._terms is None or self._payment_refusal(payment):
            return
        money = self._view.money
        refusal = more_than_owed(payment.amount, money.total, self._taken, money.currency)
        if refusal is not None:
            raise ApplicationError(refusal, type=MESSAGE_REFUSED, non_retryable=True)

    def _payment_refusal(self, payment: IncomingPayment) -> Wording | None:
        refusal = payment_refusal(self._view)
        if refusal is not None:
            return refusal
        if payment.payment_id in self._seen_payment_ids:
            return Wording(
                message=N_("payment %(payment)s was booked already"),
                args={"payment": payment.payment_id},
            )
        return None

    def _supply_progress(self, supply: SupplyView) -> None:
        """A supply workflow reports where it stands."""
        self._view.supply = [
            supply if known.line_no == supply.line_no else known for known in self._view.supply
        ]
        self._refresh_attention()

    def _shipment_progress(self, progress: ShipmentProgress) -> None:
        """A shipment workflow reports where its parcel stands (replacements included)."""
        parcel = progress.shipment
        shipments = [s for s in self._view.shipments if s.shipment_id != parcel.shipment_id]
        for index, known in enumerate(shipments):
            if parcel.shipment_id.startswith(f"{known.shipment_id}-R"):
                shipments[index] = known.model_copy(update={"status": ShipmentStatus.LOST.value})
        position = next(
            (
                index
                for index, known in enumerate(self._view.shipments)
                if known.shipment_id == parcel.shipment_id
            ),
            None,
        )
        if position is None:
            shipments.append(parcel)
        else:
            shipments.insert(position, parcel)
        self._view.shipments = shipments
        if parcel.status in LEFT_THE_WAREHOUSE:
            for reservation in self._view.reservations:
                if reservation.warehouse_id == parcel.warehouse_id:
                    reservation.status = ReservationStatus.SHIPPED.value
        self._refresh_attention()

    @workflow.query(name=STATUS_QUERY)
    def status(self) -> OrderView:
        """The full view of the order."""
        return self._view

    # --- helpers ---------------------------------------------------------------------

    async def _step(
        self, activity: str, arg: Any, result_type: type[ResultT], summary: str, policy: StepPolicy
    ) -> ResultT:
        """Run a forward step, then stop at once if a cancellation arrived meanwhile."""
        result = await run_step(activity, arg, result_type, summary, policy)
        self._checkpoint()
        return result

    def _push_undo(self, activity: str, summary: str, event: EventKind) -> None:
        """Push the compensation of the step about to run (it copes with nothing to undo)."""

        async def undo() -> Undone:
            request = UndoRequest(order_id=self._order_id, reason=self._undo_reason)
            return await run_step(activity, request, Undone, summary, COMPENSATION_STEP)

        self._compensations.append(_Compensation(summary, event, undo))

    async def _until(self, condition: Callable[[], bool]) -> None:
        """Wait for ``condition``; a cancellation interrupts the wait."""
        await workflow.wait_condition(lambda: condition() or self._cancel_requested())
        self._checkpoint()

    def _cancel_requested(self) -> bool:
        return self._cancellation is not None or workflow.cancellation_reason() is not None

    def _checkpoint(self) -> None:
        if self._cancel_requested():
            raise _CancellationRequestedError

    def _cancellation_reason(self) -> str:
        return self._cancellation_wording().english()

    def _cancellation_wording(self) -> Wording:
        if self._cancellation is not None:
            return Wording(
                message=N_("cancelled by %(actor)s: %(reason)s"),
                args={"actor": self._cancellation.actor, "reason": self._cancellation.reason},
            )
        return Wording(
            message=N_("cancelled in Temporal: %(reason)s"),
            args={"reason": workflow.cancellation_reason() or "no reason given"},
        )

    def _start_wait(self, wait: EscalatingWait, waiting_for: Wording) -> EscalatingWait:
        self._wait = wait
        self._view.waiting = WaitView(
            waiting_for_wording=waiting_for, since=workflow.now(), ladder=wait.position
        )
        self._describe()
        return wait

    def _end_wait(self) -> None:
        self._wait = None
        self._view.waiting = None
        self._describe()

    async def _on_rung(self, rung: EscalationRung, position: LadderPosition) -> None:
        """After a rung of the order's own ladder: show it, and a needed decision."""
        if self._view.waiting is not None:
            self._view.waiting.ladder = position
        self._view.escalation_level = max(self._view.escalation_level, position.level)
        if rung.asks_for_decision:
            self._own_attention = Wording(
                message=N_("%(rung)s (%(ladder)s)"),
                terms={"rung": rung.name, "ladder": position.ladder},
            )
        self._refresh_attention()

    def _refresh_attention(self) -> None:
        """The order's level and attention include those of its supply orders and parcels."""
        children: list[SupplyView | ShipmentView] = [*self._view.supply, *self._view.shipments]
        self._view.escalation_level = max(
            [self._view.escalation_level, *(child.escalation_level for child in children)]
        )
        own = self._own_attention
        reasons: list[tuple[str | None, Wording | None]] = [
            (own.english() if own is not None else None, own),
            *((child.needs_attention, child.needs_attention_wording) for child in children),
        ]
        reason, wording = next(((text, said) for text, said in reasons if text), (None, None))
        self._view.needs_attention = reason
        self._view.needs_attention_wording = wording
        self._show()

    async def _record_status(
        self, status: OrderStatus, kind: EventKind, detail: str | Wording
    ) -> None:
        english, wording = _texts(detail)
        await record(
            StatusChange(
                order_id=self._order_id,
                event=kind,
                detail=english,
                wording=wording,
                status=status,
                step=kind.value,
            )
        )
        self._note(kind, detail)
        self._set_status(status)

    async def _ignored(self, detail: str | Wording, actor: str) -> None:
        await self._note_and_record(EventKind.SIGNAL_IGNORED, detail, actor)

    async def _note_and_record(
        self, kind: EventKind, detail: str | Wording, actor: str = "system"
    ) -> None:
        """An event in the order's view and in its audit log, with no change of status."""
        self._note(kind, detail, actor=actor)
        english, wording = _texts(detail)
        await record(
            StatusChange(
                order_id=self._order_id, event=kind, detail=english, wording=wording, actor=actor
            )
        )

    async def _message_ignored(self, detail: str | Wording) -> None:
        """A message that could not be read: recorded (orders since the patch) or logged."""
        if not records_ignored_messages():
            workflow.logger.warning("order %s: %s", self._order_id, english(detail))
            return
        await self._ignored(detail, "client")

    async def _take_update(
        self, signal: str, model: type[MessageT], arguments: Sequence[Any]
    ) -> MessageT:
        """The argument of update ``<signal>_now``; if it cannot be read: recorded, refused."""
        return await read_update(signal + UPDATE_SUFFIX, model, arguments, self._message_ignored)

    async def _refuse_if(self, refusal: Wording | None, signal: str, actor: str) -> None:
        """Refuse update ``<signal>_now`` with ``refusal`` (recorded in the audit log), if any."""
        if refusal is not None:
            detail = refused(signal + UPDATE_SUFFIX, refusal, actor)
            await refuse(refusal, detail, self._message_ignored)

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

    def _note(self, kind: EventKind, detail: str | Wording = "", actor: str = "system") -> None:
        english, wording = _texts(detail)
        self._view.history.append(
            OrderEvent(
                at=workflow.now(), kind=kind.value, detail=english, wording=wording, actor=actor
            )
        )

    def _set_status(self, status: OrderStatus, reasons: list[str] | None = None) -> None:
        self._view.status = status
        if reasons:
            self._view.rejection_reasons = reasons
        self._show()

    def _show(self) -> None:
        """Make the order's state visible in the Web UI: search attributes and details."""
        self._publish()
        self._describe()

    def _publish(self) -> None:
        """Keep the order's search attributes current (only what changed is upserted).

        Whoever started the workflow (the starter, the CLI, another SDK, the Web
        UI), it publishes them itself. Orders started before the ``any-client``
        patch did so only when the starter had set them.
        """
        started_with_them = workflow.info().typed_search_attributes.get(ORDER_ID) is not None
        if not (started_with_them or self._any_client):
            return
        view = self._view
        promised = [s.promised_by for s in view.shipments if s.promised_by is not None]
        updates: list[SearchAttributeUpdate[Any]] = [
            ORDER_ID.value_set(view.order_id),
            ORDER_STATUS.value_set(view.status.value),
            ORDER_STAGE.value_set(STAGE_OF_STATUS[view.status].value),
            ESCALATION_LEVEL.value_set(view.escalation_level),
            NEEDS_ATTENTION.value_set(view.needs_attention is not None),
        ]
        if view.customer_id:
            updates += [
                CUSTOMER_ID.value_set(view.customer_id),
                CHANNEL.value_set(view.channel),
                ORDER_TOTAL.value_set(float(view.money.total)),
            ]
        if promised:
            updates.append(PROMISED_DATE.value_set(max(promised)))
        changed = [u for u in updates if self._published.get(u.key.name) != u.value]
        if changed:
            workflow.upsert_search_attributes(changed)
            self._published.update({u.key.name: u.value for u in changed})

    def _describe(self) -> None:
        """The Web UI's *current details*: stage, what the order waits for, the next rung."""
        view = self._view
        lines = [
            f"**{view.status.value}** ({STAGE_OF_STATUS[view.status].value}) · "
            f"{view.money.total} {view.money.currency} · customer {view.customer_id or '?'}"
            + (f" via {view.channel}" if view.channel else "")
        ]
        if view.lines:  # the starter's static details show them too; other clients set none
            lines.append(
                "Lines: " + ", ".join(f"{line.quantity} x {line.sku}" for line in view.lines)
            )
        if view.waiting is not None:
            lines.append(
                f"Waiting for {view.waiting.waiting_for} since "
                f"{view.waiting.since:%Y-%m-%d %H:%M} UTC"
            )
            next_rung = next_rung_details(self._wait).strip()
            if next_rung:
                lines.append(next_rung)
        if view.escalation_level:
            lines.append(f"Escalation level {view.escalation_level}")
        if view.needs_attention:
            lines.append(f"**Needs attention:** {view.needs_attention}")
        open_supply = [s for s in view.supply if s.status not in ("received", "cancelled")]
        if open_supply:
            lines.append(
                "Supply: "
                + ", ".join(
                    f"line {s.line_no} {s.received}/{s.quantity} {s.sku}" for s in open_supply
                )
            )
        if view.shipments:
            lines.append(
                "Parcels: " + ", ".join(f"{s.shipment_id} {s.status}" for s in view.shipments)
            )
        if view.rejection_reasons:
            lines.append("Reasons: " + "; ".join(view.rejection_reasons))
        workflow.set_current_details("\n\n".join(lines))

    def _result(self) -> OrderResult:
        return OrderResult(
            order_id=self._order_id,
            status=self._view.status,
            reasons=self._view.rejection_reasons,
            invoice_number=self._view.money.invoice_number,
            receipt_number=self._view.money.receipt_number,
        )
