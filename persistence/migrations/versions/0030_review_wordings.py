"""Review wordings: what the nightly reviews write for people, kept as catalogue messages
and their arguments beside the English text (a credit score's reasons on the customer and
on its proposal, a replenishment proposal's reason, a stock alert's detail), so the console
shows them in the reader's language. Nullable: rows written before keep their English text.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06 22:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

COLUMNS = (
    ("customers", "credit_wordings"),
    ("credit_proposals", "wordings"),
    ("replenishment_proposals", "reason_wordings"),
    ("stock_alerts", "detail_wording"),
)
"""(table, column): each a JSON wording, or a JSON list of them."""


def upgrade() -> None:
    """Apply this revision."""
    for table, column in COLUMNS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(column, sa.JSON(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    for table, column in reversed(COLUMNS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(column)
