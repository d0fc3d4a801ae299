"""The benchmark generator writes what the services would: a tiny-scale run must give a
store the real commands can search, show and list (so schema changes can't silently
break the measurements)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Runner
from tinycrm.store.open import open_store

ROOT = Path(__file__).resolve().parents[1]


def test_generated_store_works_with_the_real_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "bench.db"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "generate.py"),
            "--out",
            str(out),
            "--scale",
            "0.002",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    meta = json.loads(out.with_suffix(".json").read_text())
    db = open_store(str(out))
    tables = ("contacts", "companies", "interactions", "reminders", "deals", "purchases", "cases")
    for table in tables:
        assert db.value(f"SELECT count(*) FROM {table}") == meta["counts"][table] > 0
    assert db.value("SELECT count(*) FROM interaction_fts") == meta["counts"]["interactions"]
    name = db.value("SELECT name FROM contacts ORDER BY id LIMIT 1")
    db.close()

    monkeypatch.setenv("TINYCRM_DB", str(out))
    monkeypatch.setenv("TINYCRM_USER", meta["user"])
    cli = Runner()
    hits = cli.ok("search", meta["common_word"], "--kind", "note", "--json").json()
    assert hits and all(h["kind"] == "interaction" for h in hits)
    assert cli.ok("contact", "show", "c:1", "--json").json()["name"] == name
    assert cli.ok("deal", "list", "--json").json()
    assert cli.ok("todo", "--all", "--json").json()
    assert cli.ok("case", "list", "--open", "--json").json()
    assert cli.ok("report", "service", "--json").json()["team"]["resolution"]["count"] > 0
    # and every derived value (index rows, clocks, match keys) is what the services write
    report = cli.ok("doctor", "--json").json()
    assert report["problems"] == []
