"""campaigns (#21): what a marketing campaign cost, for which lead source and when

One new table, so nothing is rebuilt: `campaigns` (name, lead source, cost in cents and
its currency, first and last day; no last day: still running), AUTOINCREMENT on SQLite as
models.py's rule says, and in the change journal (0009's triggers), so `undo` takes
campaign commands back. `report sources` attributes contacts to campaigns by first touch.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tinycrm.store import journal

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("cost_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    journal.install(op.get_bind(), ("campaigns",))


def downgrade() -> None:
    op.drop_table("campaigns")
