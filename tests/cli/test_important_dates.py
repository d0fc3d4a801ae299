"""Important dates (#17): birthdays and anniversaries, with or without a year, typed,
shown, exported, in the digest, in `next` on the day and in the calendar file; on both
backends."""

from __future__ import annotations

import os
from typing import Any

from tests.conftest import Runner


def show(cli: Runner, ref: str) -> dict[str, Any]:
    d: dict[str, Any] = cli.ok("contact", "show", ref, "--json").json()
    return d


def at(cli: Runner, when: str, *args: str) -> Any:
    old = os.environ["TINYCRM_NOW"]
    os.environ["TINYCRM_NOW"] = when
    try:
        return cli.ok(*args)
    finally:
        os.environ["TINYCRM_NOW"] = old


def test_contact_add_and_edit_take_birthdays_with_or_without_a_year(cli: Runner) -> None:
    # the clock: 2026-11-23 09:00 UTC
    cli.ok("contact", "add", "Ann Lee", "--birthday", "1985-03-14", "--anniversary", "06-12")
    ann = show(cli, "ann")
    assert (ann["birthday"], ann["anniversary"]) == ("1985-03-14", "--06-12")
    text = cli.ok("contact", "show", "ann").stdout
    assert "birthday\t1985-03-14 (42 on 14 Mar)\n" in text
    assert "anniversary\t--06-12 (next 12 Jun)\n" in text
    cli.ok("contact", "edit", "ann", "--birthday", "--11-23", "--anniversary", "none")
    ann = show(cli, "ann")
    assert (ann["birthday"], ann["anniversary"]) == ("--11-23", None)
    assert "birthday\t--11-23 (today)\n" in cli.ok("contact", "show", "ann").stdout
    history = cli.ok("history", "ann", "--json").json()
    assert any(e["changes"].get("birthday") == ["1985-03-14", "--11-23"] for e in history), history
    for args, message in [
        (("--birthday", "1985-02-30"), "Error: --birthday: no such day: '1985-02-30'\n"),
        (
            ("--birthday", "soon"),
            "Error: --birthday is not a date: 'soon' (try 1985-03-14, or 03-14 without the year)\n",
        ),
        (("--birthday", "2030-01-01"), "Error: --birthday is in the future: 2030-01-01\n"),
        (
            ("--birthday", "1850-01-01"),
            "Error: --birthday before 1900: '1850-01-01' (write 03-14 without the year)\n",
        ),
    ]:
        r = cli("contact", "edit", "ann", *args)
        assert (r.exit_code, r.stderr) == (2, message), args
    assert show(cli, "ann")["birthday"] == "--11-23"


def test_birthdays_in_the_digest_next_and_the_exports(cli: Runner) -> None:
    cli.ok("contact", "add", "Ann Lee", "--birthday", "1985-11-23")  # today, 41
    cli.ok("contact", "add", "Bob Stone", "--birthday", "11-26")  # in 3 days, no year
    cli.ok("contact", "add", "Cy Young", "--anniversary", "2001-12-24")  # beyond 7 days
    cli.ok("contact", "add", "Di Leap", "--birthday", "02-29")
    cli.ok("contact", "add", "Ed Out", "--birthday", "11-23")
    cli.ok("contact", "edit", "ed", "--opt-out")  # asked not to be contacted
    d = cli.ok("digest", "--format", "json").json()
    assert [(b["name"], b["kind"], b["on"], b["years"]) for b in d["birthdays"]] == [
        ("Ann Lee", "birthday", "2026-11-23", 41),
        ("Bob Stone", "birthday", "2026-11-26", None),
    ]
    wide = cli.ok("digest", "--format", "json", "--days-ahead", "31").json()
    assert [b["name"] for b in wide["birthdays"]] == ["Ann Lee", "Bob Stone", "Cy Young"]
    assert "Birthdays (2)\n  today — Ann Lee (#1): birthday, 41\n" in cli.ok("digest").stdout
    # next: on the day only
    actions = cli.ok("next", "--json").json()
    assert [(a["kind"], a["about"], a["title"]) for a in actions] == [
        ("birthday", "Ann Lee", "birthday today (41)")
    ]
    assert at(cli, "2026-11-26T09:00:00Z", "next", "--json").json()[0]["about"] == "Bob Stone"
    # 29 February falls on 28 February in a year without one
    leap = at(cli, "2027-02-28T09:00:00Z", "next", "--json").json()
    assert [a["about"] for a in leap] == ["Di Leap"]
    # the calendar: yearly all-day events
    ics = cli.ok("export", "ics").stdout.replace("\r\n ", "")
    assert "UID:birthday-1@tinycrm" in ics and "DTSTART;VALUE=DATE:19851123" in ics
    assert "UID:birthday-2@tinycrm" in ics and "DTSTART;VALUE=DATE:19701126" in ics
    assert "UID:anniversary-3@tinycrm" in ics
    assert "RRULE:FREQ=YEARLY;BYMONTHDAY=-1;BYMONTH=2" in ics
    assert ics.count("RRULE:FREQ=YEARLY") == 4 and "birthday-5@" not in ics
    # exports: CSV columns, vCard BDAY and ANNIVERSARY
    csv_text = cli.ok("export", "contacts").stdout
    assert ",--11-26," in csv_text
    card = cli.ok("export", "contacts", "-f", "vcard").stdout
    assert "BDAY:1985-11-23" in card and "BDAY:--11-26" in card
    assert "ANNIVERSARY:2001-12-24" in card


def test_adding_the_same_person_again_fills_a_blank_birthday(cli: Runner) -> None:
    cli.ok("contact", "add", "Ann Lee", "-e", "ann@acme.example")
    r = cli.ok("contact", "add", "Ann Lee", "-e", "ann@acme.example", "--birthday", "03-14",
               "--anniversary", "2010-06-12", "--on-duplicate", "merge")  # fmt: skip
    assert "birthday" in r.stdout and "anniversary" in r.stdout
    ann = show(cli, "ann")
    assert (ann["id"], ann["birthday"], ann["anniversary"]) == (1, "--03-14", "2010-06-12")
    cli.ok("contact", "add", "Ann Lee", "-e", "ann@acme.example", "--birthday", "1990-01-01",
           "--on-duplicate", "merge")  # fmt: skip
    assert show(cli, "ann")["birthday"] == "--03-14"  # a field it has is kept


def test_undo_puts_an_anniversary_and_a_birthday_back(cli: Runner) -> None:
    cli.ok("contact", "add", "Ann Lee", "--anniversary", "2010-06-12")
    cli.ok("contact", "edit", "ann", "--anniversary", "none", "--birthday", "03-14")
    assert (show(cli, "ann")["anniversary"], show(cli, "ann")["birthday"]) == (None, "--03-14")
    cli.ok("undo")
    ann = show(cli, "ann")
    assert (ann["anniversary"], ann["birthday"]) == ("2010-06-12", None)
