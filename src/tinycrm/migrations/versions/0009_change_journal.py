"""the change journal: every row written, before and after, for `tinycrm undo` and `redo`

- `changes`: one row per write transaction (when, who, its audit entries, and whether an
  undo took it back or it takes one back).
- `row_changes`: each row a change wrote, as JSON before and after, keyed by table and
  primary key; filled by triggers on every data table (tinycrm.store.journal), generated
  here from the store's own catalog. The triggers start empty-handed: changes made before
  this revision cannot be undone.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 23:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tinycrm.store import journal

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("audit_ids", sa.Text(), nullable=True),
        sa.Column("undoes", sa.Integer(), nullable=True),
        sa.Column("undone_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "row_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("change_id", sa.Integer(), nullable=True),
        sa.Column("table_name", sa.String(), nullable=False),
        sa.Column("row_key", sa.String(), nullable=False),
        sa.Column("old_row", sa.Text(), nullable=True),
        sa.Column("new_row", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["change_id"], ["changes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_row_changes_change_id", "row_changes", ["change_id"], unique=False)
    where = sa.text("change_id IS NULL")
    op.create_index(
        "ix_row_changes_pending",
        "row_changes",
        ["id"],
        unique=False,
        sqlite_where=where,
        postgresql_where=where,
    )
    journal.install(op.get_bind())


def downgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    for table in sorted(sa.inspect(bind).get_table_names()):
        if not journal.journaled(table):
            continue
        if sqlite:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_journal_{event}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_journal ON {table}")
    if not sqlite:
        op.execute("DROP FUNCTION IF EXISTS tinycrm_journal()")
    op.drop_table("row_changes")
    op.drop_table("changes")
