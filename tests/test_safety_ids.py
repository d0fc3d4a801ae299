"""Ids are never handed out twice, on either backend (#14).

An id is how the audit log, merge snapshots, exports and people's memory ("reminder 7")
name a record; a newcomer that got a deleted record's id would inherit its history. SQLite
reuses the highest id after a delete unless the table is AUTOINCREMENT (migration 0007);
PostgreSQL sequences only go up, but a restore puts them back with the data.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PG_URL, Runner, _pg_admin_url
from tinycrm.store.db import Db
from tinycrm.store.open import SCHEMA_HEAD, open_store

ANN = ("Ann Lee", "ann@acme.com", "allergic to nuts", "secret merger plan", "call Ann back")


def _id_tables() -> list[str]:
    """Every table with an integer `id` key (from the models), children before parents."""
    from tinycrm.models import metadata

    return [
        t.name
        for t in reversed(metadata.sorted_tables)
        if "id" in t.c and t.c.id.primary_key and len(t.primary_key.columns) == 1
    ]


def _seed_every_table(cli: Runner) -> None:
    """At least one row in every table that has ids."""
    cli.ok("company", "add", "Acme", "--notes", "supplier")
    cli.ok("user", "add", "kim")
    cli.ok("contact", "add", "Ann Lee", "-e", "ann@acme.com", "--company", "Acme")
    cli.ok("contact", "add", "Ann Leigh", "-e", "ann@leigh.org", "--allow-duplicate")
    cli.ok("contact", "add", "Carl Diaz", "-p", "+49 30 1234567")
    cli.ok("note", "ann@acme.com", "met at the fair")
    cli.ok("remind", "carl", "tomorrow", "send the offer")
    cli.ok("deal", "add", "carl", "Fleet", "--value", "500")
    cli.ok("deal", "move", "1", "Qualified")
    cli.ok("purchase", "add", "carl", "25")
    cli.ok("product", "add", "Fleet licence", "--price", "25", "--sku", "FL-1")
    cli.ok("product", "add", "Spare part", "--price", "5")  # the newest: on no deal
    cli.ok("deal", "item", "add", "1", "FL-1", "--qty", "2")
    cli.ok("quote", "1", "--json")
    cli.ok("case", "add", "carl", "Broken tail light")
    cli.ok("goal", "set", "kim", "5000", "--per", "month")
    cli.ok("campaign", "add", "Autumn fair", "--source", "fair", "--cost", "1200")
    cli.ok("field", "add", "contact", "industry", "--type", "text")
    cli.ok("contact", "edit", "carl", "--set", "industry=retail")
    cli.ok("view", "save", "retail", "--where", "industry=retail")
    cli.ok("merge", "ann@acme.com", "ann@leigh.org", "--yes")
    cli.ok("contact", "add", "Gone Soon")
    cli.ok("forget", "gone", "--yes")
    _seed_mail(cli)


def _seed_mail(cli: Runner) -> None:
    """An imported email (mail_messages, mail_links) and an IMAP folder's position."""
    import os
    from email.message import EmailMessage

    m = EmailMessage()
    m["From"], m["To"], m["Message-ID"] = "carl@diaz.example", "sam@x.example", "<m1@diaz>"
    m["Subject"] = "offer"
    m.set_content("thanks")
    cli.ok("contact", "edit", "carl", "--email", "carl@diaz.example")
    cli.ok("mail", "import", "-", stdin=m.as_string())
    # IMAP runs write this (tests/test_imap.py); a row here is enough for the id checks
    db = open_store(os.environ["TINYCRM_DB"], create=False)
    try:
        with db.write():
            db.execute(
                "INSERT INTO mail_folders (account, folder, uidvalidity, last_uid, updated_at)"
                " VALUES ('sam@imap.example:993', 'INBOX', 1, 7, :now)",
                {"now": db.ts(datetime(2026, 11, 23, tzinfo=UTC))},
            )
    finally:
        db.close()


def _values(db: Db, table: str, row_id: int) -> dict[str, Any]:
    row = db.one(f"SELECT * FROM {table} WHERE id = :id", {"id": row_id})
    assert row is not None
    return {k: v for k, v in row.items() if k != "id"}


def _assert_deleted_ids_stay_retired(url: str) -> None:
    """In every id table: delete the newest row, insert the same values again, and the
    newcomer gets an id no row ever had."""
    db = open_store(url, create=False)
    try:
        for table in _id_tables():
            top = db.value(f"SELECT max(id) AS n FROM {table}")
            assert top is not None, f"the test left {table} empty"
            with db.write():
                values = _values(db, table, top)
                db.execute(f"DELETE FROM {table} WHERE id = :id", {"id": top})
                names = ", ".join(values)
                params = ", ".join(f":{k}" for k in values)
                new_id = db.insert(
                    f"INSERT INTO {table} ({names}) VALUES ({params}) RETURNING id", values
                )
            assert new_id > top, f"{table}: deleted id {top} was handed out again"
    finally:
        db.close()


def test_no_table_hands_out_a_deleted_id_again(cli: Runner, store: str) -> None:
    _seed_every_table(cli)
    _assert_deleted_ids_stay_retired(store)


def test_a_newcomer_never_inherits_a_removed_persons_history(cli: Runner, store: str) -> None:
    name, email, notes, note, todo = ANN
    cli.ok("company", "add", "Ann Lee Consulting")
    ann = cli.ok("contact", "add", name, "-e", email, "--notes", notes, "--json").json()
    ann_note = cli.ok("note", email, note, "--json").json()
    ann_todo = cli.ok("remind", email, "tomorrow", todo, "--json").json()
    ann_buy = cli.ok("purchase", "add", email, "100", "--json").json()
    cli.ok("contact", "rm", email, "--yes")
    cli.ok("company", "rm", "Ann Lee Consulting", "--yes")

    bob = cli.ok("contact", "add", "Bob Stone", "-e", "bob@stone.com", "--json").json()
    bob_note = cli.ok("note", "bob", "hello", "--json").json()
    bob_todo = cli.ok("remind", "bob", "tomorrow", "ping", "--json").json()
    bob_buy = cli.ok("purchase", "add", "bob", "5", "--json").json()
    firm = cli.ok("company", "add", "Stone Ltd", "--json").json()
    assert bob["id"] > ann["id"]
    assert bob_note["id"] > ann_note["id"]
    assert bob_todo["id"] > ann_todo["id"]
    assert bob_buy["id"] > ann_buy["id"]
    assert firm["id"] > 1

    seen = "\n".join(
        [
            cli.ok("history", "bob", "--json").stdout,
            cli.ok("history", "company:stone", "--json").stdout,
            cli.ok("export", "person", "bob").stdout,
            cli.ok("contact", "show", "bob", "--json").stdout,
        ]
    ).lower()
    for trace in (name, email, notes, note, todo, "100.00"):
        assert trace.lower() not in seen, trace
    # what was logged about Ann is still hers, under her id
    old = cli.ok("history", f"contact:{ann['id']}", "--json").json()
    assert {e["action"] for e in old} >= {"add", "delete"}


def test_a_restore_never_hands_out_ids_given_since_the_backup(
    cli: Runner, store: str, tmp_path: Path
) -> None:
    """Ids handed out after the backup were seen (exports, the audit log of the restored-
    over store, people's memory): after the restore they stay retired."""
    if "://" in store:
        for tool in ("pg_dump", "pg_restore", "psql"):
            if shutil.which(tool) is None:
                pytest.skip(f"PostgreSQL backups need {tool} on PATH (postgresql-client)")
    cli.ok("contact", "add", "Alice Wong")
    file = tmp_path / "crm.backup"
    cli.ok("backup", str(file))
    after = cli.ok("contact", "add", "Carol After", "--json").json()
    cli.ok("note", "carol", "only after the backup")
    cli.ok("restore", str(file), "--force")
    dan = cli.ok("contact", "add", "Dan New", "--json").json()
    note = cli.ok("note", "dan", "first", "--json").json()
    assert dan["id"] > after["id"]
    assert note["id"] > 1
    assert cli.ok("export", "person", "dan").json()["interactions"][0]["body"] == "first"


# -- the upgrade to 0007 ---------------------------------------------------------------
def _at_0006(url: str) -> None:
    """Create a store at schema revision 0006 at `url` (which must be empty)."""
    from alembic import command
    from sqlalchemy import create_engine

    from tinycrm.store.db import locate
    from tinycrm.store.open import alembic_config, sqlalchemy_url

    engine = create_engine(sqlalchemy_url(locate(url)))
    try:
        with engine.begin() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0006")
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def old_store(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The URL of a new store at revision 0006, also exported as TINYCRM_DB."""
    if request.param == "sqlite":
        url = str(tmp_path / "old.db")
        _at_0006(url)
        monkeypatch.setenv("TINYCRM_DB", url)
        yield url
        return
    if not PG_URL:
        pytest.skip("PostgreSQL tests need TINYCRM_TEST_PG_URL (CI sets it)")
    import uuid

    import psycopg

    name = f"tinycrm_old_{uuid.uuid4().hex[:8]}"
    admin = _pg_admin_url(PG_URL)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, query = PG_URL.partition("?")
    url = base.rsplit("/", 1)[0] + "/" + name + (f"?{query}" if query else "")
    try:
        _at_0006(url)
        monkeypatch.setenv("TINYCRM_DB", url)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _raw(url: str) -> Db:
    """A connection to the store that neither checks nor upgrades its schema."""
    from tinycrm.store.db import locate
    from tinycrm.store.open import _open_sqlite_raw, connect_postgres

    location = locate(url)
    return (
        _open_sqlite_raw(location) if location.dialect == "sqlite" else connect_postgres(location)
    )


def _fill_0006(db: Db) -> None:
    """Three contacts (the third then deleted), a note and a method, and traces of records
    deleted before the upgrade: the audit log names contact 5 and interaction 9, a merge
    removed contact 7 and dropped method 12."""
    now = db.ts(datetime(2026, 11, 1, 10, tzinfo=UTC))
    with db.write():
        for n in (1, 2, 3):
            db.insert(
                "INSERT INTO contacts (name, name_key, created_at, updated_at, version)"
                " VALUES (:name, :key, :now, :now, 1) RETURNING id",
                {"name": f"Person {n}", "key": f"person {n}", "now": now},
            )
            if db.is_sqlite:
                db.execute(
                    "INSERT INTO contact_fts (rowid, body) VALUES (:id, :body)",
                    {"id": n, "body": f"person {n}"},
                )
            else:
                db.execute(
                    "INSERT INTO search_docs (kind, ref_id, body) VALUES ('contact', :id, :b)",
                    {"id": n, "b": f"person {n}"},
                )
        db.insert(
            "INSERT INTO interactions (contact_id, kind, body, happened_at, created_at)"
            " VALUES (1, 'note', 'hello', :now, :now) RETURNING id",
            {"now": now},
        )
        db.insert(
            "INSERT INTO contact_methods (contact_id, kind, value, value_key, position)"
            " VALUES (1, 'email', 'p1@x.org', 'p1@x.org', 0) RETURNING id",
            {},
        )
        for entity, entity_id in (("contact", 5), ("interaction", 9)):
            db.execute(
                "INSERT INTO audit_log (at, entity, entity_id, action, changes)"
                " VALUES (:now, :e, :id, 'delete', :c)",
                {"now": now, "e": entity, "id": entity_id, "c": json.dumps({"x": [1, None]})},
            )
        snapshot = {
            "format": 1,
            "removed": {"id": 7, "name": "Person 7"},
            "moved": {"interactions": [], "merges": []},
            "moved_methods": [],
            "dropped_methods": [{"id": 12, "contact_id": 7, "kind": "email"}],
        }
        db.execute(
            "INSERT INTO merges (kept_id, removed_id, snapshot, merged_at) VALUES (1, 7, :s, :now)",
            {"s": json.dumps(snapshot), "now": now},
        )
        db.execute("DELETE FROM contacts WHERE id = 3")


def _schema(url: str) -> list[tuple[str, str, str]]:
    """The SQLite schema objects: (type, name, table), sqlite_sequence left out."""
    import sqlite3

    conn = sqlite3.connect(url)
    try:
        rows = conn.execute(
            "SELECT type, name, tbl_name FROM sqlite_master WHERE name <> 'sqlite_sequence'"
        ).fetchall()
    finally:
        conn.close()
    return sorted(rows)


def test_upgrading_a_0006_store_retires_every_id_it_ever_gave(
    old_store: str, tmp_path: Path
) -> None:
    db = _raw(old_store)
    try:
        _fill_0006(db)
    finally:
        db.close()
    before = _schema(old_store) if "://" not in old_store else None

    cli = Runner()
    new = cli.ok("contact", "add", "Newcomer", "-e", "new@x.org", "--json").json()
    assert new["id"] == 8  # not 3 (deleted), 5 (in the log) or 7 (merged away)
    note = cli.ok("note", "newcomer", "first words", "--json").json()
    assert note["id"] == 10  # the log named interaction 9
    db = open_store(old_store)
    try:
        method = db.value("SELECT id FROM contact_methods WHERE value = 'new@x.org'")
        assert method == 13  # the merge dropped method 12
        assert db.value("SELECT version_num FROM alembic_version") == SCHEMA_HEAD
    finally:
        db.close()
    assert cli.ok("history", "newcomer", "--json").json()[-1]["action"] == "add"

    if before is not None:  # every table, index and trigger is still there (later
        # revisions add their own: the change journal's tables and triggers, 0009)
        assert set(before) <= set(_schema(old_store))
    # the search-index triggers still fire, foreign keys still cascade
    cli.ok("contact", "rm", "person 2", "--yes")
    assert cli.ok("search", "person", "--json").json()[0]["title"] == "Person 1"
    assert len(cli.ok("search", "person", "--json").json()) == 1
    cli.ok("contact", "rm", "person 1", "--yes")
    db = open_store(old_store)
    try:
        assert db.value("SELECT count(*) AS n FROM interactions WHERE contact_id = 1") == 0
        assert db.value("SELECT count(*) AS n FROM merges") == 0  # cascaded with contact 1
    finally:
        db.close()
    assert cli.ok("doctor", "--json").json()["problems"] == []
    _seed_every_table(cli)
    _assert_deleted_ids_stay_retired(old_store)


def test_fresh_stores_are_autoincrement_on_sqlite(sqlite_store: str) -> None:
    """Every id table of a new SQLite store says AUTOINCREMENT (the models say so)."""
    import sqlite3

    conn = sqlite3.connect(sqlite_store)
    try:
        sql = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
    finally:
        conn.close()
    for table in _id_tables():
        assert "PRIMARY KEY AUTOINCREMENT" in sql[table], table
