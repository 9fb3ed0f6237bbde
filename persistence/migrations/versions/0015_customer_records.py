"""customer records: contacts, addresses, preferences, marketing consent, tags, notes;
the change audit

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 07:41:33.995533
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision: existing customers keep their values; the new fields are empty
    (no consent, contact by e-mail, English)."""
    op.create_table(
        "customer_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=False),
        sa.Column("new_value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_changes_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_changes")),
    )
    with op.batch_alter_table("customer_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customer_changes_customer_id"), ["customer_id"], unique=False
        )

    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=8), server_default="company", nullable=False)
        )
        batch_op.add_column(sa.Column("phone", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(
            sa.Column("contact_person", sa.Text(), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("billing_street", sa.Text(), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("billing_postal_code", sa.Text(), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("billing_city", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(
            sa.Column("billing_country", sa.String(length=2), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("shipping_street", sa.Text(), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("shipping_postal_code", sa.Text(), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("shipping_city", sa.Text(), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("shipping_country", sa.String(length=2), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("preferred_channel", sa.String(length=8), nullable=True))
        batch_op.add_column(
            sa.Column("language", sa.String(length=16), server_default="en", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "contact_by_email", sa.Boolean(), server_default=sa.text("(true)"), nullable=False
            )
        )
        batch_op.add_column(
            sa.Column(
                "contact_by_phone", sa.Boolean(), server_default=sa.text("(false)"), nullable=False
            )
        )
        batch_op.add_column(
            sa.Column(
                "marketing_consent", sa.Boolean(), server_default=sa.text("(false)"), nullable=False
            )
        )
        batch_op.add_column(
            sa.Column("consent_source", sa.String(length=100), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("consent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("tags", sa.String(length=500), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("notes", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("created_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
        batch_op.drop_column("created_at")
        batch_op.drop_column("notes")
        batch_op.drop_column("tags")
        batch_op.drop_column("consent_at")
        batch_op.drop_column("consent_source")
        batch_op.drop_column("marketing_consent")
        batch_op.drop_column("contact_by_phone")
        batch_op.drop_column("contact_by_email")
        batch_op.drop_column("language")
        batch_op.drop_column("preferred_channel")
        batch_op.drop_column("shipping_country")
        batch_op.drop_column("shipping_city")
        batch_op.drop_column("shipping_postal_code")
        batch_op.drop_column("shipping_street")
        batch_op.drop_column("billing_country")
        batch_op.drop_column("billing_city")
        batch_op.drop_column("billing_postal_code")
        batch_op.drop_column("billing_street")
        batch_op.drop_column("contact_person")
        batch_op.drop_column("phone")
        batch_op.drop_column("kind")

    with op.batch_alter_table("customer_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_changes_customer_id"))

    op.drop_table("customer_changes")
