"""replenishment: proposals, orders for stock, forecasts; automatic stock policies

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 17:31:05.286927
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision: what the inventory review proposes, orders and forecasts."""
    op.create_table(
        "demand_forecasts",
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("warehouse_id", sa.String(length=32), nullable=False),
        sa.Column("method", sa.String(length=24), nullable=False),
        sa.Column("intermittent", sa.Boolean(), nullable=False),
        sa.Column("daily_mean", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("mase", sa.Double(), nullable=True),
        sa.Column("wape", sa.Double(), nullable=True),
        sa.Column("naive_mase", sa.Double(), nullable=True),
        sa.Column("naive_wape", sa.Double(), nullable=True),
        sa.Column("backtest_units", sa.Double(), nullable=False),
        sa.Column("backtest_abs_error", sa.Double(), nullable=False),
        sa.Column("naive_abs_error", sa.Double(), nullable=False),
        sa.Column("safety_stock", sa.Integer(), nullable=False),
        sa.Column("stockout_on", sa.Date(), nullable=True),
        sa.Column("overstock_units", sa.Integer(), nullable=False),
        sa.Column("forecast", sa.JSON(), nullable=False),
        sa.Column("projection", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["sku"], ["products.sku"], name=op.f("fk_demand_forecasts_sku_products")
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_demand_forecasts_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("sku", "warehouse_id", name=op.f("pk_demand_forecasts")),
    )
    op.create_table(
        "replenishment_proposals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("warehouse_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("proposed_quantity", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=400), nullable=False),
        sa.Column("stockout_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.String(length=400), server_default="", nullable=False),
        sa.Column("workflow_id", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(
            ["sku"], ["products.sku"], name=op.f("fk_replenishment_proposals_sku_products")
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_replenishment_proposals_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replenishment_proposals")),
    )
    with op.batch_alter_table("replenishment_proposals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_replenishment_proposals_status"), ["status"], unique=False
        )
        batch_op.create_index(
            "uq_replenishment_proposals_open",
            ["sku", "warehouse_id"],
            unique=True,
            sqlite_where=sa.text("status = 'proposed'"),
            postgresql_where=sa.text("status = 'proposed'"),
        )

    op.create_table(
        "replenishment_orders",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("partner", sa.String(length=40), nullable=False),
        sa.Column("partner_reference", sa.String(length=80), nullable=False),
        sa.Column("warehouse_id", sa.String(length=32), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("received_quantity", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["replenishment_proposals.id"],
            name=op.f("fk_replenishment_orders_proposal_id_replenishment_proposals"),
        ),
        sa.ForeignKeyConstraint(
            ["sku"], ["products.sku"], name=op.f("fk_replenishment_orders_sku_products")
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_replenishment_orders_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replenishment_orders")),
        sa.UniqueConstraint("proposal_id", name=op.f("uq_replenishment_orders_proposal_id")),
    )
    with op.batch_alter_table("replenishment_orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_replenishment_orders_status"), ["status"], unique=False
        )

    with op.batch_alter_table("stock_policies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("automatic", sa.Boolean(), server_default=sa.text("(false)"), nullable=False)
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("stock_policies", schema=None) as batch_op:
        batch_op.drop_column("automatic")

    with op.batch_alter_table("replenishment_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_replenishment_orders_status"))

    op.drop_table("replenishment_orders")
    with op.batch_alter_table("replenishment_proposals", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_replenishment_proposals_open",
            sqlite_where=sa.text("status = 'proposed'"),
            postgresql_where=sa.text("status = 'proposed'"),
        )
        batch_op.drop_index(batch_op.f("ix_replenishment_proposals_status"))

    op.drop_table("replenishment_proposals")
    op.drop_table("demand_forecasts")
