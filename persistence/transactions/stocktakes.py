"""Stocktakes: a blind count of a warehouse, its variances, their approval and posting.

A count records, with each counted quantity, the book's on hand at that moment.
Whatever moves afterwards (orders shipping, receipts) is in the book and not in the
count, so the variance ``counted - book`` stays right however long the count stays
open, and posting adds it to whatever the level is then. Posting never breaks what
running orders hold: a variance that would leave fewer units than are reserved is
refused, naming the product, for a recount.

A product is on one open count of a warehouse at a time: two would each post the same
variance. A partial unique index over the open lines holds that even for two counts
opened at the same moment; opening a second is refused naming the open one.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.inventory import (
    MovementKind,
    StockReason,
    StocktakeLineView,
    StocktakeOpening,
    StocktakeStatus,
    StocktakeView,
)
from persistence.database import Database
from persistence.models import Product, StockLevel, Stocktake, StocktakeLine, Warehouse

from .records import utcnow
from .stock import StockOperationError, change_stock, ensure_stock_level


def stocktake_reference(stocktake_id: int) -> str:
    """The reference a count's adjustment rows carry."""
    return f"stocktake-{stocktake_id}"


def open_stocktake(db: Database, opening: StocktakeOpening) -> StocktakeView:
    """Open a count of a warehouse: the products named, or every one it keeps a level for.

    Refused, naming the open count, for a product already on an open count of the
    warehouse (post or cancel that one first).
    """
    try:
        return _open_stocktake(db, opening)
    except IntegrityError:
        # another count took a product between our check and our insert
        with db.reading() as session:
            problems = _already_counted(session, opening.warehouse_id, opening.skus or None)
        if not problems:
            raise
        raise StockOperationError(problems) from None


def _open_stocktake(db: Database, opening: StocktakeOpening) -> StocktakeView:
    with db.transaction() as session:
        if session.get(Warehouse, opening.warehouse_id) is None:
            raise StockOperationError(f"warehouse {opening.warehouse_id!r}: no such warehouse")
        skus = list(dict.fromkeys(opening.skus))
        if skus:
            known = set(session.scalars(select(Product.sku).where(Product.sku.in_(skus))))
            unknown = [sku for sku in skus if sku not in known]
            if unknown:
                raise StockOperationError("no such product: " + ", ".join(unknown))
        else:
            skus = list(
                session.scalars(
                    select(StockLevel.sku)
                    .where(StockLevel.warehouse_id == opening.warehouse_id)
                    .order_by(StockLevel.sku)
                )
            )
            if not skus:
                raise StockOperationError(
                    f"warehouse {opening.warehouse_id!r} keeps no stock yet; name the products"
                )
        problems = _already_counted(session, opening.warehouse_id, skus)
        if problems:
            raise StockOperationError(problems)
        stocktake = Stocktake(
            warehouse_id=opening.warehouse_id,
            status=StocktakeStatus.OPEN.value,
            approval_threshold=opening.approval_threshold,
            opened_by=opening.actor,
            opened_at=utcnow(),
        )
        session.add(stocktake)
        session.flush()
        session.add_all(
            StocktakeLine(stocktake_id=stocktake.id, sku=sku, warehouse_id=stocktake.warehouse_id)
            for sku in skus
        )
        session.flush()
        return _view(session, stocktake)


def record_count(
    db: Database, stocktake_id: int, counts: dict[str, int], actor: str
) -> StocktakeView:
    """Enter counted quantities (a recount replaces the earlier one and its approval)."""
    with db.transaction() as session:
        stocktake = _open(session, stocktake_id)
        lines = _lines_by_sku(session, stocktake_id)
        problems = [f"{sku}: not on this count" for sku in counts if sku not in lines]
        problems += [f"{sku}: counted {n}, fewer than none" for sku, n in counts.items() if n < 0]
        if problems:
            raise StockOperationError("; ".join(problems))
        now = utcnow()
        for sku, counted in counts.items():
            level = session.get(StockLevel, (sku, stocktake.warehouse_id))
            line = lines[sku]
            line.counted = counted
            line.book = 0 if level is None else level.on_hand
            line.counted_by = actor
            line.counted_at = now
            line.approved_by = None
            line.approved_at = None
        session.flush()
        return _view(session, stocktake)


def approve_variance(db: Database, stocktake_id: int, sku: str, actor: str) -> StocktakeView:
    """A supervisor accepts a counted line's variance; never the person who counted it."""
    with db.transaction() as session:
        stocktake = _open(session, stocktake_id)
        line = _lines_by_sku(session, stocktake_id).get(sku)
        if line is None:
            raise StockOperationError(f"{sku}: not on stocktake {stocktake_id}")
        if line.counted is None:
            raise StockOperationError(f"{sku}: not counted yet")
        if line.counted_by == actor:
            raise StockOperationError(
                f"{sku}: counted by {actor}; another person approves the variance"
            )
        line.approved_by = actor
        line.approved_at = utcnow()
        session.flush()
        return _view(session, stocktake)


def post_stocktake(db: Database, stocktake_id: int, actor: str) -> StocktakeView:
    """Write every variance as a ``stocktake`` movement and close the count, all or none.

    Refused, listing the lines, while any line is uncounted, any variance above the
    threshold is unapproved, or a variance would leave fewer units than orders hold.
    """
    with db.transaction() as session:
        stocktake = _open(session, stocktake_id)
        view = _view(session, stocktake)
        problems = view.posting_problems()
        if problems:
            raise StockOperationError("cannot post yet: " + "; ".join(problems))
        for line in view.lines:
            if not line.variance:
                continue
            ensure_stock_level(session, line.sku, stocktake.warehouse_id)
            if not change_stock(
                session,
                sku=line.sku,
                warehouse_id=stocktake.warehouse_id,
                kind=MovementKind.STOCKTAKE,
                on_hand_change=line.variance,
                reason=StockReason.STOCKTAKE.value,
                actor=actor,
                reference=stocktake_reference(stocktake_id),
            ):
                problems.append(_would_break(session, stocktake.warehouse_id, line))
        if problems:
            raise StockOperationError("cannot post: " + "; ".join(problems))
        _close(session, stocktake, StocktakeStatus.POSTED, actor)
        return _view(session, stocktake)


def cancel_stocktake(db: Database, stocktake_id: int, actor: str) -> StocktakeView:
    """Close a count without posting anything."""
    with db.transaction() as session:
        stocktake = _open(session, stocktake_id)
        _close(session, stocktake, StocktakeStatus.CANCELLED, actor)
        return _view(session, stocktake)


def stocktake_view(db: Database, stocktake_id: int) -> StocktakeView:
    """One count with its lines (the full view; :meth:`StocktakeView.blind` for counters)."""
    with db.reading() as session:
        stocktake = session.get(Stocktake, stocktake_id)
        if stocktake is None:
            raise StockOperationError(f"stocktake {stocktake_id}: no such stocktake")
        return _view(session, stocktake)


def stocktakes(db: Database) -> list[StocktakeView]:
    """Counts newest first, at most 100, each with its lines."""
    with db.reading() as session:
        rows = session.scalars(select(Stocktake).order_by(Stocktake.id.desc()).limit(100))
        return [_view(session, stocktake) for stocktake in rows]


def _open(session: Session, stocktake_id: int) -> Stocktake:
    stocktake = session.get(Stocktake, stocktake_id, with_for_update=True)
    if stocktake is None:
        raise StockOperationError(f"stocktake {stocktake_id}: no such stocktake")
    if stocktake.status != StocktakeStatus.OPEN.value:
        raise StockOperationError(
            f"stocktake {stocktake_id} is {stocktake.status} "
            f"(by {stocktake.closed_by} at {stocktake.closed_at:%Y-%m-%d %H:%M} UTC)"
        )
    return stocktake


def _close(session: Session, stocktake: Stocktake, status: StocktakeStatus, actor: str) -> None:
    """Close the count and its lines: its products may go on another count."""
    now = utcnow()
    stocktake.status = status.value
    stocktake.closed_by = actor
    stocktake.closed_at = now
    session.execute(
        update(StocktakeLine)
        .where(StocktakeLine.stocktake_id == stocktake.id)
        .values(closed_at=now)
    )
    session.flush()


def _already_counted(session: Session, warehouse_id: str, skus: list[str] | None) -> str:
    """What keeps these products (None: any) off a new count of the warehouse: the open
    counts they are on; empty when nothing does."""
    query = (
        select(StocktakeLine.sku, Stocktake)
        .join(Stocktake, Stocktake.id == StocktakeLine.stocktake_id)
        .where(StocktakeLine.warehouse_id == warehouse_id, StocktakeLine.closed_at.is_(None))
        .order_by(StocktakeLine.sku)
    )
    if skus is not None:
        query = query.where(StocktakeLine.sku.in_(skus))
    on_open_counts: dict[int, tuple[Stocktake, list[str]]] = {}
    for sku, stocktake in session.execute(query):
        on_open_counts.setdefault(stocktake.id, (stocktake, []))[1].append(sku)
    return "; ".join(
        f"{_listed(held)} in {warehouse_id} already on open stocktake {stocktake.id} "
        f"(opened by {stocktake.opened_by} at {stocktake.opened_at:%Y-%m-%d %H:%M} UTC): "
        "post or cancel it first, or leave these products out"
        for stocktake, held in on_open_counts.values()
    )


def _listed(skus: list[str], most: int = 10) -> str:
    shown = ", ".join(skus[:most])
    return shown if len(skus) <= most else f"{shown} and {len(skus) - most} more"


def _lines_by_sku(session: Session, stocktake_id: int) -> dict[str, StocktakeLine]:
    rows = session.scalars(select(StocktakeLine).where(StocktakeLine.stocktake_id == stocktake_id))
    return {line.sku: line for line in rows}


def _would_break(session: Session, warehouse_id: str, line: StocktakeLineView) -> str:
    level = session.get(StockLevel, (line.sku, warehouse_id))
    on_hand, reserved = (0, 0) if level is None else (level.on_hand, level.reserved)
    return (
        f"{line.sku}: variance {line.variance:+d} would leave {on_hand + (line.variance or 0)} "
        f"on hand, but orders hold {reserved}; recount it"
    )


def _view(session: Session, stocktake: Stocktake) -> StocktakeView:
    rows = session.execute(
        select(StocktakeLine, Product)
        .join(Product, Product.sku == StocktakeLine.sku)
        .where(StocktakeLine.stocktake_id == stocktake.id)
        .order_by(StocktakeLine.sku)
    )
    lines = []
    for line, product in rows:
        variance = None if line.counted is None else line.counted - (line.book or 0)
        value = None if variance is None else Decimal(variance) * product.cost
        lines.append(
            StocktakeLineView(
                sku=line.sku,
                name=product.name,
                unit=product.unit,
                counted=line.counted,
                counted_by=line.counted_by,
                book=line.book,
                variance=variance,
                variance_value=value,
                needs_approval=(
                    value is not None
                    and abs(value) > stocktake.approval_threshold
                    and line.approved_by is None
                ),
                approved_by=line.approved_by,
            )
        )
    return StocktakeView(
        id=stocktake.id,
        warehouse_id=stocktake.warehouse_id,
        status=StocktakeStatus(stocktake.status),
        approval_threshold=stocktake.approval_threshold,
        opened_by=stocktake.opened_by,
        opened_at=stocktake.opened_at,
        closed_by=stocktake.closed_by,
        closed_at=stocktake.closed_at,
        lines=lines,
    )
