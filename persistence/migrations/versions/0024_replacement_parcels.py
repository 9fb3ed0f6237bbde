"""replacement parcels: a complaint's re-shipped items (contents of their own, the complaint)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 14:48:03.408406
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contents", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("complaint_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_shipments_complaint_id_complaints"),
            "complaints",
            ["complaint_id"],
            ["id"],
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("shipments", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_shipments_complaint_id_complaints"), type_="foreignkey"
        )
        batch_op.drop_column("complaint_id")
        batch_op.drop_column("contents")
