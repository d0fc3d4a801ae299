"""custom fields (#23): `custom_fields` and their typed values in `custom_values`

New tables only, so nothing is rebuilt. `custom_fields` holds each field of contacts,
companies or deals (name, folded name unique per entity, type, choices, required);
`custom_values` one row per record and field, with the value as shown and a typed column to
filter on (`value_key`, `value_num`, `value_cents` + `currency`, `value_date`), each with a
partial index led by the field that also carries whose value it is (so a filter reads the
index alone), and one partial unique index per kind of record (which
also serves the cascade when a record is deleted). Both are in the change journal (0009's
triggers), so `undo` takes field commands and `--set` back.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tinycrm.store import journal

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_OWNERS = ["contact_id", "company_id", "deal_id"]
# (name, columns, condition, unique)
_INDEXES = (
    ("ix_custom_values_contact", ["contact_id", "field_id"], "contact_id IS NOT NULL", True),
    ("ix_custom_values_company", ["company_id", "field_id"], "company_id IS NOT NULL", True),
    ("ix_custom_values_deal", ["deal_id", "field_id"], "deal_id IS NOT NULL", True),
    # covering: a filter reads the index only (docs/architecture.md, "Custom fields")
    ("ix_custom_values_key", ["field_id", "value_key", *_OWNERS], "value_key IS NOT NULL", False),
    ("ix_custom_values_num", ["field_id", "value_num", *_OWNERS], "value_num IS NOT NULL", False),
    (
        "ix_custom_values_cents",
        ["field_id", "currency", "value_cents", *_OWNERS],
        "value_cents IS NOT NULL",
        False,
    ),
    (
        "ix_custom_values_date",
        ["field_id", "value_date", *_OWNERS],
        "value_date IS NOT NULL",
        False,
    ),
)


def upgrade() -> None:
    op.create_table(
        "custom_fields",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("name_key", sa.String(), nullable=False),
        sa.Column("type", sa.String(), nullable=False),
        sa.Column("choices", sa.Text(), nullable=True),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("entity", "name_key"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "custom_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("field_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("company_id", sa.Integer(), nullable=True),
        sa.Column("deal_id", sa.Integer(), nullable=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("value_key", sa.String(), nullable=True),
        sa.Column("value_num", sa.Float(), nullable=True),
        sa.Column("value_cents", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(), nullable=True),
        sa.Column("value_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["field_id"], ["custom_fields.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["deal_id"], ["deals.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    for name, columns, where, unique in _INDEXES:
        op.create_index(
            name,
            "custom_values",
            columns,
            unique=unique,
            sqlite_where=sa.text(where),
            postgresql_where=sa.text(where),
        )
    journal.install(op.get_bind(), ("custom_fields", "custom_values"))


def downgrade() -> None:
    for name, _columns, _where, _unique in _INDEXES:
        op.drop_index(name, table_name="custom_values")
    op.drop_table("custom_values")
    op.drop_table("custom_fields")
