"""Customer classification (issue 17): RFM scores and named segments and ABC classes on a
known dataset, kept with their history; the nightly CustomerReviewWorkflow from its
Temporal Schedule and on demand; the figures in the console, for analysts without names."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from temporalio.client import (
    Client,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
)
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import CustomerActivities, NotificationActivities
from domain.access import Role
from domain.credit_scoring import CustomerReviewOutcome
from domain.orders import TASK_QUEUE
from domain.segments import (
    CUSTOMER_REVIEW_SCHEDULE_ID,
    Abc,
    ClassificationRules,
    CustomerFigures,
    Segment,
    classify,
)
from integrations.simulated_notifier import SimulatedNotifier
from ops.customers import classify_now
from persistence.database import Database
from persistence.models import CustomerSegmentChange, NotificationRow, Order
from persistence.transactions import accounts, intake
from persistence.transactions.segments import classify_customers, segment_standing
from runtime.schedules import ensure_schedules
from runtime.settings import Settings
from tests.factories import submission
from tests.test_web_admin import PASSWORD, log_in
from tests.test_web_stock_operations import text_of
from tests.workflow_fakes import STEP_THREADS
from web.app import create_app
from workflows.care import CareTaskWorkflow
from workflows.customers import CustomerReviewWorkflow
from workflows.registry import ORDER_WORKFLOWS

NOW = datetime(2026, 6, 30, 12, tzinfo=UTC)


def customer_steps(db: Database) -> list:  # type: ignore[type-arg]
    steps = CustomerActivities(db)
    return [
        steps.classify_customers,
        steps.evaluate_credit,
        steps.purge_expired_personal_data,
        steps.create_care_tasks,
        steps.reassign_care_task,
        steps.record_care_task_done,
    ]


def figures(customer_id: str, days_ago: int | None, orders: int, spend: str) -> CustomerFigures:
    return CustomerFigures(
        customer_id=customer_id,
        last_order_at=None if days_ago is None else NOW - timedelta(days=days_ago),
        orders=orders,
        spend=Decimal(spend),
    )


def test_rfm_segments_and_abc_classes_on_a_known_dataset() -> None:
    known = [
        figures("A", 1, 20, "10000"),  # most recent, most often, most spent
        figures("B", 10, 12, "5000"),
        figures("C", 30, 2, "1500"),
        figures("D", 200, 15, "8000"),  # used to buy a lot, not lately
        figures("E", 300, 1, "50"),
        figures("F", 500, 0, "0"),  # ordered, but not in the last year
        figures("G", None, 0, "0"),  # never ordered
    ]
    result = {c.customer_id: c for c in classify(known, NOW, ClassificationRules())}
    assert {k: (c.recency, c.frequency, c.monetary) for k, c in result.items()} == {
        "A": (5, 5, 5),
        "B": (4, 3, 3),
        "C": (3, 2, 2),
        "D": (2, 4, 4),
        "E": (1, 1, 1),
        "F": (0, 0, 0),
        "G": (0, 0, 0),
    }
    assert {k: c.segment for k, c in result.items()} == {
        "A": Segment.CHAMPIONS,
        "B": Segment.LOYAL,
        "C": Segment.NEEDS_ATTENTION,
        "D": Segment.AT_RISK,
        "E": Segment.LOST,
        "F": Segment.LOST,
        "G": Segment.PROSPECT,
    }
    # 24,550 in all: A, D and B reach 80 % (the share before B is 73 %), C the next 15 %.
    assert {k: c.abc for k, c in result.items()} == {
        "A": Abc.A,
        "D": Abc.A,
        "B": Abc.A,
        "C": Abc.B,
        "E": Abc.C,
        "F": Abc.C,
        "G": Abc.C,
    }
    ties = classify(
        [figures("X", 5, 3, "100"), figures("Y", 5, 3, "100")], NOW, ClassificationRules()
    )
    assert [(c.recency, c.frequency, c.monetary) for c in ties] == [(4, 4, 4), (4, 4, 4)]


def _order(db: Database, order_id: str, customer_id: str, days_ago: int) -> None:
    intake.receive_order(
        db,
        submission(order_id, customer_id=customer_id, payment_token="tok_visa_4242"),
        run_id="run",
    )
    with db.transaction() as session:
        session.execute(
            update(Order)
            .where(Order.id == order_id)
            .values(created_at=NOW - timedelta(days=days_ago))
        )


def test_a_classification_is_kept_with_the_history_of_moves(db: Database) -> None:
    for number in range(6):
        _order(db, f"ACME-{number}", "CUST-ACME", 3 + number * 7)
    _order(db, "JANE-1", "CUST-JANE", 20)
    _order(db, "BOLT-1", "CUST-BOLT", 330)
    first = classify_customers(db, NOW, ClassificationRules())
    assert first.classified == 5
    # Jane and Bolt tie on one order each: they share the average rank (a 3 of 5).
    assert first.segments == {"champions": 1, "loyal": 1, "at_risk": 1, "prospect": 2}
    assert {m.customer_id: m.segment for m in first.moved}["CUST-ACME"] is Segment.CHAMPIONS
    assert all(m.previous is None for m in first.moved)
    again = classify_customers(db, NOW, ClassificationRules())
    assert again.moved == []  # nothing changed, nothing moved, no history written

    later = NOW + timedelta(days=200)  # ACME stops ordering, Jane comes back, Bolt is gone
    _order(db, "JANE-2", "CUST-JANE", -190)
    moved = {m.customer_id: m for m in classify_customers(db, later, ClassificationRules()).moved}
    assert (moved["CUST-ACME"].previous, moved["CUST-ACME"].segment) == (
        Segment.CHAMPIONS,
        Segment.LOYAL,
    )
    assert (moved["CUST-BOLT"].previous, moved["CUST-BOLT"].segment) == (
        Segment.AT_RISK,
        Segment.LOST,
    )
    assert "CUST-JANE" not in moved  # loyal still
    standing = segment_standing(db, "CUST-ACME")
    assert standing.current is not None
    assert standing.current.segment is Segment.LOYAL
    assert standing.since == later
    assert [segment for _at, segment, _abc in standing.history] == ["loyal", "champions"]
    with db.reading() as session:
        rows = session.scalars(
            select(CustomerSegmentChange).where(CustomerSegmentChange.customer_id == "CUST-ACME")
        ).all()
    assert [(r.previous_segment, r.segment) for r in rows] == [
        (None, "champions"),
        ("champions", "loyal"),
    ]


async def test_the_review_runs_on_demand_and_tells_customer_service_who_slipped(
    time_skipping_env: WorkflowEnvironment, db: Database
) -> None:
    for number in range(4):
        _order(db, f"ACME-{number}", "CUST-ACME", 400 + number)  # lost: nothing this year
    queue = f"customers-{uuid.uuid4()}"
    notifications = NotificationActivities(db, SimulatedNotifier())
    async with Worker(
        time_skipping_env.client,
        task_queue=queue,
        workflows=[CustomerReviewWorkflow, CareTaskWorkflow],
        activities=[*customer_steps(db), notifications.notify],
        activity_executor=STEP_THREADS,
    ):
        review = await classify_now(time_skipping_env.client, queue)
    outcome = review.classification
    assert outcome.classified == 5
    assert review.credit.scored == 4  # the active ones
    assert outcome.segments["lost"] == 1
    with db.reading() as session:
        told = session.scalars(
            select(NotificationRow).where(
                NotificationRow.order_id == "customer-review",
                NotificationRow.audience == "customer_service",
            )
        ).all()
    assert len(told) == 1
    assert "CUST-ACME: new -> lost" in told[0].message


async def test_the_nightly_schedule_starts_a_review(
    dev_server: WorkflowEnvironment, db: Database, database_url: str
) -> None:
    client: Client = dev_server.client
    settings = Settings(database_url=database_url, customer_review_hour=3)
    await ensure_schedules(client, settings)
    handle = client.get_schedule_handle(CUSTOMER_REVIEW_SCHEDULE_ID)
    try:
        described = await handle.describe()
        assert [r.start for r in described.schedule.spec.calendars[0].hour] == [3]
        action = described.schedule.action
        assert isinstance(action, ScheduleActionStartWorkflow)
        assert (action.workflow, action.task_queue) == ("CustomerReviewWorkflow", TASK_QUEUE)
        notifications = NotificationActivities(db, SimulatedNotifier())
        worker = Worker(
            client,
            task_queue=TASK_QUEUE,
            workflows=ORDER_WORKFLOWS,
            activities=[*customer_steps(db), notifications.notify],
            activity_executor=STEP_THREADS,
        )
        async with worker:
            await handle.trigger()
            for _ in range(200):
                runs = (await handle.describe()).info.recent_actions
                if runs:
                    break
                await asyncio.sleep(0.1)
            started = runs[0].action
            assert isinstance(started, ScheduleActionExecutionStartWorkflow)
            review = client.get_workflow_handle(
                started.workflow_id, result_type=CustomerReviewOutcome
            )
            outcome = await review.result()
        assert outcome.classification.classified == 5  # the demo's customers
    finally:
        for schedule_id in (CUSTOMER_REVIEW_SCHEDULE_ID, "inventory-review-daily"):
            await client.get_schedule_handle(schedule_id).delete()


@pytest.fixture
def client(db: Database, database_url: str) -> Iterator[TestClient]:
    accounts.create_user(db, "mia.chen", PASSWORD, Role.CUSTOMER_SERVICE, actor="test")
    accounts.create_user(db, "wen.li", PASSWORD, Role.ANALYST, actor="test")
    with TestClient(
        create_app(Settings(database_url=database_url), db), follow_redirects=False
    ) as test_client:
        yield test_client


def test_analysts_see_the_figures_and_no_one_named(client: TestClient, db: Database) -> None:
    for number in range(3):
        _order(db, f"ACME-{number}", "CUST-ACME", 2 + number)
    classify_customers(db, datetime.now(UTC), ClassificationRules())
    log_in(client, "wen.li")
    page = client.get("/customers/segments")
    assert page.status_code == 200
    shown = text_of(page.text)
    assert "Champions 1 0 0 1" in shown
    assert "Prospect 0 0 4 4" in shown
    assert "CUST-" not in page.text
    assert "Classify now" not in shown
    log_in(client, "mia.chen")
    view = text_of(client.get("/customers/CUST-ACME").text)
    assert "Champions · ABC A · RFM 5-5-5" in view
