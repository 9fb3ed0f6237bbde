"""The order lifecycle on the time-skipping server, activities mocked by name.

The supply and shipment child workflows are the real ones. Every ladder rung is
asserted with the workflow time at which it fell due (the time the mocks saw).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import WorkflowFailureError, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError, CancelledError
from temporalio.testing import WorkflowEnvironment

from domain.catalogue import PaymentTerms
from domain.credit import APPROVE_SIGNAL, CHECK_CREDIT, REJECT_SIGNAL, CreditOutcome
from domain.escalation import EXTEND_DEADLINE_SIGNAL, DeadlineExtension
from domain.intake import RECEIVE_ORDER, RECORD_REFUSED_SUBMISSION
from domain.inventory import INSUFFICIENT_STOCK, RELEASE_RESERVATIONS, RESERVE_STOCK, Backorder
from domain.notifications import Audience
from domain.orders import (
    CANCEL_SIGNAL,
    PAYMENT_RECEIVED_SIGNAL,
    RETRY_COMPENSATION_SIGNAL,
    UPDATE_SUFFIX,
    OrderResult,
    OrderStatus,
    OrderSubmission,
    OrderView,
    StaffDecision,
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
    IncomingPayment,
)
from domain.shipping import (
    BOOK_SHIPMENT,
    CANCEL_SHIPMENT,
    CARRIER_EVENT_SIGNAL,
    PLAN_SHIPMENTS,
    POLL_TRACKING,
    RECORD_MILESTONE,
    RESHIP_SHIPMENT,
    RESOLVE_SHIPMENT_SIGNAL,
    Milestone,
    ParcelProblem,
    ShipmentAction,
    ShipmentResolution,
    TrackingEvent,
    shipment_workflow_id,
)
from domain.supply import (
    CANCEL_SUPPLY_ORDER,
    PLACE_SUPPLY_ORDER,
    RECEIVE_SUPPLY,
    SUPPLY_RECEIVED_SIGNAL,
    SupplyReceipt,
    supply_workflow_id,
)
from tests import histories
from tests.workflow_fakes import (
    PROMISED_AFTER,
    STARTED_ORDERS,
    SUPPLY_LEAD_TIME,
    TOTAL,
    FakePartners,
    order_worker,
    refusal,
    start,
    unique_order,
    view_of,
    wait_for_status,
    wait_until,
)

SAM = StaffDecision(actor="sam", reason="known customer")


@pytest.fixture(autouse=True)
async def record_histories(
    request: pytest.FixtureRequest, time_skipping_env: WorkflowEnvironment
) -> AsyncIterator[None]:
    """With ``OMS_RECORD_HISTORIES=1``, keep this test's histories for the replay test."""
    STARTED_ORDERS.clear()
    yield
    if os.environ.get("OMS_RECORD_HISTORIES") and STARTED_ORDERS:
        await histories.record(time_skipping_env.client, request.node.name, STARTED_ORDERS)


def supply_ordered(view: OrderView) -> bool:
    """The order's supply workflow has placed its production or purchase order."""
    return bool(view.supply) and view.supply[0].kind != ""


TOLERANCE = timedelta(minutes=1)


def assert_after(start: datetime, at: datetime, expected: timedelta) -> None:
    """``at`` is ``expected`` after ``start`` (within a minute of workflow bookkeeping)."""
    assert abs((at - start) - expected) < TOLERANCE, f"{at - start} != {expected}"


HAPPY_PREPAID = [
    RECEIVE_ORDER,
    CHECK_CREDIT,
    AUTHORISE_PAYMENT,
    RESERVE_STOCK,
    PLAN_SHIPMENTS,
    BOOK_SHIPMENT,
    CAPTURE_PAYMENT,
    ISSUE_INVOICE,
    POLL_TRACKING,
    RECORD_MILESTONE,
    RECORD_MILESTONE,
    RECORD_MILESTONE,
    ISSUE_RECEIPT,
    "archive_order",
]


async def test_prepaid_order_runs_every_step_once_and_completes(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    partners = FakePartners()
    worker, queue = order_worker(time_skipping_env.client, partners.activities())
    async with worker:
        handle = await start(time_skipping_env.client, queue, unique_order())
        result = await handle.result()
        view = await view_of(handle)
    assert result.status is OrderStatus.COMPLETED
    assert (result.invoice_number, result.receipt_number) == ("INV-2026-000001", "RCT-2026-000001")
    assert sorted(partners.calls) == sorted(HAPPY_PREPAID)
    assert partners.calls.index(CAPTURE_PAYMENT) > partners.calls.index(BOOK_SHIPMENT)
    assert view.money.captured == TOTAL
    assert [s.status for s in view.shipments] == ["delivered"]
    assert [event.kind for event in view.history][:3] == [
        "received",
        "confirmed",
        "credit_approved",
    ]
    assert view.history[-1].kind == "archived"
    customer_news = [n.key for n, _ in partners.notifications if n.audience is Audience.CUSTOMER]
    assert customer_news == [
        "intake",
        f"{result.order_id}-S1:picked_up",
        f"{result.order_id}-S1:in_transit",
        f"{result.order_id}-S1:delivered",
    ]


async def test_invalid_order_is_rejected_and_nothing_is_reserved(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    partners = FakePartners(accepted=False)
    worker, queue = order_worker(time_skipping_env.client, partners.activities())
    async with worker:
        result = await (await start(time_skipping_env.client, queue, unique_order())).result()
    assert result.status is OrderStatus.REJECTED
    assert result.reasons == ["lines[1].quantity 0: must be at least 1"]
    assert partners.calls == [RECEIVE_ORDER]
    [(notice, _)] = partners.notifications
    assert notice.audience is Audience.CUSTOMER
    assert notice.subject.endswith(": not accepted")
    assert notice.message == (
        "we could not accept your order: lines[1].quantity 0: must be at least 1"
    )


async def test_stock_only_shortage_voids_the_authorisation_and_rejects(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    shortage = ApplicationError(
        "insufficient stock: line 1 WIDGET-1: requested 3, available 0",
        type=INSUFFICIENT_STOCK,
        non_retryable=True,
    )
    partners = FakePartners(failing={RESERVE_STOCK: shortage})
    worker, queue = order_worker(time_skipping_env.client, partners.activities())
    async with worker:
        result = await (await start(time_skipping_env.client, queue, unique_order())).result()
    assert result.status is OrderStatus.REJECTED
    assert result.reasons == ["insufficient stock: line 1 WIDGET-1: requested 3, available 0"]
    assert partners.calls[-3:] == [RESERVE_STOCK, RELEASE_RESERVATIONS, VOID_AUTHORISATION]
    assert partners.status_changes[-1].status is OrderStatus.REJECTED


async def test_broken_booking_compensates_in_reverse_and_fails(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    broken = ApplicationError("carrier refused the address", non_retryable=True)
    partners = FakePartners(failing={BOOK_SHIPMENT: broken})
    worker, queue = order_worker(time_skipping_env.client, partners.activities())
    async with worker:
        result = await (await start(time_skipping_env.client, queue, unique_order())).result()
    assert result.status is OrderStatus.FAILED
    assert result.reasons == ["carrier refused the address"]
    assert partners.calls[-4:] == [
        BOOK_SHIPMENT,
        CANCEL_SHIPMENT,
        RELEASE_RESERVATIONS,
        VOID_AUTHORISATION,
    ]
    final = partners.status_changes[-1]
    assert (final.status, final.event.value) == (OrderStatus.FAILED, "failed")


async def test_net_terms_order_is_invoiced_at_shipment_and_counts_each_payment_once(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    partners = FakePartners(terms=PaymentTerms.NET)
    worker, queue = order_worker(time_skipping_env.client, partners.activities())
    async with worker:
        handle = await start(time_skipping_env.client, queue, unique_order())
        await wait_for_status(handle, OrderStatus.DELIVERED)
        first = IncomingPayment(payment_id="BANK-1", amount=Decimal("20.00"))
        await handle.signal(PAYMENT_RECEIVED_SIGNAL, first)
        await handle.signal(PAYMENT_RECEIVED_SIGNAL, first)
        await handle.execute_update(
            PAYMENT_RECEIVED_SIGNAL + UPDATE_SUFFIX,
            IncomingPayment(payment_id="BANK-2", amount=Decimal("39.70")),
        )
        result = await handle.result()
    assert result.status is OrderStatus.COMPLETED
    assert partners.calls.count(RECORD_PAYMENT) == 2
    assert AUTHORISE_PAYMENT not in partners.calls
    assert partners.calls.index(BOOK_SHIPMENT) < partners.calls.index(ISSUE_INVOICE)
    assert partners.calls.index(ISSUE_INVOICE) < partners.calls.index(RECORD_PAYMENT)


@pytest.mark.parametrize(
    ("signal", "expected"),
    [(APPROVE_SIGNAL, OrderStatus.COMPLETED), (REJECT_SIGNAL, OrderStatus.REJECTED)],
)
async def test_held_order_waits_for_support_staff(
    time_skipping_env: WorkflowEnvironment, signal: str, expected: OrderStatus
) -> None:
    partners = FakePartners(credit=CreditOutcome.HOLD)
    worker, queue = order_worker(time_skipping_env.client, partners.activities())
    async with worker:
        handle = await start(time_skipping_env.client, queue, unique_order())
        await wait_for_status(handle, OrderStatus.AWAITING_APPROVAL)
        await handle.signal(signal, SAM)
        result = await handle.result()
    assert result.status is expected
    decided = [c for c in partners.status_changes if c.actor == "sam"]
    assert [c.event.value for c in decided] == [
        "approved_by_staff" if expected is OrderStatus.COMPLETED else "rejected_by_staff"
    ]
    if expected is OrderStatus.REJECTED:
        assert result.reasons == ["rejected by sam: known customer"]
        assert RESERVE_STOCK not in partners.calls


async def test_held_order_is_reminded_escalated_and_auto_rejected_after_72h(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    partners = FakePartners(credit=CreditOutcome.HOLD)
    worker, queue = order_worker(time_skipping_env.client, partners.activities())
    async with worker:
        handle = await start(time_skipping_env.client, queue, unique_order())
        result = await handle.result()
        view = await view_of(handle)
    held_at = partners.times[CHECK_CREDIT][0]
    rungs = partners.rungs("approval")
    assert [audience for audience, _ in rungs] == [
        Audience.ASSIGNEE,
        Audience.SUPERVISOR,
        Audience.CUSTOMER,
    ]
    for (_, at), hours in zip(rungs, (24, 48, 72), strict=True):
        assert_after(held_at, at, timedelta(hours=hours))
    assert result.status is OrderStatus.REJECTED
    assert "auto-rejected" in result.reasons[0]
    assert view.escalation_level == 3
    escalations = [c for c in partners.status_changes if c.event.value == "escalated"]
    assert [c.escalation_level for c in escalations] == [1, 2, 3]
    assert partners.status_changes[-1].event.value == "auto_rejected"
    assert RESERVE_STOCK not in partners.calls


async def test_extend_deadline_moves_the_approval_ladder(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    partners = FakePartners(credit=CreditOutcome.HOLD)
    worker, queue = order_worker(time_skipping_env.client, partners.activities())
    async with worker:
        handle = await start(time_skipping_env.client, queue, unique_order())
        await wait_for_status(handle, OrderStatus.AWAITING_APPROVAL)
        await time_skipping_env.sleep(timedelta(hours=30))
        view = await wait_until(handle, lambda v: v.escalation_level == 1, "reminded")
        assert view.waiting is not None
        assert view.waiting.ladder is not None
        new_deadline = await time_skipping_env.get_current_time() + timedelta(hours=48)
        await handle.execute_update(
            EXTEND_DEADLINE_SIGNAL + UPDATE_SUFFIX,
            DeadlineExtension(
                actor="sam", reason="customer sends papers", new_deadline=new_deadline
            ),
        )
        result = await handle.result()
    rungs = partners.rungs("approval")
    assert [audience for audience, _ in rungs] == [
        Audience.ASSIGNEE,
        Audience.SUPERVISOR,
        Audience.CUSTOMER,
    ]
    assert abs(rungs[1][1] - new_deadline) < TOLERANCE
    assert_after(rungs[1][1], rungs[2][1], timedelta(hours=24))
    assert result.status is OrderStatus.REJECTED
    extended = [c for c in partners.status_changes if c.event.value == "deadline_extended"]
    assert extended[0].actor == "sam"


async def test_staff_signals_that_do_not_apply_and_refused_updates_are_recorded(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    partners = FakePartners(terms=PaymentTerms.NET, carrier_pushes_events=True)
    order = unique_order()
    worker, queue = order_worker(time_skipping_env.client, partners.activities())
    async with worker:
        handle = await start(time_skipping_env.client, queue, order)
        await wait_for_status(handle, OrderStatus.INVOICED)
        await handle.signal(APPROVE_SIGNAL, StaffDecision(actor="sam", reason="why not"))
        with pytest.raises(WorkflowUpdateFailedError) as approve:
            await handle.execute_update(APPROVE_SIGNAL + UPDATE_SUFFIX, SAM)
        with pytest.raises(WorkflowUpdateFailedError) as retry:
            await handle.execute_update(RETRY_COMPENSATION_SIGNAL + UPDATE_SUFFIX, SAM)
        with pytest.raises(WorkflowUpdateFailedError) as past:
            await handle.execute_update(
                EXTEND_DEADLINE_SIGNAL + UPDATE_SUFFIX,
                DeadlineExtension(
                    actor="sam", reason="typo", new_deadline=datetime(2000, 1, 1).astimezone()
                ),
            )
        parcel = time_skipping_env.client.get_workflow_handle(
            shipment_workflow_id(f"{order.order_id}-S1")
        )
        for milestone in (Milestone.PICKED_UP, Milestone.DELIVERED):
            await parcel.signal(
                CARRIER_EVENT_SIGNAL,
                TrackingEvent(milestone=milestone, at=await time_skipping_env.get_current_time()),
            )
        await handle.signal(
            PAYMENT_RECEIVED_SIGNAL, IncomingPayment(payment_id="BANK-1", amount=TOTAL)
        )
        result = await handle.result()
    assert result.status is OrderStatus.COMPLETED
    assert refusal(approve.value) == "the order is INVOICED, not held for approval"
    assert refusal(retry.value).startswith("the order is INVOICED: no undo step")
    assert "is not in the future" in refusal(past.value)
    ignored = [c for c in partners.status_changes if c.event.value == "signal_ignored"]
    assert [c.detail for c in ignored][:3] == [
        "approve by sam ignored: the order is INVOICED, not held for approval",
        "approve_now by sam refused: the order is INVOICED, not held for approval",
        "retry_compensation_now by sam refused: the order is INVOICED: no undo step is "
        "waiting for a retry",
    ]
    assert ignored[3].detail.startswith("extend_deadline_now by sam refused: the new deadline")


async def test_duplicate_submission_is_recorded_and_processed_once(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    partners = FakePartners()
    order = unique_order()
    worker, queue = order_worker(time_skipping_env.client, partners.activities())
    async with worker:
        handle = await start(time_skipping_env.client, queue, order)
        again = await start(time_skipping_env.client, queue, order)
        assert again.result_run_id == handle.result_run_id
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
    worker, queue = order_worker(time_skipping_env.client, partners.activities())
    async with worker:
        result = await time_skipping_env.client.execute_workflow(
            "OrderWorkflow",
            id=f"order-EMPTY-{uuid.uuid4().hex[:6]}",
            task_queue=queue,
            result_type=OrderResult,
        )
    assert result.status is OrderStatus.REJECTED
    assert result.reasons == ["submit_order: no order document arrived within 0:05:00 of the start"]
    assert [refused.problems for refused in partners.refused_submissions] == [result.reasons]
    assert partners.calls == [RECORD_REFUSED_SUBMISSION]


# --- supply ------------------------------------------------------------------------------

BACKORDER = [Backorder(line_no=2, sku="BOLT-M8", quantity=4)]


async def test_backorder_is_supplied_in_partial_receipts_then_shipped(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    partners = FakePartners(backorders=BACKORDER)
    order = unique_order()
    worker, queue = order_worker(time_skipping_env.client, partners.activities())
    async with worker:
        handle = await start(time_skipping_env.client, queue, order)
        await wait_for_status(handle, OrderStatus.AWAITING_SUPPLY)
        supply = time_skipping_env.client.get_workflow_handle(supply_workflow_id(order.order_id, 2))
        await wait_until(handle, lambda v: v.supply[0].kind == "production", "supply ordered")
        first = SupplyReceipt(receipt_id="DN-1", quantity=1)
        await supply.execute_update(SUPPLY_RECEIVED_SIGNAL + UPDATE_SUFFIX, first)
        with pytest.raises(WorkflowUpdateFailedError) as repeated:
            await supply.execute_update(SUPPLY_RECEIVED_SIGNAL + UPDATE_SUFFIX, first)
        await supply.signal(SUPPLY_RECEIVED_SIGNAL, SupplyReceipt(receipt_id="DN-2", quantity=3))
        result = await handle.result()
        view = await view_of(handle)
    assert result.status is OrderStatus.COMPLETED
    assert refusal(repeated.value) == "delivery note 'DN-1' was received already"
    assert partners.calls.count(RECEIVE_SUPPLY) == 2
    assert partners.calls.index(RECEIVE_SUPPLY) < partners.calls.index(PLAN_SHIPMENTS)
    assert (view.supply[0].received, view.supply[0].status) == (4, "received")
    assert sorted((r.sku, r.quantity) for r in view.reservations) == [
        ("BOLT-M8", 4),
        ("WIDGET-1", 3),
    ]


async def test_late_supply_climbs_the_delay_ladder_and_asks_support(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    partners = FakePartners(backorders=BACKORDER)
    order = unique_order()
    worker, queue = order_worker(time_skipping_env.client, partners.activities())
    async with worker:
        handle = await start(time_skipping_env.client, queue, order)
        await wait_for_status(handle, OrderStatus.AWAITING_SUPPLY)
        await time_skipping_env.sleep(SUPPLY_LEAD_TIME + timedelta(days=8))
        view = await wait_until(handle, lambda v: v.needs_attention is not None, "support asked")
        assert view.escalation_level == 3
        assert view.needs_attention == "line 2 supply is late: extend the deadline or cancel"
        await handle.execute_update(
            EXTEND_DEADLINE_SIGNAL + UPDATE_SUFFIX,
            DeadlineExtension(
                actor="sam",
                reason="factory promised Friday",
                new_deadline=await time_skipping_env.get_current_time() + timedelta(days=3),
            ),
        )
        await wait_until(handle, lambda v: v.needs_attention is None, "attention cleared")
        supply = time_skipping_env.client.get_workflow_handle(supply_workflow_id(order.order_id, 2))
        await supply.signal(SUPPLY_RECEIVED_SIGNAL, SupplyReceipt(receipt_id="DN-9", quantity=4))
        result = await handle.result()
        finished_supply = await current_details(supply)
    assert "received" in finished_supply
    assert "Next escalation" not in finished_supply, "a finished supply announces no rung"
    expected_at = partners.times[PLACE_SUPPLY_ORDER][0] + SUPPLY_LEAD_TIME
    rungs = partners.rungs("supply:L2")
    assert [audience for audience, _ in rungs] == [
        Audience.CUSTOMER,
        Audience.PLANNING,
        Audience.SUPPORT,
    ]
    for (_, at), days in zip(rungs, (1, 3, 7), strict=True):
        assert_after(expected_at, at, timedelta(days=days))
    customer = next(n for n, _ in partners.notifications if n.key == "supply:L2:rung1")
    assert "new promise date" in customer.message
    assert result.status is OrderStatus.COMPLETED


# --- shipment ------------------------------------------------------------------------------


async def current_details(handle: WorkflowHandle[Any, Any]) -> str:
    """What the Web UI shows as the workflow's current details."""
    metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    return str(metadata.current_details)


async def picked_up(
    env: WorkflowEnvironment, handle: WorkflowHandle[Any, Any], order: OrderSubmission
) -> tuple[WorkflowHandle[Any, Any], datetime]:
    """Once the order is invoiced, the carrier reports its parcel picked up; the parcel's handle."""
    await wait_for_status(handle, OrderStatus.INVOICED)
    parcel = env.client.get_workflow_handle(shipment_workflow_id(f"{order.order_id}-S1"))
    now = await env.get_current_time()
    await parcel.signal(CARRIER_EVENT_SIGNAL, TrackingEvent(milestone=Milestone.PICKED_UP, at=now))
    return parcel, now


async def test_late_parcel_climbs_the_delivery_ladder_then_arrives(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    partners = FakePartners(carrier_pushes_events=True)
    order = unique_order()
    worker, queue = order_worker(time_skipping_env.client, partners.activities())
    async with worker:
        handle = await start(time_skipping_env.client, queue, order)
        parcel, _ = await picked_up(time_skipping_env, handle, order)
        await time_skipping_env.sleep(PROMISED_AFTER + timedelta(days=6))
        view = await wait_until(handle, lambda v: v.needs_attention is not None, "support asked")
        assert view.escalation_level == 3
        await parcel.execute_update(
            RESOLVE_SHIPMENT_SIGNAL + UPDATE_SUFFIX,
            ShipmentResolution(action=ShipmentAction.WAIT, decision=SAM),
        )
        with pytest.raises(WorkflowUpdateFailedError) as cancel:
            await handle.execute_update(CANCEL_SIGNAL + UPDATE_SUFFIX, SAM)
        await handle.signal(CANCEL_SIGNAL, SAM)
        await parcel.signal(
            CARRIER_EVENT_SIGNAL,
            TrackingEvent(
                milestone=Milestone.DELIVERED, at=await time_skipping_env.get_current_time()
            ),
        )
        result = await handle.result()
        delivered = await current_details(parcel)
    assert delivered.startswith("**delivered**")
    assert "Next escalation" not in delivered, "a delivered parcel announces no rung"
    booked_at = partners.times[BOOK_SHIPMENT][0]
    rungs = partners.rungs(f"delivery:{order.order_id}-S1")
    assert [audience for audience, _ in rungs] == [
        Audience.CUSTOMER,
        Audience.LOGISTICS,
        Audience.SUPPORT,
    ]
    for (_, at), days in zip(rungs, (0, 2, 5), strict=True):
        assert_after(booked_at + PROMISED_AFTER, at, timedelta(days=days))
    assert "has left the warehouse (picked_up)" in refusal(cancel.value)
    refused = [c for c in partners.status_changes if c.event.value == "cancellation_refused"]
    assert [(c.actor, c.detail.split(":")[0]) for c in refused] == [
        ("sam", "cancel_now by sam refused"),
        ("sam", "cancel by sam refused"),
    ], "a refused update is in the audit log, as a refused signal is"
    assert result.status is OrderStatus.COMPLETED


@pytest.mark.parametrize("action", [ShipmentAction.RESHIP, ShipmentAction.REFUND])
async def test_lost_parcel_asks_support_to_reship_or_refund(
    time_skipping_env: WorkflowEnvironment, action: ShipmentAction
) -> None:
    partners = FakePartners(carrier_pushes_events=True)
    order = unique_order()
    worker, queue = order_worker(time_skipping_env.client, partners.activities())
    async with worker:
        handle = await start(time_skipping_env.client, queue, order)
        parcel, now = await picked_up(time_skipping_env, handle, order)
        await parcel.signal(
            CARRIER_EVENT_SIGNAL,
            TrackingEvent(
                milestone=Milestone.EXCEPTION,
                at=now,
                detail="scan lost",
                problem=ParcelProblem.LOST,
            ),
        )
        view = await wait_until(handle, lambda v: v.needs_attention is not None, "support asked")
        assert view.needs_attention == f"parcel {order.order_id}-S1 is lost: re-ship or refund"
        with pytest.raises(WorkflowUpdateFailedError) as wait:
            await parcel.execute_update(
                RESOLVE_SHIPMENT_SIGNAL + UPDATE_SUFFIX,
                ShipmentResolution(action=ShipmentAction.WAIT, decision=SAM),
            )
        await parcel.execute_update(
            RESOLVE_SHIPMENT_SIGNAL + UPDATE_SUFFIX,
            ShipmentResolution(action=action, decision=SAM),
        )
        if action is ShipmentAction.RESHIP:
            replacement = await wait_until(
                handle, lambda v: any(s.shipment_id.endswith("-R1") for s in v.shipments), "re-sent"
            )
            assert replacement.shipments[0].status == "lost"
            await parcel.signal(
                CARRIER_EVENT_SIGNAL,
                TrackingEvent(
                    milestone=Milestone.DELIVERED, at=await time_skipping_env.get_current_time()
                ),
            )
        result = await handle.result()
    assert refusal(wait.value) == "the parcel will not arrive: choose reship or refund"
    if action is ShipmentAction.RESHIP:
        assert result.status is OrderStatus.COMPLETED
        assert partners.calls.count(BOOK_SHIPMENT) == 2
        assert RESHIP_SHIPMENT in partners.calls
    else:
        assert result.status is OrderStatus.CANCELLED
        assert result.reasons[0].startswith(f"cancelled by support: parcel {order.order_id}-S1")
        undo = [c for c in partners.calls if c in UNDO_STEPS]
        assert undo == [
            VOID_INVOICE,
            REFUND_PAYMENT,
            CANCEL_SHIPMENT,
            RELEASE_RESERVATIONS,
            VOID_AUTHORISATION,
        ]


UNDO_STEPS = {
    VOID_AUTHORISATION,
    RELEASE_RESERVATIONS,
    REFUND_PAYMENT,
    VOID_INVOICE,
    CANCEL_SUPPLY_ORDER,
    CANCEL_SHIPMENT,
}


# --- settlement ---------------------------------------------------------------------------


async def test_unpaid_invoice_climbs_the_dunning_ladder_until_paid(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    partners = FakePartners(terms=PaymentTerms.NET)
    worker, queue = order_worker(time_skipping_env.client, partners.activities())
    async with worker:
        handle = await start(time_skipping_env.client, queue, unique_order())
        await wait_for_status(handle, OrderStatus.DELIVERED)
        await time_skipping_env.sleep(timedelta(days=62))
        view = await wait_until(handle, lambda v: v.needs_attention is not None, "collections")
        assert view.escalation_level == 3
        await handle.signal(
            PAYMENT_RECEIVED_SIGNAL, IncomingPayment(payment_id="BANK-7", amount=TOTAL)
        )
        result = await handle.result()
        view = await view_of(handle)
    invoiced_at = partners.times[ISSUE_INVOICE][0]
    due = datetime.combine(
        (invoiced_at + timedelta(days=30)).date(), datetime.min.time(), invoiced_at.tzinfo
    )
    rungs = partners.rungs("dunning")
    assert [audience for audience, _ in rungs] == [
        Audience.CUSTOMER,
        Audience.FINANCE,
        Audience.COLLECTIONS,
    ]
    for (_, at), days in zip(rungs, (0, 14, 30), strict=True):
        assert_after(due, at, timedelta(days=days))
    assert result.status is OrderStatus.COMPLETED
    assert view.needs_attention is None


# --- cancellation and compensation ---------------------------------------------------------


async def test_cancel_while_held_undoes_nothing_more_than_was_done(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    partners = FakePartners(credit=CreditOutcome.HOLD)
    worker, queue = order_worker(time_skipping_env.client, partners.activities())
    async with worker:
        handle = await start(time_skipping_env.client, queue, unique_order())
        await wait_for_status(handle, OrderStatus.AWAITING_APPROVAL)
        await handle.signal(CANCEL_SIGNAL, SAM)
        result = await handle.result()
    assert result.status is OrderStatus.CANCELLED
    assert result.reasons == ["cancelled by sam: known customer"]
    assert partners.calls == [RECEIVE_ORDER, CHECK_CREDIT]


async def test_cancel_while_waiting_for_supply_cancels_the_supply_order_first(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    partners = FakePartners(backorders=BACKORDER)
    order = unique_order()
    worker, queue = order_worker(time_skipping_env.client, partners.activities())
    async with worker:
        handle = await start(time_skipping_env.client, queue, order)
        await wait_until(handle, supply_ordered, "supply ordered")
        message = await handle.execute_update(CANCEL_SIGNAL + UPDATE_SUFFIX, SAM)
        result = await handle.result()
        supply = time_skipping_env.client.get_workflow_handle(supply_workflow_id(order.order_id, 2))
        supply_description = await supply.describe()
    assert "cancellation accepted" in message
    assert result.status is OrderStatus.CANCELLED
    assert [c for c in partners.calls if c in UNDO_STEPS] == [
        CANCEL_SUPPLY_ORDER,
        RELEASE_RESERVATIONS,
        VOID_AUTHORISATION,
    ]
    assert supply_description.status is not None
    assert supply_description.status.name == "CANCELED"


async def test_failing_undo_needs_attention_until_support_retries(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    partners = FakePartners(credit=CreditOutcome.HOLD, backorders=BACKORDER)
    partners.failing[CANCEL_SUPPLY_ORDER] = ApplicationError("factory portal is down")
    order = unique_order()
    worker, queue = order_worker(time_skipping_env.client, partners.activities())
    async with worker:
        handle = await start(time_skipping_env.client, queue, order)
        await wait_for_status(handle, OrderStatus.AWAITING_APPROVAL)
        await handle.execute_update(APPROVE_SIGNAL + UPDATE_SUFFIX, SAM)
        await wait_until(handle, supply_ordered, "supply ordered")
        await handle.signal(CANCEL_SIGNAL, SAM)
        # The undo step's five attempts wait 1+2+4+8 s between them: skip that time as the
        # worker reaches each wait (on a loaded machine it reaches them late; one long skip
        # before the first retry was scheduled left the rest to real time).
        view = await view_of(handle)
        for _ in range(150):
            if view.status is OrderStatus.NEEDS_ATTENTION:
                break
            await time_skipping_env.sleep(timedelta(seconds=30))
            await asyncio.sleep(0.1)
            view = await view_of(handle)
        assert view.status is OrderStatus.NEEDS_ATTENTION
        assert view.needs_attention is not None
        assert "Cancel the supply order for line 2" in view.needs_attention
        del partners.failing[CANCEL_SUPPLY_ORDER]
        await handle.execute_update(RETRY_COMPENSATION_SIGNAL + UPDATE_SUFFIX, SAM)
        result = await handle.result()
    assert result.status is OrderStatus.CANCELLED
    assert partners.calls.count(CANCEL_SUPPLY_ORDER) == 7
    support = [n for n, _ in partners.notifications if n.audience is Audience.SUPPORT]
    assert len(support) == 1
    assert partners.calls[-2:] == [RELEASE_RESERVATIONS, VOID_AUTHORISATION]


async def test_temporal_cancellation_compensates_before_the_workflow_ends_cancelled(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    partners = FakePartners(carrier_pushes_events=True)
    worker, queue = order_worker(time_skipping_env.client, partners.activities())
    async with worker:
        handle = await start(time_skipping_env.client, queue, unique_order())
        await wait_for_status(handle, OrderStatus.INVOICED)
        await handle.cancel()
        with pytest.raises(WorkflowFailureError) as failure:
            await handle.result()
    assert isinstance(failure.value.cause, CancelledError)
    assert [c for c in partners.calls if c in UNDO_STEPS] == [
        VOID_INVOICE,
        REFUND_PAYMENT,
        CANCEL_SHIPMENT,
        RELEASE_RESERVATIONS,
        VOID_AUTHORISATION,
    ]
    assert partners.status_changes[-1].status is OrderStatus.CANCELLED


async def test_junk_signals_are_dropped_and_the_order_carries_on(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    partners = FakePartners(credit=CreditOutcome.HOLD)
    junk: list[object] = [None, 5, "approve!", ["x"], {"actor": ""}, {"reason": "x" * 10_000}]
    names = [APPROVE_SIGNAL, REJECT_SIGNAL, CANCEL_SIGNAL, EXTEND_DEADLINE_SIGNAL]
    names += [RETRY_COMPENSATION_SIGNAL, PAYMENT_RECEIVED_SIGNAL, "no_such_signal"]
    worker, queue = order_worker(time_skipping_env.client, partners.activities())
    async with worker:
        handle = await start(time_skipping_env.client, queue, unique_order())
        await wait_for_status(handle, OrderStatus.AWAITING_APPROVAL)
        for name in names:
            for payload in junk:
                await handle.signal(name, payload)
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update(APPROVE_SIGNAL + UPDATE_SUFFIX, {"actor": ""})
        await handle.signal(APPROVE_SIGNAL, SAM)
        result = await handle.result()
        failed_tasks = [
            event
            async for event in handle.fetch_history_events()
            if event.HasField("workflow_task_failed_event_attributes")
        ]
    assert result.status is OrderStatus.COMPLETED
    assert failed_tasks == []
