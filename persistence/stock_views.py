"""Read stock for people: per product and warehouse, with what is coming and what it is worth."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from pydantic import BaseModel, computed_field
from sqlalchemy import Subquery, and_, func, select, union_all

from domain.inventory import TransferStatus
from domain.supply import SupplyStatus
from persistence.database import Database
from persistence.models import (
    Product,
    ReplenishmentOrder,
    StockLevel,
    StockMovement,
    StockPolicy,
    StockTransfer,
    StockTransferLine,
    SupplyOrder,
)


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
    def below_reorder_point(self) -> bool:
        """Free and incoming stock at or under the reorder point: replenishment is due."""
        return self.reorder_point is not None and self.free + self.incoming <= self.reorder_point

    @computed_field  # type: ignore[prop-decorator]
    @property
    def above_maximum(self) -> bool:
        """More on hand than the warehouse should keep."""
        return bool(self.maximum) and self.on_hand > (self.maximum or 0)


def incoming_units() -> Subquery:
    """Units on their way to each product and warehouse (``sku``, ``warehouse_id``,
    ``units``): open production and purchase orders (for order lines and for stock) not
    yet received, and transfers in transit."""
    supply = select(
        SupplyOrder.sku,
        SupplyOrder.warehouse_id,
        (SupplyOrder.quantity - SupplyOrder.received_quantity).label("units"),
    ).where(SupplyOrder.status == SupplyStatus.OPEN.value)
    transfers = (
        select(
            StockTransferLine.sku,
            StockTransfer.to_warehouse_id.label("warehouse_id"),
            StockTransferLine.quantity.label("units"),
        )
        .join(StockTransfer, StockTransfer.id == StockTransferLine.transfer_id)
        .where(StockTransfer.status == TransferStatus.IN_TRANSIT.value)
    )
    replenishment = select(
        ReplenishmentOrder.sku,
        ReplenishmentOrder.warehouse_id,
        (ReplenishmentOrder.quantity - ReplenishmentOrder.received_quantity).label("units"),
    ).where(ReplenishmentOrder.status == SupplyStatus.OPEN.value)
    both = union_all(supply, replenishment, transfers).subquery()
    return (
        select(both.c.sku, both.c.warehouse_id, func.sum(both.c.units).label("units"))
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
        select(StockLevel, Product, StockPolicy, incoming.c.units)
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
                value=Decimal(level.on_hand) * product.cost,
                reorder_point=policy.reorder_point if policy else None,
                maximum=policy.maximum if policy else None,
            )
            for level, product, policy, units in session.execute(query)
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
