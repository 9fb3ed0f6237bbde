"""Care tasks written and read: the rules applied (see :mod:`domain.care`), owners chosen
round robin among customer-service users, tasks reassigned and completed."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.access import Role
from domain.care import (
    AT_RISK_REASON,
    CareKind,
    CareReviewRequest,
    CareRules,
    CareTask,
    CareTaskCompletion,
    follow_up_reason,
    is_overdue,
    overdue_wording,
    reason_wording_of,
    thank_you_reason,
    usual_interval_days,
)
from domain.customers import NOT_KEPT
from domain.orders import OrderStatus
from domain.wording import Wording
from persistence.database import Database
from persistence.models import CareTaskRow, Customer, Order, StaffUser
from persistence.wording_columns import wording_json, wording_of

DELIVERED_OR_LATER = (
    OrderStatus.DELIVERED.value,
    OrderStatus.INVOICED.value,
    OrderStatus.PAID.value,
    OrderStatus.COMPLETED.value,
)


def create_care_tasks(db: Database, request: CareReviewRequest, rules: CareRules) -> list[CareTask]:
    """Apply the care rules as of ``request.at`` and write the tasks that are new (one open
    task per customer and kind; one thank-you per customer ever); the new tasks."""
    wanted = _wanted(db, request, rules)
    made = []
    with db.transaction() as session:
        open_kinds: set[tuple[str, str]] = set(
            session.execute(
                select(CareTaskRow.customer_id, CareTaskRow.kind).where(
                    CareTaskRow.status == "open"
                )
            ).all()
        )
        thanked = set(
            session.scalars(
                select(CareTaskRow.customer_id).where(CareTaskRow.kind == CareKind.THANK_YOU.value)
            )
        )
        load = _open_load(session)
        for customer_id, kind, reason in wanted:
            if (customer_id, kind.value) in open_kinds:
                continue
            if kind is CareKind.THANK_YOU and customer_id in thanked:
                continue
            owner = min(load, key=lambda user: (load[user], user)) if load else None
            if owner is not None:
                load[owner] += 1
            row = CareTaskRow(
                customer_id=customer_id,
                kind=kind.value,
                reason=reason.english(),
                reason_wording=wording_json(reason),
                owner=owner,
                due_at=request.at + timedelta(days=rules.due_days[kind]),
                status="open",
                escalation_level=0,
                created_at=request.at,
                outcome="",
            )
            session.add(row)
            session.flush()
            open_kinds.add((customer_id, kind.value))
            made.append(_task(row))
    return made


def reassign_to_team(db: Database, task_id: int) -> CareTask:
    """Move a task left undone to the team queue (no owner)."""
    with db.transaction() as session:
        row = _row(session, task_id)
        if row.status == "open":
            row.owner = None
            row.escalation_level += 1
        return _task(row)


def record_done(db: Database, completion: CareTaskCompletion, now: datetime) -> CareTask:
    """Record a task done with its outcome (a repeat changes nothing)."""
    with db.transaction() as session:
        row = _row(session, completion.task_id)
        if row.status == "open":
            row.status = "done"
            row.outcome = completion.outcome
            row.completed_by = completion.actor
            row.completed_at = now
        return _task(row)


def care_tasks(
    db: Database,
    *,
    owner: str | None = None,
    team_queue: bool = False,
    customer_id: str | None = None,
    open_only: bool = True,
) -> list[CareTask]:
    """Care tasks by due date: one user's, the team queue's, one customer's, or all."""
    query = select(CareTaskRow).order_by(CareTaskRow.due_at, CareTaskRow.id)
    if open_only:
        query = query.where(CareTaskRow.status == "open")
    if owner is not None:
        query = query.where(CareTaskRow.owner == owner)
    if team_queue:
        query = query.where(CareTaskRow.owner.is_(None))
    if customer_id is not None:
        query = query.where(CareTaskRow.customer_id == customer_id)
    with db.reading() as session:
        return [_task(row) for row in session.scalars(query.limit(500))]


def find_care_task(db: Database, task_id: int) -> CareTask | None:
    """One care task, or None."""
    with db.reading() as session:
        row = session.get(CareTaskRow, task_id)
        return None if row is None else _task(row)


def _wanted(
    db: Database, request: CareReviewRequest, rules: CareRules
) -> list[tuple[str, CareKind, Wording]]:
    wanted = [(customer_id, CareKind.AT_RISK, AT_RISK_REASON) for customer_id in request.at_risk]
    year_ago = request.at - timedelta(days=365)
    with db.reading() as session:
        active = set(session.scalars(select(Customer.id).where(Customer.active.is_(True))))
        orders = session.execute(
            select(Order.customer_id, Order.id, Order.total, Order.status, Order.currency)
            .add_columns(Order.created_at)
            .where(Order.status.not_in(NOT_KEPT), Order.created_at <= request.at)
            .order_by(Order.created_at, Order.id)
        ).all()
    dates: dict[str, list[datetime]] = {}
    firsts: dict[str, Any] = {}
    for order in orders:
        dates.setdefault(order.customer_id, []).append(order.created_at)
        firsts.setdefault(order.customer_id, order)
    for customer_id, seen in sorted(dates.items()):
        if customer_id not in active or len(seen) < rules.regular_orders:
            continue
        usual = usual_interval_days([b - a for a, b in pairwise(seen)])
        since = request.at - seen[-1]
        if seen[-1] > year_ago and is_overdue(usual, since, rules):
            wanted.append(
                (customer_id, CareKind.OVERDUE, overdue_wording(timedelta(days=usual), since))
            )
    for customer_id, first in sorted(firsts.items()):
        if (
            customer_id in active
            and first.created_at > request.at - timedelta(days=rules.thank_you_within_days)
            and first.status in DELIVERED_OR_LATER
            and first.total >= rules.large_order
        ):
            wanted.append(
                (
                    customer_id,
                    CareKind.THANK_YOU,
                    thank_you_reason(first.id, first.total, first.currency),
                )
            )
    return wanted


def _open_load(session: Session) -> Counter[str]:
    users = session.scalars(
        select(StaffUser.username).where(
            StaffUser.role == Role.CUSTOMER_SERVICE.value, StaffUser.active.is_(True)
        )
    ).all()
    load: Counter[str] = Counter(dict.fromkeys(users, 0))
    for owner, count in session.execute(
        select(CareTaskRow.owner, func.count())
        .where(CareTaskRow.status == "open", CareTaskRow.owner.in_(users))
        .group_by(CareTaskRow.owner)
    ).all():
        if owner is not None:
            load[owner] = count
    return load


def _row(session: Session, task_id: int) -> CareTaskRow:
    row = session.get(CareTaskRow, task_id)
    if row is None:
        raise ValueError(f"no care task {task_id}")
    return row


def _task(row: CareTaskRow) -> CareTask:
    return CareTask(
        id=row.id,
        customer_id=row.customer_id,
        kind=CareKind(row.kind),
        reason=row.reason,
        reason_wording=reason_wording_of(CareKind(row.kind), row.reason)
        if row.reason_wording is None
        else wording_of(row.reason_wording),
        owner=row.owner,
        due_at=row.due_at,
        status=row.status,
        escalation_level=row.escalation_level,
        outcome=row.outcome,
        completed_by=row.completed_by,
        completed_at=row.completed_at,
    )


def create_complaint_follow_up(
    db: Database, customer_id: str, complaint_id: int, at: datetime, rules: CareRules
) -> list[CareTask]:
    """A follow-up call after complaint ``complaint_id`` closed: the new task, or none when
    the customer has an open follow-up already (one open task per customer and kind)."""
    kind = CareKind.COMPLAINT_FOLLOW_UP
    with db.transaction() as session:
        customer = session.get(Customer, customer_id)
        if customer is None or customer.erased_at is not None:
            return []
        if session.scalar(
            select(CareTaskRow.id).where(
                CareTaskRow.customer_id == customer_id,
                CareTaskRow.kind == kind.value,
                CareTaskRow.status == "open",
            )
        ):
            return []
        load = _open_load(session)
        reason = follow_up_reason(complaint_id)
        row = CareTaskRow(
            customer_id=customer_id,
            kind=kind.value,
            reason=reason.english(),
            reason_wording=wording_json(reason),
            owner=min(load, key=lambda user: (load[user], user)) if load else None,
            due_at=at + timedelta(days=rules.due_days[kind]),
            status="open",
            escalation_level=0,
            created_at=at,
            outcome="",
        )
        session.add(row)
        session.flush()
        return [_task(row)]
