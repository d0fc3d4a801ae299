"""notes, reminders and purchases carry a version, as contacts, companies and deals do

Every record a user can edit or delete takes `--if-version N` (#16): the edit or delete
happens only if nobody changed the record since the user read it. Interactions, reminders
and purchases get `version INTEGER NOT NULL DEFAULT 1`; writers that change one of them
add one to it. Existing rows start at 1. The column is added in place (ALTER TABLE ... ADD
COLUMN with a constant default), so no table is rebuilt and the AUTOINCREMENT counters and
the search index's triggers stay as 0007 left them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLES = ("interactions", "reminders", "purchases")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("version")
