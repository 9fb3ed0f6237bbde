"""inventory: one open stocktake per product and warehouse, transfer request fingerprints

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-06 19:15:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""


def downgrade() -> None:
    """Revert this revision."""
