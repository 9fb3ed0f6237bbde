"""the orders that need a person, indexed on their own

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 15:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision: a partial index of the orders whose ``needs_attention`` is set
    (the console's list of them read the whole table with 100,000 orders)."""
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_orders_needing_attention",
            ["updated_at"],
            unique=False,
            sqlite_where=sa.text("needs_attention IS NOT NULL"),
            postgresql_where=sa.text("needs_attention IS NOT NULL"),
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_needing_attention")
