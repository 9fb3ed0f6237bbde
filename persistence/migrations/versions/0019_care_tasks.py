"""customer care tasks

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 08:01:57.134993
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "care_tasks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_by", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_care_tasks_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_tasks")),
    )
    with op.batch_alter_table("care_tasks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_care_tasks_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index("ix_care_tasks_status_owner", ["status", "owner"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("care_tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_care_tasks_status_owner")
        batch_op.drop_index(batch_op.f("ix_care_tasks_customer_id"))

    op.drop_table("care_tasks")
