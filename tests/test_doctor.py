"""`tinycrm doctor`: a store damaged on purpose, found and repaired, on both backends."""

from __future__ import annotations

import contextlib
import re
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Runner


@contextlib.contextmanager
def raw(url: str) -> Iterator[Any]:
    """A plain DB-API connection with foreign keys off, as a careless tool would have:
    SQLite's pragma, PostgreSQL's replica role (which skips the FK triggers)."""
    if url.startswith("postgres"):
        import psycopg

        conn = psycopg.connect(
            re.sub(r"^postgres(ql)?(\+psycopg)?://", "postgresql://", url), autocommit=True
        )
        conn.execute("SET session_replication_role = replica")
        try:
            yield conn
        finally:
            conn.close()
    else:
        lite = sqlite3.connect(url, isolation_level=None)
        lite.execute("PRAGMA foreign_keys = OFF")
        try:
            yield lite
        finally:
            lite.close()


def sql(url: str, statement: str) -> None:
    with raw(url) as conn:
        conn.execute(statement)


def found(r: Any) -> set[tuple[str, str | None, int | None]]:
    return {(p["check"], p["table"], p["id"]) for p in r.json()["problems"]}


@pytest.fixture
def seeded(cli: Runner, store: str) -> str:
    cli.ok("contact", "add", "Alice Wong", "-e", "alice@acme.com", "--tag", "vip", "--every", "30d")
    cli.ok("contact", "add", "Bob Stone", "-p", "+44 20 7946 0958")
    cli.ok("note", "alice", "talked about the pilot")
    cli.ok("deal", "add", "alice", "Pilot", "--value", "1200")
    cli.ok("case", "add", "alice", "Login fails", "--priority", "high")
    return store


def test_a_fresh_store_is_healthy(cli: Runner, seeded: str) -> None:
    r = cli.ok("doctor")
    assert re.fullmatch(
        r"setting: escalate-after = 3 \(the default\)\n"
        r"setting: big-deal-threshold = none \(the default\)\n"
        r".* is healthy \(schema \d{4}; checked .*search index.*\)\n",
        r.stdout,
    )
    report = cli.ok("doctor", "--json").json()
    assert report["healthy"] is True and report["problems"] == []
    assert "orphans" in report["checks"] and "clocks" in report["checks"]
    assert ("integrity" in report["checks"]) == (report["backend"] == "sqlite")


def _damage(url: str) -> None:
    pg = url.startswith("postgres")
    # the index: a row lost, a row left behind, a row with old text
    if pg:
        sql(url, "DELETE FROM search_docs WHERE kind = 'contact' AND ref_id = 1")
        sql(url, "INSERT INTO search_docs VALUES ('interaction', 77, 'ghost')")
        sql(url, "UPDATE search_docs SET body = 'old title' WHERE kind = 'deal' AND ref_id = 1")
    else:
        sql(url, "DELETE FROM contact_fts WHERE rowid = 1")
        sql(url, "INSERT INTO interaction_fts (rowid, body) VALUES (77, 'ghost')")
        sql(url, "UPDATE deal_fts SET body = 'old title' WHERE rowid = 1")
    # orphans written with foreign keys off: a note about nobody (CASCADE), a deal of a
    # company that is gone (SET NULL)
    sql(
        url,
        "INSERT INTO interactions (id, contact_id, kind, body, happened_at, created_at)"
        " VALUES (50, 99, 'note', 'about nobody', '2026-11-01 10:00:00', '2026-11-01 10:00:00')",
    )
    sql(url, "UPDATE deals SET company_id = 42 WHERE id = 1")
    # a clock and a match key knocked out of step
    sql(url, "UPDATE contacts SET touch_due_at = '2020-01-01 00:00:00' WHERE id = 1")
    sql(url, "UPDATE cases SET sla_due_at = NULL WHERE id = 1")
    sql(url, "UPDATE contact_methods SET match_key = NULL WHERE kind = 'phone'")
    sql(url, "UPDATE contact_methods SET match_key = 'someone@else' WHERE kind = 'email'")


def test_doctor_finds_each_problem_and_repair_fixes_it(cli: Runner, seeded: str) -> None:
    _damage(seeded)
    r = cli("doctor", "--json")
    assert r.exit_code == 1 and r.stderr == ""
    assert found(r) == {
        ("search index", "contact", 1),
        ("search index", "interaction", 77),
        ("search index", "interaction", 50),  # the orphan note was never indexed
        ("search index", "deal", 1),
        ("orphans", "interactions", 50),
        ("orphans", "deals", 1),
        ("clocks", "contacts", 1),
        ("clocks", "cases", 1),
        ("match keys", "contact_methods", 1),
        ("match keys", "contact_methods", 2),
    }
    details = {(p["check"], p["table"], p["id"]): p["detail"] for p in r.json()["problems"]}
    assert details[("search index", "contact", 1)].startswith("missing")
    assert details[("search index", "interaction", 77)].startswith("extra")
    assert details[("search index", "deal", 1)].startswith("stale")
    assert details[("orphans", "deals", 1)] == (
        "company_id 42 points at no companies row (repair clears company_id)"
    )
    assert "should be 2026-12-23 09:00 UTC" in details[("clocks", "contacts", 1)]
    # high: first response within 4 working hours of Mon 10:00 Berlin
    assert details[("clocks", "cases", 1)] == ("sla_due_at is none, should be 2026-11-23 13:00 UTC")
    # the plain report: one line per problem, then what to do
    plain = cli("doctor")
    assert plain.exit_code == 1
    lines = plain.stdout.splitlines()
    assert len(lines) == 13  # 10 problems, 2 settings, the summary
    assert "search index: contact #1: missing: search can't find it" in lines
    assert lines[-1].endswith("tinycrm doctor --repair fixes 10 (after a backup)")
    assert cli.ok("search", "alice", "--json").json() == []  # the damage is real

    fixed = cli.ok("doctor", "--repair", "--json").json()
    assert fixed["healthy"] is True and fixed["problems"] == []
    assert fixed["repaired"] == 9  # the orphan note went, and its index problem with it
    backup = Path(fixed["backup"])
    if seeded.startswith("postgres"):
        assert backup.suffix == ".dump"
    else:
        assert backup.parent == Path(seeded).parent / "backups"
    assert backup.exists() and stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert re.search(r"\.before-repair-\d{8}T\d{6}Z\.(bak|dump)$", backup.name)
    assert " is healthy " in cli.ok("doctor").stdout
    assert [h["title"] for h in cli.ok("search", "alice", "--json").json()] == ["Alice Wong"]
    assert cli.ok("case", "show", "1", "--json").json()["sla_due_at"] == "2026-11-23T13:00:00Z"
    deal = cli.ok("deal", "show", "1", "--json").json()
    assert deal["company_id"] is None
    assert cli.ok("contact", "show", "alice", "--json").json()["timeline"][0]["text"] == (
        "talked about the pilot"
    )


def test_a_reference_only_a_person_can_fix_stays_reported(cli: Runner, seeded: str) -> None:
    sql(seeded, "UPDATE deals SET stage_id = 99 WHERE id = 1")
    r = cli("doctor")
    assert r.exit_code == 1
    assert "orphans: deals #1: stage_id 99 points at no stages row (needs a person:" in r.stdout
    r = cli("doctor", "--repair")
    assert r.exit_code == 1
    assert r.stdout.splitlines()[0] == "Nothing here that --repair can fix (no backup taken)"
    assert r.stdout.splitlines()[-1].endswith(
        "; the rest need a person (see above), or a restore from a backup"
    )
    if seeded.startswith("postgres"):
        sql(seeded, "DELETE FROM search_docs WHERE kind = 'contact' AND ref_id = 1")
    else:
        sql(seeded, "DELETE FROM contact_fts WHERE rowid = 1")
    r = cli("doctor", "--repair")
    assert r.exit_code == 1 and r.stdout.startswith("Backed up the store to ")
    assert r.stdout.splitlines()[-1].startswith("1 problem in ")
    assert "remains after the repair" in r.stdout.splitlines()[-1]
    sql(seeded, "UPDATE deals SET stage_id = 1 WHERE id = 1")
    cli.ok("doctor")


def test_a_damaged_fts_index_is_rebuilt(sqlite_store: str) -> None:
    cli = Runner()
    cli.ok("contact", "add", "Alice Wong")
    for i in range(30):
        cli.ok("note", "alice", f"call number {i} about the harbour project")
    sql(sqlite_store, "DELETE FROM interaction_fts_data WHERE id > 10")
    r = cli("doctor", "--json")
    assert r.exit_code == 1
    assert ("integrity", "interaction_fts", None) in found(r)
    cli.ok("doctor", "--repair")
    assert len(cli.ok("search", "harbour", "--kind", "note", "--json").json()) == 30


def test_doctor_never_creates_a_store(tmp_path: Path) -> None:
    missing = tmp_path / "nothing-here.db"
    r = Runner()("--db", str(missing), "doctor")
    assert (r.exit_code, r.stderr) == (
        1,
        f"Error: no tinycrm store at {missing} (--db); create one with tinycrm init --db"
        f" {missing}\n",
    )
    assert not missing.exists()


def test_many_problems_are_summed_up_on_screen_but_all_in_json(sqlite_store: str) -> None:
    cli = Runner()
    for i in range(60):
        cli.ok("contact", "add", f"Person {i:02d}")
    sql(sqlite_store, "DELETE FROM contact_fts")
    r = cli("doctor")
    assert r.exit_code == 1
    assert "search index: … 10 more (--json lists them all)" in r.stdout
    assert len(cli("doctor", "--json").json()["problems"]) == 60


def test_every_kind_of_write_leaves_a_healthy_store(
    cli: Runner, seeded: str, tmp_path: Path
) -> None:
    """The derived data each feature writes (index rows, clocks, match keys) is what
    `doctor` recomputes: imports, merges and their undo, erasure, consent, deal moves."""
    people = tmp_path / "people.csv"
    people.write_text(
        "Name,E-mail Address,Mobile Phone,Company,Categories,Notes\n"
        'Chen Wei,chen@example.cn,+86 10 1234 5678,Acme,"golf;vip","likes tea"\n'
        "Dora Diaz,dora+crm@gmail.com,,Dora Co,zeta;alpha,\n"
        "Alice Wang,,,Acme,,\n",
        encoding="utf-8",
    )
    cli.ok("import", "contacts", str(people), "--tag", "fair-2026")
    sales = tmp_path / "sales.csv"
    sales.write_text(
        "email,date,amount\nchen@example.cn,2026-10-01,99.50\nnew@shop.com,2026-10-02,10\n",
        encoding="utf-8",
    )
    cli.ok("import", "purchases", str(sales), "--create-missing")
    cli.ok("contact", "edit", "dora", "--opt-out", "--consent", "newsletter")
    cli.ok("deal", "lost", "pilot", "--reason", "budget cut")
    merged = cli.ok("merge", "alice wong", "alice wang", "--yes", "--json").json()
    assert " is healthy " in cli.ok("doctor").stdout
    cli.ok("merge", "--undo", str(merged["merge_id"]), "--yes")
    cli.ok("forget", "bob", "--yes")
    cli.ok("forget", "chen", "--yes")  # a buyer: the placeholder keeps the purchase
    report = cli.ok("doctor", "--json").json()
    assert report["problems"] == [] and report["healthy"] is True
