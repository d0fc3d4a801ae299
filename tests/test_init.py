"""`tinycrm init`: a store, a user and the settings line, on SQLite and on a fresh
PostgreSQL database; passwords never shown; files private."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PG_URL, Runner, _pg_admin_url
from tinycrm.store.open import SCHEMA_HEAD

TINYCRM = Path(sys.executable).parent / "tinycrm"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_creates_the_store_the_user_and_the_settings(home: Path, tmp_path: Path) -> None:
    store = tmp_path / "team" / "crm.db"
    r = Runner().ok(
        "init", "--db", str(store), "--user", "Sam Lee", "--email", "sam@x.com",
        "--timezone", "Europe/Berlin",
    )  # fmt: skip
    assert r.stdout.splitlines() == [
        f"Store: {store} (SQLite, schema {SCHEMA_HEAD}, created)",
        "You: Sam Lee <sam@x.com>, Europe/Berlin",
        f"Settings: {home / 'settings.toml'} (db, user, timezone written)",
        'Next: tinycrm contact add "Alice Wong" --email alice@example.com',
    ]
    settings = home / "settings.toml"
    assert tomllib.loads(settings.read_text()) == {
        "db": str(store),
        "user": "Sam Lee",
        "timezone": "Europe/Berlin",
    }
    assert mode(settings) == 0o600 and mode(home) == 0o700
    assert mode(store) == 0o600 and mode(store.parent) == 0o700
    # later commands use that store, as that user, without --db
    os.environ.pop("TINYCRM_USER")
    Runner().ok("contact", "add", "Alice Wong")
    assert Runner().ok("contact", "list", "--json").json()[0]["owner"] == "Sam Lee"
    assert [u["name"] for u in Runner().ok("user", "list", "--json").json()] == ["Sam Lee"]
    # again: nothing changes
    again = Runner().ok("init", "--json").json()
    assert again["status"] == "ready" and again["settings_changed"] == []
    assert again["email"] == "sam@x.com" and again["store"] == str(store)


def test_init_edits_only_its_lines_of_the_settings_file(home: Path, tmp_path: Path) -> None:
    home.mkdir(parents=True)
    settings = home / "settings.toml"
    original = (
        "# my tinycrm settings\n"
        'currency = "GBP"   # pounds\n'
        'db = "/old/place.db"\n'
        "\n"
        "[smtp]\n"
        'host = "mail.example"\n'
        'db = "not this one"\n'
    )
    settings.write_text(original)
    settings.chmod(0o644)
    store = tmp_path / "new.db"
    r = Runner()("init", "--db", str(store))
    assert r.exit_code == 1
    assert r.stderr == (
        f"Error: {settings} already says db = '/old/place.db'; pass --force to change it to"
        f" '{store}'\n"
    )
    assert settings.read_text() == original and not store.exists()
    Runner().ok("init", "--db", str(store), "--force")
    assert settings.read_text() == original.replace("/old/place.db", str(store))
    assert mode(settings) == 0o600
    # a new key goes with the other top-level keys, not into [smtp]
    Runner().ok("init", "--timezone", "Asia/Tokyo")
    parsed = tomllib.loads(settings.read_text())
    assert parsed["timezone"] == "Asia/Tokyo" and "timezone" not in parsed["smtp"]
    assert settings.read_text().startswith("# my tinycrm settings\n")


def test_init_upgrades_an_older_store_after_a_backup(home: Path, tmp_path: Path) -> None:
    from tests.test_store import _make_old_store

    old = tmp_path / "old.db"
    _make_old_store(old)
    view = Runner().ok("init", "--db", str(old), "--json").json()
    assert (view["status"], view["upgraded_from"], view["revision"]) == (
        "upgraded",
        "0001",
        SCHEMA_HEAD,
    )
    backup = Path(view["backup"])
    assert backup.parent == tmp_path / "backups" and mode(backup) == 0o600
    assert mode(tmp_path / "backups") == 0o700
    Runner().ok("doctor", "--repair")  # 0001 indexed nothing; the repair fills the index
    assert Runner().ok("search", "tokyo", "--json").json()[0]["title"] == "Zoë Quinn"


def test_bad_answers_change_nothing(home: Path, tmp_path: Path) -> None:
    store = tmp_path / "crm.db"
    for args, fragment in (
        (("--timezone", "Mars/Olympus"), "unknown timezone 'Mars/Olympus'"),
        (("--email", "nope"), "not an email address: 'nope'"),
        (("--user", "  "), "user name can't be empty"),
    ):
        r = Runner()("init", "--db", str(store), *args)
        assert r.exit_code == 2 and r.stderr.count("\n") == 1 and fragment in r.stderr
    assert not store.exists() and not (home / "settings.toml").exists()


@pytest.fixture
def fresh_pg_database() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("PostgreSQL tests need TINYCRM_TEST_PG_URL (CI sets it)")
    import psycopg

    name = f"tinycrm_init_{uuid.uuid4().hex[:8]}"
    admin = _pg_admin_url(PG_URL)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, query = PG_URL.partition("?")
    try:
        yield base.rsplit("/", 1)[0] + "/" + name + (f"?{query}" if query else "")
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.pg
def test_init_sets_up_a_shared_postgresql_store(home: Path, fresh_pg_database: str) -> None:
    url = fresh_pg_database
    r = Runner().ok("init", "--db", url, "--user", "sam", "--email", "sam@x.com")
    assert r.stdout.splitlines()[0].endswith(f"(PostgreSQL, schema {SCHEMA_HEAD}, created)")
    assert tomllib.loads((home / "settings.toml").read_text())["db"] == url
    # a second salesperson on another machine joins the same store, once a user added them
    other = home.parent / "other-home"
    env = {**os.environ, "TINYCRM_HOME": str(other), "TINYCRM_USER": "kim"}
    join = [str(TINYCRM), "init", "--db", url, "--user", "kim"]
    done = subprocess.run(join, env=env, capture_output=True, text=True)
    assert done.returncode == 2 and "tinycrm user add kim" in done.stderr, done.stderr
    Runner().ok("user", "add", "kim")
    done = subprocess.run(join, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert f"(PostgreSQL, schema {SCHEMA_HEAD}, already set up)" in done.stdout
    assert [u["name"] for u in Runner().ok("user", "list", "--json").json()] == ["kim", "sam"]
    Runner().ok("doctor")


def test_passwords_never_appear(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A URL with a password to a closed port: masked in every message, and nothing
    written to the settings file when the store can't be reached."""
    url = "postgresql://sam:pa55-w0rd@127.0.0.1:1/crm"
    for args in (("init", "--db", url), ("--db", url, "doctor"), ("--db", url, "backup")):
        r = Runner()(*args)
        assert r.exit_code == 1, args
        assert "pa55-w0rd" not in r.stdout + r.stderr
        assert "sam:***@127.0.0.1:1/crm" in r.stderr
    assert not (home / "settings.toml").exists()
    monkeypatch.setenv("TINYCRM_DEBUG", "")  # the subprocess too: a real run, real stderr
    done = subprocess.run(
        [TINYCRM, "init", "--db", "postgresql://sam:pa55%40w0rd@127.0.0.1:1/crm?sslmode=disable"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "pa55" not in done.stderr and done.stderr.count("\n") == 1
