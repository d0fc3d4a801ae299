"""A newcomer's day on the command line (issue #18): results that were wrong, and the
rough edges a first-time user trips over. Each runs the real CLI on both backends."""

from __future__ import annotations

from typing import Any

from tests.conftest import Runner


def _j(r: Any) -> Any:
    return r.json()


# -- 2: snoozing moves a reminder later, never earlier or nowhere -----------------------------
def test_snooze_by_an_offset_counts_from_a_future_due_time(cli: Runner) -> None:
    # now is Mon 23 Nov 10:00 in Berlin; the reminder is due the Tuesday after next
    cli.ok("remind", "-", "2026-12-01 09:00", "send the quote")
    assert _j(cli.ok("snooze", "1", "2d", "--json"))["due_at"] == "2026-12-03T08:00:00Z"
    assert cli.ok("snooze", "1", "3h").stdout == "Snoozed #1 to Thu 03 Dec 12:00 (in 10 days)\n"


def test_snooze_by_default_goes_to_the_morning_after_it_was_due(cli: Runner) -> None:
    cli.ok("remind", "-", "2026-12-01 15:00", "send the quote")
    assert _j(cli.ok("snooze", "1", "--json"))["due_at"] == "2026-12-02T08:00:00Z"
    cli.ok("remind", "-", "today 8am", "call back")  # overdue: tomorrow morning
    assert _j(cli.ok("snooze", "2", "--json"))["due_at"] == "2026-11-24T08:00:00Z"
    assert _j(cli.ok("snooze", "2", "2h", "--json"))["due_at"] == "2026-11-24T10:00:00Z"


def test_snooze_to_a_moment_before_the_due_time_is_refused(cli: Runner) -> None:
    cli.ok("remind", "-", "2026-12-01 09:00", "send the quote")
    r = cli("snooze", "1", "tomorrow")
    assert r.exit_code == 2
    assert r.stderr == (
        "Error: snoozing moves a reminder later: #1 is due Tue 01 Dec 09:00, and 'tomorrow'"
        " is Tue 24 Nov 09:00; give a later time, or an offset such as 2d (counted from"
        " when it is due)\n"
    )
    r = cli("snooze", "1", "2026-12-01 09:00")
    assert r.exit_code == 2 and "is due Tue 01 Dec 09:00" in r.stderr
    assert _j(cli.ok("todo", "--all", "--json"))[0]["due_at"] == "2026-12-01T08:00:00Z"
    assert _j(cli.ok("todo", "--all", "--json"))[0]["snoozed"] == 0


# -- 3: "as of today" includes today -----------------------------------------------------------
def test_a_purchase_made_today_counts_in_rank_at_once(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("purchase", "add", "alice", "100", "--date", "2025-11-23")
    cli.ok("purchase", "add", "alice", "1200")  # today
    [alice] = _j(cli.ok("rank", "--json"))["customers"]
    assert (alice["recency_days"], alice["frequency"], alice["monetary"]) == (0, 2, "1300.00")
    before = _j(cli.ok("rank", "--json", "--as-of", "2026-11-22"))["customers"]
    assert [(c["recency_days"], c["frequency"]) for c in before] == [(364, 1)]


# -- 4: things that happened can't happen in the future, unless meant --------------------------
def test_a_note_dated_in_the_future_is_refused_unless_meant(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong")
    r = cli("note", "alice", "met at the fair", "--when", "tomorrow")
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == (
        "Error: a note records what happened, and Tue 24 Nov 2026 09:00 is in the future;"
        " give a past time, or add --future if it is meant\n"
    )
    assert [e["kind"] for e in _j(cli.ok("log", "--json"))] == ["contact+"]  # only the add
    logged = _j(cli.ok("note", "alice", "fair", "--when", "tomorrow", "--future", "--json"))
    assert logged["happened_at"] == "2026-11-24T08:00:00Z"
    assert _j(cli.ok("note", "alice", "call", "--when", "1h ago", "--json"))["id"] == 2


def test_a_purchase_dated_after_today_is_refused_unless_meant(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong")
    r = cli("purchase", "add", "alice", "100", "--date", "2026-11-24")
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == (
        "Error: a purchase records what was bought, and 2026-11-24 is in the future;"
        " give a past date, or add --future if it is meant\n"
    )
    assert _j(cli.ok("purchase", "list", "--json")) == []
    cli.ok("purchase", "add", "alice", "100", "--date", "2026-11-24", "--future")
    cli.ok("purchase", "add", "alice", "100", "--date", "today")
    assert len(_j(cli.ok("purchase", "list", "--json"))) == 2


# -- 8: the timeline orders same-second entries by time, then by id ---------------------------
def test_contact_timeline_orders_same_second_entries_by_id(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong")
    for k in range(1, 11):  # deal ids 9 and 10 compare wrongly as text ("deal:9" > "deal:10")
        cli.ok("deal", "add", "alice", f"D{k}")
    cli.ok("deal", "move", "D10", "proposal")
    cli.ok("note", "alice", "sent the quote")
    timeline = _j(cli.ok("contact", "show", "alice", "--json"))["timeline"]
    assert [e["text"] for e in timeline] == [
        "sent the quote",
        "D10 → Proposal",
        *(f"D{k} → Lead" for k in range(10, 0, -1)),
    ]


# -- 19: every command that prints data takes --json -------------------------------------------
#: Commands that print no data to read back, each with the reason.
NO_JSON = {
    "tui": "opens the full-screen app",
    "export person": "always writes JSON",
    "export ics": "writes an iCalendar file",
    "contact query": "speaks the mail clients' address-book format",
    "completion show": "prints a shell script",
    "completion install": "installs a shell script",
}


def _commands() -> list[tuple[str, Any]]:
    """Every runnable command (and each group that runs on its own, like `stages`)."""
    from typer.main import get_command

    from tinycrm.cli.app import build_app

    found: list[tuple[str, Any]] = []

    def walk(cmd: Any, path: str) -> None:
        subcommands = getattr(cmd, "commands", None) or {}
        if path and (not subcommands or getattr(cmd, "invoke_without_command", False)):
            found.append((path, cmd))
        for name, sub in subcommands.items():
            walk(sub, f"{path} {name}".strip())

    walk(get_command(build_app()), "")
    return found


def test_every_command_that_prints_data_takes_json() -> None:
    commands = _commands()
    assert {"digest", "stages", "export contacts", "contact show"} <= {p for p, _ in commands}
    missing = [
        path
        for path, cmd in commands
        if path not in NO_JSON and "--json" not in {o for p in cmd.params for o in p.opts}
    ]
    assert missing == []


def test_json_is_format_json_for_the_digest_and_the_exports(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("remind", "alice", "today 8am", "call back")
    assert cli.ok("digest", "--json").stdout == cli.ok("digest", "--format", "json").stdout
    assert _j(cli.ok("digest", "--json"))["today"][0]["text"] == "call back"
    exported = cli.ok("export", "contacts", "--json").stdout
    assert exported == cli.ok("export", "contacts", "--format", "json").stdout
    assert [c["name"] for c in _j(cli.ok("export", "contacts", "--json"))] == ["Alice Wong"]
    r = cli("digest", "--json", "--format", "html")
    assert (r.exit_code, r.stderr) == (2, "Error: give --json or --format html, not both\n")


# -- 20: counts read as English ----------------------------------------------------------------
def test_plural_says_one_thing_or_many() -> None:
    from tinycrm.text import plural

    assert [plural(1, "customer"), plural(2, "open deal"), plural(0, "purchase")] == [
        "1 customer",
        "2 open deals",
        "0 purchases",
    ]
    assert [plural(43277, "company"), plural(3, "match"), plural(2, "person", "people")] == [
        "43,277 companies",
        "3 matches",
        "2 people",
    ]


def test_one_of_a_thing_is_singular_on_the_command_line(cli: Runner) -> None:
    from tests.cli.test_terminal import on_terminal

    cli.ok("contact", "add", "Alice Wong", "--tag", "vip")
    cli.ok("user", "add", "ana")
    cli.ok("deal", "add", "alice", "50 licences", "--value", "12000")
    cli.ok("purchase", "add", "alice", "1200")
    assert cli.ok("tag", "cadence", "vip", "1d").stdout == (
        "Tag vip: stay in touch every 1 day (1 contact)\n"
    )
    assert cli.ok("assign", "alice", "ana", "--with-open").stdout.count("1 open deal") == 1
    assert "1 open deals" not in cli.ok("assign", "alice", "sam", "--with-open").stdout
    shown = on_terminal("rank")
    assert "1 customer bought 1,200.00 EUR up to 2026-11-23;" in shown


def test_a_name_not_found_suggests_then_offers_create(cli: Runner) -> None:
    cli.ok("contact", "add", "Bob Newman")
    r = cli("note", "Rob Newmann", "hi")
    assert (r.exit_code, r.stderr) == (
        1,
        "Error: no contact, company or deal matches 'Rob Newmann' (did you mean 'Bob Newman'?);"
        " add --create to create a contact named 'Rob Newmann'\n",
    )


# -- 22: the command lists show whole first lines ---------------------------------------------
def test_every_short_help_fits_the_command_list(monkeypatch: Any) -> None:
    """Click cuts a first sentence that doesn't fit its 80 columns with "..."."""
    monkeypatch.setenv("COLUMNS", "80")
    run = Runner()
    groups = [""] + [p for p, cmd in _commands() if getattr(cmd, "commands", None)]
    groups += sorted({p.split()[0] for p, _ in _commands() if " " in p} - set(groups))
    assert {"", "contact", "import", "report"} <= set(groups)
    for group in groups:
        shown = run(*group.split(), "--help")
        assert shown.exit_code == 0, group
        listing = shown.stdout.partition("\nCommands:\n")[2]
        assert listing, f"'tinycrm {group} --help' lists no commands"
        cut = [line.strip() for line in listing.splitlines() if line.endswith("...")]
        assert cut == [], f"tinycrm {group} --help"


# -- 23: piped output says where each part starts, and that nothing is due ---------------------
def test_piped_contact_show_has_section_headers(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong", "--email", "alice@acme.com")
    cli.ok("deal", "add", "alice", "50 licences", "--value", "12000")
    cli.ok("note", "alice", "asked for a quote")
    lines = cli.ok("contact", "show", "alice").stdout.split("\n")
    assert lines[:3] == ["Alice Wong", "id\t1", "email\talice@acme.com"]
    deals = lines.index("Open deals")
    assert lines[deals - 1] == "" and lines[deals + 1].startswith("#1\t50 licences\tLead\t")
    timeline = lines.index("Timeline")
    assert lines[timeline - 1] == "" and timeline > deals
    assert lines[timeline + 1].split("\t")[2] == "asked for a quote"


def test_bare_tinycrm_piped_says_nothing_is_due(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong")
    assert cli.ok().stdout == "Nothing due today, Monday 23 November.\n"
    cli.ok("remind", "alice", "today 5pm", "call back")
    assert cli.ok().stdout.split("\t")[2:4] == ["Alice Wong", "call back"]


# -- 7: a deal opened a minute ago is not yet missing a next step ------------------------------
def test_next_gives_a_new_deal_a_grace_period(cli: Runner, home: Any, monkeypatch: Any) -> None:
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("deal", "add", "alice", "50 licences", "--value", "12000")
    monkeypatch.setenv("TINYCRM_NOW", "2026-11-23T09:01:00+00:00")  # a minute later
    assert [a["kind"] for a in _j(cli.ok("next", "--json"))] == []
    monkeypatch.setenv("TINYCRM_NOW", "2026-11-24T09:01:00+00:00")  # a day later
    [action] = _j(cli.ok("next", "--json"))
    assert (action["kind"], action["title"]) == ("no_next_step", "50 licences (Lead)")
    home.mkdir(parents=True, exist_ok=True)
    (home / "settings.toml").write_text("next_step_grace = 0\n")
    monkeypatch.setenv("TINYCRM_NOW", "2026-11-23T09:01:00+00:00")
    assert [a["kind"] for a in _j(cli.ok("next", "--json"))] == ["no_next_step"]
    (home / "settings.toml").write_text("next_step_grace = -1\n")
    r = cli("next")
    assert r.exit_code == 2 and r.stderr.startswith("Error: next_step_grace in ")


def test_a_minute_is_never_written_m() -> None:
    from datetime import UTC, datetime, timedelta

    from tinycrm.dates import format_relative, span

    assert [span(s) for s in (30, 60, 45 * 60, 5 * 3600, 3 * 86400)] == [
        "now",
        "1 min",
        "45 min",
        "5h",
        "3d",
    ]
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert format_relative(now - timedelta(minutes=1), now=now, tz=UTC) == "1 min overdue"


# -- 5: counts come from the store, for what was asked ------------------------------------------
def test_contact_list_counts_the_contacts_the_filter_keeps(cli: Runner) -> None:
    from tests.cli.test_terminal import on_terminal

    for name, tags in [("Ann", ["vip"]), ("Ben", ["vip"]), ("Cy", ["vip"]), ("Di", []), ("Ed", [])]:
        cli.ok("contact", "add", name, *(f"--tag={t}" for t in tags))
    shown = on_terminal("contact", "list", "--tag", "vip", "--limit", "2")
    assert "… 2 of 3 shown: narrow with --where/--tag or raise --limit" in shown
    shown = on_terminal("contact", "list", "--limit", "2")
    assert "… 2 of 5 shown" in shown


# -- 6: totals never leave a currency out silently ---------------------------------------------
def test_piped_totals_say_on_stderr_which_currencies_they_leave_out(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("deal", "add", "alice", "euros", "--value", "9500")
    cli.ok("deal", "add", "alice", "pounds", "--value", "GBP 1200")
    cli.ok("purchase", "add", "alice", "100")
    cli.ok("purchase", "add", "alice", "50 usd")
    report = cli("report", "pipeline")
    assert report.exit_code == 0 and report.stdout.startswith("stage\tLead\t1\t9,500.00 EUR")
    assert report.stderr == (
        "Note: Money in EUR only; GBP amounts are left out (see --currency).\n"
    )
    ranked = cli("rank")
    assert ranked.exit_code == 0 and ranked.stdout.split("\t")[7] == "100.00"
    assert ranked.stderr == ("Note: amounts in EUR only; 1 purchase in other currencies left out\n")


def test_correcting_a_note_or_purchase_into_the_future_needs_future_too(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("note", "alice", "met at the fair", "--when", "yesterday")
    cli.ok("purchase", "add", "alice", "100", "--date", "yesterday")
    r = cli("interaction", "edit", "1", "--when", "tomorrow 9am")
    assert r.exit_code == 2 and "is in the future; give a past time, or add --future" in r.stderr
    r = cli("purchase", "edit", "1", "--date", "2026-11-30")
    assert r.exit_code == 2 and "2026-11-30 is in the future" in r.stderr
    cli.ok("interaction", "edit", "1", "--when", "tomorrow 9am", "--future")
    cli.ok("purchase", "edit", "1", "--date", "2026-11-30", "--future")
    assert _j(cli.ok("purchase", "list", "--json"))[0]["purchased_on"] == "2026-11-30"
