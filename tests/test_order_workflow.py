"""OrderWorkflow on the time-skipping test server, with activities mocked by name."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

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
from domain.intake import RECEIVE_ORDER, RECORD_ORDER_STATUS, OrderRef, ReceiveOutcome, StatusChange
from domain.inventory import (
    INSUFFICIENT_STOCK,
    RELEASE_RESERVATIONS,
    RESERVE_STOCK,
    StockReservation,
)
from domain.orders import (
    PAYMENT_RECEIVED_SIGNAL,
    STATUS_QUERY,
    SUBMIT_ORDER_SIGNAL,
    OrderResult,
    OrderStatus,
    OrderSubmission,
    OrderView,
    ReservationView,
    ShipmentView,
    order_workflow_id,
)
from domain.settlement import (
    AUTHORISE_PAYMENT,
    CAPTURE_PAYMENT,
    ISSUE_INVOICE,
    ISSUE_RECEIPT,
    RECORD_PAYMENT,
    VOID_AUTHORISATION,
    IncomingPayment,
    InvoiceRecord,
    InvoiceStatus,
    PaymentBalance,
    PaymentBooking,
    PaymentKind,
    PaymentRecord,
    ReceiptRecord,
)
from domain.shipping import (
    BOOK_SHIPMENTS,
    TRACK_SHIPMENT,
    BookedShipments,
    Delivery,
    TrackingRequest,
)
from runtime.workers import SANDBOX_PASSTHROUGH
from tests.factories import submission
from workflows import OrderWorkflow

NOW = datetime(2026, 11, 28, tzinfo=UTC)


class FakePartners:
    """Mock activities registered under the real names; records every call."""

    def __init__(
        self,
        *,
        terms: PaymentTerms = PaymentTerms.PREPAID,
        accepted: bool = True,
        credit: CreditOutcome = CreditOutcome.APPROVED,
        failing: dict[str, ApplicationError] | None = None,
    ) -> None:
        self.terms = terms
        self.accepted = accepted
        self.credit = credit
        self.failing = failing or {}
        self.calls: list[str] = []
        self.status_changes: list[StatusChange] = []
        self.paid = Decimal(0)

    def _called(self, name: str) -> None:
        self.calls.append(name)
        if name in self.failing:
            raise self.failing[name]

    def activities(self) -> list[Callable[..., Any]]:
        @activity.defn(name=RECEIVE_ORDER)
        async def receive(order: OrderSubmission) -> ReceiveOutcome:
            self._called(RECEIVE_ORDER)
            problems = [] if self.accepted else ["lines[1].quantity 0: must be at least 1"]
            return ReceiveOutcome(
                accepted=self.accepted,
                problems=problems,
                total=Decimal("59.70"),
                payment_terms=self.terms,
            )

        @activity.defn(name=RECORD_ORDER_STATUS)
        async def record(change: StatusChange) -> None:
            self.status_changes.append(change)

        @activity.defn(name=CHECK_CREDIT)
        async def credit(ref: OrderRef) -> CreditDecision:
            self._called(CHECK_CREDIT)
            return CreditDecision(outcome=self.credit, reason="test policy")

        @activity.defn(name=AUTHORISE_PAYMENT)
        async def authorise(ref: OrderRef) -> PaymentRecord:
            self._called(AUTHORISE_PAYMENT)
            return PaymentRecord(
                kind=PaymentKind.AUTHORISATION,
                amount=Decimal("59.70"),
                currency="EUR",
                reference="auth-1",
            )

        @activity.defn(name=VOID_AUTHORISATION)
        async def void(ref: OrderRef) -> Undone:
            self._called(VOID_AUTHORISATION)
            return Undone(detail="authorisation voided")

        @activity.defn(name=RESERVE_STOCK)
        async def reserve(ref: OrderRef) -> StockReservation:
            self._called(RESERVE_STOCK)
            return StockReservation(
                reservations=[
                    ReservationView(
                        line_no=1,
                        sku="WIDGET-1",
                        warehouse_id="WH-BER",
                        quantity=3,
                        status="active",
                    )
                ],
                allocation_reason="WH-BER can fill the whole order",
            )

        @activity.defn(name=RELEASE_RESERVATIONS)
        async def release(ref: OrderRef) -> Undone:
            self._called(RELEASE_RESERVATIONS)
            return Undone(detail="3 reserved unit(s) released")

        @activity.defn(name=BOOK_SHIPMENTS)
        async def book(ref: OrderRef) -> BookedShipments:
            self._called(BOOK_SHIPMENTS)
            return BookedShipments(
                shipments=[
                    ShipmentView(
                        shipment_id=f"{ref.order_id}-S1",
                        warehouse_id="WH-BER",
                        carrier="sim",
                        tracking_number="TRK1",
                        status="booked",
                    )
                ]
            )

        @activity.defn(name=TRACK_SHIPMENT)
        async def track(request: TrackingRequest) -> Delivery:
            self._called(TRACK_SHIPMENT)
            return Delivery(shipment_id=request.shipment_id, delivered_at=NOW)

        @activity.defn(name=CAPTURE_PAYMENT)
        async def capture(ref: OrderRef) -> PaymentRecord:
            self._called(CAPTURE_PAYMENT)
            return PaymentRecord(
                kind=PaymentKind.CAPTURE, amount=Decimal("59.70"), currency="EUR", reference="cap-1"
            )

        @activity.defn(name=ISSUE_INVOICE)
        async def invoice(ref: OrderRef) -> InvoiceRecord:
            self._called(ISSUE_INVOICE)
            return InvoiceRecord(
                number="INV-2026-000001",
                amount=Decimal("59.70"),
                currency="EUR",
                due_date=date(2026, 12, 28),
                status=InvoiceStatus.OPEN,
            )

        @activity.defn(name=RECORD_PAYMENT)
        async def pay(booking: PaymentBooking) -> PaymentBalance:
            self._called(RECORD_PAYMENT)
            self.paid += booking.payment.amount
            return PaymentBalance(paid=self.paid, outstanding=Decimal("59.70") - self.paid)

        @activity.defn(name=ISSUE_RECEIPT)
        async def receipt(ref: OrderRef) -> ReceiptRecord:
            self._called(ISSUE_RECEIPT)
            return ReceiptRecord(
                number="RCT-2026-000001", invoice_number="INV-2026-000001", amount=Decimal("59.70")
            )

        @activity.defn(name=ARCHIVE_ORDER)
        async def archive(ref: OrderRef) -> ArchiveReceipt:
            self._called(ARCHIVE_ORDER)
            return ArchiveReceipt(order_id=ref.order_id, archived_at=NOW)

        return [
            receive,
            record,
            credit,
            authorise,
            void,
            reserve,
            release,
            book,
            track,
            capture,
            invoice,
            pay,
            receipt,
            archive,
        ]


def order_worker(client: Client, partners: FakePartners) -> tuple[Worker, str]:
    task_queue = f"orders-test-{uuid.uuid4()}"
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=[OrderWorkflow],
        activities=partners.activities(),
        workflow_runner=SandboxedWorkflowRunner(
            restrictions=SandboxRestrictions.default.with_passthrough_modules(*SANDBOX_PASSTHROUGH)
        ),
    )
    return worker, task_queue


async def start(
    client: Client, task_queue: str, order: OrderSubmission
) -> WorkflowHandle[Any, Any]:
    return await client.start_workflow(
        "OrderWorkflow",
        id=order_workflow_id(order.order_id),
        task_queue=task_queue,
        start_signal=SUBMIT_ORDER_SIGNAL,
        start_signal_args=[order],
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        result_type=OrderResult,
    )


async def wait_for_status(handle: WorkflowHandle[Any, Any], status: OrderStatus) -> None:
    """Poll the status query until the order reaches ``status`` (as staff would watch it)."""
    for _ in range(200):
        view = await handle.query(STATUS_QUERY, result_type=OrderView)
        if view.status is status:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"order never reached {status}; last {view.status}")


def unique_order(**changes: Any) -> OrderSubmission:
    return submission(f"WF-{uuid.uuid4().hex[:8]}", **changes)


HAPPY_PREPAID = [
    RECEIVE_ORDER,
    CHECK_CREDIT,
    AUTHORISE_PAYMENT,
    RESERVE_STOCK,
    BOOK_SHIPMENTS,
    TRACK_SHIPMENT,
    CAPTURE_PAYMENT,
    ISSUE_INVOICE,
    ISSUE_RECEIPT,
    ARCHIVE_ORDER,
]


async def test_prepaid_order_runs_every_step_once_and_completes(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    partners = FakePartners()
    worker, queue = order_worker(time_skipping_env.client, partners)
    async with worker:
        handle = await start(time_skipping_env.client, queue, unique_order())
        result = await handle.result()
        view = await handle.query(STATUS_QUERY, result_type=OrderView)
    assert result.status is OrderStatus.COMPLETED
    assert (result.invoice_number, result.receipt_number) == ("INV-2026-000001", "RCT-2026-000001")
    assert partners.calls == HAPPY_PREPAID
    assert view.status is OrderStatus.COMPLETED
    assert view.money.captured == Decimal("59.70")
    assert [event.kind for event in view.history][:3] == [
        "received",
        "confirmed",
        "credit_approved",
    ]
    assert view.history[-1].kind == "archived"
    assert [change.status for change in partners.status_changes] == [OrderStatus.DELIVERED]


async def test_invalid_order_is_rejected_and_nothing_is_reserved(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    partners = FakePartners(accepted=False)
    worker, queue = order_worker(time_skipping_env.client, partners)
    async with worker:
        result = await (await start(time_skipping_env.client, queue, unique_order())).result()
    assert result.status is OrderStatus.REJECTED
    assert result.reasons == ["lines[1].quantity 0: must be at least 1"]
    assert partners.calls == [RECEIVE_ORDER]


async def test_shortage_voids_the_authorisation_and_rejects(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    shortage = ApplicationError(
        "insufficient stock: line 1 WIDGET-1: requested 3, available 0",
        type=INSUFFICIENT_STOCK,
        non_retryable=True,
    )
    partners = FakePartners(failing={RESERVE_STOCK: shortage})
    worker, queue = order_worker(time_skipping_env.client, partners)
    async with worker:
        result = await (await start(time_skipping_env.client, queue, unique_order())).result()
    assert result.status is OrderStatus.REJECTED
    assert result.reasons == ["insufficient stock: line 1 WIDGET-1: requested 3, available 0"]
    assert partners.calls[-2:] == [RESERVE_STOCK, VOID_AUTHORISATION]
    assert partners.status_changes[-1].status is OrderStatus.REJECTED


async def test_broken_step_compensates_in_reverse_and_fails(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    broken = ApplicationError("carrier refused the address", non_retryable=True)
    partners = FakePartners(failing={BOOK_SHIPMENTS: broken})
    worker, queue = order_worker(time_skipping_env.client, partners)
    async with worker:
        result = await (await start(time_skipping_env.client, queue, unique_order())).result()
    assert result.status is OrderStatus.FAILED
    assert result.reasons == ["carrier refused the address"]
    assert partners.calls[-3:] == [BOOK_SHIPMENTS, RELEASE_RESERVATIONS, VOID_AUTHORISATION]
    final = partners.status_changes[-1]
    assert (final.status, final.event.value) == (OrderStatus.FAILED, "failed")


async def test_net_terms_order_waits_for_full_payment_and_counts_each_payment_once(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    partners = FakePartners(terms=PaymentTerms.NET)
    worker, queue = order_worker(time_skipping_env.client, partners)
    async with worker:
        handle = await start(time_skipping_env.client, queue, unique_order())
        first = IncomingPayment(payment_id="BANK-1", amount=Decimal("20.00"))
        await handle.signal(PAYMENT_RECEIVED_SIGNAL, first)
        await handle.signal(PAYMENT_RECEIVED_SIGNAL, first)
        await handle.signal(
            PAYMENT_RECEIVED_SIGNAL, IncomingPayment(payment_id="BANK-2", amount=Decimal("39.70"))
        )
        result = await handle.result()
    assert result.status is OrderStatus.COMPLETED
    assert partners.calls.count(RECORD_PAYMENT) == 2
    assert AUTHORISE_PAYMENT not in partners.calls
    assert partners.calls.index(ISSUE_INVOICE) < partners.calls.index(RECORD_PAYMENT)


@pytest.mark.parametrize(
    ("signal", "expected"),
    [(APPROVE_SIGNAL, OrderStatus.COMPLETED), (REJECT_SIGNAL, OrderStatus.REJECTED)],
)
async def test_held_order_waits_for_support_staff(
    time_skipping_env: WorkflowEnvironment, signal: str, expected: OrderStatus
) -> None:
    partners = FakePartners(credit=CreditOutcome.HOLD)
    worker, queue = order_worker(time_skipping_env.client, partners)
    async with worker:
        handle = await start(time_skipping_env.client, queue, unique_order())
        await wait_for_status(handle, OrderStatus.AWAITING_APPROVAL)
        await handle.signal(signal, StaffDecision(actor="sam", reason="known customer"))
        result = await handle.result()
    assert result.status is expected
    decision = next(c for c in partners.status_changes if c.step == "staff_decision")
    assert decision.actor == "sam"
    if expected is OrderStatus.REJECTED:
        assert result.reasons == ["rejected by sam: known customer"]
        assert RESERVE_STOCK not in partners.calls


async def test_approval_for_an_order_not_held_is_recorded_and_ignored(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    partners = FakePartners(terms=PaymentTerms.NET)
    worker, queue = order_worker(time_skipping_env.client, partners)
    async with worker:
        handle = await start(time_skipping_env.client, queue, unique_order())
        await handle.signal(APPROVE_SIGNAL, StaffDecision(actor="sam", reason="why not"))
        await handle.signal(
            PAYMENT_RECEIVED_SIGNAL, IncomingPayment(payment_id="BANK-1", amount=Decimal("59.70"))
        )
        result = await handle.result()
    assert result.status is OrderStatus.COMPLETED
    ignored = [c for c in partners.status_changes if c.event.value == "signal_ignored"]
    assert len(ignored) == 1
    assert ignored[0].detail.startswith("approve by sam ignored: order is ")


async def test_duplicate_submission_is_recorded_and_processed_once(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    partners = FakePartners(terms=PaymentTerms.NET)
    order = unique_order()
    worker, queue = order_worker(time_skipping_env.client, partners)
    async with worker:
        handle = await start(time_skipping_env.client, queue, order)
        again = await start(time_skipping_env.client, queue, order)
        assert again.result_run_id == handle.result_run_id
        await handle.signal(
            PAYMENT_RECEIVED_SIGNAL, IncomingPayment(payment_id="BANK-1", amount=Decimal("59.70"))
        )
        result = await handle.result()
    assert result.status is OrderStatus.COMPLETED
    assert partners.calls.count(RECEIVE_ORDER) == 1
    duplicates = [c for c in partners.status_changes if c.event.value == "duplicate_submission"]
    assert len(duplicates) == 1
    assert "identical to the first submission" in duplicates[0].detail


async def test_workflow_without_submission_gives_up_after_the_wait(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    partners = FakePartners()
    worker, queue = order_worker(time_skipping_env.client, partners)
    async with worker:
        result = await time_skipping_env.client.execute_workflow(
            "OrderWorkflow",
            id=f"order-EMPTY-{uuid.uuid4().hex[:6]}",
            task_queue=queue,
            result_type=OrderResult,
        )
    assert result.status is OrderStatus.REJECTED
    assert result.reasons == ["no valid submission within 0:05:00"]
    assert partners.calls == []
