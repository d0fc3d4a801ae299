"""`tinycrm import interactions|deals`: every export round-trips, all or nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Runner
from tinycrm.store.open import open_store

MULTI = 'first line, with a comma\nsecond "quoted" line'


def _seed_source(cli: Runner, src: str) -> None:
    """A store with notes of every kind (multi-line, CJK, formula-looking), notes on a
    company and on deals, and deals in several stages, won and lost among them."""
    db = ("--db", src)
    open_store(src).close()  # a second store, as tinycrm init makes one
    cli.ok(*db, "contact", "add", "Ann Lee", "-e", "ann@acme.com", "-c", "Acme, Inc.")
    cli.ok(*db, "contact", "add", "王小明", "-e", "wang@example.cn", "-c", "北京贸易")
    cli.ok(*db, "contact", "add", "Tab Person")  # no email: found by name
    cli.ok(*db, "user", "add", "kim")
    cli.ok(*db, "deal", "add", "ann", "Renewal, 2027", "--value", "5000", "--probability", "40",
           "--close", "2027-01-31")  # fmt: skip
    cli.ok(*db, "deal", "add", "王小明", "大订单", "--value", "12000.50", "--currency", "CNY",
           "--stage", "Proposal")  # fmt: skip
    cli.ok(*db, "deal", "add", "tab", "Renewal, 2027", "--value", "10")  # same title
    cli.ok(*db, "deal", "add", "company:acme", "Site licence", "--value", "900")
    cli.ok(*db, "deal", "add", "ann", "Lost one", "--value", "1")
    cli.ok(*db, "deal", "won", "大订单")
    cli.ok(*db, "deal", "lost", "Lost one", "--reason", "went with a competitor\nand cheaper")
    cli.ok(*db, "note", "ann", MULTI, "--when", "2026-11-20 14:00")
    cli.ok(*db, "note", "ann", "=SUM(A1)", "--kind", "call", "--when", "2026-11-21 09:30")
    cli.ok(*db, "note", "王小明", "明天见", "--kind", "meeting", "--when", "2026-11-01 10:00")
    cli.ok(*db, "note", "tab", "--kind", "email", "--when", "2026-10-01 08:00", "--", "-2+3 sent")
    cli.ok(*db, "note", "company:acme", "about the whole company", "--kind", "call")
    cli.ok(*db, "note", "deal:4", "site visit booked")  # a company deal
    cli.ok(*db, "note", "deal:3", "@tab: renewal talk", "--when", "2026-11-22 16:00")
    d = open_store(src)
    with d.write():  # a note by another user
        d.execute(
            "UPDATE interactions SET user_id = (SELECT id FROM users WHERE name = 'kim')"
            " WHERE body = '明天见'"
        )
    d.close()


def _fill_target(cli: Runner, src: str, tmp_path: Path) -> None:
    """The contacts into the empty test store, through export + import contacts."""
    contacts = tmp_path / "contacts.json"
    cli.ok("--db", src, "export", "contacts", "-f", "json", "-o", str(contacts))
    cli.ok("user", "add", "kim")  # sam, you, is a user from the first command on
    cli.ok("import", "contacts", str(contacts))


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_interactions_and_deals_round_trip(
    cli: Runner, store: str, tmp_path: Path, fmt: str
) -> None:
    src = str(tmp_path / "source.db")
    _seed_source(cli, src)
    files = {}
    for what in ("deals", "interactions"):
        files[what] = tmp_path / f"{what}.{fmt}"
        cli.ok("--db", src, "export", what, "-f", fmt, "-o", str(files[what]))
    before = {w: cli.ok("--db", src, "export", w, "-f", fmt).stdout for w in files}
    _fill_target(cli, src, tmp_path)

    deals = cli.ok("import", "deals", str(files["deals"]), "--json").json()
    assert (deals["imported"], deals["duplicates"], deals["rejected"]) == (5, 0, 0)
    assert deals["companies_created"] == []  # Acme came with its contacts
    notes = cli.ok("import", "interactions", str(files["interactions"]), "--json").json()
    assert (notes["imported"], notes["duplicates"], notes["rejected"]) == (7, 0, 0)
    assert notes["source"]["ignored_columns"] == []

    for what in files:  # field by field, in the same order
        assert cli.ok("export", what, "-f", fmt).stdout == before[what]
    # again: everything is already there
    for what, n in (("deals", 5), ("interactions", 7)):
        again = cli.ok("import", what, str(files[what]), "--json").json()
        assert (again["imported"], again["duplicates"]) == (0, n)
        assert cli.ok("export", what, "-f", fmt).stdout == before[what]

    # derived data: stage history, clocks, search, and a healthy store
    shown = cli.ok("deal", "show", "Lost one", "--json").json()
    assert [h["to"] for h in shown["history"]] == ["Lost"]
    assert shown["closed_at"] is not None and shown["rots_at"] is None
    for n in range(1, 6):  # the clocks run as they did in the source store
        clocks = ("status", "closed_at", "stage_entered_at", "activity_at", "rots_at")
        new, old = (
            cli.ok(*db, "deal", "show", str(n), "--json").json() for db in ((), ("--db", src))
        )
        assert {k: new[k] for k in clocks} == {k: old[k] for k in clocks}
    for who in ("ann", "王小明", "tab"):
        new, old = (
            cli.ok(*db, "contact", "show", who, "--json").json() for db in ((), ("--db", src))
        )
        assert new["last_touch_at"] == old["last_touch_at"] is not None
    assert cli.ok("search", "明天见", "--json").json()
    assert cli.ok("search", "competitor", "--json").json()
    doctor = cli("doctor")
    assert doctor.exit_code == 0, doctor.stdout + doctor.stderr


def _audit_imports(store: str) -> list[dict[str, Any]]:
    from tinycrm.store.open import open_store

    db = open_store(store)
    try:
        rows = db.all("SELECT changes FROM audit_log WHERE entity = 'import' ORDER BY id")
    finally:
        db.close()
    return [json.loads(r["changes"]) for r in rows]


def test_one_audit_entry_per_run_and_dry_run_writes_nothing(
    cli: Runner, store: str, tmp_path: Path
) -> None:
    src = str(tmp_path / "source.db")
    _seed_source(cli, src)
    exported = tmp_path / "interactions.csv"
    cli.ok("--db", src, "export", "interactions", "-o", str(exported))
    deals = tmp_path / "deals.csv"
    cli.ok("--db", src, "export", "deals", "-o", str(deals))
    _fill_target(cli, src, tmp_path)
    cli.ok("import", "deals", str(deals))
    audits = len(_audit_imports(store))
    dry = cli.ok("import", "interactions", str(exported), "--dry-run", "--json").json()
    assert (dry["dry_run"], dry["imported"]) == (True, 7)
    assert cli.ok("export", "interactions", "-f", "json").json() == []
    assert len(_audit_imports(store)) == audits
    text = cli.ok("import", "interactions", str(exported)).stdout
    assert f"Imported 7 interactions from {exported}" in text
    entries = _audit_imports(store)
    assert len(entries) == audits + 1
    assert entries[-1]["what"] == [None, "interactions"]
    assert entries[-1]["imported"] == [None, 7]


def _write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


INTERACTION_HEADER = "happened_at,kind,contact,contact_name,company,deal,body,user\r\n"


def _counts(store: str) -> tuple[int, int, int, int]:
    from tinycrm.store.open import open_store

    db = open_store(store)
    try:
        return tuple(  # type: ignore[return-value]
            int(db.value(f"SELECT count(*) AS n FROM {t}"))
            for t in ("interactions", "deals", "companies", "audit_log")
        )
    finally:
        db.close()


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("2026-11-20T13:00:00Z,note,nobody@x.com,,,,hi,", "line 3, field contact: no contact"
         " matches 'nobody@x.com' (import contacts first)"),
        ("2026-11-20T13:00:00Z,chat,ann@acme.com,,,,hi,", "line 3, field kind: 'chat' is none"
         " of call, email, meeting, note, task"),
        ("yesterday,note,ann@acme.com,,,,hi,", "line 3, field happened_at: not a time like"
         " 2026-11-23T09:00:00Z: 'yesterday'"),
        ("2026-11-20T13:00:00Z,note,ann@acme.com,,,No such deal,hi,", "line 3, field deal: no"
         " deal titled 'No such deal' (import deals first)"),
        ("2026-11-20T13:00:00Z,note,ann@acme.com,,,,hi,zed", "line 3, field user: no user"
         " called 'zed' (by name or email); see tinycrm user list"),
        ("2026-11-20T13:00:00Z,note,ann@acme.com,,,,,", "line 3, field body: empty"),
    ],
)  # fmt: skip
def test_a_bad_interaction_row_stops_the_import(
    cli: Runner, store: str, tmp_path: Path, row: str, message: str
) -> None:
    cli.ok("contact", "add", "Ann Lee", "-e", "ann@acme.com")
    good = "2026-11-19T13:00:00Z,note,ann@acme.com,,New Co,,fine,\r\n"
    path = _write(tmp_path / "in.csv", INTERACTION_HEADER + good + row + "\r\n")
    before = _counts(store)
    r = cli("import", "interactions", path)
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == f"Error: {path} {message}\n"
    assert _counts(store) == before  # not even the good row, nor its new company


def test_a_bad_deal_row_names_file_line_and_field(cli: Runner, store: str, tmp_path: Path) -> None:
    cli.ok("contact", "add", "Ann Lee", "-e", "ann@acme.com")
    header = "title,contact,stage,status,value,currency,lost_reason\n"
    cases = [
        ("Big,ann@acme.com,Won,open,10,EUR,", "field status: 'open', but stage 'Won' means won"),
        ("Big,ann@acme.com,Lost,lost,10,EUR,", "field lost_reason: a lost deal needs one"),
        ("Big,ann@acme.com,Lead,,ten,EUR,", "field value: value is not a number: 'ten'"
         " (try 1234.50)"),
        ("Big,ann@acme.com,Lead,,10,EURO,", "field currency: currency must be a 3-letter ISO"
         " code like EUR or USD: 'EURO'"),
    ]  # fmt: skip
    before = _counts(store)
    for row, message in cases:
        path = _write(tmp_path / "deals.csv", header + "Fine,ann@acme.com,Lead,,1,EUR,\n" + row)
        r = cli("import", "deals", path)
        assert (r.exit_code, r.stderr) == (2, f"Error: {path} line 3, {message}\n")
    # unknown stages: one error for the file, listing them all with the --stage-map to use
    path = _write(
        tmp_path / "deals.csv",
        header + "Fine,ann@acme.com,Pitching,,1,EUR,\nBig,ann@acme.com,Demo done,,2,EUR,\n"
        "Other,ann@acme.com,pitching,,3,EUR,\n",
    )
    r = cli("import", "deals", path)
    assert (r.exit_code, r.stderr) == (
        2,
        f"Error: {path}: 2 stages the store doesn't have: 'Pitching' (line 2), 'Demo done'"
        ' (line 3). Say which of yours each is: --stage-map "Pitching=Lead,Demo done=Qualified"'
        " (stages: Lead, Qualified, Proposal, Negotiation, Won, Lost), or add them with"
        " --create-stages\n",
    )
    assert _counts(store) == before


def test_skip_bad_imports_the_rest_and_writes_rejects(
    cli: Runner, store: str, tmp_path: Path
) -> None:
    cli.ok("contact", "add", "Ann Lee", "-e", "ann@acme.com")
    path = tmp_path / "in.json"
    items = [
        {"happened_at": "2026-11-19T13:00:00Z", "kind": "note", "contact": "ann@acme.com",
         "body": "kept"},
        {"happened_at": "2026-11-19T13:00:00Z", "kind": "note", "contact": "x@y.z",
         "body": "set aside"},
    ]  # fmt: skip
    _write(path, json.dumps(items))
    r = cli.ok("import", "interactions", str(path), "--skip-bad", "--json").json()
    assert (r["imported"], r["rejected"]) == (1, 1)
    assert r["rejects_file"] == str(tmp_path / "in.rejects.json")
    (reject,) = json.loads((tmp_path / "in.rejects.json").read_text())
    assert reject["line"] == 1 and reject["body"] == "set aside"
    assert reject["error"].startswith("field contact: no contact matches 'x@y.z'")
    # no `user` key: the importer's own
    (note,) = cli.ok("export", "interactions", "-f", "json").json()
    assert (note["body"], note["user"]) == ("kept", "sam")


def test_import_deals_in_a_real_process(store: str, tmp_path: Path) -> None:
    path = _write(tmp_path / "d.csv", "title,contact,stage\nX,nobody,Lead\n")
    env = {**os.environ, "TINYCRM_DB": store}
    r = subprocess.run(
        [sys.executable, "-m", "tinycrm", "import", "deals", path],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert r.returncode == 2
    assert r.stderr == (
        f"Error: {path} line 2, field contact: no contact matches 'nobody'"
        " (import contacts first)\n"
    )
    assert "Traceback" not in r.stderr


def test_a_file_of_something_else_is_refused_as_a_whole(
    cli: Runner, store: str, tmp_path: Path
) -> None:
    cli.ok("contact", "add", "Ann Lee", "-e", "ann@acme.com")
    contacts = tmp_path / "c.csv"
    cli.ok("export", "contacts", "-o", str(contacts))
    r = cli("import", "deals", str(contacts))
    assert r.exit_code == 2
    assert r.stderr.startswith(f"Error: {contacts} has no stage column (columns: name, ")
    assert r.stderr.endswith(
        "; name it with --map COLUMN=stage (tinycrm's `export deals`, or a Pipedrive, HubSpot,"
        " Salesforce or Zoho export)\n"
    )
    as_json = _write(tmp_path / "c.json", '[{"name": "Ann Lee", "title": "Buyer"}]')
    r = cli("import", "interactions", as_json)
    assert (r.exit_code, r.stderr) == (
        2,
        f"Error: {as_json}: no object has the keys happened_at, kind"
        " (tinycrm's `export interactions`, or a Pipedrive, HubSpot, Salesforce or Zoho"
        " export)\n",
    )


def test_notes_move_the_clocks_and_identical_rows_count_once_each(
    cli: Runner, store: str, tmp_path: Path
) -> None:
    cli.ok("contact", "add", "Ann Lee", "-e", "ann@acme.com", "--every", "30d")
    deals = _write(
        tmp_path / "d.csv",
        "title,contact,stage,value,created_at\nRenewal,ann@acme.com,Lead,10,2026-10-01T08:00:00Z\n",
    )
    cli.ok("import", "deals", deals)
    deal = cli.ok("deal", "show", "Renewal", "--json").json()
    assert (deal["activity_at"], deal["rots_at"]) == (
        "2026-10-01T08:00:00Z",
        "2026-10-15T08:00:00Z",
    )
    row = "2026-11-20T10:00:00Z,call,ann@acme.com,,,Renewal,same words,sam\r\n"
    notes = _write(tmp_path / "i.csv", INTERACTION_HEADER + row + row)
    first = cli.ok("import", "interactions", notes, "--json").json()
    assert (first["imported"], first["duplicates"]) == (2, 0)  # two calls, both kept
    deal = cli.ok("deal", "show", "Renewal", "--json").json()
    assert (deal["activity_at"], deal["rots_at"]) == (
        "2026-11-20T10:00:00Z",
        "2026-12-04T10:00:00Z",
    )
    ann = cli.ok("contact", "show", "ann", "--json").json()
    assert ann["last_touch_at"] == "2026-11-20T10:00:00Z"
    again = cli.ok("import", "interactions", notes, "--json").json()
    assert (again["imported"], again["duplicates"]) == (0, 2)
    assert len(cli.ok("export", "interactions", "-f", "json").json()) == 2
    assert cli("doctor").exit_code == 0
