"""duplicates, privacy and the audit log

- `contact_methods.match_key`: the loose key duplicates are found by (tinycrm.identity:
  plus-addressing and Gmail dots for emails, E.164 for phones), indexed by kind, and
  filled in here for every existing email and phone.
- contacts get a birthday (vCard BDAY), consent (what and when) and `opted_out_at`.
- `merges` (what `merge --undo` needs), `erasures` (that a `forget` happened, nothing
  more) and `audit_log` (who changed what, old and new: `tinycrm history`).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 14:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("birthday", sa.Date(), nullable=True))
        batch.add_column(sa.Column("consent", sa.String(), nullable=True))
        batch.add_column(sa.Column("consent_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("opted_out_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("contact_methods") as batch:
        batch.add_column(sa.Column("match_key", sa.String(), nullable=True))
        batch.create_index("ix_contact_methods_kind_match", ["kind", "match_key"], unique=False)
    op.create_table(
        "merges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kept_id", sa.Integer(), nullable=False),
        sa.Column("removed_id", sa.Integer(), nullable=False),
        sa.Column("snapshot", sa.Text(), nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["kept_id"], ["contacts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_merges_kept_id", "merges", ["kept_id"], unique=False)
    op.create_table(
        "erasures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("entity", sa.String(), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("changes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_log_entity", "audit_log", ["entity", "entity_id", "id"], unique=False)
    _fill_match_keys(op.get_bind())


def _region() -> str | None:
    from tinycrm import config
    from tinycrm.errors import InvalidInput

    try:
        return config.phone_region(config.load_settings())
    except InvalidInput:
        return None


def _fill_match_keys(bind: Any) -> None:
    from tinycrm.identity import email_match_key, phone_match_key

    region = _region()
    rows = bind.execute(sa.text("SELECT id, kind, value, value_key FROM contact_methods"))
    updates = []
    for mid, kind, value, value_key in rows.fetchall():
        if kind == "email":
            try:
                key = email_match_key(value)
            except ValueError:
                key = value_key
        else:
            key = phone_match_key(value, region)
        updates.append({"id": mid, "key": key})
    if updates:
        bind.execute(sa.text("UPDATE contact_methods SET match_key = :key WHERE id = :id"), updates)


def downgrade() -> None:
    op.drop_index("ix_audit_log_entity", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("erasures")
    op.drop_index("ix_merges_kept_id", table_name="merges")
    op.drop_table("merges")
    with op.batch_alter_table("contact_methods") as batch:
        batch.drop_index("ix_contact_methods_kind_match")
        batch.drop_column("match_key")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("opted_out_at")
        batch.drop_column("consent_at")
        batch.drop_column("consent")
        batch.drop_column("birthday")
