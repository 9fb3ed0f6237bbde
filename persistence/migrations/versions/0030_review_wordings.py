"""(reserved: filled in by the change that needs it)

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06 22:30:00.000000
"""

from __future__ import annotations

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
