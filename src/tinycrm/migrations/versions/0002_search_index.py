"""search index: FTS5 tables on SQLite, a GIN-indexed table on PostgreSQL

The index holds folded tokens (see tinycrm.text.search_document) so that search is case-,
accent- and width-insensitive and finds Chinese/Japanese/Korean text on both backends.
Rows are written by the services; deleting a record removes its row through a trigger,
cascades included. Existing records are indexed here.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 09:30:00
"""

from __future__ import annotations

from alembic import op

from tinycrm.text import search_document

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# kind -> (table, columns that make its document)
KINDS = {
    "contact": ("contacts", ("name", "title", "notes", "source")),
    "company": ("companies", ("name", "domain", "notes")),
    "interaction": ("interactions", ("body",)),
    "deal": ("deals", ("title", "lost_reason")),
}


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        for kind, (table, _) in KINDS.items():
            op.execute(
                f"CREATE VIRTUAL TABLE {kind}_fts USING fts5("
                # columnsize=0: no per-row token counts, which only bm25 ranking reads
                "body, tokenize = 'unicode61 remove_diacritics 2', columnsize = 0)"
            )
            op.execute(
                f"CREATE TRIGGER {table}_forget_fts AFTER DELETE ON {table} "
                f"BEGIN DELETE FROM {kind}_fts WHERE rowid = old.id; END"
            )
    else:
        op.execute(
            "CREATE TABLE search_docs (kind VARCHAR(16) NOT NULL, ref_id INTEGER NOT NULL, "
            "body TEXT NOT NULL, PRIMARY KEY (kind, ref_id))"
        )
        op.execute(
            "CREATE INDEX ix_search_docs_body ON search_docs "
            "USING gin (to_tsvector('simple', body))"
        )
        op.execute(
            "CREATE FUNCTION tinycrm_forget_search_doc() RETURNS trigger AS $$ "
            "BEGIN DELETE FROM search_docs WHERE kind = TG_ARGV[0] AND ref_id = OLD.id; "
            "RETURN OLD; END $$ LANGUAGE plpgsql"
        )
        for kind, (table, _) in KINDS.items():
            op.execute(
                f"CREATE TRIGGER {table}_forget_search AFTER DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION tinycrm_forget_search_doc('{kind}')"
            )
    _backfill(bind, sqlite)


def _backfill(bind: object, sqlite: bool) -> None:
    import sqlalchemy as sa

    conn = bind  # an sqlalchemy Connection
    for kind, (table, columns) in KINDS.items():
        rows = conn.execute(sa.text(f"SELECT id, {', '.join(columns)} FROM {table}"))  # type: ignore[attr-defined]
        batch = [{"id": r[0], "body": search_document(*r[1:])} for r in rows]
        if not batch:
            continue
        if sqlite:
            sql = f"INSERT INTO {kind}_fts (rowid, body) VALUES (:id, :body)"
        else:
            sql = f"INSERT INTO search_docs (kind, ref_id, body) VALUES ('{kind}', :id, :body)"
        conn.execute(sa.text(sql), batch)  # type: ignore[attr-defined]


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for kind, (table, _) in KINDS.items():
            op.execute(f"DROP TRIGGER IF EXISTS {table}_forget_fts")
            op.execute(f"DROP TABLE IF EXISTS {kind}_fts")
    else:
        for _kind, (table, _) in KINDS.items():
            op.execute(f"DROP TRIGGER IF EXISTS {table}_forget_search ON {table}")
        op.execute("DROP FUNCTION IF EXISTS tinycrm_forget_search_doc()")
        op.execute("DROP TABLE IF EXISTS search_docs")
