"""What every bulk import shares (services/imports/bulk.py, cli/imports.py): one rule for
all the kinds, so each is checked on every kind that has it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Runner

# a bad item of a JSON file whose text holds a lone surrogate (valid JSON, not UTF-8)
_BAD_ITEMS = {
    "contacts": {"notes": "\ud800"},  # no name, email or company to name it after
    "interactions": {"happened_at": "2026-11-19T13:00:00Z", "kind": "note",
                     "contact": "x@y.z", "body": "\ud800"},
    "deals": {"title": "\ud800", "contact": "x@y.z", "stage": "Lead"},
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(_BAD_ITEMS))
def test_json_rejects_file_is_written_for_text_that_is_not_utf8(
    cli: Runner, tmp_path: Path, kind: str
) -> None:
    """A rejected JSON item is written back even when its text can't be UTF-8 (a lone
    surrogate becomes `?`), by the one JSON rejects writer every kind uses."""
    path = tmp_path / "in.json"
    path.write_text(json.dumps([_BAD_ITEMS[kind]]), encoding="utf-8")
    r = cli("import", kind, str(path), "--skip-bad", "--json")
    assert (r.exit_code, r.stderr) == (0, "")
    assert r.json()["rejected"] == 1
    (reject,) = json.loads((tmp_path / "in.rejects.json").read_text(encoding="utf-8"))
    assert reject["line"] == 1
    assert "?" in json.dumps(reject, ensure_ascii=False)


@pytest.mark.parametrize(
    ("kind", "header"),
    [
        ("purchases", "contact,date,amount\n"),
        ("contacts", "name,email\n"),
        ("interactions", "happened_at,kind,contact,body\n"),
        ("deals", "title,contact,stage\n"),
    ],
)
def test_rejects_without_skip_bad_is_refused_by_every_import(
    cli: Runner, tmp_path: Path, kind: str, header: str
) -> None:
    """--rejects means nothing without --skip-bad, for every kind, before the file is read."""
    path = tmp_path / "in.csv"
    path.write_text(header, encoding="utf-8")
    r = cli("import", kind, str(path), "--rejects", str(tmp_path / "r.csv"))
    assert (r.exit_code, r.stderr) == (2, "Error: --rejects goes with --skip-bad\n")
    assert not (tmp_path / "r.csv").exists()


@pytest.mark.parametrize(
    ("kind", "header", "spec", "error"),
    [
        ("purchases", "contact,date,amount\n", "Kunde", "--map wants COLUMN=field pairs,"
         " e.g. Kunde=contact: 'Kunde'"),
        ("contacts", "name,email\n", "=phone", "--map wants COLUMN=field pairs,"
         " e.g. Handy=phone: '=phone'"),
        ("purchases", "contact,date,amount\n", "Kunde=buyer", "--map: 'buyer' is not a field;"
         " the fields are contact, date, amount, currency, note"),
        ("contacts", "name,email\n", "Handy=fax:work", "--map: 'fax' is not a field; the"
         " fields are "),
    ],
)  # fmt: skip
def test_map_pairs_are_read_alike_by_every_csv_import(
    cli: Runner, tmp_path: Path, kind: str, header: str, spec: str, error: str
) -> None:
    """`--map COLUMN=field` is split and checked by one reader for purchases and contacts."""
    path = tmp_path / "in.csv"
    path.write_text(header, encoding="utf-8")
    r = cli("import", kind, str(path), "--map", spec)
    assert r.exit_code == 2
    assert r.stderr.startswith(f"Error: {error}")
    assert r.stderr.count("\n") == 1
