"""survey links belong to one survey; notifier books

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-06 19:15:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""


def downgrade() -> None:
    """Revert this revision."""
