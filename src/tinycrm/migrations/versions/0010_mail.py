"""email: the messages `mail import` logged, their interactions, and IMAP folder state

`tinycrm mail import` (#19) turns each email into one `email` interaction per matched
contact. Three new tables, nothing else touched (no table is rebuilt); each gets the
change journal's triggers (0009), so `undo` takes an import back whole:

- `mail_messages`: one row per imported message, by `message_key` (the Message-ID, or a
  hash of the headers), unique, so re-importing skips it; `thread_key` groups replies.
- `mail_links`: which interactions a message became (deleted with them).
- `mail_folders`: per IMAP account and folder, the UIDVALIDITY and the last UID read, so
  cron runs fetch only new mail.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 23:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tinycrm.store import journal

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_key", sa.String(), nullable=False),
        sa.Column("thread_key", sa.String(), nullable=False),
        sa.Column("direction", sa.String(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_key"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_mail_messages_thread_key", "mail_messages", ["thread_key"], unique=False)
    op.create_table(
        "mail_links",
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("interaction_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["mail_messages.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["interaction_id"], ["interactions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("message_id", "interaction_id"),
    )
    op.create_index("ix_mail_links_interaction_id", "mail_links", ["interaction_id"], unique=False)
    op.create_table(
        "mail_folders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(), nullable=False),
        sa.Column("folder", sa.String(), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("last_uid", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account", "folder"),
        sqlite_autoincrement=True,
    )
    journal.install(op.get_bind(), ("mail_messages", "mail_links", "mail_folders"))


def downgrade() -> None:
    op.drop_table("mail_folders")
    op.drop_index("ix_mail_links_interaction_id", table_name="mail_links")
    op.drop_table("mail_links")
    op.drop_index("ix_mail_messages_thread_key", table_name="mail_messages")
    op.drop_table("mail_messages")
