"""The order page offers only what the order's workflow would accept: the console and the
workflow's refusals read the same rules (domain.order_actions)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from domain.credit import APPROVE_SIGNAL, CreditOutcome
from domain.escalation import LadderPosition
from domain.order_actions import (
    OrderAction,
    Situation,
    approval_refusal,
    cancel_refusal,
    extension_refusal,
    offered_actions,
    parcel_decisions,
    payment_refusal,
    receipt_refusal,
    receivable,
    retry_refusal,
    situation_of,
)
from domain.orders import (
    FINAL_STATUSES,
    RETRY_COMPENSATION_SIGNAL,
    UPDATE_SUFFIX,
    EventKind,
    MoneyView,
    OrderEvent,
    OrderStatus,
    OrderView,
    ShipmentView,
    StaffDecision,
    SupplyView,
    WaitView,
)
from domain.shipping import ShipmentAction, ShipmentStatus
from domain.wording import Wording
from tests.workflow_fakes import (
    FakePartners,
    order_worker,
    refusal,
    start,
    unique_order,
    view_of,
    wait_for_status,
)
from web.orders import offers_for

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SAM = StaffDecision(actor="sam", reason="checked with the customer")


def english(refusal: Wording | None) -> str | None:
    """A rule's refusal as the English sentence the workflow answers with."""
    return None if refusal is None else refusal.english()


def order(status: OrderStatus, **changes: object) -> OrderView:
    """An order of 100 EUR on net terms in ``status``."""
    money = MoneyView(currency="EUR", total=Decimal(100), payment_terms="net")
    view = OrderView(
        order_id="WEB-1",
        workflow_id="order-WEB-1",
        channel="web",
        customer_id="C-1",
        status=status,
        money=money,
    )
    return view.model_copy(update=changes)


def parcel(status: ShipmentStatus, needs_attention: str | None = None) -> ShipmentView:
    return ShipmentView(
        shipment_id="WEB-1-S1",
        warehouse_id="WH-BER",
        status=status.value,
        needs_attention=needs_attention,
    )


@pytest.mark.parametrize("status", sorted(FINAL_STATUSES))
def test_a_finished_order_offers_nothing(status: OrderStatus) -> None:
    assert offered_actions(order(status)) == []
    assert not offers_for(order(status)).any


def test_a_delivered_order_offers_no_cancellation() -> None:
    delivered = order(
        OrderStatus.DELIVERED,
        shipments=[parcel(ShipmentStatus.DELIVERED)],
        history=[OrderEvent(at=NOW, kind=EventKind.DELIVERED.value)],
    )
    assert OrderAction.CANCEL not in offered_actions(delivered)
    assert cancel_refusal(delivered, situation_of(delivered)) is not None


def test_a_parcel_on_its_way_stops_the_cancellation() -> None:
    shipped = order(OrderStatus.INVOICED, shipments=[parcel(ShipmentStatus.IN_TRANSIT)])
    assert OrderAction.CANCEL not in offered_actions(shipped)
    booked = order(OrderStatus.SHIPMENT_BOOKED, shipments=[parcel(ShipmentStatus.BOOKED)])
    assert OrderAction.CANCEL in offered_actions(booked)


def test_approve_and_reject_only_while_held_and_not_decided() -> None:
    held = order(OrderStatus.AWAITING_APPROVAL)
    assert offered_actions(held) == [
        OrderAction.APPROVE,
        OrderAction.REJECT,
        OrderAction.CANCEL,
        OrderAction.EXTEND,
    ]
    assert offers_for(held).decisions == ["approve", "reject", "cancel"]
    assert offers_for(held).extend
    assert not offers_for(held).pay
    being_cancelled = held.model_copy(
        update={
            "history": [
                OrderEvent(at=NOW, kind=EventKind.CANCELLATION_REQUESTED.value, actor="olivia")
            ]
        }
    )
    assert offered_actions(being_cancelled) == []  # the cancellation is under way
    for status in OrderStatus:
        if status is not OrderStatus.AWAITING_APPROVAL:
            assert OrderAction.APPROVE not in offered_actions(order(status))


def test_retry_only_when_an_undo_step_waits_for_it() -> None:
    for status in OrderStatus:
        offered = OrderAction.RETRY in offered_actions(order(status))
        assert offered is (status is OrderStatus.NEEDS_ATTENTION)


def test_pay_only_while_a_net_terms_invoice_is_open() -> None:
    invoiced = order(OrderStatus.DELIVERED).model_copy(deep=True)
    invoiced.money.invoice_number = "INV-1"
    assert OrderAction.PAY in offered_actions(invoiced)
    paid = invoiced.model_copy(deep=True)
    paid.money.received = Decimal(100)
    assert OrderAction.PAY not in offered_actions(paid)
    prepaid = invoiced.model_copy(deep=True)
    prepaid.money.payment_terms = "prepaid"
    assert OrderAction.PAY not in offered_actions(prepaid)
    assert english(payment_refusal(prepaid)) == "the order is prepaid: its payment is taken by card"
    assert OrderAction.PAY not in offered_actions(order(OrderStatus.CONFIRMED))  # no invoice


def test_extend_only_when_something_waits_on_a_deadline() -> None:
    assert OrderAction.EXTEND not in offered_actions(order(OrderStatus.ALLOCATED))
    assert OrderAction.EXTEND not in offered_actions(order(OrderStatus.CONFIRMED))
    dunning = order(
        OrderStatus.DELIVERED,
        waiting=WaitView(
            waiting_for="payment of invoice INV-1",
            since=NOW,
            ladder=LadderPosition(ladder="dunning", level=0),
        ),
    )
    assert OrderAction.EXTEND in offered_actions(dunning)
    on_its_way = order(OrderStatus.INVOICED, shipments=[parcel(ShipmentStatus.IN_TRANSIT)])
    assert OrderAction.EXTEND in offered_actions(on_its_way)


def test_a_parcel_is_offered_only_the_decisions_it_asks_for() -> None:
    assert parcel_decisions(parcel(ShipmentStatus.IN_TRANSIT)) == []
    late = parcel(ShipmentStatus.IN_TRANSIT, "parcel WEB-1-S1 is late: re-ship, refund or wait")
    assert parcel_decisions(late) == list(ShipmentAction)
    lost = parcel(ShipmentStatus.EXCEPTION, "parcel WEB-1-S1 is lost: re-ship or refund")
    assert parcel_decisions(lost) == [ShipmentAction.RESHIP, ShipmentAction.REFUND]
    unpacked = parcel(ShipmentStatus.AWAITING_PACKING, "parcel WEB-1-S1 is not packed yet")
    assert parcel_decisions(unpacked) == []
    offers = offers_for(order(OrderStatus.INVOICED, shipments=[lost]))
    assert offers.parcels == [lost]
    assert offers.resolutions == {"WEB-1-S1": [ShipmentAction.RESHIP, ShipmentAction.REFUND]}


def test_the_rules_answer_the_workflows_own_refusals() -> None:
    held = order(OrderStatus.AWAITING_APPROVAL)
    assert english(approval_refusal(held, Situation(decided=(True, "olivia")))) == (
        "the order was approved by olivia already"
    )
    assert english(cancel_refusal(held, Situation(cancelled_by="olivia"))) == (
        "cancellation by olivia is under way"
    )
    assert english(extension_refusal(order(OrderStatus.ALLOCATED), Situation())) == (
        "the order is ALLOCATED: nothing waits on a deadline"
    )
    assert english(retry_refusal(held)) == (
        "the order is AWAITING_APPROVAL: no undo step is waiting for a retry"
    )


async def test_what_the_console_offers_the_workflow_accepts_and_nothing_else(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    partners = FakePartners(credit=CreditOutcome.HOLD)
    worker, queue = order_worker(time_skipping_env.client, partners.activities())
    async with worker:
        handle = await start(time_skipping_env.client, queue, unique_order())
        held = await wait_for_status(handle, OrderStatus.AWAITING_APPROVAL)
        assert offered_actions(held) == [
            OrderAction.APPROVE,
            OrderAction.REJECT,
            OrderAction.CANCEL,
            OrderAction.EXTEND,
        ]
        with pytest.raises(WorkflowUpdateFailedError) as retry:  # not offered: refused
            await handle.execute_update(RETRY_COMPENSATION_SIGNAL + UPDATE_SUFFIX, SAM)
        assert refusal(retry.value) == english(retry_refusal(held))
        await handle.execute_update(APPROVE_SIGNAL + UPDATE_SUFFIX, SAM)  # offered: taken
        result = await handle.result()
        done = await view_of(handle)
    assert result.status is OrderStatus.COMPLETED
    assert offered_actions(done) == []
    assert english(cancel_refusal(done, situation_of(done))) == "the order is COMPLETED already"


def test_a_delivery_is_offered_only_for_a_placed_open_supply_order() -> None:
    def supply(kind: str, status: str, received: int) -> SupplyView:
        return SupplyView(
            line_no=2, sku="BOLT-M8", kind=kind, quantity=4, received=received, status=status
        )

    ordering = supply("", "ordering", 0)
    assert english(receipt_refusal(ordering)) == (
        "the supply order is not placed yet; try again in a moment"
    )
    placed = supply("purchase", "open", 1)
    assert offers_for(order(OrderStatus.AWAITING_SUPPLY, supply=[ordering, placed])).supply == [
        placed
    ]
    assert not receivable(supply("purchase", "received", 4))
