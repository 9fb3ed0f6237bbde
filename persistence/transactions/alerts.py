"""Stock alerts: the review compares the conditions that hold now with the open alerts,
raising each new one once and clearing those whose condition ended, in one transaction.

At most one alert of a kind is open per product and warehouse (a partial unique index),
so two reviews racing cannot raise the same alert twice: the second one's insert fails
and its transaction rolls back.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from domain.inventory import MovementKind
from domain.stock_alerts import (
    AlertChanges,
    AlertKind,
    AlertRules,
    AlertView,
    LevelFacts,
    alert_conditions,
)
from persistence.database import Database
from persistence.models import StockAlert, StockLevel, StockMovement, StockPolicy
from persistence.stock_views import incoming_units
from persistence.wording_columns import wording_json, wording_of

GOODS_OUT = [MovementKind.SHIP.value, MovementKind.ISSUE.value, MovementKind.TRANSFER_OUT.value]
"""Movements that take goods out of a warehouse: what keeps stock from going slow or dead."""

Level = tuple[str, str]


def level_facts(
    session: Session, daily_demand: Mapping[Level, Decimal] | None = None
) -> list[LevelFacts]:
    """What the review knows of every stock level: figures, policy, last goods out."""
    incoming = incoming_units()
    last_out = (
        select(
            StockMovement.sku,
            StockMovement.warehouse_id,
            func.max(StockMovement.created_at).label("at"),
        )
        .where(StockMovement.kind.in_(GOODS_OUT))
        .group_by(StockMovement.sku, StockMovement.warehouse_id)
        .subquery()
    )
    first_in = (
        select(
            StockMovement.sku,
            StockMovement.warehouse_id,
            func.min(StockMovement.created_at).label("at"),
        )
        .group_by(StockMovement.sku, StockMovement.warehouse_id)
        .subquery()
    )

    rows = session.execute(
        select(
            StockLevel,
            StockPolicy,
            incoming.c.units,
            incoming.c.promised,
            last_out.c.at,
            first_in.c.at,
        )
        .outerjoin(StockPolicy, _same_level(StockPolicy.sku, StockPolicy.warehouse_id))
        .outerjoin(incoming, _same_level(incoming.c.sku, incoming.c.warehouse_id))
        .outerjoin(last_out, _same_level(last_out.c.sku, last_out.c.warehouse_id))
        .outerjoin(first_in, _same_level(first_in.c.sku, first_in.c.warehouse_id))
        .order_by(StockLevel.sku, StockLevel.warehouse_id)
    )
    demand = daily_demand or {}
    return [
        LevelFacts(
            sku=level.sku,
            warehouse_id=level.warehouse_id,
            on_hand=level.on_hand,
            reserved=level.reserved,
            incoming=int(units or 0),
            incoming_promised=int(promised or 0),
            has_policy=policy is not None,
            reorder_point=policy.reorder_point if policy else 0,
            maximum=policy.maximum if policy else 0,
            daily_demand=demand.get((level.sku, level.warehouse_id)),
            last_out_at=out_at,
            first_in_at=in_at,
        )
        for level, policy, units, promised, out_at, in_at in rows
    ]


def _same_level(
    sku: ColumnElement[str] | InstrumentedAttribute[str],
    warehouse_id: ColumnElement[str] | InstrumentedAttribute[str],
) -> ColumnElement[bool]:
    return and_(sku == StockLevel.sku, warehouse_id == StockLevel.warehouse_id)


def review_alerts(
    db: Database,
    rules: AlertRules,
    now: datetime,
    daily_demand: Mapping[Level, Decimal] | None = None,
) -> AlertChanges:
    """Raise the alerts whose condition started and clear those whose condition ended."""
    with db.transaction() as session:
        holding = {
            (facts.sku, facts.warehouse_id, condition.kind): condition
            for facts in level_facts(session, daily_demand)
            for condition in alert_conditions(facts, rules, now)
        }
        open_alerts = {
            (alert.sku, alert.warehouse_id, AlertKind(alert.kind)): alert
            for alert in session.scalars(select(StockAlert).where(StockAlert.cleared_at.is_(None)))
        }
        changes = AlertChanges()
        for key, alert in sorted(open_alerts.items()):
            if key not in holding:
                alert.cleared_at = now
                alert.cleared_detail = "the condition no longer holds"
                changes.cleared.append(_view(alert))
        new = [
            StockAlert(
                sku=sku,
                warehouse_id=warehouse_id,
                kind=kind.value,
                detail=condition.detail[:400],
                detail_wording=wording_json(condition.wording),
                raised_at=now,
            )
            for (sku, warehouse_id, kind), condition in sorted(holding.items())
            if (sku, warehouse_id, kind) not in open_alerts
        ]
        session.add_all(new)
        session.flush()
        changes.raised = [_view(alert) for alert in new]
        return changes


def stock_alerts(
    db: Database,
    *,
    open_only: bool = True,
    sku: str | None = None,
    warehouse_id: str | None = None,
    limit: int = 500,
) -> list[AlertView]:
    """Alerts newest first: the open ones, or the history with the cleared ones."""
    query = select(StockAlert).order_by(StockAlert.raised_at.desc(), StockAlert.id.desc())
    if open_only:
        query = query.where(StockAlert.cleared_at.is_(None))
    if sku:
        query = query.where(StockAlert.sku == sku)
    if warehouse_id:
        query = query.where(StockAlert.warehouse_id == warehouse_id)
    with db.reading() as session:
        return [_view(alert) for alert in session.scalars(query.limit(limit))]


def _view(alert: StockAlert) -> AlertView:
    return AlertView(
        id=alert.id,
        sku=alert.sku,
        warehouse_id=alert.warehouse_id,
        kind=AlertKind(alert.kind),
        detail=alert.detail,
        wording=wording_of(alert.detail_wording),
        raised_at=alert.raised_at,
        cleared_at=alert.cleared_at,
    )
