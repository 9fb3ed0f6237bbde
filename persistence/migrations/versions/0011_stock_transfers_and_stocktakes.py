"""stock transfers (in transit between warehouses) and stocktakes (blind counts)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 17:08:51.498479
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision: transfers with their lines, counts with theirs."""
    op.create_table(
        "stock_transfers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("from_warehouse_id", sa.String(length=32), nullable=False),
        sa.Column("to_warehouse_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=64), server_default="", nullable=False),
        sa.Column("dispatched_by", sa.String(length=64), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_by", sa.String(length=64), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["from_warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_stock_transfers_from_warehouse_id_warehouses"),
        ),
        sa.ForeignKeyConstraint(
            ["to_warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_stock_transfers_to_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_transfers")),
    )
    with op.batch_alter_table("stock_transfers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stock_transfers_status"), ["status"], unique=False)

    op.create_table(
        "stocktakes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("warehouse_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("approval_threshold", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("opened_by", sa.String(length=64), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["warehouse_id"], ["warehouses.id"], name=op.f("fk_stocktakes_warehouse_id_warehouses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stocktakes")),
    )
    with op.batch_alter_table("stocktakes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stocktakes_status"), ["status"], unique=False)

    op.create_table(
        "stock_transfer_lines",
        sa.Column("transfer_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sku"], ["products.sku"], name=op.f("fk_stock_transfer_lines_sku_products")
        ),
        sa.ForeignKeyConstraint(
            ["transfer_id"],
            ["stock_transfers.id"],
            name=op.f("fk_stock_transfer_lines_transfer_id_stock_transfers"),
        ),
        sa.PrimaryKeyConstraint("transfer_id", "sku", name=op.f("pk_stock_transfer_lines")),
    )
    op.create_table(
        "stocktake_lines",
        sa.Column("stocktake_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("counted", sa.Integer(), nullable=True),
        sa.Column("book", sa.Integer(), nullable=True),
        sa.Column("counted_by", sa.String(length=64), nullable=True),
        sa.Column("counted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["sku"], ["products.sku"], name=op.f("fk_stocktake_lines_sku_products")
        ),
        sa.ForeignKeyConstraint(
            ["stocktake_id"],
            ["stocktakes.id"],
            name=op.f("fk_stocktake_lines_stocktake_id_stocktakes"),
        ),
        sa.PrimaryKeyConstraint("stocktake_id", "sku", name=op.f("pk_stocktake_lines")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("stocktake_lines")
    op.drop_table("stock_transfer_lines")
    with op.batch_alter_table("stocktakes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stocktakes_status"))

    op.drop_table("stocktakes")
    with op.batch_alter_table("stock_transfers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stock_transfers_status"))

    op.drop_table("stock_transfers")
