"""`tinycrm import contacts`: real-world-shaped files in, on both backends; all or nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Runner
from tinycrm.store.open import open_store

TINYCRM = Path(sys.executable).parent / "tinycrm"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "contacts"


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Files are named as a user types them: relative to the current folder; phone numbers
    without a country code are British."""
    monkeypatch.chdir(tmp_path)
    settings = tmp_path / "settings.toml"
    settings.write_text('phone_region = "GB"\n', encoding="utf-8")
    monkeypatch.setenv("TINYCRM_SETTINGS", str(settings))
    return tmp_path


def write(name: str, text: str, encoding: str = "utf-8") -> str:
    Path(name).write_bytes(text.encode(encoding))
    return name


def counts(store: str) -> dict[str, int]:
    db = open_store(store)
    try:
        return {
            t: int(db.value(f"SELECT count(*) AS n FROM {t}"))
            for t in ("contacts", "contact_methods", "contact_tags", "companies", "users")
        }
    finally:
        db.close()


def show(cli: Runner, ref: str) -> dict[str, Any]:
    d: dict[str, Any] = cli.ok("contact", "show", ref, "--json").json()
    return d


def methods(store: str, contact_id: int) -> list[tuple[str, str, str | None]]:
    db = open_store(store)
    try:
        return [
            (r["kind"], r["value"], r["label"])
            for r in db.all(
                "SELECT kind, value, label FROM contact_methods WHERE contact_id = :c"
                " ORDER BY position",
                {"c": contact_id},
            )
        ]
    finally:
        db.close()


# -- encodings, delimiters, quoting -----------------------------------------------------------

PEOPLE = {
    "utf-8-sig": ("Zoë Faure", "Café Zürich"),
    "utf-16": ("Zoë Faure", "Café Zürich"),
    "utf-16-le": ("Zoë Faure", "Café Zürich"),  # no BOM
    "cp1252": ("Zoë Faure", "Café Zürich"),
    "gb18030": ("张伟", "北京科技有限公司"),
    "big5": ("陳大文", "台北貿易有限公司"),
    "shift_jis": ("山田太郎", "株式会社サンプル"),
    "euc_kr": ("김민수", "삼성전자"),
}


@pytest.mark.parametrize("encoding", list(PEOPLE))
def test_each_encoding_is_detected(cli: Runner, here: Path, encoding: str) -> None:
    name, company = PEOPLE[encoding]
    text = (
        f"name,email,phone,company\r\n{name},a@example.com,020 7946 0958,{company}\r\n"
        f"{name} 2,b@example.com,,{company}\r\n"
    )
    write("c.csv", text, encoding)
    s = cli.ok("import", "contacts", "c.csv", "--json").json()
    assert (s["created"], s["rejected"]) == (2, 0)
    expected = {"utf-8-sig": "utf-8", "shift_jis": "cp932", "euc_kr": "cp949"}.get(
        encoding, encoding
    )
    assert s["source"]["encoding"] == expected
    assert s["source"]["encoding_guessed"] == (encoding not in ("utf-8-sig", "utf-16"))
    d = show(cli, "a@example.com")
    assert (d["name"], d["company"], d["phones"]) == (name, company, ["020 7946 0958"])


@pytest.mark.parametrize(("delimiter", "shown"), [(",", ","), (";", ";"), ("\t", "tab")])
def test_each_delimiter_and_multi_line_fields(
    cli: Runner, here: Path, delimiter: str, shown: str
) -> None:
    d = delimiter
    text = (
        f"Name{d}E-mail{d}Notes{d}Company\n"
        f'Ann Lee{d}ann@acme.com{d}"first line\nsecond{d} with delimiter\n""quoted"""{d}Acme\n'
        f"Bob Stone{d}bob@acme.com{d}{d}Acme\n"
    )
    write("c.csv", text)
    s = cli.ok("import", "contacts", "c.csv", "--json").json()
    assert s["source"]["delimiter"] == shown and s["created"] == 2
    assert show(cli, "ann")["notes"] == f'first line\nsecond{d} with delimiter\n"quoted"'
    assert show(cli, "bob")["company"] == "Acme"


# -- headers of real exports ------------------------------------------------------------------

EXPORTS = {
    "google": (
        "First Name,Middle Name,Last Name,Organization Name,Organization Title,Labels,"
        "E-mail 1 - Label,E-mail 1 - Value,Phone 1 - Label,Phone 1 - Value,"
        "Address 1 - Label,Address 1 - Street,Address 1 - City,Address 1 - Postal Code,"
        "Website 1 - Value\n"
        "Ann,B.,Lee,Acme Ltd,CTO,* myContacts ::: VIP,* Work,Ann@Acme.com ::: ann@lee.me,"
        "Mobile,+44 7700 900123,Work,1 Main St,London,EC1A 1BB,https://acme.com\n",
        "Ann B. Lee",
    ),
    "outlook": (
        "Title,First Name,Middle Name,Last Name,Suffix,Company,Department,Job Title,"
        "Business Street,Business City,Business Postal Code,Business Country/Region,"
        "Business Phone,Mobile Phone,E-mail Address,E-mail 2 Address,Categories,Notes,"
        "Birthday\n"
        "Ms.,Ann,,Lee,,Acme Ltd,IT,CTO,1 Main St,London,EC1A 1BB,UK,"
        "020 7946 0958,+44 7700 900123,ann@acme.com,ann@lee.me,VIP;Golf,,0/0/00\n",
        "Ann Lee",
    ),
    "hubspot": (
        "Record ID,First Name,Last Name,Email,Phone Number,Mobile Phone Number,Company Name,"
        "Job Title,Website URL,Street Address,City,Postal Code,Contact owner,Lifecycle Stage\n"
        "901,Ann,Lee,ann@acme.com,020 7946 0958,+44 7700 900123,Acme Ltd,CTO,https://acme.com,"
        "1 Main St,London,EC1A 1BB,Jane Smith,customer\n",
        "Ann Lee",
    ),
    "salesforce": (
        "Salutation;First Name;Last Name;Title;Account Name;Email;Phone;Mobile;"
        "Mailing Street;Mailing City;Mailing Zip/Postal Code;Mailing Country;Lead Source;"
        "Birthdate;Description\n"
        "Ms.;Ann;Lee;CTO;Acme Ltd;ann@acme.com;020 7946 0958;+44 7700 900123;1 Main St;"
        "London;EC1A 1BB;UK;Trade show;14/03/1985;Met at the expo\n",
        "Ann Lee",
    ),
    "pipedrive": (
        "Person - Name,Person - Organization,Person - Email - Work,Person - Email - Home,"
        "Person - Phone - Work,Person - Phone - Mobile,Person - Labels,Person - Owner\n"
        "Ann Lee,Acme Ltd,ann@acme.com,ann@lee.me,020 7946 0958,+44 7700 900123,VIP,"
        "Jane Smith\n",
        "Ann Lee",
    ),
    "zoho": (
        "First Name\tLast Name\tEmail\tSecondary Email\tPhone\tMobile\tAccount Name\tTitle\t"
        "Mailing Street\tMailing City\tMailing Zip\tDate of Birth\tTag\n"
        "Ann\tLee\tann@acme.com\tann@lee.me\t020 7946 0958\t+44 7700 900123\tAcme Ltd\tCTO\t"
        "1 Main St\tLondon\tEC1A 1BB\t1985-03-14\tVIP\n",
        "Ann Lee",
    ),
    "plain": (
        "name,email,phone,company\nAnn Lee,ann@acme.com,+44 7700 900123,Acme Ltd\n",
        "Ann Lee",
    ),
}


@pytest.mark.parametrize("export", list(EXPORTS))
def test_headers_of_real_exports_are_mapped(
    cli: Runner, store: str, here: Path, export: str
) -> None:
    text, name = EXPORTS[export]
    write(f"{export}.csv", text)
    dry = cli.ok("import", "contacts", f"{export}.csv", "--dry-run").stdout
    assert "columns\t" in dry and counts(store)["contacts"] == 0  # mapping shown, nothing written
    s = cli.ok("import", "contacts", f"{export}.csv", "--json").json()
    assert (s["created"], s["rejected"]) == (1, 0), s
    d = show(cli, "ann@acme.com")
    assert d["name"] == name
    assert d["company"] == "Acme Ltd"
    assert "+44 7700 900123" in d["phones"]
    if export not in ("pipedrive", "plain"):
        assert d["title"] == "CTO"
    if export in ("google", "outlook", "hubspot", "salesforce", "zoho"):
        assert any("1 Main St" in a and "London" in a for a in d["addresses"]), d["addresses"]
    if export in ("google", "outlook", "pipedrive", "zoho"):
        assert "ann@lee.me" in d["emails"] and "vip" in d["tags"]
    if export == "outlook":
        assert "Title" in s["source"]["ignored_columns"]  # Ms., not the job title
    if export in ("hubspot", "pipedrive"):  # a vendor's user is not a tinycrm user
        assert d["owner"] == "sam"
    if export == "salesforce":
        assert d["source"] == "Trade show" and d["notes"] == "Met at the expo"
    mine = methods(store, d["id"])
    if export == "google":
        assert ("email", "ann@acme.com", "work") in mine
        assert ("phone", "+44 7700 900123", "mobile") in mine
        assert ("url", "https://acme.com", None) in mine


# -- vCards -----------------------------------------------------------------------------------


def test_iphone_vcard_3(cli: Runner, store: str, here: Path) -> None:
    s = cli.ok("import", "contacts", str(FIXTURES / "iphone.vcf"), "--json").json()
    assert (s["created"], s["rejected"], s["source"]["format"]) == (2, 0, "vcard")
    assert s["dropped"] == {"photo": 1}
    assert s["as_written"] == {}
    assert show(cli, "José Müller")["birthday"] == "--05-02"  # kept without a year
    d = show(cli, "Ann Lee")
    assert d["birthday"] == "1985-03-14"
    assert (d["company"], d["title"], d["tags"]) == ("Acme Ltd", "CTO", ["golf", "vip"])
    assert d["notes"] == "Met at the expo, likes golf.\nCall after 10."
    assert d["addresses"] == ["work: 1 Main St Floor 2, London, EC1A 1BB, United Kingdom"]
    assert methods(store, d["id"])[:4] == [
        ("email", "ann@acme.com", "work"),  # item1.X-ABLabel
        ("email", "ann.lee+crm@gmail.com", "home"),
        ("phone", "+44 7700 900123", "mobile"),
        ("phone", "07700 900124", "mobile"),
    ]
    assert "photo ×1" in cli.ok("import", "contacts", str(FIXTURES / "iphone.vcf")).stdout


def test_android_vcard_21_quoted_printable_utf8(cli: Runner, here: Path) -> None:
    s = cli.ok("import", "contacts", str(FIXTURES / "android.vcf"), "--json").json()
    assert s["created"] == 2
    d = show(cli, "张伟")
    assert d["company"] == "北京科技有限公司"
    assert (
        d["notes"]
        == "明天见面\n带合同。 This line is long enough to be softly broken by the phone."
    )
    assert d["phones"] == ["+86 138 0013 8000", "010 6552 9988"]


def test_outlook_vcard_21_windows_1252(cli: Runner, store: str, here: Path) -> None:
    cli.ok("import", "contacts", str(FIXTURES / "outlook.vcf"))
    d = show(cli, "Jürgen")
    assert (d["name"], d["company"], d["title"]) == ("Jürgen Grün", "Bäckerei Grün GmbH", "Inhaber")
    assert d["addresses"] == ["work: Hauptstraße 5, München, Bayern, 80331, Deutschland"]
    assert d["urls"] == ["http://www.baeckerei-gruen.de"]
    assert ("phone", "+49 89 123457", "work fax") in methods(store, d["id"])


def test_thunderbird_vcard_4_and_gmail_vcard_3(cli: Runner, store: str, here: Path) -> None:
    cli.ok("import", "contacts", str(FIXTURES / "thunderbird.vcf"))
    cli.ok("import", "contacts", str(FIXTURES / "gmail.vcf"))
    d = show(cli, "Sofia")
    assert d["emails"] == ["sofia.rossi@studio-rossi.it", "sofia@example.it"]
    assert d["phones"] == ["+39 347 123 4567", "+39-06-1234-5678"]  # tel: URI unwrapped
    assert (d["tags"], d["title"]) == (["architects", "rome"], "Architect")
    assert ("phone", "+39 347 123 4567", "mobile") in methods(store, d["id"])
    g = show(cli, "Lena")
    assert g["tags"] == ["clients"]  # Gmail's system group "myContacts" is not a tag
    assert g["notes"].endswith("over more than seventy-five octets so the reader has to unfold it.")


def test_a_broken_card_names_its_line(cli: Runner, store: str, here: Path) -> None:
    good = (FIXTURES / "gmail.vcf").read_text(encoding="utf-8")
    write(
        "x.vcf",
        good + "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bad\r\nEMAIL:not-an-email\r\nEND:VCARD\r\n",
    )
    cli.ok("user", "list")  # sam is a user from the first command on, failed or not
    before = counts(store)
    r = cli("import", "contacts", "x.vcf", "--strict")
    assert r.exit_code == 2
    assert r.stderr == "Error: x.vcf line 12, field email: not an email address: 'not-an-email'\n"
    assert counts(store) == before
    s = cli.ok("import", "contacts", "x.vcf", "--strict", "--skip-bad", "--json").json()
    assert (s["created"], s["rejected"], s["rejects_file"]) == (1, 1, "x.rejects.vcf")
    rejected = Path("x.rejects.vcf").read_text(encoding="utf-8")
    assert "X-TINYCRM-ERROR:field email: not an email address: 'not-an-email'" in rejected
    assert "FN:Bad" in rejected
    # without --strict the person comes in, the email kept as written
    s = cli.ok("import", "contacts", "x.vcf", "--json").json()
    assert (s["created"], s["rejected"], s["as_written"]) == (1, 0, {"email": 1})
    assert s["as_written_shown"] == [
        {
            "file": "x.vcf",
            "line": 12,
            "field": "email",
            "value": "not-an-email",
            "why": "not an email address: 'not-an-email'",
        }
    ]
    assert show(cli, "Bad")["as_written"] == [
        {"field": "email", "value": "not-an-email", "why": "not an email address: 'not-an-email'"}
    ]


# -- duplicates -------------------------------------------------------------------------------


@pytest.fixture
def stored(cli: Runner, here: Path) -> None:
    cli.ok("contact", "add", "Ann Lee", "-e", "ann.lee@gmail.com", "-p", "020 7946 0958")  # 1
    cli.ok("contact", "add", "José Müller", "--company", "Müller AG")  # 2


DUPES = (
    "name,email,phone,company,title,tags\n"
    "A. Lee,Ann.Lee+crm@googlemail.com,,,CTO,golf\n"  # same mailbox: case, plus, alias
    "Annie L,,+44 20 7946 0958,,,\n"  # same phone in E.164
    "ＪＯＳＥ  muller,jose@muller.de,,Other Co,Chef,\n"  # same name: width, accents, spacing
    '"Muller, Jose",,,,,\n'  # same name, words reordered
    "Kim Park,kim@park.kr,,,,\n"
    "kim park,KIM@park.kr,+82 2 1234 5678,,,new\n"  # within the file
)


def test_duplicates_are_skipped_and_reported_by_default(
    cli: Runner, store: str, stored: None
) -> None:
    write("d.csv", DUPES)
    before = counts(store)
    s = cli.ok("import", "contacts", "d.csv", "--json").json()
    assert (s["created"], s["merged"], s["skipped"], s["on_duplicate"]) == (1, 0, 5, "skip")
    assert [(d["line"], d["contact_id"], d["reason"], d["action"]) for d in s["duplicates"]] == [
        (2, 1, "same email annlee@gmail.com", "skipped"),
        (3, 1, "same phone +442079460958", "skipped"),
        (4, 2, "same name", "skipped"),
        (5, 2, "same name", "skipped"),
        (7, 3, "same email kim@park.kr", "skipped"),
    ]
    assert s["duplicates"][0]["contact"] == "Ann Lee"
    assert counts(store)["contacts"] == before["contacts"] + 1
    text = cli.ok("import", "contacts", "d.csv", "--dry-run").stdout
    assert "duplicate\tline 2: A. Lee — same email annlee@gmail.com; skipped Ann Lee #1\n" in text
    assert "duplicates skipped\t6 (--on-duplicate merge or create to bring them in)\n" in text


def test_merge_adds_what_is_new_and_fills_blanks(cli: Runner, store: str, stored: None) -> None:
    write("d.csv", DUPES)
    s = cli.ok("import", "contacts", "d.csv", "--on-duplicate", "merge", "--json").json()
    assert (s["created"], s["merged"], s["skipped"]) == (1, 5, 0)
    ann = show(cli, "1")
    assert ann["name"] == "Ann Lee"  # the stored name stays
    # the same mailbox and the same number are not added again in another spelling
    assert (ann["emails"], ann["phones"]) == (["ann.lee@gmail.com"], ["020 7946 0958"])
    assert (ann["title"], ann["tags"]) == ("CTO", ["golf"])
    jose = show(cli, "2")
    assert (jose["company"], jose["title"]) == ("Müller AG", "Chef")  # only blanks filled
    assert jose["emails"] == ["jose@muller.de"]
    kim = show(cli, "kim")
    assert kim["phones"] == ["+82 2 1234 5678"] and kim["tags"] == ["new"]
    assert cli.ok("search", "golf", "--json").json()[0]["id"] == 1  # reindexed


def test_create_makes_new_contacts_anyway_but_says_so(
    cli: Runner, store: str, stored: None
) -> None:
    write("d.csv", DUPES)
    s = cli.ok("import", "contacts", "d.csv", "--on-duplicate", "create", "--json").json()
    assert (s["created"], s["merged"], s["skipped"]) == (6, 0, 0)
    assert [d["action"] for d in s["duplicates"]] == ["created"] * 5


# -- all or nothing ---------------------------------------------------------------------------


def test_a_failing_row_in_the_middle_leaves_the_store_unchanged(
    cli: Runner, store: str, stored: None
) -> None:
    rows = [f"Person {i},p{i}@example.com,,Co {i % 7},,vip" for i in range(1, 60)]
    rows[30] = "Broken,not-an-email,,,,"
    write("big.csv", "name,email,phone,company,title,tags\n" + "\n".join(rows) + "\n")
    before = counts(store)
    r = cli("import", "contacts", "big.csv", "--tag", "fair", "--strict")
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == "Error: big.csv line 32, field email: not an email address: 'not-an-email'\n"
    assert counts(store) == before
    s = cli.ok("import", "contacts", "big.csv", "--skip-bad", "--strict", "--json").json()
    assert (s["created"], s["rejected"], s["rejects_file"]) == (58, 1, "big.rejects.csv")
    assert Path("big.rejects.csv").read_text(encoding="utf-8").splitlines() == [
        "line,error,name,email,phone,company,title,tags",
        "32,field email: not an email address: 'not-an-email',Broken,not-an-email,,,,",
    ]


def test_the_real_command_fails_cleanly(store: str, here: Path) -> None:
    write("bad.csv", "name,email,birthday\nAnn,ann@x.com,1985-03-14\nBob,bob@x.com,31.02.1990\n")
    done = subprocess.run(
        [str(TINYCRM), "import", "contacts", "bad.csv", "--strict"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert (
        done.stderr == "Error: bad.csv line 3, field birthday: no such day: '31.02.1990'"
        " (read as dd.mm.yyyy)\n"
    )
    assert counts(store)["contacts"] == 0


def test_usage_errors(cli: Runner, store: str, here: Path) -> None:
    write("c.csv", "Kunde,Telefon\nAnn,123\n")
    r = cli("import", "contacts", "c.csv")
    assert r.exit_code == 2
    assert r.stderr.startswith("Error: c.csv has no name or email column (columns: Kunde, Telefon)")
    s = cli.ok("import", "contacts", "c.csv", "--map", "Kunde=name,Telefon=phone:work", "--json")
    assert s.json()["source"]["columns"] == {"Kunde": "name", "Telefon": "phone (work)"}
    r = cli("import", "contacts", "c.csv", "--map", "Kunde=name", "--owner", "nobody")
    assert (r.exit_code, r.stderr) == (
        2,
        "Error: --owner: no user called 'nobody'; see tinycrm user list\n",
    )
    r = cli("import", "contacts", "c.csv", "--on-duplicate", "ask")
    assert r.exit_code == 2 and "--on-duplicate must be skip, merge or create" in r.stderr


# -- tinycrm's own export, read back -----------------------------------------------------------

EXPORT_CSV = (
    "name,company,title,emails,phones,tags,birthday,notes,source,owner,cadence_days,consent,"
    "consent_at,opted_out_at,created_at\n"
    "Ann Lee,Acme Ltd,CTO,work: ann@acme.com; ann@lee.me,mobile: +44 7700 900123; 020 7946 0958,"
    'golf; vip,1985-03-14,"Two\nlines",referral,lee,30,newsletter,2026-01-02T10:00:00Z,,'
    "2025-06-01T08:30:00Z\n"
)


def test_tinycrm_csv_export_round_trips(cli: Runner, store: str, here: Path) -> None:
    cli.ok("user", "add", "lee")
    write("export.csv", EXPORT_CSV)
    s = cli.ok("import", "contacts", "export.csv", "--json").json()
    assert s["source"]["ignored_columns"] == [] and s["created"] == 1
    _check_round_trip(cli, store)


def test_tinycrm_json_export_round_trips(cli: Runner, store: str, here: Path) -> None:
    cli.ok("user", "add", "lee")
    item = {
        "id": 17,
        "name": "Ann Lee",
        "company": "Acme Ltd",
        "title": "CTO",
        "emails": [
            {"value": "ann@acme.com", "label": "work"},
            {"value": "ann@lee.me", "label": None},
        ],
        "phones": [
            {"value": "+44 7700 900123", "label": "mobile"},
            {"value": "020 7946 0958", "label": None},
        ],
        "tags": ["golf", "vip"],
        "birthday": "1985-03-14",
        "notes": "Two\nlines",
        "source": "referral",
        "owner": "lee",
        "cadence_days": 30,
        "consent": "newsletter",
        "consent_at": "2026-01-02T10:00:00Z",
        "opted_out_at": None,
        "created_at": "2025-06-01T08:30:00Z",
    }
    write("export.json", json.dumps([item], indent=2))
    s = cli.ok("import", "contacts", "export.json", "--json").json()
    assert (s["source"]["format"], s["created"], s["source"]["ignored_columns"]) == ("json", 1, [])
    _check_round_trip(cli, store)
    bad = [item | {"name": "Bob", "emails": [{"value": "bob@x.com"}]}, item | {"cadence_days": "x"}]
    text = json.dumps(bad, indent=2)
    second = [i for i, line in enumerate(text.splitlines(), start=1) if line == "  {"][1]
    write("bad.json", text)
    r = cli("import", "contacts", "bad.json")
    assert r.stderr == (
        f"Error: bad.json line {second}, field cadence_days: not a whole number: 'x'\n"
    )


def _check_round_trip(cli: Runner, store: str) -> None:
    d = show(cli, "ann")
    assert (d["company"], d["title"], d["tags"], d["notes"]) == (
        "Acme Ltd",
        "CTO",
        ["golf", "vip"],
        "Two\nlines",
    )
    assert (d["source"], d["owner"], d["cadence_days"]) == ("referral", "lee", 30)
    assert d["created_at"] == "2025-06-01T08:30:00Z"
    assert methods(store, d["id"]) == [
        ("email", "ann@acme.com", "work"),
        ("email", "ann@lee.me", None),
        ("phone", "+44 7700 900123", "mobile"),
        ("phone", "020 7946 0958", None),
    ]
    db = open_store(store)
    try:
        row = db.one("SELECT birthday, consent, consent_at, touch_due_at FROM contacts")
        assert row is not None
        assert str(row["birthday"])[:10] == "1985-03-14" and row["consent"] == "newsletter"
        assert str(row["consent_at"])[:10] == "2026-01-02"
        assert row["touch_due_at"] is not None  # the cadence's clock runs
    finally:
        db.close()


# -- owner, tag, search ---------------------------------------------------------------------------


def test_owner_tag_source_and_search(cli: Runner, store: str, here: Path) -> None:
    cli.ok("user", "add", "jane")
    cli.ok("tag", "cadence", "fair", "14d")
    write("fair.csv", "name,email\nZhang Wei,zw@example.cn\nOla Nordmann,ola@example.no\n")
    s = cli.ok("import", "contacts", "fair.csv", "--owner", "jane", "--tag", "Fair", "--json")
    assert s.json()["created"] == 2
    d = show(cli, "ola")
    assert (d["owner"], d["tags"], d["source"]) == ("jane", ["fair"], "import fair.csv")
    hits = cli.ok("search", "nordm", "--json").json()
    assert [h["title"] for h in hits] == ["Ola Nordmann"]
    assert cli.ok("search", "fair", "--json").json() != []
    db = open_store(store)
    try:
        assert db.value("SELECT count(*) FROM contacts WHERE touch_due_at IS NOT NULL") == 2
    finally:
        db.close()


def test_a_shared_name_alone_does_not_make_people_with_other_emails_one(
    cli: Runner, here: Path
) -> None:
    cli.ok("contact", "add", "John Smith", "-e", "john@acme.com")
    write(
        "j.csv",
        "name,email\nJohn Smith,jsmith@globex.com\nJOHN SMITH,\nJohn Smith,js@initech.com\n",
    )
    s = cli.ok("import", "contacts", "j.csv", "--json").json()
    assert (s["created"], s["skipped"]) == (2, 1)
    assert [(d["line"], d["contact_id"], d["reason"]) for d in s["duplicates"]] == [
        (3, 1, "same name")  # no email to tell them apart: the stored John Smith
    ]
