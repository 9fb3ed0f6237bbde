"""stock policies: reorder point, minimum, maximum, safety stock per product and warehouse

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 15:55:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision: how much of each product each warehouse keeps."""
    op.create_table(
        "stock_policies",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("warehouse_id", sa.String(length=32), nullable=False),
        sa.Column("reorder_point", sa.Integer(), nullable=False),
        sa.Column("minimum", sa.Integer(), nullable=False),
        sa.Column("maximum", sa.Integer(), nullable=False),
        sa.Column("safety_stock", sa.Integer(), nullable=False),
        sa.Column("service_level", sa.Numeric(precision=5, scale=4), nullable=True),
        sa.ForeignKeyConstraint(
            ["sku"], ["products.sku"], name=op.f("fk_stock_policies_sku_products")
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_stock_policies_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("sku", "warehouse_id", name=op.f("pk_stock_policies")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("stock_policies")
