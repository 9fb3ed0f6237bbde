"""Whatever a client sends (no payload, null, another shape, extra fields, an unknown
signal), no workflow task fails: the order records what it ignored and goes on.

Clients here send what the ``temporal`` CLI or another SDK can send: signals and
updates with no argument, ``null``, plain JSON objects of the wrong shape.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.testing import WorkflowEnvironment

from domain.catalogue import PaymentTerms
from domain.credit import APPROVE_SIGNAL, CreditOutcome
from domain.intake import RECEIVE_ORDER, RECORD_REFUSED_SUBMISSION
from domain.orders import (
    CANCEL_SIGNAL,
    STATUS_QUERY,
    SUBMIT_ORDER_SIGNAL,
    UPDATE_SUFFIX,
    OrderResult,
    OrderStatus,
    OrderView,
    order_workflow_id,
)
from domain.visibility import CHANNEL, CUSTOMER_ID, ORDER_ID, ORDER_STATUS
from tests.workflow_fakes import (
    FakePartners,
    order_worker,
    refusal,
    start,
    unique_order,
    wait_for_status,
)


def ignored_details(partners: FakePartners) -> list[str]:
    """What the order recorded as ignored or refused messages, in order."""
    return [c.detail for c in partners.status_changes if c.event.value == "signal_ignored"]


async def start_raw(
    client: Client, task_queue: str, order_id: str, *signal_args: Any
) -> WorkflowHandle[Any, OrderResult]:
    """Signal-with-start as another client does: any arguments, no search attributes."""
    return await client.start_workflow(
        "OrderWorkflow",
        id=order_workflow_id(order_id),
        task_queue=task_queue,
        start_signal=SUBMIT_ORDER_SIGNAL,
        start_signal_args=list(signal_args),
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        result_type=OrderResult,
    )


async def test_junk_staff_signals_are_recorded_and_the_order_can_still_be_approved(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    partners = FakePartners(credit=CreditOutcome.HOLD)
    order = unique_order()
    worker, queue = order_worker(time_skipping_env.client, partners.activities())
    async with worker:
        handle = await start(time_skipping_env.client, queue, order)
        await wait_for_status(handle, OrderStatus.AWAITING_APPROVAL)
        await handle.signal(APPROVE_SIGNAL)  # no payload, as `temporal workflow signal`
        await handle.signal(APPROVE_SIGNAL, None)
        await handle.signal(APPROVE_SIGNAL, {"user": "kim", "comment": "ok"})
        await handle.signal(APPROVE_SIGNAL, "yes")
        await handle.signal("aprove", {"actor": "kim", "reason": "typo in the name"})
        with pytest.raises(WorkflowUpdateFailedError) as no_payload:
            await handle.execute_update(APPROVE_SIGNAL + UPDATE_SUFFIX)
        with pytest.raises(WorkflowUpdateFailedError) as wrong_shape:
            await handle.execute_update(APPROVE_SIGNAL + UPDATE_SUFFIX, {"actor": 7})
        view = await handle.query(STATUS_QUERY, result_type=OrderView)
        assert view.status is OrderStatus.AWAITING_APPROVAL
        await handle.signal(
            APPROVE_SIGNAL, {"actor": "kim", "reason": "known customer", "ticket": "T-1"}
        )
        result = await handle.result()
    assert result.status is OrderStatus.COMPLETED
    assert refusal(no_payload.value).startswith("no value was sent; expected one JSON object")
    assert "actor: Input should be a valid string" in refusal(wrong_shape.value)
    assert "reason: Field required" in refusal(wrong_shape.value)
    details = ignored_details(partners)
    assert details[0] == (
        "signal approve ignored: no value was sent; expected one JSON object with the fields "
        "actor, reason"
    )
    assert details[1].startswith("signal approve ignored: the value is null")
    assert details[2] == (
        "signal approve ignored: actor: Field required; reason: Field required"
    ), "the wrong shape names each missing field"
    assert details[3].startswith("signal approve ignored: the value is a JSON string")
    assert details[4].startswith("unknown signal 'aprove' ignored (this workflow takes ")
    assert details[5].startswith("approve_now refused: no value was sent")
    assert details[6].startswith("approve_now refused: actor: Input should be a valid string")
    assert details[7] == "signal approve taken; ignored unknown field(s) ticket"
    approvals = [c for c in partners.status_changes if c.event.value == "approved_by_staff"]
    assert [(c.actor, c.detail) for c in approvals] == [("kim", "known customer")]


@pytest.mark.parametrize(
    ("arguments", "reason"),
    [
        ((), "no value was sent; expected one JSON object with the fields order_id, "),
        ((None,), "the value is null"),
        (("an order",), "the value is a JSON string"),
    ],
)
async def test_signal_with_start_without_a_document_is_rejected_at_once(
    time_skipping_env: WorkflowEnvironment, arguments: tuple[Any, ...], reason: str
) -> None:
    partners = FakePartners()
    order_id = f"RAW-{uuid.uuid4().hex[:8]}"
    worker, queue = order_worker(time_skipping_env.client, partners.activities())
    async with worker:
        handle = await start_raw(time_skipping_env.client, queue, order_id, *arguments)
        result = await handle.result()
        elapsed = (await handle.describe()).close_time - (await handle.describe()).start_time  # type: ignore[operator]
    assert result.status is OrderStatus.REJECTED
    assert result.reasons[0].startswith(reason)
    assert elapsed.total_seconds() < 60, "rejected at once, not after the submission wait"
    assert [r.order_id for r in partners.refused_submissions] == [order_id]
    assert partners.calls == [RECORD_REFUSED_SUBMISSION]


async def test_a_malformed_document_is_rejected_naming_every_field(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    partners = FakePartners()
    order = unique_order().model_dump(mode="json")
    order["lines"][0]["quantity"] = True
    order["discount"] = "100%"
    del order["channel"]
    worker, queue = order_worker(time_skipping_env.client, partners.activities())
    async with worker:
        handle = await start_raw(time_skipping_env.client, queue, order["order_id"], order)
        result = await handle.result()
    assert result.status is OrderStatus.REJECTED
    assert result.reasons == [
        "channel: Field required",
        "lines.0.quantity: Input should be a valid integer",
        "discount: unknown field (not part of the document; remove it)",
    ]
    assert partners.refused_submissions[0].problems == result.reasons


async def test_a_document_for_another_order_is_rejected(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    partners = FakePartners()
    order = unique_order()
    worker, queue = order_worker(time_skipping_env.client, partners.activities())
    async with worker:
        handle = await start_raw(time_skipping_env.client, queue, "SOMETHING-ELSE", order)
        result = await handle.result()
    assert result.status is OrderStatus.REJECTED
    assert result.reasons[0].startswith(f"order_id {order.order_id!r}: the workflow is ")
    assert RECEIVE_ORDER not in partners.calls


async def test_an_order_started_without_search_attributes_publishes_them_itself(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    partners = FakePartners(credit=CreditOutcome.HOLD, terms=PaymentTerms.NET)
    order = unique_order()
    worker, queue = order_worker(time_skipping_env.client, partners.activities())
    async with worker:
        handle = await start_raw(time_skipping_env.client, queue, order.order_id, order)
        await wait_for_status(handle, OrderStatus.AWAITING_APPROVAL)
        attributes = (await handle.describe()).typed_search_attributes
        await handle.signal(CANCEL_SIGNAL, {"actor": "kim", "reason": "test over"})
        await handle.result()
    assert attributes.get(ORDER_ID) == order.order_id
    assert attributes.get(ORDER_STATUS) == OrderStatus.AWAITING_APPROVAL.value
    assert attributes.get(CUSTOMER_ID) == order.customer_id
    assert attributes.get(CHANNEL) == order.channel.value


async def test_a_new_run_of_an_order_an_earlier_run_took_does_nothing(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    partners = FakePartners(earlier_status=OrderStatus.COMPLETED)
    order = unique_order()
    worker, queue = order_worker(time_skipping_env.client, partners.activities())
    async with worker:
        handle = await start_raw(time_skipping_env.client, queue, order.order_id, order)
        result = await handle.result()
    assert result.status is OrderStatus.COMPLETED
    assert partners.calls == [RECEIVE_ORDER], "no step, no notification"
    assert partners.notifications == []
    duplicates = [c for c in partners.status_changes if c.event.value == "duplicate_submission"]
    assert len(duplicates) == 1
    assert "an earlier run took" in duplicates[0].detail
