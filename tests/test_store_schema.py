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
from tests.schema import merged, models, pg_catalog, search_index, sqlite_catalog
from tests.sql_columns import check_source, check_tree

SRC = Path(tinycrm.__file__).parent


def test_every_column_named_in_sql_exists(
    sqlite_template: Path, request: pytest.FixtureRequest
) -> None:
    """Every `table.column`, INSERT column list and UPDATE ... SET column in src/tinycrm
    exists in the schema: the models, and the real stores' catalogs (the search tables)."""
    schemas = [models(), sqlite_catalog(sqlite_template)]
    if PG_URL:
        schemas.append(pg_catalog(request.getfixturevalue("pg_database")))
    schema = merged(*schemas)
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
    schema = models()
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
    schema = models()
    found = []
    for path in sorted(SRC.rglob("*.py")):
        text = re.sub(r"\bdue_at\b", "due_on", path.read_text(encoding="utf-8"))
        found += check_source(text, str(path), schema)[0]
    assert {p.column for p in found} == {"due_on"}
    assert {Path(p.where.split(":")[0]).name for p in found} >= {"reminders.py", "agenda.py"}


def test_the_search_index_is_what_the_search_migration_builds(
    sqlite_template: Path, request: pytest.FixtureRequest
) -> None:
    """search_index() (services.search.KINDS) names exactly the tables migrations 0002 and
    0013 (the cases' kind) create: on SQLite every virtual table, on PostgreSQL search_docs."""
    import importlib

    migration = importlib.import_module("tinycrm.migrations.versions.0002_search_index")
    from tinycrm.services.search import KINDS

    assert (*migration.KINDS, "case") == KINDS
    index = search_index()
    with contextlib.closing(sqlite3.connect(sqlite_template)) as conn:
        virtual = {
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL%'")
        }
        shadow = {
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if r[0].startswith(index.prefixes)
        }
    assert virtual == {f"{kind}_fts" for kind in KINDS} <= index.names
    assert shadow and not shadow & set(models())
    if PG_URL:
        tables = set(pg_catalog(request.getfixturevalue("pg_database")))
        assert tables - set(models()) == {"search_docs", "alembic_version"}
        assert "search_docs" in index.names


def test_a_reset_postgresql_store_has_the_stages_the_migrations_seed(
    sqlite_template: Path, pg_store: str
) -> None:
    """The tests' PostgreSQL reset refills the stages the migrations seeded (read back, not
    copied by hand): the same as a freshly migrated SQLite store, ids from 1."""
    from tinycrm.store.open import open_store

    columns = "id, name, position, probability, rot_days, outcome"
    template = open_store(str(sqlite_template))
    pg = open_store(pg_store)
    try:
        want = template.all(f"SELECT {columns} FROM stages ORDER BY id")
        assert pg.all(f"SELECT {columns} FROM stages ORDER BY id") == want
        assert [r["id"] for r in want] == list(range(1, len(want) + 1))
    finally:
        template.close()
        pg.close()


def test_the_tui_watcher_watches_every_table_keyed_by_id(pg_store: str) -> None:
    """The PostgreSQL watcher's newest-id probe covers every table models.py keys by `id`
    (companies, users, the audit log... not only the six it once listed by hand)."""
    from tinycrm.models import metadata
    from tinycrm.services.commits import signature
    from tinycrm.store.open import open_store

    keyed = {
        name for name, t in metadata.tables.items() if [c.name for c in t.primary_key] == ["id"]
    }
    db = open_store(pg_store)
    try:
        sql = signature(db)
        row = db.one(sql)
    finally:
        db.close()
    assert {"companies", "users", "audit_log"} <= keyed
    assert set(re.findall(r"FROM (\w+)\)", sql)) == keyed | {"pg_stat_user_tables"}
    assert row is not None and set(row) == keyed | {"writes"}
