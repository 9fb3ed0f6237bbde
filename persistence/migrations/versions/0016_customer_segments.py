"""customer segments: RFM scores, segment and ABC class, and their history

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 07:49:19.125854
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "customer_segment_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("segment", sa.String(length=20), nullable=False),
        sa.Column("previous_segment", sa.String(length=20), nullable=True),
        sa.Column("abc", sa.String(length=1), nullable=False),
        sa.Column("previous_abc", sa.String(length=1), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_segment_history_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_segment_history")),
    )
    with op.batch_alter_table("customer_segment_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customer_segment_history_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "customer_segments",
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("segment", sa.String(length=20), nullable=False),
        sa.Column("abc", sa.String(length=1), nullable=False),
        sa.Column("recency", sa.Integer(), nullable=False),
        sa.Column("frequency", sa.Integer(), nullable=False),
        sa.Column("monetary", sa.Integer(), nullable=False),
        sa.Column("recency_days", sa.Integer(), nullable=True),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("spend", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_segments_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_segments")),
    )
    with op.batch_alter_table("customer_segments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customer_segments_segment"), ["segment"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("customer_segments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_segments_segment"))

    op.drop_table("customer_segments")
    with op.batch_alter_table("customer_segment_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_segment_history_customer_id"))

    op.drop_table("customer_segment_history")
