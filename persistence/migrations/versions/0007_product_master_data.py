"""product master data: unit, cost, pack multiple, supplier, category

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 15:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision: what inventory management needs to know of a product."""
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("unit", sa.String(length=16), server_default="pcs", nullable=False)
        )
        batch_op.add_column(
            sa.Column("cost", sa.Numeric(precision=18, scale=2), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("pack_multiple", sa.Integer(), server_default="1", nullable=False)
        )
        batch_op.add_column(
            sa.Column("supplier", sa.String(length=64), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("category", sa.String(length=64), server_default="", nullable=False)
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("products", schema=None) as batch_op:
        for column in ("category", "supplier", "pack_multiple", "cost", "unit"):
            batch_op.drop_column(column)
