"""inventory: one open stocktake per product and warehouse

A product on an open count of a warehouse cannot be put on a second open count of it
(both would post the same variance): each stocktake line carries its count's warehouse
and when the count closed, under a unique index over the open lines.

Open counts that already overlap are not left to post twice: of the open counts holding
the same product in the same warehouse, the oldest stays open and the later ones are
cancelled, by "upgrade 0027" (their lines and counts stay readable).

Stock on its way to a warehouse that never held the product (a transfer in transit, an
open production, purchase or replenishment order) was shown as incoming nowhere: such a
warehouse gets the product's (empty) stock level, as sending and ordering now give it.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 19:15:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CANCELLED_BY = "upgrade 0027"
"""Who cancelled a count that overlapped an older open one (the stocktakes list says so)."""

_stocktakes = sa.table(
    "stocktakes",
    sa.column("id", sa.Integer()),
    sa.column("warehouse_id", sa.String()),
    sa.column("status", sa.String()),
    sa.column("closed_by", sa.String()),
    sa.column("closed_at", sa.DateTime(timezone=True)),
)
_lines = sa.table(
    "stocktake_lines",
    sa.column("stocktake_id", sa.Integer()),
    sa.column("sku", sa.String()),
    sa.column("warehouse_id", sa.String()),
    sa.column("closed_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("stocktake_lines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("warehouse_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    _cancel_overlapping_open_counts()
    _give_levels_to_warehouses_stock_is_coming_to()
    count = (
        sa.select(_stocktakes.c.warehouse_id)
        .where(_stocktakes.c.id == _lines.c.stocktake_id)
        .scalar_subquery()
    )
    closed = (
        sa.select(_stocktakes.c.closed_at)
        .where(_stocktakes.c.id == _lines.c.stocktake_id)
        .scalar_subquery()
    )
    op.execute(_lines.update().values(warehouse_id=count, closed_at=closed))
    with op.batch_alter_table("stocktake_lines", schema=None) as batch_op:
        batch_op.alter_column("warehouse_id", existing_type=sa.String(length=32), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_stocktake_lines_warehouse_id_warehouses"),
            "warehouses",
            ["warehouse_id"],
            ["id"],
        )
        batch_op.create_index(
            "uq_stocktake_lines_open",
            ["warehouse_id", "sku"],
            unique=True,
            sqlite_where=sa.text("closed_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL"),
        )


def _cancel_overlapping_open_counts() -> None:
    """Cancel every open count holding a product an older open count of its warehouse
    holds too (the older one was there first; posting both would post the variance twice)."""
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_stocktakes.c.id, _stocktakes.c.warehouse_id, _lines.c.sku)
        .join(_lines, _lines.c.stocktake_id == _stocktakes.c.id)
        .where(_stocktakes.c.status == "open")
        .order_by(_stocktakes.c.id)
    ).all()
    first: dict[tuple[str, str], int] = {}
    overlapping: dict[int, int] = {}
    for stocktake_id, warehouse_id, sku in rows:
        older = first.setdefault((warehouse_id, sku), stocktake_id)
        if older != stocktake_id and stocktake_id not in overlapping:
            overlapping[stocktake_id] = older
    now = datetime.now(UTC)
    if connection.dialect.name == "sqlite":  # stored as UTC without an offset there
        now = now.replace(tzinfo=None)
    for stocktake_id, older in overlapping.items():
        connection.execute(
            _stocktakes.update()
            .where(_stocktakes.c.id == stocktake_id)
            .values(
                status="cancelled",
                closed_by=f"{CANCELLED_BY}: overlaps stocktake {older}"[:64],
                closed_at=now,
            )
        )


def _give_levels_to_warehouses_stock_is_coming_to() -> None:
    """An empty stock level wherever stock is on its way and none is kept yet."""
    for coming in (
        "SELECT l.sku, t.to_warehouse_id AS warehouse_id FROM stock_transfer_lines l "
        "JOIN stock_transfers t ON t.id = l.transfer_id WHERE t.status = 'in_transit'",
        "SELECT sku, warehouse_id FROM supply_orders WHERE status = 'open'",
        "SELECT sku, warehouse_id FROM replenishment_orders WHERE status = 'open'",
    ):
        op.execute(
            "INSERT INTO stock_levels (sku, warehouse_id, on_hand, reserved) "
            f"SELECT DISTINCT c.sku, c.warehouse_id, 0, 0 FROM ({coming}) AS c "
            "WHERE NOT EXISTS (SELECT 1 FROM stock_levels s "
            "WHERE s.sku = c.sku AND s.warehouse_id = c.warehouse_id)"
        )


def downgrade() -> None:
    """Revert this revision (the counts it cancelled stay cancelled)."""
    with op.batch_alter_table("stocktake_lines", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_stocktake_lines_open",
            sqlite_where=sa.text("closed_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL"),
        )
        batch_op.drop_constraint(
            batch_op.f("fk_stocktake_lines_warehouse_id_warehouses"), type_="foreignkey"
        )
        batch_op.drop_column("closed_at")
        batch_op.drop_column("warehouse_id")
