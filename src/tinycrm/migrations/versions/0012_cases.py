"""service cases (#20): cases, their notes, SLA targets and the team's shared settings

New tables only, so nothing is rebuilt: `cases` (a customer's request about one contact,
with its SLA clock in `sla_due_at` and the `ix_cases_owner_sla` partial index), `case_notes`
(links a case to the interactions logged on it, which stay on the contact's timeline),
`sla_targets` (a priority's response and resolution targets; priorities without a row use
the built-in defaults) and `team_settings` (working hours and holidays, one value for the
whole store). Tables keyed by an id are AUTOINCREMENT on SQLite, as models.py's rule says;
all four are in the change journal (0009's triggers), so `undo` takes case commands back.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tinycrm.store import journal

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("priority", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sla_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("waiting_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paused_minutes", sa.Integer(), nullable=False),
        sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("solution", sa.Text(), nullable=True),
        sa.Column("satisfaction", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_cases_contact_id", "cases", ["contact_id"], unique=False)
    where = sa.text("sla_due_at IS NOT NULL")
    op.create_index(
        "ix_cases_owner_sla",
        "cases",
        ["owner_id", "sla_due_at"],
        unique=False,
        sqlite_where=where,
        postgresql_where=where,
    )
    op.create_table(
        "case_notes",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("interaction_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["interaction_id"], ["interactions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("case_id", "interaction_id"),
    )
    op.create_table(
        "sla_targets",
        sa.Column("priority", sa.String(), nullable=False),
        sa.Column("respond", sa.String(), nullable=False),
        sa.Column("resolve", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("priority"),
    )
    op.create_table(
        "team_settings",
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    journal.install(op.get_bind(), ("cases", "case_notes", "sla_targets", "team_settings"))


def downgrade() -> None:
    op.drop_table("team_settings")
    op.drop_table("sla_targets")
    op.drop_table("case_notes")
    op.drop_index("ix_cases_owner_sla", table_name="cases")
    op.drop_index("ix_cases_contact_id", table_name="cases")
    op.drop_table("cases")
