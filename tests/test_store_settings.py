"""tinycrm.store uses the settings its caller passes in, and never reads the settings file
or the environment itself (the import-linter contract keeps config out of it too)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import Runner
from tinycrm import config
from tinycrm.errors import StoreError
from tinycrm.store.backups import auto_backup, backups_dir
from tinycrm.store.db import StoreSettings, locate
from tinycrm.store.open import open_store


@pytest.fixture
def settings_file_says_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    """The settings file and the environment say something else than the test passes."""
    path = config.settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("keep_backups = 9\n", encoding="utf-8")
    monkeypatch.setenv("TINYCRM_BUSY_TIMEOUT", "7")


@pytest.mark.usefixtures("settings_file_says_otherwise")
def test_automatic_backups_rotate_by_the_settings_passed_in(store: str, tmp_path: Path) -> None:
    settings = StoreSettings(keep_backups=2, pg_backups=tmp_path / "pg-backups")
    db = open_store(store, settings=settings)
    try:
        made = [auto_backup(db, f"step{n}") for n in range(4)]
    finally:
        db.close()
    folder = backups_dir(locate(store, settings))
    assert sorted(folder.iterdir()) == sorted(made[-2:])


@pytest.mark.usefixtures("settings_file_says_otherwise")
def test_a_locked_store_names_the_busy_timeout_passed_in(sqlite_store: str) -> None:
    blocker = sqlite3.connect(sqlite_store, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        db = open_store(sqlite_store, settings=StoreSettings(busy_timeout=0.2))
        try:
            with pytest.raises(StoreError, match=r"stayed locked by another process for 0\.2 s"):
                with db.write():
                    pass
        finally:
            db.close()
    finally:
        blocker.rollback()
        blocker.close()


def test_a_postgresql_store_without_a_backup_folder_is_refused_not_guessed() -> None:
    location = locate("postgresql://someone@db.example/crm")
    with pytest.raises(StoreError, match="no folder for backups"):
        backups_dir(location)
    given = locate("postgresql://someone@db.example/crm", StoreSettings(pg_backups=Path("/b")))
    assert backups_dir(given) == Path("/b")


def test_the_cli_passes_the_settings_file_down(
    sqlite_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the settings file and TINYCRM_BUSY_TIMEOUT say reaches the store through
    config.store_settings(), the one place that reads them."""
    path = config.settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("keep_backups = 3\n", encoding="utf-8")
    monkeypatch.setenv("TINYCRM_BUSY_TIMEOUT", "0.3")
    assert config.store_settings() == StoreSettings(
        busy_timeout=0.3, keep_backups=3, pg_backups=config.data_dir() / "backups"
    )
    blocker = sqlite3.connect(sqlite_store, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        result = Runner()("contact", "add", "Ada Lovelace")
    finally:
        blocker.rollback()
        blocker.close()
    assert result.exit_code != 0
    assert "stayed locked by another process for 0.3 s" in result.stderr
