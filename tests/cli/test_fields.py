"""Custom fields through the real command line (#23): `field add/list/edit/rm`, `--set` and
`--unset` on contacts, companies and deals, `show` and `--json`, the exports and the imports
back, `forget` and `undo`, on both backends."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Runner


def _fields(cli: Runner) -> None:
    cli.ok("field", "add", "contact", "segment", "--type", "choice", "--choices", "smb,mid,ent")
    cli.ok("field", "add", "contact", "deal_size", "--type", "money")
    cli.ok("field", "add", "contact", "renewal", "--type", "date")
    cli.ok("field", "add", "contact", "seats", "--type", "number")
    cli.ok("field", "add", "contact", "partner", "--type", "bool")
    cli.ok("field", "add", "contact", "region", "--type", "text")


def test_field_add_list_edit_rm(cli: Runner) -> None:
    r = cli.ok("field", "add", "company", "industry", "-t", "choice", "--choices", "retail,bank")
    assert r.stdout == "Added company field industry (choice of retail, bank)\n"
    cli.ok("field", "add", "deal", "renewal", "--type", "date", "--required")
    listed = cli.ok("field", "list", "--json").json()
    assert [(f["entity"], f["name"], f["type"], f["required"]) for f in listed] == [
        ("company", "industry", "choice", False),
        ("deal", "renewal", "date", True),
    ]
    assert cli.ok("field", "list", "company").stdout == (
        "company\tindustry\tchoice\tretail, bank\t\t0\n"
    )
    cli.ok("company", "add", "Acme", "--set", "industry=Retail")
    r = cli.ok(
        "field", "edit", "company", "industry", "--name", "sector", "--choices", "bank,retail"
    )
    assert r.stdout == "Changed company field sector (choice of bank, retail)\n"
    r = cli("field", "rm", "company", "sector")
    assert r.exit_code == 2
    assert r.stderr == (
        "Error: Remove the company field sector and its values on 1 company? — pass --yes to"
        " confirm when not on a terminal\n"
    )
    r = cli.ok("field", "rm", "company", "sector", "--yes")
    assert r.stdout == "Removed company field sector and 1 value (tinycrm undo brings it back)\n"
    assert "sector" not in cli.ok("company", "show", "acme").stdout
    cli.ok("undo")
    assert "sector\tretail\n" in cli.ok("company", "show", "acme").stdout


def test_bad_definitions_are_usage_errors(cli: Runner) -> None:
    for args, message in (
        (("contact", "email"), "'email' is a built-in attribute; pick another name"),
        (("lead", "size"), "fields belong to a contact, company or deal, not 'lead'"),
        (("deal", "size", "--type", "int"), "--type must be one of text, number, money, date,"),
        (("deal", "size", "--type", "choice"), "a choice field needs its choices: --choices a,b,c"),
        (("deal", "size", "--choices", "a,b"), "--choices is for a choice field (--type choice)"),
    ):
        r = cli("field", "add", *args)
        assert r.exit_code == 2, args
        assert r.stderr.startswith("Error: " + message), r.stderr
        assert r.stderr.count("\n") == 1


def test_set_show_json_edit_unset_on_a_contact(cli: Runner) -> None:
    _fields(cli)
    cli.ok(
        "contact",
        "add",
        "Alice Wong",
        "--set",
        "segment=MID",
        "--set",
        "deal_size=$12,000",
        "--set",
        "renewal=2027-03-01",
        "--set",
        "seats=1,200",
        "--set",
        "partner=yes",
        "--set",
        "region=North",
    )
    shown = cli.ok("contact", "show", "alice").stdout
    for line in (
        "segment\tmid\n",
        "deal_size\t12,000.00 USD\n",
        "renewal\t2027-03-01\n",
        "seats\t1,200\n",
        "partner\tyes\n",
        "region\tNorth\n",
    ):
        assert line in shown
    data = cli.ok("contact", "show", "alice", "--json").json()
    assert data["fields"] == [
        {"name": "segment", "type": "choice", "value": "mid", "currency": None},
        {"name": "deal_size", "type": "money", "value": "12000.00", "currency": "USD"},
        {"name": "renewal", "type": "date", "value": "2027-03-01", "currency": None},
        {"name": "seats", "type": "number", "value": 1200, "currency": None},
        {"name": "partner", "type": "bool", "value": True, "currency": None},
        {"name": "region", "type": "text", "value": "North", "currency": None},
    ]
    data = cli.ok(
        "contact", "edit", "alice", "--set", "seats=12.5", "--unset", "region", "--json"
    ).json()
    assert [(f["name"], f["value"]) for f in data["fields"]][3:] == [
        ("seats", "12.5"),
        ("partner", True),
    ]
    history = cli.ok("history", "alice", "--json").json()
    assert history[0]["changes"] == {"region": ["North", None], "seats": ["1200", "12.5"]}


def test_a_bad_value_names_what_is_allowed_and_writes_nothing(cli: Runner) -> None:
    _fields(cli)
    for args, message in (
        (("--set", "segment=huge"), "segment must be one of smb, mid, ent: 'huge'"),
        (("--set", "seats=many"), "seats must be a number, e.g. 120 or 12.5: 'many'"),
        (("--set", "renewal=whenever"), "renewal must be a date, e.g. 2027-03-01"),
        (("--set", "partner=perhaps"), "partner must be yes or no (true/false): 'perhaps'"),
        (("--set", "colour=red"), "no contact field 'colour' (its fields: segment, deal_size,"),
        (("--set", "segment"), "--set takes NAME=VALUE: 'segment'"),
    ):
        r = cli("contact", "add", "Alice Wong", *args)
        assert r.exit_code == 2, args
        assert r.stderr.startswith("Error: " + message), r.stderr
        assert r.stderr.count("\n") == 1
    assert cli.ok("contact", "list", "--json").json() == []


def test_required_fields_on_company_and_deal(cli: Runner) -> None:
    cli.ok("field", "add", "company", "tier", "--type", "number", "--required")
    cli.ok("field", "add", "deal", "renewal", "--type", "date", "--required")
    r = cli("company", "add", "Acme")
    assert (r.exit_code, r.stderr) == (
        2,
        "Error: every company needs tier: give --set tier=VALUE\n",
    )
    cli.ok("company", "add", "Acme", "--set", "tier=2")
    r = cli("company", "edit", "acme", "--unset", "tier")
    assert r.stderr == "Error: tier is required on every company; it can't be unset\n"
    cli.ok("contact", "add", "Bob Li")
    r = cli("deal", "add", "bob", "Fleet", "--value", "100")
    assert r.exit_code == 2 and "every deal needs renewal" in r.stderr
    d = cli.ok("deal", "add", "bob", "Fleet", "--set", "renewal=next friday", "--json").json()
    assert d["fields"] == [
        {"name": "renewal", "type": "date", "value": "2026-11-27", "currency": None}
    ]
    cli.ok("deal", "edit", str(d["id"]), "--set", "renewal=2027-01-31")
    assert "renewal\t2027-01-31\n" in cli.ok("deal", "show", str(d["id"])).stdout
    assert cli.ok("company", "show", "acme", "--json").json()["fields"][0]["value"] == 2


def test_exports_carry_the_fields_and_imports_read_them_back(
    cli: Runner, store: str, tmp_path: Path
) -> None:
    _fields(cli)
    cli.ok(
        "contact",
        "add",
        "Alice Wong",
        "-e",
        "alice@acme.com",
        "--set",
        "segment=ent",
        "--set",
        "deal_size=12000 usd",
        "--set",
        "region==SUM(A1)",  # a formula-looking value survives the CSV guard
    )
    cli.ok("contact", "add", "Bob Li", "-e", "bob@li.com", "--set", "seats=3")
    csv_text = cli.ok("export", "contacts").stdout
    header = csv_text.splitlines()[0]
    assert header.endswith(",as_written,segment,deal_size,renewal,seats,partner,region")
    assert csv_text.splitlines()[1].endswith(",ent,12000.00 USD,,,,'=SUM(A1)")
    rows = cli.ok("export", "contacts", "--format", "json").json()
    assert {k: rows[0][k] for k in ("segment", "deal_size", "region")} == {
        "segment": "ent",
        "deal_size": "12000.00 USD",
        "region": "=SUM(A1)",
    }
    card = cli.ok("export", "contacts", "--format", "vcard").stdout
    assert "X-TINYCRM-SEGMENT:ent\r\n" in card
    assert "X-TINYCRM-DEAL-SIZE:12000.00 USD\r\n" in card
    before = {
        who: cli.ok("contact", "show", who, "--json").json()["fields"] for who in ("alice", "bob")
    }
    for fmt in ("csv", "json", "vcard"):
        out = tmp_path / f"contacts.{fmt}"
        out.write_text(cli.ok("export", "contacts", "--format", fmt).stdout, encoding="utf-8")
        for who in ("alice", "bob"):
            cli.ok("contact", "rm", who, "--yes")
        r = cli.ok("import", "contacts", str(out), "--json").json()
        assert r["created"] == 2, fmt
        assert "field segment" in r["source"]["columns"].values()
        for who in ("alice", "bob"):
            assert cli.ok("contact", "show", who, "--json").json()["fields"] == before[who], fmt


def test_an_import_maps_columns_named_like_fields(cli: Runner, tmp_path: Path) -> None:
    _fields(cli)
    f = tmp_path / "leads.csv"
    f.write_text(
        "Name,Email,Segment,Deal Size,Seats\n"
        "Cara Diaz,cara@x.com,SMB,300,12\n"
        "Dan Ek,dan@x.com,huge,1,2\n",
        encoding="utf-8",
    )
    r = cli.ok("import", "contacts", str(f), "--json").json()
    assert r["source"]["columns"]["Deal Size"] == "field deal_size"
    assert r["created"] == 2
    cara = cli.ok("contact", "show", "cara", "--json").json()
    assert [(x["name"], x["value"]) for x in cara["fields"]] == [
        ("segment", "smb"),
        ("deal_size", "300.00"),
        ("seats", 12),
    ]
    dan = cli.ok("contact", "show", "dan", "--json").json()
    assert [x["name"] for x in dan["fields"]] == ["deal_size", "seats"]
    assert dan["as_written"] == [
        {
            "field": "segment",
            "value": "huge",
            "why": "segment must be one of smb, mid, ent: 'huge'",
        }
    ]
    r = cli("import", "contacts", str(f), "--strict", "--on-duplicate", "create")
    assert r.exit_code != 0
    assert "segment must be one of smb, mid, ent: 'huge'" in r.stderr


def test_export_person_holds_and_forget_erases_the_fields(cli: Runner, store: str) -> None:
    from tinycrm.store.open import open_store

    _fields(cli)
    cli.ok("field", "add", "deal", "arr", "--type", "money")
    cli.ok("contact", "add", "Ann Lee", "--set", "region=Ann Lee's patch", "--set", "seats=4")
    cli.ok("contact", "add", "Bob Stone", "--set", "region=next to Ann Lee")
    cli.ok("deal", "add", "ann", "Renewal", "--set", "arr=500")
    person = json.loads(cli.ok("export", "person", "ann").stdout)
    assert person["contact"]["fields"] == {"region": "Ann Lee's patch", "seats": "4"}
    assert person["deals"][0]["fields"] == {"arr": "500.00 EUR"}
    cli.ok("forget", "ann", "--yes")
    db = open_store(store)
    try:
        left = db.all("SELECT value, value_key FROM custom_values ORDER BY id")
    finally:
        db.close()
    # Ann's own values went with her; Bob's named her, and says so no more; her deal
    # stays, unlinked (the team's pipeline), with its own field
    assert left == [
        {"value": "next to (erased)", "value_key": "next to (erased)"},
        {"value": "500.00", "value_key": None},
    ]


def test_deal_fields_round_trip_through_export_and_import_deals(
    cli: Runner, tmp_path: Path
) -> None:
    cli.ok("field", "add", "deal", "arr", "--type", "money")
    cli.ok("field", "add", "deal", "tier", "--type", "choice", "--choices", "gold,silver")
    cli.ok("contact", "add", "Alice Wong", "-e", "alice@acme.com")
    cli.ok("deal", "add", "alice", "Fleet", "--set", "arr=$1,200", "--set", "tier=gold")
    cli.ok("deal", "add", "alice", "Boats")
    for fmt in ("csv", "json"):
        out = tmp_path / f"deals.{fmt}"
        out.write_text(cli.ok("export", "deals", "--format", fmt).stdout, encoding="utf-8")
        for title in ("Fleet", "Boats"):
            cli.ok("deal", "rm", title, "--yes")
        r = cli.ok("import", "deals", str(out), "--json").json()
        assert r["imported"] == 2, fmt
        assert r["source"]["columns"]["arr"] == "field arr"
        fleet = cli.ok("deal", "show", "Fleet", "--json").json()
        assert [(f["name"], f["value"], f["currency"]) for f in fleet["fields"]] == [
            ("arr", "1200.00", "USD"),
            ("tier", "gold", None),
        ], fmt
        assert cli.ok("deal", "show", "Boats", "--json").json()["fields"] == []
    bad = tmp_path / "bad.csv"
    bad.write_text("title,contact,stage,value,Tier\nX,alice@acme.com,Lead,1,platinum\n")
    r = cli("import", "deals", str(bad))
    assert r.exit_code != 0
    assert "line 2: tier must be one of gold, silver: 'platinum'" in r.stderr


def test_merge_keeps_both_contacts_fields_and_its_undo_puts_them_back(cli: Runner) -> None:
    _fields(cli)
    cli.ok("contact", "add", "Alice Wong", "-e", "a@x.com", "--set", "segment=smb")
    cli.ok(
        "contact", "add", "Alice W.", "-e", "aw@x.com", "--set", "segment=ent", "--set", "seats=9"
    )

    def fields_of(who: str) -> list[tuple[str, object]]:
        shown = cli.ok("contact", "show", who, "--json").json()["fields"]
        return [(f["name"], f["value"]) for f in shown]

    merged = cli.ok("merge", "1", "2", "--prefer", "a", "--yes", "--json").json()
    assert fields_of("1") == [("segment", "smb"), ("seats", 9)]  # A's wins; B's fills in
    cli.ok("merge", "--undo", str(merged["merge_id"]), "--yes")
    assert fields_of("1") == [("segment", "smb")]
    assert fields_of("2") == [("segment", "ent"), ("seats", 9)]
    merged = cli.ok("merge", "1", "2", "--prefer", "b", "--yes", "--json").json()
    assert fields_of("1") == [("segment", "ent"), ("seats", 9)]  # B's wins
    cli.ok("merge", "--undo", str(merged["merge_id"]), "--yes")
    assert fields_of("1") == [("segment", "smb")]
    assert fields_of("2") == [("segment", "ent"), ("seats", 9)]


def test_tab_completes_field_names_kinds_and_types(cli: Runner) -> None:
    _fields(cli)
    assert cli.ok("__complete", "zsh", "contact", "edit", "alice", "--set", "se").stdout == (
        "segment=:choice\nseats=:number\n"
    )
    assert cli.ok("__complete", "fish", "contact", "edit", "x", "--unset", "RE").stdout == (
        "renewal\tdate\nregion\ttext\n"
    )
    assert cli.ok("__complete", "fish", "field", "rm", "contact", "de").stdout == (
        "deal_size\tmoney\n"
    )
    assert cli.ok("__complete", "zsh", "field", "add", "co").stdout == "contact\ncompany\n"
    assert cli.ok("__complete", "zsh", "company", "add", "x", "--set", "").stdout == ""


def test_undo_of_a_delete_brings_the_values_back(cli: Runner) -> None:
    cli.ok("field", "add", "company", "tier", "--type", "number")
    cli.ok("company", "add", "Acme", "--set", "tier=2")
    cli.ok("company", "rm", "acme", "--yes")
    cli.ok("undo")
    assert cli.ok("company", "show", "acme", "--json").json()["fields"] == [
        {"name": "tier", "type": "number", "value": 2, "currency": None}
    ]
    cli.ok("company", "edit", "acme", "--set", "tier=3")
    cli.ok("undo")  # the edit's value goes back to 2
    assert cli.ok("company", "show", "acme", "--json").json()["fields"][0]["value"] == 2
