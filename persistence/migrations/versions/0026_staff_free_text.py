"""staff free text about customers encrypted at rest

What staff write about a customer is personal data: order events' details (a cancel
or approval reason), an order's rejection reasons, care tasks' outcomes, goodwill
credits' and credit notes' reasons, credit proposals' notes and a complaint's case
record (its remedies' reasons). Their columns become encrypted text, and the values
already there are encrypted with the key ring (the configured one, else the one the
settings name, as every ``oms`` command loads it).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 19:15:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from persistence.encrypted import (
    decrypt_stored,
    encrypt_stored,
    is_encrypted,
    key_ring_configured,
    use_key_ring,
)

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_COLUMNS = {"orders": ("id", "rejection_reasons"), "complaints": ("id", "case")}
"""JSON documents that become encrypted text (the key column first)."""
TEXT_COLUMNS = {
    "order_events": ("id", "detail"),
    "care_tasks": ("id", "outcome"),
    "goodwill_credits": ("id", "reason"),
    "credit_notes": ("id", "reason"),
    "credit_proposals": ("id", "note"),
}
"""Text columns that become encrypted (their type stays text)."""
BATCH = 1000
"""Rows read and rewritten at a time."""


def upgrade() -> None:
    """Apply this revision: the JSON columns become text, every value is encrypted."""
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # SQLite keeps JSON as text already; PostgreSQL's json type would refuse ciphertext.
        for table, (_key, column) in JSON_COLUMNS.items():
            op.alter_column(
                table,
                column,
                existing_type=sa.JSON(),
                type_=sa.Text(),
                postgresql_using=f'"{column}"::text',
            )
    for table, (key, column) in {**JSON_COLUMNS, **TEXT_COLUMNS}.items():
        _rewrite_column(bind, table, key, column, encrypt=True)


def _rewrite_column(
    bind: sa.Connection, table: str, key: str, column: str, *, encrypt: bool
) -> None:
    """Encrypt (or decrypt) every value of ``table.column`` that is not so yet, in batches."""
    rows = sa.table(table, sa.column(key), sa.column(column, sa.Text()))
    last: object = None
    while True:
        query = sa.select(rows.c[key], rows.c[column]).order_by(rows.c[key]).limit(BATCH)
        if last is not None:
            query = query.where(rows.c[key] > last)
        batch = bind.execute(query).all()
        if not batch:
            return
        last = batch[-1][0]
        todo = [
            (ident, value) for ident, value in batch if value and is_encrypted(value) != encrypt
        ]
        if not todo:
            continue
        if not key_ring_configured():
            # `oms db upgrade` and the commands that migrate first run before the key ring
            # is loaded: load it the way they all do.
            from runtime.settings import Settings

            use_key_ring(Settings().load_key_ring())
        rewrite = encrypt_stored if encrypt else decrypt_stored
        bind.execute(
            rows.update()
            .where(rows.c[key] == sa.bindparam("ident"))
            .values({column: sa.bindparam("rewritten")}),
            [{"ident": ident, "rewritten": rewrite(value)} for ident, value in todo],
        )


def downgrade() -> None:
    """Revert this revision: every value decrypted, the JSON columns JSON again."""
    bind = op.get_bind()
    for table, (key, column) in {**JSON_COLUMNS, **TEXT_COLUMNS}.items():
        _rewrite_column(bind, table, key, column, encrypt=False)
    if bind.dialect.name == "postgresql":
        for table, (_key, column) in JSON_COLUMNS.items():
            op.alter_column(
                table,
                column,
                existing_type=sa.Text(),
                type_=sa.JSON(),
                postgresql_using=f'"{column}"::json',
            )
