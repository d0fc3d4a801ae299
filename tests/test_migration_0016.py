"""Migration 0016 (custom fields) on a store made before it: the new tables arrive empty
and journalled, what was there stays, and fields work at once (#23)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.conftest import Runner
from tinycrm.store.open import SCHEMA_HEAD, open_store


def test_upgrading_a_0012_store_adds_custom_fields_and_keeps_the_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
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
    raw.executescript(
        "INSERT INTO companies (name, name_key, created_at, updated_at, version)"
        " VALUES ('Acme', 'acme', '2026-01-01 00:00:00', '2026-01-01 00:00:00', 1);"
        "INSERT INTO contacts (name, name_key, company_id, created_at, updated_at, version)"
        " VALUES ('Zoë Quinn', 'zoe quinn', 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00', 1);"
    )
    raw.commit()
    raw.close()
    db = open_store(str(path))
    try:
        # opening it runs every migration since, custom fields' (0016) among them
        assert db.value("SELECT version_num FROM alembic_version") == SCHEMA_HEAD
        assert db.value("SELECT count(*) FROM custom_fields") == 0
        assert db.value("SELECT name FROM contacts") == "Zoë Quinn"
        triggers = {
            str(r["name"]) for r in db.all("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        }
        for table in ("custom_fields", "custom_values"):
            for event in ("insert", "update", "delete"):
                assert f"{table}_journal_{event}" in triggers
    finally:
        db.close()
    monkeypatch.setenv("TINYCRM_DB", str(path))
    cli = Runner()
    cli.ok("field", "add", "company", "industry", "--type", "choice", "--choices", "retail,bank")
    cli.ok("company", "edit", "acme", "--set", "industry=bank")
    assert "industry\tbank\n" in cli.ok("company", "show", "acme").stdout
    cli.ok("undo")
    assert "industry" not in cli.ok("company", "show", "acme").stdout
    assert (path.parent / "backups").is_dir()  # the upgrade backed the old store up first
