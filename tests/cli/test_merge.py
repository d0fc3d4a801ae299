"""`tinycrm merge`, `merge --undo`, `dedupe` and duplicates on `contact add`, through the
real command line on both backends (and a real subprocess where exit codes matter)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import NOW, Runner
from tinycrm.models import metadata
from tinycrm.store.open import open_store

# What a merge and its undo leave behind on purpose: the merge record, the audit log and
# the undo journal.
LOGS = ("merges", "audit_log", "changes", "row_changes")


def dump(url: str, *, without: tuple[str, ...] = ()) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, and the contacts' search index."""
    db = open_store(url)
    try:
        out = {
            t: [tuple(r.values()) for r in db.all(f"SELECT * FROM {t} ORDER BY 1, 2")]
            for t in sorted(metadata.tables)
            if t not in without
        }
        out["search"] = (
            [tuple(r.values()) for r in db.all("SELECT rowid, body FROM contact_fts ORDER BY 1")]
            if db.is_sqlite
            else [
                tuple(r.values())
                for r in db.all("SELECT kind, ref_id, body FROM search_docs ORDER BY 1, 2")
            ]
        )
        return out
    finally:
        db.close()


@pytest.fixture
def pair(cli: Runner, store: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Alice (#1) and her duplicate (#2), each with notes, reminders, deals, purchases,
    methods and tags; #2 was updated five minutes later."""
    cli.ok("contact", "add", "Alice Wong", "-e", "alice@acme.com", "-p", "+44 20 7946 0958",
           "-c", "Acme GmbH", "--tag", "vip", "--every", "30d")  # fmt: skip
    cli.ok("note", "alice", "met at the fair", "--when", "3 days ago")
    cli.ok("remind", "alice", "friday", "send deck")
    cli.ok("deal", "add", "alice", "Pilot", "--value", "1000")
    monkeypatch.setenv("TINYCRM_NOW", "2026-11-23T09:05:00+00:00")
    cli.ok("contact", "add", "Alice Wang", "-e", "ALICE@acme.com", "-e", "a.wong@gmail.com",
           "--title", "CTO", "--tag", "lead", "--tag", "vip", "--notes", "prefers email",
           "--on-duplicate", "create")  # fmt: skip
    cli.ok("note", "#2", "called about pricing", "--when", "yesterday")
    cli.ok("remind", "#2", "tomorrow", "call back")
    cli.ok("deal", "add", "#2", "Rollout", "--value", "5000")
    cli.ok("purchase", "add", "#2", "120")
    monkeypatch.setenv("TINYCRM_NOW", NOW)
    return store


def test_merge_keeps_everything(cli: Runner, pair: str) -> None:
    r = cli.ok("merge", "1", "2", "--yes", "--json")
    plan = r.json()
    assert plan["merge_id"] == 1 and plan["backup"]
    assert Path(plan["backup"]).exists() and "before-merge" in Path(plan["backup"]).name
    assert (plan["interactions"], plan["reminders"], plan["deals"], plan["purchases"]) == (
        1,
        1,
        1,
        1,
    )
    assert (plan["emails"], plan["phones"], plan["tags"]) == (1, 0, 1)
    assert cli("contact", "show", "#2").exit_code == 1
    a = cli.ok("contact", "show", "#1", "--json", "--timeline", "50").json()
    # #2 was updated last, so its name wins; its title fills a blank; notes are joined
    assert (a["name"], a["title"], a["company"], a["notes"]) == (
        "Alice Wang", "CTO", "Acme GmbH", "prefers email",
    )  # fmt: skip
    assert a["emails"] == ["alice@acme.com", "a.wong@gmail.com"]
    assert a["phones"] == ["+44 20 7946 0958"]
    assert a["tags"] == ["lead", "vip"]
    assert a["cadence_days"] == 30
    assert {d["title"] for d in a["open_deals"]} == {"Pilot", "Rollout"}
    assert a["purchases_count"] == 1
    texts = {e["text"] for e in a["timeline"] if e["kind"] in ("note", "call")}
    assert texts == {"met at the fair", "called about pricing"}
    assert a["last_touch_at"] == "2026-11-22T08:00:00Z"  # the later note: yesterday 9:00 Berlin
    todo = cli.ok("todo", "--days", "7", "--json").json()
    assert {t["contact_id"] for t in todo} == {1}
    deals = cli.ok("deal", "list", "--json").json()
    assert {d["contact_id"] for d in deals} == {1}
    assert {d["activity_at"] for d in deals} == {"2026-11-23T09:00:00Z", "2026-11-23T09:05:00Z"}
    hits = cli.ok("search", "wang", "--json").json()
    assert [(h["kind"], h["id"]) for h in hits if h["kind"] == "contact"] == [("contact", 1)]
    assert cli.ok("search", "cto", "--json").json()[0]["id"] == 1


def test_prefer_a_keeps_the_first_contacts_fields(cli: Runner, pair: str) -> None:
    cli.ok("merge", "1", "2", "--yes", "--prefer", "a")
    a = cli.ok("contact", "show", "#1", "--json").json()
    assert (a["name"], a["title"]) == ("Alice Wong", "CTO")


def test_merge_then_undo_restores_the_store_exactly(cli: Runner, pair: str) -> None:
    before = dump(pair, without=LOGS)
    cli.ok("merge", "alice wong", "#2", "--yes")
    assert dump(pair, without=LOGS) != before
    r = cli.ok("merge", "--undo", "1", "--yes")
    assert r.stdout.startswith("Undid merge 1: #2 Alice Wang is back with 1 interaction,")
    assert dump(pair, without=LOGS) == before
    (m,) = cli.ok("merge", "--list", "--json").json()
    assert (m["kept_id"], m["removed_id"], m["removed"]) == (1, 2, "Alice Wang")
    assert m["undone_at"] == "2026-11-23T09:00:00Z"
    kept = [(e["action"], e["changes"]) for e in cli.ok("history", "#1", "--json").json()]
    assert kept[:2] == [
        ("unmerge", {"merged in": ["Alice Wang (#2)", None]}),
        ("merge", {"merged in": [None, "Alice Wang (#2), merge #1"]} | kept[1][1]),
    ]
    back = cli.ok("history", "#2", "--json").json()
    assert [e["action"] for e in back[:2]] == ["unmerge", "merge"]
    # and it can be merged again, and undone again
    cli.ok("merge", "1", "2", "--yes")
    cli.ok("merge", "--undo", "2", "--yes")
    assert dump(pair, without=LOGS) == before


def test_chained_merges_undo_in_reverse(cli: Runner, pair: str) -> None:
    cli.ok("contact", "add", "Alicia Wong", "-e", "alicia@acme.com", "--on-duplicate", "create")
    cli.ok("note", "#3", "third one")
    before = dump(pair, without=LOGS)
    cli.ok("merge", "2", "3", "--yes")  # 3 into 2
    cli.ok("merge", "1", "2", "--yes")  # 2 (holding 3's notes and merge 1) into 1
    cli.ok("merge", "--undo", "2", "--yes")
    cli.ok("merge", "--undo", "1", "--yes")
    assert dump(pair, without=LOGS) == before


def test_undo_refuses_when_the_kept_contact_changed(cli: Runner, pair: str) -> None:
    cli.ok("merge", "1", "2", "--yes")
    cli.ok("contact", "edit", "#1", "--title", "CEO")
    before = dump(pair)
    r = cli("merge", "--undo", "1", "--yes")
    assert r.exit_code == 1
    assert r.stderr.startswith("Error: contact #1 Alice Wang was edited or tagged after merge 1;")
    assert r.stderr.count("\n") == 1
    assert dump(pair) == before


def test_undo_twice_and_unknown_merges_are_refused(cli: Runner, pair: str) -> None:
    cli.ok("merge", "1", "2", "--yes")
    cli.ok("merge", "--undo", "1", "--yes")
    before = dump(pair)
    r = cli("merge", "--undo", "1", "--yes")
    assert (r.exit_code, r.stdout) == (1, "")
    assert "merge 1 was already undone" in r.stderr
    r = cli("merge", "--undo", "9", "--yes")
    assert (r.exit_code, r.stderr) == (1, "Error: no merge with id 9 (see tinycrm merge --list)\n")
    assert dump(pair) == before


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("merge", "1", "1", "--yes"), 2, "can't merge contact #1 into itself"),
        (("merge", "1", "--yes"), 2, "give the contact to keep and the one to fold into it"),
        (("merge", "1", "2", "--prefer", "older", "--yes"), 2, "--prefer must be one of"),
        (("merge", "1", "2", "--undo", "1"), 2, "give two contacts to merge, or --undo ID"),
        (("merge", "1", "nobody", "--yes"), 1, "no contact matches 'nobody'"),
        (("merge", "1", "2"), 2, "pass --yes to confirm when not on a terminal"),
        (("dedupe", "--threshold", "20"), 2, "--threshold"),
        (("contact", "add", "alice wong"), 1, "already exists: #1 Alice Wong (same name)"),
        (("contact", "add", "X", "-e", "alice@ACME.com"), 1, "(same email alice@acme.com)"),
        (("contact", "add", "Alice Wong", "--on-duplicate", "maybe"), 2, "--on-duplicate must"),
        (
            ("contact", "add", "Alice Wong", "--on-duplicate", "skip", "--allow-duplicate"),
            2,
            "give --allow-duplicate or --on-duplicate, not both",
        ),
        (
            ("contact", "add", "Alice W", "-e", "alice@acme.com", "--on-duplicate", "merge"),
            2,
            "several contacts look like 'Alice W'",
        ),
        (
            ("contact", "add", "Alice Wong", "-e", "bad", "--on-duplicate", "merge"),
            2,
            "not an email address: 'bad'",
        ),
    ],  # fmt: skip
)
def test_refusals_write_nothing(
    cli: Runner, pair: str, args: tuple[str, ...], code: int, message: str
) -> None:
    before = dump(pair)
    r = cli(*args)
    assert r.exit_code == code, r.stderr
    assert r.stdout == ""
    assert r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1, r.stderr
    assert message in r.stderr
    assert dump(pair) == before
    assert not (Path(os.environ["TINYCRM_HOME"]) / "backups").exists() or args[0] != "merge"


def test_dry_run_shows_the_plan_and_changes_nothing(cli: Runner, pair: str) -> None:
    before = dump(pair)
    r = cli.ok("merge", "1", "2", "--dry-run")
    assert r.stdout.splitlines()[0] == (
        "Merge #2 Alice Wang into #1 Alice Wong: #2 is removed; 1 interaction, 1 reminder,"
        " 1 deal, 1 purchase, 1 email, 1 tag moves over."
    )
    assert "name\tAlice Wong\tAlice Wang\tAlice Wang\t#2" in r.stdout
    assert r.stdout.endswith("Dry run: nothing was changed.\n")
    plan = cli.ok("merge", "1", "2", "--dry-run", "--json").json()
    assert plan["merge_id"] is None and plan["winner"] == "removed"
    assert dump(pair) == before


def test_on_duplicate_choices(cli: Runner, pair: str) -> None:
    r = cli.ok("contact", "add", "ALICE  WONG", "--on-duplicate", "skip")
    assert r.stdout.startswith("Skipped: ALICE WONG looks like #1 Alice Wong (same name)")
    r = cli.ok(
        "contact", "add", "Alice Wong", "-e", "alice@new.example", "-p", "+442079460958",
        "--tag", "fair", "--on-duplicate", "merge",
    )  # fmt: skip
    assert (
        r.stdout == "Merged into contact #1 Alice Wong: added email alice@new.example, tag fair\n"
    )
    r = cli.ok("contact", "add", "Alice Wong", "--on-duplicate", "merge")
    assert r.stdout == "Contact #1 Alice Wong already has all of that; nothing changed\n"
    # the same name with another address is a look-alike: added, never merged
    r = cli.ok("contact", "add", "Alice Wong", "-e", "alice@other.example", "--on-duplicate",
               "merge")  # fmt: skip
    assert r.stdout.startswith("Added contact #3 Alice Wong; it only looks like #1 Alice Wong")
    assert r.stdout.endswith("with no email or phone in common, so it was not merged\n")
    r = cli.ok("contact", "add", "Alice Wong", "--allow-duplicate")
    assert r.stdout == "Added contact #4 Alice Wong\n"
    assert cli.ok("contact", "add", "Bob Jones").stdout == "Added contact #5 Bob Jones\n"


def test_dedupe_lists_groups_with_reasons(cli: Runner, pair: str) -> None:
    cli.ok("contact", "add", "Bob Jones")
    report = cli.ok("dedupe", "--json").json()
    assert (report["contacts"], report["groups_total"], report["threshold"]) == (3, 1, 90)
    (group,) = report["groups"]
    assert group["reasons"] == ["same email alice@acme.com", "similar name (90)"]
    assert [c["id"] for c in group["contacts"]] == [1, 2]
    assert cli.ok("dedupe", "--threshold", "100").stdout.count("\n") == 2
    lines = cli.ok("dedupe").stdout.splitlines()
    assert lines[0].split("\t")[:3] == ["1", "1", "Alice Wong"]
    cli.ok("merge", "1", "2", "--yes")
    assert cli.ok("dedupe").stdout == ""


def _subprocess(args: list[str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tinycrm", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_real_command_refuses_without_yes_and_merges_with_it(sqlite_store: str) -> None:
    Runner().ok("contact", "add", "Alice Wong", "-e", "alice@acme.com")
    Runner().ok("contact", "add", "Alice Wang", "--allow-duplicate")
    before = dump(sqlite_store)
    done = _subprocess(["merge", "1", "2"])
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "Error: Merge #2 Alice Wang into #1 Alice Wong? — pass --yes to confirm when not on a"
        " terminal\n"
    )
    done = _subprocess(["contact", "add", "alice wong"])
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("Error: a contact like 'alice wong' already exists: #1")
    assert dump(sqlite_store) == before
    done = _subprocess(["merge", "1", "2", "--yes"])
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "Merged #2 Alice Wang into #1 Alice Wong (merge 1; undo with: tinycrm merge --undo 1)\n"
    )
    done = _subprocess(["merge", "--undo", "1", "--yes"])
    assert done.returncode == 0, done.stderr
    assert dump(sqlite_store, without=LOGS) == {k: v for k, v in before.items() if k not in LOGS}


def test_the_removed_id_stays_free_for_the_undo(store: str) -> None:
    cli = Runner()
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("contact", "add", "Alice Wang", "--allow-duplicate")
    cli.ok("merge", "1", "2", "--yes")
    assert cli.ok("contact", "add", "Carl Berg", "--json").json()["id"] == 3  # not 2 (#14)
    cli.ok("merge", "--undo", "1", "--yes")
    assert cli.ok("contact", "show", "2", "--json").json()["name"] == "Alice Wang"


def test_undo_refuses_when_the_removed_id_was_taken_again(sqlite_store: str) -> None:
    cli = Runner()
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("contact", "add", "Alice Wang", "--allow-duplicate")
    cli.ok("merge", "1", "2", "--yes")
    # a store from before schema 0007 could have handed the freed id 2 out again
    conn = sqlite3.connect(sqlite_store)
    conn.execute(
        "INSERT INTO contacts (id, name, name_key, created_at, updated_at, version)"
        " VALUES (2, 'Carl Berg', 'carl berg', '2026-11-23 09:00:00', '2026-11-23 09:00:00', 1)"
    )
    conn.commit()
    conn.close()
    r = cli("merge", "--undo", "1", "--yes")
    assert r.exit_code == 1
    assert "contact id #2 has been given to another contact since merge 1" in r.stderr


def _answer_on_terminal(args: list[str], answers: list[str]) -> str:
    """Run `tinycrm ARGS` with stdin and stdout on a pty, typing each answer at a prompt
    (which ends with its default, "[s]: "); the screen text."""
    import pty
    import re
    import select

    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tinycrm", *args],
        stdin=follower,
        stdout=follower,
        stderr=subprocess.PIPE,
        env=os.environ | {"NO_COLOR": "1", "COLUMNS": "100"},
    )
    os.close(follower)
    screen, pending = b"", list(answers)
    while True:
        ready, _, _ = select.select([leader], [], [], 30)
        if not ready:
            break
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        screen += data
        if pending and screen.rstrip().endswith(b"]:"):
            os.write(leader, pending.pop(0).encode() + b"\r")
    os.close(leader)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, (err.decode(), screen.decode())
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.decode()).replace("\r\n", "\n")


def test_contact_add_on_a_terminal_asks_merge_skip_or_create(pair: str) -> None:
    screen = _answer_on_terminal(["contact", "add", "Alice Wong", "--tag", "fair"], ["x", "m"])
    assert screen.startswith("Alice Wong may already be in tinycrm:\n")
    assert "  1  #1 Alice Wong · Acme GmbH · alice@acme.com · +44 20 7946 0958\n" in screen
    assert "       same name\n" in screen
    assert "  2  #2 Alice Wang · alice@acme.com\n       similar name (90)\n" in screen
    prompt = "[m]erge the new details into #1 (or pick 1-2), [s]kip, or [c]reate anyway? [s]:"
    assert prompt in screen
    assert "Answer m, 1-2, s or c." in screen
    assert screen.endswith("Merged into contact #1 Alice Wong: added tag fair\n")
    screen = _answer_on_terminal(["contact", "add", "ALICE WONG", "-e", "new@x.example"], ["2"])
    assert screen.endswith("Merged into contact #2 Alice Wang: added email new@x.example\n")
    screen = _answer_on_terminal(["contact", "add", "alice wong"], [""])  # the default: skip
    assert screen.endswith("nothing was added\n")
    screen = _answer_on_terminal(["contact", "add", "alice wong"], ["c"])
    assert screen.endswith("Added contact #3 alice wong\n")
    screen = _answer_on_terminal(["contact", "add", "Bob Jones"], [])  # nothing to ask
    assert screen == "Added contact #4 Bob Jones\n"
