"""Quick entry: note, remind, todo, done, snooze."""

from __future__ import annotations

from typing import Any

from tests.conftest import Runner


def _j(r: Any) -> Any:
    return r.json()


def test_note_with_follow_up_creates_both_in_one_go(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong")
    out = cli.ok("note", "Alice Wong", "asked for a quote", "--follow-up", "next friday")
    assert (
        out.stdout == "Logged note #1 for Alice Wong; follow-up #1 Fri 27 Nov 09:00 (in 4 days)\n"
    )
    todo = _j(cli.ok("todo", "--all", "--json"))
    assert [(t["id"], t["text"], t["due_at"], t["target"]) for t in todo] == [
        (1, "Follow up: asked for a quote", "2026-11-27T08:00:00Z", "Alice Wong")
    ]


def test_note_kinds_and_past_times(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong")
    logged = _j(
        cli.ok("note", "alice", "long call", "--kind", "call", "--when", "yesterday 3pm", "--json")
    )
    assert logged["kind"] == "call"
    assert logged["happened_at"] == "2026-11-22T14:00:00Z"
    r = cli("note", "alice", "x", "--kind", "fax")
    assert r.exit_code == 2
    assert r.stderr == "Error: kind must be one of note, call, email, meeting: 'fax'\n"


def test_note_reads_stdin_when_text_is_dash(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("note", "alice", "-", stdin="line one\nline two\n")
    hits = _j(cli.ok("search", "two", "--json"))
    assert [h["kind"] for h in hits] == ["interaction"]


def test_note_on_unknown_name_offers_create(cli: Runner) -> None:
    r = cli("note", "Bob Newman", "met at the fair")
    assert r.exit_code == 1
    assert r.stderr == (
        "Error: no contact, company or deal matches 'Bob Newman';"
        " add --create to create a contact named 'Bob Newman'\n"
    )
    cli.ok("note", "Bob Newman", "met at the fair", "--create")
    assert [c["name"] for c in _j(cli.ok("contact", "list", "--json"))] == ["Bob Newman"]


def test_note_with_bad_follow_up_writes_nothing(cli: Runner) -> None:
    r = cli("note", "Carol", "hello", "--create", "--follow-up", "someday maybe")
    assert r.exit_code == 2
    assert r.stderr.startswith("Error: ") and "someday maybe" in r.stderr
    assert _j(cli.ok("contact", "list", "--json")) == []
    assert _j(cli.ok("log", "--json")) == []


def test_remind_todo_done_snooze(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("company", "add", "Acme GmbH")
    assert cli.ok("remind", "acme", "3d", "send contract").stdout == (
        "Reminder #1 about Acme GmbH: Thu 26 Nov 09:00 (in 3 days)\n"
    )
    cli.ok("remind", "alice", "today 8am", "call back")  # already past: overdue
    cli.ok("remind", "-", "today 5pm", "expenses")
    today = cli.ok("todo").stdout.splitlines()
    assert [line.split("\t")[0] for line in today] == ["2", "3"]
    assert today[0].split("\t")[1] == "2h overdue"
    assert [t["id"] for t in _j(cli.ok("todo", "--overdue", "--json"))] == [2]
    assert [t["id"] for t in _j(cli.ok("todo", "--days", "3", "--json"))] == [2, 3, 1]
    assert cli.ok("done", "2").stdout == "Done #2 call back\n"
    snoozed = _j(cli.ok("snooze", "3", "tomorrow 9am", "--json"))
    assert snoozed["due_at"] == "2026-11-24T08:00:00Z" and snoozed["snoozed"] == 1
    assert _j(cli.ok("todo", "--json")) == []
    r = cli("done", "2")
    assert r.exit_code == 2 and r.stderr == "Error: reminder 2 is already done\n"


def test_done_many_is_all_or_nothing(cli: Runner) -> None:
    cli.ok("remind", "-", "today 5pm", "a")
    cli.ok("remind", "-", "today 6pm", "b")
    r = cli("done", "1", "99")
    assert r.exit_code == 1 and r.stderr == "Error: no reminder with id 99\n"
    assert [t["id"] for t in _j(cli.ok("todo", "--json"))] == [1, 2]
    assert cli.ok("done", "1", "#2").stdout.count("Done") == 2


def test_recurring_reminder_schedules_the_next_one(cli: Runner) -> None:
    r = _j(cli.ok("remind", "-", "today 5pm", "weekly report", "--every", "weekly", "--json"))
    assert r["recurrence"]
    done = _j(cli.ok("done", str(r["id"]), "--json"))
    assert done["next"]["due_at"] == "2026-11-30T16:00:00Z"
    assert done["next"]["recurrence"] == r["recurrence"]


def test_bad_when_and_ids_are_usage_errors(cli: Runner) -> None:
    for args in [
        ("remind", "-", "tomorow", "x"),
        ("snooze", "abc", "1h"),
        ("remind", "-", "tomorrow", "x", "--every", "fortnightly-ish"),
        ("snooze", "1", "yesterday"),
    ]:
        r = cli(*args)
        assert r.exit_code in (1, 2), args
        assert r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1, (args, r.stderr)
        assert r.stdout == ""
    r = cli("remind", "-", "tomorow", "x")
    assert r.exit_code == 2 and "'tomorow'" in r.stderr


def test_chinese_dates(cli: Runner) -> None:
    cli.ok("contact", "add", "王伟")
    r = _j(cli.ok("remind", "王伟", "下周一", "回电话", "--json"))
    assert r["due_at"] == "2026-11-30T08:00:00Z"
    assert r["target"] == "王伟"
