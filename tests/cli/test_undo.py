"""`tinycrm undo`, `undo --list`, `undo N` and `redo` through the real command line, on
both backends: every kind of change taken back and made again, exactly (every table the
journal covers and the search index), and refusals that change nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Runner
from tests.undo_state import data_state, differences

ALICE = ("contact", "add", "Alice Wong", "-e", "alice@acme.com", "-c", "Acme GmbH", "--tag", "vip")
JUST_ALICE = ("contact", "add", "Alice Wong", "-e", "alice@acme.com")
SETUP = (
    ALICE,
    ("note", "alice", "met at the fair", "--when", "3 days ago"),
    ("remind", "alice", "friday", "send deck"),
    ("deal", "add", "alice", "Pilot", "--value", "1000"),
    ("purchase", "add", "alice", "120", "--date", "2026-10-02"),
    ("user", "add", "lea"),
)

#: (name, the change); each runs on the store SETUP made.
CHANGES = {
    "contact add": (
        "contact",
        "add",
        "Bob Stone",
        "-e",
        "bob@b.com",
        "-c",
        "Stone Ltd",
        "--tag",
        "new",
    ),
    "contact edit": ("contact", "edit", "alice", "--title", "CTO", "--phone", "+49 30 1234567"),
    "contact rm": ("contact", "rm", "alice", "--yes"),
    "contact tag": ("contact", "tag", "alice", "lead", "--remove", "vip"),
    "company edit": ("company", "edit", "acme", "--domain", "acme.com"),
    "note": ("note", "alice", "called about pricing"),
    "remind": ("remind", "alice", "tomorrow", "call back", "--every", "weekly"),
    "done": ("done", "1"),
    "snooze": ("snooze", "1", "next monday"),
    "deal add": ("deal", "add", "alice", "Rollout", "--value", "5000", "--stage", "proposal"),
    "deal move": ("deal", "move", "1", "proposal"),
    "deal won": ("deal", "won", "1"),
    "deal lost": ("deal", "lost", "1", "--reason", "budget"),
    "deal edit": ("deal", "edit", "1", "--title", "Pilot 2", "--value", "2000"),
    "assign": ("assign", "alice", "lea", "--with-open"),
    "purchase": ("purchase", "add", "alice", "80", "--note", "extra seats"),
    "tag cadence": ("tag", "cadence", "vip", "14d"),
    "stage": ("stages", "add", "Demo", "--probability", "30", "--rot-days", "7"),
    "user": ("user", "edit", "lea", "--email", "lea@acme.com"),
    # the corrections of #16: caught by the journal's triggers like every other write
    "interaction edit": ("interaction", "edit", "1", "--text", "met at the trade fair"),
    "interaction rm": ("interaction", "rm", "1", "--yes"),
    "reminder edit": ("reminder", "edit", "1", "--due", "next monday", "--text", "send slides"),
    "reminder rm": ("reminder", "rm", "1", "--yes"),
    "purchase edit": ("purchase", "edit", "1", "--amount", "12", "--note", "typo fixed"),
    "purchase rm": ("purchase", "rm", "1", "--yes"),
    "deal rm": ("deal", "rm", "1", "--yes"),
    "tag rename": ("tag", "rename", "vip", "key-account"),
    "tag rm": ("tag", "rm", "vip", "--yes"),
    "user rm": ("user", "rm", "lea", "--to", "sam", "--yes"),
    "deal reopen": ("deal", "reopen", "1"),
}
#: What some changes need first, after SETUP.
BEFORE = {
    "user rm": (("assign", "alice", "lea", "--with-open"),),  # lea's work goes back to sam
    "deal reopen": (("deal", "won", "1"),),
}


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_undo_then_redo_gives_back_each_store_exactly(cli: Runner, store: str, name: str) -> None:
    for command in (*SETUP, *BEFORE.get(name, ())):
        cli.ok(*command)
    before = data_state(store)
    cli.ok(*CHANGES[name])
    after = data_state(store)
    assert after != before
    change = 7 + len(BEFORE.get(name, ()))
    out = cli.ok("undo").stdout
    assert out.startswith(f"Undid change {change}: ")
    assert differences(data_state(store), before) == {}
    assert cli.ok("redo").stdout.startswith(f"Redid change {change}: ")
    assert differences(data_state(store), after) == {}
    cli.ok("undo")  # and once more: the same change, undone again
    assert differences(data_state(store), before) == {}


def test_undo_import_and_merge(cli: Runner, store: str, tmp_path: Path) -> None:
    cli.ok(*ALICE)
    before = data_state(store)
    csv = tmp_path / "people.csv"
    csv.write_text("name,email,company\nBob Stone,bob@b.com,Stone Ltd\nCleo Park,cleo@c.com,\n")
    cli.ok("import", "contacts", str(csv))
    imported = data_state(store)
    cli.ok("contact", "add", "Alice W.", "-e", "alice@acme.com", "--on-duplicate", "create")
    cli.ok("merge", "alice wong", "alice w.", "--yes")
    merged = data_state(store)
    listed = cli.ok("undo", "--list", "--json").json()
    assert [c["summary"].split()[0] for c in listed] == ["merge", "add", "import", "add"]
    assert listed[2]["summary"].startswith("import contacts from people.csv (2 rows, 2 created")
    cli.ok("undo")  # the merge
    cli.ok("undo")  # the duplicate
    assert differences(data_state(store), imported) == {}
    cli.ok("undo")  # the import
    assert differences(data_state(store), before) == {}
    cli.ok("redo")
    assert differences(data_state(store), imported) == {}
    assert cli.ok("search", "cleo").stdout.count("Cleo Park") == 1
    del merged


def test_list_names_each_change_with_who_and_what(cli: Runner) -> None:
    cli.ok(*ALICE)
    cli.ok("deal", "add", "alice", "Pilot", "--value", "1000")
    cli.ok("deal", "move", "1", "won")
    out = cli.ok("undo", "--list").stdout.splitlines()
    assert out == [
        "3\t2026-11-23 10:00\tsam\twon deal #1 Pilot (Lead → Won)",
        "2\t2026-11-23 10:00\tsam\tadd deal #1 Pilot",
        "1\t2026-11-23 10:00\tsam\tadd contact #1 Alice Wong and 1 more",
    ]
    cli.ok("undo")
    assert [c["id"] for c in cli.ok("undo", "--list", "--json").json()] == [2, 1]
    assert cli.ok("undo", "2").stdout == "Undid change 2: add deal #1 Pilot\n"


def test_undo_n_refused_when_a_later_change_touched_the_record(
    cli: Runner, store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli.ok("user", "add", "lea")
    cli.ok(*JUST_ALICE)
    cli.ok("deal", "add", "alice", "Pilot", "--value", "1000")
    cli.ok("contact", "edit", "alice", "--title", "CTO")
    monkeypatch.setenv("TINYCRM_USER", "lea")
    cli.ok("deal", "move", "1", "won")
    monkeypatch.setenv("TINYCRM_USER", "sam")
    before = data_state(store)
    r = cli("undo", "3")
    assert r.exit_code == 2
    assert r.stderr == (
        "Error: can't undo change 3 (add deal #1 Pilot): change 5 by lea,"
        " 'won deal #1 Pilot (Lead → Won)', touched deal #1 later; nothing was changed\n"
    )
    r = cli("undo", "2")
    assert r.exit_code == 2
    assert "change 4 by sam, 'edit contact #1 Alice Wong', touched contact #1 later" in r.stderr
    assert data_state(store) == before
    # a later note on the contact changes only its clocks: the edit can still go
    cli.ok("note", "alice", "hello")
    assert cli.ok("undo", "4").stdout == "Undid change 4: edit contact #1 Alice Wong\n"
    # and undoing the deal's move needs no one else's change out of the way
    assert cli.ok("undo", "5").stdout.startswith("Undid change 5: won deal #1 Pilot")


def test_nothing_to_undo_or_redo_is_exit_2(cli: Runner) -> None:
    r = cli("undo")
    assert (r.exit_code, r.stderr) == (2, "Error: nothing to undo: sam has no change that stands\n")
    r = cli("redo")
    assert (r.exit_code, r.stderr) == (2, "Error: nothing to redo: sam has no undo that stands\n")
    r = cli("undo", "99")
    assert r.exit_code == 2
    assert r.stderr.startswith("Error: no change 99 in the journal")
    r = cli("undo", "x1")
    assert (r.exit_code, r.stderr) == (2, "Error: change must be a number like 12 or #12: 'x1'\n")


def test_undo_takes_back_only_your_own_last_change(
    cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli.ok("user", "add", "lea")
    cli.ok(*JUST_ALICE)
    monkeypatch.setenv("TINYCRM_USER", "lea")
    cli.ok("contact", "add", "Bob Stone")
    monkeypatch.setenv("TINYCRM_USER", "sam")
    assert cli.ok("undo").stdout == "Undid change 2: add contact #1 Alice Wong\n"
    everyone = cli.ok("undo", "--list", "--all", "--json").json()
    assert [(c["id"], c["user"]) for c in everyone] == [(3, "lea"), (1, "sam")]
    # taking back the user lea, who added Bob since, would leave Bob's owner unknown
    r = cli("undo", "1")
    assert r.exit_code == 2
    assert r.stderr == (
        "Error: can't undo change 1 (add user #2 lea): change 3 by lea, 'add contact #2"
        " Bob Stone', touched contact #2 later; nothing was changed\n"
    )


def test_undone_change_is_refused_twice_and_undo_of_an_undo_redoes(cli: Runner) -> None:
    cli.ok(*JUST_ALICE)
    cli.ok("undo")
    r = cli("undo", "1")
    assert (r.exit_code, r.stderr) == (
        2,
        "Error: change 1 (add contact #1 Alice Wong) was undone already\n",
    )
    assert cli.ok("undo", "2").stdout == "Redid change 1: add contact #1 Alice Wong\n"
    r = cli("undo", "2")
    assert (r.exit_code, r.stderr) == (
        2,
        "Error: change 2 (undo change 1) was undone already\n",
    )


def test_undo_of_a_move_restores_the_stage_history_and_moves_the_version_on(cli: Runner) -> None:
    cli.ok(*ALICE)
    cli.ok("deal", "add", "alice", "Pilot", "--value", "1000")
    cli.ok("deal", "move", "1", "proposal")
    cli.ok("undo")
    deal = cli.ok("deal", "show", "1", "--json").json()
    assert deal["stage"] == "Lead"
    assert [h["to"] for h in deal["history"]] == ["Lead"]
    assert deal["version"] == 3  # never back: a form read at version 2 stays refused
    r = cli("deal", "move", "1", "won", "--if-version", "2")
    assert r.exit_code == 1


def test_a_restored_backup_brings_its_journal_and_merge_undo_still_works(
    sqlite_store: str, tmp_path: Path
) -> None:
    """The journal is part of the store: after a restore, undo takes back what the backup
    had as the last change (the changes made after the backup went with the restore);
    `merge --undo` keeps working beside it."""
    cli = Runner()
    cli.ok(*JUST_ALICE)
    cli.ok("contact", "add", "Alice W.", "-e", "alice@acme.com", "--on-duplicate", "create")
    backup = tmp_path / "before.db"
    cli.ok("backup", str(backup))
    cli.ok("contact", "add", "Bob Stone")
    cli.ok("restore", str(backup), "--force")
    assert [c["id"] for c in cli.ok("undo", "--list", "--json").json()] == [2, 1]
    cli.ok("merge", "alice wong", "alice w.", "--yes")
    before_undo = data_state(sqlite_store)
    cli.ok("note", "alice wong", "after the merge")
    cli.ok("undo")  # the note
    assert differences(data_state(sqlite_store), before_undo) == {}
    merges = cli.ok("merge", "--list", "--json").json()
    cli.ok("merge", "--undo", str(merges[0]["id"]), "--yes")
    names = sorted(c["name"] for c in cli.ok("contact", "list", "--json").json())
    assert names == ["Alice W.", "Alice Wong"]
    # and the merge's own undo is a change undo can take back in turn
    assert cli.ok("undo").stdout.startswith("Undid change ")
    assert [c["name"] for c in cli.ok("contact", "list", "--json").json()] == ["Alice Wong"]


def test_a_new_change_after_an_undo_ends_what_redo_can_make_again(cli: Runner) -> None:
    cli.ok(*JUST_ALICE)
    cli.ok("undo")
    cli.ok("contact", "add", "Bob Stone")
    r = cli("redo")
    assert (r.exit_code, r.stderr) == (
        2,
        "Error: nothing to redo: sam made change 3 after the last undo (change 2); undo that"
        " first, or make it again with tinycrm undo 2\n",
    )
    assert [c["name"] for c in cli.ok("contact", "list", "--json").json()] == ["Bob Stone"]
    # an undo of the new change is itself redoable: the newest undo is what redo makes again
    cli.ok("undo")
    assert cli.ok("redo").stdout == "Redid change 3: add contact #2 Bob Stone\n"
    assert [c["name"] for c in cli.ok("contact", "list", "--json").json()] == ["Bob Stone"]
    # and the undo of Alice's add, made before Bob came, can still be taken back by number
    assert cli.ok("undo", "2").stdout == "Redid change 1: add contact #1 Alice Wong\n"
    names = [c["name"] for c in cli.ok("contact", "list", "--json").json()]
    assert sorted(names) == ["Alice Wong", "Bob Stone"]
    # taking back that redo undoes Alice's add again
    assert cli.ok("undo", "6").stdout == "Undid change 1: add contact #1 Alice Wong\n"
    assert [c["name"] for c in cli.ok("contact", "list", "--json").json()] == ["Bob Stone"]
