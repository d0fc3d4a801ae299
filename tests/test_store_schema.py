"""The schema, read from where it is defined, for the lists that used to be kept by hand;
and a check that every column SQL in src/ names exists (tests/sql_columns.py)."""

from __future__ import annotations

import contextlib
import re
import sqlite3
from pathlib import Path

import pytest

import tinycrm
from tests.conftest import PG_URL
from tests.sql_columns import check_source, check_tree

SRC = Path(tinycrm.__file__).parent


def _sqlite_catalog(path: Path) -> dict[str, set[str]]:
    """Every table of a migrated SQLite store (FTS tables included) and its columns, with
    `rowid`, and an FTS table's own name (its command column: `x_fts MATCH`)."""
    out: dict[str, set[str]] = {}
    with contextlib.closing(sqlite3.connect(path)) as conn:
        tables = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
        for name, sql in tables.fetchall():
            cols = {r[1] for r in conn.execute(f"PRAGMA table_info('{name}')")}
            out[name] = cols | {"rowid"} | ({name} if "VIRTUAL" in (sql or "") else set())
    return out


def _pg_catalog(url: str) -> dict[str, set[str]]:
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


def _models() -> dict[str, set[str]]:
    from tinycrm.models import metadata

    return {name: {c.name for c in table.columns} for name, table in metadata.tables.items()}


def _merged(*schemas: dict[str, set[str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for schema in schemas:
        for table, cols in schema.items():
            out.setdefault(table, set()).update(cols)
    return out


def test_every_column_named_in_sql_exists(
    sqlite_template: Path, request: pytest.FixtureRequest
) -> None:
    """Every `table.column`, INSERT column list and UPDATE ... SET column in src/tinycrm
    exists in the schema: the models, and the real stores' catalogs (the search tables)."""
    schemas = [_models(), _sqlite_catalog(sqlite_template)]
    if PG_URL:
        schemas.append(_pg_catalog(request.getfixturevalue("pg_database")))
    schema = _merged(*schemas)
    problems, unknown = check_tree(SRC, schema)
    assert [str(p) for p in problems] == []
    # Names SQL uses that are none of tinycrm's tables: the databases' own catalogs only.
    catalogs = {t for t in unknown if t.startswith(("sqlite_", "pg_", "information_schema"))}
    if PG_URL:
        assert unknown - catalogs == set()


BAD = """
def f(db):
    db.all("SELECT c.name, c.emial FROM contacts c JOIN deals d ON d.contact_id = c.id")
    db.execute(
        "INSERT INTO interactions (contact_id, kind, bodyy, happened_at) VALUES (:a, :b, :c, :d)"
    )
    where = " AND d.titel = :t"
    db.execute(f"UPDATE deals SET titel = :t, {assigns}, version = version + 1 WHERE id = :id")
    db.all("SELECT x FROM nosuchtable")
"""

GOOD = """
def f(db):
    db.all("SELECT c.name FROM contacts c JOIN deals d ON d.contact_id = c.id")
    db.execute("INSERT INTO interactions (contact_id, kind, body) VALUES (:a, :b, :c)")
    where = " AND d.title = :t"
    db.execute(f"UPDATE deals SET title = :t, {assigns}, version = version + 1 WHERE id = :id")
    message = "see e.g. the notes.txt file"
"""


def test_the_checker_finds_misspelled_columns_in_every_form() -> None:
    schema = _models()
    problems, unknown = check_source(BAD, "bad.py", schema)
    found = sorted((p.table, p.column, p.where) for p in problems)
    assert found == [
        ("contacts", "emial", "bad.py:3"),
        ("deals", "titel", "bad.py:7"),
        ("deals", "titel", "bad.py:8"),
        ("interactions", "bodyy", "bad.py:5"),
    ]
    assert unknown == {"nosuchtable"}
    assert check_source(GOOD, "good.py", schema) == ([], set())


def test_the_checker_catches_a_renamed_column_in_the_real_source() -> None:
    """Renaming a real column in the source (in memory) is caught where SQL uses it."""
    schema = _models()
    found = []
    for path in sorted(SRC.rglob("*.py")):
        text = re.sub(r"\bdue_at\b", "due_on", path.read_text(encoding="utf-8"))
        found += check_source(text, str(path), schema)[0]
    assert {p.column for p in found} == {"due_on"}
    assert {Path(p.where.split(":")[0]).name for p in found} >= {"reminders.py", "agenda.py"}
