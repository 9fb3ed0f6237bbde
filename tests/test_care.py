"""Customer care (issue 17): the rules make one task per customer and kind with owners by
round robin; a task's workflow climbs its ladder on the time-skipping server (owner,
supervisor, team queue) and ends when the outcome is recorded; the console lists a
user's tasks and the team queue."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import CustomerActivities, NotificationActivities
from domain.access import Role
from domain.care import (
    COMPLETE_CARE_TASK_UPDATE,
    CareKind,
    CareReviewRequest,
    CareRules,
    CareTask,
    CareTaskDone,
    care_task_workflow_id,
    is_overdue,
    overdue_reason,
    usual_interval_days,
)
from integrations.simulated_notifier import SimulatedNotifier
from persistence.database import Database
from persistence.models import NotificationRow, Order
from persistence.transactions import accounts, intake
from persistence.transactions.care import care_tasks, create_care_tasks, find_care_task
from runtime.settings import Settings
from tests.factories import line, submission
from tests.test_web_admin import PASSWORD, log_in
from tests.test_web_stock_operations import text_of
from tests.workflow_fakes import STEP_THREADS
from web.app import create_app
from workflows.care import CareTaskWorkflow

NOW = datetime(2026, 6, 30, 9, tzinfo=UTC)


def order(db: Database, order_id: str, customer_id: str, at: datetime, **changes: Any) -> None:
    intake.receive_order(
        db, submission(order_id, customer_id=customer_id, payment_token=None, **changes), "run"
    )
    with db.transaction() as session:
        session.execute(
            update(Order)
            .where(Order.id == order_id)
            .values(created_at=at, status=changes.get("status", "COMPLETED"))
        )


def staff(db: Database) -> None:
    accounts.create_user(db, "mia.chen", PASSWORD, Role.CUSTOMER_SERVICE, actor="test")
    accounts.create_user(db, "tom.k", PASSWORD, Role.CUSTOMER_SERVICE, actor="test")


def test_the_rules_make_one_task_per_customer_and_kind(db: Database) -> None:
    staff(db)
    for number in range(4):  # Bolt orders every 10 days; the last 40 days ago
        order(db, f"BOLT-{number}", "CUST-BOLT", NOW - timedelta(days=70 - 10 * number))
    order(  # Jane's first order, a big one, is delivered
        db, "JANE-1", "CUST-JANE", NOW - timedelta(days=3), lines=[line("PANEL-X", 1, "1290.00")]
    )
    order(db, "ACME-1", "CUST-ACME", NOW - timedelta(days=5))  # small first order: no call
    request = CareReviewRequest(at=NOW, at_risk=["CUST-WATCH"])
    made = {t.kind: t for t in create_care_tasks(db, request, CareRules())}
    assert set(made) == {CareKind.AT_RISK, CareKind.OVERDUE, CareKind.THANK_YOU}
    assert made[CareKind.OVERDUE].customer_id == "CUST-BOLT"
    assert made[CareKind.OVERDUE].reason == "usually orders every 10 days; last order 40 days ago"
    assert made[CareKind.THANK_YOU].customer_id == "CUST-JANE"
    assert made[CareKind.AT_RISK].due_at == NOW + timedelta(days=3)
    owners = sorted(t.owner or "" for t in made.values())
    assert owners == ["mia.chen", "mia.chen", "tom.k"]  # round robin by open tasks
    assert create_care_tasks(db, request, CareRules()) == []  # one open task each


def test_an_order_is_overdue_only_after_whole_days_of_the_usual_interval(db: Database) -> None:
    """A customer ordering every few seconds got "overdue: usually orders more than once a
    minute; last order less than a minute ago": the usual interval counts in whole days
    (at least one) and the last order must be that late and a day more."""
    staff(db)
    for number in range(4):  # four orders a few seconds apart, the last a minute ago
        order(db, f"FAST-{number}", "CUST-BOLT", NOW - timedelta(seconds=70 - 5 * number))
    request = CareReviewRequest(at=NOW, at_risk=[])
    assert create_care_tasks(db, request, CareRules()) == []
    assert usual_interval_days([timedelta(seconds=5)] * 3) == 1
    rules = CareRules()
    assert not is_overdue(1, timedelta(hours=59), rules)  # 1.5 days and a day's tolerance
    assert is_overdue(1, timedelta(hours=60), rules)
    [late] = create_care_tasks(
        db, request.model_copy(update={"at": NOW + timedelta(days=3)}), rules
    )
    assert late.kind is CareKind.OVERDUE
    assert late.reason == "usually orders every day; last order 3 days ago"


@pytest.mark.parametrize(
    ("usual", "since", "reason"),
    [
        (timedelta(days=10), timedelta(days=40), "every 10 days; last order 40 days ago"),
        (timedelta(days=1), timedelta(days=2), "every day; last order 2 days ago"),
        (timedelta(hours=3), timedelta(hours=20), "every 3 hours; last order 20 hours ago"),
        (timedelta(hours=1), timedelta(hours=36), "every hour; last order 2 days ago"),
        (timedelta(minutes=4), timedelta(minutes=61), "every 4 minutes; last order 1 hour ago"),
        (
            timedelta(seconds=5),
            timedelta(seconds=20),
            "more than once a minute; last order less than a minute ago",
        ),
    ],
)
def test_an_overdue_reason_says_the_usual_interval_in_the_unit_it_fills(
    usual: timedelta, since: timedelta, reason: str
) -> None:
    """Under a day the interval is in hours or minutes: never "every 0 days"."""
    assert overdue_reason(usual, since) == f"usually orders {reason}"


@pytest.fixture
def task(db: Database) -> CareTask:
    staff(db)
    [made] = create_care_tasks(
        db, CareReviewRequest(at=datetime.now(UTC), at_risk=["CUST-ACME"]), CareRules()
    )
    return made


async def test_a_task_left_undone_climbs_its_ladder_until_it_is_completed(
    own_time_skipping_env: WorkflowEnvironment, db: Database, task: CareTask
) -> None:
    client = own_time_skipping_env.client
    start = await own_time_skipping_env.get_current_time()
    due = task.model_copy(update={"due_at": start + timedelta(days=1)})
    queue = f"care-{uuid.uuid4()}"
    steps = CustomerActivities(db)
    notifications = NotificationActivities(db, SimulatedNotifier())
    async with Worker(
        client,
        task_queue=queue,
        workflows=[CareTaskWorkflow],
        activities=[steps.reassign_care_task, steps.record_care_task_done, notifications.notify],
        activity_executor=STEP_THREADS,
    ):
        handle: WorkflowHandle[Any, CareTask] = await client.start_workflow(
            CareTaskWorkflow.run,
            due,
            id=care_task_workflow_id(task.id),
            task_queue=queue,
        )
        for _ in range(12):  # six days, in half days
            await own_time_skipping_env.sleep(timedelta(hours=12))
        for _ in range(100):
            stored = find_care_task(db, task.id)
            if stored is not None and stored.owner is None:
                break
            await asyncio.sleep(0.05)
        assert stored is not None
        assert (stored.owner, stored.escalation_level) == (None, 1)  # in the team queue
        answer = await handle.execute_update(
            COMPLETE_CARE_TASK_UPDATE,
            CareTaskDone(outcome="called; they order again next week", actor="tom.k"),
        )
        assert answer == "care task done: called; they order again next week"
        done = await handle.result()
    assert (done.status, done.completed_by) == ("done", "tom.k")
    with db.reading() as session:
        told = session.scalars(
            select(NotificationRow.audience)
            .where(NotificationRow.order_id == care_task_workflow_id(task.id))
            .order_by(NotificationRow.id)
        ).all()
    assert told == ["assignee", "supervisor", "customer_service"]
    assert care_tasks(db) == []


@pytest.fixture
def client(db: Database, database_url: str) -> Iterator[TestClient]:
    with TestClient(
        create_app(Settings(database_url=database_url), db), follow_redirects=False
    ) as test_client:
        yield test_client


def test_the_console_lists_my_tasks_and_the_team_queue(
    client: TestClient, db: Database, task: CareTask
) -> None:
    log_in(client, task.owner or "mia.chen")
    page = text_of(client.get("/customers/care").text)
    assert "CUST-ACME" in page
    assert "moved into the at-risk segment" in page
    view = text_of(client.get("/customers/CUST-ACME").text)
    assert "moved into the at-risk segment" in view
