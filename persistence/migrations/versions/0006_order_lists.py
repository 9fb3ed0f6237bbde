"""order lists: when an order took its status, and indexes for lists and lookups

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 14:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision: ``orders.status_since`` (existing orders: their last change)
    and the indexes the order lists sort and filter by."""
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_orders_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_orders_updated_at"), ["updated_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_orders_customer_reference"), ["customer_reference"], unique=False
        )
        batch_op.create_index("ix_orders_status_updated_at", ["status", "updated_at"], unique=False)
        # A customer's open orders (the credit review's exposure) without reading the rest.
        batch_op.drop_index("ix_orders_customer_id")
        batch_op.create_index(
            "ix_orders_customer_id_status", ["customer_id", "status"], unique=False
        )
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        # A customer's open invoices (the credit review's exposure) without the paid ones.
        batch_op.drop_index("ix_invoices_customer_id")
        batch_op.create_index(
            "ix_invoices_customer_id_status", ["customer_id", "status"], unique=False
        )
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        # A parcel's reservations, read at every pick-up.
        batch_op.create_index(
            batch_op.f("ix_reservations_shipment_id"), ["shipment_id"], unique=False
        )
    op.execute("UPDATE orders SET status_since = updated_at")


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reservations_shipment_id"))
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index("ix_invoices_customer_id_status")
        batch_op.create_index("ix_invoices_customer_id", ["customer_id"], unique=False)
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_customer_id_status")
        batch_op.create_index("ix_orders_customer_id", ["customer_id"], unique=False)
        batch_op.drop_index("ix_orders_status_updated_at")
        batch_op.drop_index(batch_op.f("ix_orders_customer_reference"))
        batch_op.drop_index(batch_op.f("ix_orders_updated_at"))
        batch_op.drop_index(batch_op.f("ix_orders_created_at"))
        batch_op.drop_column("status_since")
