"""saved views (#23): `saved_views`, a named filter with its sort and columns

One new table, so nothing is rebuilt: a view's name (unique ignoring case, checked by the
service), what it lists (contacts, deals or companies), its filter in the filter language,
its sort and columns, who saved it last and when. Shared by the whole store (team mode:
everyone sees the team's views). AUTOINCREMENT on SQLite, as models.py's rule says; in the
change journal (0009's triggers), so `undo` takes `view save` and `view rm` back.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tinycrm.store import journal

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saved_views",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("entity", sa.String(), nullable=False),
        sa.Column("filter", sa.Text(), nullable=False),
        sa.Column("sort", sa.String(), nullable=True),
        sa.Column("columns", sa.String(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    journal.install(op.get_bind(), ("saved_views",))


def downgrade() -> None:
    op.drop_table("saved_views")
