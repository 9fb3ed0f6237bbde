"""credit evaluation: scores on customers, proposals for a person with credit authority

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 07:54:08.197829
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "credit_proposals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("current_limit", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("current_standing", sa.String(length=16), nullable=False),
        sa.Column("suggested_limit", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("suggested_standing", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("final_limit", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("final_standing", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_credit_proposals_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_proposals")),
    )
    with op.batch_alter_table("credit_proposals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credit_proposals_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index("ix_credit_proposals_status", ["status"], unique=False)

    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("credit_score", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("credit_scored_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("credit_reasons", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("credit_reasons")
        batch_op.drop_column("credit_scored_at")
        batch_op.drop_column("credit_score")

    with op.batch_alter_table("credit_proposals", schema=None) as batch_op:
        batch_op.drop_index("ix_credit_proposals_status")
        batch_op.drop_index(batch_op.f("ix_credit_proposals_customer_id"))

    op.drop_table("credit_proposals")
