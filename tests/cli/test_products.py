"""The catalogue and line items on deals (#22) through the real command line, on SQLite
and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import Runner


def _deal(cli: Runner, ref: str = "1") -> Any:
    return cli.ok("deal", "show", ref, "--json").json()


def _catalogue(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("product", "add", "Pro licence", "--price", "120", "--sku", "PRO-1",
           "--unit", "licence", "--tax-rate", "19%")  # fmt: skip
    cli.ok("product", "add", "Setup", "--price", "499.99", "--sku", "SET", "--tax-rate", "7.5%")
    cli.ok("product", "add", "Training day", "--price", "800")


def test_the_catalogue(cli: Runner) -> None:
    _catalogue(cli)
    rows = cli.ok("product", "list", "--json").json()
    assert [(p["sku"], p["name"], p["price"], p["tax_bp"]) for p in rows] == [
        ("PRO-1", "Pro licence", "120.00", 1900),
        ("SET", "Setup", "499.99", 750),
        (None, "Training day", "800.00", 0),
    ]
    # by SKU in any case, by name, by a unique prefix, by id
    for ref in ("pro-1", "Pro licence", "pro l", "#1"):
        assert cli.ok("product", "show", ref, "--json").json()["sku"] == "PRO-1"
    r = cli("product", "show", "nothing")
    assert (r.exit_code, r.stderr) == (
        1, "Error: no product matches 'nothing' (see tinycrm product list)\n",
    )  # fmt: skip
    out = cli.ok("product", "edit", "SET", "--price", "450", "--name", "Onboarding", "--json")
    assert (out.json()["price"], out.json()["name"], out.json()["version"]) == (
        "450.00", "Onboarding", 2,
    )  # fmt: skip
    # nobody has it on a deal: rm deletes it
    assert cli.ok("product", "rm", "Training").stdout == "Deleted product #3 Training day\n"
    assert len(cli.ok("product", "list", "--json").json()) == 2


def test_skus_and_names_are_unique_ignoring_case(cli: Runner) -> None:
    _catalogue(cli)
    r = cli("product", "add", "Other", "--price", "1", "--sku", "pro-1")
    assert (r.exit_code, r.stderr) == (
        1, "Error: SKU 'pro-1' is taken by product #1 Pro licence\n",
    )  # fmt: skip
    r = cli("product", "add", "SETUP", "--price", "1")
    assert r.exit_code == 1 and r.stderr == ("Error: a product named 'SETUP' already exists (#2)\n")
    r = cli("product", "edit", "SET", "--sku", "PRO-1")
    assert r.exit_code == 1 and "taken by product #1" in r.stderr


def test_bad_product_input_is_one_line_and_exit_2(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong")
    for args, said in [
        (("--price", "-5"), "Error: --price can't be negative: '-5'\n"),
        (("--price", "ten"), "Error: --price is not a number: 'ten' (try 1234.50)\n"),
        (("--price", "5", "--tax-rate", "120%"),
         "Error: --tax-rate can't be more than 100%: '120%'\n"),
        (("--price", "5", "--sku", "A B"),
         "Error: a SKU is one word of at most 64 characters: 'A B'\n"),
        (("--price", "5", "--sku", "42"),
         "Error: a SKU needs a letter (a number names a product by id): '42'\n"),
    ]:  # fmt: skip
        r = cli("product", "add", "Thing", *args)
        assert (r.exit_code, r.stderr) == (2, said), args
    assert cli.ok("product", "list", "--json").json() == []


def test_a_deal_takes_its_value_from_its_items(cli: Runner) -> None:
    _catalogue(cli)
    cli.ok("deal", "add", "alice", "Licences", "--value", "1000")
    cli.ok("deal", "item", "add", "1", "PRO-1", "--qty", "50", "--discount", "10%")
    cli.ok("deal", "item", "add", "1", "SET")
    cli.ok("deal", "item", "add", "1", "training", "--qty", "3", "--price", "700",
           "--discount", "15.50")  # fmt: skip
    d = _deal(cli)
    lines = d["lines"]
    assert [(i["line"], i["sku"], i["quantity"], i["price"], i["discount"], i["net"])
            for i in lines["items"]] == [
        (1, "PRO-1", 50, "120.00", "600.00", "5400.00"),
        (2, "SET", 1, "499.99", "0.00", "499.99"),
        (3, None, 3, "700.00", "15.50", "2084.50"),
    ]  # fmt: skip
    # 499.99 × 7.5% = 37.49925, half-up to 37.50; 5400 × 19% = 1026
    assert [(t["rate_bp"], t["base"], t["tax"]) for t in lines["taxes"]] == [
        (750, "499.99", "37.50"), (1900, "5400.00", "1026.00"),
    ]  # fmt: skip
    assert (lines["net"], lines["tax"], lines["total"]) == ("7984.49", "1063.50", "9047.99")
    assert (d["value"], d["version"]) == ("7984.49", 4)
    shown = cli.ok("deal", "show", "1").stdout
    assert "value\t7,984.49 EUR (from 3 items)" in shown
    assert "tax 7.5%\t37.50 EUR" in shown and "total\t9,047.99 EUR" in shown

    cli.ok("deal", "item", "edit", "1", "1", "--qty", "10", "--no-discount")
    cli.ok("deal", "item", "rm", "1", "2")
    d = _deal(cli)
    assert [i["sku"] for i in d["lines"]["items"]] == ["PRO-1", None]
    assert d["value"] == "3284.50"  # 1200 + 2084.50
    # the value can't be typed over the items
    r = cli("deal", "edit", "1", "--value", "5")
    assert r.exit_code == 2
    assert r.stderr == (
        "Error: deal #1 Licences takes its value from its 2 items:"
        " change them with tinycrm deal item edit 1 LINE\n"
    )
    # the history names each line's change
    history = cli.ok("history", "deal:1", "--json").json()
    assert history[0]["changes"] == {
        "line 2": ["1 × SET Setup at 499.99 EUR", None], "value": ["3784.49", "3284.50"],
    }  # fmt: skip
    # the last line's going leaves the value, typed again
    cli.ok("deal", "item", "rm", "1", "1")
    cli.ok("deal", "item", "rm", "1", "1")
    assert (_deal(cli)["value"], _deal(cli)["lines"]["items"]) == ("2084.50", [])
    cli.ok("deal", "edit", "1", "--value", "99")


def test_bad_item_input_changes_nothing(cli: Runner) -> None:
    _catalogue(cli)
    cli.ok("deal", "add", "alice", "Licences", "--currency", "USD")
    cli.ok("deal", "add", "alice", "Other")
    cli.ok("deal", "item", "add", "2", "PRO-1", "--qty", "2")
    before = _deal(cli, "2")
    for args, code, said in [
        (("1", "PRO-1"), 2, "product PRO-1 Pro licence is priced in EUR and deal #1 is in USD:"
         " give --price in USD"),
        (("2", "PRO-1", "--discount", "300"), 2,
         "the discount (300.00) is more than the line (120.00)"),
        (("2", "PRO-1", "--discount", "0%"), 2, "--discount must be more than 0%: '0%'"),
        (("2", "PRO-1", "--qty", "0"), 2, "Invalid value for '--qty' / '-q'"),
        (("2", "nope"), 1, "no product matches 'nope'"),
        (("9", "PRO-1"), 2, "no deal with id 9"),
    ]:  # fmt: skip
        r = cli("deal", "item", "add", *args)
        assert r.exit_code == code and said in r.stderr, (args, r.stderr)
        assert r.stderr.count("\n") == 1
    r = cli("deal", "item", "edit", "2", "3", "--qty", "1")
    assert (r.exit_code, r.stderr) == (2, "Error: deal #2 has no line 3: its lines are 1 to 1\n")
    assert _deal(cli, "2") == before
    # a product priced otherwise goes on with a price in the deal's currency
    cli.ok("deal", "item", "add", "1", "PRO-1", "--price", "$130")
    assert _deal(cli)["value"] == "130.00"


def test_a_won_deal_becomes_purchases_once_and_undo_takes_them_back(cli: Runner) -> None:
    _catalogue(cli)
    cli.ok("deal", "add", "alice", "Licences")
    cli.ok("deal", "item", "add", "1", "PRO-1", "--qty", "5")
    cli.ok("deal", "item", "add", "1", "SET", "--discount", "99.99")
    out = cli.ok("deal", "won", "1").stdout
    assert out == (
        "Won deal #1 Licences — Won, 1,000.00 EUR\n"
        "Recorded 2 purchases of its items by Alice Wong\n"
    )
    bought = cli.ok("purchase", "list", "--json").json()
    assert sorted((p["product"], p["quantity"], p["amount"]) for p in bought) == [
        ("PRO-1", 5, "600.00"), ("SET", 1, "400.00"),
    ]  # fmt: skip
    # items don't change on a closed deal
    r = cli("deal", "item", "add", "1", "SET")
    assert r.exit_code == 2 and "is won: reopen it" in r.stderr
    # won again after a reopen: no second set of purchases
    cli.ok("deal", "reopen", "1")
    assert cli.ok("deal", "won", "1").stdout == "Won deal #1 Licences — Won, 1,000.00 EUR\n"
    assert len(cli.ok("purchase", "list", "--json").json()) == 2
    cli.ok("undo")  # the second win
    cli.ok("undo")  # the reopen
    cli.ok("undo")  # the first win, with the purchases it made
    assert cli.ok("purchase", "list", "--json").json() == []
    assert _deal(cli)["status"] == "open"
    # sold products are archived, not deleted; the archive keeps them off new deals
    cli.ok("deal", "won", "1")
    out = cli.ok("product", "rm", "PRO-1", "--json").json()
    assert out["archived"]["sku"] == "PRO-1" and out["archived"]["archived_at"]
    assert [p["sku"] for p in cli.ok("product", "list", "--json").json()] == ["SET", None]
    assert len(cli.ok("product", "list", "--all", "--json").json()) == 3
    cli.ok("deal", "add", "alice", "More")
    r = cli("deal", "item", "add", "2", "PRO-1")
    assert r.exit_code == 2 and "is archived (tinycrm product edit PRO-1 --restore)" in r.stderr
    cli.ok("product", "edit", "PRO-1", "--restore")
    cli.ok("deal", "item", "add", "2", "PRO-1")
    # deleting the won deal leaves its purchases: bought is bought
    cli.ok("deal", "rm", "1", "--yes")
    assert len(cli.ok("purchase", "list", "--json").json()) == 2


def test_purchases_name_products_by_hand_and_by_import(cli: Runner, tmp_path: Path) -> None:
    _catalogue(cli)
    out = cli.ok("purchase", "add", "alice", "240", "--product", "PRO-1", "--qty", "2").stdout
    assert out == "Purchase #1: Alice Wong bought 2 × PRO-1 for 240.00 EUR on 2026-11-23\n"
    r = cli("purchase", "add", "alice", "10", "--qty", "2")
    assert (r.exit_code, r.stderr) == (
        2, "Error: --qty says how many of a product: give --product too\n",
    )  # fmt: skip
    out = cli.ok("purchase", "edit", "1", "--product", "SET", "--qty", "3").stdout
    assert out == "Updated purchase #1: Alice Wong bought 3 × SET for 240.00 EUR on 2026-11-23\n"
    cli.ok("purchase", "edit", "1", "--product", "")
    r = cli("purchase", "edit", "1", "--qty", "2")
    assert (r.exit_code, r.stderr) == (
        2, "Error: --qty says how many of a product: give --product too\n",
    )  # fmt: skip
    cli.ok("purchase", "edit", "1", "--product", "PRO-1", "--qty", "2")
    r = cli("purchase", "add", "alice", "10", "--product", "nope")
    assert r.exit_code == 1 and r.stderr == (
        "Error: no product matches 'nope' (see tinycrm product list)\n"
    )
    f = tmp_path / "orders.csv"
    f.write_text(
        "Customer,Order date,Total,Article number,Qty,Product\n"
        "Alice Wong,2026-11-01,999.98,SET,2,the onboarding\n"
        "Bob Stone,2026-11-02,800,Training day,,\n"
        "Alice Wong,2026-11-03,15,,,shipping\n",
        encoding="utf-8",
    )
    summary = cli.ok("import", "purchases", str(f), "--create-missing", "--json").json()
    assert (summary["imported"], summary["source"]["columns"]["sku"]) == (3, "Article number")
    bought = cli.ok("purchase", "list", "--json").json()
    assert sorted(
        (p["contact"], p["product"] or "", p["quantity"] or 0, p["note"] or "") for p in bought
    ) == [
        ("Alice Wong", "", 0, "shipping"),
        ("Alice Wong", "PRO-1", 2, ""),
        ("Alice Wong", "SET", 2, "the onboarding"),
        ("Bob Stone", "Training day", 1, ""),
    ]
    # the export names the product, as the import reads it back
    exported = cli.ok("export", "purchases", "-f", "json").json()
    assert sorted((p["sku"] or "", p["quantity"] or 0) for p in exported) == [
        ("", 0), ("PRO-1", 2), ("SET", 2), ("Training day", 1),
    ]  # fmt: skip
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "email,date,amount,sku,quantity\nx@y.example,2026-11-01,5,NOPE,1\n"
        "x@y.example,2026-11-01,5,SET,two\n",
        encoding="utf-8",
    )
    r = cli("import", "purchases", str(bad), "--create-missing")
    assert r.exit_code == 2
    assert r.stderr.startswith(
        f"Error: {bad} line 2, field sku: no product matches 'NOPE' (see tinycrm product list)"
    )
    assert len(cli.ok("purchase", "list", "--json").json()) == 4


def test_the_products_report(cli: Runner) -> None:
    _catalogue(cli)
    cli.ok("contact", "add", "Bob Stone")
    for who, amount, sku, qty, when in [
        ("alice", "240", "PRO-1", "2", "2026-11-01"),
        ("bob", "120", "PRO-1", "1", "2026-11-02"),
        ("bob", "-120", "PRO-1", "1", "2026-11-03"),  # a refund gives one back
        ("bob", "499.99", "SET", "1", "2026-10-01"),
        ("alice", "99", "SET", "1", "2026-01-01"),  # before the period
        ("alice", "$50", "SET", "1", "2026-11-05"),  # another currency
    ]:  # fmt: skip
        cli.ok("purchase", "add", who, amount, "--product", sku, "--qty", qty, "--date", when)
    cli.ok("purchase", "add", "alice", "30", "--date", "2026-11-06")
    r = cli.ok("report", "products", "--json").json()
    assert (r["since"], r["until"], r["currency"]) == ("2026-08-26", "2026-11-23", "EUR")
    assert [(x["sku"], x["units"], x["revenue"], x["customers"], x["lines"])
            for x in r["products"]] == [
        ("SET", 2, "499.99", 2, 2),
        ("PRO-1", 2, "240.00", 2, 3),
    ]  # fmt: skip
    assert (r["revenue"], r["without_product"], r["other_currencies"]) == (
        "739.99", "30.00", ["USD"],
    )  # fmt: skip
    csv = cli.ok("report", "products", "--format", "csv", "--since", "2026-11-01").stdout
    assert csv.splitlines() == [
        "sku,product,units,revenue,customers,lines,currency",
        "PRO-1,Pro licence,2,240.00,2,3,EUR",
        "SET,Setup,1,0.00,1,1,EUR",
    ]


def test_tab_completes_products_and_deals_for_items_and_quotes(cli: Runner) -> None:
    import subprocess
    import sys

    _catalogue(cli)
    cli.ok("deal", "add", "alice", "Licences")
    cli.ok("product", "rm", "Training day")  # gone: not offered

    def complete(line: str, word: str) -> list[str]:
        tinycrm = str(Path(sys.executable).parent / "tinycrm")
        done = subprocess.run(
            [tinycrm, "__complete", "bash", line, word], capture_output=True, text=True,
            check=False, timeout=60,
        )  # fmt: skip
        assert (done.returncode, done.stderr) == (0, "")
        return done.stdout.splitlines()

    assert complete("tinycrm deal item add ", "") == ["1"]
    assert complete("tinycrm deal item add 1 ", "") == ["PRO-1", "SET"]
    assert complete("tinycrm deal item add 1 s", "s") == ["SET"]
    assert complete("tinycrm purchase add alice 5 --product p", "p") == ["PRO-1"]
    assert complete("tinycrm quote ", "") == ["new", "list", "show"]
    assert complete("tinycrm quote list ", "") == ["1"]


def test_recommend_scores_co_occurrence(cli: Runner) -> None:
    _catalogue(cli)
    cli.ok("product", "add", "Support", "--price", "50", "--sku", "SUP")
    cli.ok("product", "add", "Hardware", "--price", "900", "--sku", "HW")
    for name in ("Bob Stone", "Carol Diaz", "Dan Eng", "Eve Fox"):
        cli.ok("contact", "add", name)
    for who, sku in [
        ("alice", "PRO-1"), ("bob", "PRO-1"), ("bob", "SUP"), ("bob", "SUP"),  # twice: once
        ("carol", "PRO-1"), ("carol", "SUP"), ("carol", "HW"), ("dan", "HW"), ("eve", "SET"),
    ]:  # fmt: skip
        cli.ok("purchase", "add", who, "10", "--product", sku, "--date", "2026-11-01")
    r = cli.ok("recommend", "alice", "--json").json()
    assert (r["contact"], r["bought"]) == ("Alice Wong", ["PRO-1 Pro licence"])
    # SUP: bought by 2 of PRO-1's 3 buyers and by no one else, 2/√(3·2); HW: 1/√(3·2)
    assert [(s["sku"], s["score"], s["customers"], s["because"]) for s in r["products"]] == [
        ("SUP", 0.816497, 2, ["PRO-1 Pro licence"]),
        ("HW", 0.408248, 1, ["PRO-1 Pro licence"]),
    ]
    # SET was bought, but never with PRO-1: no score, not offered
    assert [s["sku"] for s in cli.ok("recommend", "alice", "--top", "1", "--json").json()[
        "products"]] == ["SUP"]  # fmt: skip
    shown = cli.ok("recommend", "alice").stdout.splitlines()
    assert shown[0] == "SUP Support\t0.816\tPRO-1 Pro licence\t2\t50.00 EUR"
    # an archived product is not offered
    cli.ok("product", "rm", "SUP")
    assert [s["sku"] for s in cli.ok("recommend", "alice", "--json").json()["products"]] == ["HW"]
    # nothing bought from the catalogue: nothing to go on
    cli.ok("contact", "add", "Zed New")
    out = cli.ok("recommend", "zed").stdout
    assert out == "Zed New has bought no catalogue product yet: nothing to go on\n"
    # an erased customer's purchases count for nobody
    cli.ok("forget", "carol", "--yes")
    r = cli.ok("recommend", "alice", "--json").json()
    assert [(s["sku"], s["customers"]) for s in r["products"]] == []


def test_doctor_finds_and_repairs_a_deal_value_out_of_step_with_its_items(
    cli: Runner, store: str
) -> None:
    from tinycrm.store.open import open_store

    _catalogue(cli)
    cli.ok("deal", "add", "alice", "Licences")
    cli.ok("deal", "item", "add", "1", "PRO-1", "--qty", "3", "--discount", "10%")
    cli.ok("doctor")
    db = open_store(store)
    with db.write():  # a tool that wrote the value by hand
        db.execute("UPDATE deals SET value_cents = 100 WHERE id = 1")
    db.close()
    r = cli("doctor", "--json")
    assert r.exit_code == 1
    (problem,) = r.json()["problems"]
    assert (problem["check"], problem["id"], problem["detail"]) == (
        "deal values", 1, "value 1.00, its items come to 324.00",
    )  # fmt: skip
    assert cli.ok("doctor", "--repair", "--json").json()["repaired"] == 1
    assert cli.ok("deal", "show", "1", "--json").json()["value"] == "324.00"
