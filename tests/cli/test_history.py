"""`tinycrm history`, `tinycrm assign`, `--if-version`, `--mine` and `--owner` from the
command line (in process, and as real subprocesses where exit codes and stderr matter)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Runner


def _script() -> str:
    path = shutil.which("tinycrm", path=str(Path(sys.executable).parent))
    assert path, "the tinycrm console script is not installed in this venv"
    return path


def run_as(user: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The real console script, as another user."""
    return subprocess.run(
        [_script(), *args],
        env={**os.environ, "TINYCRM_USER": user},
        capture_output=True,
        text=True,
        check=False,
    )


def test_history_of_a_contact_reads_old_to_new_in_local_time(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong", "--email", "alice@example.com", "--title", "Buyer")
    cli.ok("note", "alice", "asked for a quote")
    cli.ok("contact", "edit", "alice", "--title", "CEO")
    cli.ok("contact", "add", "Bob Stone")
    out = cli.ok("history", "alice").stdout.splitlines()
    # piped: tab-separated rows, newest first; 09:00 UTC is 10:00 in Berlin
    assert out == [
        "2026-11-23 10:00\tsam\tcontact #1 Alice Wong\tedit\ttitle: Buyer → CEO",
        "2026-11-23 10:00\tsam\tnote #1\tadd\tkind: note; body: asked for a quote;"
        " when: 2026-11-23 10:00; about: contact #1 Alice Wong",
        "2026-11-23 10:00\tsam\tcontact #1 Alice Wong\tadd\tname: Alice Wong;"
        " emails: alice@example.com; title: Buyer; owner: sam",
    ]
    assert len(cli.ok("history", "alice", "--limit", "1").stdout.splitlines()) == 1


def test_history_json_and_all_with_user_and_since(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("user", "add", "ana")
    cli.ok("assign", "alice", "ana")
    entries = cli.ok("history", "alice", "--json").json()
    assert [e["action"] for e in entries] == ["assign", "add"]
    assert entries[0] == {
        "id": 3,
        "at": "2026-11-23T09:00:00Z",
        "user": "sam",
        "entity": "contact",
        "entity_id": 1,
        "label": "Alice Wong",
        "action": "assign",
        "changes": {"owner": ["sam", "ana"]},
    }
    everything = cli.ok("history", "--all", "--json").json()
    assert [(e["entity"], e["action"]) for e in everything] == [
        ("contact", "assign"),
        ("user", "add"),
        ("contact", "add"),
    ]
    assert cli.ok("history", "--all", "--user", "ana", "--json").json() == []
    assert len(cli.ok("history", "--all", "--user", "sam", "--json").json()) == 3
    assert len(cli.ok("history", "--all", "--since", "today", "--json").json()) == 3
    assert cli.ok("history", "--all", "--since", "2026-11-24", "--json").json() == []


def test_a_deleted_contact_keeps_its_history(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("contact", "rm", "alice", "--yes")
    r = cli("history", "alice")
    assert (r.exit_code, r.stderr) == (1, "Error: no contact, company or deal matches 'alice'\n")
    rows = cli.ok("history", "contact:1").stdout.splitlines()
    assert [row.split("\t")[3] for row in rows] == ["delete", "add"]
    assert rows[0].split("\t")[2] == "contact #1 Alice Wong"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["history"], "give a contact, company or deal, or --all for every change"),
        (["history", "alice", "--all"], "give a REF or --all, not both"),
        (["history", "alice", "--user", "sam"], "--user and --since go with --all"),
        (["history", "--all", "--user", "zoe"], "no user called 'zoe' (users: sam)"),
        (["contact", "list", "--owner", "zoe"], "no user called 'zoe' (users: sam)"),
        (["deal", "list", "--mine", "--owner", "sam"], "give --mine or --owner, not both"),
        (["todo", "--owner", "zoe"], "no user called 'zoe' (users: sam)"),
        (["assign", "alice", "zoe"], "no user called 'zoe' (users: sam)"),
        (["assign", "reminder:x", "sam"], "reminder id must be a number like 12 or #12: 'x'"),
    ],
)
def test_usage_errors_are_one_line_exit_2(cli: Runner, args: list[str], message: str) -> None:
    cli.ok("contact", "add", "Alice Wong")
    r = cli(*args)
    assert (r.exit_code, r.stdout, r.stderr) == (2, "", f"Error: {message}\n")


def test_a_stale_edit_from_a_script_is_refused_and_writes_nothing(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong", "--title", "Buyer")
    cli.ok("user", "add", "ana")  # in team mode only users write
    cli.ok("deal", "add", "alice", "Pilot", "--value", "1000")
    seen = cli.ok("contact", "show", "alice", "--json").json()["version"]
    deal_seen = cli.ok("deal", "show", "1", "--json").json()["version"]
    assert (seen, deal_seen) == (1, 1)
    assert run_as("ana", "contact", "edit", "alice", "--title", "Head of buying").returncode == 0
    assert run_as("ana", "deal", "move", "1", "qualified").returncode == 0
    done = run_as("sam", "contact", "edit", "alice", "--title", "CEO", "--if-version", str(seen))
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == (
        "Error: contact #1 Alice Wong was changed by ana at 2026-11-23 10:00 (edit: title)"
        " after you read it (version 2, you had 1); nothing was saved: show it again and"
        " redo your change\n"
    )
    done = run_as("sam", "deal", "edit", "1", "--value", "5", "--if-version", str(deal_seen))
    assert done.returncode == 1
    assert done.stderr.startswith("Error: deal #1 Pilot was changed by ana at 2026-11-23 10:00")
    alice = cli.ok("contact", "show", "alice", "--json").json()
    assert (alice["title"], alice["version"]) == ("Head of buying", 2)
    assert cli.ok("deal", "show", "1", "--json").json()["value"] == "1000.00"
    assert [e["action"] for e in cli.ok("history", "alice", "--json").json()] == ["edit", "add"]
    cli.ok("contact", "edit", "alice", "--title", "CEO", "--if-version", "2")
    cli.ok("deal", "edit", "1", "--value", "5", "--if-version", "2")
    assert cli.ok("deal", "show", "1", "--json").json()["version"] == 3


def test_stale_moves_and_closes_of_a_deal_are_refused(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("user", "add", "ana")  # in team mode only users write
    cli.ok("deal", "add", "alice", "Pilot", "--value", "1000")
    assert run_as("ana", "deal", "move", "1", "proposal").returncode == 0
    for args in (["move", "1", "qualified"], ["won", "1"], ["lost", "1", "--reason", "price"]):
        done = run_as("sam", "deal", *args, "--if-version", "1")
        assert done.returncode == 1, args
        assert done.stderr.startswith("Error: deal #1 Pilot was changed by ana at "), args
        assert "nothing was saved" in done.stderr
    shown = cli.ok("deal", "show", "1", "--json").json()
    assert (shown["stage"], shown["status"], shown["version"]) == ("Proposal", "open", 2)
    assert cli.ok("deal", "won", "1", "--if-version", "2", "--json").json()["status"] == "won"


def test_mine_and_owner_on_lists_and_todo(cli: Runner) -> None:
    cli.ok("user", "add", "ana")
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("contact", "add", "Bob Stone")
    cli.ok("deal", "add", "alice", "Alice deal")
    cli.ok("deal", "add", "bob", "Bob deal")
    cli.ok("remind", "#1", "today 5pm", "call Alice")
    cli.ok("remind", "#2", "today 5pm", "call Bob")
    cli.ok("assign", "#2", "ana", "--with-open")

    def names(*args: str) -> list[str]:
        rows = cli.ok(*args, "--json").json()
        return [r.get("name") or r.get("title") or r.get("text") for r in rows]

    assert names("contact", "list", "--mine") == ["Alice Wong"]
    assert names("contact", "list", "--owner", "ana") == ["Bob Stone"]
    assert names("deal", "list", "--mine") == ["Alice deal"]
    assert names("deal", "list", "--owner", "ana") == ["Bob deal"]
    assert names("todo", "--mine") == ["call Alice"]
    assert names("todo", "--owner", "ana") == ["call Bob"]
    assert names("todo") == ["call Alice", "call Bob"]


def test_assign_says_what_moved(cli: Runner) -> None:
    cli.ok("user", "add", "ana")
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("deal", "add", "alice", "Pilot")
    cli.ok("remind", "alice", "tomorrow", "call")
    cli.ok("remind", "deal:1", "friday", "send quote")
    cli.ok("remind", "-", "friday", "tidy up")
    assert cli.ok("assign", "alice", "ana", "--with-open").stdout == (
        "contact #1 Alice Wong now belongs to ana (was sam); with 1 open deal and 2 open"
        " reminders\n"
    )
    assert cli.ok("assign", "alice", "ana").stdout == (
        "contact #1 Alice Wong already belongs to ana; nothing changed\n"
    )
    assert (
        cli.ok("assign", "deal:1", "sam").stdout == "deal #1 Pilot now belongs to sam (was ana)\n"
    )
    assert cli.ok("assign", "reminder:3", "ana", "--json").json() == {
        "kind": "reminder",
        "id": 3,
        "label": "tidy up",
        "owner": "ana",
        "previous": "sam",
        "deals": [],
        "reminders": [],
    }
    done = run_as("sam", "assign", "alice", "nobody")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "Error: no user called 'nobody' (users: ana, sam)\n"
