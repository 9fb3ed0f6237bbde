"""Complaint history and care task reasons kept as wordings, read in each reader's language

A complaint event the system wrote keeps its detail as a wording (message and arguments,
see domain.wording) beside the English detail; it quotes what the customer wrote (the
subject), so it is encrypted like the detail (EncryptedJSON: text in the database). A
care task keeps its reason as a wording beside the English reason (plain, as the
reason is). Older rows have none and show their text.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-06 22:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("complaint_events") as table:
        table.add_column(sa.Column("wording", sa.Text(), nullable=True))
    with op.batch_alter_table("care_tasks") as table:
        table.add_column(sa.Column("reason_wording", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("care_tasks") as table:
        table.drop_column("reason_wording")
    with op.batch_alter_table("complaint_events") as table:
        table.drop_column("wording")
