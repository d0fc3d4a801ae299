"""The store itself: SQLite settings, privacy, migrations, locking and concurrency."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Runner
from tinycrm.errors import StoreError
from tinycrm.store.open import KNOWN_REVISIONS, SCHEMA_HEAD, open_store


def test_sqlite_connection_settings(sqlite_store: str) -> None:
    db = open_store(sqlite_store)
    assert db.value("PRAGMA journal_mode") == "wal"
    assert db.value("PRAGMA foreign_keys") == 1
    assert db.value("PRAGMA busy_timeout") >= 5000
    db.close()


def test_default_store_is_created_private(home: Path) -> None:
    Runner().ok("todo")
    path = home / "tinycrm.db"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert sorted(p.name for p in home.iterdir()) == ["tinycrm.db"]  # no lock or wal litter


def test_head_revision_matches_the_alembic_scripts() -> None:
    from alembic.script import ScriptDirectory

    from tinycrm.store.open import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_current_head() == SCHEMA_HEAD
    assert sorted(r.revision for r in script.walk_revisions()) == sorted(KNOWN_REVISIONS)


def test_migrations_build_exactly_the_models(store: str) -> None:
    """Upgrading an empty store to head yields the schema models.py declares."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from tinycrm.models import metadata
    from tinycrm.store.db import locate
    from tinycrm.store.open import sqlalchemy_url

    engine = create_engine(sqlalchemy_url(locate(store)))

    from tests.schema import search_index

    index = search_index()

    def ours(obj: object, name: str | None, type_: str, reflected: bool, other: object) -> bool:
        return not name or not (
            name == "alembic_version" or name in index.names or name.startswith(index.prefixes)
        )

    with engine.connect() as conn:
        mc = MigrationContext.configure(conn, opts={"include_object": ours, "compare_type": True})
        diffs = compare_metadata(mc, metadata)
    engine.dispose()
    assert diffs == []


def _make_old_store(path: Path) -> None:
    """A store at revision 0001 holding one contact and one note (no search index yet)."""
    from alembic import command
    from sqlalchemy import create_engine

    from tinycrm.store.open import alembic_config

    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    engine.dispose()
    conn2 = sqlite3.connect(path)
    ts = "2026-11-01 10:00:00.000000"
    conn2.execute(
        "INSERT INTO contacts (name, name_key, created_at, updated_at, version)"
        " VALUES ('Zoë Quinn', 'zoe quinn', ?, ?, 1)",
        (ts, ts),
    )
    conn2.execute(
        "INSERT INTO interactions (contact_id, kind, body, happened_at, created_at)"
        " VALUES (1, 'note', 'discussed the Tokyo expansion', ?, ?)",
        (ts, ts),
    )
    conn2.commit()
    conn2.close()


def test_opening_an_older_store_backs_it_up_and_upgrades(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _make_old_store(path)
    r = Runner()("--db", str(path), "search", "tokyo", "--json")
    assert r.exit_code == 0, r.stderr
    assert [h["title"] for h in r.json()] == ["Zoë Quinn"]
    backups = list((tmp_path / "backups").glob(f"old.db.before-{SCHEMA_HEAD}-from-0001-*.bak"))
    assert len(backups) == 1
    assert stat.S_IMODE(backups[0].stat().st_mode) == 0o600
    old = sqlite3.connect(backups[0])
    assert old.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)
    assert old.execute("SELECT name FROM contacts").fetchall() == [("Zoë Quinn",)]
    old.close()
    db = open_store(str(path))
    assert db.value("SELECT version_num FROM alembic_version") == SCHEMA_HEAD
    db.close()


def test_a_newer_store_is_refused_clearly(sqlite_store: str) -> None:
    conn = sqlite3.connect(sqlite_store)
    conn.execute("UPDATE alembic_version SET version_num = '0099'")
    conn.commit()
    conn.close()
    r = Runner()("todo")
    assert r.exit_code == 1
    assert r.stderr == (
        f"Error: the store {sqlite_store} has schema revision 0099, newer than this tinycrm"
        f" knows ({SCHEMA_HEAD}); upgrade tinycrm to use it\n"
    )


def test_foreign_and_broken_files_are_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE stuff (x)")
    conn.commit()
    conn.close()
    r = Runner()("--db", str(other), "todo")
    assert (r.exit_code, r.stderr) == (
        1,
        f"Error: {other} is an SQLite file but not a tinycrm store\n",
    )
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database at all" * 100)
    r = Runner()("--db", str(junk), "todo")
    assert r.exit_code == 1 and r.stderr.startswith(f"Error: the store {junk} is unreadable")
    r = Runner()("--db", "mysql://x/y", "todo")
    assert r.exit_code == 1 and "unsupported store URL scheme 'mysql'" in r.stderr
    assert not list(tmp_path.glob("*.bak"))


def test_a_store_locked_too_long_gives_one_line_and_writes_nothing(
    sqlite_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    Runner().ok("contact", "add", "Alice Wong")
    monkeypatch.setenv("TINYCRM_BUSY_TIMEOUT", "0.3")
    blocker = sqlite3.connect(sqlite_store, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        r = Runner()("note", "alice", "hello")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert r.exit_code == 1
    assert r.stderr == (
        f"Error: the store {sqlite_store} stayed locked by another process for 0.3 s; try again\n"
    )
    assert Runner().ok("log", "--json").json()[0]["kind"] == "contact+"


def test_pg_url_passwords_are_masked() -> None:
    from tinycrm.store.db import locate

    loc = locate("postgresql+psycopg://sam:s3cret@db.example:5432/crm")
    assert loc.describe() == "postgresql+psycopg://sam:***@db.example:5432/crm"
    r = Runner()("--db", "postgresql://sam:s3cret@127.0.0.1:1/crm", "todo")
    assert r.exit_code == 1 and "s3cret" not in r.stderr and "***" in r.stderr


WRITER = """
import sys
from tinycrm.cli.entry import run
for i in range(int(sys.argv[2])):
    code = run(["note", "alice", f"writer {sys.argv[1]} note {i}"])
    if code:
        sys.exit(code)
"""


def test_concurrent_writers_wait_instead_of_failing(store: str) -> None:
    """Several processes logging notes at once: every note lands, none fails."""
    Runner().ok("contact", "add", "Alice Wong")
    env = {**os.environ, "TINYCRM_DB": store}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(n), "15"], env=env, stderr=subprocess.PIPE, text=True
        )
        for n in range(4)
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
    db = open_store(store)
    assert db.value("SELECT count(*) FROM interactions") == 60
    db.close()


def test_store_path_that_is_a_directory(tmp_path: Path) -> None:
    r = Runner()("--db", str(tmp_path), "todo")
    assert (r.exit_code, r.stderr) == (
        1,
        f"Error: the store path {tmp_path} is a directory, not a file\n",
    )


def test_missing_store_is_created_on_first_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default location only: elsewhere `tinycrm init` makes a store
    (tests/test_safety_input.py)."""
    monkeypatch.setenv("TINYCRM_HOME", str(tmp_path / "new"))
    target = tmp_path / "new" / "tinycrm.db"
    with pytest.raises(StoreError):
        open_store(str(target), create=False)
    Runner().ok("contact", "add", "Alice")
    assert target.exists()


def test_upgrading_to_0003_starts_the_follow_up_clocks(tmp_path: Path) -> None:
    """A store made before the clocks existed gets them filled in from its history."""
    from alembic import command
    from sqlalchemy import create_engine

    from tinycrm.store.open import alembic_config

    path = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
    engine.dispose()
    raw = sqlite3.connect(path)
    raw.executescript(
        "INSERT INTO contacts (name, name_key, cadence_days, last_touch_at, created_at,"
        " updated_at, version) VALUES ('Zoë Quinn', 'zoe quinn', 30, '2026-11-10 08:00:00',"
        " '2026-01-01 00:00:00', '2026-01-01 00:00:00', 1);"
        "INSERT INTO deals (title, title_key, contact_id, value_cents, currency, stage_id,"
        " status, stage_entered_at, created_at, updated_at, version) VALUES ('Fleet', 'fleet',"
        " 1, 100, 'EUR', (SELECT id FROM stages WHERE name = 'Proposal'), 'open',"
        " '2026-11-01 09:00:00', '2026-11-01 09:00:00', '2026-11-01 09:00:00', 1);"
    )
    raw.commit()
    raw.close()
    db = open_store(str(path))
    assert db.value("SELECT touch_due_at FROM contacts") == "2026-12-10 08:00:00"
    # the contact's last touch (10 Nov) is the deal's latest sign of life; Proposal rots in 10d
    assert db.one("SELECT activity_at, rots_at FROM deals") == {
        "activity_at": "2026-11-10 08:00:00",
        "rots_at": "2026-11-20 08:00:00",
    }
    db.close()


def test_upgrading_to_0013_indexes_the_cases_already_there(tmp_path: Path) -> None:
    """A store with service cases from before the knowledge base finds them by title, body
    and solution once upgraded, and lists the closed one as like the open one."""
    from alembic import command
    from sqlalchemy import create_engine

    from tinycrm.store.open import alembic_config

    path = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0012")
    engine.dispose()
    raw = sqlite3.connect(path)
    stamp = "'2026-11-20 09:00:00'"
    raw.executescript(
        "INSERT INTO contacts (name, name_key, created_at, updated_at, version)"
        f" VALUES ('Zoë Quinn', 'zoe quinn', {stamp}, {stamp}, 1);"
        "INSERT INTO cases (contact_id, title, body, priority, status, paused_minutes,"
        " solution, created_at, updated_at, version) VALUES"
        " (1, 'Printer jams', 'paper stuck in tray 2', 'normal', 'closed', 0,"
        f" 'cleaned the rollers', {stamp}, {stamp}, 1),"
        " (1, 'Printer jams again', 'tray 2 once more', 'high', 'open', 0, NULL,"
        f" {stamp}, {stamp}, 1);"
    )
    raw.commit()
    raw.close()
    r = Runner()("--db", str(path), "search", "rollers", "--json")
    assert r.exit_code == 0, r.stderr
    assert [(h["kind"], h["id"]) for h in r.json()] == [("case", 1)]
    similar = Runner()("--db", str(path), "case", "similar", "2", "--json").json()
    assert [(s["id"], s["solution"]) for s in similar] == [(1, "cleaned the rollers")]
