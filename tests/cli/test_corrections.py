"""Correcting and deleting what was typed wrong (#16): `interaction`, `reminder`,
`purchase`, `deal` edit/rm/reopen and `tag rename/rm`, through the real command line on
both backends. Refusals write nothing; everything derived follows the correction."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Runner
from tests.crash import pg_snapshot, snapshot


def _snap(store: str) -> dict[str, list[tuple[Any, ...]]]:
    return pg_snapshot(store) if store.startswith("postgres") else snapshot(store)


def _refused(cli: Runner, store: str, *args: str, code: int, says: str) -> None:
    """The command exits `code` with one line naming the problem, and writes nothing."""
    before = _snap(store)
    r = cli(*args)
    assert r.exit_code == code, (args, r.stdout, r.stderr)
    assert r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1, r.stderr
    assert says in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert _snap(store) == before


def _rows(sql: str, **params: Any) -> list[dict[str, Any]]:
    from tinycrm.cli import state

    try:
        return state.get_ctx().db.all(sql, params)
    finally:
        state.close()


def _contact(cli: Runner, ref: str) -> Any:
    return cli.ok("contact", "show", ref, "--json").json()


# -- interactions ------------------------------------------------------------------------------
def test_interaction_edit_moves_search_and_clocks(cli: Runner, store: str) -> None:
    cli.ok("contact", "add", "Alice Wong", "--every", "14d")
    cli.ok("note", "alice", "asked for a qoute", "--when", "2026-11-10 10:00")
    cli.ok("note", "alice", "called back", "--when", "2026-11-20 10:00")
    assert _contact(cli, "alice")["last_touch_at"] == "2026-11-20T09:00:00Z"

    v = cli.ok("interaction", "edit", "1", "--text", "asked for a quote", "--json").json()
    assert (v["id"], v["body"], v["version"], v["contact"]) == (
        1,
        "asked for a quote",
        2,
        "Alice Wong",
    )
    assert cli.ok("search", "quote", "--json").json()[0]["id"] == 1
    assert cli.ok("search", "qoute", "--json").json() == []

    # the latest note was really earlier: last touch and the stay-in-touch clock go back
    out = cli.ok("interaction", "edit", "2", "--when", "2026-11-01 10:00", "--kind", "call")
    assert out.stdout == "Updated call #2 for Alice Wong (2026-11-01 10:00)\n"
    shown = _contact(cli, "alice")
    assert shown["last_touch_at"] == "2026-11-10T09:00:00Z"
    (row,) = _rows("SELECT touch_due_at FROM contacts")
    from tinycrm.store.db import read_ts

    due = read_ts(row["touch_due_at"])
    assert due is not None and due.isoformat() == "2026-11-24T09:00:00+00:00"
    history = cli.ok("history", "alice", "--json").json()
    assert history[0]["action"] == "edit" and history[0]["changes"]["kind"] == ["note", "call"]


def test_interaction_onto_a_deal_and_off(cli: Runner, store: str) -> None:
    cli.ok("contact", "add", "Alice Wong", "-c", "Acme GmbH")
    cli.ok("contact", "add", "Bob Stone")
    cli.ok("deal", "add", "alice", "Renewal")
    cli.ok("note", "bob", "met at the fair")
    v = cli.ok("interaction", "edit", "1", "--deal", "1", "--json").json()
    assert (v["deal_id"], v["contact"], v["company"]) == (1, "Alice Wong", "Acme GmbH")
    # Bob has no interaction left: his last touch is gone with it
    assert _contact(cli, "bob")["last_touch_at"] is None
    assert _contact(cli, "alice")["last_touch_at"] == "2026-11-23T09:00:00Z"
    v = cli.ok("interaction", "edit", "1", "--no-deal", "--json").json()
    assert (v["deal_id"], v["contact"]) == (None, "Alice Wong")
    _refused(
        cli,
        store,
        "interaction",
        "edit",
        "1",
        "--deal",
        "1",
        "--no-deal",
        code=2,
        says="--deal or --no-deal",
    )


def test_interaction_rm_recomputes_clocks_and_rot(cli: Runner, store: str) -> None:
    cli.ok("stages", "edit", "lead", "--rot-days", "10")
    cli.ok("contact", "add", "Alice Wong", "--every", "30d")
    cli.ok("deal", "add", "alice", "Renewal")  # at 2026-11-23 09:00
    _rows_before = _rows("SELECT activity_at, rots_at FROM deals")
    cli.ok("note", "alice", "old news", "--when", "2026-11-01 10:00")
    cli.ok(
        "note", "deal:1", "typed in the future by mistake", "--when", "2026-12-01 10:00", "--future"
    )
    assert _contact(cli, "alice")["last_touch_at"] == "2026-12-01T09:00:00Z"
    cli.ok("interaction", "rm", "2", "--yes")
    assert _contact(cli, "alice")["last_touch_at"] == "2026-11-01T09:00:00Z"
    assert _rows("SELECT activity_at, rots_at FROM deals") == _rows_before
    assert cli.ok("search", "future", "--json").json() == []
    out = cli.ok("interaction", "rm", "1", "--yes", "--json").json()
    assert out["deleted"] == {"kind": "interaction", "id": 1}
    assert out["was"]["body"] == "old news"
    assert _contact(cli, "alice")["last_touch_at"] is None
    assert cli.ok("doctor").exit_code == 0


def test_interaction_refusals_write_nothing(cli: Runner, store: str) -> None:
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("note", "alice", "hello")
    _refused(
        cli,
        store,
        "interaction",
        "edit",
        "99",
        "--text",
        "x",
        code=2,
        says="no interaction with id 99",
    )
    _refused(
        cli, store, "interaction", "rm", "99", "--yes", code=2, says="no interaction with id 99"
    )
    _refused(cli, store, "interaction", "edit", "1", code=2, says="nothing to change")
    _refused(cli, store, "interaction", "edit", "1", "--text", " ", code=2, says="can't be empty")
    _refused(cli, store, "interaction", "edit", "1", "--kind", "fax", code=2, says="kind must be")
    _refused(cli, store, "interaction", "edit", "x1", "--text", "a", code=2, says="interaction id")
    _refused(cli, store, "interaction", "rm", "1", code=2, says="pass --yes")
    _refused(
        cli,
        store,
        "interaction",
        "edit",
        "1",
        "--text",
        "new",
        "--if-version",
        "2",
        code=1,
        says="version 1, you had 2",
    )
    _refused(
        cli,
        store,
        "interaction",
        "rm",
        "1",
        "--yes",
        "--if-version",
        "3",
        code=1,
        says="nothing was saved",
    )
    cli.ok("interaction", "edit", "1", "--text", "new", "--if-version", "1")
    cli.ok("interaction", "rm", "1", "--yes", "--if-version", "2")


# -- reminders ---------------------------------------------------------------------------------
def test_reminder_edit(cli: Runner, store: str) -> None:
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("deal", "add", "alice", "Renewal")
    cli.ok("remind", "-", "tomorrow", "send the qoute")
    r = cli.ok(
        "reminder",
        "edit",
        "1",
        "--text",
        "send the quote",
        "--due",
        "2026-11-30 15:00",
        "--about",
        "alice",
        "--every",
        "weekly",
        "--json",
    ).json()
    assert (r["text"], r["due_at"], r["target"], r["recurrence"], r["version"]) == (
        "send the quote",
        "2026-11-30T14:00:00Z",
        "Alice Wong",
        "weekly",
        2,
    )
    (row,) = _rows("SELECT due_at, scheduled_at, contact_id FROM reminders")
    assert row["due_at"] == row["scheduled_at"] and row["contact_id"] == 1
    r = cli.ok("reminder", "edit", "1", "--about", "deal:1", "--from-done", "--json").json()
    assert (r["target"], r["deal_id"], r["contact_id"], r["from_done"]) == (
        "Renewal",
        1,
        None,
        True,
    )
    r = cli.ok("reminder", "edit", "1", "--no-repeat", "--about", "-", "--json").json()
    assert (r["recurrence"], r["target"], r["from_done"]) == (None, None, False)
    _refused(cli, store, "reminder", "edit", "1", "--from-done", code=2, says="doesn't repeat")
    _refused(cli, store, "reminder", "edit", "1", code=2, says="nothing to change")
    _refused(
        cli, store, "reminder", "edit", "7", "--text", "x", code=2, says="no reminder with id 7"
    )
    _refused(
        cli,
        store,
        "reminder",
        "edit",
        "1",
        "--every",
        "daily",
        "--no-repeat",
        code=2,
        says="not both",
    )
    _refused(
        cli,
        store,
        "reminder",
        "edit",
        "1",
        "--text",
        "x",
        "--if-version",
        "1",
        code=1,
        says="nothing was saved",
    )
    entry = cli.ok("history", "deal:1", "--json").json()
    assert entry == [] or all(e["entity"] == "deal" for e in entry)


def test_done_and_snooze_move_the_version(cli: Runner, store: str) -> None:
    cli.ok("remind", "-", "tomorrow", "a")
    assert cli.ok("snooze", "1", "friday", "--json").json()["version"] == 2
    assert cli.ok("done", "1", "--json").json()["done"]["version"] == 3
    _refused(
        cli,
        store,
        "reminder",
        "rm",
        "1",
        "--yes",
        "--if-version",
        "2",
        code=1,
        says="(version 3, you had 2)",
    )


def test_reminder_rm_one_occurrence_or_the_series(cli: Runner, store: str) -> None:
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("remind", "alice", "2026-11-24 09:00", "weekly report", "--every", "weekly")
    cli.ok("remind", "alice", "2026-11-25 09:00", "one-off")
    _refused(cli, store, "reminder", "rm", "1", code=2, says="this occurrence only")
    _refused(cli, store, "reminder", "rm", "2", "--series", "--yes", code=2, says="doesn't repeat")
    out = cli.ok("reminder", "rm", "1", "--yes", "--json").json()
    assert out["deleted"] == {"kind": "reminder", "id": 1}
    assert out["next"]["due_at"] == "2026-12-01T08:00:00Z" and out["next"]["id"] == 3
    assert out["next"]["done_at"] is None
    listed = cli.ok("todo", "--all", "--json").json()
    assert [(r["id"], r["text"]) for r in listed] == [(2, "one-off"), (3, "weekly report")]
    assert cli.ok("reminder", "rm", "3", "--series", "--yes").stdout == (
        "Deleted reminder #3 weekly report and its series\n"
    )
    cli.ok("reminder", "rm", "2", "--yes")
    assert cli.ok("todo", "--all", "--json").json() == []
    assert _rows("SELECT count(*) AS n FROM reminders") == [{"n": 0}]


# -- purchases ---------------------------------------------------------------------------------
def test_purchase_edit_and_rm_follow_into_rank(cli: Runner, store: str) -> None:
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("contact", "add", "Bob Stone")
    cli.ok("purchase", "add", "alice", "1000", "--date", "2026-10-01")
    cli.ok("purchase", "add", "bob", "300", "--date", "2026-10-02")
    listed = cli.ok("purchase", "list").stdout
    assert "1\t2026-10-01\tAlice Wong" in listed  # the id users edit by
    assert cli.ok("rank", "--json").json()["customers"][0]["name"] == "Alice Wong"
    p = cli.ok(
        "purchase",
        "edit",
        "1",
        "--amount",
        "100",
        "--note",
        "starter",
        "--date",
        "2026-09-30",
        "--json",
    ).json()
    assert (p["amount"], p["note"], p["purchased_on"], p["version"]) == (
        "100.00",
        "starter",
        "2026-09-30",
        2,
    )
    ranked = cli.ok("rank", "--json").json()
    assert ranked["customers"][0]["name"] == "Bob Stone"
    assert ranked["summary"]["revenue"] == "400.00"
    p = cli.ok("purchase", "edit", "1", "--contact", "bob", "--note", "", "--json").json()
    assert (p["contact"], p["note"]) == ("Bob Stone", None)
    assert _contact(cli, "alice")["purchases_count"] == 0
    _refused(cli, store, "purchase", "edit", "1", "--amount", "0", code=2, says="amount")
    _refused(cli, store, "purchase", "edit", "1", code=2, says="nothing to change")
    _refused(cli, store, "purchase", "rm", "9", "--yes", code=2, says="no purchase with id 9")
    _refused(cli, store, "purchase", "rm", "1", code=2, says="pass --yes")
    _refused(
        cli,
        store,
        "purchase",
        "rm",
        "1",
        "--yes",
        "--if-version",
        "1",
        code=1,
        says="nothing was saved",
    )
    assert cli.ok("purchase", "rm", "1", "--yes").stdout.startswith("Deleted purchase #1: Bob")
    assert [r["amount"] for r in cli.ok("purchase", "list", "--json").json()] == ["300.00"]
    assert [e["action"] for e in cli.ok("history", "bob", "--json").json()][:1] == ["add"]


# -- deals -------------------------------------------------------------------------------------
def test_deal_rm_takes_its_reminders_and_keeps_its_notes(cli: Runner, store: str) -> None:
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("deal", "add", "alice", "Renewal")
    cli.ok("deal", "add", "alice", "Upsell")
    cli.ok("remind", "deal:1", "friday", "send contract")
    cli.ok("remind", "deal:1", "monday", "call")
    cli.ok("note", "deal:1", "talked renewal")
    r = cli("deal", "rm", "1")
    assert r.exit_code == 2
    assert "deal #1 'Renewal' and its 2 reminder(s) (1 note(s) logged on it stay" in r.stderr
    _refused(cli, store, "deal", "rm", "1", code=2, says="pass --yes")
    _refused(cli, store, "deal", "rm", "42", "--yes", code=2, says="no deal with id 42")
    out = cli.ok("deal", "rm", "1", "--yes", "--json").json()
    assert out["removed"] == {"reminders": 2, "interactions": 1, "stage_changes": 1}
    assert out["was"]["title"] == "Renewal"
    assert [d["title"] for d in cli.ok("deal", "list", "--json").json()] == ["Upsell"]
    assert cli.ok("todo", "--all", "--json").json() == []
    assert cli.ok("search", "renewal", "--kind", "deal", "--json").json() == []
    (note,) = cli.ok("search", "talked", "--json").json()
    assert note["title"] == "Alice Wong"
    assert _rows("SELECT deal_id, version FROM interactions") == [{"deal_id": None, "version": 2}]
    assert _rows("SELECT count(*) AS n FROM stage_changes WHERE deal_id = 1") == [{"n": 0}]
    assert cli.ok("doctor").exit_code == 0


def test_deal_reopen(cli: Runner, store: str) -> None:
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("deal", "add", "alice", "Renewal")
    cli.ok("deal", "move", "1", "proposal")
    cli.ok("deal", "won", "1")
    _refused(cli, store, "deal", "reopen", "99", code=2, says="no deal with id 99")
    d = cli.ok("deal", "reopen", "1", "--json").json()
    assert (d["stage"], d["status"], d["closed_at"]) == ("Proposal", "open", None)
    _refused(cli, store, "deal", "reopen", "1", code=2, says="open already")
    cli.ok("deal", "lost", "1", "--reason", "budget")
    _refused(cli, store, "deal", "reopen", "1", "--stage", "won", code=2, says="open stage")
    d = cli.ok("deal", "reopen", "1", "--stage", "qual", "--json").json()
    assert (d["stage"], d["lost_reason"]) == ("Qualified", None)
    history = cli.ok("history", "deal:1", "--json").json()
    assert history[0]["action"] == "reopen"


def test_deal_edit_contact_and_owner(cli: Runner, store: str) -> None:
    cli.ok("contact", "add", "Alice Wong", "-c", "Acme GmbH")
    cli.ok("contact", "add", "Bob Stone", "-c", "Bobco")
    cli.ok("user", "add", "anna")
    cli.ok("deal", "add", "alice", "Renewal")
    d = cli.ok("deal", "edit", "1", "--contact", "bob", "--owner", "anna", "--json").json()
    assert (d["contact"], d["company"], d["owner"], d["version"]) == (
        "Bob Stone",
        "Bobco",
        "anna",
        2,
    )
    entry = cli.ok("history", "deal:1", "--json").json()[0]
    assert entry["changes"]["contact"] == ["Alice Wong", "Bob Stone"]
    assert entry["changes"]["owner"] == ["sam", "anna"]
    _refused(cli, store, "deal", "edit", "1", "--owner", "nobody", code=2, says="no user called")
    _refused(cli, store, "deal", "edit", "9", "--title", "x", code=2, says="no deal with id 9")
    _refused(cli, store, "deal", "edit", "1", code=2, says="nothing to change")


# -- tags --------------------------------------------------------------------------------------
def test_tag_rename_merges_and_rm(cli: Runner, store: str) -> None:
    cli.ok("contact", "add", "Alice Wong", "--tag", "vpi")
    cli.ok("contact", "add", "Bob Stone", "--tag", "vpi", "--tag", "vip")
    cli.ok("contact", "add", "Cleo Park", "--tag", "vip")
    cli.ok("tag", "cadence", "vpi", "14d")
    info = cli.ok("tag", "rename", "vpi", "vip", "--json").json()
    assert info == {"tag": "vpi", "into": "vip", "contacts": 2, "merged": True, "cadence_days": 14}
    assert cli.ok("tag", "list", "--json").json() == [
        {"tag": "vip", "contacts": 3, "cadence_days": 14}
    ]
    # Cleo had vip all along: its (inherited) cadence starts her clock too
    due = {
        r["name"]: r["touch_due_at"]
        for r in _rows("SELECT name, touch_due_at FROM contacts ORDER BY id")
    }
    assert all(v is not None for v in due.values()), due
    assert [h["action"] for h in cli.ok("history", "bob", "--json").json()][0] == "tag"
    assert cli.ok("search", "vip", "--kind", "contact", "--json").json()[0]["title"]
    assert cli.ok("search", "vpi", "--json").json() == []
    _refused(cli, store, "tag", "rename", "nosuch", "x", code=2, says="no tag 'nosuch'")
    _refused(cli, store, "tag", "rename", "vip", "VIP", code=2, says="already")
    _refused(cli, store, "tag", "rm", "vip", code=2, says="3 contact(s) and its cadence")
    assert cli.ok("tag", "rm", "vip", "--yes").stdout == "Removed tag vip from 3 contact(s)\n"
    assert cli.ok("tag", "list", "--json").json() == []
    assert [r["touch_due_at"] for r in _rows("SELECT touch_due_at FROM contacts")] == [None] * 3
    assert cli.ok("doctor").exit_code == 0


@pytest.mark.parametrize(
    "args",
    [
        ("interaction", "rm", "1"),
        ("reminder", "rm", "1"),
        ("purchase", "rm", "1"),
        ("deal", "rm", "1"),
        ("tag", "rm", "vip"),
    ],
)
def test_every_rm_refuses_without_a_terminal(
    cli: Runner, store: str, args: tuple[str, ...]
) -> None:
    cli.ok("contact", "add", "Alice Wong", "--tag", "vip")
    cli.ok("note", "alice", "hello")
    cli.ok("remind", "alice", "friday", "call")
    cli.ok("purchase", "add", "alice", "10")
    cli.ok("deal", "add", "alice", "Renewal")
    _refused(cli, store, *args, code=2, says="pass --yes to confirm")


# -- users -------------------------------------------------------------------------------------
def test_user_rm_hands_over_open_work_and_history_keeps_the_name(
    cli: Runner, store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli.ok("user", "add", "anna")
    cli.ok("user", "add", "bob")
    cli.ok("user", "edit", "bob", "--lead", "anna")
    monkeypatch.setenv("TINYCRM_USER", "anna")
    cli.ok("company", "add", "Acme GmbH")
    cli.ok("contact", "add", "Alice Wong", "-c", "Acme GmbH")
    cli.ok("note", "alice", "met at the fair")
    cli.ok("deal", "add", "alice", "Renewal")
    cli.ok("deal", "add", "alice", "Old one")
    cli.ok("deal", "won", "deal:Old one")
    cli.ok("remind", "alice", "friday", "call")
    cli.ok("remind", "alice", "monday", "old call")
    cli.ok("done", "2")
    monkeypatch.setenv("TINYCRM_USER", "sam")
    _refused(cli, store, "user", "rm", "anna", "--to", "bob", code=2, says="pass --yes")
    _refused(cli, store, "user", "rm", "anna", "--to", "anna", "--yes", code=2, says="someone else")
    _refused(cli, store, "user", "rm", "sam", "--to", "bob", "--yes", code=2, says="yourself")
    _refused(cli, store, "user", "rm", "nobody", "--to", "bob", "--yes", code=2, says="nobody")
    _refused(cli, store, "user", "rm", "anna", "--to", "zed", "--yes", code=2, says="'zed'")
    out = cli.ok("user", "rm", "anna", "--to", "bob", "--yes", "--json").json()
    assert {k: len(v) if isinstance(v, list) else v for k, v in out.items()} == {
        "user": "anna",
        "to": "bob",
        "companies": 1,
        "contacts": 1,
        "deals": 1,
        "reminders": 1,
    }
    assert [u["name"] for u in cli.ok("user", "list", "--json").json()] == ["bob", "sam"]
    assert _contact(cli, "alice")["owner"] == "bob"
    deals = {
        d["title"]: d["owner"] for d in cli.ok("deal", "list", "--status", "all", "--json").json()
    }
    assert deals == {"Renewal": "bob", "Old one": "anna"}  # closed work stays theirs
    assert [r["owner"] for r in cli.ok("todo", "--all", "--json").json()] == ["bob"]
    # what anna did still says anna
    assert _contact(cli, "alice")["timeline"][-1]["user"] == "anna"
    assert {e["user"] for e in cli.ok("history", "alice", "--json").json()} >= {"anna"}
    _refused(cli, store, "assign", "alice", "anna", code=2, says="removed from the team")
    _refused(cli, store, "user", "rm", "anna", "--to", "bob", "--yes", code=2, says="anna")
    assert cli.ok("user", "add", "anna").stdout == "Added user anna (#2)\n"  # back again
    assert [u["name"] for u in cli.ok("user", "list", "--json").json()] == ["anna", "bob", "sam"]


def _on_a_terminal(args: list[str], answer: str) -> tuple[int, str]:
    """Run tinycrm with stdin and stdout on a pseudo-terminal, typing `answer` when it asks;
    its exit code and everything it printed there."""
    import os
    import pty
    import subprocess
    import sys

    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tinycrm", *args],
        stdin=follower,
        stdout=follower,
        stderr=subprocess.PIPE,
    )
    os.close(follower)
    shown = b""
    while b"[y/N]" not in shown:
        chunk = os.read(leader, 4096)
        assert chunk, shown
        shown += chunk
    os.write(leader, answer.encode() + b"\n")
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    proc.wait(timeout=60)
    return proc.returncode, shown.decode()


def test_rm_asks_on_a_terminal_saying_what_goes(cli: Runner, store: str) -> None:
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("deal", "add", "alice", "Renewal")
    cli.ok("remind", "deal:1", "friday", "send contract")
    cli.ok("remind", "deal:1", "monday", "call")
    cli.ok("remind", "alice", "2026-11-24 09:00", "weekly report", "--every", "weekly")
    before = _snap(store)
    code, shown = _on_a_terminal(["deal", "rm", "1"], "n")
    assert "Delete deal #1 'Renewal' and its 2 reminder(s)?" in shown
    assert code == 1 and _snap(store) == before
    code, shown = _on_a_terminal(["reminder", "rm", "3"], "y")
    assert "this occurrence only (weekly; the next one is scheduled, Tue 01 Dec 09:00" in shown
    assert code == 0 and "Deleted reminder #3 weekly report; next #4" in shown
    code, shown = _on_a_terminal(["deal", "rm", "1"], "y")
    assert code == 0 and "Deleted deal #1 Renewal" in shown
    assert [r["text"] for r in cli.ok("todo", "--all", "--json").json()] == ["weekly report"]
