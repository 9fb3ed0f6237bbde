"""complaint mail: original messages, stored attachments, reply de-duplication

Each message received for a complaint (the first one or a reply) is kept once per channel
and message key (``complaint_mail``, with an e-mail's original, encrypted); attachments are
stored by the SHA-256 of their content (``attachment_contents``, encrypted) and listed per
message (``complaint_attachments``).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 19:15:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "complaint_mail",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("message_key", sa.String(length=200), nullable=False),
        sa.Column("reply", sa.Boolean(), nullable=False),
        sa.Column("delivered", sa.Boolean(), nullable=False),
        sa.Column("handing_over_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("original", sa.LargeBinary(), nullable=True),
        sa.Column("cuts", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
            name=op.f("fk_complaint_mail_complaint_id_complaints"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_mail")),
        sa.UniqueConstraint("channel", "message_key", name=op.f("uq_complaint_mail_channel")),
    )
    op.create_index(
        op.f("ix_complaint_mail_complaint_id"), "complaint_mail", ["complaint_id"], unique=False
    )
    op.create_table(
        "attachment_contents",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_attachment_contents")),
    )
    op.create_table(
        "complaint_attachments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("mail_id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("media_type", sa.String(length=127), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaints.id"],
            name=op.f("fk_complaint_attachments_complaint_id_complaints"),
        ),
        sa.ForeignKeyConstraint(
            ["mail_id"],
            ["complaint_mail.id"],
            name=op.f("fk_complaint_attachments_mail_id_complaint_mail"),
        ),
        sa.ForeignKeyConstraint(
            ["sha256"],
            ["attachment_contents.sha256"],
            name=op.f("fk_complaint_attachments_sha256_attachment_contents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_attachments")),
    )
    op.create_index(
        op.f("ix_complaint_attachments_complaint_id"),
        "complaint_attachments",
        ["complaint_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_complaint_attachments_mail_id"), "complaint_attachments", ["mail_id"], unique=False
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("complaint_attachments")
    op.drop_table("attachment_contents")
    op.drop_table("complaint_mail")
