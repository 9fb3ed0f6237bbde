"""stock operations: each ledger row says why, who and on what paper

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 16:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision: reason, actor and reference on every stock movement."""
    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reason", sa.String(length=32), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("actor", sa.String(length=64), server_default="system", nullable=False)
        )
        batch_op.add_column(
            sa.Column("reference", sa.String(length=64), server_default="", nullable=False)
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("stock_movements", schema=None) as batch_op:
        for column in ("reference", "actor", "reason"):
            batch_op.drop_column(column)
