"""The inventory review's data and writes: demand history, stock positions, forecasts,
proposals and the replenishment orders approved proposals become.

The review reads in one session, computes without one (forecasting takes seconds), and
writes its results in one transaction.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel, computed_field
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from domain.catalogue import Sourcing
from domain.forecasting import (
    DemandSeries,
    MaseNotMeasured,
    SeriesForecast,
    mase_not_measured,
)
from domain.inventory import MovementKind, StockReason, TransferStatus
from domain.replenishment import (
    Projection,
    Proposal,
    ProposalDecision,
    ProposalMethod,
    ProposalStatus,
    ProposalView,
    ReplenishmentRequest,
    StockPosition,
    replenishment_workflow_id,
)
from domain.supply import SupplyArrival, SupplyBalance, SupplyKind, SupplyOrderPlaced, SupplyStatus
from persistence.database import Database
from persistence.idempotency import run_once
from persistence.models import (
    DemandForecast,
    Order,
    OrderLine,
    Product,
    ReplenishmentOrder,
    ReplenishmentProposal,
    Reservation,
    StockLevel,
    StockPolicy,
    StockTransfer,
    StockTransferLine,
    SupplyOrder,
)
from persistence.stock_views import datetime_at
from persistence.wording_columns import wordings_json, wordings_of

from .records import utcnow
from .stock import StockOperationError, change_stock, ensure_stock_level

Level = tuple[str, str]
AUTOMATIC = "automatic rule"
"""Who decided a proposal a policy marks automatic."""


def demand_series(db: Database, today: date, days: int) -> list[DemandSeries]:
    """Units ordered per product and warehouse per day over the ``days`` before ``today``.

    A line counts on the day its order came in, for the warehouse that reserved it (or
    that its production or purchase order delivers to); lines never allocated (orders
    rejected before allocation) are not demand on any warehouse.
    """
    start = today - timedelta(days=days)
    reserved_in = (
        select(
            Reservation.order_id,
            Reservation.line_no,
            func.min(Reservation.warehouse_id).label("warehouse_id"),
        )
        .group_by(Reservation.order_id, Reservation.line_no)
        .subquery()
    )
    query = (
        select(
            OrderLine.sku,
            func.coalesce(reserved_in.c.warehouse_id, SupplyOrder.warehouse_id),
            Order.created_at,
            OrderLine.quantity,
        )
        .join(Order, Order.id == OrderLine.order_id)
        .outerjoin(
            reserved_in,
            (reserved_in.c.order_id == OrderLine.order_id)
            & (reserved_in.c.line_no == OrderLine.line_no),
        )
        .outerjoin(
            SupplyOrder,
            (SupplyOrder.order_id == OrderLine.order_id)
            & (SupplyOrder.line_no == OrderLine.line_no),
        )
        .where(Order.created_at >= datetime_at(start), Order.created_at < datetime_at(today))
    )
    units: dict[Level, list[float]] = defaultdict(lambda: [0.0] * days)
    with db.reading() as session:
        for sku, warehouse_id, created_at, quantity in session.execute(query):
            if warehouse_id is None:
                continue
            units[(sku, warehouse_id)][(created_at.date() - start).days] += quantity
        kept = session.execute(select(StockLevel.sku, StockLevel.warehouse_id)).all()
    for sku, warehouse_id in kept:  # levels without demand forecast zero, not nothing
        units[(sku, warehouse_id)]
    return [
        DemandSeries(sku=sku, warehouse_id=warehouse_id, start=start, units=daily)
        for (sku, warehouse_id), daily in sorted(units.items())
    ]


def stock_positions(db: Database, today: date) -> list[StockPosition]:
    """Every stock level with its policy, product facts and expected arrivals.

    Supply for orders' lines is not an arrival: it is reserved for those orders when it
    comes, so it never adds to free stock (it is counted apart, for the reason).
    """
    arrivals: dict[Level, list[tuple[date, int]]] = defaultdict(list)
    promised: dict[Level, int] = defaultdict(int)
    with db.reading() as session:
        for sku, warehouse_id, units in session.execute(
            select(
                SupplyOrder.sku,
                SupplyOrder.warehouse_id,
                SupplyOrder.quantity - SupplyOrder.received_quantity,
            ).where(SupplyOrder.status == SupplyStatus.OPEN.value)
        ):
            promised[(sku, warehouse_id)] += max(int(units), 0)
        for sku, warehouse_id, expected_at, units in session.execute(
            select(
                ReplenishmentOrder.sku,
                ReplenishmentOrder.warehouse_id,
                ReplenishmentOrder.expected_at,
                ReplenishmentOrder.quantity - ReplenishmentOrder.received_quantity,
            ).where(ReplenishmentOrder.status == SupplyStatus.OPEN.value)
        ):
            arrivals[(sku, warehouse_id)].append((max(expected_at.date(), today), int(units)))
        for sku, warehouse_id, units in session.execute(
            select(StockTransferLine.sku, StockTransfer.to_warehouse_id, StockTransferLine.quantity)
            .join(StockTransfer, StockTransfer.id == StockTransferLine.transfer_id)
            .where(StockTransfer.status == TransferStatus.IN_TRANSIT.value)
        ):
            arrivals[(sku, warehouse_id)].append((today, int(units)))
        rows = session.execute(
            select(StockLevel, Product, StockPolicy)
            .join(Product, Product.sku == StockLevel.sku)
            .outerjoin(
                StockPolicy,
                (StockPolicy.sku == StockLevel.sku)
                & (StockPolicy.warehouse_id == StockLevel.warehouse_id),
            )
            .where(Product.active.is_(True))
            .order_by(StockLevel.sku, StockLevel.warehouse_id)
        ).all()
    return [
        StockPosition(
            sku=level.sku,
            warehouse_id=level.warehouse_id,
            on_hand=level.on_hand,
            reserved=level.reserved,
            arrivals=arrivals.get((level.sku, level.warehouse_id), []),
            promised_incoming=promised.get((level.sku, level.warehouse_id), 0),
            lead_time_days=product.lead_time_days,
            pack_multiple=product.pack_multiple,
            kind=SupplyKind.PRODUCTION
            if Sourcing(product.sourcing) is Sourcing.MAKE
            else SupplyKind.PURCHASE,
            reorder_point=policy.reorder_point if policy else 0,
            minimum=policy.minimum if policy else 0,
            maximum=policy.maximum if policy else 0,
            safety_stock=policy.safety_stock if policy else 0,
            service_level=policy.service_level if policy else None,
            automatic=bool(policy and policy.automatic),
        )
        for level, product, policy in rows
    ]


class ProposalsWritten:
    """What writing a review's proposals changed."""

    def __init__(self) -> None:
        self.new = 0
        self.updated = 0
        self.withdrawn = 0
        self.ordered: list[int] = []


def write_review(
    db: Database,
    forecasts: list[SeriesForecast],
    projections: list[Projection],
    proposals: list[Proposal],
    now: datetime,
) -> ProposalsWritten:
    """Replace the forecasts, and bring the open proposals in line with this review:
    new ones added (ordered at once where the policy is automatic), open ones updated,
    those no longer needed withdrawn. Ordered proposals whose replenishment never
    started are listed again, so the review starts them."""
    written = ProposalsWritten()
    by_level = {(f.sku, f.warehouse_id): f for f in forecasts}
    with db.transaction() as session:
        session.execute(delete(DemandForecast))
        session.add_all(
            DemandForecast(
                sku=projection.sku,
                warehouse_id=projection.warehouse_id,
                method=forecast.method,
                intermittent=forecast.intermittent,
                daily_mean=forecast.daily_mean,
                mase=forecast.mase,
                wape=forecast.wape,
                naive_mase=forecast.naive_mase,
                naive_wape=forecast.naive_wape,
                backtest_units=forecast.backtest_units,
                backtest_abs_error=forecast.backtest_abs_error,
                naive_abs_error=forecast.naive_abs_error,
                safety_stock=projection.safety_stock,
                stockout_on=projection.stockout_on,
                overstock_units=projection.overstock_units,
                forecast=[round(units, 3) for units in forecast.daily],
                projection=[[day.isoformat(), round(free, 2)] for day, free in projection.days],
                computed_at=now,
            )
            for projection in projections
            if (forecast := by_level.get((projection.sku, projection.warehouse_id)))
        )
        open_ones = {
            (row.sku, row.warehouse_id): row
            for row in session.scalars(
                select(ReplenishmentProposal).where(
                    ReplenishmentProposal.status == ProposalStatus.PROPOSED.value
                )
            )
        }
        wanted = {(p.sku, p.warehouse_id): p for p in proposals}
        for level, row in open_ones.items():
            if level not in wanted:
                row.status = ProposalStatus.WITHDRAWN.value
                row.decided_by = "inventory review"
                row.decided_at = now
                row.decision_note = "no longer needed"
                row.updated_at = now
                written.withdrawn += 1
        for level, proposal in sorted(wanted.items()):
            existing = open_ones.get(level)
            if existing is not None:
                existing.quantity = existing.proposed_quantity = proposal.quantity
                existing.method = proposal.method.value
                existing.reason = proposal.reason[:400]
                existing.reason_wordings = wordings_json(proposal.reason_wordings)
                existing.stockout_on = proposal.stockout_on
                existing.updated_at = now
                written.updated += 1
                continue
            row = ReplenishmentProposal(
                sku=proposal.sku,
                warehouse_id=proposal.warehouse_id,
                kind=proposal.kind.value,
                quantity=proposal.quantity,
                proposed_quantity=proposal.quantity,
                method=proposal.method.value,
                reason=proposal.reason[:400],
                reason_wordings=wordings_json(proposal.reason_wordings),
                stockout_on=proposal.stockout_on,
                status=ProposalStatus.PROPOSED.value,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()
            written.new += 1
            if proposal.automatic:
                _order(row, AUTOMATIC, now, "the stock policy orders automatically")
        session.flush()
        written.ordered = sorted(
            session.scalars(
                select(ReplenishmentProposal.id)
                .outerjoin(
                    ReplenishmentOrder, ReplenishmentOrder.proposal_id == ReplenishmentProposal.id
                )
                .where(
                    ReplenishmentProposal.status == ProposalStatus.ORDERED.value,
                    ReplenishmentOrder.id.is_(None),
                )
            )
        )
    return written


def _order(row: ReplenishmentProposal, actor: str, now: datetime, note: str) -> None:
    row.status = ProposalStatus.ORDERED.value
    row.decided_by = actor
    row.decided_at = now
    row.decision_note = note[:400]
    row.updated_at = now
    row.workflow_id = replenishment_workflow_id(row.id)


def decide_proposal(
    db: Database, proposal_id: int, decision: ProposalDecision
) -> ReplenishmentRequest | None:
    """Approve (as proposed or with another quantity) or reject an open proposal; the
    replenishment to start when approved. A proposal already decided is refused with who
    decided it."""
    with db.transaction() as session:
        row = session.get(ReplenishmentProposal, proposal_id, with_for_update=True)
        if row is None:
            raise StockOperationError(f"proposal {proposal_id}: no such proposal")
        if row.status != ProposalStatus.PROPOSED.value:
            raise StockOperationError(
                f"proposal {proposal_id} is {row.status} (by {row.decided_by} "
                f"at {row.decided_at:%Y-%m-%d %H:%M} UTC)"
            )
        now = utcnow()
        if not decision.approve:
            row.status = ProposalStatus.REJECTED.value
            row.decided_by = decision.actor
            row.decided_at = now
            row.decision_note = decision.note
            row.updated_at = now
            return None
        if decision.quantity is not None and decision.quantity != row.quantity:
            row.quantity = decision.quantity
            note = f"edited from {row.proposed_quantity}" + (
                f": {decision.note}" if decision.note else ""
            )
        else:
            note = decision.note
        _order(row, decision.actor, now, note)
        return replenishment_request(row)


def replenishment_request(row: ReplenishmentProposal) -> ReplenishmentRequest:
    """The workflow input of an ordered proposal."""
    return ReplenishmentRequest(
        proposal_id=row.id,
        sku=row.sku,
        warehouse_id=row.warehouse_id,
        kind=SupplyKind(row.kind),
        quantity=row.quantity,
    )


def ordered_requests(db: Database, proposal_ids: list[int]) -> list[ReplenishmentRequest]:
    """The workflow inputs of ordered proposals."""
    with db.reading() as session:
        rows = session.scalars(
            select(ReplenishmentProposal)
            .where(
                ReplenishmentProposal.id.in_(proposal_ids),
                ReplenishmentProposal.status == ProposalStatus.ORDERED.value,
            )
            .order_by(ReplenishmentProposal.id)
        )
        return [replenishment_request(row) for row in rows]


def proposals(
    db: Database, *, status: ProposalStatus | None = ProposalStatus.PROPOSED, limit: int = 300
) -> list[ProposalView]:
    """Proposals newest first (of one status, or all)."""
    query = (
        select(ReplenishmentProposal, Product.name, ReplenishmentOrder)
        .join(Product, Product.sku == ReplenishmentProposal.sku)
        .outerjoin(ReplenishmentOrder, ReplenishmentOrder.proposal_id == ReplenishmentProposal.id)
        .order_by(ReplenishmentProposal.updated_at.desc(), ReplenishmentProposal.id.desc())
        .limit(limit)
    )
    if status is not None:
        query = query.where(ReplenishmentProposal.status == status.value)
    with db.reading() as session:
        return [
            ProposalView(
                id=row.id,
                sku=row.sku,
                name=name,
                warehouse_id=row.warehouse_id,
                kind=SupplyKind(row.kind),
                quantity=row.quantity,
                proposed_quantity=row.proposed_quantity,
                method=ProposalMethod(row.method),
                reason=row.reason,
                reason_wordings=wordings_of(row.reason_wordings),
                stockout_on=row.stockout_on,
                status=ProposalStatus(row.status),
                created_at=row.created_at,
                updated_at=row.updated_at,
                decided_by=row.decided_by,
                decision_note=row.decision_note,
                workflow_id=row.workflow_id,
                order_status=order.status if order else None,
                received=order.received_quantity if order else 0,
                expected_at=order.expected_at if order else None,
                partner_reference=order.partner_reference if order else None,
            )
            for row, name, order in session.execute(query)
        ]


def record_replenishment_order(
    db: Database,
    request: ReplenishmentRequest,
    *,
    partner: str,
    partner_reference: str,
    expected_at: datetime,
) -> SupplyOrderPlaced:
    """Record the order the partner confirmed for an ordered proposal, once."""
    order_id = replenishment_workflow_id(request.proposal_id)

    def effect(session: Session) -> SupplyOrderPlaced:
        now = utcnow()
        session.add(
            ReplenishmentOrder(
                id=order_id,
                proposal_id=request.proposal_id,
                sku=request.sku,
                kind=request.kind.value,
                partner=partner,
                partner_reference=partner_reference,
                warehouse_id=request.warehouse_id,
                quantity=request.quantity,
                received_quantity=0,
                status=SupplyStatus.OPEN.value,
                expected_at=expected_at,
                created_at=now,
                updated_at=now,
            )
        )
        return SupplyOrderPlaced(
            supply_order_id=order_id,
            kind=request.kind,
            partner=partner,
            partner_reference=partner_reference,
            warehouse_id=request.warehouse_id,
            expected_at=expected_at,
        )

    return run_once(db, f"{order_id}:placed", SupplyOrderPlaced, effect)


def receive_replenishment(db: Database, arrival: SupplyArrival) -> SupplyBalance:
    """Book a delivery of a replenishment order into stock through the ledger, once per
    delivery note (the receipt id)."""
    key = f"{arrival.supply_order_id}:receipt:{arrival.receipt.receipt_id}"

    def effect(session: Session) -> SupplyBalance:
        order = session.get(ReplenishmentOrder, arrival.supply_order_id, with_for_update=True)
        if order is None:
            raise StockOperationError(f"{arrival.supply_order_id}: no such replenishment order")
        units = arrival.receipt.quantity
        ensure_stock_level(session, order.sku, order.warehouse_id)
        change_stock(
            session,
            sku=order.sku,
            warehouse_id=order.warehouse_id,
            kind=MovementKind.RECEIVE,
            on_hand_change=units,
            reason=(
                StockReason.PRODUCTION_OUTPUT
                if order.kind == SupplyKind.PRODUCTION.value
                else StockReason.SUPPLIER_DELIVERY
            ).value,
            # The person who booked the delivery, else the partner who reported it.
            actor=arrival.receipt.actor or order.partner,
            reference=f"{order.id} {arrival.receipt.receipt_id}"[:64],
        )
        order.received_quantity += units
        order.updated_at = utcnow()
        if order.received_quantity >= order.quantity:
            order.status = SupplyStatus.RECEIVED.value
        return SupplyBalance(
            received=order.received_quantity,
            outstanding=max(order.quantity - order.received_quantity, 0),
        )

    return run_once(db, key, SupplyBalance, effect)


def daily_demand_rates(db: Database) -> dict[Level, Decimal]:
    """Average forecast units a day per level, as the last review wrote them (for days of
    cover)."""
    with db.reading() as session:
        rows = session.execute(
            select(DemandForecast.sku, DemandForecast.warehouse_id, DemandForecast.daily_mean)
        )
        return {(sku, warehouse_id): rate for sku, warehouse_id, rate in rows}


def lead_time_of(db: Database, sku: str) -> timedelta:
    """How long the factory or supplier takes to deliver ``sku``."""
    with db.reading() as session:
        product = session.get(Product, sku)
        if product is None:
            raise StockOperationError(f"sku {sku!r}: no such product")
        return timedelta(days=product.lead_time_days)


class ForecastRow(BaseModel):
    """The last review's forecast of one product in one warehouse, for people."""

    sku: str
    name: str
    warehouse_id: str
    method: str
    intermittent: bool
    daily_mean: Decimal
    mase: float | None
    wape: float | None
    naive_mase: float | None
    naive_wape: float | None
    backtest_units: float = 0.0
    """Units sold over the backtest window."""
    safety_stock: int
    stockout_on: date | None
    overstock_units: int
    computed_at: datetime
    forecast: list[float] = []
    projection: list[tuple[date, float]] = []

    @computed_field  # type: ignore[prop-decorator]
    @property
    def mase_not_measured(self) -> MaseNotMeasured | None:
        """Why there is no MASE (a review before this rule stored a meaningless 0 for a
        series that sold nothing in the backtest window: not shown either)."""
        return mase_not_measured(self.method, self.backtest_units)


class ForecastReport(BaseModel):
    """Every forecast of the last review and their accuracy over all series."""

    rows: list[ForecastRow]
    wape: float | None
    naive_wape: float | None
    methods: dict[str, int]
    computed_at: datetime | None


def forecast_report(
    db: Database, *, sku: str | None = None, warehouse_id: str | None = None
) -> ForecastReport:
    """The last review's forecasts (of one product, one warehouse), stock-outs first."""
    query = select(DemandForecast, Product.name).join(Product, Product.sku == DemandForecast.sku)
    if sku:
        query = query.where(DemandForecast.sku == sku)
    if warehouse_id:
        query = query.where(DemandForecast.warehouse_id == warehouse_id)
    with db.reading() as session:
        found = session.execute(query).all()
    rows = [
        ForecastRow(
            sku=row.sku,
            name=name,
            warehouse_id=row.warehouse_id,
            method=row.method,
            intermittent=row.intermittent,
            daily_mean=row.daily_mean,
            mase=row.mase,
            wape=row.wape,
            naive_mase=row.naive_mase,
            naive_wape=row.naive_wape,
            backtest_units=row.backtest_units,
            safety_stock=row.safety_stock,
            stockout_on=row.stockout_on,
            overstock_units=row.overstock_units,
            computed_at=row.computed_at,
            forecast=row.forecast if sku else [],
            projection=[(date.fromisoformat(day), free) for day, free in row.projection]
            if sku
            else [],
        )
        for row, name in found
    ]
    rows.sort(key=lambda r: (r.stockout_on is None, r.stockout_on or date.max, r.sku))
    units = sum(row.backtest_units for row, _name in found)
    methods: dict[str, int] = {}
    for row in rows:
        methods[row.method] = methods.get(row.method, 0) + 1
    return ForecastReport(
        rows=rows,
        wape=sum(row.backtest_abs_error for row, _n in found) / units if units else None,
        naive_wape=sum(row.naive_abs_error for row, _n in found) / units if units else None,
        methods=methods,
        computed_at=max((row.computed_at for row in rows), default=None),
    )
