"""Crash safety: a tinycrm process killed (SIGKILL, no chance to clean up) in the middle
of its write leaves the store exactly as it was, and `doctor` finds nothing wrong."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

from tests.conftest import Runner
from tests.crash import (
    kill_after,
    kill_mid_pg_write,
    kill_mid_write,
    pg_snapshot,
    snapshot,
    wait_for_no_other_backends,
)

pytestmark = pytest.mark.slow  # real processes killed mid-write: `make test-fast` leaves them out


def big_csv(path: Path, rows: int) -> Path:
    with path.open("w") as f:
        f.write("email,date,amount,note\n")
        for i in range(rows):
            f.write(f"c{i % 3000}@shop.example,2025-{1 + i % 12:02d}-{1 + i % 28:02d},")
            f.write(f"{10 + i % 500}.{i % 100:02d},order {i}\n")
    return path


def seed(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong", "-e", "alice@acme.com", "--every", "30d")
    cli.ok("note", "alice", "before the crash")
    cli.ok("purchase", "add", "alice", "99.50", "--date", "2026-11-01")
    cli.ok("deal", "add", "alice", "Pilot", "--value", "1200")


def test_a_killed_import_leaves_the_store_as_it_was(sqlite_store: str, tmp_path: Path) -> None:
    cli = Runner()
    seed(cli)
    before = snapshot(sqlite_store)
    csv = big_csv(tmp_path / "orders.csv", 60_000)
    kill_mid_write(["import", "purchases", str(csv), "--create-missing"], sqlite_store)
    assert snapshot(sqlite_store) == before
    cli.ok("doctor")
    # and the store still works: the same import, run to the end, lands whole
    r = cli.ok("import", "purchases", str(csv), "--create-missing", "--json").json()
    assert r["imported"] == 60_000 and len(r["contacts_created"]) == 3000
    cli.ok("doctor")


@pytest.mark.pg
def test_a_killed_import_on_postgresql_leaves_the_store_as_it_was(
    pg_store: str, tmp_path: Path
) -> None:
    """The same on a shared server: the killed client's transaction is rolled back by the
    server, so colleagues never see half an import."""
    cli = Runner()
    seed(cli)
    before = pg_snapshot(pg_store)
    csv = big_csv(tmp_path / "orders.csv", 60_000)
    kill_mid_pg_write(["import", "purchases", str(csv), "--create-missing"], pg_store, "purchases")
    # the server notices the dropped connection and rolls back; wait for its backend to go
    wait_for_no_other_backends(pg_store)
    assert pg_snapshot(pg_store) == before
    cli.ok("doctor")
    r = cli.ok("import", "purchases", str(csv), "--create-missing", "--json").json()
    assert r["imported"] == 60_000 and len(r["contacts_created"]) == 3000
    cli.ok("doctor")


def test_a_killed_restore_leaves_the_store_as_it_was(sqlite_store: str, tmp_path: Path) -> None:
    cli = Runner()
    seed(cli)
    # a big backup to restore: another store with the import in it
    other = tmp_path / "other" / "big.db"
    Runner().ok("init", "--db", str(other))
    Runner()("--db", str(other), "import", "purchases", str(big_csv(tmp_path / "o.csv", 60_000)),
             "--create-missing")  # fmt: skip
    backup = tmp_path / "big-backup.db"
    Runner().ok("--db", str(other), "backup", str(backup))
    before = snapshot(sqlite_store)
    kill_mid_write(["restore", str(backup), "--force"], sqlite_store)
    assert snapshot(sqlite_store) == before
    cli.ok("doctor")


BURST = """
import random, string, sys
from tinycrm.cli.entry import run

rng = random.Random(int(sys.argv[1]))
def word():
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(10)).title()
while True:
    name = f"{word()} {word()}"
    run(["contact", "add", name, "-e", f"{name.replace(' ', '.')}@x.com", "--tag", "burst",
         "--every", "30d", "--company", word()])
    run(["note", f"{word()} {word()}", "met at the fair", "--create", "--follow-up", "3d"])
"""


def test_a_killed_burst_of_quick_entry_leaves_only_whole_commands(sqlite_store: str) -> None:
    cli = Runner()
    seed(cli)
    for round_ in range(4):  # killed at a different moment each time
        code = kill_after([sys.executable, "-c", BURST, str(round_)], 1.5 + 0.4 * round_)
        assert code == -signal.SIGKILL
    from tinycrm.store.open import open_store

    db = open_store(sqlite_store)
    try:
        # `contact add`: the contact, its email, its tag, its company, or none of them
        added = db.all(
            "SELECT c.id, c.company_id,"
            " (SELECT count(*) FROM contact_methods m WHERE m.contact_id = c.id) AS emails,"
            " (SELECT count(*) FROM contact_tags t WHERE t.contact_id = c.id) AS tags"
            " FROM contacts c WHERE c.id IN (SELECT contact_id FROM contact_tags)"
        )
        assert len(added) > 5
        assert all(r["emails"] == 1 and r["tags"] == 1 and r["company_id"] for r in added)
        # `note --create --follow-up`: the contact, the note and the reminder, or none
        walk_ins = db.all(
            "SELECT c.id, (SELECT count(*) FROM interactions i WHERE i.contact_id = c.id) AS n,"
            " (SELECT count(*) FROM reminders r WHERE r.contact_id = c.id) AS r"
            " FROM contacts c WHERE c.name != 'Alice Wong'"
            " AND c.id NOT IN (SELECT contact_id FROM contact_tags)"
        )
        assert len(walk_ins) > 5
        assert all((r["n"], r["r"]) == (1, 1) for r in walk_ins)
    finally:
        db.close()
    report = cli.ok("doctor", "--json").json()
    assert report["healthy"], report["problems"]


def test_a_killed_merge_leaves_the_store_as_it_was(sqlite_store: str) -> None:
    import sqlite3

    cli = Runner()
    seed(cli)
    cli.ok("contact", "add", "Bea Long", "-e", "bea@acme.com")
    cli.ok("contact", "add", "Bea Long", "-e", "bea@home.example", "--on-duplicate", "create")
    # the duplicate has a long history, so moving it outgrows the page cache
    conn = sqlite3.connect(sqlite_store)
    with conn:
        dup = conn.execute("SELECT max(id) FROM contacts").fetchone()[0]
        first = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM interactions").fetchone()[0]
        notes = [(first + i, dup, f"call number {i} about the renewal") for i in range(60_000)]
        conn.executemany(
            "INSERT INTO interactions (id, contact_id, kind, body, happened_at, created_at)"
            " VALUES (?, ?, 'call', ?, '2026-01-01 10:00:00', '2026-01-01 10:00:00')",
            notes,
        )
        conn.executemany(
            "INSERT INTO interaction_fts (rowid, body) VALUES (?, ?)", [(n[0], n[2]) for n in notes]
        )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    cli.ok("doctor")
    before = snapshot(sqlite_store)
    kill_mid_write(["merge", "bea@acme.com", "bea@home.example", "--yes"], sqlite_store)
    assert snapshot(sqlite_store) == before
    cli.ok("doctor")
    # and run to the end, the merge lands whole
    cli.ok("merge", "bea@acme.com", "bea@home.example", "--yes")
    shown = cli.ok("contact", "show", "bea@acme.com", "--json").json()
    assert shown["emails"] == ["bea@acme.com", "bea@home.example"]
    cli.ok("doctor")


def test_a_killed_mail_import_leaves_the_store_as_it_was(sqlite_store: str, tmp_path: Path) -> None:
    """One transaction per folder: a mailbox import killed half-way logs none of it, and
    running it again logs it all, once."""
    import mailbox
    from email.message import EmailMessage

    cli = Runner()
    seed(cli)
    before = snapshot(sqlite_store)
    box = mailbox.mbox(tmp_path / "inbox.mbox")
    for i in range(4000):
        m = EmailMessage()
        m["From"] = "alice@acme.com" if i % 2 else f"Person {i} <p{i}@new.example>"
        m["To"], m["Subject"], m["Message-ID"] = "sam@mine.example", f"offer {i}", f"<m{i}@x>"
        m["Date"] = "Fri, 20 Nov 2026 16:30:00 +0100"
        m.set_content(f"message number {i} " * 20)
        box.add(m)
    box.flush()
    box.close()
    args = ["mail", "import", str(tmp_path / "inbox.mbox"), "--create-missing"]
    kill_mid_write(args, sqlite_store)
    assert snapshot(sqlite_store) == before
    cli.ok("doctor")
    r = cli.ok(*args, "--json").json()
    assert (r["logged"], r["created"], r["duplicates"]) == (4000, 2000, 0)
    assert cli.ok(*args, "--json").json()["duplicates"] == 4000
    cli.ok("doctor")
