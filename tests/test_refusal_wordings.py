# ruff: noqa: RUF001 - the Chinese sentences use full-width punctuation
"""What an order's timeline says of a staff message it refused or ignored reads in the
reader's language, from the running workflow and from the audit log; the English
sentence stays in ``detail`` and is what the refused client is answered with."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from domain.access import Locale
from domain.complaints import (
    REPLY_UPDATE,
    SURVEY_ANSWERED_SIGNAL,
    ComplaintEventKind,
    ComplaintPolicy,
)
from domain.credit import APPROVE_SIGNAL
from domain.escalation import EXTEND_DEADLINE_SIGNAL, DeadlineExtension
from domain.order_actions import (
    LEFT_THE_WAREHOUSE,
    Situation,
    cancel_refusal,
    extension_refusal,
    parcel_term,
    receipt_refusal,
    resolution_refusal,
    status_term,
)
from domain.orders import (
    CANCEL_SIGNAL,
    PAYMENT_RECEIVED_SIGNAL,
    UPDATE_SUFFIX,
    EventKind,
    OrderStatus,
    OrderView,
    StaffDecision,
)
from domain.settlement import IncomingPayment
from domain.shipping import (
    CARRIER_EVENT_SIGNAL,
    Milestone,
    ShipmentAction,
    ShipmentStatus,
    TrackingEvent,
    shipment_workflow_id,
)
from domain.wording import Wording
from persistence.database import Database
from persistence.models import ComplaintEventRow
from persistence.order_views import order_view
from tests.factories import submission
from tests.test_complaints import Cases, cases, phone  # noqa: F401 - fixture
from tests.test_order_wordings import in_chinese, order_page, shop  # noqa: F401 - fixture
from tests.test_web_offers import order
from tests.workflow_fakes import refusal, start, wait_until
from web.i18n import words
from web.labels import PARCEL_LABELS, STATUS_LABELS
from workflows._common import ignored, refused

ZH = Locale.TRADITIONAL_CHINESE
SAM = StaffDecision(actor="sam", reason="looked at it")
PAST = datetime(2026, 1, 2, 9, 30, tzinfo=UTC)


def in_english(parcel: str) -> list[str]:
    """What the timeline says of the late approve and cancel, in English."""
    return [
        "approve by sam ignored: the order was approved by sam already",
        f"cancel_now by sam refused: parcel {parcel} has left the warehouse (picked_up); "
        "wait for delivery and file a return",
    ]


def in_chinese_words(parcel: str) -> list[str]:
    """The same in Chinese."""
    return [
        "已忽略 sam 的 approve：訂單已由 sam 核准",
        f"sam 的 cancel_now 遭拒：包裹 {parcel} 已離開倉庫（已取件）；請等候送達後申請退貨",
    ]


async def carrier(
    parcel: WorkflowHandle[Any, Any], milestone: Milestone, env: WorkflowEnvironment
) -> None:
    event = TrackingEvent(milestone=milestone, at=await env.get_current_time())
    await parcel.signal(CARRIER_EVENT_SIGNAL, event)


def refusals(view: OrderView) -> list[str]:
    kinds = (EventKind.SIGNAL_IGNORED, EventKind.CANCELLATION_REFUSED)
    return [event.detail for event in view.history if event.kind in kinds]


async def test_late_staff_messages_on_a_held_order_read_in_chinese_with_the_english_kept(
    time_skipping_env: WorkflowEnvironment,
    db: Database,
    shop: Callable[[], Worker],  # noqa: F811 - the fixture imported above
) -> None:
    order_id = f"WF-REFUSED-{uuid.uuid4().hex[:8]}"
    parcel_id = f"{order_id}-S1"
    english_said, chinese_said = in_english(parcel_id), in_chinese_words(parcel_id)
    order = submission(order_id, customer_id="CUST-WATCH", payment_token=None)
    worker = shop()
    async with worker:
        handle = await start(time_skipping_env.client, worker.task_queue, order)
        await wait_until(handle, lambda view: view.status is OrderStatus.AWAITING_APPROVAL, "held")
        await handle.execute_update(APPROVE_SIGNAL + UPDATE_SUFFIX, SAM)
        invoiced = await wait_until(
            handle, lambda view: view.status is OrderStatus.INVOICED, "invoiced"
        )
        parcel = time_skipping_env.client.get_workflow_handle(shipment_workflow_id(parcel_id))
        await carrier(parcel, Milestone.PICKED_UP, time_skipping_env)
        await wait_until(
            handle,
            lambda view: any(p.status == ShipmentStatus.PICKED_UP for p in view.shipments),
            "picked up",
        )
        await handle.signal(APPROVE_SIGNAL, SAM)
        with pytest.raises(WorkflowUpdateFailedError) as cancel:
            await handle.execute_update(CANCEL_SIGNAL + UPDATE_SUFFIX, SAM)
        await handle.signal(
            EXTEND_DEADLINE_SIGNAL,
            DeadlineExtension(actor="sam", reason="typo", new_deadline=PAST),
        )
        live = await wait_until(handle, lambda view: len(refusals(view)) == 3, "3 refusals")
        page = order_page(live, live=True)
        await carrier(parcel, Milestone.DELIVERED, time_skipping_env)
        await handle.signal(
            PAYMENT_RECEIVED_SIGNAL,
            IncomingPayment(payment_id="BANK-1", amount=invoiced.money.total),
        )
        assert (await handle.result()).status is OrderStatus.COMPLETED

    # The client refused is answered in English, as every client understands it.
    assert refusal(cancel.value) == english_said[1].removeprefix("cancel_now by sam refused: ")
    for shown in chinese_said:
        assert shown in page
    assert f"已忽略 sam 的 extend_deadline：新期限 {in_chinese(PAST)} 不在未來" in page

    stored = order_view(db, order.order_id)
    assert stored is not None
    assert stored.status is OrderStatus.COMPLETED
    page = order_page(stored, live=False)
    for shown in chinese_said:
        assert shown in page
    assert f"已忽略 sam 的 extend_deadline：新期限 {in_chinese(PAST)} 不在未來" in page
    for english in english_said:
        assert english not in page
    assert "not in the future" not in page
    # The English stays in the plain detail (the CLI, the API, the Temporal UI).
    details = refusals(stored)
    assert details[:2] == english_said
    assert details[2].startswith(
        f"extend_deadline by sam ignored: the new deadline {PAST.isoformat()} is not in the "
        "future (now "
    )
    assert refusals(live) == details


def test_every_status_and_parcel_state_of_a_refusal_reads_as_its_label() -> None:
    for status, label in STATUS_LABELS.items():
        term = status_term(status)
        assert term == status.value  # the English reads as it always did
        assert words(Wording(message="%(s)s", terms={"s": term}), ZH) == words(
            Wording(message="%(s)s", terms={"s": label}), ZH
        )
    # "lost" is a catalogue word of its own already (遺失), which reads well enough.
    for state in LEFT_THE_WAREHOUSE - {ShipmentStatus.LOST}:
        said = words(Wording(message="%(s)s", terms={"s": parcel_term(state)}), ZH)
        label = PARCEL_LABELS[ShipmentStatus(state)]
        assert said == words(Wording(message="%(s)s", terms={"s": label}), ZH)


def test_the_rules_and_the_refusals_around_them_read_in_chinese() -> None:
    done = order(OrderStatus.COMPLETED)
    refusal = cancel_refusal(done, Situation())
    assert refusal is not None
    assert refusal.english() == "the order is COMPLETED already"
    assert words(refusal, ZH) == "訂單已是「已完成」狀態"
    extension = extension_refusal(done, Situation())
    assert extension is not None
    said = refused("extend_deadline_now", extension, "sam")
    assert said.english() == "extend_deadline_now by sam refused: the order is COMPLETED"
    assert words(said, ZH) == "sam 的 extend_deadline_now 遭拒：訂單狀態為「已完成」"
    # A message that cannot be read: the library's words stay, the sentence is translated.
    unreadable = refused("approve_now", "actor: Input should be a valid string")
    assert unreadable.english() == "approve_now refused: actor: Input should be a valid string"
    assert words(unreadable, ZH) == "approve_now 遭拒：actor: Input should be a valid string"
    receipt = receipt_refusal(None)
    assert receipt is not None
    assert words(receipt, ZH) == "供貨單尚未下單；請稍後再試"
    parcel = resolution_refusal(False, False, ShipmentAction.WAIT)
    assert parcel is not None
    assert words(ignored("resolve_shipment", "sam", parcel), ZH) == (
        "已忽略 sam 的 resolve_shipment：此包裹不需要做決定"
    )


async def test_a_complaints_refused_and_ignored_messages_read_in_chinese(
    cases: Cases,  # noqa: F811 - the fixture imported above
) -> None:
    now = await cases.env.get_current_time()
    handle = await cases.start(phone(), ComplaintPolicy(), now)
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(REPLY_UPDATE, {"actor": "mia.chen"})
    await handle.signal(SURVEY_ANSWERED_SIGNAL, {"score": 4})
    complaint_id = (await cases.case(handle)).id
    await wait_for(lambda: len(ignored_rows(cases.db, complaint_id)) == 2)
    [reply, survey] = ignored_rows(cases.db, complaint_id)
    assert reply[0].startswith(f"{REPLY_UPDATE} refused: ")
    assert words(reply[1], ZH).startswith(f"{REPLY_UPDATE} 遭拒：")
    assert survey[0] == f"{SURVEY_ANSWERED_SIGNAL} ignored: no survey is open"
    assert words(survey[1], ZH) == f"已忽略 {SURVEY_ANSWERED_SIGNAL}：目前沒有開放的問卷"


def ignored_rows(db: Database, complaint_id: int) -> list[tuple[str, Wording]]:
    """The complaint's ignored messages: their English detail and their wording."""
    with db.reading() as session:
        rows = session.scalars(
            select(ComplaintEventRow)
            .where(ComplaintEventRow.complaint_id == complaint_id)
            .where(ComplaintEventRow.kind == ComplaintEventKind.MESSAGE_IGNORED.value)
            .order_by(ComplaintEventRow.id)
        ).all()
        return [(row.detail, Wording.model_validate(row.wording)) for row in rows]


async def wait_for(done: Callable[[], bool]) -> None:
    for _ in range(200):
        if done():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the complaint never recorded both messages")
