"""`tinycrm export cases` and `import cases`: cases with their notes round-trip into an empty
store, on SQLite and PostgreSQL; duplicates skipped; all rows or none."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Runner
from tinycrm.store.open import open_store


def _at(monkeypatch: pytest.MonkeyPatch, utc: str) -> None:
    monkeypatch.setenv("TINYCRM_NOW", f"{utc}+00:00")


def _seed_source(cli: Runner, src: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Cases in every status, with notes (multi-line, formula-looking, CJK), by two users."""
    db = ("--db", src)
    open_store(src).close()
    cli.ok(*db, "contact", "add", "Ann Lee", "-e", "ann@acme.com")
    cli.ok(*db, "contact", "add", "王小明")  # no email: found by name
    cli.ok(*db, "user", "add", "kim")
    _at(monkeypatch, "2026-11-16T09:00:00")
    cli.ok(*db, "case", "add", "ann", "Printer, broken", "--priority", "high",
           "--body", "=HYPERLINK(x)", "--due", "2026-11-30 12:00")  # fmt: skip
    cli.ok(*db, "case", "add", "王小明", "发票错误", "--owner", "kim")
    cli.ok(*db, "case", "add", "ann", "Refund", "--priority", "urgent")
    cli.ok(*db, "case", "add", "ann", "Nobody's", "--priority", "low")
    _at(monkeypatch, "2026-11-16T10:00:00")
    cli.ok(*db, "case", "note", "1", 'asked for the model,\nsaid "soon"')
    cli.ok(*db, "case", "note", "2", "明天见")
    cli.ok(*db, "case", "edit", "3", "--status", "waiting")
    _at(monkeypatch, "2026-11-17T10:00:00")
    cli.ok(*db, "case", "note", "1", "--", "-2+3 toner sent")
    cli.ok(*db, "case", "close", "2", "--solution", "reissued", "--satisfaction", "4")
    cli.ok(*db, "case", "edit", "3", "--status", "open")  # waited a working day: 480 min
    cli.ok(*db, "case", "edit", "3", "--status", "resolved")
    _at(monkeypatch, "2026-11-23T09:00:00")


def _fill_target(cli: Runner, src: str, tmp_path: Path) -> None:
    contacts = tmp_path / "contacts.json"
    cli.ok("--db", src, "export", "contacts", "-f", "json", "-o", str(contacts))
    cli.ok("user", "add", "kim")
    cli.ok("import", "contacts", str(contacts))


def _cases(cli: Runner, *db: str) -> list[dict[str, Any]]:
    out = cli.ok(*db, "case", "list", "--json").json()
    drop = ("id", "contact_id", "updated_at", "version", "notes")
    return sorted(
        (
            {k: v for k, v in c.items() if k not in drop}
            | {"notes": [(n["body"], n["user"], n["happened_at"]) for n in c["notes"]]}
            for c in (cli.ok(*db, "case", "show", str(x["id"]), "--json").json() for x in out)
        ),
        key=lambda c: c["title"],
    )


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_cases_round_trip_into_an_empty_store(
    cli: Runner, store: str, tmp_path: Path, fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = str(tmp_path / "source.db")
    _seed_source(cli, src, monkeypatch)
    file = tmp_path / f"cases.{fmt}"
    cli.ok("--db", src, "export", "cases", "-f", fmt, "-o", str(file))
    _fill_target(cli, src, tmp_path)

    r = cli.ok("import", "cases", str(file), "--json").json()
    assert (r["imported"], r["duplicates"], r["rejected"]) == (4, 0, 0)
    assert _cases(cli) == _cases(cli, "--db", src)  # SLA clocks, statuses, notes and all
    # the notes are on the contacts' timelines, once each
    timeline = cli.ok("contact", "show", "ann", "--json").json()["timeline"]
    assert sorted(t["text"] for t in timeline if t["kind"] == "note") == [
        "-2+3 toner sent",
        'asked for the model,\nsaid "soon"',
    ]
    # the knowledge base has them: a solution is found again
    found = cli.ok("search", "reissued", "--kind", "case", "--json").json()
    assert [h["kind"] for h in found] == ["case"]
    # a second export is the same file, byte for byte
    assert cli.ok("export", "cases", "-f", fmt).stdout == file.read_bytes().decode("utf-8")

    again = cli.ok("import", "cases", str(file), "--json").json()
    assert (again["imported"], again["duplicates"]) == (0, 4)
    assert len(cli.ok("case", "list", "--json").json()) == 4
    assert cli.ok("doctor").exit_code == 0


def test_notes_imported_with_the_interactions_are_linked_not_logged_twice(
    cli: Runner, store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = str(tmp_path / "source.db")
    _seed_source(cli, src, monkeypatch)
    notes, cases = tmp_path / "notes.csv", tmp_path / "cases.csv"
    cli.ok("--db", src, "export", "interactions", "-o", str(notes))
    cli.ok("--db", src, "export", "cases", "-o", str(cases))
    _fill_target(cli, src, tmp_path)
    assert cli.ok("import", "interactions", str(notes), "--json").json()["imported"] == 3
    cli.ok("import", "cases", str(cases))
    timeline = cli.ok("contact", "show", "ann", "--json").json()["timeline"]
    assert len([t for t in timeline if t["kind"] == "note"]) == 2
    assert [n["body"] for n in cli.ok("case", "show", "1", "--json").json()["notes"]] == [
        'asked for the model,\nsaid "soon"', "-2+3 toner sent",
    ]  # fmt: skip


CSV_HEAD = "contact,contact_name,title,priority,status,owner,satisfaction,solution,notes\n"


def test_a_bad_row_stops_the_import_with_its_line_and_field(cli: Runner, tmp_path: Path) -> None:
    cli.ok("contact", "add", "Ann Lee", "-e", "ann@acme.com")
    bad = tmp_path / "cases.csv"
    bad.write_text(
        CSV_HEAD
        + "ann@acme.com,,Fine,high,open,sam,,,\n"
        + "ann@acme.com,,Too happy,normal,closed,sam,9,done,\n"
        + "nobody@x.com,,Lost,normal,open,,,,\n"
        + 'ann@acme.com,,Odd notes,normal,open,,,,"[{""at"": ""soon"", ""body"": ""x""}]"\n'
        + "ann@acme.com,,Shut,normal,closed,,,,\n",
        encoding="utf-8",
    )
    r = cli("import", "cases", str(bad))
    assert r.exit_code == 2
    assert r.stderr == (
        f"Error: {bad} line 3, field satisfaction: must be 1 to 5: 9;"
        " and 3 more bad rows (--skip-bad imports the rest)\n"
    )
    assert cli.ok("case", "list", "--json").json() == []  # nothing landed

    rejects = tmp_path / "rejects.csv"
    done = cli.ok(
        "import", "cases", str(bad), "--skip-bad", "--rejects", str(rejects), "--json"
    ).json()
    assert (done["imported"], done["rejected"]) == (1, 4)
    assert [(e["line"], e["field"]) for e in done["errors"]] == [
        (3, "satisfaction"), (4, "contact"), (5, "notes"), (6, "solution"),
    ]  # fmt: skip
    assert [c["title"] for c in cli.ok("case", "list", "--json").json()] == ["Fine"]
    lines = rejects.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 5 and "Too happy" in lines[1]


def test_a_json_file_that_is_not_an_export_is_refused(cli: Runner, tmp_path: Path) -> None:
    odd = tmp_path / "odd.json"
    odd.write_text(json.dumps([{"subject": "x"}]), encoding="utf-8")
    r = cli("import", "cases", str(odd))
    assert r.exit_code == 2 and r.stderr.count("\n") == 1
    assert "title" in r.stderr and "export cases" in r.stderr
