"""complaint analyses: the weekly analysis of each week, kept

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 13:58:16.254824
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "complaint_analyses",
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("produced_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("week_start", name=op.f("pk_complaint_analyses")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("complaint_analyses")
