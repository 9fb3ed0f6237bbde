"""complaints: cases, their events, root causes, improvement actions, goodwill credits;
credit notes may cover part of an invoice (a complaint's refund)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 13:27:35.815724
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "complaint_root_causes",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_complaint_root_causes")),
    )
    op.bulk_insert(
        sa.table(
            "complaint_root_causes",
            sa.column("code", sa.String),
            sa.column("label", sa.String),
            sa.column("active", sa.Boolean),
        ),
        [
            {"code": code, "label": label, "active": True}
            for code, label in (
                ("carrier_delay", "Carrier delivered late"),
                ("carrier_damage", "Damaged in transit"),
                ("packing_error", "Packed wrong or incomplete"),
                ("stock_shortage", "Out of stock, shipped late"),
                ("product_defect", "Product defect"),
                ("billing_error", "Invoice or payment error"),
                ("staff_conduct", "Service or staff conduct"),
                ("customer_expectation", "Expectation not met (no fault)"),
            )
        ],
    )
    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=True),
        sa.Column("customer_id", sa.String(length=64), nullable=True),
        sa.Column("order_id", sa.String(length=64), nullable=True),
        sa.Column("parcel_id", sa.String(length=64), nullable=True),
        sa.Column("category", sa.String(length=24), nullable=False),
        sa.Column("suggested_category", sa.String(length=24), nullable=False),
        sa.Column("priority", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("from_address", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("taken_by", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("sla_breached", sa.Boolean(), nullable=False),
        sa.Column("case", sa.JSON(), nullable=False),
        sa.Column("root_cause", sa.String(length=64), nullable=True),
        sa.Column("remedy_cost", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("survey_score", sa.Integer(), nullable=True),
        sa.Column("survey_comment", sa.Text(), nullable=False),
        sa.Column("reopened", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_complaints_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_complaints_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
        sa.UniqueConstraint("channel", "message_id", name=op.f("uq_complaints_channel")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_complaints_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_complaints_order_id"), ["order_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_complaints_received_at"), ["received_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_complaints_status"), ["status"], unique=False)
        batch_op.create_index("ix_complaints_status_owner", ["status", "owner"], unique=False)

    op.create_table(
        "improvement_actions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("root_cause", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["root_cause"],
            ["complaint_root_causes.code"],
            name=op.f("fk_improvement_actions_root_cause_complaint_root_causes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_improvement_actions")),
    )
    op.create_table(
        "complaint_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("key", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
            name=op.f("fk_complaint_events_complaint_id_complaints"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_events")),
        sa.UniqueConstraint("key", name=op.f("uq_complaint_events_key")),
    )
    with op.batch_alter_table("complaint_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_complaint_events_complaint_id"), ["complaint_id"], unique=False
        )

    op.create_table(
        "goodwill_credits",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("series", sa.String(length=8), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
            name=op.f("fk_goodwill_credits_complaint_id_complaints"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_goodwill_credits_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goodwill_credits")),
        sa.UniqueConstraint("number", name=op.f("uq_goodwill_credits_number")),
        sa.UniqueConstraint("series", "year", "sequence", name=op.f("uq_goodwill_credits_series")),
    )
    with op.batch_alter_table("goodwill_credits", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_goodwill_credits_complaint_id"), ["complaint_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_goodwill_credits_customer_id"), ["customer_id"], unique=False
        )

    with op.batch_alter_table("credit_notes", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_credit_notes_invoice_id"), type_="unique")
        batch_op.create_index(
            batch_op.f("ix_credit_notes_invoice_id"), ["invoice_id"], unique=False
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("credit_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_notes_invoice_id"))
        batch_op.create_unique_constraint(batch_op.f("uq_credit_notes_invoice_id"), ["invoice_id"])

    with op.batch_alter_table("goodwill_credits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_goodwill_credits_customer_id"))
        batch_op.drop_index(batch_op.f("ix_goodwill_credits_complaint_id"))

    op.drop_table("goodwill_credits")
    with op.batch_alter_table("complaint_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaint_events_complaint_id"))

    op.drop_table("complaint_events")
    op.drop_table("improvement_actions")
    with op.batch_alter_table("complaints", schema=None) as batch_op:
        batch_op.drop_index("ix_complaints_status_owner")
        batch_op.drop_index(batch_op.f("ix_complaints_status"))
        batch_op.drop_index(batch_op.f("ix_complaints_received_at"))
        batch_op.drop_index(batch_op.f("ix_complaints_order_id"))
        batch_op.drop_index(batch_op.f("ix_complaints_customer_id"))

    op.drop_table("complaints")
    op.drop_table("complaint_root_causes")
