"""The schema as tests need it, read from where it is defined (models.metadata, the
migrations, the services, real migrated stores) instead of lists kept by hand."""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SearchIndex:
    """What the search index adds to a store beside the models."""

    names: frozenset[str]  # the FTS5 tables (SQLite), search_docs and its index (PostgreSQL)
    prefixes: tuple[str, ...]  # FTS5's own shadow tables of each: `<kind>_fts_data`, ...


def search_index() -> SearchIndex:
    """The search index's tables, from the kinds the services index (services.search.KINDS,
    which a test holds equal to the search migration's)."""
    from tinycrm.services.search import KINDS

    fts = sorted(f"{kind}_fts" for kind in KINDS)
    return SearchIndex(
        frozenset({*fts, "search_docs", "ix_search_docs_body"}), tuple(f"{t}_" for t in fts)
    )


def sqlite_catalog(path: Path) -> dict[str, set[str]]:
    """Every table of a migrated SQLite store (FTS tables included) and its columns, with
    `rowid`, and an FTS table's own name (its command column: `x_fts MATCH`)."""
    out: dict[str, set[str]] = {}
    with contextlib.closing(sqlite3.connect(path)) as conn:
        tables = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
        for name, sql in tables.fetchall():
            cols = {r[1] for r in conn.execute(f"PRAGMA table_info('{name}')")}
            out[name] = cols | {"rowid"} | ({name} if "VIRTUAL" in (sql or "") else set())
    return out


def pg_catalog(url: str) -> dict[str, set[str]]:
    """Every table of a migrated PostgreSQL store (search_docs included) and its columns."""
    from tinycrm.store.open import open_store

    db = open_store(url)
    try:
        out: dict[str, set[str]] = {}
        for r in db.all(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema()"
        ):
            out.setdefault(str(r["table_name"]), set()).add(str(r["column_name"]))
        return out
    finally:
        db.close()


def models() -> dict[str, set[str]]:
    """Every table models.py declares and its columns."""
    from tinycrm.models import metadata

    return {name: {c.name for c in table.columns} for name, table in metadata.tables.items()}


def merged(*schemas: dict[str, set[str]]) -> dict[str, set[str]]:
    """The tables of all `schemas`, each with the columns any of them gives it."""
    out: dict[str, set[str]] = {}
    for schema in schemas:
        for table, cols in schema.items():
            out.setdefault(table, set()).update(cols)
    return out
