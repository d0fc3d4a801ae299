"""`forget` leaves nothing of the person behind (#14): not in any text that stays (other
records' notes, a deal's title, a company's notes, the search index...), and not in the
store's files once it returns, even while another process has the store open."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Runner
from tinycrm.store.db import Db
from tinycrm.store.open import open_store
from tinycrm.text import fold

NAME, EMAIL, PHONE = "Zoë Quorn", "zq@quorn-mail.example", "+49 30 5550199"
#: how the person is mentioned in text that stays: other case, other accents' case
MENTION = f"Re: {NAME.upper()} <{EMAIL.upper()}> (call {PHONE}) about the fleet plan"
#: what must be found nowhere afterwards (folded: case and accents don't hide it)
TRACES = ("zoe quorn", "zoe-quorn", "quorn-mail", "5550199")


def _db(url: str) -> Db:
    return open_store(url, create=False)


def _text_columns() -> dict[str, list[str]]:
    """Every text column of every table, from the models: a new one is covered at once."""
    from sqlalchemy import String

    from tinycrm.models import metadata

    def is_text(column: Any) -> bool:  # SQLModel's AutoString wraps a String
        return isinstance(getattr(column.type, "impl", column.type), String)

    out = {t.name: [c.name for c in t.columns if is_text(c)] for t in metadata.sorted_tables}
    return {table: columns for table, columns in out.items() if columns}


def _seed(cli: Runner) -> dict[str, int]:
    """The person, and around them records that stay when they are forgotten."""
    cli.ok("user", "add", "kim", "--email", "kim@team.example")
    cli.ok("company", "add", "Acme", "--notes", "supplier")
    cli.ok("field", "add", "company", "region", "--type", "text")
    cli.ok("company", "edit", "acme", "--set", "region=north")  # a custom value that stays
    zoe = cli.ok(
        "contact", "add", NAME, "-e", EMAIL, "-p", PHONE, "--company", "Acme", "--tag", "vip",
        "--notes", "prefers mornings", "--json",
    ).json()  # fmt: skip
    bob = cli.ok("contact", "add", "Bob Stone", "-e", "bob@stone.example", "--json").json()
    cli.ok("contact", "add", "Bobby Stone", "--allow-duplicate")
    cli.ok("merge", "bob@stone.example", "bobby", "--yes")  # a merges row that stays
    cli.ok("contact", "add", "Gone Person")
    cli.ok("forget", "gone", "--yes")  # an erasures row
    cli.ok("contact", "tag", "bob", "golf", f"{NAME} fan")  # the tag zoe-quorn-fan
    cli.ok("tag", "cadence", "golf", "30d")
    cli.ok("note", "bob", "asked about prices")
    cli.ok("note", "company:acme", "yearly review")
    cli.ok("remind", "bob", "tomorrow", "send the offer")
    cli.ok("deal", "add", "bob", "Fleet", "--value", "500")
    cli.ok("deal", "move", "1", "Qualified")
    cli.ok("deal", "add", EMAIL, f"{NAME} renewal", "--value", "90")  # stays, unlinked
    cli.ok("purchase", "add", "bob", "10", "--note", "first order")
    cli.ok("purchase", "add", EMAIL, "20", "--note", f"paid by {NAME}")  # kept, anonymised
    cli.ok("product", "add", "Fleet licence", "--price", "25", "--sku", "FL-1", "--unit", "seat")
    cli.ok("deal", "item", "add", "1", "FL-1", "--qty", "4")
    cli.ok("quote", "1")  # a quote that stays
    cli.ok("deal", "item", "add", "2", "FL-1")
    cli.ok("quote", "2")  # hers: its customer is erased
    cli.ok("stages", "add", "Review", "--probability", "60")
    cli.ok("case", "add", "bob", "Fleet app down", "--body", "since Monday")  # stays
    cli.ok("case", "note", "1", "looked into it")
    cli.ok("case", "close", "1", "--solution", "restarted the app", "--satisfaction", "4")
    cli.ok("case", "add", EMAIL, f"{NAME} can't log in", "--body", f"mail {EMAIL}")  # goes
    cli.ok("case", "note", "2", f"called {PHONE}")
    cli.ok("sla", "edit", "high", "--respond", "2h")
    cli.ok("settings", "set", "holidays", "2026-12-25")
    cli.ok("campaign", "add", "Spring fair", "--source", "trade fair", "--cost", "100")  # stays
    cli.ok("view", "save", "golfers", "--where", "tag:golf")  # a saved view stays
    mail = EmailMessage()  # an imported email: mail_messages and mail_links
    mail["From"], mail["To"], mail["Message-ID"] = "bob@stone.example", "kim@x.example", "<b1@s>"
    mail["Subject"] = "prices"
    mail.set_content("see attached")
    cli.ok("mail", "import", "-", stdin=mail.as_string())
    db_ = _db_from_env()
    try:
        with db_.write():
            db_.execute(
                "INSERT INTO digests_sent (recipient_key, as_of, sent_to, sent_at)"
                " VALUES ('sam', :day, 'sam@team.example', :now)",
                {"day": db_.day(date(2026, 11, 23)), "now": db_.ts(datetime.now(UTC))},
            )
            # where an IMAP run stopped (tests/test_imap.py writes it for real)
            db_.execute(
                "INSERT INTO mail_folders (account, folder, uidvalidity, last_uid, updated_at)"
                " VALUES ('sam@imap.example:993', 'INBOX', 1, 7, :now)",
                {"now": db_.ts(datetime.now(UTC))},
            )
    finally:
        db_.close()
    return {"zoe": zoe["id"], "bob": bob["id"]}


def _db_from_env() -> Db:
    return _db(os.environ["TINYCRM_DB"])


def _surviving_row(db: Db, table: str, ids: dict[str, int]) -> dict[str, Any]:
    """A row of `table` that is not the person's, so it stays when they are forgotten."""
    columns = {r for r in db.one(f"SELECT * FROM {table} LIMIT 1") or {}}
    where = ["1 = 1"]
    if "contact_id" in columns:
        where.append("(contact_id IS NULL OR contact_id <> :zoe)")
    if table == "contacts":
        where.append("id <> :zoe AND name_key <> ''")
    if table == "audit_log":
        where.append("entity = 'contact' AND entity_id = :bob")
    if table == "merges":
        where.append("kept_id <> :zoe AND removed_id <> :zoe")
    row = db.one(f"SELECT * FROM {table} WHERE {' AND '.join(where)} ORDER BY 1, 2 LIMIT 1", ids)
    assert row is not None, f"the seed left no row of {table} that stays"
    return row


def _mentioning(value: Any) -> str:
    """`value` with the person mentioned in it (JSON stays JSON)."""
    try:
        parsed = json.loads(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        return json.dumps({**parsed, "mention": MENTION}, ensure_ascii=False)
    return MENTION


def _plant(url: str, ids: dict[str, int]) -> list[tuple[str, str]]:
    """Put the person into every text column forget scrubs, in a row that stays; returns
    the (table, column)s planted."""
    from tinycrm.services.privacy import KEPT

    planted = []
    db = _db(url)
    try:
        with db.write():
            for table, columns in _text_columns().items():
                for column in columns:
                    if (table, column) in KEPT:
                        continue
                    row = _surviving_row(db, table, ids)
                    key = [k for k in ("id", "contact_id", "tag", "recipient_key") if k in row]
                    key = ["id"] if "id" in row else key
                    match = " AND ".join(f"{k} = :k_{k}" for k in key)
                    db.execute(
                        f"UPDATE {table} SET {column} = :v WHERE {match}",
                        {"v": _mentioning(row[column]), **{f"k_{k}": row[k] for k in key}},
                    )
                    planted.append((table, column))
    finally:
        db.close()
    return planted


def _everything_stored(url: str) -> str:
    """Every text value of every table, and the search index, folded."""
    db = _db(url)
    try:
        parts = []
        for table, columns in _text_columns().items():
            for row in db.tuples(f"SELECT {', '.join(columns)} FROM {table}"):
                parts += [str(v) for v in row if v is not None]
        if db.is_sqlite:
            for kind in ("contact", "company", "interaction", "deal"):
                parts += [str(r[0]) for r in db.tuples(f"SELECT body FROM {kind}_fts")]
        else:
            parts += [str(r[0]) for r in db.tuples("SELECT body FROM search_docs")]
        return fold("\n".join(parts))
    finally:
        db.close()


def test_the_kept_list_names_real_columns_with_reasons() -> None:
    from tinycrm.services.privacy import KEPT

    columns = _text_columns()
    for (table, column), why in KEPT.items():
        assert column in columns.get(table, []), (table, column)
        assert len(why) > 10


def test_forget_scrubs_the_person_from_every_text_that_stays(cli: Runner, store: str) -> None:
    ids = _seed(cli)
    planted = _plant(store, ids)
    assert len(planted) >= 20  # KEPT must stay the exception
    stored = _everything_stored(store)
    assert all(t in stored for t in TRACES)
    db = _db(store)
    versions = {
        t: db.value(f"SELECT version FROM {t} WHERE id = :id", {"id": i})
        for t, i in (("contacts", ids["bob"]), ("companies", 1), ("deals", 1))
    }
    db.close()

    erased = cli.ok("forget", EMAIL, "--yes", "--json").json()

    stored = _everything_stored(store)
    for trace in TRACES:
        assert trace not in stored, trace
    counts = erased["counts"]
    # one row per table got the mentions; a tag, a cadence, an email are their row
    rewritten = {t for t, _ in planted} - {"contact_tags", "tag_cadences", "contact_methods"}
    assert counts["texts_scrubbed"] + counts["audit_entries_scrubbed"] >= len(rewritten)
    # Bob's two tags (one planted, zoe-quorn-fan), the tag's cadence, Bob's email
    assert counts["details_removed"] == 4
    # the rows stay, with the rest of their text, and found by it
    db = _db(store)
    try:
        body = db.value(
            "SELECT body FROM interactions WHERE contact_id = :b ORDER BY id LIMIT 1",
            {"b": ids["bob"]},
        )
        assert body == "Re: (erased) <(erased)> (call (erased)) about the fleet plan"
        for table in ("deals", "companies", "products"):
            for row in db.all(f"SELECT * FROM {table}"):
                name = str(row.get("title", row.get("name")))
                assert row.get("title_key", row.get("name_key")) == fold(name), row
        after = {
            t: db.value(f"SELECT version FROM {t} WHERE id = :id", {"id": i})
            for t, i in (("contacts", ids["bob"]), ("companies", 1), ("deals", 1))
        }
        # an edit form filled before the erasure can't write the name back
        assert all(after[t] > versions[t] for t in versions), (versions, after)
        tags = {r["tag"] for r in db.all("SELECT tag FROM contact_tags")}
    finally:
        db.close()
    assert "vip" not in tags and "zoe-quorn-fan" not in tags  # hers, and one naming her
    hits = cli.ok("search", "fleet plan", "--json").json()
    assert {h["kind"] for h in hits} >= {"contact", "interaction", "deal"}
    assert cli.ok("search", "quorn", "--json").json() == []
    report = cli.ok("doctor", "--json").json()
    assert report["problems"] == [], report["problems"]


def test_forget_scrubs_what_was_typed_through_the_commands(cli: Runner, store: str) -> None:
    """The everyday way a name ends up elsewhere: a note on someone else, a deal title."""
    _seed(cli)
    cli.ok("note", "bob", f"{NAME} recommended us; write to {EMAIL}")
    cli.ok("deal", "edit", "2", "--title", f"{NAME} renewal 2027")
    cli.ok("company", "edit", "acme", "--notes", f"{NAME} signs the orders")
    cli.ok("forget", NAME, "--yes")
    seen = "\n".join(
        cli.ok(*v).stdout
        for v in (
            ("export", "interactions", "-f", "json"),
            ("export", "deals", "-f", "json"),
            ("company", "show", "acme", "--json"),
            ("contact", "show", "bob", "--json"),
            ("history", "--all", "--json"),
            ("search", "renewal", "--json"),
        )
    )
    for trace in TRACES:
        assert trace not in fold(seen), trace
    assert "(erased) renewal 2027" in seen and "(erased) recommended us" in seen


def test_only_whole_mentions_are_scrubbed(cli: Runner, store: str) -> None:
    """A short name is erased where it is a word, not inside other words or addresses."""
    cli.ok("contact", "add", "Ann", "-e", "ann@x.example")
    cli.ok("contact", "add", "Bob Stone")
    cli.ok("note", "bob", "annual planning with Ann and ANN; cc ann@x.example, joann@x.example")
    cli.ok("deal", "add", "bob", "Banner for Ann")
    cli.ok("forget", "ann@x.example", "--yes")
    (note,) = cli.ok("export", "interactions", "-f", "json").json()
    assert note["body"] == (
        "annual planning with (erased) and (erased); cc (erased), joann@x.example"
    )
    (deal,) = cli.ok("export", "deals", "-f", "json").json()
    assert deal["title"] == "Banner for (erased)"
    history = cli.ok("history", "--all", "--json").stdout
    assert "annual planning" in history and "Banner for (erased)" in history
    assert "with Ann" not in history


# -- item 17: nothing left in the files ------------------------------------------------------
READER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN")
conn.execute("SELECT count(*) FROM contacts").fetchone()  # a read snapshot, held
print("reading", flush=True)
sys.stdin.readline()
conn.execute("COMMIT")  # the snapshot ends; the connection stays open
print("done", flush=True)
sys.stdin.readline()
conn.close()
"""


def _raw_bytes(path: Path) -> bytes:
    out = b""
    for name in (path.name, path.name + "-wal"):
        p = path.with_name(name)
        if p.exists():
            out += p.read_bytes()
    return out


def _secrets() -> list[bytes]:
    return [
        NAME.encode(),
        b"quorn",
        b"Quorn",
        EMAIL.encode(),
        b"5550199",
        b"moonlit orchard",
    ]


def _seed_for_bytes(cli: Runner, sqlite_store: str) -> None:
    cli.ok("contact", "add", NAME, "-e", EMAIL, "-p", PHONE, "--notes", "moonlit orchard")
    cli.ok("contact", "add", "Bob Stone")
    for n in range(30):
        cli.ok("note", EMAIL, f"moonlit orchard visit {n} " + "x" * 300)
    cli.ok("note", "bob", f"{NAME} says hi")
    import sqlite3

    conn = sqlite3.connect(sqlite_store)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the person now sits in the main file
    conn.close()
    assert all(s in _raw_bytes(Path(sqlite_store)) for s in (NAME.encode(), b"moonlit orchard"))


def _reader(sqlite_store: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", READER, sqlite_store],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline() == "reading\n"
    return proc


def _tell(proc: subprocess.Popen[str], expect: str | None = None) -> None:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("\n")
    proc.stdin.flush()
    if expect is not None:
        assert proc.stdout.readline() == expect


def _let_go(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    proc.wait(timeout=30)


def test_forget_leaves_nothing_in_the_files_while_another_process_reads(
    sqlite_store: str,
) -> None:
    """A reader holds a snapshot from before the erasure and lets go a moment later:
    `forget` waits for it, and when it returns the file and its WAL hold no trace."""
    import threading

    cli = Runner()
    _seed_for_bytes(cli, sqlite_store)
    reader = _reader(sqlite_store)
    timer = threading.Timer(1.0, _tell, (reader,))
    try:
        timer.start()
        r = cli("forget", EMAIL, "--yes")
        assert (r.exit_code, r.stderr) == (0, ""), r.stderr
        left = _raw_bytes(Path(sqlite_store))
        for secret in _secrets():
            assert secret not in left, secret
    finally:
        timer.join()
        _let_go(reader)
    assert cli.ok("contact", "list", "--json").json()[0]["name"] == "Bob Stone"


def test_forget_says_so_when_a_reader_keeps_the_old_data_in_the_file(
    sqlite_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TINYCRM_BUSY_TIMEOUT", "0.5")
    cli = Runner()
    _seed_for_bytes(cli, sqlite_store)
    reader = _reader(sqlite_store)
    try:
        started = time.monotonic()
        r = cli("forget", EMAIL, "--yes")
        waited = time.monotonic() - started
        assert r.exit_code == 0
        assert r.stderr == (
            f"Note: another program is reading the store, so the erased data stays in"
            f" {sqlite_store} until it closes the store\n"
        )
        assert 0.4 < waited < 10
        # the erasure itself is done: nothing of the person is readable
        assert [c["name"] for c in cli.ok("contact", "list", "--json").json()] == ["Bob Stone"]
        _tell(reader, "done\n")
        # once the reader lets go, the next command's checkpoint purges the file
        cli.ok("forget", "bob", "--yes")
        left = _raw_bytes(Path(sqlite_store))
        for secret in _secrets():
            assert secret not in left, secret
    finally:
        _let_go(reader)


def test_forget_leaves_no_trace_in_the_undo_journal_and_cannot_be_undone(
    cli: Runner, store: str
) -> None:
    """The journal holds whole rows as they were: the person's own, and others' that
    mentioned them once (a note edited since). forget takes all of them, is no change
    itself, and the changes around it can still be undone."""
    _seed(cli)
    cli.ok("contact", "edit", "bob", "--notes", f"met {NAME} at the fair")
    cli.ok("contact", "edit", "bob", "--notes", "plays golf")  # the old image still names her
    cli.ok("note", NAME, "moonlit orchard")
    cli.ok("deal", "add", "bob", "Fleet plan", "--value", "900")
    db = _db(store)
    try:
        journal = fold(" ".join(str(r) for r in db.tuples("SELECT * FROM row_changes")))
        changes_before = int(db.value("SELECT count(*) FROM changes"))
    finally:
        db.close()
    assert "zoe quorn" in journal and "quorn-mail" in journal  # there to be purged
    cli.ok("forget", NAME, "--yes")
    db = _db(store)
    try:
        journal = fold(" ".join(str(r) for r in db.tuples("SELECT * FROM row_changes")))
        changes_after = int(db.value("SELECT count(*) FROM changes"))
    finally:
        db.close()
    for trace in (*TRACES, "moonlit orchard"):
        assert trace not in journal, trace
    assert changes_after < changes_before  # hers went whole; forget added none
    listed = cli.ok("undo", "--list", "--all", "--json").json()
    assert "forget" not in str(listed) and "quorn" not in fold(str(listed))
    last = listed[0]["id"]
    assert cli.ok("undo").stdout == f"Undid change {last}: add deal #3 Fleet plan\n"
    assert cli.ok("contact", "show", "bob", "--json").json()["notes"] == "plays golf"
