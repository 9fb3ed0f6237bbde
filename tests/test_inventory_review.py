"""The inventory review and replenishment (issue 16) on the time-skipping server: the
review proposes, raises alerts and tells the planners; an automatic rule orders at once;
a planner approves an edited proposal; deliveries land in stock through the ledger; a
late delivery climbs its ladder. The daily schedule on the dev server."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from temporalio.client import (
    Client,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionResult,
    ScheduleActionStartWorkflow,
    WorkflowHandle,
)
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import InventoryReviewActivities, NotificationActivities
from domain.catalogue import StockPolicyRecord
from domain.orders import TASK_QUEUE
from domain.replenishment import (
    INVENTORY_REVIEW_SCHEDULE_ID,
    ProposalDecision,
    ProposalStatus,
    ReplenishmentView,
    ReviewOutcome,
)
from domain.stock_alerts import AlertKind
from domain.supply import SUPPLY_RECEIVED_SIGNAL, SupplyReceipt
from integrations.ports import PartnerOrder
from integrations.simulated_notifier import SimulatedNotifier
from ops.replenishment import decide, proposal_state, review_now
from persistence.database import Database
from persistence.invariants import check_database
from persistence.models import NotificationRow, StockLevel, StockMovement
from persistence.transactions.alerts import stock_alerts
from persistence.transactions.catalogue import load_products, load_stock_policies, product_records
from persistence.transactions.replenishment import proposals
from persistence.transactions.stock import StockOperationError
from runtime.schedules import ensure_schedules
from runtime.settings import Settings
from tests.workflow_fakes import STEP_THREADS, order_worker, workflow_time
from workflows.registry import ORDER_WORKFLOWS

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

TODAY = datetime.now(UTC).date()
"""The day reviewed: the business day, not the time-skipping server's (earlier tests move
its clock weeks ahead, and a review as of then finds every level slow-moving)."""


class ServerClockPartner:
    """The simulated factory and supplier, promising by the time-skipping server's clock
    (the simulators promise by the wall clock, which the server's runs far ahead of)."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def place_order(
        self,
        *,
        idempotency_key: str,
        sku: str,
        quantity: int,
        deliver_to: str,
        lead_time: timedelta,
    ) -> PartnerOrder:
        reference = "SIM-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:8].upper()
        return PartnerOrder(reference=reference, expected_at=await workflow_time() + lead_time)

    async def cancel_order(self, *, idempotency_key: str, reference: str) -> str:
        return f"CXL-{reference}"


def activities(db: Database) -> list:  # type: ignore[type-arg]
    review = InventoryReviewActivities(
        db,
        factory=ServerClockPartner("simulated-factory"),
        supplier=ServerClockPartner("simulated-supplier"),
    )
    notifications = NotificationActivities(db, SimulatedNotifier())
    return [
        review.forecast_and_propose,
        review.review_stock_alerts,
        review.place_replenishment,
        review.receive_replenishment,
        notifications.notify,
    ]


@asynccontextmanager
async def ending_what_it_starts(client: Client) -> AsyncIterator[None]:
    """Terminate the replenishment orders a test leaves waiting, pass or fail: the test's
    database goes with it, and a workflow left waiting on its private task queue would
    stop the time-skipping server from skipping time for every later test."""
    try:
        yield
    finally:
        for proposal_id in range(1, 10):
            handle = client.get_workflow_handle(f"replenishment-{proposal_id}")
            with contextlib.suppress(RPCError):
                await handle.terminate("test over")


def policies(db: Database) -> None:
    bolt = next(r for r in product_records(db) if r.sku == "BOLT-M8")
    load_products(db, [bolt.model_copy(update={"pack_multiple": 250})])
    load_stock_policies(
        db,
        [
            StockPolicyRecord(
                sku="WIDGET-1", warehouse_id="WH-BER", reorder_point=600, maximum=900
            ),
            StockPolicyRecord(
                sku="BOLT-M8",
                warehouse_id="WH-HAM",
                reorder_point=2000,
                maximum=2900,
                automatic=True,
            ),
        ],
    )


def on_hand(db: Database, sku: str, warehouse_id: str) -> int:
    with db.reading() as session:
        level = session.get(StockLevel, (sku, warehouse_id))
        return 0 if level is None else level.on_hand


async def wait_placed(handle: WorkflowHandle[object, ReplenishmentView]) -> None:
    for _ in range(100):
        view = await handle.query("replenishment", result_type=ReplenishmentView)
        if view is not None and view.status == "open":
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the replenishment order was never placed")


async def test_a_late_delivery_climbs_the_ladder(
    own_time_skipping_env: WorkflowEnvironment, db: Database
) -> None:
    policies(db)
    client = own_time_skipping_env.client
    worker, queue = order_worker(client, activities(db))
    async with worker, ending_what_it_starts(client):
        await review_now(client, queue, TODAY)
        bolt = proposals(db, status=ProposalStatus.ORDERED)[0]
        handle: WorkflowHandle[object, ReplenishmentView] = client.get_workflow_handle(
            f"replenishment-{bolt.id}", result_type=ReplenishmentView
        )
        await wait_placed(handle)
        placed = await handle.query("replenishment", result_type=ReplenishmentView)
        assert placed.expected_at is not None  # lead time 5 days from now, by the server
        while await own_time_skipping_env.get_current_time() < placed.expected_at + timedelta(
            days=4
        ):
            await own_time_skipping_env.sleep(timedelta(hours=12))
        view = await handle.query("replenishment", result_type=ReplenishmentView)
        assert view.escalation_level == 2
        with db.reading() as session:
            told = session.scalars(
                select(NotificationRow.audience).where(NotificationRow.order_id == handle.id)
            ).all()
            assert told == ["planning", "inventory"]  # BOLT-M8 is made: production planning


async def test_a_review_proposes_orders_automatically_and_a_planner_approves(
    own_time_skipping_env: WorkflowEnvironment, db: Database
) -> None:
    policies(db)
    client = own_time_skipping_env.client
    worker, queue = order_worker(client, activities(db))
    async with worker, ending_what_it_starts(client):
        outcome = await review_now(client, queue, TODAY)
        assert outcome.proposals_new == 2
        assert outcome.alerts_raised == 2  # both levels are at or below their reorder point
        assert outcome.replenishments_started == [
            f"replenishment-{p.id}" for p in proposals(db, status=ProposalStatus.ORDERED)
        ]
        bolt = proposals(db, status=ProposalStatus.ORDERED)[0]
        assert (bolt.sku, bolt.quantity, bolt.decided_by) == ("BOLT-M8", 2000, "automatic rule")
        assert "rounded up to packs of 250" in bolt.reason  # 2900 - 1000 = 1900 -> 2000
        widget = proposals(db)[0]
        assert (widget.sku, widget.quantity, widget.method.value) == ("WIDGET-1", 400, "min_max")
        assert {a.kind for a in stock_alerts(db)} == {AlertKind.LOW_STOCK}
        with db.reading() as session:
            digest = session.scalars(
                select(NotificationRow).where(NotificationRow.order_id == "inventory-review")
            ).one()
            assert digest.audience == "inventory"
            assert "RAISED low_stock WIDGET-1 in WH-BER" in digest.message

        again = await review_now(client, queue, TODAY)  # nothing new: the open one is updated
        assert (again.proposals_new, again.proposals_updated) == (0, 1)
        assert again.replenishments_started == []
        assert again.alerts_cleared == 1  # BOLT-M8: its replenishment order is incoming
        assert again.alerts_raised == 0

        started = await decide(
            client,
            db,
            widget.id,
            ProposalDecision(approve=True, quantity=450, note="a promotion", actor="pia"),
            queue,
        )
        assert started == f"replenishment-{widget.id}"
        ordered = proposals(db, status=ProposalStatus.ORDERED)
        assert [(p.sku, p.quantity, p.decision_note) for p in ordered if p.sku == "WIDGET-1"] == [
            ("WIDGET-1", 450, "edited from 400: a promotion")
        ]
        handle: WorkflowHandle[object, ReplenishmentView] = client.get_workflow_handle(
            started, result_type=ReplenishmentView
        )
        await wait_placed(handle)
        await handle.execute_update(
            SUPPLY_RECEIVED_SIGNAL + "_now", SupplyReceipt(receipt_id="DN-1", quantity=200)
        )
        await handle.signal(SUPPLY_RECEIVED_SIGNAL, SupplyReceipt(receipt_id="DN-1", quantity=200))
        await handle.signal(SUPPLY_RECEIVED_SIGNAL, SupplyReceipt(receipt_id="DN-2", quantity=250))
        done = await handle.result()
        assert (done.status, done.received) == ("received", 450)
        [received] = [p for p in proposals(db, status=None) if p.id == widget.id]
        assert proposal_state(received) == "received"  # as oms replenishment list shows it
        assert on_hand(db, "WIDGET-1", "WH-BER") == 950
        with db.reading() as session:
            receipts = session.scalars(
                select(StockMovement.on_hand_change).where(
                    StockMovement.reference.like(f"{started}%")
                )
            ).all()
            assert sorted(receipts) == [200, 250]  # the repeated note counted once
            assert check_database(session) == []

        third = await review_now(client, queue, TODAY)
        assert third.alerts_cleared == 1  # WIDGET-1 is above its reorder point again
        with pytest.raises(StockOperationError, match=f"proposal {widget.id} is ordered"):
            await decide(client, db, widget.id, ProposalDecision(approve=False, actor="pia"))


async def test_the_daily_schedule_starts_a_review(
    dev_server: WorkflowEnvironment, db: Database, database_url: str
) -> None:
    client: Client = dev_server.client
    settings = Settings(database_url=database_url, inventory_review_hour=6)
    await ensure_schedules(client, settings)
    await ensure_schedules(client, settings)  # a second start finds it and updates it
    handle = client.get_schedule_handle(INVENTORY_REVIEW_SCHEDULE_ID)
    try:
        described = await handle.describe()
        assert [r.start for r in described.schedule.spec.calendars[0].hour] == [6]
        action = described.schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow)
        assert (action.workflow, action.task_queue) == ("InventoryReviewWorkflow", TASK_QUEUE)
        worker = Worker(
            client,
            task_queue=TASK_QUEUE,
            workflows=ORDER_WORKFLOWS,
            activities=activities(db),
            activity_executor=STEP_THREADS,
        )
        async with worker:
            await handle.trigger()
            runs: Sequence[ScheduleActionResult] = []
            for _ in range(200):
                runs = (await handle.describe()).info.recent_actions
                if runs:
                    break
                await asyncio.sleep(0.1)
            started = runs[0].action
            assert isinstance(started, ScheduleActionExecutionStartWorkflow)
            review = client.get_workflow_handle(started.workflow_id, result_type=ReviewOutcome)
            outcome = await review.result()
        assert outcome.day == datetime.now(UTC).date()
        assert outcome.series >= 5  # every stock level of the demo catalogue
    finally:
        await handle.delete()
        await client.get_schedule_handle("customer-review-nightly").delete()
