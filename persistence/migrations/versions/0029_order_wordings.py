"""order texts kept as wordings, read in each reader's language

An order's audit event keeps its text for people as a wording (catalogue message and
arguments, JSON) beside the English ``detail``: ``order_events.wording``, encrypted as
``detail`` is (a staff reason can be among its arguments). The order row keeps why it
needs attention and why its stock was taken from where it was the same way
(``orders.needs_attention_wording``, ``orders.allocation_wording``). Rows written before
have none and are shown by their English text.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06 22:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision: three nullable text columns (nothing to fill in)."""
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wording", sa.Text(), nullable=True))
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("needs_attention_wording", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("allocation_wording", sa.Text(), nullable=True))


def downgrade() -> None:
    """Revert this revision: the columns go (the English texts stay)."""
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("allocation_wording")
        batch_op.drop_column("needs_attention_wording")
    with op.batch_alter_table("order_events", schema=None) as batch_op:
        batch_op.drop_column("wording")
