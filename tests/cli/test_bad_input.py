"""Every command, fed bad input: one line on stderr, the right exit code, nothing written."""

from __future__ import annotations

import pytest

from tests.conftest import Runner
from tinycrm.models import metadata
from tinycrm.store.open import open_store

TABLES = tuple(sorted(metadata.tables))  # every table of the schema: none may change

CASES: list[tuple[tuple[str, ...], int, str]] = [
    (("contact", "add"), 2, "Missing argument"),
    (("contact", "add", "X", "--email", "nope"), 2, "not an email address"),
    (("contact", "add", "X", "--phone", "x"), 2, "not a phone number"),
    (("contact", "add", "X", "--every", "0d"), 2, "cadence"),
    (("contact", "add", "Alice Wong"), 1, "already exists"),
    (("contact", "list", "--limit", "0"), 2, "--limit"),
    (("contact", "show", "nobody"), 1, "no contact matches 'nobody'"),
    (("contact", "edit", "alice", "--rm-email", "other@x.com"), 2, "has no email other@x.com"),
    (("contact", "edit", "alice", "--name", ""), 2, "name can't be empty"),
    (("contact", "rm", "alice"), 2, "pass --yes"),
    (("contact", "tag", "alice"), 2, "give tags"),
    (("company", "add", "Acme GmbH"), 1, "already exists"),
    (("company", "show", "company:99"), 1, "no company with id 99"),
    (("company", "edit", "acme"), 2, "nothing to change"),
    (("company", "rm", "acme"), 2, "pass --yes"),
    (("note", "alice", ""), 2, "note text can't be empty"),
    (("note", "alice", "x", "--when", "next blursday"), 2, "next blursday"),
    (("note", "alice", "x", "--when", "in 3 years"), 2, "a year in the future"),
    (("remind", "alice", "someday", "x"), 2, "someday"),
    (("remind", "alice", "tomorrow", " "), 2, "reminder text can't be empty"),
    (("remind", "alice", "tomorrow", "x", "--every", "now and then"), 2, "now and then"),
    (("remind", "alice", "9999-01-01", "x"), 2, "out of range"),
    (("todo", "--days", "-1"), 2, "--days"),
    (("done", "x1"), 2, "reminder id must be a number"),
    (("done", "42"), 1, "no reminder with id 42"),
    (("snooze", "1", "last year"), 2, "'last year' is Wed 01 Jan 2025 09:00"),
    (("deal", "add", "alice", "X", "--value", "1,2,3.4.5"), 2, "--value"),
    (("deal", "add", "alice", "X", "--close", "whenever"), 2, "whenever"),
    (("deal", "add", "alice", "X", "--probability", "101"), 2, "--probability"),
    (("deal", "list", "--status", "maybe"), 2, "--status must be"),
    (("deal", "show", "#77"), 1, "no deal with id 77"),
    (("deal", "edit", "1"), 2, "nothing to change"),
    (("deal", "move", "1", "Lead"), 2, "already in Lead"),
    (("deal", "move", "1", "nowhere"), 2, "unknown stage 'nowhere'"),
    (("deal", "lost", "1"), 2, "--reason"),
    (("stages", "add", "Lead", "--probability", "5"), 1, "already exists"),
    (("stages", "edit", "lead", "--position", "99"), 2, "position must be between 1 and 6"),
    (("stages", "rm", "lead"), 1, "still has 1 deal"),
    (("purchase", "add", "alice", "12.345"), 2, "more than 2 decimal places"),
    (("purchase", "add", "alice", "10", "--date", "1850-01-01"), 2, "out of range"),
    (("purchase", "add", "alice", "10", "--currency", "EURO"), 2, "3-letter ISO code"),
    (("purchase", "list", "--since", "the dawn of time"), 2, "the dawn of time"),
    (("search", "x", "--limit", "0"), 2, "--limit"),
    (("log", "--since", "whenever"), 2, "whenever"),
    (("frobnicate",), 2, "No such command 'frobnicate'"),
    (("--db",), 2, "--db"),
]


def _snapshot(url: str) -> dict[str, list[tuple[object, ...]]]:
    db = open_store(url)
    try:
        return {
            t: [tuple(r.values()) for r in db.all(f"SELECT * FROM {t} ORDER BY 1")] for t in TABLES
        }
    finally:
        db.close()


@pytest.fixture
def seeded(cli: Runner, store: str) -> str:
    cli.ok("contact", "add", "Alice Wong", "-e", "alice@acme.com", "-c", "Acme GmbH")
    cli.ok("remind", "alice", "tomorrow", "call")
    cli.ok("deal", "add", "alice", "Pilot")
    return store


@pytest.mark.parametrize(("args", "code", "fragment"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_bad_input(
    cli: Runner, seeded: str, args: tuple[str, ...], code: int, fragment: str
) -> None:
    before = _snapshot(seeded)
    r = cli(*args)
    assert r.exit_code == code, r.stderr
    assert r.stdout == ""
    assert r.stderr.startswith("Error: ") and r.stderr.endswith("\n")
    assert r.stderr.count("\n") == 1, r.stderr
    assert fragment in r.stderr
    assert _snapshot(seeded) == before
