"""Mock activities under the real names, a worker for them, and helpers to drive orders.

The mocks record every call with the workflow time it was scheduled at, so
tests can assert when each escalation rung fell due.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from google.protobuf.empty_pb2 import Empty
from temporalio import activity
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from domain.archive import ARCHIVE_ORDER, ArchiveReceipt
from domain.catalogue import PaymentTerms
from domain.compensation import Undone
from domain.credit import CHECK_CREDIT, CreditDecision, CreditOutcome
from domain.intake import (
    RECEIVE_ORDER,
    RECORD_ORDER_STATUS,
    RECORD_REFUSED_SUBMISSION,
    OrderRef,
    ReceiveOutcome,
    RefusedSubmission,
    StatusChange,
)
from domain.inventory import RELEASE_RESERVATIONS, RESERVE_STOCK, Backorder, StockReservation
from domain.notifications import NOTIFY, Audience, Notification, Notified
from domain.orders import (
    STATUS_QUERY,
    SUBMIT_ORDER_SIGNAL,
    OrderResult,
    OrderStatus,
    OrderSubmission,
    OrderView,
    ReservationView,
    order_workflow_id,
)
from domain.settlement import (
    AUTHORISE_PAYMENT,
    CAPTURE_PAYMENT,
    ISSUE_INVOICE,
    ISSUE_RECEIPT,
    RECORD_PAYMENT,
    REFUND_PAYMENT,
    VOID_AUTHORISATION,
    VOID_INVOICE,
    InvoiceRecord,
    InvoiceStatus,
    PaymentBalance,
    PaymentBooking,
    PaymentKind,
    PaymentRecord,
    ReceiptRecord,
)
from domain.shipping import (
    BOOK_SHIPMENT,
    CANCEL_SHIPMENT,
    PLAN_SHIPMENTS,
    POLL_TRACKING,
    RECORD_MILESTONE,
    RESHIP_SHIPMENT,
    Milestone,
    MilestoneRecord,
    MilestoneRecorded,
    NewMilestones,
    PlannedShipments,
    ShipmentBooking,
    ShipmentRef,
    ShipmentRequest,
    TrackingEvent,
    TrackingPoll,
)
from domain.supply import (
    CANCEL_SUPPLY_ORDER,
    PLACE_SUPPLY_ORDER,
    RECEIVE_SUPPLY,
    SupplyArrival,
    SupplyBalance,
    SupplyKind,
    SupplyOrderPlaced,
    SupplyRequest,
)
from runtime.workers import SANDBOX_PASSTHROUGH
from tests.factories import submission
from workflows.registry import ORDER_WORKFLOWS

TOTAL = Decimal("59.70")
PROMISED_AFTER = timedelta(days=2)
"""The fake carrier promises delivery this long after booking."""
SUPPLY_LEAD_TIME = timedelta(days=5)
NET_DAYS = 30


async def workflow_time() -> datetime:
    """The workflow time at which the running mock activity was scheduled.

    A remote activity carries it; a local activity's schedule time is the
    worker's clock, so it reads the time-skipping server's clock instead, which
    stands still while the workflow task running the local activity is open.
    """
    info = activity.info()
    if not info.is_local:
        return info.scheduled_time
    now = await activity.client().service_client.test_service.get_current_time(Empty())
    return now.time.ToDatetime(tzinfo=UTC)


class FakePartners:
    """Mock activities registered under the real names; records every call and its time."""

    def __init__(
        self,
        *,
        terms: PaymentTerms = PaymentTerms.PREPAID,
        accepted: bool = True,
        credit: CreditOutcome = CreditOutcome.APPROVED,
        failing: dict[str, Exception] | None = None,
        backorders: list[Backorder] | None = None,
        carrier_pushes_events: bool = False,
        earlier_status: OrderStatus | None = None,
        confirm_packing: bool = False,
    ) -> None:
        self.terms = terms
        self.earlier_status = earlier_status
        """Receiving answers that an earlier run took the order (now in this status)."""
        self.accepted = accepted
        self.credit = credit
        self.failing = failing or {}
        self.backorders = backorders or []
        self.carrier_pushes_events = carrier_pushes_events
        self.confirm_packing = confirm_packing
        """The parcels' warehouse confirms packing before the carrier is booked."""
        self.calls: list[str] = []
        self.times: dict[str, list[datetime]] = {}
        self.status_changes: list[StatusChange] = []
        self.refused_submissions: list[RefusedSubmission] = []
        self.notifications: list[tuple[Notification, datetime]] = []
        self.paid = Decimal(0)
        self.received: dict[str, int] = {}

    async def _called(self, name: str) -> datetime:
        """Record the call; raise the configured failure; return the workflow time of the call."""
        self.calls.append(name)
        at = await workflow_time()
        self.times.setdefault(name, []).append(at)
        if name in self.failing:
            raise self.failing[name]
        return at

    def rungs(self, key_prefix: str) -> list[tuple[Audience, datetime]]:
        """Escalation notifications whose key starts with ``key_prefix``, in order."""
        return [
            (notification.audience, at)
            for notification, at in self.notifications
            if notification.key.startswith(f"{key_prefix}:rung")
        ]

    def activities(self) -> list[Callable[..., Any]]:
        """The mocks, one per activity name the workflows call."""

        @activity.defn(name=RECEIVE_ORDER)
        async def receive(order: OrderSubmission) -> ReceiveOutcome:
            await self._called(RECEIVE_ORDER)
            if self.earlier_status is not None:
                return ReceiveOutcome(
                    accepted=False, total=TOTAL, earlier_status=self.earlier_status
                )
            problems = [] if self.accepted else ["lines[1].quantity 0: must be at least 1"]
            return ReceiveOutcome(
                accepted=self.accepted, problems=problems, total=TOTAL, payment_terms=self.terms
            )

        @activity.defn(name=RECORD_REFUSED_SUBMISSION)
        async def refused(refused: RefusedSubmission) -> ReceiveOutcome:
            await self._called(RECORD_REFUSED_SUBMISSION)
            self.refused_submissions.append(refused)
            return ReceiveOutcome(accepted=False, problems=refused.problems, total=Decimal(0))

        @activity.defn(name=RECORD_ORDER_STATUS)
        async def record(change: StatusChange) -> None:
            self.status_changes.append(change)

        @activity.defn(name=CHECK_CREDIT)
        async def credit(ref: OrderRef) -> CreditDecision:
            await self._called(CHECK_CREDIT)
            return CreditDecision(outcome=self.credit, reason="test policy")

        @activity.defn(name=AUTHORISE_PAYMENT)
        async def authorise(ref: OrderRef) -> PaymentRecord:
            await self._called(AUTHORISE_PAYMENT)
            return PaymentRecord(
                kind=PaymentKind.AUTHORISATION, amount=TOTAL, currency="EUR", reference="auth-1"
            )

        @activity.defn(name=RESERVE_STOCK)
        async def reserve(ref: OrderRef) -> StockReservation:
            await self._called(RESERVE_STOCK)
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
                backorders=self.backorders,
            )

        @activity.defn(name=PLACE_SUPPLY_ORDER)
        async def place_supply(request: SupplyRequest) -> SupplyOrderPlaced:
            at = await self._called(PLACE_SUPPLY_ORDER)
            return SupplyOrderPlaced(
                supply_order_id=f"supply-{request.order_id}-L{request.line_no}",
                kind=SupplyKind.PRODUCTION,
                partner="fake-factory",
                partner_reference="PO-1",
                warehouse_id="WH-BER",
                expected_at=at + SUPPLY_LEAD_TIME,
            )

        @activity.defn(name=RECEIVE_SUPPLY)
        async def receive_supply(arrival: SupplyArrival) -> SupplyBalance:
            await self._called(RECEIVE_SUPPLY)
            key = arrival.supply_order_id
            self.received[key] = self.received.get(key, 0) + arrival.receipt.quantity
            wanted = next(b.quantity for b in self.backorders if b.line_no == arrival.line_no)
            return SupplyBalance(
                received=self.received[key], outstanding=max(wanted - self.received[key], 0)
            )

        @activity.defn(name=PLAN_SHIPMENTS)
        async def plan(ref: OrderRef) -> PlannedShipments:
            await self._called(PLAN_SHIPMENTS)
            return PlannedShipments(
                shipments=[
                    ShipmentRequest(
                        order_id=ref.order_id,
                        shipment_id=f"{ref.order_id}-S1",
                        warehouse_id="WH-BER",
                        units=3,
                        confirm_packing=self.confirm_packing,
                    )
                ]
            )

        @activity.defn(name=BOOK_SHIPMENT)
        async def book(ref: ShipmentRef) -> ShipmentBooking:
            at = await self._called(BOOK_SHIPMENT)
            return ShipmentBooking(
                carrier="fake-carrier",
                tracking_number=f"TRK-{ref.shipment_id}",
                promised_by=at + PROMISED_AFTER,
                carrier_pushes_events=self.carrier_pushes_events,
            )

        @activity.defn(name=POLL_TRACKING)
        async def poll(request: TrackingPoll) -> NewMilestones:
            at = await self._called(POLL_TRACKING)
            journey = (Milestone.PICKED_UP, Milestone.IN_TRANSIT, Milestone.DELIVERED)
            return NewMilestones(
                events=[
                    TrackingEvent(milestone=milestone, at=at)
                    for milestone in journey
                    if milestone not in request.known
                ]
            )

        @activity.defn(name=RECORD_MILESTONE)
        async def record_milestone(milestone: MilestoneRecord) -> MilestoneRecorded:
            await self._called(RECORD_MILESTONE)
            return MilestoneRecorded(
                shipment_id=milestone.shipment_id, milestone=milestone.event.milestone
            )

        @activity.defn(name=RESHIP_SHIPMENT)
        async def reship(ref: ShipmentRef) -> ShipmentRequest:
            await self._called(RESHIP_SHIPMENT)
            return ShipmentRequest(
                order_id=ref.order_id,
                shipment_id=f"{ref.shipment_id}-R{ref.attempt - 1}",
                warehouse_id="WH-BER",
                units=3,
            )

        @activity.defn(name=CAPTURE_PAYMENT)
        async def capture(ref: OrderRef) -> PaymentRecord:
            await self._called(CAPTURE_PAYMENT)
            return PaymentRecord(
                kind=PaymentKind.CAPTURE, amount=TOTAL, currency="EUR", reference="cap-1"
            )

        @activity.defn(name=ISSUE_INVOICE)
        async def invoice(ref: OrderRef) -> InvoiceRecord:
            at = await self._called(ISSUE_INVOICE)
            net_days = NET_DAYS if self.terms is PaymentTerms.NET else 0
            return InvoiceRecord(
                number="INV-2026-000001",
                amount=TOTAL,
                currency="EUR",
                due_date=(at + timedelta(days=net_days)).date(),
                status=InvoiceStatus.OPEN,
            )

        @activity.defn(name=RECORD_PAYMENT)
        async def pay(booking: PaymentBooking) -> PaymentBalance:
            await self._called(RECORD_PAYMENT)
            self.paid += booking.payment.amount
            return PaymentBalance(paid=self.paid, outstanding=max(TOTAL - self.paid, Decimal(0)))

        @activity.defn(name=ISSUE_RECEIPT)
        async def receipt(ref: OrderRef) -> ReceiptRecord:
            await self._called(ISSUE_RECEIPT)
            return ReceiptRecord(
                number="RCT-2026-000001", invoice_number="INV-2026-000001", amount=TOTAL
            )

        @activity.defn(name=ARCHIVE_ORDER)
        async def archive(ref: OrderRef) -> ArchiveReceipt:
            at = await self._called(ARCHIVE_ORDER)
            return ArchiveReceipt(order_id=ref.order_id, archived_at=at)

        @activity.defn(name=NOTIFY)
        async def notify(notification: Notification) -> Notified:
            self.notifications.append((notification, await workflow_time()))
            return Notified(reference=f"msg-{len(self.notifications)}")

        def undo(name: str) -> Callable[..., Any]:
            @activity.defn(name=name)
            async def undo_step(request: Any) -> Undone:
                await self._called(name)
                return Undone(detail=f"{name} done")

            return undo_step

        return [
            receive,
            refused,
            record,
            credit,
            authorise,
            reserve,
            place_supply,
            receive_supply,
            plan,
            book,
            poll,
            record_milestone,
            reship,
            capture,
            invoice,
            pay,
            receipt,
            archive,
            notify,
            *(
                undo(name)
                for name in (
                    VOID_AUTHORISATION,
                    RELEASE_RESERVATIONS,
                    REFUND_PAYMENT,
                    VOID_INVOICE,
                    CANCEL_SUPPLY_ORDER,
                    CANCEL_SHIPMENT,
                )
            ),
        ]


STEP_THREADS = ThreadPoolExecutor(max_workers=16, thread_name_prefix="test-steps")
"""Runs the synchronous activities (the real database steps) of the tests' workers."""


def order_worker(client: Client, activities: list[Callable[..., Any]]) -> tuple[Worker, str]:
    """A worker with every order workflow on its own task queue."""
    task_queue = f"orders-test-{uuid.uuid4()}"
    worker = Worker(
        client,
        task_queue=task_queue,
        workflows=ORDER_WORKFLOWS,
        activities=activities,
        activity_executor=STEP_THREADS,
        workflow_runner=SandboxedWorkflowRunner(
            restrictions=SandboxRestrictions.default.with_passthrough_modules(*SANDBOX_PASSTHROUGH)
        ),
    )
    return worker, task_queue


STARTED_ORDERS: list[str] = []
"""Workflow ids of the orders started by the current test (for recording histories)."""


async def start(
    client: Client, task_queue: str, order: OrderSubmission
) -> WorkflowHandle[Any, OrderResult]:
    """Submit ``order`` by signal-with-start, as a channel does."""
    STARTED_ORDERS.append(order_workflow_id(order.order_id))
    return await client.start_workflow(
        "OrderWorkflow",
        id=order_workflow_id(order.order_id),
        task_queue=task_queue,
        start_signal=SUBMIT_ORDER_SIGNAL,
        start_signal_args=[order],
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        result_type=OrderResult,
    )


async def view_of(handle: WorkflowHandle[Any, Any]) -> OrderView:
    """The order's ``status`` query."""
    view: OrderView = await handle.query(STATUS_QUERY, result_type=OrderView)
    return view


async def wait_until(
    handle: WorkflowHandle[Any, Any], check: Callable[[OrderView], bool], what: str
) -> OrderView:
    """Poll the status query until ``check`` holds (as staff would watch the order)."""
    view = await view_of(handle)
    for _ in range(300):
        if check(view):
            return view
        await asyncio.sleep(0.05)
        view = await view_of(handle)
    raise AssertionError(f"order never reached: {what}; last status {view.status}")


async def wait_for_status(handle: WorkflowHandle[Any, Any], status: OrderStatus) -> OrderView:
    """Poll until the order has ``status``."""
    return await wait_until(handle, lambda view: view.status is status, status.value)


def unique_order(**changes: Any) -> OrderSubmission:
    """A valid prepaid web order with a fresh id."""
    return submission(f"WF-{uuid.uuid4().hex[:8]}", **changes)


def refusal(error: WorkflowUpdateFailedError) -> str:
    """The reason an update gave for refusing it."""
    assert isinstance(error.cause, ApplicationError)
    return error.cause.message
