"""Customer classification written and read: each customer's current RFM scores, segment
and ABC class, and the history of moves between segments."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import func, select

from domain.customers import NOT_KEPT
from domain.segments import (
    Abc,
    Classification,
    ClassificationOutcome,
    ClassificationRules,
    CustomerFigures,
    Segment,
    SegmentMove,
    SegmentStanding,
    classify,
)
from persistence.database import Database
from persistence.models import Customer, CustomerSegmentChange, CustomerSegmentRow, Order


def customer_figures(
    db: Database, now: datetime, rules: ClassificationRules
) -> list[CustomerFigures]:
    """Every customer's last order kept, and the orders kept in the window and their total."""
    start = now - timedelta(days=rules.window_days)
    kept = Order.status.not_in(NOT_KEPT)
    with db.reading() as session:
        last = dict(
            session.execute(
                select(Order.customer_id, func.max(Order.created_at))
                .where(kept, Order.created_at <= now)
                .group_by(Order.customer_id)
            ).all()
        )
        window = {
            customer_id: (count, total)
            for customer_id, count, total in session.execute(
                select(Order.customer_id, func.count(), func.sum(Order.total))
                .where(kept, Order.created_at > start, Order.created_at <= now)
                .group_by(Order.customer_id)
            ).all()
        }
        customers = session.scalars(select(Customer.id).order_by(Customer.id)).all()
    return [
        CustomerFigures(
            customer_id=customer_id,
            last_order_at=last.get(customer_id),
            orders=window.get(customer_id, (0, 0))[0],
            spend=window.get(customer_id, (0, 0))[1] or 0,
        )
        for customer_id in customers
    ]


def classify_customers(
    db: Database, now: datetime, rules: ClassificationRules
) -> ClassificationOutcome:
    """Classify every customer as of ``now`` and keep the result: the current segment of
    each, and a history row for each one that moved."""
    classifications = classify(customer_figures(db, now, rules), now, rules)
    moved = []
    with db.transaction() as session:
        current = {row.customer_id: row for row in session.scalars(select(CustomerSegmentRow))}
        for c in classifications:
            row = current.get(c.customer_id)
            if row is None or row.segment != c.segment.value or row.abc != c.abc.value:
                session.add(
                    CustomerSegmentChange(
                        customer_id=c.customer_id,
                        at=now,
                        segment=c.segment.value,
                        previous_segment=row.segment if row else None,
                        abc=c.abc.value,
                        previous_abc=row.abc if row else None,
                    )
                )
            if row is None or row.segment != c.segment.value:
                moved.append(
                    SegmentMove(
                        customer_id=c.customer_id,
                        segment=c.segment,
                        previous=Segment(row.segment) if row else None,
                        abc=c.abc,
                    )
                )
            if row is None:
                row = CustomerSegmentRow(customer_id=c.customer_id, since=now)
                session.add(row)
            elif row.segment != c.segment.value:
                row.since = now
            row.segment = c.segment.value
            row.abc = c.abc.value
            row.recency, row.frequency, row.monetary = c.recency, c.frequency, c.monetary
            row.recency_days, row.orders, row.spend = c.recency_days, c.orders, c.spend
            row.computed_at = now
    return ClassificationOutcome(
        classified=len(classifications),
        moved=moved,
        segments=dict(Counter(c.segment.value for c in classifications)),
        abc=dict(Counter(c.abc.value for c in classifications)),
    )


def segment_standing(db: Database, customer_id: str) -> SegmentStanding:
    """A customer's current segment and the history of it, newest first."""
    with db.reading() as session:
        row = session.get(CustomerSegmentRow, customer_id)
        history = session.execute(
            select(
                CustomerSegmentChange.at, CustomerSegmentChange.segment, CustomerSegmentChange.abc
            )
            .where(CustomerSegmentChange.customer_id == customer_id)
            .order_by(CustomerSegmentChange.id.desc())
        ).all()
        current = (
            None
            if row is None
            else Classification(
                customer_id=customer_id,
                segment=Segment(row.segment),
                abc=Abc(row.abc),
                recency=row.recency,
                frequency=row.frequency,
                monetary=row.monetary,
                recency_days=row.recency_days,
                orders=row.orders,
                spend=row.spend,
            )
        )
        return SegmentStanding(
            current=current,
            since=row.since if row else None,
            computed_at=row.computed_at if row else None,
            history=[(at, segment, abc) for at, segment, abc in history],
        )


def segment_counts(db: Database) -> dict[str, dict[str, int]]:
    """Customers per segment and ABC class, from the last classification."""
    with db.reading() as session:
        rows = session.execute(
            select(CustomerSegmentRow.segment, CustomerSegmentRow.abc, func.count()).group_by(
                CustomerSegmentRow.segment, CustomerSegmentRow.abc
            )
        ).all()
    counts: dict[str, dict[str, int]] = {}
    for segment, abc, count in rows:
        counts.setdefault(segment, {})[abc] = count
    return counts
