"""personal data encrypted at rest

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 16:35:30.487312
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


COLUMNS = {
    "customers": {"name": 200, "email": 200},
    "orders": {
        "payment_token": 128,
        "ship_to_name": 200,
        "ship_to_street": 200,
        "ship_to_postal_code": 20,
        "ship_to_city": 200,
    },
}
"""Personal data columns and their former lengths: ciphertext needs unbounded text."""


def upgrade() -> None:
    """Apply this revision: existing plaintext stays readable and is encrypted when rewritten."""
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for column, length in columns.items():
                batch.alter_column(column, existing_type=sa.String(length), type_=sa.Text())


def downgrade() -> None:
    """Revert this revision (fails where an encrypted value no longer fits the old length)."""
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for column, length in columns.items():
                batch.alter_column(column, existing_type=sa.Text(), type_=sa.String(length))
