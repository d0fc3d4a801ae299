"""Follow-ups: stay-in-touch, rotting deals, escalation, `next`, `digest`, `export ics`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import Runner

GOLDEN = Path(__file__).parent.parent / "golden"


def at(cli: Runner, when: str, *args: str) -> object:
    """Run a command with the clock frozen at `when` (UTC)."""
    old = os.environ["TINYCRM_NOW"]
    os.environ["TINYCRM_NOW"] = when
    try:
        return cli.ok(*args)
    finally:
        os.environ["TINYCRM_NOW"] = old


def digest(cli: Runner, *args: str) -> dict:  # type: ignore[type-arg]
    out: dict = cli.ok("digest", "--format", "json", *args).json()  # type: ignore[type-arg]
    return out


def settings(home: Path, text: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "settings.toml").write_text(text)


# -- stay in touch ------------------------------------------------------------------------------


def test_any_interaction_resets_the_stay_in_touch_clock(cli: Runner) -> None:
    at(cli, "2026-10-01T09:00:00Z", "contact", "add", "Bob Stone", "--every", "30d")
    d = digest(cli, "--as-of", "2026-11-23")
    [item] = d["stay_in_touch"]
    assert item["name"] == "Bob Stone"
    assert item["last_touch"] is None
    assert item["due_date"] == "2026-10-31"
    assert item["days_overdue"] == 23
    for kind in ("call", "email", "meeting", "note"):
        cli.ok("note", "bob", f"a {kind}", "--kind", kind, "--when", "2026-11-20 10:00")
        assert digest(cli, "--as-of", "2026-11-23")["stay_in_touch"] == []
        # due again 30 days after that touch
        [again] = digest(cli, "--as-of", "2026-12-20")["stay_in_touch"]
        assert again["due_date"] == "2026-12-20"
        assert again["last_touch"] == "2026-11-20"


def test_tag_cadence_applies_unless_the_contact_has_its_own(cli: Runner) -> None:
    at(cli, "2026-11-01T09:00:00Z", "contact", "add", "Alice Wong", "--tag", "vip")
    at(cli, "2026-11-01T09:00:00Z", "contact", "add", "Carol King", "--tag", "vip,partner")
    at(cli, "2026-11-01T09:00:00Z", "contact", "add", "Dan Brown", "--tag", "vip", "--every", "60d")
    assert digest(cli, "--as-of", "2026-11-23")["stay_in_touch"] == []
    r = cli.ok("tag", "cadence", "vip", "14d")
    assert r.stdout == "Tag vip: stay in touch every 14 days (3 contacts)\n"
    cli.ok("tag", "cadence", "partner", "1w")
    due = {i["name"]: i for i in digest(cli, "--as-of", "2026-11-23")["stay_in_touch"]}
    assert sorted(due) == ["Alice Wong", "Carol King"]  # Dan's own 60 days win
    assert due["Alice Wong"]["cadence_days"] == 14
    assert due["Carol King"]["cadence_days"] == 7  # the shortest of its tags
    assert due["Carol King"]["cadence_from"] == "tag partner"
    assert cli.ok("tag", "list", "--json").json() == [
        {"tag": "partner", "contacts": 1, "cadence_days": 7},
        {"tag": "vip", "contacts": 3, "cadence_days": 14},
    ]
    cli.ok("contact", "tag", "carol", "--remove", "partner")
    assert digest(cli, "--as-of", "2026-11-23")["stay_in_touch"][1]["cadence_days"] == 14
    cli.ok("tag", "cadence", "vip", "none")
    assert digest(cli, "--as-of", "2026-11-23")["stay_in_touch"] == []


def test_tag_cadence_bad_input(cli: Runner) -> None:
    r = cli("tag", "cadence", "vip", "soon")
    assert r.exit_code == 2 and r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1
    assert cli.ok("tag", "list", "--json").json() == []


# -- deals --------------------------------------------------------------------------------------


def test_a_deal_rots_in_its_stage_and_activity_resets_the_clock(cli: Runner) -> None:
    at(cli, "2026-11-01T09:00:00Z", "contact", "add", "Alice Wong")
    at(cli, "2026-11-01T09:00:00Z", "deal", "add", "alice", "Fleet", "--stage", "Proposal")
    at(cli, "2026-11-01T09:00:00Z", "remind", "deal:1", "2026-12-31", "follow up")
    # Proposal rots after 10 quiet days
    assert digest(cli, "--as-of", "2026-11-10")["rotting_deals"] == []
    [rot] = digest(cli, "--as-of", "2026-11-11")["rotting_deals"]
    assert (rot["id"], rot["last_activity"], rot["rots_on"]) == (1, "2026-11-01", "2026-11-11")
    assert rot["days_idle"] == 10
    # a note on the contact is activity on the deal
    cli.ok("note", "alice", "talked budgets", "--when", "2026-11-20 10:00")
    assert digest(cli, "--as-of", "2026-11-23")["rotting_deals"] == []
    [rot] = digest(cli, "--as-of", "2026-11-30")["rotting_deals"]
    assert rot["last_activity"] == "2026-11-20"
    # a stage move restarts it too (Negotiation: 7 days)
    at(cli, "2026-11-25T09:00:00Z", "deal", "move", "1", "Negotiation")
    assert digest(cli, "--as-of", "2026-11-30")["rotting_deals"] == []
    assert digest(cli, "--as-of", "2026-12-02")["rotting_deals"][0]["stage"] == "Negotiation"
    # an edit too
    at(cli, "2026-12-05T09:00:00Z", "deal", "edit", "1", "--value", "5000")
    assert digest(cli, "--as-of", "2026-12-10")["rotting_deals"] == []
    # a won deal never rots
    cli.ok("deal", "won", "1")
    assert digest(cli, "--as-of", "2027-03-01")["rotting_deals"] == []


def test_changing_a_stages_rot_days_reschedules_its_deals(cli: Runner) -> None:
    at(cli, "2026-11-01T09:00:00Z", "contact", "add", "Alice Wong")
    at(cli, "2026-11-01T09:00:00Z", "deal", "add", "alice", "Fleet")  # Lead: 14 days
    assert digest(cli, "--as-of", "2026-11-10")["rotting_deals"] == []
    cli.ok("stages", "edit", "Lead", "--rot-days", "5")
    assert [d["id"] for d in digest(cli, "--as-of", "2026-11-10")["rotting_deals"]] == [1]
    cli.ok("stages", "edit", "Lead", "--rot-days", "0")  # 0: never rots
    assert digest(cli, "--as-of", "2027-11-10")["rotting_deals"] == []


def test_deals_without_a_next_step_and_big_deals(cli: Runner, home: Path) -> None:
    settings(home, 'big_deal_threshold = "10000"\n')
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("contact", "add", "Bob Stone")
    cli.ok("deal", "add", "alice", "Small", "--value", "500")
    cli.ok("deal", "add", "bob", "Huge", "--value", "25000")
    assert digest(cli, "--as-of", "2026-11-23")["no_next_step"] == []  # a day's grace
    d = digest(cli, "--as-of", "2026-11-24")
    assert [x["title"] for x in d["no_next_step"]] == ["Huge", "Small"]
    assert [(x["title"], x["amount"], x["big"]) for x in d["big_deals"]] == [
        ("Huge", "25000.00", True)
    ]
    cli.ok("remind", "deal:1", "friday", "send terms")  # a step on the deal
    cli.ok("remind", "bob", "friday", "call")  # or on its contact
    d = digest(cli, "--as-of", "2026-11-24")
    assert d["no_next_step"] == []
    assert [x["title"] for x in d["big_deals"]] == ["Huge"]  # always, while open
    cli.ok("deal", "lost", "2", "--reason", "budget cut")
    assert digest(cli, "--as-of", "2026-11-23")["big_deals"] == []


def test_bad_big_deal_threshold_is_one_line(cli: Runner, home: Path) -> None:
    settings(home, 'big_deal_threshold = "lots"\n')
    r = cli("digest")
    assert r.exit_code == 2
    assert r.stderr.startswith("Error: big_deal_threshold in settings must be an amount")


# -- escalation ---------------------------------------------------------------------------------


def test_overdue_reminders_escalate_to_the_owners_lead(cli: Runner, home: Path) -> None:
    cli.ok("user", "add", "lea", "--email", "lea@example.com")
    cli.ok("user", "edit", "sam", "--lead", "lea")  # sam: a user from the first command on
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("remind", "alice", "2026-11-19 10:00", "four days late")
    cli.ok("remind", "alice", "2026-11-21 10:00", "two days late")
    mine = digest(cli, "--as-of", "2026-11-23")
    assert [(r["text"], r["escalated"]) for r in mine["overdue"]] == [
        ("four days late", True),
        ("two days late", False),
    ]
    assert mine["overdue"][0]["lead"] == "lea"
    leads = digest(cli, "--user", "lea", "--as-of", "2026-11-23")
    assert [r["text"] for r in leads["escalated"]] == ["four days late"]
    assert leads["overdue"] == []
    text = cli.ok("digest", "--user", "lea", "--as-of", "2026-11-23").stdout
    assert "Escalated to you (1)" in text and "owner sam" in text
    settings(home, "escalate_after = 1\n")
    leads = digest(cli, "--user", "lea", "--as-of", "2026-11-23")
    assert [r["text"] for r in leads["escalated"]] == ["four days late", "two days late"]
    team = digest(cli, "--team", "--as-of", "2026-11-23")
    assert team["user"] is None and len(team["escalated"]) == 2


def test_users_add_edit_list_and_refuse_loops(cli: Runner) -> None:
    cli.ok("user", "add", "lea", "--timezone", "Europe/Paris")
    cli.ok("user", "add", "max", "--lead", "lea")
    r = cli("user", "edit", "lea", "--lead", "max")
    assert (r.exit_code, r.stderr) == (2, "Error: max can't lead lea: that would make a loop\n")
    assert cli("user", "add", "lea").exit_code == 1
    assert cli("user", "add", "zed", "--timezone", "Mars/Olympus").exit_code == 2
    assert cli("user", "add", "zed", "--lead", "nobody").exit_code == 1
    cli.ok("user", "edit", "max", "--email", "max@example.com", "--lead", "")
    users = {u["name"]: u for u in cli.ok("user", "list", "--json").json()}
    assert users["max"] == {
        "id": users["max"]["id"],
        "name": "max",
        "email": "max@example.com",
        "timezone": None,
        "lead": None,
    }
    assert users["lea"]["timezone"] == "Europe/Paris"
    assert "sam" in users  # the current user exists from the first command


# -- next ---------------------------------------------------------------------------------------


def test_next_ranks_everything_with_reasons(cli: Runner, home: Path) -> None:
    settings(home, 'big_deal_threshold = "20000"\n')
    at(cli, "2026-10-01T09:00:00Z", "contact", "add", "Bob Stone", "--every", "30d")
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("contact", "add", "Carol King")
    cli.ok("purchase", "add", "carol", "90000", "--date", "2026-06-01")
    cli.ok("remind", "alice", "2026-11-13 10:00", "ten days late")
    cli.ok("remind", "carol", "today 17:00", "due later today")
    cli.ok("remind", "alice", "tomorrow", "not yet")
    at(
        cli,
        "2026-11-01T09:00:00Z",
        "deal",
        "add",
        "carol",
        "Fleet",
        "--value",
        "30000",
        "--stage",
        "Proposal",
    )
    rows = cli.ok("next", "--json").json()
    assert [(r["kind"], r["title"], r["score"]) for r in rows] == [
        # 50 rotting + 2 x 12 days past its rot date + 42 for 15,000 weighted (10 x log10)
        # + 25 big deal + 25 for a customer who bought 90,000 this year (capped)
        ("rotting_deal", "Fleet (Proposal)", 166),
        ("reminder", "ten days late", 120),  # 80 overdue + 4 x 10 days
        ("stay_in_touch", "get in touch (every 30d, contact)", 86),  # 40 + 2 x 23 days
        ("reminder", "due later today", 85),  # 60 due today + 25 customer value
    ]
    assert [r["rank"] for r in rows] == [1, 2, 3, 4]
    fleet, first = rows[0], rows[1]
    assert first["reasons"] == [
        {"reason": "overdue", "points": 80},
        {"reason": "10d overdue", "points": 40},
    ]
    assert fleet["reasons"] == [
        {"reason": "rotting", "points": 50},
        {"reason": "12d past rot days", "points": 24},
        {"reason": "worth 15000.00 EUR weighted", "points": 42},
        {"reason": "big deal", "points": 25},
        {"reason": "bought 90000.00 EUR in a year", "points": 25},
    ]
    # the rotting deal has a next step (carol's reminder), so no "no next step" points
    explained = cli.ok("next", "--explain").stdout
    assert "overdue +80 10d overdue +40" in explained
    assert cli.ok("next", "-n", "1", "--json").json()[0]["id"] == first["id"]


def test_next_ties_are_stable(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong")
    for i in range(5):
        cli.ok("remind", "alice", "2026-11-20 10:00", f"same {i}")
    ids = [r["id"] for r in cli.ok("next", "--json").json()]
    assert ids == sorted(ids)
    assert [r["id"] for r in cli.ok("next", "--json").json()] == ids


def test_next_on_an_empty_day(cli: Runner) -> None:
    assert cli.ok("next", "--json").json() == []
    assert cli.ok("next").stdout == ""  # piped: no rows, no chatter
    r = cli("next", "--user", "ghost")
    assert r.exit_code == 2 and "no user called 'ghost'" in r.stderr


# -- the digest ---------------------------------------------------------------------------------


def seed_for_digest(cli: Runner, home: Path) -> None:
    """A small fixed store that fills every section of sam's digest."""
    settings(home, 'big_deal_threshold = "10000"\n')
    cli.ok("user", "add", "lea")
    cli.ok("user", "edit", "sam", "--lead", "lea", "--email", "sam@example.com")
    cli.ok("user", "add", "max", "--lead", "sam")
    at(cli, "2026-09-01T09:00:00Z", "contact", "add", "Zoë Quinn", "--every", "30d")
    at(cli, "2026-09-01T09:00:00Z", "contact", "add", "Alice Wong", "--email", "alice@example.com")
    at(cli, "2026-09-01T09:00:00Z", "contact", "add", "李小龍", "--tag", "vip")
    cli.ok("tag", "cadence", "vip", "14d")
    cli.ok("remind", "alice", "2026-11-18 10:00", "send the <quote> & terms")
    cli.ok("remind", "alice", "2026-11-23 15:00", "call back", "--every", "weekly")
    cli.ok("remind", "zoe", "2026-11-26 09:30", "prepare the demo")
    cli.ok("remind", "-", "2026-12-10", "far away")
    at(
        cli,
        "2026-11-01T09:00:00Z",
        "deal",
        "add",
        "alice",
        "Fleet renewal",
        "--value",
        "48000",
        "--stage",
        "Negotiation",
    )
    at(cli, "2026-11-01T09:00:00Z", "deal", "add", "李小龍", "Pilot", "--value", "1200.50")
    # won this month: 62% of sam's goal for November (won deals count at the day's start)
    at(cli, "2026-11-02T09:00:00Z", "deal", "add", "zoe", "Support plan", "--value", "3100")
    at(cli, "2026-11-10T09:00:00Z", "deal", "won", "3")
    cli.ok("goal", "set", "sam", "5000", "--per", "month", "--from", "2026-11")
    # max's urgent case, unanswered since Wed 18 Nov 11:00 Berlin: escalated to sam
    at(cli, "2026-11-18T09:00:00Z", "case", "add", "zoe", "Login fails", "--priority", "urgent",
       "--owner", "max")  # fmt: skip
    os.environ["TINYCRM_USER"] = "max"
    try:
        cli.ok("remind", "zoe", "2026-11-16 10:00", "max forgot this")
    finally:
        os.environ["TINYCRM_USER"] = "sam"
    # birthdays and anniversaries: today, within --days-ahead, without a year, and beyond
    cli.ok("contact", "add", "Bea Day", "--birthday", "1990-11-25", "--anniversary", "11-23")
    cli.ok("contact", "edit", "zoe", "--birthday", "1985-12-24")


def test_digest_json_matches_the_golden_file(cli: Runner, home: Path) -> None:
    seed_for_digest(cli, home)
    out = cli.ok("digest", "--as-of", "2026-11-23", "--format", "json").stdout
    doc = json.loads(out)
    assert list(doc) == [
        "as_of", "user", "overdue", "today", "upcoming", "stay_in_touch",
        "rotting_deals", "no_next_step", "big_deals", "escalated", "birthdays", "cases",
        "goals",
    ]  # fmt: skip
    golden = GOLDEN / "digest-sam-2026-11-23.json"
    if os.environ.get("TINYCRM_UPDATE_GOLDEN"):
        golden.write_text(out)
    assert out == golden.read_text()


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_digest_formats_match_golden_files_and_never_change(
    cli: Runner, home: Path, fmt: str
) -> None:
    seed_for_digest(cli, home)
    first = cli.ok("digest", "--as-of", "2026-11-23", "--format", fmt).stdout
    # a later clock changes nothing: only the store and --as-of matter
    again = at(cli, "2027-01-05T23:59:00Z", "digest", "--as-of", "2026-11-23", "--format", fmt)
    assert again.stdout == first  # type: ignore[attr-defined]
    golden = (
        GOLDEN / f"digest-sam-2026-11-23.{ {'text': 'txt', 'markdown': 'md', 'html': 'html'}[fmt] }"
    )
    if os.environ.get("TINYCRM_UPDATE_GOLDEN"):
        golden.write_text(first)
    assert first == golden.read_text()


def test_digest_html_escapes_stored_text(cli: Runner, home: Path) -> None:
    seed_for_digest(cli, home)
    html = cli.ok("digest", "--as-of", "2026-11-23", "--format", "html").stdout
    assert "send the &lt;quote&gt; &amp; terms" in html
    assert "<quote>" not in html


def test_quiet_if_empty_prints_nothing(cli: Runner) -> None:
    r = cli.ok("digest", "--quiet-if-empty")
    assert r.stdout == ""
    assert "Nothing is due" in cli.ok("digest").stdout
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("remind", "alice", "today 18:00", "call")
    assert "Due today (1)" in cli.ok("digest", "--quiet-if-empty").stdout


def test_digest_bad_input(cli: Runner) -> None:
    for args, msg in [
        (("--format", "pdf"), "Error: --format must be one of text, markdown, html, json: 'pdf'\n"),
        (("--as-of", "someday"), None),
        (("--user", "ghost"), None),
        (("--user", "sam", "--team"), "Error: give --user or --team, not both\n"),
        (
            ("--mail-to", "not-an-address"),
            "Error: --mail-to must be an email address: 'not-an-address'\n",
        ),
    ]:
        r = cli("digest", *args)
        assert r.exit_code == 2, args
        assert r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1, r.stderr
        if msg:
            assert r.stderr == msg


def test_cron_line_has_absolute_paths(store: str, tmp_path: Path) -> None:
    import subprocess
    import sys

    exe = Path(sys.executable).parent / "tinycrm"  # the console script, as cron would run it
    run = subprocess.run(
        [str(exe), "digest", "--cron-line", "--mail-to", "sam@example.com"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    )
    line = run.stdout.strip()
    assert line.startswith("0 7-18 * * 1-5 TINYCRM_DB=")
    words = line.split()
    assert words[words.index(str(exe)) + 1 :] == [
        "digest", "--user", "sam", "--quiet-if-empty", "--mail-to", "sam@example.com",
    ]  # fmt: skip
    assert os.path.isabs(str(exe))
    plain = Runner().ok("digest", "--cron-line").stdout
    assert plain.startswith("0 7 * * 1-5 ") and "-m tinycrm digest --user sam" in plain


# -- reminders across DST and from completion ---------------------------------------------------


def test_every_day_at_nine_stays_at_nine_across_the_dst_change(cli: Runner) -> None:
    # Berlin leaves summer time on Sunday 25 October 2026
    at(
        cli,
        "2026-10-23T06:00:00Z",
        "remind",
        "-",
        "2026-10-24 09:00",
        "standup",
        "--every",
        "daily",
    )
    assert cli.ok("todo", "--all", "--json").json()[0]["due_at"] == "2026-10-24T07:00:00Z"
    dues: list[str] = []
    for day in ("24", "25", "26"):
        r = at(cli, f"2026-10-{day}T12:00:00Z", "done", str(len(dues) + 1), "--json")
        dues.append(r.json()["next"]["due_at"])  # type: ignore[attr-defined]
    # 09:00 local: 07:00 UTC in summer time (the 24th), 08:00 UTC from the 25th
    assert dues == ["2026-10-25T08:00:00Z", "2026-10-26T08:00:00Z", "2026-10-27T08:00:00Z"]


def test_from_done_moves_the_series_after_a_late_completion(cli: Runner) -> None:
    cli.ok("remind", "-", "2026-11-02 09:00", "monthly call", "--every", "monthly", "--from-done")
    cli.ok("remind", "-", "2026-11-02 09:00", "monthly report", "--every", "monthly")
    late = cli.ok("done", "1", "2", "--json").json()  # done on 23 Nov, three weeks late
    assert late[0]["next"]["due_at"] == "2026-12-23T08:00:00Z"  # a month after completion
    assert late[1]["next"]["due_at"] == "2026-12-02T08:00:00Z"  # a month after it was due


def test_monthly_on_the_31st_keeps_to_month_ends(cli: Runner) -> None:
    at(cli, "2026-12-01T09:00:00Z", "remind", "-", "2027-01-31 09:00", "invoice run",
       "--every", "monthly")  # fmt: skip
    r = at(cli, "2027-01-31T10:00:00Z", "done", "1", "--json")
    # dateutil skips months without a 31st; tinycrm never schedules into the past
    due = r.json()["next"]["due_at"]  # type: ignore[attr-defined]
    assert due[:10] in ("2027-02-28", "2027-03-31")


# -- iCalendar ----------------------------------------------------------------------------------


def test_export_ics_is_a_calendar_with_alarms(cli: Runner, tmp_path: Path) -> None:
    from icalendar import Calendar

    cli.ok("contact", "add", "Alice Wong")
    cli.ok("remind", "alice", "2026-11-25 10:00", "send the quote", "--every", "weekly")
    cli.ok("remind", "-", "2026-11-26 09:00", "plan the week")
    cli.ok("remind", "-", "2026-11-27 09:00", "already done")
    cli.ok("done", "3")
    out = tmp_path / "reminders.ics"
    r = cli.ok("export", "ics", "-o", str(out))
    assert r.stdout == f"Wrote 2 reminders to {out}\n"
    cal = Calendar.from_ical(out.read_bytes())
    events = [c for c in cal.walk("VEVENT")]
    assert [str(e["summary"]) for e in events] == ["Alice Wong: send the quote", "plan the week"]
    first = events[0]
    assert str(first["uid"]) == "reminder-1@tinycrm"
    assert first.decoded("dtstart").isoformat() == "2026-11-25T09:00:00+00:00"
    assert "repeats every week" in str(first["description"]) or "repeats" in str(
        first["description"]
    )
    assert [str(a["action"]) for a in first.walk("VALARM")] == ["DISPLAY"]
    again = cli.ok("export", "ics").stdout.encode()
    assert again == out.read_bytes()  # deterministic
    todos = Calendar.from_ical(cli.ok("export", "ics", "--todo").stdout.encode()).walk("VTODO")
    assert len(todos) == 2 and str(todos[0]["status"]) == "NEEDS-ACTION"


def test_export_ics_to_an_unwritable_place_is_one_line(cli: Runner, tmp_path: Path) -> None:
    r = cli("export", "ics", "-o", str(tmp_path / "missing" / "dir" / "r.ics"))
    assert r.exit_code == 2 and r.stderr.startswith("Error: can't write ")
    assert not list(tmp_path.glob("missing"))
