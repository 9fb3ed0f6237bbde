"""The weekly complaint analysis (issue 18) on a known dataset, on both databases: rates per
100 orders by category, product, warehouse, carrier and channel, the trend, service-level
compliance, response and resolution times (median, p90, business hours), remedy cost,
satisfaction, recurring root causes; the weekly workflow keeps it and tells the team."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import ComplaintActivities, NotificationActivities
from domain.business_hours import BusinessCalendar
from domain.complaint_analysis import AnalysisRequest, ComplaintAnalysis, NewImprovementAction
from domain.complaints import ComplaintCategory, ComplaintChannel, ComplaintIntake
from integrations.simulated_payment import SimulatedPaymentGateway
from persistence.database import Database
from persistence.models import ComplaintRow, NotificationRow, Order, Shipment
from persistence.transactions import intake
from persistence.transactions.complaint_analysis import (
    add_improvement_action,
    analyse_week,
    complete_improvement_action,
    improvement_actions,
    kept_analysis,
)
from persistence.transactions.complaints import file_complaint
from tests.factories import line, submission
from tests.test_complaints import RecordingNotifier
from tests.workflow_fakes import STEP_THREADS
from workflows.complaint_analysis import ComplaintAnalysisWorkflow

WEEK = date(2026, 11, 23)  # a Monday


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def order(db: Database, order_id: str, sku: str, placed: datetime, carrier: str) -> None:
    intake.receive_order(
        db, submission(order_id, payment_token=None, lines=[line(sku, 1, "19.90")]), "run"
    )
    with db.transaction() as session:
        session.execute(update(Order).where(Order.id == order_id).values(created_at=placed))
        session.add(
            Shipment(
                id=f"{order_id}-S1",
                order_id=order_id,
                warehouse_id="WH-BER",
                carrier=carrier,
                tracking_number=f"T{order_id}",
                status="delivered",
                booked_at=placed,
            )
        )


def complaint(db: Database, order_id: str, category: ComplaintCategory, **facts: Any) -> None:
    channel = facts.pop("channel", ComplaintChannel.PHONE)
    filed = file_complaint(
        db,
        ComplaintIntake(
            channel=channel,
            customer_id="CUST-JANE",
            order_id=order_id,
            category=category,
            subject="s",
            description="d",
            message_id=str(uuid.uuid4()),
        ),
    )
    with db.transaction() as session:
        session.execute(
            update(ComplaintRow).where(ComplaintRow.id == filed.case.id).values(**facts)
        )


def known_week(db: Database) -> None:
    for number in range(1, 11):  # ten orders in the week: six widgets, four gadgets
        sku = "WIDGET-1" if number <= 6 else "GADGET-2"
        carrier = "DHL" if number <= 5 else "UPS"
        order(db, f"O{number}", sku, at(23, 8) if number < 10 else at(27, 8), carrier)
    for number in range(11, 16):  # five orders the week before
        order(db, f"O{number}", "WIDGET-1", at(17, 8), "DHL")
    complaint(
        db,
        "O1",
        ComplaintCategory.DAMAGED,
        received_at=at(23, 10),
        first_response_at=at(23, 12),
        resolved_at=at(24, 10),
        remedy_cost=Decimal(20),
        survey_score=5,
        root_cause="packing_error",
    )
    complaint(
        db,
        "O2",
        ComplaintCategory.DAMAGED,
        channel=ComplaintChannel.EMAIL,
        received_at=at(23, 16),
        first_response_at=at(24, 10),
        resolved_at=at(25, 16),
        sla_breached=True,
        survey_score=2,
        root_cause="packing_error",
    )
    complaint(
        db,
        "O7",
        ComplaintCategory.LATE_DELIVERY,
        channel=ComplaintChannel.WEB,
        received_at=at(25, 9),
        first_response_at=at(25, 13),
        resolved_at=at(26, 9),
        remedy_cost=Decimal("10.50"),
        survey_score=4,
        root_cause="packing_error",
    )
    complaint(db, "", ComplaintCategory.SERVICE, received_at=at(27, 15))
    complaint(db, "O11", ComplaintCategory.DAMAGED, received_at=at(18, 10))  # week before


def rates(analysis: ComplaintAnalysis, dimension: str) -> dict[str, tuple[int, int, float | None]]:
    return {
        r.key: (r.complaints, r.orders, r.per_100_orders)
        for r in analysis.rates
        if r.dimension == dimension
    }


def test_the_analysis_of_a_known_week(db: Database) -> None:
    known_week(db)
    analysis = analyse_week(db, WEEK, BusinessCalendar())
    assert (analysis.complaints, analysis.orders, analysis.per_100_orders) == (4, 10, 40.0)
    assert rates(analysis, "category") == {
        "damaged": (2, 10, 20.0),
        "late_delivery": (1, 10, 10.0),
        "service": (1, 10, 10.0),
    }
    assert rates(analysis, "product") == {"WIDGET-1": (2, 6, 33.33), "GADGET-2": (1, 4, 25.0)}
    assert rates(analysis, "warehouse") == {"WH-BER": (3, 10, 30.0)}
    assert rates(analysis, "carrier") == {"DHL": (2, 5, 40.0), "UPS": (1, 5, 20.0)}
    assert rates(analysis, "channel") == {
        "email": (1, 10, 10.0),
        "phone": (2, 10, 20.0),
        "web": (1, 10, 10.0),
    }
    assert [(p.week_start, p.complaints, p.orders) for p in analysis.trend[-2:]] == [
        (date(2026, 11, 16), 1, 5),
        (WEEK, 4, 10),
    ]
    # Business hours: 2, 2 (Mon 16-17 + Tue 9-10) and 4 to the first response;
    # 8, 16 and 8 to the resolution.
    assert (analysis.first_response_median_hours, analysis.first_response_p90_hours) == (2.0, 3.6)
    assert (analysis.resolution_median_hours, analysis.resolution_p90_hours) == (8.0, 14.4)
    assert (analysis.resolved, analysis.sla_compliance) == (3, 0.667)  # one of three late
    assert analysis.remedy_cost == Decimal("30.50")
    assert (analysis.surveys_answered, analysis.csat, analysis.average_score) == (3, 0.667, 3.67)
    [cause] = analysis.root_causes
    assert (cause.code, cause.label, cause.complaints, cause.recurring, cause.open_action) == (
        "packing_error",
        "Packed wrong or incomplete",
        3,
        True,
        False,
    )
    assert kept_analysis(db, WEEK) == analysis


def test_improvement_actions_are_tracked_to_done(db: Database) -> None:
    known_week(db)
    action = NewImprovementAction(
        root_cause="packing_error",
        title="Second check at the packing table",
        owner="wh.lead",
        due_date=date(2026, 12, 15),
    )
    action_id = add_improvement_action(db, action, "mia.chen")
    assert analyse_week(db, WEEK, BusinessCalendar()).root_causes[0].open_action is True
    complete_improvement_action(db, action_id, "in place since 1 Dec", "wh.lead")
    [done] = improvement_actions(db)
    assert (done.status, done.outcome) == ("done", "in place since 1 Dec (wh.lead)")


async def test_the_weekly_workflow_keeps_the_analysis_and_tells_the_team(
    time_skipping_env: WorkflowEnvironment, db: Database
) -> None:
    known_week(db)
    queue = f"analysis-{uuid.uuid4()}"
    steps = ComplaintActivities(db, SimulatedPaymentGateway(), RecordingNotifier())
    async with Worker(
        time_skipping_env.client,
        task_queue=queue,
        workflows=[ComplaintAnalysisWorkflow],
        activities=[
            steps.analyse_complaints,
            NotificationActivities(db, RecordingNotifier()).notify,
        ],
        activity_executor=STEP_THREADS,
    ):
        analysis = await time_skipping_env.client.execute_workflow(
            ComplaintAnalysisWorkflow.run,
            AnalysisRequest(week_start=WEEK),
            id=f"analysis-{uuid.uuid4()}",
            task_queue=queue,
        )
    assert analysis.complaints == 4
    with db.reading() as session:
        [told] = session.scalars(
            select(NotificationRow).where(NotificationRow.order_id == "complaint-analysis")
        ).all()
    assert told.audience == "customer_service"
    assert "4 complaints, 40.0 per 100 orders; service levels kept 67%" in told.message
    assert "Recurring without an improvement action: Packed wrong or incomplete (3)" in told.message
