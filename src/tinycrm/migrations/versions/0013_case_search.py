"""the knowledge base (#20): service cases join the search index

A new search kind, `case`: a case's title, body and solution. On SQLite an FTS5 table
`case_fts` (rowid = case id) that, unlike the other kinds' tables, keeps per-row token
counts (the default `columnsize`), which bm25 ranking reads for `case similar`; on
PostgreSQL rows of `search_docs` with kind `case`. Deleting a case drops its row through a
trigger, as migration 0002 does for the other kinds. Existing cases are indexed here, with
the document `services.search.documents` defines. And `ix_cases_sla` (sla_due_at, id,
where there is a clock), the order of the app's Cases screen, read a page at a time. No
column changes, so the journal's triggers stay as they are.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tinycrm.text import search_document

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    where = sa.text("sla_due_at IS NOT NULL")
    op.create_index(
        "ix_cases_sla",
        "cases",
        ["sla_due_at", "id"],
        unique=False,
        sqlite_where=where,
        postgresql_where=where,
    )
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        op.execute(
            "CREATE VIRTUAL TABLE case_fts USING fts5("
            "body, tokenize = 'unicode61 remove_diacritics 2')"
        )
        op.execute(
            "CREATE TRIGGER cases_forget_fts AFTER DELETE ON cases "
            "BEGIN DELETE FROM case_fts WHERE rowid = old.id; END"
        )
    else:
        # tinycrm_forget_search_doc() is migration 0002's: it deletes (TG_ARGV[0], OLD.id)
        op.execute(
            "CREATE TRIGGER cases_forget_search AFTER DELETE ON cases "
            "FOR EACH ROW EXECUTE FUNCTION tinycrm_forget_search_doc('case')"
        )
    rows = bind.execute(sa.text("SELECT id, title, body, solution FROM cases ORDER BY id"))
    batch = [{"id": r[0], "body": search_document(*r[1:])} for r in rows]
    if batch:
        if sqlite:
            sql = "INSERT INTO case_fts (rowid, body) VALUES (:id, :body)"
        else:
            sql = "INSERT INTO search_docs (kind, ref_id, body) VALUES ('case', :id, :body)"
        bind.execute(sa.text(sql), batch)


def downgrade() -> None:
    op.drop_index("ix_cases_sla", table_name="cases")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS cases_forget_fts")
        op.execute("DROP TABLE IF EXISTS case_fts")
    else:
        op.execute("DROP TRIGGER IF EXISTS cases_forget_search ON cases")
        op.execute("DELETE FROM search_docs WHERE kind = 'case'")
