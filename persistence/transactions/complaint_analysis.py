"""The complaint analysis: the facts gathered from the business database, the analysis of
a week kept, and the improvement actions that follow from recurring root causes."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.business_hours import BusinessCalendar
from domain.complaint_analysis import (
    TREND_WEEKS,
    ComplaintAnalysis,
    ComplaintFact,
    ImprovementActionView,
    NewImprovementAction,
    OrderFact,
    analyse,
)
from persistence.database import Database
from persistence.models import (
    ComplaintAnalysisRow,
    ComplaintRow,
    ImprovementAction,
    Order,
    OrderLine,
    RootCause,
    Shipment,
)

from .complaints import ComplaintRefusedError
from .records import utcnow


def analyse_week(db: Database, week_start: date, calendar: BusinessCalendar) -> ComplaintAnalysis:
    """Compute the analysis of the week starting ``week_start`` and keep it (replacing an
    earlier run for the same week)."""
    with db.reading() as session:
        analysis = _compute(session, week_start, calendar)
    with db.transaction() as session:
        session.merge(
            ComplaintAnalysisRow(
                week_start=week_start,
                produced_at=utcnow(),
                figures=analysis.model_dump(mode="json"),
            )
        )
    return analysis


def live_analysis(db: Database, week_start: date, calendar: BusinessCalendar) -> ComplaintAnalysis:
    """The analysis of a week as the database stands now (not kept)."""
    with db.reading() as session:
        return _compute(session, week_start, calendar)


def kept_analyses(db: Database) -> list[tuple[date, datetime]]:
    """The weeks analysed by the weekly workflow, newest first, with when."""
    with db.reading() as session:
        return [
            (week, produced)
            for week, produced in session.execute(
                select(ComplaintAnalysisRow.week_start, ComplaintAnalysisRow.produced_at).order_by(
                    ComplaintAnalysisRow.week_start.desc()
                )
            )
        ]


def kept_analysis(db: Database, week_start: date) -> ComplaintAnalysis | None:
    """The kept analysis of a week, or None."""
    with db.reading() as session:
        row = session.get(ComplaintAnalysisRow, week_start)
        return None if row is None else ComplaintAnalysis.model_validate(row.figures)


def _compute(session: Session, week_start: date, calendar: BusinessCalendar) -> ComplaintAnalysis:
    since = datetime.combine(week_start - timedelta(weeks=TREND_WEEKS), time(), UTC)
    until = datetime.combine(week_start + timedelta(days=7), time(), UTC)
    complaints = session.scalars(
        select(ComplaintRow).where(
            ComplaintRow.received_at >= since, ComplaintRow.received_at < until
        )
    ).all()
    orders = session.scalars(
        select(Order).where(Order.created_at >= since, Order.created_at < until)
    ).all()
    order_ids = {o.id for o in orders} | {c.order_id for c in complaints if c.order_id}
    products: dict[str, set[str]] = defaultdict(set)
    for order_id, sku in session.execute(
        select(OrderLine.order_id, OrderLine.sku).where(OrderLine.order_id.in_(order_ids))
    ):
        products[order_id].add(sku)
    warehouses: dict[str, set[str]] = defaultdict(set)
    carriers: dict[str, set[str]] = defaultdict(set)
    for order_id, warehouse, carrier in session.execute(
        select(Shipment.order_id, Shipment.warehouse_id, Shipment.carrier).where(
            Shipment.order_id.in_(order_ids)
        )
    ):
        warehouses[order_id].add(warehouse)
        if carrier:
            carriers[order_id].add(carrier)

    def facts_of(order_id: str | None) -> dict[str, list[str]]:
        if order_id is None:
            return {}
        return {
            "products": sorted(products[order_id]),
            "warehouses": sorted(warehouses[order_id]),
            "carriers": sorted(carriers[order_id]),
        }

    complaint_facts = [
        ComplaintFact(
            received_at=row.received_at,
            first_response_at=row.first_response_at,
            resolved_at=row.resolved_at,
            category=row.category,
            channel=row.channel,
            breached=row.sla_breached,
            remedy_cost=row.remedy_cost,
            survey_score=row.survey_score,
            root_cause=row.root_cause,
            **facts_of(row.order_id),
        )
        for row in complaints
    ]
    order_facts = [OrderFact(created_at=o.created_at, **facts_of(o.id)) for o in orders]
    labels = root_cause_labels(session)
    open_actions = set(
        session.scalars(
            select(ImprovementAction.root_cause).where(ImprovementAction.status == "open")
        )
    )
    return analyse(week_start, complaint_facts, order_facts, calendar, labels, open_actions)


# --- improvement actions ------------------------------------------------------------


def improvement_actions(db: Database, *, open_only: bool = False) -> list[ImprovementActionView]:
    """Improvement actions, open ones first, then by due date."""
    statement = select(ImprovementAction).order_by(
        ImprovementAction.status.desc(), ImprovementAction.due_date, ImprovementAction.id
    )
    if open_only:
        statement = statement.where(ImprovementAction.status == "open")
    with db.reading() as session:
        labels = root_cause_labels(session)
        return [
            ImprovementActionView(
                id=row.id,
                root_cause=row.root_cause,
                root_cause_label=labels.get(row.root_cause, row.root_cause),
                title=row.title,
                owner=row.owner,
                due_date=row.due_date,
                status=row.status,
                created_by=row.created_by,
                created_at=row.created_at,
                done_at=row.done_at,
                outcome=row.outcome,
            )
            for row in session.scalars(statement)
        ]


def add_improvement_action(db: Database, action: NewImprovementAction, actor: str) -> int:
    """Record an improvement action for a root cause; its id."""
    with db.transaction() as session:
        if session.get(RootCause, action.root_cause) is None:
            raise ComplaintRefusedError(f"root_cause: no root cause {action.root_cause!r}")
        row = ImprovementAction(
            root_cause=action.root_cause,
            title=action.title,
            owner=action.owner,
            due_date=action.due_date,
            status="open",
            created_by=actor,
            created_at=utcnow(),
            outcome="",
        )
        session.add(row)
        session.flush()
        return row.id


def complete_improvement_action(db: Database, action_id: int, outcome: str, actor: str) -> None:
    """Mark an improvement action done, with what came of it."""
    with db.transaction() as session:
        row = session.get(ImprovementAction, action_id)
        if row is None:
            raise ComplaintRefusedError(f"no improvement action {action_id}")
        if row.status == "done":
            raise ComplaintRefusedError(f"improvement action {action_id} is done already")
        row.status = "done"
        row.done_at = utcnow()
        row.outcome = f"{outcome} ({actor})"


def root_cause_labels(session: Session) -> dict[str, str]:
    """Every root cause's label by its code."""
    return {row.code: row.label for row in session.execute(select(RootCause.code, RootCause.label))}
