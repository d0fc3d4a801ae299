"""contacts keep an anniversary and the values an import could not read, as written

Moving in without losing anything (#17): a contact gets `anniversary DATE NULL` (as
`birthday`: a day without a year is stored in the year 1604, Apple's convention for "no
year", a leap year so that 29 February fits) and `as_written TEXT NULL`, a JSON list of
`{"field", "value", "why"}`: a phone, email, web address, birthday or address part that an
import could not read, kept as the file wrote it instead of dropping the person or the
value. Both columns are added in place (ALTER TABLE ... ADD COLUMN, nullable, no default),
so no table is rebuilt and the AUTOINCREMENT counters and the search index's triggers stay
as 0007 left them; on SQLite the change journal's triggers on contacts (0009) are written
again to name the new columns.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 23:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tinycrm.store import journal

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("contacts", sa.Column("anniversary", sa.Date(), nullable=True))
    op.add_column("contacts", sa.Column("as_written", sa.String(), nullable=True))
    _journal_contacts()


def _journal_contacts() -> None:
    """On SQLite the change journal's triggers (0009) name every column: write them again
    for the contacts table as it is now, so undo puts the new columns back too.
    PostgreSQL's trigger copies the whole row and needs nothing."""
    journal.install(op.get_bind(), ("contacts",))


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("as_written")
        batch.drop_column("anniversary")
    _journal_contacts()  # batch mode rebuilt the table without its triggers
