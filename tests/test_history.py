"""``oms demo-history``: a past written through the business transactions; invariants hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from domain.orders import order_workflow_id
from ops.history import HistoryError, open_submissions, write_demo_history, write_history
from persistence.database import Database
from persistence.invariants import check_database, unfinished_order_ids
from persistence.models import (
    Customer,
    NotificationRow,
    Order,
    OrderEventRow,
    Payment,
    Shipment,
    StockMovement,
)
from runtime.settings import Settings
from tests.conftest import fresh_database

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_history_is_finished_orders_over_the_days_asked_with_every_invariant_holding(
    db: Database,
) -> None:
    summary = write_history(db, orders=250, days=90, seed=5, now=NOW)
    assert summary.orders == 250
    assert sum(summary.by_status.values()) == 250
    assert set(summary.by_status) <= {"COMPLETED", "CANCELLED", "REJECTED"}
    assert summary.by_status["COMPLETED"] > 200
    with db.reading() as session:
        assert check_database(session) == []
        assert unfinished_order_ids(session) == []
        orders = session.scalars(select(Order).where(Order.id.startswith("H5-"))).all()
        assert len(orders) == 250
        # Placed over the 90 days, stamped then, and all ended before now.
        assert min(o.created_at for o in orders) >= NOW - timedelta(days=91)
        assert min(o.created_at for o in orders) < NOW - timedelta(days=80)
        assert max(o.updated_at for o in orders) < NOW
        assert {o.channel for o in orders} == {"web", "edi", "phone", "fax"}
        # Events of an order are in time order, as its workflow would have written them.
        first = orders[0].id
        stamps = session.scalars(
            select(OrderEventRow.created_at)
            .where(OrderEventRow.order_id == first)
            .order_by(OrderEventRow.id)
        ).all()
        assert stamps == sorted(stamps)
        late = session.scalar(
            select(func.count(func.distinct(Shipment.order_id))).where(
                Shipment.delivered_at > Shipment.promised_by
            )
        )
        assert late == summary.late_deliveries > 0
        incoming = session.scalars(select(Payment.order_id).where(Payment.kind == "incoming")).all()
        assert len(incoming) - len(set(incoming)) == summary.instalments > 0
        receipts = session.scalar(
            select(func.count())
            .select_from(StockMovement)
            .where(StockMovement.kind == "receive", StockMovement.order_id.is_(None))
        )
        assert (receipts or 0) >= summary.goods_receipts > 0
    assert summary.by_status.get("CANCELLED", 0) > 0
    assert summary.by_status.get("REJECTED", 0) > 0


def test_the_same_seed_writes_the_same_past(tmp_path: Path) -> None:
    def past(folder: Path) -> list[tuple[str, str, str]]:
        folder.mkdir()
        with fresh_database("sqlite", folder) as url:
            db = Database(url)
            try:
                write_history(db, orders=60, days=30, seed=11, now=NOW)
                with db.reading() as session:
                    rows = session.execute(
                        select(Order.id, Order.status, Order.total).order_by(Order.id)
                    ).all()
            finally:
                db.dispose()
        return [(order_id, status, str(total)) for order_id, status, total in rows]

    assert past(tmp_path / "a") == past(tmp_path / "b")


def test_history_is_not_written_twice_for_a_seed(db: Database) -> None:
    write_history(db, orders=20, days=10, seed=9, now=NOW)
    with pytest.raises(HistoryError, match="already holds the history of seed 9"):
        write_history(db, orders=20, days=10, seed=9, now=NOW)
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 20
        assert session.scalar(
            select(func.count()).select_from(Customer).where(Customer.id.startswith("H9-"))
        )


def test_open_orders_are_valid_submissions_by_the_historys_customers(db: Database) -> None:
    write_history(db, orders=100, days=20, seed=4, now=NOW)
    submissions = open_submissions(4, 5, orders=100)
    with db.reading() as session:
        customers = set(session.scalars(select(Customer.id)))
    assert len({s.order_id for s in submissions}) == 5
    assert all(s.customer_id in customers for s in submissions)
    assert all(s.order_id.startswith("H4-OPEN-") for s in submissions)
    with db.reading() as session:
        written = session.scalar(
            select(func.count()).select_from(Order).where(Order.id.startswith("H4-OPEN-"))
        )
    assert written == 0  # the workflows take them in, not the history


@pytest.mark.devserver
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_open_orders_are_submitted_through_temporal_for_the_workers(
    dev_server: WorkflowEnvironment, db: Database, database_url: str, tmp_path: Path
) -> None:
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path,
        temporal_address=dev_server.client.service_client.config.target_host,
    )
    summary = await write_demo_history(settings, orders=40, days=10, seed=6, open_orders=2)
    assert summary.submitted == 2
    for submission in open_submissions(6, 2, orders=40):
        handle = dev_server.client.get_workflow_handle(order_workflow_id(submission.order_id))
        described = await handle.describe()
        assert described.status is WorkflowExecutionStatus.RUNNING  # waiting for a worker
        await handle.terminate("test over")


# The ladders are the history's own logic; it writes through the transactions the tests
# above run on both databases, so SQLite alone keeps CI inside its time.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_history_climbs_the_ladders_the_workflows_wait_under(db: Database) -> None:
    summary = write_history(db, orders=300, days=120, seed=25, now=NOW)
    with db.reading() as session:
        events = session.execute(
            select(
                OrderEventRow.order_id,
                OrderEventRow.kind,
                OrderEventRow.detail,
                OrderEventRow.created_at,
            )
        ).all()
        late = set(
            session.scalars(
                select(Shipment.order_id).where(Shipment.delivered_at > Shipment.promised_by)
            )
        )
        messages = session.execute(
            select(NotificationRow.order_id, NotificationRow.key, NotificationRow.audience)
        ).all()
        attention = session.scalars(
            select(Order.id).where(Order.needs_attention.is_not(None))
        ).all()
    escalated = [
        (order_id, detail, at) for order_id, kind, detail, at in events if kind == "escalated"
    ]
    assert len(escalated) == len(messages) == summary.escalations > 0
    # A late parcel: the customer was told at the promised time, as the ShipmentWorkflow does.
    told_late = {o for o, d, _ in escalated if d.startswith("late delivery: tell the customer")}
    assert told_late == late
    assert not any("parcel later than promised" in d for _, _, d, _ in events)
    # A credit hold decided after a day: the assignee was reminded at 24 hours.
    held = {o: at for o, kind, _, at in events if kind == "credit_hold"}
    decided = {
        o: at for o, kind, _, at in events if kind in ("approved_by_staff", "rejected_by_staff")
    }
    reminded = {o for o, d, _ in escalated if d == "credit hold: remind the assignee (level 1)"}
    assert reminded == {o for o in decided if decided[o] - held[o] > timedelta(hours=24)}
    assert reminded
    # Late payers were reminded on the due date; the money in ends every wait.
    assert {k for _, k, _ in messages} >= {"dunning:rung1", "approval:rung1"}
    assert attention == []
