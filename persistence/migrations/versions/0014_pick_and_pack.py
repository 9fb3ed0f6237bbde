"""pick and pack: warehouses that confirm parcels packed before the carrier is booked

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 17:53:43.712816
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision: the warehouses' packing setting (off: book at once, as before)."""
    with op.batch_alter_table("warehouses", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "confirm_packing", sa.Boolean(), server_default=sa.text("(false)"), nullable=False
            )
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("warehouses", schema=None) as batch_op:
        batch_op.drop_column("confirm_packing")
