"""`tinycrm backup` and `tinycrm restore`, and the automatic backups that rotate.

Real SQLite files, the real PostgreSQL server (through `store`), the real command line.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Runner
from tinycrm.io.backup import TABLES
from tinycrm.store.db import locate
from tinycrm.store.open import SCHEMA_HEAD, open_store


def _needs_pg_tools(store: str) -> None:
    if "://" in store:
        for tool in ("pg_dump", "pg_restore", "psql"):
            if shutil.which(tool) is None:
                pytest.skip(f"PostgreSQL backups need {tool} on PATH (postgresql-client)")


def _populate(cli: Runner) -> None:
    cli.ok("company", "add", "Acme")
    cli.ok("contact", "add", "Alice Wong", "--email", "alice@acme.test", "--company", "Acme")
    cli.ok("contact", "add", "Bob Stone")
    cli.ok("note", "alice", "talked about the Tokyo expansion")
    cli.ok("note", "bob", "sent the price list", "--kind", "email")
    cli.ok("remind", "alice", "tomorrow", "call back")
    cli.ok("deal", "add", "alice", "Tokyo rollout", "--value", "12000")
    cli.ok("deal", "move", "1", "Proposal")
    cli.ok("purchase", "add", "bob", "99.50")


def _snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (search indexes included), in a stable order."""
    db = open_store(url, create=False)
    try:
        if db.is_sqlite:
            names = [
                r["name"] for r in db.all("SELECT name FROM sqlite_master WHERE type = 'table'")
            ]
            # not sqlite_sequence: a restore keeps the ids given since retired (as
            # PostgreSQL's sequences, which aren't tables); test_safety_ids checks that
            names = [n for n in names if not re.search(r"_fts_\w+$", n) and n != "sqlite_sequence"]
        else:
            names = [
                r["table_name"]
                for r in db.all(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
                )
            ]
        assert len(names) >= len(TABLES)
        out = {}
        for table in names:
            columns = "rowid, *" if table.endswith("_fts") else "*"
            rows = db.all(f"SELECT {columns} FROM {table}")
            out[table] = sorted((tuple(map(str, r.values())) for r in rows), key=repr)
        return out
    finally:
        db.close()


@pytest.fixture
def sqlite_cli(sqlite_store: str) -> Runner:
    return Runner()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _backups(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_tables_list_every_table_of_the_schema() -> None:
    from sqlmodel import SQLModel

    import tinycrm.models  # noqa: F401  (registers the tables)

    assert set(TABLES) == set(SQLModel.metadata.tables) | {"alembic_version", "search_docs"}


def test_backup_then_restore_gives_back_the_same_data(
    cli: Runner, store: str, tmp_path: Path
) -> None:
    _needs_pg_tools(store)
    _populate(cli)
    before = _snapshot(store)
    assert all(before[t] for t in ("contacts", "interactions", "deals", "purchases"))
    file = tmp_path / "out" / "crm.backup"
    made = cli.ok("backup", str(file), "--json").json()
    assert made["file"] == str(file)
    assert made["backend"] == ("sqlite" if "://" not in store else "postgresql")
    assert made["bytes"] == file.stat().st_size > 0
    assert made["revision"] == SCHEMA_HEAD
    assert [made[k] for k in ("contacts", "interactions", "deals", "purchases")] == [2, 2, 1, 1]
    assert made["store"] == locate(store).describe()

    cli.ok("contact", "add", "Carol After")
    cli.ok("note", "bob", "written after the backup")
    cli.ok("contact", "rm", "alice", "--yes")
    assert _snapshot(store) != before

    done = cli.ok("restore", str(file), "--force", "--json").json()
    assert done["file"] == str(file) and done["revision"] == SCHEMA_HEAD
    assert done["upgrade_pending"] is False
    assert [done[k] for k in ("contacts", "interactions", "deals", "purchases")] == [2, 2, 1, 1]
    assert done["safety_backup"] and Path(done["safety_backup"]).is_file()
    assert _snapshot(store) == before
    # The restored store works as before: search, new rows get fresh ids (not Carol's 3).
    assert [h["title"] for h in cli.ok("search", "tokyo", "--json").json()][:1] == ["Alice Wong"]
    assert cli.ok("contact", "add", "Dan New", "--json").json()["id"] == 4


def test_backup_prints_path_size_and_counts(cli: Runner, store: str, home: Path) -> None:
    _needs_pg_tools(store)
    _populate(cli)
    r = cli.ok("backup")
    folder = Path(store).parent / "backups" if "://" not in store else home / "backups"
    (name,) = _backups(folder)
    assert name.startswith("tinycrm-") and name.endswith(".db" if "://" not in store else ".dump")
    size = (folder / name).stat().st_size
    assert r.stdout.startswith(f"Backed up {locate(store).describe()} to {folder / name} (")
    assert "2 contacts, 2 interactions, 1 deal, 1 purchase" in r.stdout
    assert f"schema {SCHEMA_HEAD}" in r.stdout and (size > 1024)
    # A second backup in the same second gets a name of its own.
    cli.ok("backup")
    assert len(_backups(folder)) == 2


def test_backup_refuses_to_overwrite_without_force(cli: Runner, store: str, tmp_path: Path) -> None:
    _needs_pg_tools(store)
    file = tmp_path / "taken.bak"
    file.write_bytes(b"precious")
    r = cli("backup", str(file))
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == f"Error: {file} already exists; pass --force to overwrite it\n"
    assert file.read_bytes() == b"precious"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".taken")] == []
    cli.ok("backup", str(file), "--force")
    assert file.read_bytes() != b"precious"
    r = cli("backup", str(tmp_path))
    assert (r.exit_code, r.stderr) == (2, f"Error: {tmp_path} is a folder; give a file name\n")


def test_sqlite_backup_is_one_private_checked_file(sqlite_cli: Runner, sqlite_store: str) -> None:
    _populate(sqlite_cli)
    sqlite_cli.ok("backup")
    folder = Path(sqlite_store).parent / "backups"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    (name,) = _backups(folder)
    path = folder / name
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (SCHEMA_HEAD,)
    conn.close()
    # A backup is a store: tinycrm opens it directly.
    names = [
        c["name"] for c in sqlite_cli.ok("--db", str(path), "contact", "list", "--json").json()
    ]
    assert sorted(names) == ["Alice Wong", "Bob Stone"]


def test_a_backup_of_a_missing_store_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "tinycrm.db"
    r = Runner()("--db", str(missing), "backup")
    assert (r.exit_code, r.stderr) == (1, f"Error: no store at {missing}\n")
    assert not missing.parent.exists()
    foreign = tmp_path / "other.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE stuff (x)")
    conn.commit()
    conn.close()
    r = Runner()("--db", str(foreign), "backup")
    assert r.exit_code == 1
    assert r.stderr.startswith(f"Error: {foreign} is an SQLite file but not a tinycrm store")
    assert not (tmp_path / "backups").exists()


WRITER = """
import sys
from tinycrm.cli.entry import run
for i in range(int(sys.argv[1])):
    if run(["note", "alice", f"note {i:05d}"]):
        sys.exit(1)
"""


@pytest.mark.slow
def test_backup_while_another_process_writes(
    sqlite_cli: Runner, sqlite_store: str, tmp_path: Path
) -> None:
    sqlite_cli.ok("contact", "add", "Alice Wong")
    env = {**os.environ, "TINYCRM_BUSY_TIMEOUT": "30"}
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, "400"], env=env, stderr=subprocess.PIPE, text=True
    )
    taken: list[Path] = []
    try:
        deadline = time.monotonic() + 60
        while len(taken) < 3 and time.monotonic() < deadline:
            conn = sqlite3.connect(sqlite_store)
            n = conn.execute("SELECT count(*) FROM interactions").fetchone()[0]
            conn.close()
            if n >= 20 * (len(taken) + 1):
                file = tmp_path / f"during-{len(taken)}.db"
                sqlite_cli.ok("backup", str(file))
                taken.append(file)
            time.sleep(0.01)
    finally:
        _, err = writer.communicate(timeout=180)
    assert writer.returncode == 0, err
    assert len(taken) == 3
    sizes = []
    for file in taken:
        conn = sqlite3.connect(file)
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        bodies = [r[0] for r in conn.execute("SELECT body FROM interactions ORDER BY id")]
        docs = conn.execute("SELECT count(*) FROM interaction_fts")
        assert docs.fetchone()[0] == len(bodies)  # each note and its index row, or neither
        conn.close()
        # A consistent prefix: the first k notes, none missing, none half there.
        assert bodies == [f"note {i:05d}" for i in range(len(bodies))]
        sizes.append(len(bodies))
    assert sizes == sorted(sizes) and 0 < sizes[0] < 400
    assert len(Runner().ok("log", "--json", "--limit", "1000").json()) == 401


def _store_state(path: Path) -> tuple[str, list[str]]:
    return _digest(path), _backups(path.parent)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "flipped", "foreign", "empty"])
def test_restore_refuses_what_is_not_a_good_backup(
    sqlite_cli: Runner, sqlite_store: str, tmp_path: Path, damage: str
) -> None:
    _populate(sqlite_cli)
    good = tmp_path / "good.db"
    sqlite_cli.ok("backup", str(good))
    bad = tmp_path / "bad.db"
    if damage == "garbage":
        bad.write_bytes(b"this is not a database at all\n" * 500)
    elif damage == "truncated":
        bad.write_bytes(good.read_bytes()[: good.stat().st_size // 3])
    elif damage == "flipped":
        data = bytearray(good.read_bytes())
        for page in range(2, len(data) // 4096, 5):
            data[page * 4096 : page * 4096 + 12] = b"\xff" * 12  # b-tree page headers
        bad.write_bytes(bytes(data))
    elif damage == "foreign":
        conn = sqlite3.connect(bad)
        conn.execute("CREATE TABLE stuff (x)")
        conn.commit()
        conn.close()
    else:
        bad.write_bytes(b"")
    path = Path(sqlite_store)
    before = _store_state(path)
    r = sqlite_cli("restore", str(bad), "--force")
    assert r.exit_code == 2, r.stderr
    assert r.stdout == "" and r.stderr.startswith(f"Error: {bad} ")
    assert r.stderr.count("\n") == 1
    assert ("not a tinycrm backup" in r.stderr) or ("is damaged" in r.stderr)
    assert _store_state(path) == before  # untouched, no safety backup, no temporary files


def test_restore_refuses_a_backup_from_a_newer_tinycrm(
    sqlite_cli: Runner, sqlite_store: str, tmp_path: Path
) -> None:
    file = tmp_path / "newer.db"
    sqlite_cli.ok("backup", str(file))
    conn = sqlite3.connect(file)
    conn.execute("UPDATE alembic_version SET version_num = '0099'")
    conn.commit()
    conn.close()
    before = _store_state(Path(sqlite_store))
    r = sqlite_cli("restore", str(file), "--force")
    assert (r.exit_code, r.stderr) == (
        1,
        f"Error: {file} has schema revision 0099, newer than this tinycrm knows ({SCHEMA_HEAD});"
        " upgrade tinycrm to restore it\n",
    )
    assert _store_state(Path(sqlite_store)) == before


def test_restore_of_a_missing_file(sqlite_cli: Runner, sqlite_store: str, tmp_path: Path) -> None:
    r = sqlite_cli("restore", str(tmp_path / "nope.db"))
    assert (r.exit_code, r.stderr) == (2, f"Error: no backup file at {tmp_path / 'nope.db'}\n")


def test_restore_asks_before_replacing_data(cli: Runner, store: str, tmp_path: Path) -> None:
    _needs_pg_tools(store)
    file = tmp_path / "empty.bak"
    cli.ok("backup", str(file))  # of the empty store
    cli.ok("contact", "add", "Alice Wong")
    r = cli("restore", str(file))
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == (
        f"Error: the store {locate(store).describe()} has data (1 contact); pass --force"
        " to replace it\n"
    )
    assert [c["name"] for c in cli.ok("contact", "list", "--json").json()] == ["Alice Wong"]


def test_restore_into_an_empty_or_missing_store_needs_no_force(
    sqlite_cli: Runner, sqlite_store: str, tmp_path: Path
) -> None:
    _populate(sqlite_cli)
    file = tmp_path / "full.db"
    sqlite_cli.ok("backup", str(file))
    fresh = tmp_path / "elsewhere" / "tinycrm.db"
    r = sqlite_cli.ok("--db", str(fresh), "restore", str(file), "--json").json()
    assert r["safety_backup"] is None and r["contacts"] == 2
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600
    assert _snapshot(str(fresh)) == _snapshot(sqlite_store)
    assert sorted(p.name for p in fresh.parent.iterdir()) == ["tinycrm.db"]


def test_restore_keeps_a_safety_backup_that_undoes_it(
    cli: Runner, store: str, tmp_path: Path
) -> None:
    _needs_pg_tools(store)
    cli.ok("contact", "add", "Old Timer")
    file = tmp_path / "old.bak"
    cli.ok("backup", str(file))
    _populate(cli)
    current = _snapshot(store)
    r = cli.ok("restore", str(file), "--force")
    safety = Path(r.stdout.split("The store as it was is in ", 1)[1].split("\n", 1)[0])
    assert safety.is_file() and stat.S_IMODE(safety.stat().st_mode) == 0o600
    assert ".before-restore-" in safety.name
    assert [c["name"] for c in cli.ok("contact", "list", "--json").json()] == ["Old Timer"]
    cli.ok("restore", str(safety), "--force")
    assert _snapshot(store) == current


def test_restore_replaces_an_unreadable_store_and_keeps_its_bytes(
    sqlite_cli: Runner, sqlite_store: str, tmp_path: Path
) -> None:
    _populate(sqlite_cli)
    file = tmp_path / "good.db"
    sqlite_cli.ok("backup", str(file))
    path = Path(sqlite_store)
    for side in ("-wal", "-shm"):
        with pytest.raises(FileNotFoundError):
            path.with_name(path.name + side).stat()
    path.write_bytes(b"scrambled by a bad disk" * 1000)
    path.with_name(path.name + "-wal").write_bytes(b"stale wal")
    r = sqlite_cli("restore", str(file))
    assert r.exit_code == 2 and "unreadable" in r.stderr and "--force" in r.stderr
    done = sqlite_cli.ok("restore", str(file), "--force", "--json").json()
    safety = Path(done["safety_backup"])
    assert safety.read_bytes() == b"scrambled by a bad disk" * 1000
    assert safety.with_name(safety.name + "-wal").read_bytes() == b"stale wal"
    assert not path.with_name(path.name + "-wal").exists()
    assert len(sqlite_cli.ok("contact", "list", "--json").json()) == 2


def test_restore_waits_for_a_writer_then_gives_up_cleanly(
    sqlite_cli: Runner, sqlite_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "b.db"
    sqlite_cli.ok("backup", str(file))
    sqlite_cli.ok("contact", "add", "Alice Wong")
    monkeypatch.setenv("TINYCRM_BUSY_TIMEOUT", "0.3")
    blocker = sqlite3.connect(sqlite_store, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        r = sqlite_cli("restore", str(file), "--force")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert r.exit_code == 1
    assert "stayed locked by another process" in r.stderr and "nothing was restored" in r.stderr
    assert [c["name"] for c in sqlite_cli.ok("contact", "list", "--json").json()] == ["Alice Wong"]
    folder = Path(sqlite_store).parent
    assert _backups(folder / "backups") == []  # no safety backup without a restore
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == []


def test_other_connections_see_the_restored_store(
    sqlite_cli: Runner, sqlite_store: str, tmp_path: Path
) -> None:
    """A process that keeps the store open (the TUI) reads the restored data next time."""
    file = tmp_path / "b.db"
    sqlite_cli.ok("contact", "add", "From Backup")
    sqlite_cli.ok("backup", str(file))
    sqlite_cli.ok("contact", "add", "Added Later")
    other = open_store(sqlite_store)
    try:
        assert other.value("SELECT count(*) AS n FROM contacts") == 2
        sqlite_cli.ok("restore", str(file), "--force")
        assert [r["name"] for r in other.all("SELECT name FROM contacts")] == ["From Backup"]
        with other.write():  # and can keep writing to it
            other.execute(
                "INSERT INTO users (name, created_at) VALUES ('zed', '2026-11-23 09:00:00')"
            )
    finally:
        other.close()
    conn = sqlite3.connect(sqlite_store)
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    conn.close()


def test_an_older_backup_is_restored_and_upgraded_on_next_use(
    sqlite_cli: Runner, sqlite_store: str, tmp_path: Path
) -> None:
    from tests.test_store import _make_old_store

    old = tmp_path / "old.db"
    _make_old_store(old)
    sqlite_cli.ok("contact", "add", "Current")
    r = sqlite_cli.ok("restore", str(old), "--force")
    assert "It has schema 0001; it is upgraded to" in r.stdout
    assert [h["title"] for h in sqlite_cli.ok("search", "tokyo", "--json").json()] == ["Zoë Quinn"]
    names = _backups(Path(sqlite_store).parent / "backups")
    whats = sorted(n.split(".before-")[1].split("-")[0] for n in names)
    assert whats == [SCHEMA_HEAD, "restore"]


def test_rotation_keeps_the_newest_automatic_backups_only(
    sqlite_cli: Runner, sqlite_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = tmp_path / "settings.toml"
    settings.write_text("keep_backups = 2\n", encoding="utf-8")
    monkeypatch.setenv("TINYCRM_SETTINGS", str(settings))
    folder = Path(sqlite_store).parent / "backups"
    folder.mkdir(mode=0o700)
    mine = [
        "tinycrm-20200101-000000.db",  # made by `tinycrm backup`
        "tinycrm.db.before-big-cleanup.bak",  # named by hand
        "keep-me.db",
        "other.db.before-restore-20200101T000000Z.bak",  # another store's
    ]
    for name in mine:
        (folder / name).write_bytes(b"x")
    file = tmp_path / "b.db"
    sqlite_cli.ok("backup", str(file))
    made = []
    for i in range(4):
        sqlite_cli.ok("contact", "add", f"Person {i}")
        made.append(
            sqlite_cli.ok("restore", str(file), "--force", "--json").json()["safety_backup"]
        )
    kept = [n for n in _backups(folder) if n not in mine]
    assert kept == sorted(Path(p).name for p in made[-2:])
    assert all((folder / n).read_bytes() == b"x" for n in mine)
    # The newest one is the store just before the last restore.
    conn = sqlite3.connect(made[-1])
    assert conn.execute("SELECT count(*) FROM contacts").fetchone() == (1,)
    conn.close()


def test_rotate_backups_orders_by_stamp_and_sequence(tmp_path: Path) -> None:
    from tinycrm.store.backups import rotate_backups

    names = [
        "crm.db.before-0005-from-0003-20261101T080000Z.bak",
        "crm.db.before-restore-20261102T080000Z.bak",
        "crm.db.before-restore-20261102T080000Z-2.bak",
        "crm.db.before-restore-20261102T080000Z-10.bak",
        "crm.db.before-merge-20261103T080000Z.bak",
        "crm.db.before-restore-20261102T080000Z.bak-wal",  # not a backup name: kept
    ]
    for name in names:
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "crm.db.before-x-20200101T000000Z.bak").mkdir()  # a folder: never touched
    removed = rotate_backups(tmp_path, "crm.db", 3)
    assert sorted(p.name for p in removed) == [names[0], names[1]]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [*names[2:], "crm.db.before-x-20200101T000000Z.bak"]
    )


def test_keep_backups_must_be_a_sensible_number(
    sqlite_cli: Runner, sqlite_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = tmp_path / "settings.toml"
    settings.write_text("keep_backups = 0\n", encoding="utf-8")
    monkeypatch.setenv("TINYCRM_SETTINGS", str(settings))
    r = sqlite_cli("backup")
    assert (r.exit_code, r.stderr) == (
        2,
        f"Error: keep_backups in {settings} must be a whole number from 1 to 1000\n",
    )


def test_migrations_back_up_into_the_rotating_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_store import _make_old_store

    settings = tmp_path / "settings.toml"
    settings.write_text("keep_backups = 1\n", encoding="utf-8")
    monkeypatch.setenv("TINYCRM_SETTINGS", str(settings))
    path = tmp_path / "old.db"
    backups = tmp_path / "backups"
    backups.mkdir()
    stale = backups / "old.db.before-0004-from-0001-20200101T000000Z.bak"
    stale.write_bytes(b"")
    _make_old_store(path)
    Runner().ok("--db", str(path), "todo")
    (made,) = backups.glob(f"old.db.before-{SCHEMA_HEAD}-from-0001-*.bak")
    assert not stale.exists()  # rotated away: only one kept
    conn = sqlite3.connect(made)
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)
    conn.close()


# -- PostgreSQL specifics ------------------------------------------------------------------------
def test_pg_passwords_stay_off_command_lines_and_out_of_messages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tinycrm.store.backups import pg_command_env

    conninfo, env = pg_command_env(locate("postgresql+psycopg://sam:s%40cret@db.example:5433/crm"))
    assert conninfo == "postgresql://sam@db.example:5433/crm"
    assert env["PGPASSWORD"] == "s@cret"
    r = Runner()("--db", "postgresql://sam:s3cret@127.0.0.1:1/crm", "backup")
    assert r.exit_code == 1 and "s3cret" not in r.stderr + r.stdout
    monkeypatch.setenv("PATH", str(tmp_path))  # no client tools
    r = Runner()("--db", "postgresql://sam:s3cret@127.0.0.1:1/crm", "backup")
    assert (r.exit_code, r.stderr) == (
        1,
        "Error: backing up a PostgreSQL store needs pg_dump, which is not installed; install"
        " the PostgreSQL client tools (the same major version as the server, or newer) and"
        " retry\n",
    )
    assert not (tmp_path / "home").exists()  # nothing made before the refusal
    file = tmp_path / "x.dump"
    file.write_bytes(b"PGDMP")
    r = Runner()("--db", "postgresql://sam:s3cret@127.0.0.1:1/crm", "restore", str(file))
    assert r.exit_code == 1 and "needs pg_restore, which is not installed" in r.stderr


def test_pg_restore_refuses_a_file_that_is_not_a_dump(pg_store: str, tmp_path: Path) -> None:
    cli = Runner()
    _needs_pg_tools(pg_store)
    cli.ok("contact", "add", "Alice Wong")
    bad = tmp_path / "bad.dump"
    bad.write_bytes(b"not a dump")
    r = cli("restore", str(bad), "--force")
    assert (r.exit_code, r.stderr) == (2, f"Error: {bad} is not a readable pg_dump archive\n")
    assert [c["name"] for c in cli.ok("contact", "list", "--json").json()] == ["Alice Wong"]


LOGGER = """
import sys
from tinycrm.cli.entry import run
for i in range(int(sys.argv[1])):
    if run(["note", "alice", f"live {i:05d}"]) == 0:
        print(i, file=sys.stderr, flush=True)
"""


@pytest.mark.slow
def test_no_write_is_lost_when_restoring_under_load(
    sqlite_cli: Runner, sqlite_store: str, tmp_path: Path
) -> None:
    """Every note another process managed to write is in the safety backup (written
    before the restore) or in the restored store (written after it): none in between."""
    sqlite_cli.ok("contact", "add", "Alice Wong")
    file = tmp_path / "b.db"
    sqlite_cli.ok("backup", str(file))
    env = {**os.environ, "TINYCRM_BUSY_TIMEOUT": "30"}
    writer = subprocess.Popen(
        [sys.executable, "-c", LOGGER, "300"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    safeties: list[str] = []
    assert writer.stderr is not None
    # restore only once the writer is writing: on a loaded machine its start-up alone can
    # outlast three restores, and then no restore replaces anything it wrote
    first = writer.stderr.readline()
    try:
        deadline = time.monotonic() + 60
        while len(safeties) < 3 and time.monotonic() < deadline and writer.poll() is None:
            time.sleep(0.15)
            done = sqlite_cli.ok("restore", str(file), "--force", "--json").json()
            safeties.append(done["safety_backup"])
    finally:
        _, err = writer.communicate(timeout=180)
    written = {f"live {int(i):05d}" for i in (first + err).split() if i.isdigit()}
    assert len(safeties) >= 2 and written

    def notes(path: str) -> set[str]:
        conn = sqlite3.connect(path)
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        found = {r[0] for r in conn.execute("SELECT body FROM interactions")}
        conn.close()
        return found

    in_safeties = set().union(*(notes(p) for p in safeties))
    assert written & in_safeties  # the restores did replace notes written meanwhile
    assert written <= in_safeties | notes(sqlite_store)
