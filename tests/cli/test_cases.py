"""Service cases (#20): `case`, `sla` and `settings` through the real command line, on
SQLite and PostgreSQL. The clock is frozen at Mon 23 Nov 2026 09:00 UTC (10:00 in Berlin)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Runner


def _case(cli: Runner, case_id: int, *extra: str) -> Any:
    return cli.ok("case", "show", str(case_id), "--json", *extra).json()


def test_a_case_runs_through_its_life(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong")
    out = cli.ok("case", "add", "alice", "Printer broken", "--priority", "high")
    # high: respond within 4 working hours, from 10:00 Berlin
    assert out.stdout == (
        "Opened case #1 Printer broken for Alice Wong (high, SLA Mon 23 Nov 14:00 (today))\n"
    )
    case = _case(cli, 1)
    assert (case["status"], case["owner"], case["sla_due_at"]) == (
        "open",
        "sam",
        "2026-11-23T13:00:00Z",
    )

    cli.ok("case", "note", "1", "asked for the model number")
    case = _case(cli, 1)
    # the first note is the response: the clock moves on to resolution (1 working day)
    assert case["first_response_at"] == "2026-11-23T09:00:00Z"
    assert case["sla_due_at"] == "2026-11-24T09:00:00Z"
    assert [n["body"] for n in case["notes"]] == ["asked for the model number"]
    # ... and the note is on the contact's timeline too
    timeline = cli.ok("contact", "show", "alice", "--json").json()["timeline"]
    assert [(t["kind"], t["text"]) for t in timeline] == [
        ("note", "asked for the model number"),
        ("case", "#1 Printer broken · open · high"),  # when it was opened, as it is now
    ]

    cli.ok("case", "close", "1", "--solution", "new toner", "--satisfaction", "5")
    case = _case(cli, 1)
    assert (case["status"], case["solution"], case["satisfaction"], case["sla_due_at"]) == (
        "closed", "new toner", 5, None,
    )  # fmt: skip
    cli.ok("case", "reopen", "1")
    assert _case(cli, 1)["status"] == "open"
    history = cli.ok("history", "alice", "--json").json()
    assert {h["entity"] for h in history} >= {"case", "interaction", "contact"}
    assert {h["label"] for h in history if h["entity"] == "case"} == {"Printer broken"}
    assert [h["action"] for h in history if h["entity"] == "case"][:4] == [
        "reopen", "close", "respond", "add",
    ]  # fmt: skip

    r = cli("case", "rm", "1")
    assert r.exit_code == 2 and "pass --yes" in r.stderr
    cli.ok("case", "rm", "1", "--yes")
    assert cli.ok("case", "list", "--json").json() == []
    # the note stays on the contact's timeline, the case goes
    timeline = cli.ok("contact", "show", "alice", "--json").json()["timeline"]
    assert [t["kind"] for t in timeline] == ["note"]


def test_waiting_on_the_customer_pauses_the_clock(
    cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("case", "add", "alice", "Refund", "--priority", "urgent")  # respond by 11:00
    assert _case(cli, 1)["sla_due_at"] == "2026-11-23T10:00:00Z"
    cli.ok("case", "edit", "1", "--status", "waiting")
    case = _case(cli, 1)
    # asking the customer is the first response; the clock pauses
    assert (case["status"], case["sla_due_at"], case["first_response_at"]) == (
        "waiting", None, "2026-11-23T09:00:00Z",
    )  # fmt: skip
    # the customer answers the next morning at 09:30 Berlin: 7 working hours waited
    monkeypatch.setenv("TINYCRM_NOW", "2026-11-24T08:30:00+00:00")
    cli.ok("case", "edit", "1", "--status", "open")
    # it waited 7.5 working hours (Mon 10:00-17:00, Tue 09:00-09:30), so resolution is
    # 4 + 7.5 working hours from Mon 10:00: Mon 7h, then Tue 09:00 + 4.5h = 13:30 Berlin
    assert _case(cli, 1)["sla_due_at"] == "2026-11-24T12:30:00Z"


def test_working_hours_and_holidays_move_open_clocks(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("case", "add", "alice", "Quote")  # normal: respond within a working day
    assert _case(cli, 1)["sla_due_at"] == "2026-11-24T09:00:00Z"  # Tue 10:00 Berlin
    cli.ok("settings", "set", "working-hours", "Mon-Fri 13:00-15:00")
    # a working day is 2 hours now: Mon 13:00-15:00
    assert _case(cli, 1)["sla_due_at"] == "2026-11-23T14:00:00Z"
    cli.ok("settings", "set", "holidays", "2026-11-23")
    assert _case(cli, 1)["sla_due_at"] == "2026-11-24T14:00:00Z"  # Tue 15:00 Berlin
    cli.ok("sla", "edit", "normal", "--respond", "3h")
    assert _case(cli, 1)["sla_due_at"] == "2026-11-25T13:00:00Z"  # Tue 2h, Wed 1h
    listed = cli.ok("settings", "list", "--json").json()
    assert [(s["key"], s["value"], s["default"]) for s in listed][:4] == [
        ("working-hours", "Mon-Fri 13:00-15:00", False),
        ("holidays", "2026-11-23", False),
        ("escalate-after", "3", True),
        ("big-deal-threshold", "", True),
    ]  # then the quote settings (#22), at their defaults
    targets = {
        t["priority"]: (t["respond"], t["resolve"]) for t in cli.ok("sla", "list", "--json").json()
    }
    assert targets == {
        "urgent": ("1h", "4h"),
        "high": ("4h", "1d"),
        "normal": ("3h", "3d"),
        "low": ("2d", "10d"),
    }


def test_sla_targets_read_and_written_as_lengths_of_time(cli: Runner) -> None:
    # typed `30 min`, `90m`, `2 hours`, `36h`: stored canonical, written as dates.span does
    out = cli.ok("sla", "edit", "urgent", "--respond", "30 min", "--resolve", "2 hours")
    assert out.stdout == "SLA for urgent: respond within 30 min, resolve within 2h\n"
    cli.ok("sla", "edit", "high", "--respond", "90m", "--resolve", "36h")
    cli.ok("sla", "edit", "low", "--respond", "1 day")
    listed = cli.ok("sla", "list", "--json").json()
    assert [(t["respond"], t["resolve"]) for t in listed] == [
        ("30m", "2h"), ("90m", "36h"), ("1d", "3d"), ("1d", "10d"),
    ]  # fmt: skip
    table = cli.ok("sla", "list").stdout
    assert "30 min" in table and "90 min" in table and "36h" in table
    assert "30m" not in table
    assert "30 min" in cli.ok("sla", "edit", "--help").stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["case", "add", "alice", "x", "--priority", "mega"],
            "priority must be one of urgent, high, normal, low: 'mega'",
        ),
        (["case", "add", "alice", "  "], "case title can't be empty"),
        (
            ["case", "add", "alice", "x", "--owner", "nobody"],
            "no user called 'nobody' (users: sam)",
        ),
        (["case", "close", "1"], "a case is closed with a solution: give --solution TEXT"),
        (
            ["case", "close", "1", "--solution", "ok", "--satisfaction", "6"],
            "satisfaction must be 1 to 5: 6",
        ),
        (
            ["case", "edit", "1", "--status", "closed"],
            "close a case with: tinycrm case close ID --solution TEXT",
        ),
        (
            ["case", "edit", "1", "--status", "later"],
            "status must be one of open, waiting, resolved, closed: 'later'",
        ),
        (
            ["case", "edit", "1"],
            "nothing to change: give --title, --body, --priority, --status or --due",
        ),
        (["case", "reopen", "1"], "case 1 is open, not resolved or closed"),
        (
            ["sla", "edit", "high", "--respond", "soon"],
            "an SLA target is a positive number of working minutes, hours or days"
            " (30 min, 4h, 1d): 'soon'",
        ),
        (
            ["sla", "edit", "mega", "--respond", "1h"],
            "priority must be one of urgent, high, normal, low: 'mega'",
        ),
        (
            ["settings", "set", "working-hours", "Mon-Fri 17:00-09:00"],
            "working hours must start before they end: 'Mon-Fri 17:00-09:00'",
        ),
        (
            ["settings", "set", "colour", "blue"],
            "unknown setting 'colour' (settings: working-hours, holidays, escalate-after,"
            " big-deal-threshold, company-name, company-address, company-email, quote-terms,"
            " quote-valid-for)",
        ),
    ],
)
def test_bad_input_is_one_line_exit_2_and_changes_nothing(
    cli: Runner, args: list[str], message: str
) -> None:
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("case", "add", "alice", "Printer broken")
    before = _case(cli, 1)
    r = cli(*args)
    assert (r.exit_code, r.stderr, r.stdout) == (2, f"Error: {message}\n", "")
    assert _case(cli, 1) == before
    assert len(cli.ok("case", "list", "--json").json()) == 1


def test_unknown_case_and_stale_version(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong")
    r = cli("case", "show", "7")
    assert (r.exit_code, r.stderr) == (1, "Error: no case with id 7\n")
    cli.ok("case", "add", "alice", "Printer broken")
    cli.ok("case", "edit", "1", "--title", "Printer jammed", "--if-version", "1")
    r = cli("case", "edit", "1", "--priority", "low", "--if-version", "1")
    assert r.exit_code == 1 and r.stderr.startswith("Error: ") and "Printer jammed" in r.stderr
    assert _case(cli, 1)["priority"] == "normal"


def test_list_filters(cli: Runner) -> None:
    cli.ok("user", "add", "kim")
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("case", "add", "alice", "A", "--priority", "urgent")
    cli.ok("case", "add", "alice", "B", "--priority", "low", "--owner", "kim")
    cli.ok("case", "add", "alice", "C", "--due", "today 10:30")
    cli.ok("case", "close", "3", "--solution", "done")

    def ids(*args: str) -> list[int]:
        return [c["id"] for c in cli.ok("case", "list", "--json", *args).json()]

    assert ids() == [1, 2, 3]
    assert ids("--open") == [1, 2]
    assert ids("--mine") == [1, 3]
    assert ids("--owner", "kim") == [2]
    assert ids("--priority", "low") == [2]
    assert ids("--overdue") == []
    assert ids("--overdue", "--as-of", "today 11:30") == [1]  # urgent: respond by 11:00


def _team(cli: Runner) -> None:
    """ann works for bo, who works for cy, who works for di."""
    cli.ok("user", "add", "di")
    cli.ok("user", "add", "cy", "--lead", "di")
    cli.ok("user", "add", "bo", "--lead", "cy")
    cli.ok("user", "add", "ann", "--lead", "bo")
    cli.ok("contact", "add", "Alice Wong")
    # urgent: first response due within 1 working hour, Mon 11:00 Berlin (10:00 UTC)
    cli.ok("case", "add", "alice", "Outage", "--priority", "urgent", "--owner", "ann")


def test_escalation_climbs_three_levels_of_leads(cli: Runner) -> None:
    _team(cli)

    def escalated(user: str, as_of: str) -> list[int]:
        return [
            c["id"]
            for c in cli.ok(
                "case", "list", "--escalated", "--owner", user, "--as-of", as_of, "--json"
            ).json()
        ]

    def level(as_of: str) -> tuple[int, str | None]:
        c = _case(cli, 1, "--as-of", as_of)
        return c["escalation"], c["escalated_to"]

    # escalate_after is 3 days: overdue by up to 3 days, it stays with ann
    assert level("2026-11-26 11:00") == (0, None)
    assert [escalated(u, "2026-11-26 11:00") for u in ("bo", "cy", "di")] == [[], [], []]
    assert level("2026-11-26 12:00") == (1, "bo")
    assert [escalated(u, "2026-11-26 12:00") for u in ("bo", "cy", "di")] == [[1], [], []]
    assert level("2026-11-29 12:00") == (2, "cy")
    assert [escalated(u, "2026-11-29 12:00") for u in ("bo", "cy", "di")] == [[], [1], []]
    assert level("2026-12-02 12:00") == (3, "di")
    assert [escalated(u, "2026-12-02 12:00") for u in ("bo", "cy", "di")] == [[], [], [1]]
    # past the top of the chain it stays with the last lead
    assert level("2026-12-30 12:00") == (3, "di")
    # answered: the clock moves on to resolution (4 working hours from its start: Mon 14:00)
    cli.ok("case", "note", "1", "on it")
    assert _case(cli, 1)["sla_due_at"] == "2026-11-23T13:00:00Z"
    assert level("2026-11-26 12:00") == (0, None)
    assert level("2026-11-26 16:00") == (1, "bo")


def test_escalated_cases_reach_the_leads_next_and_digest(
    cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    _team(cli)
    cli.ok("case", "add", "alice", "Invoice copy", "--priority", "low", "--owner", "ann")
    monkeypatch.setenv("TINYCRM_USER", "ann")
    mine = cli.ok("next", "--json").json()
    # due later today: the urgent case (respond by 11:00); the low one is due in 2 days
    assert [(a["kind"], a["id"], a["score"]) for a in mine] == [("case", 1, 60 + 30)]
    # Thu 26 Nov 12:00 Berlin: overdue by 3 days and an hour, so with bo
    monkeypatch.setenv("TINYCRM_NOW", "2026-11-26T11:00:00+00:00")
    (own,) = [a for a in cli.ok("next", "--json").json() if a["id"] == 1]
    assert own["kind"] == "case"
    assert [r["reason"] for r in own["reasons"]] == [
        "overdue", "3d overdue", "escalated to bo", "urgent case",
    ]  # fmt: skip
    assert own["score"] == 80 + 4 * 3 + 50 + 30
    monkeypatch.setenv("TINYCRM_USER", "bo")
    (theirs,) = cli.ok("next", "--json").json()
    assert (theirs["kind"], theirs["id"], theirs["owner"], theirs["score"]) == (
        "escalated_case", 1, "ann", own["score"],
    )  # fmt: skip
    assert "case #1" in cli.ok("next").stdout
    monkeypatch.setenv("TINYCRM_USER", "cy")
    assert cli.ok("next", "--json").json() == []
    # the digest is judged at the start of its day
    digest = cli.ok("digest", "--user", "bo", "--as-of", "2026-11-27", "--format", "json").json()
    assert [(c["id"], c["escalation"], c["escalated_to"]) for c in digest["cases"]] == [
        (1, 1, "bo")
    ]
    text = cli.ok("digest", "--user", "bo", "--as-of", "2026-11-27").stdout
    assert (
        "Escalated cases (1)\n  case #1 Outage — Alice Wong, urgent, 4 days overdue, owner ann"
        in text
    )
    # Mon 30 Nov: the outage is with cy now; the low case (respond within 2 working days,
    # by Wed 25 Nov 10:00) is overdue by more than 3 days, so with bo
    team = cli.ok("digest", "--team", "--as-of", "2026-11-30", "--format", "json").json()
    assert [(c["id"], c["escalated_to"]) for c in team["cases"]] == [(1, "cy"), (2, "bo")]
    bo = cli.ok("digest", "--user", "bo", "--as-of", "2026-11-30", "--format", "json").json()
    assert [c["id"] for c in bo["cases"]] == [2]


def _settings_file(path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("TINYCRM_SETTINGS", str(path))


def test_escalate_after_is_the_teams_and_the_store_wins(
    cli: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _team(cli)  # ann's urgent case, overdue from Mon 10:00 UTC

    def level(as_of: str) -> int:
        return int(_case(cli, 1, "--as-of", as_of)["escalation"])

    assert level("2026-11-25 12:00") == 0  # overdue 2 days, the default is 3
    # an old settings file still works while the store has no value
    _settings_file(tmp_path / "s.toml", "escalate_after = 1\n", monkeypatch)
    assert level("2026-11-25 12:00") == 2
    doctor = cli.ok("doctor", "--json").json()["settings"]
    assert doctor[0] == {
        "key": "escalate-after", "value": "1", "source": "settings file", "ignored": None,
    }  # fmt: skip
    # once the team sets it, the store's value wins for everyone
    cli.ok("settings", "set", "escalate-after", "2d")
    assert level("2026-11-25 10:00") == 0  # overdue 1 day 23 hours
    assert level("2026-11-25 12:00") == 1  # overdue 2 days 1 hour: more than 2 days
    assert "setting: escalate-after = 2 (from the store; your settings file's 1 is not used" in (
        cli.ok("doctor").stdout
    )
    r = cli("settings", "set", "escalate-after", "4000")
    assert (r.exit_code, r.stderr) == (
        2, "Error: escalate-after must be a whole number of days from 0 to 3650: '4000'\n",
    )  # fmt: skip


def test_the_big_deal_threshold_is_shared_and_a_settings_file_overrides_it(
    cli: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("deal", "add", "alice", "Fleet", "--value", "15000")

    def big() -> list[str]:
        return [d["title"] for d in cli.ok("digest", "--json").json()["big_deals"]]

    assert big() == []  # no threshold: nothing is big
    cli.ok("settings", "set", "big-deal-threshold", "10,000")
    assert big() == ["Fleet"]
    listed = {s["key"]: s["value"] for s in cli.ok("settings", "list", "--json").json()}
    assert listed["big-deal-threshold"] == "10000.00"
    # a salesperson with bigger fish keeps their own threshold
    _settings_file(tmp_path / "s.toml", 'big_deal_threshold = "20000"\n', monkeypatch)
    assert big() == []
    listed_piped = cli("settings", "list")  # the store's value, and a note that yours wins
    assert "big-deal-threshold\t10000.00\t" in listed_piped.stdout
    assert listed_piped.stderr == (
        "Note: big-deal-threshold: your settings file's 20000.00 applies to you\n"
    )
    shown = cli.ok("doctor", "--json").json()["settings"][1]
    assert (shown["value"], shown["source"], shown["ignored"]) == (
        "20000.00", "settings file", "10000.00",
    )  # fmt: skip
    monkeypatch.delenv("TINYCRM_SETTINGS")
    cli.ok("settings", "set", "big-deal-threshold", "none")
    assert big() == []
    assert cli.ok("doctor", "--json").json()["settings"][1]["source"] == "store"


def test_case_list_limit_keeps_the_most_urgent_and_counts_the_rest(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong")
    for priority in ("low", "urgent", "normal", "high", "urgent"):
        cli.ok("case", "add", "alice", f"{priority} one", "--priority", priority)
    cli.ok("case", "close", "2", "--solution", "done")  # closed: last
    every = [c["id"] for c in cli.ok("case", "list", "--json").json()]
    # urgent (SLA 11:00, id 5), high (14:00), normal and low (a day and 2 days on), closed
    assert every == [5, 4, 3, 1, 2]
    assert [c["id"] for c in cli.ok("case", "list", "-n", "2", "--json").json()] == [5, 4]
    assert [c["id"] for c in cli.ok("case", "list", "--open", "--limit", "9", "--json").json()] == [
        5, 4, 3, 1,
    ]  # fmt: skip
    r = cli("case", "list", "--limit", "0")
    assert r.exit_code == 2 and r.stderr.count("\n") == 1


def test_a_long_case_list_on_a_terminal_says_how_many_more(sqlite_store: str) -> None:
    import os
    import sys

    from tests.conftest import pty_output

    cli = Runner()
    cli.ok("contact", "add", "Alice Wong")
    for n in range(12):
        cli.ok("case", "add", "alice", f"case {n}")
    shown = pty_output(
        [sys.executable, "-m", "tinycrm", "case", "list", "--open", "-n", "10"], dict(os.environ)
    ).decode()
    assert "… 10 of 12 shown: narrow with --open/--owner/--priority or raise --limit" in shown


def test_undo_puts_the_sla_clocks_back_as_the_writers_keep_them(cli: Runner) -> None:
    """An undo restores the rows; the SLA clocks that follow from them are computed again
    (of the undone case, and of every open case when a target or the working time moves)."""
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("case", "add", "alice", "Quote")
    cli.ok("case", "add", "alice", "Invoice")
    due = _case(cli, 1)["sla_due_at"]
    cli.ok("case", "close", "1", "--solution", "sent it")
    assert _case(cli, 1)["sla_due_at"] is None
    cli.ok("undo")
    assert _case(cli, 1)["sla_due_at"] == due
    cli.ok("sla", "edit", "normal", "--respond", "3h")
    moved = [_case(cli, n)["sla_due_at"] for n in (1, 2)]
    assert moved[0] != due
    cli.ok("undo")
    assert [_case(cli, n)["sla_due_at"] for n in (1, 2)] == [due, due]
    cli.ok("settings", "set", "working-hours", "Mon-Fri 13:00-15:00")
    cli.ok("undo")
    assert [_case(cli, n)["sla_due_at"] for n in (1, 2)] == [due, due]
    assert cli.ok("doctor", "--json").json()["healthy"] is True
