"""`tinycrm import purchases`: real files in, on both backends; all rows or none."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Runner
from tinycrm.store.open import open_store

TINYCRM = Path(sys.executable).parent / "tinycrm"


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Files are named as a user types them: relative to the current folder."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def people(cli: Runner, store: str, here: Path) -> str:
    cli.ok("contact", "add", "Alice Wong", "-e", "alice@example.com")  # 1
    cli.ok("contact", "add", "Bob Stone")  # 2
    cli.ok("contact", "add", "José Müller", "-e", "jose@example.com")  # 3
    cli.ok("contact", "add", "Sam Lee")  # 4
    cli.ok("contact", "add", "Sam Lee", "--allow-duplicate")  # 5
    return store


def write(name: str, text: str, encoding: str = "utf-8") -> str:
    Path(name).write_bytes(text.encode(encoding))
    return name


def counts(store: str) -> dict[str, int]:
    db = open_store(store)
    try:
        return {
            t: int(db.value(f"SELECT count(*) AS n FROM {t}"))
            for t in ("purchases", "contacts", "contact_methods", "users")
        }
    finally:
        db.close()


def purchases(cli: Runner) -> list[tuple[Any, ...]]:
    """(contact id, day, cents, currency, note), oldest first."""
    rows = cli.ok("purchase", "list", "-n", "1000", "--json").json()
    return sorted(
        (p["contact_id"], p["purchased_on"], p["amount_cents"], p["currency"], p["note"])
        for p in rows
    )


PLAIN = """contact,date,amount,currency,note
alice@example.com,2026-01-05,12.50,,cables
Bob Stone,2026-02-01,"1,200.00",USD,
#1,2026-03-01,99,,
3,2026-03-02,0.99,eur,  two spaces  
"""


def test_a_plain_file_lands_every_row(cli: Runner, people: str) -> None:
    s = cli.ok("import", "purchases", write("p.csv", PLAIN), "--json").json()
    assert (s["rows"], s["imported"], s["duplicates"], s["rejected"]) == (4, 4, 0, 0)
    assert s["totals"] == {"EUR": "112.49", "USD": "1200.00"}
    assert s["source"]["delimiter"] == "," and s["source"]["date_formats"] == ["yyyy-mm-dd"]
    assert s["contacts_created"] == [] and s["rejects_file"] is None
    assert purchases(cli) == [
        (1, "2026-01-05", 1250, "EUR", "cables"),
        (1, "2026-03-01", 9900, "EUR", None),
        (2, "2026-02-01", 120000, "USD", None),
        (3, "2026-03-02", 99, "EUR", "two spaces"),
    ]
    text = cli.ok("import", "purchases", "p.csv", "--allow-duplicates").stdout
    assert text.startswith("Imported 4 purchases from p.csv worth 112.49 EUR, 1,200.00 USD\n")
    assert "read as\tutf-8, delimiter ',', decimal mark '.', dates yyyy-mm-dd\n" in text


def test_free_orders_and_refunds_are_imported(cli: Runner, people: str) -> None:
    # a shop export: a free sample, a full discount, a return in three spellings
    text = (
        "Customer Email,Order Date,Total,Note\n"
        "alice@example.com,2026-01-05,120.00,order\n"
        "alice@example.com,2026-01-06,0.00,free sample\n"
        "alice@example.com,2026-01-07,-20.00,return\n"
        'alice@example.com,2026-01-08,"(5.00)",credit note\n'
        "alice@example.com,2026-01-09,2.50-,ERP credit\n"
        "Bob Stone,2026-01-10,0,full discount\n"
    )
    s = cli.ok("import", "purchases", write("shop.csv", text), "--json").json()
    assert (s["imported"], s["rejected"]) == (6, 0)
    assert s["totals"] == {"EUR": "92.50"}
    assert purchases(cli) == [
        (1, "2026-01-05", 12000, "EUR", "order"),
        (1, "2026-01-06", 0, "EUR", "free sample"),
        (1, "2026-01-07", -2000, "EUR", "return"),
        (1, "2026-01-08", -500, "EUR", "credit note"),
        (1, "2026-01-09", -250, "EUR", "ERP credit"),
        (2, "2026-01-10", 0, "EUR", "full discount"),
    ]
    alice = cli.ok("contact", "show", "alice", "--json").json()
    assert (alice["purchases_count"], alice["purchases_total"]) == (2, {"EUR": "92.50"})
    assert alice["last_purchase_on"] == "2026-01-06"  # the last order, not the last refund
    ranked = cli.ok("rank", "--by", "value", "--json").json()["customers"]
    assert [(c["name"], c["frequency"], c["monetary"]) for c in ranked] == [
        ("Alice Wong", 2, "92.50"),
        ("Bob Stone", 1, "0.00"),
    ]
    # importing the same file again skips every row, refunds included
    again = cli.ok("import", "purchases", "shop.csv", "--json").json()
    assert (again["imported"], again["duplicates"]) == (0, 6)


def test_excel_german_export_semicolons_decimal_commas_bom_crlf(cli: Runner, people: str) -> None:
    text = (
        "Kunde;Datum;Betrag;Währung;Notiz;Status\r\n"
        "Alice Wong;05.01.2026;1.234,50;;Käse;bezahlt\r\n"
        "josé müller;31.12.2025;12,5;EUR;;offen\r\n"
        'BOB STONE;1.2.2026;"7,00 €";;"Zeile 1\r\nZeile 2";\r\n'
    )
    write("de.csv", "\ufeff" + text)
    s = cli.ok("import", "purchases", "de.csv", "--json").json()
    assert s["imported"] == 3
    src = s["source"]
    assert (src["encoding"], src["encoding_guessed"], src["delimiter"]) == ("utf-8", False, ";")
    assert (src["decimal_mark"], src["date_formats"]) == (",", ["dd.mm.yyyy"])
    assert src["columns"] == {
        "contact": "Kunde",
        "date": "Datum",
        "amount": "Betrag",
        "currency": "Währung",
        "note": "Notiz",
    }
    assert src["ignored_columns"] == ["Status"]
    assert purchases(cli) == [
        (1, "2026-01-05", 123450, "EUR", "Käse"),
        (2, "2026-02-01", 700, "EUR", "Zeile 1\nZeile 2"),  # control characters dropped
        (3, "2025-12-31", 1250, "EUR", None),
    ]


def test_a_cp1252_file_is_read_and_the_summary_says_so(cli: Runner, people: str) -> None:
    write("win.csv", "contact;date;amount\r\nJosé Müller;2026-01-05;10\r\n", "cp1252")
    s = cli.ok("import", "purchases", "win.csv", "--json").json()
    assert (s["source"]["encoding"], s["source"]["encoding_guessed"]) == ("cp1252", True)
    assert purchases(cli) == [(3, "2026-01-05", 1000, "EUR", None)]
    out = cli.ok("import", "purchases", "win.csv", "--dry-run").stdout
    assert "cp1252 (not UTF-8, so guessed; pass --encoding if names look wrong)" in out


def test_a_file_mixing_encodings_is_refused_naming_the_line(cli: Runner, people: str) -> None:
    data = (
        b"contact,date,amount\n"
        + "José Müller,2026-01-05,10\n".encode()
        + b"Bob Stone,2026-01-06,11\n"
        + "José Müller,2026-01-07,12\n".encode("cp1252")
    )
    Path("mixed.csv").write_bytes(data)
    before = counts(people)
    r = cli("import", "purchases", "mixed.csv")
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == (
        "Error: mixed.csv line 4: not UTF-8, though line 2 is: the file mixes encodings;"
        " save it as UTF-8, or pass --encoding to read all of it one way\n"
    )
    assert counts(people) == before
    # told how to read it, it does (line 2's name then doesn't match anyone: mojibake)
    r = cli("import", "purchases", "mixed.csv", "--encoding", "cp1252", "--skip-bad")
    assert r.exit_code == 0, r.stderr
    assert counts(people)["purchases"] == before["purchases"] + 2


def test_map_names_the_columns_and_synonyms_need_no_map(cli: Runner, people: str) -> None:
    write("odd.csv", "Käufer,Wann,Summe,Extra\nalice@example.com,2026-01-05,10,x\n")
    r = cli("import", "purchases", "odd.csv")
    assert r.exit_code == 2
    assert r.stderr == (
        "Error: odd.csv has no contact or date column (columns: Käufer, Wann,"
        " Summe, Extra); name them with --map COLUMN=contact\n"
    )
    s = cli.ok(
        "import",
        "purchases",
        "odd.csv",
        "--map",
        "käufer=contact, WANN=date",
        "--map",
        "Summe=amount",
        "--json",
    ).json()
    assert s["source"]["columns"] == {"contact": "Käufer", "date": "Wann", "amount": "Summe"}
    assert s["source"]["ignored_columns"] == ["Extra"]
    write(
        "shop.csv",
        "Order Date,Customer Email,Customer Name,Grand Total,Currency_Code,Product\n"
        "2026-02-01,alice@example.com,Someone Else,5,USD,mug\n",
    )
    s = cli.ok("import", "purchases", "shop.csv", "--json").json()
    assert s["source"]["columns"] == {
        "contact": "Customer Email",  # the email wins over the name
        "date": "Order Date",
        "amount": "Grand Total",
        "currency": "Currency_Code",
        "note": "Product",
    }
    assert s["source"]["ignored_columns"] == ["Customer Name"]
    assert (1, "2026-02-01", 500, "USD", "mug") in purchases(cli)
    r = cli("import", "purchases", "odd.csv", "--map", "Nope=contact")
    assert r.exit_code == 2 and "odd.csv has no column 'nope' to --map" in r.stderr
    r = cli("import", "purchases", "odd.csv", "--map", "Käufer=customer")
    assert r.exit_code == 2 and "'customer' is not a field" in r.stderr


BAD = [
    (
        "contact,date,amount\nalice,2026-01-05,10\n",
        "bad.csv line 2, field contact: no contact matches 'alice' (--create-missing adds it)",
    ),
    (
        "contact,date,amount\nBob Stone,2026-01-05,10\nSam Lee,2026-01-05,10\n",
        "bad.csv line 3, field contact: 'Sam Lee' matches 2 contacts (#4, #5); use the id",
    ),
    (
        "contact,date,amount\nBob Stone,2026-01-05,10\n#77,2026-01-05,10\n",
        "bad.csv line 3, field contact: no contact with id 77",
    ),
    (
        "contact,date,amount\nBob Stone,2026-01-05,10\n\nBob Stone,2026-13-05,10\n",
        "bad.csv line 4, field date: no such day: '2026-13-05' (read as yyyy-mm-dd)",
    ),
    (
        "contact,date,amount\nBob Stone,soon,10\n",
        "bad.csv line 2, field date: not a date: 'soon' (try 2026-01-31 or 31.01.2026)",
    ),
    (
        "contact,date,amount\nBob Stone,2026-11-24,10\n",
        "bad.csv line 2, field date: in the future: 2026-11-24 (today is 2026-11-23)",
    ),
    (
        "contact,date,amount\nBob Stone,1899-12-31,10\n",
        "bad.csv line 2, field date: before 1900: 1899-12-31",
    ),
    (
        "contact,date,amount\nBob Stone,2026-01-05,10\nBob Stone,2026-01-05,abc\n",
        "bad.csv line 3, field amount: not a number: 'abc'",
    ),
    (
        "contact,date,amount\nBob Stone,2026-01-05,-0.00\n",
        "bad.csv line 2, field amount: minus zero: '-0.00'",
    ),
    (
        "contact,date,amount\nBob Stone,2026-01-05,1.005\nBob Stone,2026-01-05,1.50\n",
        "bad.csv line 2, field amount: more than 2 decimal places: '1.005'",
    ),
    (
        "contact,date,amount,currency\nBob Stone,2026-01-05,10,EURO\n",
        "bad.csv line 2, field currency: not a currency code: 'EURO'",
    ),
    (
        "contact,date,amount,currency\nBob Stone,2026-01-05,$10,EUR\n",
        "bad.csv line 2, field currency: EUR, but the amount says USD",
    ),
    (
        "contact,date,amount\nBob Stone,2026-01-05,12,50\n",
        "bad.csv line 2: 4 fields, but the header has 3 (an amount with a decimal comma must be"
        " quoted)",
    ),
    (
        "contact,date,amount\n,2026-01-05,10\n",
        "bad.csv line 2, field contact: empty",
    ),
    (
        "contact,date,amount\nBob Stone,2026-01-05,10\nalice,x,1\nnobody,2026-01-05,1\n",
        "bad.csv line 3, field date: not a date: 'x' (try 2026-01-31 or 31.01.2026); and 1 more"
        " bad row (--skip-bad imports the rest)",
    ),
    # whole-file problems
    (
        "contact,date,amount\nBob Stone,03/04/2026,10\n",
        "bad.csv line 2: can't tell if '03/04/2026' is day or month first, and no date in the"
        " file has a day above 12; pass --date-format dd/mm/yyyy or mm/dd/yyyy",
    ),
    (
        "contact,date,amount\nBob Stone,13/04/2026,10\nBob Stone,04/13/2026,10\n",
        "bad.csv: the dates disagree: line 2 has '13/04/2026' (day first), line 3 has"
        " '04/13/2026' (month first); pass --date-format dd/mm/yyyy or mm/dd/yyyy",
    ),
    (
        'contact,date,amount\nBob Stone,2026-01-05,"12,50"\nBob Stone,2026-01-05,12.50\n',
        "bad.csv: the amounts use both decimal marks: line 2 has '12,50', line 3 has '12.50';"
        " pass --decimal . or --decimal , to say which is right",
    ),
    (
        "name;when;what\nBob Stone;2026-01-05;10\n",
        "bad.csv has no date or amount column (columns: name, when, what); name them with"
        " --map COLUMN=date",
    ),
    ("", "bad.csv is empty"),
    (
        'contact,date,amount\nBob Stone,2026-01-05,"12\nBob Stone,2026-01-06,5\n',
        # an unbalanced quote swallowed the rest of the file: a broken file, refused whole
        'bad.csv line 2: a quoted field never ends (a closing " is missing)',
    ),
    ("PK\x03\x04 a zip file", "bad.csv is a spreadsheet workbook, not CSV: save it as CSV first"),
]


@pytest.mark.parametrize(("text", "error"), BAD, ids=[e.split(": ", 1)[-1][:40] for _, e in BAD])
def test_a_bad_file_is_one_error_line_and_nothing_written(
    cli: Runner, people: str, text: str, error: str
) -> None:
    write("bad.csv", text)
    before = counts(people)
    r = cli("import", "purchases", "bad.csv")
    assert (r.exit_code, r.stdout, r.stderr) == (2, "", f"Error: {error}\n")
    assert counts(people) == before
    assert not Path("bad.rejects.csv").exists()


def test_console_script_exit_code_and_no_traceback(people: str, here: Path) -> None:
    write("bad.csv", "contact,date,amount\nBob Stone,2026-01-05,abc\n")
    done = subprocess.run(
        [str(TINYCRM), "import", "purchases", "bad.csv"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "Error: bad.csv line 2, field amount: not a number: 'abc'\n"
    done = subprocess.run(
        [str(TINYCRM), "import", "purchases", "missing.csv"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stderr) == (2, "Error: no such file: missing.csv\n")
    write("ok.csv", PLAIN)
    done = subprocess.run(
        [str(TINYCRM), "import", "purchases", "ok.csv"], capture_output=True, text=True, check=False
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith("Imported 4 purchases from ok.csv")


SOME_BAD = """contact;date;amount;note
Alice Wong;2026-01-05;10;good
Alice Wong;2026-01-05;ten;"semi;colon"
nobody;2026-01-06;11;
Bob Stone;2026-01-07;12;good
Sam Lee;2026-01-08;13;
"""


def test_skip_bad_lands_the_good_rows_and_writes_the_rejects(cli: Runner, people: str) -> None:
    write("some.csv", SOME_BAD)
    before = counts(people)
    s = cli.ok("import", "purchases", "some.csv", "--skip-bad", "--json").json()
    assert (s["rows"], s["imported"], s["rejected"]) == (5, 2, 3)
    assert s["rejects_file"] == "some.rejects.csv"
    assert [(e["line"], e["field"]) for e in s["errors"]] == [
        (3, "amount"),
        (4, "contact"),
        (6, "contact"),
    ]
    assert counts(people)["purchases"] == before["purchases"] + 2
    assert [p[:3] for p in purchases(cli)] == [(1, "2026-01-05", 1000), (2, "2026-01-07", 1200)]
    with open("some.rejects.csv", newline="", encoding="utf-8") as f:
        rejected = list(csv.reader(f, delimiter=";"))
    assert rejected == [
        ["line", "error", "contact", "date", "amount", "note"],
        ["3", "field amount: not a number: 'ten'", "Alice Wong", "2026-01-05", "ten", "semi;colon"],
        [
            "4",
            "field contact: no contact matches 'nobody' (--create-missing adds it)",
            "nobody",
            "2026-01-06",
            "11",
            "",
        ],
        [
            "6",
            "field contact: 'Sam Lee' matches 2 contacts (#4, #5); use the id",
            "Sam Lee",
            "2026-01-08",
            "13",
            "",
        ],
    ]
    out = cli.ok("import", "purchases", "some.csv", "--skip-bad", "--rejects", "r.csv").stdout
    assert "rejected\t3, written to r.csv\n" in out
    assert Path("r.csv").read_text(encoding="utf-8").startswith("line;error;contact")
    r = cli("import", "purchases", "some.csv", "--rejects", "r.csv")
    assert (r.exit_code, r.stderr) == (2, "Error: --rejects goes with --skip-bad\n")


def test_dry_run_writes_nothing_not_even_rejects(cli: Runner, people: str) -> None:
    write("some.csv", SOME_BAD)
    before = counts(people)
    s = cli.ok(
        "import", "purchases", "some.csv", "--dry-run", "--skip-bad", "--create-missing", "--json"
    ).json()
    assert (s["dry_run"], s["imported"], s["rejected"], s["rejects_file"]) == (True, 3, 2, None)
    assert s["contacts_created"] == [{"id": None, "name": "nobody", "email": None}]
    assert counts(people) == before
    assert not Path("some.rejects.csv").exists()
    out = cli.ok("import", "purchases", "some.csv", "--dry-run", "--skip-bad").stdout
    assert out.startswith("Dry run: would import 2 purchases from some.csv worth 22.00 EUR\n")
    assert "rejected\t3 (a dry run writes no rejects file)\n" in out
    r = cli("import", "purchases", "some.csv", "--dry-run")  # fails as the real run would
    assert r.exit_code == 2 and r.stderr.startswith("Error: some.csv line 3, field amount:")
    assert counts(people) == before


def test_create_missing_makes_one_contact_per_distinct_ref(cli: Runner, people: str) -> None:
    write(
        "new.csv",
        "contact,date,amount\n"
        "Zoë Quinn,2026-01-05,10\n"
        "zoe quinn,2026-01-06,11\n"  # folded, the same name: the same new contact
        "mary-jane.watson+shop@Example.org,2026-01-07,12\n"
        "MARY-JANE.WATSON+SHOP@example.org,2026-01-08,13\n"
        "info@acme.example,2026-01-09,14\n"
        "Alice Wong,2026-01-10,15\n"
        "ahmed.schulz@example.com,2026-01-11,16\n"
        "Ahmed Schulz,2026-01-12,17\n"  # takes the name: the address above is named by itself
        "bob.stone@example.com,2026-01-13,18\n",  # Bob Stone exists: no second one
    )
    before = counts(people)
    s = cli.ok("import", "purchases", "new.csv", "--create-missing", "--json").json()
    assert s["imported"] == 9
    assert s["contacts_created"] == [
        {"id": 6, "name": "Zoë Quinn", "email": None},
        {"id": 7, "name": "Mary Jane Watson", "email": "mary-jane.watson+shop@example.org"},
        {"id": 8, "name": "info@acme.example", "email": "info@acme.example"},
        {"id": 9, "name": "ahmed.schulz@example.com", "email": "ahmed.schulz@example.com"},
        {"id": 10, "name": "Ahmed Schulz", "email": None},
        {"id": 11, "name": "bob.stone@example.com", "email": "bob.stone@example.com"},
    ]
    after = counts(people)
    assert after["contacts"] == before["contacts"] + 6
    assert after["contact_methods"] == before["contact_methods"] + 4
    assert [p[0] for p in purchases(cli)] == [1, 6, 6, 7, 7, 8, 9, 10, 11]
    shown = cli.ok("contact", "show", "mary-jane.watson+shop@example.org", "--json").json()
    assert (shown["id"], shown["source"]) == (7, "import new.csv")
    hits = cli.ok("search", "watson", "--kind", "contact", "--json").json()
    assert [h["id"] for h in hits] == [7]
    # the second time they exist: nothing new, every row a duplicate
    s = cli.ok("import", "purchases", "new.csv", "--create-missing", "--json").json()
    assert (s["contacts_created"], s["imported"], s["duplicates"]) == ([], 0, 9)


def test_reimporting_skips_what_the_store_has(cli: Runner, people: str) -> None:
    twice = "contact,date,amount,note\nBob Stone,2026-01-05,10,mug\nBob Stone,2026-01-05,10,mug\n"
    write("orders.csv", twice)
    s = cli.ok("import", "purchases", "orders.csv", "--json").json()
    assert (s["imported"], s["duplicates"]) == (2, 0)  # two identical orders on a day: both
    s = cli.ok("import", "purchases", "orders.csv", "--json").json()
    assert (s["imported"], s["duplicates"]) == (0, 2)
    out = cli.ok("import", "purchases", "orders.csv").stdout
    assert "duplicates\t2 already in the store, skipped (--allow-duplicates imports them)\n" in out
    # a third identical order in a longer export: only the new one lands
    write("orders.csv", twice + "Bob Stone,2026-01-05,10,mug\nBob Stone,2026-01-05,10,cup\n")
    s = cli.ok("import", "purchases", "orders.csv", "--json").json()
    assert (s["imported"], s["duplicates"]) == (2, 2)
    # a purchase typed in by hand counts too
    cli.ok("purchase", "add", "alice", "5", "--date", "2026-01-07")
    write("alice.csv", "contact,date,amount,currency\nalice@example.com,2026-01-07,5.00,EUR\n")
    s = cli.ok("import", "purchases", "alice.csv", "--json").json()
    assert (s["imported"], s["duplicates"]) == (0, 1)
    s = cli.ok("import", "purchases", "alice.csv", "--allow-duplicates", "--json").json()
    assert (s["imported"], s["duplicates"]) == (1, 0)
    assert len(purchases(cli)) == 6


@pytest.mark.parametrize(
    ("dates", "order", "expected"),
    [
        (("13/01/2026", "02/01/2026"), [], ["2026-01-02", "2026-01-13"]),
        (("01/13/2026", "01/02/2026"), [], ["2026-01-02", "2026-01-13"]),
        (
            ("03/04/2026", "05/04/2026"),
            ["--date-format", "mm/dd/yyyy"],
            ["2026-03-04", "2026-05-04"],
        ),
        (("03/04/2026", "2026-01-01"), ["--date-format", "D/M/YYYY"], ["2026-01-01", "2026-04-03"]),
        (("2026-01-05T14:30:00Z", "5.1.2026 09:00"), [], ["2026-01-05", "2026-01-05"]),
    ],
)
def test_day_or_month_first_is_worked_out_over_the_whole_file(
    cli: Runner, people: str, dates: tuple[str, ...], order: list[str], expected: list[str]
) -> None:
    write("d.csv", "contact,date,amount\n" + "".join(f"Bob Stone,{d},10\n" for d in dates))
    cli.ok("import", "purchases", "d.csv", *order)
    assert [p[1] for p in purchases(cli)] == expected


@pytest.mark.parametrize(
    ("amounts", "options", "cents"),
    [
        (("1.500", "2.000"), [], [150000, 200000]),  # no mark shown: thousands
        (("1.500", "2,50"), [], [250, 150000]),
        (("1,500", "2.50"), [], [250, 150000]),
        (("1.500", "2.000"), ["--decimal", "."], [150, 200]),
        (("1 234,5", "EUR 3"), [], [300, 123450]),
    ],
)
def test_decimal_marks_are_worked_out_over_the_whole_file(
    cli: Runner, people: str, amounts: tuple[str, ...], options: list[str], cents: list[int]
) -> None:
    write(
        "a.csv", "contact;date;amount\n" + "".join(f"Bob Stone;2026-01-05;{a}\n" for a in amounts)
    )
    cli.ok("import", "purchases", "a.csv", *options)
    assert sorted(p[2] for p in purchases(cli)) == cents


def test_json_shape_is_the_documented_one(cli: Runner, people: str) -> None:
    write("p.csv", PLAIN)
    s = cli.ok("import", "purchases", "p.csv", "--json").json()
    assert list(s) == [
        "source",
        "dry_run",
        "rows",
        "imported",
        "duplicates",
        "rejected",
        "rejects_file",
        "contacts_created",
        "totals",
        "errors",
    ]
    assert list(s["source"]) == [
        "file",
        "encoding",
        "encoding_guessed",
        "delimiter",
        "decimal_mark",
        "date_formats",
        "columns",
        "ignored_columns",
    ]
    write("bad.csv", "contact,date,amount\nnobody,2026-01-05,1\n")
    s = cli.ok("import", "purchases", "bad.csv", "--skip-bad", "--json").json()
    assert s["errors"] == [
        {
            "line": 2,
            "field": "contact",
            "error": "no contact matches 'nobody' (--create-missing adds it)",
        }
    ]


def test_tabs_utf16_and_excel_sep_line(cli: Runner, people: str) -> None:
    write("u16.txt", "contact\tdate\tamount\r\nBob Stone\t2026-01-05\t10\r\n", "utf-16")
    s = cli.ok("import", "purchases", "u16.txt", "--json").json()
    assert (s["source"]["encoding"], s["source"]["delimiter"], s["imported"]) == (
        "utf-16",
        "tab",
        1,
    )
    write(
        "sep.csv", "sep=|\ncontact|date|amount\nBob Stone|2026-01-06|10\nBob Stone|2026-01-07|x\n"
    )
    r = cli("import", "purchases", "sep.csv")
    assert r.stderr == "Error: sep.csv line 4, field amount: not a number: 'x'\n"
    write("given.csv", "contact;date;amount\nBob Stone;2026-01-08;10\n")
    r = cli("import", "purchases", "given.csv", "--delimiter", ",")
    assert r.exit_code == 2 and "(columns: contact;date;amount)" in r.stderr
    cli.ok("import", "purchases", "given.csv", "--delimiter", ";")
    assert len(purchases(cli)) == 2
