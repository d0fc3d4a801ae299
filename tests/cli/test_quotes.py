"""Quotes (#22) through the real command line on both backends: numbering, the stored
content rendering the same later, and the HTML parsed (hostile names stay text)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from tests.conftest import Runner

HOSTILE = 'Eve <img src=x onerror="alert(1)"> & "Co"'


class _Page(HTMLParser):
    """The elements, the text of each table row, and all the text, of an HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.rows: list[list[str]] = []
        self.text: list[str] = []
        self.style = ""
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._in.append(tag)
        if tag == "tr":
            self.rows.append([])

    def handle_endtag(self, tag: str) -> None:
        if self._in and self._in[-1] == tag:
            self._in.pop()

    def handle_data(self, data: str) -> None:
        if self._in and self._in[-1] == "style":
            self.style += data
            return
        self.text.append(data)
        if self._in and self._in[-1] in ("td", "th", "span") and self.rows:
            self.rows[-1].append(data)


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    page.close()
    return page


def _setup(cli: Runner) -> None:
    cli.ok("settings", "set", "company-name", "Acme </h1><script>x()</script> GmbH")
    cli.ok("settings", "set", "company-address", "Hauptstr. 1 / 10115 Berlin")
    cli.ok("settings", "set", "quote-terms", "Payment within 14 days.\nPrices in EUR.")
    cli.ok("contact", "add", HOSTILE, "--email", "eve@example.com")
    cli.ok("product", "add", "Pro </td> licence", "--price", "120", "--sku", "PRO-1",
           "--unit", "licence", "--tax-rate", "19%")  # fmt: skip
    cli.ok("product", "add", "Setup", "--price", "499.99", "--sku", "SET", "--tax-rate", "7.5%")
    cli.ok("deal", "add", "eve", "Licences")
    cli.ok("deal", "item", "add", "1", "PRO-1", "--qty", "50", "--discount", "10%")
    cli.ok("deal", "item", "add", "1", "SET")


def test_the_quote_html_keeps_hostile_names_as_text(cli: Runner, tmp_path: Path) -> None:
    _setup(cli)
    out = tmp_path / "q.html"
    said = cli.ok("quote", "1", "-o", str(out)).stdout
    assert said == (
        f"Quote Q-2026-0001 for deal #1: 6,963.49 EUR, valid until 2026-12-23; written to {out}\n"
    )
    page = _parse(out.read_text(encoding="utf-8"))
    # no element came from the data: only the template's own
    assert "script" not in page.tags and "img" not in page.tags
    text = "".join(page.text)
    assert HOSTILE in text
    assert "Acme </h1><script>x()</script> GmbH" in text
    items = [r for r in page.rows if r and r[0] in ("1", "2")]
    assert [[c.strip() for c in r[:3]] for r in items] == [
        ["1", "Pro </td> licence", "(PRO-1)"], ["2", "Setup", "(SET)"],
    ]  # fmt: skip
    assert "Tax 7.5% on 499.99" in text and "Tax 19% on 5,400.00" in text
    assert ["Total EUR", "6,963.49"] in page.rows
    assert "Valid until" in text and "2026-12-23" in text
    assert "Payment within 14 days.\nPrices in EUR." in text
    assert "@media print" in page.style and "@page" in page.style


def test_a_stored_quote_renders_the_same_later(cli: Runner, tmp_path: Path) -> None:
    _setup(cli)
    first = cli.ok("quote", "1").stdout
    # the deal, the catalogue and the settings change after the quote went out
    cli.ok("deal", "item", "edit", "1", "1", "--qty", "5")
    cli.ok("product", "edit", "SET", "--name", "Onboarding")
    cli.ok("settings", "set", "company-name", "Other name")
    assert cli.ok("quote", "show", "q-2026-0001").stdout == first
    second = cli.ok("quote", "1", "--valid-for", "2w", "--format", "md").stdout
    assert "Other name" in second and "Onboarding" in second
    listed = cli.ok("quote", "list", "1", "--json").json()
    assert [(q["number"], q["total"], q["valid_until"], q["lines"]) for q in listed] == [
        ("Q-2026-0001", "6963.49", "2026-12-23", 2),
        ("Q-2026-0002", "1180.09", "2026-12-07", 2),
    ]
    # the history of the deal names each quote
    history = cli.ok("history", "deal:1", "--json").json()
    assert [h["changes"]["quote"][1] for h in history if h["action"] == "quote"] == [
        "Q-2026-0002", "Q-2026-0001",
    ]  # fmt: skip


def test_the_markdown_escapes_what_people_typed(cli: Runner) -> None:
    _setup(cli)
    md = cli.ok("quote", "1", "--format", "md").stdout
    assert 'Eve \\<img src=x onerror="alert(1)"\\> \\& "Co"  ' in md
    assert "| 1 | Pro \\</td\\> licence (PRO-1) | 50 licence | 120.00 | 600.00 (10%) | 19% |" in md
    assert "**Total: 6,963.49 EUR**" in md


def test_quotes_refuse_what_they_cant_use(cli: Runner, tmp_path: Path) -> None:
    _setup(cli)
    cli.ok("deal", "add", "eve", "Empty")
    for args, code, said in [
        (("2",), 2, "Error: deal #2 Empty has no items to quote: add them with"
         " tinycrm deal item add 2 PRODUCT --qty N\n"),
        (("1", "--format", "pdf"), 2, "Error: --format must be html or md: 'pdf'\n"),
        (("1", "--valid-for", "4h"), 2, "Error: --valid-for is a number of days or weeks: '4h'\n"),
        (("9",), 1, "Error: no deal with id 9\n"),
    ]:  # fmt: skip
        r = cli("quote", *args)
        assert (r.exit_code, r.stderr) == (code, said), args
    taken = tmp_path / "taken.html"
    taken.write_text("mine")
    r = cli("quote", "1", "-o", str(taken))
    assert (r.exit_code, r.stderr) == (
        2, f"Error: {taken} already exists; pass --force to overwrite it\n",
    )  # fmt: skip
    assert taken.read_text() == "mine"
    # nothing was issued: the first quote that is made is number 1
    assert cli.ok("quote", "list", "1", "--json").json() == []
    assert cli.ok("quote", "1", "--json").json()["number"] == "Q-2026-0001"
    r = cli("quote", "show", "Q-2026-0099")
    assert (r.exit_code, r.stderr) == (
        1, "Error: no quote numbered 'Q-2026-0099' (see tinycrm quote list DEAL)\n",
    )  # fmt: skip


def test_export_person_holds_their_quotes_and_forget_erases_them(cli: Runner, store: str) -> None:
    from tinycrm.store.open import open_store

    cli.ok("contact", "add", "Ann Lee", "-e", "ann@acme.com")
    db = open_store(store)
    with db.write():
        db.execute(
            "INSERT INTO contact_methods (contact_id, kind, value, value_key, position)"
            " VALUES (1, 'address', 'Rosenweg 9; 10115 Berlin', 'rosenweg 9; 10115 berlin', 0)"
        )
    db.close()
    cli.ok("product", "add", "Tea", "--price", "12", "--sku", "TEA")
    cli.ok("deal", "add", "ann", "Tea for the office")
    cli.ok("deal", "item", "add", "1", "TEA", "--qty", "10")
    cli.ok("quote", "1")
    cli.ok("purchase", "add", "ann", "24", "--product", "TEA", "--qty", "2")
    exported = cli.ok("export", "person", "ann").json()
    (quote,) = exported["quotes"]
    assert (quote["number"], quote["total"], quote["content"]["customer"]) == (
        "Q-2026-0001", "120.00", "Ann Lee",
    )  # fmt: skip
    assert quote["content"]["customer_address"] == ["Rosenweg 9", "10115 Berlin"]
    assert quote["content"]["customer_email"] == "ann@acme.com"
    (bought,) = exported["purchases"]
    assert (bought["product_sku"], bought["quantity"]) == ("TEA", 2)

    cli.ok("forget", "ann", "--yes")
    page = cli.ok("quote", "show", "Q-2026-0001").stdout
    for trace in ("Ann", "Lee", "acme", "Rosenweg", "10115"):
        assert trace not in page, trace
    assert "(erased)" in page and "Tea" in page and "120.00" in page
    db = open_store(store)
    try:
        stored = " ".join(
            str(r) for t in ("quotes", "row_changes") for r in db.all(f"SELECT * FROM {t}")
        )
    finally:
        db.close()
    for trace in ("Ann Lee", "ann@acme.com", "Rosenweg"):
        assert trace not in stored, trace


def test_quote_settings_are_checked_and_used(cli: Runner) -> None:
    _setup(cli)
    for key, value, said in [
        ("quote-valid-for", "0d", "Error: quote-valid-for is between 1d and 3650d: '0d'\n"),
        ("quote-valid-for", "soon", "Error: can't read duration 'soon': try 3d, 2w, 4h, 30m,"
         " 90s or 1d12h\n"),
        ("company-name", "x" * 201, "Error: a name or address line is at most 200 characters\n"),
    ]:  # fmt: skip
        r = cli("settings", "set", key, value)
        assert (r.exit_code, r.stderr) == (2, said), key
    cli.ok("settings", "set", "quote-valid-for", "2w")
    cli.ok("settings", "set", "company-email", "sales@acme.example")
    q = cli.ok("quote", "1", "--json").json()
    assert (q["valid_until"], q["content"]["seller_email"]) == (
        "2026-12-07", "sales@acme.example",
    )  # fmt: skip
    assert q["content"]["seller_address"] == ["Hauptstr. 1", "10115 Berlin"]


def test_a_restore_never_hands_out_a_quote_number_again(
    cli: Runner, store: str, tmp_path: Path
) -> None:
    import shutil

    import pytest

    if "://" in store and any(shutil.which(t) is None for t in ("pg_dump", "psql")):
        pytest.skip("PostgreSQL backups need pg_dump and psql on PATH (postgresql-client)")
    _setup(cli)
    cli.ok("quote", "1", "--json")
    file = tmp_path / "crm.backup"
    cli.ok("backup", str(file))
    assert cli.ok("quote", "1", "--json").json()["number"] == "Q-2026-0002"  # sent, then lost
    cli.ok("restore", str(file), "--force")
    assert [q["number"] for q in cli.ok("quote", "list", "1", "--json").json()] == ["Q-2026-0001"]
    assert cli.ok("quote", "1", "--json").json()["number"] == "Q-2026-0003"
