"""Money leaves the CLI as it always did, now that services hand it over typed.

The JSON contract (docs/cli.md): money is a decimal string, its currency a field of its
own. CSV (`--format csv`, `export`) writes the same string; a table for people shows
'1,234.56 USD'. These check the exact text on both backends.
"""

from __future__ import annotations

import csv
import io
import json

from tests.conftest import Runner
from tinycrm.cli.output import to_jsonable
from tinycrm.io.exports import csv_cell, jsonable
from tinycrm.money import Money


def test_every_encoder_writes_money_as_a_decimal_string() -> None:
    amounts = [Money(0, "EUR"), Money(5, "EUR"), Money(123456789, "JPY")]
    assert [to_jsonable(m) for m in amounts] == ["0.00", "0.05", "1234567.89"]
    assert [jsonable(m) for m in amounts] == ["0.00", "0.05", "1234567.89"]
    assert [csv_cell(m) for m in amounts] == ["0.00", "0.05", "1234567.89"]
    assert to_jsonable({"EUR": Money(1005, "EUR")}) == {"EUR": "10.05"}


def test_deal_json_keeps_decimal_strings(cli: Runner) -> None:
    cli.ok("contact", "add", "Ann Lee")
    out = cli.ok("deal", "add", "ann", "Big", "--value", "1,234.56", "--currency", "USD", "--json")
    d = json.loads(out.stdout)
    assert (d["value"], d["value_cents"], d["currency"], d["weighted"]) == (
        "1234.56",
        123456,
        "USD",
        "123.46",  # the Lead stage's 10 %, rounded half-up
    )
    assert '"value": "1234.56",\n  "value_cents": 123456,' in out.stdout
    shown = cli.ok("deal", "show", str(d["id"]))
    assert "value\t1,234.56 USD\n" in shown.stdout
    assert "weighted\t123.46 USD\n" in shown.stdout


def test_purchase_and_rank_outputs(cli: Runner) -> None:
    cli.ok("contact", "add", "Ann Lee")
    bought = cli.ok("purchase", "add", "ann", "1200.5", "--date", "2026-11-01", "--json").json()
    assert (bought["amount"], bought["amount_cents"]) == ("1200.50", 120050)
    assert cli.ok("purchase", "list", "--json").json()[0]["amount"] == "1200.50"
    ranked = cli.ok("rank", "--json").json()
    assert ranked["summary"]["revenue"] == "1200.50"
    assert ranked["customers"][0]["monetary"] == "1200.50"
    rows = cli.ok("rank", "--format", "csv").stdout
    header, first = rows.split("\r\n")[:2]
    cells = dict(zip(header.split(","), first.split(","), strict=True))
    assert cells["monetary"] == "1200.50"
    assert cells["clv"].count(".") == 1 and cells["clv"].replace(".", "").isdigit()
    piped = cli.ok("rank").stdout.splitlines()[0].split("\t")
    assert "1200.50" in piped


def test_exported_money_is_the_decimal_string(cli: Runner) -> None:
    cli.ok("contact", "add", "Ann Lee", "-e", "ann@acme.test")
    cli.ok("deal", "add", "ann", "Big", "--value", "99.9")
    cli.ok("purchase", "add", "ann", "10.05", "--date", "2026-11-01", "--currency", "GBP")
    deals = json.loads(cli.ok("export", "deals", "--format", "json").stdout)
    assert (deals[0]["value"], deals[0]["currency"]) == ("99.90", "EUR")
    bought = cli.ok("export", "purchases").stdout
    [row] = list(csv.DictReader(io.StringIO(bought)))
    assert (row["amount"], row["currency"]) == ("10.05", "GBP")
