"""Read stock for people: per product and warehouse, with what is coming and what it is worth."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel, computed_field
from sqlalchemy import Subquery, and_, func, literal, select, union_all

from domain.inventory import MovementKind, TransferStatus
from domain.shipping import ShipmentStatus
from domain.stock_alerts import AlertKind
from domain.supply import SupplyStatus
from persistence.database import Database
from persistence.models import (
    DemandForecast,
    Order,
    Product,
    ReplenishmentOrder,
    Reservation,
    Shipment,
    StockAlert,
    StockLevel,
    StockMovement,
    StockPolicy,
    StockTransfer,
    StockTransferLine,
    SupplyOrder,
    Warehouse,
)
from persistence.transactions.stock import STOCK_OUT_ENDED


class StockRow(BaseModel):
    """One product in one warehouse."""

    sku: str
    name: str
    unit: str
    warehouse_id: str
    on_hand: int
    reserved: int
    incoming: int
    """Units on open production and purchase orders for this warehouse, not yet received,
    and on transfers in transit to it."""
    incoming_promised: int = 0
    """Of the incoming units, those on production and purchase orders for orders' lines:
    they are reserved for those orders on arrival, so they never become free."""
    value: Decimal
    """On hand at cost."""
    reorder_point: int | None
    maximum: int | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def free(self) -> int:
        """On hand and promised to nobody."""
        return self.on_hand - self.reserved

    @computed_field  # type: ignore[prop-decorator]
    @property
    def incoming_free(self) -> int:
        """Incoming units nobody waits for: what will add to free stock."""
        return self.incoming - self.incoming_promised

    @computed_field  # type: ignore[prop-decorator]
    @property
    def below_reorder_point(self) -> bool:
        """Free stock and incoming units nobody waits for at or under the reorder point:
        replenishment is due."""
        return (
            self.reorder_point is not None and self.free + self.incoming_free <= self.reorder_point
        )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def above_maximum(self) -> bool:
        """More on hand than the warehouse should keep."""
        return bool(self.maximum) and self.on_hand > (self.maximum or 0)


def incoming_units() -> Subquery:
    """Units on their way to each product and warehouse (``sku``, ``warehouse_id``,
    ``units``, ``promised``): open production and purchase orders (for order lines and for
    stock) not yet received, and transfers in transit; ``promised`` are those of them on
    orders for order lines (reserved for those orders when they arrive)."""
    outstanding = SupplyOrder.quantity - SupplyOrder.received_quantity
    supply = select(
        SupplyOrder.sku,
        SupplyOrder.warehouse_id,
        outstanding.label("units"),
        outstanding.label("promised"),
    ).where(SupplyOrder.status == SupplyStatus.OPEN.value)
    transfers = (
        select(
            StockTransferLine.sku,
            StockTransfer.to_warehouse_id.label("warehouse_id"),
            StockTransferLine.quantity.label("units"),
            literal(0).label("promised"),
        )
        .join(StockTransfer, StockTransfer.id == StockTransferLine.transfer_id)
        .where(StockTransfer.status == TransferStatus.IN_TRANSIT.value)
    )
    replenishment = select(
        ReplenishmentOrder.sku,
        ReplenishmentOrder.warehouse_id,
        (ReplenishmentOrder.quantity - ReplenishmentOrder.received_quantity).label("units"),
        literal(0).label("promised"),
    ).where(ReplenishmentOrder.status == SupplyStatus.OPEN.value)
    both = union_all(supply, replenishment, transfers).subquery()
    return (
        select(
            both.c.sku,
            both.c.warehouse_id,
            func.sum(both.c.units).label("units"),
            func.sum(both.c.promised).label("promised"),
        )
        .group_by(both.c.sku, both.c.warehouse_id)
        .subquery()
    )


def stock_rows(
    db: Database,
    *,
    warehouse_id: str | None = None,
    search: str | None = None,
    sku: str | None = None,
) -> list[StockRow]:
    """Every stock level (of one warehouse, of SKUs or names containing ``search``, of one
    ``sku``), by SKU."""
    incoming = incoming_units()
    query = (
        select(StockLevel, Product, StockPolicy, incoming.c.units, incoming.c.promised)
        .join(Product, Product.sku == StockLevel.sku)
        .outerjoin(
            StockPolicy,
            and_(
                StockPolicy.sku == StockLevel.sku,
                StockPolicy.warehouse_id == StockLevel.warehouse_id,
            ),
        )
        .outerjoin(
            incoming,
            and_(
                incoming.c.sku == StockLevel.sku,
                incoming.c.warehouse_id == StockLevel.warehouse_id,
            ),
        )
        .order_by(StockLevel.sku, StockLevel.warehouse_id)
    )
    if warehouse_id:
        query = query.where(StockLevel.warehouse_id == warehouse_id)
    if sku:
        query = query.where(StockLevel.sku == sku)
    if search:
        pattern = f"%{search.strip()}%"
        query = query.where(Product.sku.ilike(pattern) | Product.name.ilike(pattern))
    with db.reading() as session:
        return [
            StockRow(
                sku=level.sku,
                name=product.name,
                unit=product.unit,
                warehouse_id=level.warehouse_id,
                on_hand=level.on_hand,
                reserved=level.reserved,
                incoming=int(units or 0),
                incoming_promised=int(promised or 0),
                value=Decimal(level.on_hand) * product.cost,
                reorder_point=policy.reorder_point if policy else None,
                maximum=policy.maximum if policy else None,
            )
            for level, product, policy, units, promised in session.execute(query)
        ]


class MovementRow(BaseModel):
    """One ledger row as people read it."""

    created_at: datetime
    sku: str
    warehouse_id: str
    kind: str
    on_hand_change: int
    reserved_change: int
    reason: str
    actor: str
    reference: str
    order_id: str | None


MOVEMENTS_PAGE = 100


def stock_movements(
    db: Database,
    *,
    sku: str | None = None,
    warehouse_id: str | None = None,
    kind: str | None = None,
    outside_orders: bool = False,
    before_id: int | None = None,
) -> tuple[list[MovementRow], int | None]:
    """The newest ledger rows (of a product, a warehouse, a kind; only those not made by
    orders), a page at a time: the rows and the id to ask ``before_id`` for the next page."""
    query = select(StockMovement).order_by(StockMovement.id.desc()).limit(MOVEMENTS_PAGE + 1)
    if sku:
        query = query.where(StockMovement.sku == sku)
    if warehouse_id:
        query = query.where(StockMovement.warehouse_id == warehouse_id)
    if kind:
        query = query.where(StockMovement.kind == kind)
    if outside_orders:
        query = query.where(StockMovement.order_id.is_(None))
    if before_id:
        query = query.where(StockMovement.id < before_id)
    with db.reading() as session:
        rows = session.scalars(query).all()
    more = len(rows) > MOVEMENTS_PAGE
    rows = rows[:MOVEMENTS_PAGE]
    return (
        [MovementRow.model_validate(row, from_attributes=True) for row in rows],
        rows[-1].id if more and rows else None,
    )


class TimelinePoint(BaseModel):
    """Stock of a product at the end of one day."""

    day: date
    on_hand: int
    free: int


def stock_timeline(
    db: Database, sku: str, *, warehouse_id: str | None = None, days: int = 90, today: date
) -> list[TimelinePoint]:
    """On hand and free stock of ``sku`` (in one warehouse, or all) at the end of each of
    the last ``days`` days up to ``today`` (UTC days), read back from today's levels
    through the ledger."""
    start = today - timedelta(days=days - 1)
    levels = select(
        func.coalesce(func.sum(StockLevel.on_hand), 0),
        func.coalesce(func.sum(StockLevel.reserved), 0),
    ).where(StockLevel.sku == sku)
    moves = select(
        StockMovement.created_at, StockMovement.on_hand_change, StockMovement.reserved_change
    ).where(StockMovement.sku == sku, StockMovement.created_at >= datetime_at(start))
    if warehouse_id:
        levels = levels.where(StockLevel.warehouse_id == warehouse_id)
        moves = moves.where(StockMovement.warehouse_id == warehouse_id)
    with db.reading() as session:
        on_hand, reserved = session.execute(levels).one()
        changes: dict[date, tuple[int, int]] = {}
        for created_at, on_hand_change, reserved_change in session.execute(moves):
            day = created_at.date()
            before = changes.get(day, (0, 0))
            changes[day] = (before[0] + on_hand_change, before[1] + reserved_change)
    points = []
    for offset in range(days):
        day = today - timedelta(days=offset)
        points.append(TimelinePoint(day=day, on_hand=on_hand, free=on_hand - reserved))
        on_hand_change, reserved_change = changes.get(day, (0, 0))
        on_hand -= on_hand_change
        reserved -= reserved_change
    return points[::-1]


def datetime_at(day: date) -> datetime:
    """Midnight UTC at the start of ``day``."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


class InventoryKpis(BaseModel):
    """How stock performed over a period (for the stock page and the reports module)."""

    period_days: int
    stock_value: Decimal
    """On hand now, at cost."""
    goods_out_cost: Decimal
    """Units shipped and issued over the period, at cost."""
    turnover: float | None
    """Goods out at cost a year over today's stock value (times a year)."""
    days_of_cover: float | None
    """Today's stock value over the goods out at cost a day."""
    fill_rate: float | None
    """Share of allocated order lines served from stock without a production or purchase
    order (lines of orders that came in over the period)."""
    stockout_days: int
    """Days in stock-out over the period, summed over products and warehouses: each
    stock-out alert's days (a started day counts as a whole one, so a stock-out raised an
    hour ago is one day, never 0), from the alerts the stock alerts page lists."""
    stockouts_now: int = 0
    """Products and warehouses out of stock now: the open stock-out alerts."""
    reviewed_at: datetime | None = None
    """When the inventory review last ran (its forecasts' time, or the latest alert it
    raised or cleared): the stock-out figures are as of then (a receipt that frees units
    ends a stock-out at once), not of the stock now. None: it has not run."""


def inventory_kpis(
    db: Database, *, now: datetime, period_days: int = 90, warehouse_id: str | None = None
) -> InventoryKpis:
    """Turnover, days of cover, stock value, fill rate and stock-out days over the period."""
    start = now - timedelta(days=period_days)
    value = (
        select(func.coalesce(func.sum(StockLevel.on_hand * Product.cost), 0))
        .select_from(StockLevel)
        .join(Product, Product.sku == StockLevel.sku)
    )
    goods_out = (
        select(func.coalesce(func.sum(-StockMovement.on_hand_change * Product.cost), 0))
        .select_from(StockMovement)
        .join(Product, Product.sku == StockMovement.sku)
        .where(
            StockMovement.kind.in_([MovementKind.SHIP.value, MovementKind.ISSUE.value]),
            StockMovement.created_at >= start,
        )
    )
    reserved_lines = select(Reservation.order_id, Reservation.line_no, Reservation.warehouse_id)
    supplied_lines = select(SupplyOrder.order_id, SupplyOrder.line_no, SupplyOrder.warehouse_id)
    outages = select(StockAlert.raised_at, StockAlert.cleared_at).where(
        StockAlert.kind == AlertKind.STOCK_OUT.value,
        (StockAlert.cleared_at.is_(None)) | (StockAlert.cleared_at > start),
    )
    if warehouse_id:
        value = value.where(StockLevel.warehouse_id == warehouse_id)
        goods_out = goods_out.where(StockMovement.warehouse_id == warehouse_id)
        reserved_lines = reserved_lines.where(Reservation.warehouse_id == warehouse_id)
        supplied_lines = supplied_lines.where(SupplyOrder.warehouse_id == warehouse_id)
        outages = outages.where(StockAlert.warehouse_id == warehouse_id)
    recent = select(Order.id).where(Order.created_at >= start)
    with db.reading() as session:
        stock_value = Decimal(session.scalar(value) or 0)
        out_cost = Decimal(session.scalar(goods_out) or 0)
        allocated = {
            (order_id, line_no)
            for order_id, line_no, _w in session.execute(
                reserved_lines.where(Reservation.order_id.in_(recent))
            )
        }
        backordered = {
            (order_id, line_no)
            for order_id, line_no, _w in session.execute(
                supplied_lines.where(SupplyOrder.order_id.in_(recent))
            )
        }
        outage_rows = session.execute(outages).all()
        reviewed_at = max(
            (
                moment
                for moment in (
                    session.scalar(select(func.max(DemandForecast.computed_at))),
                    session.scalar(select(func.max(StockAlert.raised_at))),
                    session.scalar(
                        select(func.max(StockAlert.cleared_at)).where(
                            StockAlert.cleared_detail != STOCK_OUT_ENDED
                        )
                    ),
                )
                if moment is not None
            ),
            default=None,
        )
    lines = allocated | backordered
    daily_out = out_cost / period_days
    return InventoryKpis(
        period_days=period_days,
        stock_value=stock_value,
        goods_out_cost=out_cost,
        turnover=float(out_cost * 365 / period_days / stock_value) if stock_value else None,
        days_of_cover=float(stock_value / daily_out) if daily_out else None,
        fill_rate=(len(lines) - len(backordered)) / len(lines) if lines else None,
        stockout_days=sum(
            _started_days((cleared or now) - max(raised, start)) for raised, cleared in outage_rows
        ),
        stockouts_now=sum(1 for _raised, cleared in outage_rows if cleared is None),
        reviewed_at=reviewed_at,
    )


def _started_days(spell: timedelta) -> int:
    """The days of a spell, a started day counting as a whole one (so at least one)."""
    return max(1, math.ceil(spell.total_seconds() / 86400))


class PackingRow(BaseModel):
    """A parcel the warehouse has to pick and pack before the carrier is booked."""

    shipment_id: str
    order_id: str
    warehouse_id: str
    since: datetime
    lines: list[tuple[str, int]]
    """(SKU, units) to pick."""


def packing_queue(db: Database, *, warehouse_id: str | None = None) -> list[PackingRow]:
    """Parcels of warehouses that confirm packing, planned and not booked yet, oldest first."""
    query = (
        select(Shipment)
        .join(Warehouse, Warehouse.id == Shipment.warehouse_id)
        .where(
            Warehouse.confirm_packing.is_(True),
            Shipment.status == ShipmentStatus.PLANNED.value,
        )
        .order_by(Shipment.booked_at, Shipment.id)
        .limit(500)
    )
    if warehouse_id:
        query = query.where(Shipment.warehouse_id == warehouse_id)
    with db.reading() as session:
        parcels = session.scalars(query).all()
        picks: dict[str, list[tuple[str, int]]] = {}
        if parcels:
            for shipment_id, sku, units in session.execute(
                select(Reservation.shipment_id, Reservation.sku, func.sum(Reservation.quantity))
                .where(Reservation.shipment_id.in_([p.id for p in parcels]))
                .group_by(Reservation.shipment_id, Reservation.sku)
                .order_by(Reservation.sku)
            ):
                picks.setdefault(str(shipment_id), []).append((sku, int(units)))
    return [
        PackingRow(
            shipment_id=parcel.id,
            order_id=parcel.order_id,
            warehouse_id=parcel.warehouse_id,
            since=parcel.booked_at,
            lines=picks.get(parcel.id, []),
        )
        for parcel in parcels
    ]
