"""Moving in without losing anything (#17): a person is never lost because one of their
fields is odd. Real-shaped files with every oddity, on both backends: what is stored, what
the summary says, and what the exports give back."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Runner
from tinycrm.store.open import open_store

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "contacts"


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    settings = tmp_path / "settings.toml"
    settings.write_text('phone_region = "GB"\n', encoding="utf-8")
    monkeypatch.setenv("TINYCRM_SETTINGS", str(settings))
    for name in ("oddities.vcf", "oddities.csv"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    return tmp_path


def show(cli: Runner, ref: str) -> dict[str, Any]:
    d: dict[str, Any] = cli.ok("contact", "show", ref, "--json").json()
    return d


def stored(store: str) -> dict[str, tuple[Any, ...]]:
    """name -> (birthday, anniversary, as_written) as the store holds them."""
    db = open_store(store)
    try:
        return {
            r["name"]: (str(r["birthday"] or ""), str(r["anniversary"] or ""), r["as_written"])
            for r in db.all("SELECT name, birthday, anniversary, as_written FROM contacts")
        }
    finally:
        db.close()


def test_a_phones_vcard_export_loses_nobody(cli: Runner, store: str, here: Path) -> None:
    s = cli.ok("import", "contacts", "oddities.vcf", "--json").json()
    assert (s["created"], s["rejected"], s["strict"]) == (4, 0, False)
    assert s["as_written"] == {"birthday": 2, "email": 1, "phone": 1, "url": 1}
    assert [(k["line"], k["field"], k["value"]) for k in s["as_written_shown"]] == [
        (1, "phone", "1"),
        (1, "url", "my homepage"),
        (11, "birthday", "circa 1800"),
        (11, "email", "old timer at example dot com"),
        (25, "birthday", "1990-02-31"),
    ]
    assert {k["file"] for k in s["as_written_shown"]} == {"oddities.vcf"}
    ann = show(cli, "Ann Short")
    assert ann["phones"] == ["+44 20 7946 0958"]  # the good number is a phone as ever
    assert (ann["birthday"], ann["anniversary"]) == ("--03-14", "2010-06-12")
    assert ann["as_written"] == [
        {"field": "phone", "value": "1", "why": "not a phone number: '1'"},
        {"field": "url", "value": "my homepage", "why": "not a web address: 'my homepage'"},
    ]
    old = show(cli, "Old Timer")
    assert old["emails"] == [] and old["birthday"] is None
    assert [(a["field"], a["value"]) for a in old["as_written"]] == [
        ("birthday", "circa 1800"),
        ("email", "old timer at example dot com"),
    ]
    yu = show(cli, "Yearless Yu")
    assert (yu["birthday"], yu["anniversary"]) == ("--02-29", "--09-01")
    # the store: a day without a year in 1604, the odd values as a JSON list
    rows = stored(store)
    assert rows["Yearless Yu"][:2] == ("1604-02-29", "1604-09-01")
    assert rows["Ann Short"][2].startswith(
        '[{"field": "phone", "value": "1", "why": "not a phone number: \'1\'"}, {"field": "url"'
    )
    text = cli.ok("contact", "show", "Ann Short").stdout
    assert "birthday\t--03-14 (next 14 Mar)" in text or "--03-14" in text
    assert "phone: 1 (not a phone number: '1')" in text
    summary = cli.ok("import", "contacts", "oddities.vcf", "--dry-run").stdout
    assert "kept as written\tbirthday ×2, email ×1, phone ×1, url ×1" in summary
    assert "oddities.vcf line 1, phone: '1' — not a phone number: '1'" in summary


def test_strict_is_todays_behaviour(cli: Runner, store: str, here: Path) -> None:
    cli.ok("user", "list")
    r = cli("import", "contacts", "oddities.vcf", "--strict")
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == (
        "Error: oddities.vcf line 1, field phone: not a phone number: '1'; and 2 more bad rows"
        " (--skip-bad imports the rest)\n"
    )
    assert stored(store) == {}
    s = cli.ok("import", "contacts", "oddities.vcf", "--strict", "--skip-bad", "--json").json()
    assert (s["created"], s["rejected"], s["as_written"]) == (1, 3, {})
    assert [(e["line"], e["field"]) for e in s["errors"]] == [
        (1, "phone"),
        (11, "birthday"),
        (25, "birthday"),
    ]
    assert set(stored(store)) == {"Yearless Yu"}


def test_a_csv_with_odd_cells_and_dates_without_a_year(cli: Runner, store: str, here: Path) -> None:
    s = cli.ok("import", "contacts", "oddities.csv", "--json").json()
    assert (s["created"], s["rejected"]) == (4, 0)
    assert s["as_written"] == {"anniversary": 1, "birthday": 2, "email": 1, "phone": 1}
    assert s["source"]["columns"]["Anniversary"] == "anniversary"
    assert show(cli, "Ann Lee")["birthday"] == "1985-03-14"
    bob = show(cli, "Bob Stone")
    assert (bob["birthday"], bob["anniversary"]) == ("--05-02", "2001-06-01")
    assert bob["emails"] == [] and bob["phones"] == ["07700 900124"]
    cy = show(cli, "Cy Young")
    assert [(a["field"], a["value"]) for a in cy["as_written"]] == [
        ("birthday", "sometime in May"),
        ("phone", "x"),
    ]
    di = show(cli, "Di Ng")
    assert [(a["field"], a["value"]) for a in di["as_written"]] == [
        ("birthday", "30.02.1990"),
        ("anniversary", "1899-12-31"),
    ]


def test_what_is_kept_comes_back_from_every_export(
    cli: Runner, store: str, here: Path, tmp_path: Path
) -> None:
    cli.ok("import", "contacts", "oddities.vcf")
    rows = {r["name"]: r for r in csv.DictReader(io.StringIO(cli.ok("export", "contacts").stdout))}
    assert (rows["Yearless Yu"]["birthday"], rows["Yearless Yu"]["anniversary"]) == (
        "--02-29",
        "--09-01",
    )
    assert rows["Ann Short"]["as_written"] == "phone: 1 ::: url: my homepage"
    assert rows["Old Timer"]["as_written"] == (
        "birthday: circa 1800 ::: email: old timer at example dot com"
    )
    data = {c["name"]: c for c in cli.ok("export", "contacts", "-f", "json").json()}
    assert data["Ann Short"]["as_written"][0] == {
        "field": "phone",
        "value": "1",
        "why": "not a phone number: '1'",
    }
    card = cli.ok("export", "contacts", "-f", "vcard").stdout
    assert "BDAY:--02-29" in card and "ANNIVERSARY:2010-06-12" in card
    assert "X-TINYCRM-AS-WRITTEN;TYPE=phone:1\r\n" in card
    assert "X-TINYCRM-AS-WRITTEN;TYPE=url:my homepage\r\n" in card
    person = cli.ok("export", "person", "Old Timer").json()
    assert [a["value"] for a in person["contact"]["as_written"]] == [
        "circa 1800",
        "old timer at example dot com",
    ]
    # each export format reads back into an empty store with nothing lost
    for fmt in ("csv", "json", "vcard"):
        exported = tmp_path / f"out.{'vcf' if fmt == 'vcard' else fmt}"
        cli.ok("export", "contacts", "-f", fmt, "-o", str(exported))
        other = str(tmp_path / f"other-{fmt}.db")
        open_store(other).close()
        s = cli.ok("--db", other, "import", "contacts", str(exported), "--json").json()
        assert (s["created"], s["rejected"]) == (4, 0), fmt
        back = {
            c["name"]: c for c in cli.ok("--db", other, "export", "contacts", "-f", "json").json()
        }
        for name in data:
            assert back[name]["birthday"] == data[name]["birthday"], (fmt, name)
            assert back[name]["anniversary"] == data[name]["anniversary"], (fmt, name)
            assert [(a["field"], a["value"]) for a in back[name]["as_written"]] == [
                (a["field"], a["value"]) for a in data[name]["as_written"]
            ], (fmt, name)


def test_broken_files_are_still_refused_whole(cli: Runner, store: str, here: Path) -> None:
    cli.ok("user", "list")
    Path("nounend.vcf").write_text(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann\r\nTEL:1\r\n", encoding="utf-8"
    )
    r = cli("import", "contacts", "nounend.vcf")
    assert (r.exit_code, r.stderr) == (
        2,
        "Error: nounend.vcf line 1: the card never ends (no END:VCARD)\n",
    )
    Path("quote.csv").write_text('name,phone\nAnn,1\n"Bob,2\n', encoding="utf-8")
    r = cli("import", "contacts", "quote.csv")
    assert (r.exit_code, r.stderr) == (
        2,
        'Error: quote.csv line 3: a quoted field never ends (a closing " is missing)\n',
    )
    assert stored(store) == {}
