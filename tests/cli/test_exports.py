"""`tinycrm export ...`: the documented shapes, field by field, and the round trips."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Runner
from tinycrm.store.open import open_store

CONTACT_HEADER = (
    "name,company,title,emails,phones,tags,birthday,notes,source,owner,cadence_days,"
    "consent,consent_at,opted_out_at,created_at,urls,addresses,anniversary,as_written"
)
NOTES = 'first line, with a comma\nsecond "quoted" line\n=not a formula'


def _db(store: str) -> Any:
    from tinycrm.store.open import open_store

    return open_store(store)


def _seed(cli: Runner, store: str) -> None:
    cli.ok(
        "contact", "add", "Ann Lee", "-e", "ann@acme.com", "-e", "ann@gmail.com",
        "-p", "+49 30 1234", "-c", "Acme, Inc.", "-t", "Buyer", "--tag", "vip,key account",
        "--source", "fair", "--notes", NOTES, "--every", "30d",
    )  # fmt: skip
    cli.ok("contact", "add", "王小明", "-e", "wang@example.cn", "-t", '=HYPERLINK("x")')
    cli.ok("contact", "add", "Zoë Quinn", "--source", "+49 trick", "--notes", "@SUM(A1)")
    cli.ok("contact", "add", "Tab Person", "--title", "-2+3")
    db = _db(store)
    with db.write():
        db.execute("UPDATE contact_methods SET label = 'work' WHERE value = 'ann@acme.com'")
        db.execute("UPDATE contact_methods SET label = 'home' WHERE value = 'ann@gmail.com'")
        db.execute(
            "UPDATE contacts SET birthday = :b, title = :t WHERE name = 'Tab Person'",
            {"b": db.day(__import__("datetime").date(1990, 2, 28)), "t": "\tstarts with tab"},
        )
        db.execute("UPDATE contacts SET source = :s WHERE name = 'Zoë Quinn'", {"s": "\rcr"})
        db.execute(
            "INSERT INTO contact_methods (contact_id, kind, value, value_key, label, position)"
            " VALUES (1, 'url', 'https://acme.com/ann', 'https://acme.com/ann', NULL, 3),"
            " (1, 'address', 'Hauptstr. 1, 10115 Berlin', 'x', 'office', 4)"
        )
    db.close()
    cli.ok("contact", "edit", "ann", "--consent", "newsletter, web form",
           "--consent-at", "2026-01-05 10:00")  # fmt: skip
    cli.ok("contact", "edit", "zoë", "--opt-out")


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_contacts_csv_has_the_documented_columns_cell_by_cell(cli: Runner, store: str) -> None:
    _seed(cli, store)
    out = cli.ok("export", "contacts").stdout
    assert out.split("\r\n", 1)[0] == CONTACT_HEADER
    ann, wang, zoe, tab = _rows(out)
    assert ann == {
        "name": "Ann Lee",
        "company": "Acme, Inc.",
        "title": "Buyer",
        "emails": "work: ann@acme.com; home: ann@gmail.com",
        "phones": "'+49 30 1234",  # a leading + would start a formula
        "tags": "key-account; vip",
        "birthday": "",
        "notes": NOTES,  # line breaks kept; only a cell's *start* is guarded
        "source": "fair",
        "owner": "sam",
        "cadence_days": "30",
        "consent": "newsletter, web form",
        "consent_at": "2026-01-05T09:00:00Z",
        "opted_out_at": "",
        "created_at": "2026-11-23T09:00:00Z",
        "urls": "https://acme.com/ann",
        "addresses": "office: Hauptstr. 1, 10115 Berlin",
        "anniversary": "",
        "as_written": "",
    }
    assert wang["name"] == "王小明"
    assert wang["title"] == '\'=HYPERLINK("x")'
    assert zoe["notes"] == "'@SUM(A1)"
    assert zoe["source"] == "'\rcr"
    assert zoe["opted_out_at"] == "2026-11-23T09:00:00Z"
    assert tab["title"] == "'\tstarts with tab"
    assert tab["birthday"] == "1990-02-28"
    assert "\r\n" in out and out.endswith("\r\n")


def test_contacts_json_has_the_same_keys_with_lists(cli: Runner, store: str) -> None:
    _seed(cli, store)
    data = json.loads(cli.ok("export", "contacts", "--format", "json").stdout)
    assert [list(d) for d in data] == [CONTACT_HEADER.split(",")] * 4
    ann = data[0]
    assert ann["emails"] == [
        {"value": "ann@acme.com", "label": "work"},
        {"value": "ann@gmail.com", "label": "home"},
    ]
    assert ann["phones"] == [{"value": "+49 30 1234", "label": None}]
    assert ann["addresses"] == [{"value": "Hauptstr. 1, 10115 Berlin", "label": "office"}]
    assert ann["tags"] == ["key-account", "vip"]
    assert ann["notes"] == NOTES
    assert ann["cadence_days"] == 30
    assert data[1]["title"] == '=HYPERLINK("x")'  # JSON is data, not a spreadsheet: as stored


def test_vcard_parses_back_with_every_field(cli: Runner, store: str) -> None:
    import vobject

    _seed(cli, store)
    text = cli.ok("export", "contacts", "-f", "vcard").stdout
    cards = list(vobject.readComponents(text))
    assert [c.fn.value for c in cards] == ["Ann Lee", "王小明", "Zoë Quinn", "Tab Person"]
    ann = cards[0]
    assert ann.version.value == "3.0"
    assert (ann.n.value.family, ann.n.value.given) == ("Lee", "Ann")
    assert [(e.value, e.params["TYPE"]) for e in ann.email_list] == [
        ("ann@acme.com", ["work"]),
        ("ann@gmail.com", ["home"]),
    ]
    assert ann.tel.value == "+49 30 1234"
    assert ann.org.value == ["Acme, Inc."]
    assert ann.title.value == "Buyer"
    assert ann.note.value == NOTES
    assert ann.categories.value == ["key-account", "vip"]
    assert ann.url.value == "https://acme.com/ann"
    assert ann.adr.value.street == "Hauptstr. 1, 10115 Berlin"
    assert cards[3].bday.value == "1990-02-28"


def test_an_existing_file_is_kept_without_force(cli: Runner, store: str, tmp_path: Path) -> None:
    _seed(cli, store)
    target = tmp_path / "contacts.csv"
    r = cli.ok("export", "contacts", "-o", str(target))
    assert r.stdout == f"Wrote 4 contacts to {target}\n"
    assert target.read_text(encoding="utf-8").startswith(CONTACT_HEADER)
    target.write_text("mine")
    proc = subprocess.run(
        [sys.executable, "-m", "tinycrm", "export", "contacts", "-o", str(target)],
        capture_output=True,
        text=True,
        env={**os.environ, "TINYCRM_DB": store},
    )
    assert proc.returncode == 2
    assert proc.stderr == f"Error: {target} already exists; pass --force to overwrite it\n"
    assert target.read_text() == "mine"
    cli.ok("export", "contacts", "-o", str(target), "--force", "-f", "json")
    assert len(json.loads(target.read_text(encoding="utf-8"))) == 4
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_bad_format_is_a_usage_error(cli: Runner) -> None:
    r = cli("export", "deals", "--format", "vcard")
    assert (r.exit_code, r.stderr) == (2, "Error: --format must be one of csv, json: 'vcard'\n")


def test_purchases_round_trip_through_import_purchases(
    cli: Runner, store: str, tmp_path: Path
) -> None:
    _seed(cli, store)
    cli.ok("purchase", "add", "ann", "1200.50", "--date", "2026-10-01", "--note", "-rebate")
    cli.ok("purchase", "add", "ann", "99", "--date", "2026-10-02", "--currency", "USD")
    cli.ok("purchase", "add", "王小明", "15", "--date", "2026-09-30", "--note", 'a, "b"')
    cli.ok("purchase", "add", "tab", "7.25", "--date", "2026-08-01")  # no email: by name
    exported = tmp_path / "purchases.csv"
    cli.ok("export", "purchases", "-o", str(exported))
    before = cli.ok("export", "purchases", "-f", "json").json()
    assert before[0] == {
        "contact": "ann@acme.com",
        "date": "2026-10-01",
        "amount": "1200.50",
        "currency": "EUR",
        "note": "-rebate",
        "contact_name": "Ann Lee",
        "sku": None,
        "quantity": None,
    }
    # an empty store with the same people
    other = str(tmp_path / "other.db")
    open_store(other).close()  # a second store, as tinycrm init makes one
    cli.ok("--db", other, "contact", "add", "Ann Lee", "-e", "ann@acme.com")
    cli.ok("--db", other, "contact", "add", "王小明", "-e", "wang@example.cn")
    cli.ok("--db", other, "contact", "add", "Tab Person")
    summary = cli.ok("--db", other, "import", "purchases", str(exported), "--json").json()
    assert (summary["imported"], summary["rejected"]) == (4, 0)
    assert summary["source"]["ignored_columns"] == ["contact_name"]
    after = cli.ok("--db", other, "export", "purchases", "-f", "json").json()
    key = lambda p: (p["contact_name"], p["date"])  # noqa: E731
    assert sorted(after, key=key) == sorted(before, key=key)
    again = cli.ok("--db", other, "import", "purchases", str(exported), "--json").json()
    assert (again["imported"], again["duplicates"]) == (0, 4)


def test_interactions_and_deals_name_their_contact(cli: Runner, store: str) -> None:
    _seed(cli, store)
    cli.ok("deal", "add", "ann", "Renewal, 2027", "--value", "5000")
    cli.ok("note", "ann", "line one\nline two", "--when", "2026-11-20 14:00")
    cli.ok("note", "company:acme", "about the whole company", "--kind", "call")
    rows = _rows(cli.ok("export", "interactions").stdout)
    assert rows == [
        {
            "happened_at": "2026-11-20T13:00:00Z",
            "kind": "note",
            "contact": "ann@acme.com",
            "contact_name": "Ann Lee",
            "company": "",
            "deal": "",
            "body": "line one\nline two",
            "user": "sam",
        },
        {
            "happened_at": "2026-11-23T09:00:00Z",
            "kind": "call",
            "contact": "",
            "contact_name": "",
            "company": "Acme, Inc.",
            "deal": "",
            "body": "about the whole company",
            "user": "sam",
        },
    ]
    (deal,) = cli.ok("export", "deals", "-f", "json").json()
    assert deal == {
        "title": "Renewal, 2027",
        "contact": "ann@acme.com",
        "contact_name": "Ann Lee",
        "company": "Acme, Inc.",
        "stage": "Lead",
        "status": "open",
        "value": "5000.00",
        "currency": "EUR",
        "probability": None,
        "expected_close": None,
        "lost_reason": None,
        "closed_at": None,
        "created_at": "2026-11-23T09:00:00Z",
        "owner": "sam",
    }


def test_export_pages_through_more_than_one_page(
    cli: Runner, store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tinycrm.services import exports

    monkeypatch.setattr(exports, "PAGE", 2)
    for i in range(5):
        cli.ok("contact", "add", f"Person {i}", "-e", f"p{i}@x.com", "--tag", f"t{i}")
    data = cli.ok("export", "contacts", "-f", "json").json()
    assert [(d["name"], d["emails"][0]["value"], d["tags"]) for d in data] == [
        (f"Person {i}", f"p{i}@x.com", [f"t{i}"]) for i in range(5)
    ]


def test_export_person_holds_everything_about_them(cli: Runner, store: str) -> None:
    _seed(cli, store)
    cli.ok("note", "ann", "met at the fair")
    cli.ok("remind", "ann", "friday", "send the quote")
    cli.ok("purchase", "add", "ann", "10", "--date", "2026-11-01")
    cli.ok("deal", "add", "ann", "Renewal", "--value", "500")
    cli.ok("note", "wang@example.cn", "someone else")
    cli.ok("case", "add", "ann", "Quote is wrong", "--body", "the VAT is missing")
    cli.ok("case", "note", "1", "sent a new quote")
    cli.ok("case", "close", "1", "--solution", "corrected the VAT", "--satisfaction", "4")
    data = cli.ok("export", "person", "ann").json()
    assert list(data) == [
        "exported_at", "id", "contact", "company", "interactions", "reminders", "deals",
        "purchases", "merges", "audit", "cases", "quotes",
    ]  # fmt: skip
    (case,) = data["cases"]
    assert (case["title"], case["body"], case["solution"], case["satisfaction"]) == (
        "Quote is wrong", "the VAT is missing", "corrected the VAT", 4,
    )  # fmt: skip
    note_id = next(i["id"] for i in data["interactions"] if i["body"] == "sent a new quote")
    assert case["note_ids"] == [note_id]
    assert {"add", "respond", "close"} <= {
        a["action"] for a in data["audit"] if a["entity"] == "case"
    }
    assert data["contact"]["name"] == "Ann Lee"
    assert data["contact"]["consent"] == "newsletter, web form"
    assert data["company"]["name"] == "Acme, Inc."
    assert [i["body"] for i in data["interactions"]] == ["met at the fair", "sent a new quote"]
    assert [r["text"] for r in data["reminders"]] == ["send the quote"]
    assert [(d["title"], d["value"]) for d in data["deals"]] == [("Renewal", "500.00")]
    assert [(p["purchased_on"], p["amount"]) for p in data["purchases"]] == [
        ("2026-11-01", "10.00")
    ]


def _typeable(store: str) -> None:
    """_seed plants a leading tab and CR by SQL to test the formula guard; no input path
    stores them (text is trimmed on the way in), so the round trips start without them."""
    db = _db(store)
    with db.write():
        db.execute("UPDATE contacts SET title = 'starts with tab' WHERE name = 'Tab Person'")
        db.execute("UPDATE contacts SET source = 'cr' WHERE name = 'Zoë Quinn'")
    db.close()


def _comparable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: r["name"])


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_contacts_round_trip_through_import_contacts(
    cli: Runner, store: str, tmp_path: Path, fmt: str
) -> None:
    """Export, import into an empty store, export again: the same contacts, field by field
    (labels, web and postal addresses, formula-looking cells, CJK, multi-line notes,
    consent, opt-out, birthday, owner, cadence and creation time included)."""
    _seed(cli, store)
    _typeable(store)
    cli.ok("contact", "edit", "王小明", "--opt-out")
    before = cli.ok("export", "contacts", "-f", "json").json()
    exported = tmp_path / f"contacts.{fmt}"
    cli.ok("export", "contacts", "-f", fmt, "-o", str(exported))
    other = str(tmp_path / "other.db")
    open_store(other).close()  # a second store, as tinycrm init makes one
    for owner in sorted({c["owner"] for c in before if c["owner"]} - {"sam"}):  # sam: you
        cli.ok("--db", other, "user", "add", owner)
    summary = cli.ok("--db", other, "import", "contacts", str(exported), "--json").json()
    assert (summary["created"], summary["rejected"], summary["skipped"]) == (len(before), 0, 0)
    assert summary["source"]["ignored_columns"] == []
    after = cli.ok("--db", other, "export", "contacts", "-f", "json").json()
    assert _comparable(after) == _comparable(before)
    # and importing it again finds every one of them already there
    again = cli.ok("--db", other, "import", "contacts", str(exported), "--json").json()
    assert (again["created"], again["skipped"]) == (0, len(before))


def test_contacts_round_trip_through_vcard(cli: Runner, store: str, tmp_path: Path) -> None:
    """vCard carries the card's fields (not owner, consent or tinycrm's clocks)."""
    _seed(cli, store)
    _typeable(store)
    card_fields = ("name", "company", "title", "emails", "phones", "tags", "birthday", "notes")
    before = cli.ok("export", "contacts", "-f", "json").json()
    exported = tmp_path / "contacts.vcf"
    cli.ok("export", "contacts", "-f", "vcard", "-o", str(exported))
    other = str(tmp_path / "other.db")
    open_store(other).close()  # a second store, as tinycrm init makes one
    summary = cli.ok("--db", other, "import", "contacts", str(exported), "--json").json()
    assert (summary["created"], summary["rejected"]) == (len(before), 0)
    after = cli.ok("--db", other, "export", "contacts", "-f", "json").json()

    def pick(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return _comparable([{k: r[k] for k in card_fields} for r in rows])

    assert pick(after) == pick(before)
    assert [u["value"] for c in _comparable(after) for u in c["urls"]] == [
        u["value"] for c in _comparable(before) for u in c["urls"]
    ]
