"""goals (#21): a user's targets per period, and who won each won deal

Adds `goals` (a user's target for a metric, per month, quarter or year, from a first
period on; unique per user, metric, period length and first day) and `deals.won_by`, the
user who owned the deal when it moved into a won stage, so that won deals and their value
count for that user even after `assign` hands the deal to someone else. Stores from
before have no such record: `won_by` is filled with each won deal's owner now, the best
that is known. `won_by` is added in place (ALTER TABLE ... ADD COLUMN, nullable, a
foreign key to users without ON DELETE, which SQLite's in-place add can't declare so that
it reads back; no table is rebuilt, so the AUTOINCREMENT counter and the search index's
triggers stay), with no index of its own: a period's wins are read through
`ix_deals_status_stage` (status = 'won'), every user's in one pass. On SQLite the change
journal's triggers on deals (0009) are written again to name the new column, and `goals`
gets its triggers on both backends, so `undo` takes a `goal set`/`goal rm` back. The
back-fill's rows in the journal are deleted: it is no one's change to undo.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tinycrm.store import journal

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "goals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(), nullable=False),
        sa.Column("per", sa.String(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("target", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "metric", "per", "starts_on"),
        sqlite_autoincrement=True,
    )
    if op.get_bind().dialect.name == "sqlite":
        # in place, with its foreign key (SQLite allows one on a column added as NULL);
        # Alembic would rebuild the table to add the constraint, dropping its triggers
        op.execute("ALTER TABLE deals ADD COLUMN won_by INTEGER REFERENCES users (id)")
    else:
        op.add_column("deals", sa.Column("won_by", sa.Integer(), nullable=True))
        op.create_foreign_key("deals_won_by_fkey", "deals", "users", ["won_by"], ["id"])
    op.execute("UPDATE deals SET won_by = owner_id WHERE status = 'won'")
    # the journal's triggers saw the back-fill: it is no one's change to undo, so its rows
    # must not be filed under the next command's change
    op.execute("DELETE FROM row_changes WHERE change_id IS NULL")
    journal.install(op.get_bind(), ("deals", "goals"))


def downgrade() -> None:
    with op.batch_alter_table("deals") as batch:
        batch.drop_column("won_by")
    op.drop_table("goals")
    journal.install(op.get_bind(), ("deals",))  # batch mode rebuilt the table without them
