"""partial indexes for the agenda: open reminders, one user's clocks and open deals

`ix_reminders_open_due` was (done_at, due_at). SQLite's statistics count each NULL as a
distinct value, so after ANALYZE the planner took `done_at IS NULL` for a one-row lookup
and, looking for deals with no next step, read every open reminder once per deal. Now
every open-reminder index holds only open rows, with `done_at IS NULL` as its condition,
and each deal probes its own open reminders.

The owner-led ones let one user's `next` and digest read only their own rows: open
reminders by due time, stay-in-touch clocks, rotting deals, and open deals by value.
Without them, and without statistics (tinycrm never runs ANALYZE), SQLite read all of a
user's 60,000 reminders through ix_reminders_owner_id to find the few hundred open ones.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_INDEXES = {  # name: (table, columns, condition)
    "ix_reminders_open_due": ("reminders", ["due_at"], "done_at IS NULL"),
    "ix_reminders_open_contact": (
        "reminders",
        ["contact_id"],
        "done_at IS NULL AND contact_id IS NOT NULL",
    ),
    "ix_reminders_open_deal": ("reminders", ["deal_id"], "done_at IS NULL AND deal_id IS NOT NULL"),
    "ix_reminders_open_owner_due": ("reminders", ["owner_id", "due_at"], "done_at IS NULL"),
    "ix_contacts_owner_touch": (
        "contacts",
        ["owner_id", "touch_due_at"],
        "touch_due_at IS NOT NULL",
    ),
    "ix_deals_owner_rots_at": ("deals", ["owner_id", "rots_at"], "rots_at IS NOT NULL"),
    "ix_deals_open_owner_value": ("deals", ["owner_id", "value_cents"], "status = 'open'"),
}


def upgrade() -> None:
    op.drop_index("ix_reminders_open_due", table_name="reminders")
    for name, (table, columns, where) in _INDEXES.items():
        cond = sa.text(where)
        op.create_index(
            name, table, columns, unique=False, sqlite_where=cond, postgresql_where=cond
        )


def downgrade() -> None:
    for name, (table, _, _) in _INDEXES.items():
        op.drop_index(name, table_name=table)
    op.create_index("ix_reminders_open_due", "reminders", ["done_at", "due_at"], unique=False)
