"""Issue #14, what people type: one duplicate rule for `contact add` and `import contacts`,
currency marks on typed amounts, a mistyped store that is never created, and who may
write to a team (PostgreSQL) store. Through the real command line, on both backends."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import PG_URL, Result, Runner, _pg_admin_url
from tests.crash import pg_snapshot, snapshot
from tinycrm.store.open import open_store


def rows(store: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the store, on either backend."""
    return pg_snapshot(store) if "://" in store else snapshot(store)


def value(store: str, sql: str) -> Any:
    db = open_store(store, create=False)
    try:
        return db.value(sql)
    finally:
        db.close()


def one_error_line(r: Any, code: int) -> str:
    """The result failed with one `Error: ...` line and exit `code`; that line."""
    assert r.exit_code == code, (r.exit_code, r.stdout, r.stderr)
    assert r.stdout == ""
    assert r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1, r.stderr
    assert "Traceback" not in r.stderr
    return str(r.stderr)


# -- item 3: one rule decides "same person" --------------------------------------------------
# (stored contact, new details, whether they are one person). A shared email or phone makes
# one person; the same name only when one side has no email or phone; a similar name never.
SAME_PERSON = [
    pytest.param(
        ("John Smith", "john@a.example", ""),
        ("Jon Smith", "jon@b.example", ""),
        False,
        id="similar-name-other-email",
    ),  # fmt: skip
    pytest.param(("John Smith", "", ""), ("Jon Smith", "", ""), False, id="similar-name-alone"),
    pytest.param(
        ("John Smith", "john@a.example", ""),
        ("John Smith", "john@b.example", ""),
        False,
        id="same-name-other-email",
    ),  # fmt: skip
    pytest.param(
        ("John Smith", "john@a.example", ""),
        ("Smith, John", "", ""),
        True,
        id="same-name-one-without-address",
    ),  # fmt: skip
    pytest.param(
        ("John Smith", "john@a.example", ""),
        ("J. Smith", "JOHN@a.example", ""),
        True,
        id="same-email",
    ),  # fmt: skip
    pytest.param(
        ("John Smith", "", "+44 20 7946 0958"),
        ("Johnny", "", "+442079460958"),
        True,
        id="same-phone",
    ),  # fmt: skip
    pytest.param(
        ("John Smith", "john@a.example", ""),
        ("Jon Smith", "", "+44 20 7946 0958"),
        False,
        id="similar-name-with-a-phone",
    ),  # fmt: skip
]


def _add_args(name: str, email: str, phone: str) -> list[str]:
    return [name, *(["-e", email] if email else []), *(["-p", phone] if phone else [])]


def _contacts(store: str) -> int:
    return int(value(store, "SELECT count(*) FROM contacts"))


@pytest.mark.parametrize(("stored", "new", "same"), SAME_PERSON)
def test_contact_add_merges_only_the_same_person(
    cli: Runner, store: str, stored: tuple[str, str, str], new: tuple[str, str, str], same: bool
) -> None:
    cli.ok("contact", "add", *_add_args(*stored))
    r = cli.ok("contact", "add", *_add_args(*new), "--on-duplicate", "merge")
    assert _contacts(store) == (1 if same else 2), r.stdout
    merged = ("Merged into contact #1 ", "Contact #1 John Smith already has all of that")
    assert r.stdout.startswith(merged if same else ("Added contact #2",)), r.stdout
    if not same:  # the look-alike is named, never merged into
        assert "#1 John Smith" in r.stdout


@pytest.mark.parametrize(("stored", "new", "same"), SAME_PERSON)
def test_contact_add_skips_only_the_same_person(
    cli: Runner, store: str, stored: tuple[str, str, str], new: tuple[str, str, str], same: bool
) -> None:
    cli.ok("contact", "add", *_add_args(*stored))
    r = cli.ok("contact", "add", *_add_args(*new), "--on-duplicate", "skip")
    assert _contacts(store) == (1 if same else 2), r.stdout
    assert r.stdout.startswith("Skipped:" if same else "Added contact #2"), r.stdout


@pytest.mark.parametrize(("stored", "new", "same"), SAME_PERSON)
def test_import_merges_only_the_same_person(
    cli: Runner,
    store: str,
    tmp_path: Path,
    stored: tuple[str, str, str],
    new: tuple[str, str, str],
    same: bool,
) -> None:
    cli.ok("contact", "add", *_add_args(*stored))
    name, email, phone = new
    path = tmp_path / "new.csv"
    path.write_text(f'name,email,phone\n"{name}",{email},{phone}\n', encoding="utf-8")
    s = cli.ok("import", "contacts", str(path), "--on-duplicate", "merge", "--json").json()
    assert _contacts(store) == (1 if same else 2)
    assert (s["merged"], s["created"]) == ((1, 0) if same else (0, 1))


def test_a_look_alike_is_still_asked_about_off_a_terminal(cli: Runner, store: str) -> None:
    cli.ok("contact", "add", "John Smith", "-e", "john@a.example")
    before = rows(store)
    r = cli("contact", "add", "Jon Smith", "-e", "jon@b.example")
    line = one_error_line(r, 1)
    assert "#1 John Smith (similar name" in line and "--on-duplicate" in line
    assert rows(store) == before


def test_merge_with_several_people_sharing_keys_refuses(cli: Runner, store: str) -> None:
    cli.ok("contact", "add", "Ann Lee", "-e", "ann@a.example")
    cli.ok("contact", "add", "Bo Chan", "-p", "+44 20 7946 0958")
    before = rows(store)
    r = cli("contact", "add", "X", "-e", "ann@a.example", "-p", "+442079460958",
            "--on-duplicate", "merge")  # fmt: skip
    assert "several contacts look like 'X'" in one_error_line(r, 2)
    assert rows(store) == before


# -- item 9: currency marks on typed amounts -----------------------------------------------------
@pytest.fixture
def settings(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = home.parent / "settings.toml"
    monkeypatch.setenv("TINYCRM_SETTINGS", str(path))
    yield path


# (store currency, what is typed, --currency, the purchase recorded or the error's words)
AMOUNTS: list[tuple[str, str, str | None, Any]] = [
    ("EUR", "$5", None, ("5.00", "USD")),
    ("EUR", "5 usd", None, ("5.00", "USD")),
    ("EUR", "USD 5", None, ("5.00", "USD")),
    ("EUR", "usd5.5", None, ("5.50", "USD")),
    ("EUR", "€5", None, ("5.00", "EUR")),
    ("EUR", "5€", None, ("5.00", "EUR")),
    ("EUR", "1.234,50 €", None, ("1234.50", "EUR")),
    ("EUR", "£5", None, ("5.00", "GBP")),
    ("EUR", "5", None, ("5.00", "EUR")),
    ("EUR", "5", "usd", ("5.00", "USD")),
    ("EUR", "$5", "USD", ("5.00", "USD")),
    ("EUR", "¥500", "JPY", ("500.00", "JPY")),
    ("CNY", "¥500", None, ("500.00", "CNY")),
    ("JPY", "¥500", None, ("500.00", "JPY")),
    ("JPY", "￥500", None, ("500.00", "JPY")),
    ("SEK", "5 kr", None, ("5.00", "SEK")),
    ("CAD", "$5", None, ("5.00", "CAD")),
    ("CAD", "US$5", None, ("5.00", "USD")),
    ("EUR", "1€2", None, "currency mark inside the number"),
    ("EUR", "5$3", None, "currency mark inside the number"),
    ("EUR", "€5€", None, "two currency marks"),
    ("EUR", "$5", "EUR", "says USD, but --currency is EUR"),
    ("EUR", "€5", "GBP", "says EUR, but --currency is GBP"),
    ("EUR", "¥500", None, "JPY or CNY"),
    ("EUR", "5 kr", None, "DKK, ISK, NOK or SEK"),
    ("EUR", "¥500", "EUR", "says JPY or CNY, but --currency is EUR"),
    ("EUR", "5 abc", None, "not a currency"),
    ("EUR", "5", "XYZ", "not a currency"),
    ("EUR", "-€5", None, "can't be negative"),
]
# a purchase may be negative: a refund (docs/value.md); a deal's value may not
REFUNDS: list[tuple[str, str, str | None, Any]] = [
    ("EUR", "-€5", None, ("-5.00", "EUR")),
    ("EUR", "€-5", None, ("-5.00", "EUR")),
    ("EUR", "-0", None, "minus zero"),
]


@pytest.mark.parametrize(
    ("currency", "typed", "given", "expected"), [a for a in AMOUNTS if a[1] != "-€5"] + REFUNDS
)
def test_purchase_add_reads_the_currency_written_with_the_amount(
    cli: Runner,
    store: str,
    settings: Path,
    currency: str,
    typed: str,
    given: str | None,
    expected: tuple[str, str] | str,
) -> None:
    settings.write_text(f'currency = "{currency}"\n', encoding="utf-8")
    cli.ok("contact", "add", "Ann Lee")
    before = rows(store)
    cur = ["--currency", given] if given else []
    r = cli("purchase", "add", *cur, "--json", "--", "ann", typed)
    if isinstance(expected, str):
        line = one_error_line(r, 2)
        assert expected in line and repr(typed if given != "XYZ" else given) in line, line
        assert rows(store) == before
    else:
        assert r.exit_code == 0, r.stderr
        p = r.json()
        assert (p["amount"], p["currency"]) == expected


@pytest.mark.parametrize(
    ("typed", "given", "expected"),
    [(a[1], a[2], a[3]) for a in AMOUNTS if a[0] == "EUR"],
)
def test_deal_values_follow_the_same_rules(
    cli: Runner, store: str, typed: str, given: str | None, expected: tuple[str, str] | str
) -> None:
    cli.ok("contact", "add", "Ann Lee")
    cli.ok("deal", "add", "ann", "Pilot", "--value", "10")
    before = rows(store)
    cur = ["--currency", given] if given else []
    added = cli("deal", "add", "ann", "Rollout", "--value", typed, *cur, "--json")
    edited = cli("deal", "edit", "Pilot", "--value", typed, *cur, "--json")
    for r in (added, edited):
        if isinstance(expected, str):
            line = one_error_line(r, 2)
            assert expected in line, line
            assert ("--currency" if given == "XYZ" else "--value") in line
        else:
            assert r.exit_code == 0, r.stderr
            d = r.json()
            assert (d["value"], d["currency"]) == expected
    if isinstance(expected, str):
        assert rows(store) == before


@given(
    st.text(alphabet="0123456789.,- $€£¥kKrRuUsSdD₿元", max_size=12),
    st.sampled_from([None, "EUR", "JPY"]),
    st.sampled_from([(), ("CNY",), ("SEK",)]),
)
def test_parse_money_only_ever_says_what_is_wrong(
    text: str, given: str | None, usual: tuple[str, ...]
) -> None:
    from tinycrm.errors import InvalidInput
    from tinycrm.money import ISO_CODES, MAX_CENTS, parse_money

    try:
        m = parse_money(text, currency=given, usual=usual)
    except InvalidInput as e:
        assert "\n" not in str(e)
        return
    assert 0 <= m.cents < MAX_CENTS
    assert m.currency is None or m.currency in ISO_CODES
    assert given is None or m.currency == given
    assert any(c.isdigit() for c in text)


def test_a_deal_edit_without_a_mark_keeps_the_deal_currency(cli: Runner, store: str) -> None:
    cli.ok("contact", "add", "Ann Lee")
    cli.ok("deal", "add", "ann", "Pilot", "--value", "¥100", "--currency", "JPY")
    d = cli.ok("deal", "edit", "Pilot", "--value", "200", "--json").json()
    assert (d["value"], d["currency"]) == ("200.00", "JPY")
    d = cli.ok("deal", "edit", "Pilot", "--value", "¥300", "--json").json()  # fits the deal
    assert (d["value"], d["currency"]) == ("300.00", "JPY")


def test_the_big_deal_threshold_setting_follows_the_same_rules(
    cli: Runner, store: str, settings: Path
) -> None:
    settings.write_text('currency = "EUR"\nbig_deal_threshold = "€10000"\n', encoding="utf-8")
    cli.ok("contact", "list")
    settings.write_text('currency = "EUR"\nbig_deal_threshold = "$10000"\n', encoding="utf-8")
    line = one_error_line(cli("contact", "list"), 2)
    assert "big_deal_threshold" in line and "USD" in line


def test_import_purchases_reads_marks_by_the_same_rules(
    cli: Runner, store: str, tmp_path: Path
) -> None:
    cli.ok("contact", "add", "Ann Lee", "-e", "ann@a.example")
    path = tmp_path / "p.csv"
    path.write_text(
        "contact,date,amount,currency\n"
        "ann@a.example,2026-01-05,$10,\n"  # 2: USD
        "ann@a.example,2026-01-06,¥500,JPY\n"  # 3: the column says which yen
        "ann@a.example,2026-01-07,¥500,\n"  # 4: which yen? refused
        "ann@a.example,2026-01-08,5 kr,\n"  # 5: which crown? refused
        "ann@a.example,2026-01-09,12 abc,\n"  # 6: not a currency
        "ann@a.example,2026-01-10,$7,EUR\n",  # 7: contradicts the column
        encoding="utf-8",
    )
    s = cli("import", "purchases", str(path), "--json", "--skip-bad")
    assert s.exit_code == 0, s.stderr
    errors = {e["line"]: e["error"] for e in s.json()["errors"]}
    assert sorted(errors) == [4, 5, 6, 7], errors
    assert "JPY or CNY" in errors[4] and "DKK, ISK, NOK or SEK" in errors[5]
    assert "not a currency" in errors[6] and "EUR, but the amount says USD" in errors[7]
    listed = cli.ok("purchase", "list", "--json").json()
    assert sorted((p["amount"], p["currency"]) for p in listed) == [
        ("10.00", "USD"),
        ("500.00", "JPY"),
    ]


def test_import_deals_reads_marks_by_the_same_rules(
    cli: Runner, store: str, tmp_path: Path
) -> None:
    path = tmp_path / "d.csv"
    path.write_text(
        "title,stage,value,currency\n"
        "A,Lead,$10,\n"  # 2: USD
        "B,Lead,¥500,JPY\n"  # 3: JPY
        "C,Lead,$7,EUR\n"  # 4: contradicts the column
        "D,Lead,1€2,\n",  # 5: a mark inside
        encoding="utf-8",
    )
    r = cli("import", "deals", str(path), "--json")
    line = one_error_line(r, 2)
    assert "line 4" in line and "says USD" in line
    path.write_text(
        "title,stage,value,currency\nA,Lead,$10,\nB,Lead,¥500,JPY\nD,Lead,1€2,\n",
        encoding="utf-8",
    )
    line = one_error_line(cli("import", "deals", str(path), "--json"), 2)
    assert "line 4" in line and "inside the number" in line
    path.write_text("title,stage,value,currency\nA,Lead,$10,\nB,Lead,¥500,JPY\n", "utf-8")
    cli.ok("import", "deals", str(path))
    deals = cli.ok("deal", "list", "--json").json()
    assert sorted((d["title"], d["value"], d["currency"]) for d in deals) == [
        ("A", "10.00", "USD"),
        ("B", "500.00", "JPY"),
    ]


def test_the_tui_purchase_form_reads_the_mark(sqlite_store: str) -> None:
    import asyncio

    from textual.widgets import Static

    from tests.tui.test_screens import settle
    from tinycrm.tui.app import TinyCRMApp
    from tinycrm.tui.data import Store
    from tinycrm.tui.screens.contact import ContactScreen
    from tinycrm.tui.screens.forms import FormModal

    Runner().ok("contact", "add", "Ann Lee")

    async def main() -> None:
        app = TinyCRMApp(Store.open(), watch=False)
        async with app.run_test(size=(100, 32)) as pilot:
            await settle(pilot)
            app.open_contact(1)
            await settle(pilot)
            assert isinstance(app.screen, ContactScreen)
            await pilot.press("p")
            await settle(pilot)
            assert isinstance(app.screen, FormModal)
            form = app.screen
            form.query_one("#amount").value = "1€2"  # type: ignore[attr-defined]
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert "inside the number" in str(form.query_one("#amount-error", Static).render())
            form.query_one("#amount").value = "$4.50"  # type: ignore[attr-defined]
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert "4.50 USD" in str(app.screen.query_one("#card", Static).render())

    asyncio.run(main())
    (p,) = Runner().ok("purchase", "list", "--json").json()
    assert (p["amount"], p["currency"]) == ("4.50", "USD")


# -- item 10: a mistyped store is never created ---------------------------------------------------
READERS = [
    ("contact", "list"),
    ("todo",),
    ("search", "acme"),
    ("export", "contacts"),
    ("tui",),
    ("contact", "add", "Ann Lee"),
    ("doctor",),
]


def _tinycrm(*args: str) -> Any:
    """The real console script in a subprocess (the app would wait for keys in-process)."""
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-m", "tinycrm", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("args", READERS, ids=lambda a: " ".join(a))
def test_a_mistyped_db_path_is_not_created(tmp_path: Path, args: tuple[str, ...]) -> None:
    missing = tmp_path / "typo" / "deeper" / "crm.db"
    if args == ("tui",):
        p = _tinycrm("--db", str(missing), *args)
        r: Any = Result(p.returncode, p.stdout, p.stderr)
    else:
        r = Runner()("--db", str(missing), *args)
    line = one_error_line(r, 1)
    assert line == (
        f"Error: no tinycrm store at {missing} (--db); create one with tinycrm init --db"
        f" {missing}\n"
    )
    assert not (tmp_path / "typo").exists()


@pytest.mark.parametrize("args", READERS[:2], ids=lambda a: " ".join(a))
def test_tinycrm_db_or_the_settings_naming_a_missing_file_is_not_created(
    tmp_path: Path, settings: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    missing = tmp_path / "gone.db"
    monkeypatch.setenv("TINYCRM_DB", str(missing))
    line = one_error_line(Runner()(*args), 1)
    assert f"no tinycrm store at {missing} (TINYCRM_DB)" in line
    monkeypatch.delenv("TINYCRM_DB")
    settings.write_text(f'db = "{missing}"\n', encoding="utf-8")
    line = one_error_line(Runner()(*args), 1)
    assert f"no tinycrm store at {missing} (db in {settings})" in line
    assert f"tinycrm init --db {missing}" in line
    assert not missing.exists()


def test_an_empty_file_is_not_a_store_to_fill(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    line = one_error_line(Runner()("--db", str(empty), "contact", "list"), 1)
    assert f"no tinycrm store at {empty} (--db)" in line
    assert empty.stat().st_size == 0


def test_the_default_store_is_still_created_on_first_use(home: Path) -> None:
    assert not home.exists()
    Runner().ok("contact", "add", "Ann Lee")
    assert (home / "tinycrm.db").is_file()
    assert Runner().ok("contact", "list").stdout.startswith("1\tAnn Lee")


def test_init_creates_a_store_anywhere_and_then_it_is_used(tmp_path: Path) -> None:
    path = tmp_path / "new" / "crm.db"
    Runner().ok("init", "--db", str(path))
    assert path.is_file()
    Runner().ok("--db", str(path), "contact", "add", "Ann Lee")
    assert Runner().ok("contact", "list").stdout.startswith("1\tAnn Lee")  # from the settings


@pytest.fixture
def empty_pg_database() -> Iterator[str]:
    """A PostgreSQL database with no tinycrm store in it, dropped afterwards."""
    if not PG_URL:
        pytest.skip("PostgreSQL tests need TINYCRM_TEST_PG_URL (CI sets it)")
    import psycopg

    name = f"tinycrm_empty_{uuid.uuid4().hex[:8]}"
    admin = _pg_admin_url(PG_URL)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.pg
def test_a_postgresql_database_without_a_store_is_not_filled(empty_pg_database: str) -> None:
    line = one_error_line(Runner()("--db", empty_pg_database, "contact", "list"), 1)
    assert f"no tinycrm store at {empty_pg_database} (--db)" in line
    assert f"tinycrm init --db {empty_pg_database}" in line
    assert _public_tables(empty_pg_database) == 0
    # init makes it a team store; its first user is whoever ran init
    Runner().ok("init", "--db", empty_pg_database)
    Runner().ok("--db", empty_pg_database, "contact", "add", "Ann Lee")
    users = Runner().ok("--db", empty_pg_database, "user", "list", "--json").json()
    assert [u["name"] for u in users] == ["sam"]


def _public_tables(url: str) -> int:
    import psycopg

    with psycopg.connect(_pg_admin_url(url)) as conn:
        row = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()
        assert row is not None
        return int(row[0])


# -- item 16: who may write ----------------------------------------------------------------------
@pytest.mark.pg
def test_an_unknown_user_cannot_write_to_a_team_store(
    pg_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = Runner()
    cli.ok("contact", "add", "Ann Lee")  # the store had no users: sam is its first
    before = rows(pg_store)
    monkeypatch.setenv("TINYCRM_USER", "mallory")
    for args in (
        ("contact", "add", "Bob Stone"),
        ("note", "ann", "hello"),
        ("user", "add", "eve"),
        ("contact", "list", "--mine"),
    ):
        line = one_error_line(cli(*args), 2)
        assert line == (
            "Error: no user called 'mallory' in this team store; someone who is one can add"
            " you with tinycrm user add mallory\n"
        ), args
    assert rows(pg_store) == before
    assert cli.ok("contact", "list").stdout.startswith("1\tAnn Lee")  # reading is fine
    assert rows(pg_store) == before
    monkeypatch.setenv("TINYCRM_USER", "sam")
    cli.ok("user", "add", "mallory")
    monkeypatch.setenv("TINYCRM_USER", "mallory")
    cli.ok("note", "ann", "hello")
    entry = cli.ok("history", "ann", "--json").json()[0]
    assert entry["user"] == "mallory"


@pytest.mark.pg
def test_init_on_a_team_store_does_not_make_up_users(pg_store: str) -> None:
    cli = Runner()
    cli.ok("init", "--db", pg_store)  # no users yet: sam is the first
    line = one_error_line(cli("init", "--db", pg_store, "--user", "boss", "--force"), 2)
    assert "no user called 'boss'" in line and "tinycrm user add boss" in line
    assert [u["name"] for u in cli.ok("user", "list", "--json").json()] == ["sam"]
    cli.ok("user", "add", "boss")
    cli.ok("init", "--db", pg_store, "--user", "boss", "--force")


def test_on_a_local_store_the_user_is_there_from_the_first_command(sqlite_store: str) -> None:
    cli = Runner()
    cli.ok("user", "add", "lea")
    r = cli.ok("user", "edit", "sam", "--lead", "lea", "--json")  # sam wrote nothing yet
    assert r.json()["lead"] == "lea"
    cli.ok("contact", "list")
    names = [u["name"] for u in cli.ok("user", "list", "--json").json()]
    assert names == ["lea", "sam"]


def test_a_local_store_signs_in_a_new_name_when_opened_not_when_read(
    sqlite_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = Runner()
    from tinycrm.cli import state
    from tinycrm.errors import InvalidInput

    monkeypatch.setenv("TINYCRM_USER", "newbie")
    cli.ok("contact", "list")  # a read: newbie is a user from the first command on
    assert value(sqlite_store, "SELECT count(*) FROM users WHERE name = 'newbie'") == 1
    ctx = state.get_ctx()
    try:
        ghost = dataclasses.replace(ctx, user_name="ghost", _user_id=None)
        with pytest.raises(InvalidInput, match="no user called 'ghost'"):
            ghost.user_id  # noqa: B018 - reading who you are never makes you a user
        assert value(sqlite_store, "SELECT count(*) FROM users WHERE name = 'ghost'") == 0
    finally:
        state.close()
