"""the notifications record encrypted at rest

Every message sent to a customer is kept in the notifications record (the outbox): order
messages, dunning, complaint replies and survey links, campaign messages. Their text
names and addresses the customer, and their subjects are free text too (a campaign's
subject is what its author typed, a complaint's subject carries the case number): both
columns become encrypted text (the subject is no longer limited to 200 characters, as
its ciphertext is longer), and the values already there are encrypted with the key ring
(the configured one, else the one the settings name, as every ``oms`` command loads it).

The downgrade writes them back in plain; a subject longer than 200 characters, which
only this revision allows, is cut to 200.

Revision ID: 0028
Revises: 0027
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

revision: str = "0028"
down_revision: str | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "notifications"
BATCH = 1000
"""Rows read and rewritten at a time."""


def upgrade() -> None:
    """Apply this revision: the subject becomes text, every subject and message encrypted."""
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.alter_column(
            "subject", existing_type=sa.String(length=200), type_=sa.Text(), existing_nullable=False
        )
    _rewrite(op.get_bind(), encrypt=True)


def downgrade() -> None:
    """Revert this revision: every subject and message decrypted, the subject 200
    characters at most again."""
    _rewrite(op.get_bind(), encrypt=False)
    notifications = sa.table(TABLE, sa.column("subject", sa.Text()))
    op.execute(
        notifications.update()
        .where(sa.func.length(notifications.c.subject) > 200)
        .values(subject=sa.func.substr(notifications.c.subject, 1, 200))
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        batch_op.alter_column(
            "subject", existing_type=sa.Text(), type_=sa.String(length=200), existing_nullable=False
        )


def _rewrite(bind: sa.Connection, *, encrypt: bool) -> None:
    """Encrypt (or decrypt) every subject and message that is not so yet, in batches."""
    rows = sa.table(
        TABLE, sa.column("id", sa.Integer()), sa.column("subject"), sa.column("message")
    )
    rewrite = encrypt_stored if encrypt else decrypt_stored
    last = 0
    while True:
        batch = bind.execute(
            sa.select(rows.c.id, rows.c.subject, rows.c.message)
            .where(rows.c.id > last)
            .order_by(rows.c.id)
            .limit(BATCH)
        ).all()
        if not batch:
            return
        last = batch[-1].id
        todo = [
            row
            for row in batch
            if any(value and is_encrypted(value) != encrypt for value in (row.subject, row.message))
        ]
        if not todo:
            continue
        if not key_ring_configured():
            # `oms db upgrade` and the commands that migrate first run before the key ring
            # is loaded: load it the way they all do.
            from runtime.settings import Settings

            use_key_ring(Settings().load_key_ring())
        bind.execute(
            rows.update()
            .where(rows.c.id == sa.bindparam("ident"))
            .values(subject=sa.bindparam("new_subject"), message=sa.bindparam("new_message")),
            [
                {
                    "ident": row.id,
                    "new_subject": rewrite(row.subject) if row.subject else row.subject,
                    "new_message": rewrite(row.message) if row.message else row.message,
                }
                for row in todo
            ],
        )
