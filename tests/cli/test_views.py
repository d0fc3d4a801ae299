"""`--where`, `--view`, `--sort` and `--columns` through the real command line, and the
saved views themselves (`view save/list/rm`), on both backends."""

from __future__ import annotations

import json

import pytest

from tests.conftest import Runner


@pytest.fixture
def shop(cli: Runner) -> Runner:
    cli.ok("contact", "add", "Alice Wong", "-e", "alice@acme.com", "--tag", "vip", "-c", "Acme")
    cli.ok("contact", "add", "Bob Li", "--tag", "gold", "-c", "Beta GmbH", "--title", "CEO")
    cli.ok("contact", "add", "Cy Young", "-e", "cy@example.org")
    cli.ok("purchase", "add", "alice", "120")
    cli.ok("purchase", "add", "bob", "900")
    cli.ok("deal", "add", "alice", "50 licences", "--value", "12000", "--close", "2027-02-01")
    cli.ok("deal", "add", "bob", "Renewal", "--value", "800", "--stage", "Proposal")
    cli.ok("deal", "add", "cy", "Pilot", "--value", "3000")
    cli.ok("deal", "won", "Pilot")
    return cli


def names(r: object) -> list[str]:
    return [line.split("\t")[1] for line in str(r).splitlines() if line]


def test_contact_list_where(shop: Runner) -> None:
    out = shop.ok("contact", "list", "--where", "tag:vip or company:beta").stdout
    assert names(out) == ["Alice Wong", "Bob Li"]
    out = shop.ok("contact", "list", "-w", 'not tag:vip and created>"last month"').stdout
    assert names(out) == ["Bob Li", "Cy Young"]
    out = shop.ok("contact", "list", "--where", "spent>=500", "--json").json()
    assert [c["name"] for c in out] == ["Bob Li"]
    out = shop.ok("contact", "list", "--where", "title!=ceo", "--tag", "vip").stdout
    assert names(out) == ["Alice Wong"]


@pytest.mark.parametrize(
    ("where", "line"),
    [
        ("a = ", "Error: filter 'a = ' at column 4: expected a value\n"),
        (
            "(tag:vip",
            "Error: filter '(tag:vip' at column 9: expected ')' to close the '(' at column 1\n",
        ),
        (
            "title<3",
            "Error: filter 'title<3' at column 6: title is not a number, amount or"
            " date: use = != or :\n",
        ),
    ],
)
def test_a_bad_filter_is_one_line_and_exit_2(shop: Runner, where: str, line: str) -> None:
    r = shop("contact", "list", "--where", where)
    assert (r.exit_code, r.stdout, r.stderr) == (2, "", line)


def test_an_unknown_attribute_lists_the_known(shop: Runner) -> None:
    r = shop("deal", "list", "--where", "industry=retail")
    assert r.exit_code == 2
    assert r.stderr.startswith(
        "Error: unknown attribute 'industry' at column 1 (known: title, stage, status, value,"
    )


def test_deal_list_where_sort_and_columns(shop: Runner) -> None:
    out = shop.ok("deal", "list", "--where", "value>=1000", "--columns", "title,value").stdout
    assert out == "50 licences\t12,000.00 EUR\n"  # Pilot is won: --status open still applies
    out = shop.ok("deal", "list", "--where", "status:won", "--columns", "title,status").stdout
    assert out == "Pilot\twon\n"
    out = shop.ok(
        "deal",
        "list",
        "--status",
        "all",
        "--where",
        "value<5000",
        "--sort",
        "value",
        "--columns",
        "title",
    ).stdout
    assert out == "Pilot\nRenewal\n"
    out = shop.ok(
        "deal", "list", "--where", "stage:proposal or close<2027-03-01", "--columns", "title"
    ).stdout
    assert out == "50 licences\nRenewal\n"
    r = shop("deal", "list", "--sort", "biggest")
    assert (r.exit_code, r.stderr) == (
        2,
        "Error: deals sort by stage, value, close, newest, title, not 'biggest'\n",
    )


def test_company_list_where(shop: Runner) -> None:
    out = shop.ok("company", "list", "--where", "tag:gold", "--columns", "name,contacts").stdout
    assert out == "Beta GmbH\t1\n"
    out = shop.ok("company", "list", "--where", "open-deals>0 and not name:acme").stdout
    assert out == "2\tBeta GmbH\t\t1\t1\n"  # a deal with a contact is their company's too


def test_views_save_use_list_replace_and_remove(shop: Runner) -> None:
    r = shop.ok(
        "view",
        "save",
        "Top buyers",
        "--where",
        "spent>100",
        "--sort",
        "name-desc",
        "--columns",
        "name,tags",
    )
    assert (
        r.stdout
        == "Saved view 'Top buyers' of contacts: tinycrm contact list --view 'Top buyers'\n"
    )
    assert shop.ok("contact", "list", "--view", "top buyers").stdout == (
        "Bob Li\tgold\nAlice Wong\tvip\n"
    )
    # the command line's own options win over the view's, and --where narrows it further
    out = shop.ok(
        "contact",
        "list",
        "--view",
        "TOP BUYERS",
        "--sort",
        "name",
        "--columns",
        "name",
        "--where",
        "tag:vip",
    ).stdout
    assert out == "Alice Wong\n"
    r = shop.ok("view", "save", "top buyers", "--where", "spent>500")
    assert r.stdout.startswith("Replaced view 'top buyers' of contacts")
    assert shop.ok("contact", "list", "--view", "Top Buyers").stdout.split("\t")[1] == "Bob Li"
    shop.ok("view", "save", "big", "--of", "deals", "--where", "value>=10000")
    listed = shop.ok("view", "list", "--json").json()
    assert [(v["name"], v["entity"], v["filter"], v["columns"]) for v in listed] == [
        ("big", "deals", "value>=10000", None),
        ("top buyers", "contacts", "spent>500", None),
    ]
    assert listed[0]["saved_by"] == "sam"
    assert shop.ok("view", "list", "--of", "deals").stdout.startswith("big\tdeals\tvalue>=10000")
    r = shop("contact", "list", "--view", "big")
    assert (r.exit_code, r.stderr) == (2, "Error: view 'big' lists deals, not contacts\n")
    assert shop.ok("deal", "list", "--view", "big", "--columns", "title").stdout == "50 licences\n"
    assert shop.ok("view", "rm", "BIG").stdout == "Deleted view 'big'\n"
    r = shop("deal", "list", "--view", "big")
    assert (r.exit_code, r.stderr) == (
        1,
        "Error: no view called 'big' (saved deals views: none yet: tinycrm view save NAME"
        " --where …)\n",
    )
    shop.ok("undo")
    assert shop.ok("deal", "list", "--view", "big", "--columns", "title").stdout == "50 licences\n"
    # a view may be a sort and columns alone: every record
    shop.ok("view", "save", "newest", "--where", "", "--sort", "newest", "--columns", "name")
    assert shop.ok("contact", "list", "--view", "newest").stdout == "Cy Young\nBob Li\nAlice Wong\n"


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["x", "--where", "a ="], "Error: filter 'a =' at column 4: expected a value\n"),
        (
            ["x", "--where", "tag:a", "--sort", "value"],
            "Error: contacts sort by name, name-desc, untouched, newest, company, owner,"
            " not 'value'\n",
        ),
        (
            ["x", "--where", "tag:a", "--columns", "name,size"],
            "Error: contacts columns are id, name, company, email, phone, tags, last-touch,"
            " title, owner, not 'size'\n",
        ),
        (
            ["x", "--where", "tag:a", "--of", "people"],
            "Error: a view is of contacts, deals or companies, not 'people'\n",
        ),
        (["", "--where", "tag:a"], "Error: a view needs a name\n"),
    ],
)
def test_a_bad_view_is_not_saved(shop: Runner, args: list[str], line: str) -> None:
    r = shop("view", "save", *args)
    assert (r.exit_code, r.stderr) == (2, line)
    assert shop.ok("view", "list", "--json").json() == []


def test_rank_report_export_next_and_digest_take_a_filter(shop: Runner) -> None:
    ranked = shop.ok("rank", "--where", "tag:vip", "--json").json()
    assert [(c["name"], c["rank"]) for c in ranked["customers"]] == [("Alice Wong", 2)]
    listed = shop.ok("report", "customers", "--list", "bought", "--where", "tag:gold", "--json")
    assert [c["name"] for c in listed.json()] == ["Bob Li"]
    r = shop("report", "customers", "--where", "tag:gold")
    assert (r.exit_code, r.stderr) == (
        2,
        "Error: --where and --view narrow a list: give --list SEGMENT too\n",
    )
    exported = json.loads(shop.ok("export", "contacts", "--json", "--where", "tag:vip").stdout)
    assert [c["name"] for c in exported] == ["Alice Wong"]
    bought = json.loads(shop.ok("export", "purchases", "--json", "--where", "not tag:vip").stdout)
    assert [p["contact_name"] for p in bought] == ["Bob Li"]
    shop.ok("note", "alice", "asked for a quote")
    shop.ok("note", "bob", "renewal call")
    notes = json.loads(shop.ok("export", "interactions", "--json", "-w", "tag:gold").stdout)
    assert [n["body"] for n in notes] == ["renewal call"]
    r = shop("export", "deals", "--view", "nope")
    assert (r.exit_code, r.stderr.startswith("Error: no view called 'nope'")) == (1, True)
    shop.ok("view", "save", "won", "--of", "deals", "--where", "status:won")
    deals = json.loads(shop.ok("export", "deals", "--json", "--view", "won").stdout)
    assert [d["title"] for d in deals] == ["Pilot"]
    shop.ok("remind", "alice", "today", "call back")
    shop.ok("remind", "bob", "today", "send the renewal")
    todo = shop.ok("next", "--where", "tag:gold", "--json").json()
    assert [(a["title"], a["rank"]) for a in todo] == [("send the renewal", 1)]
    digest = shop.ok("digest", "--where", "company:acme", "--json").json()
    assert [r["text"] for r in digest["today"]] == ["call back"]
    r = shop("digest", "--where", "tag:vip", "--mail-to", "sam@example.com")
    assert r.exit_code == 2


def test_views_are_shared_by_the_team(shop: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    shop.ok("user", "add", "kim")
    shop.ok("view", "save", "mine", "--where", "owner:me", "--columns", "name")
    assert shop.ok("contact", "list", "--view", "mine").stdout == ("Alice Wong\nBob Li\nCy Young\n")
    monkeypatch.setenv("TINYCRM_USER", "kim")
    (seen,) = shop.ok("view", "list", "--json").json()
    assert (seen["name"], seen["saved_by"]) == ("mine", "sam")
    assert shop.ok("contact", "list", "--view", "mine").stdout == ""  # `me` is whoever looks
    shop.ok("assign", "cy", "kim")
    assert shop.ok("contact", "list", "--view", "mine").stdout == "Cy Young\n"
    r = shop.ok("view", "save", "MINE", "--where", "owner:me or tag:vip")
    assert r.stdout.startswith("Replaced view 'MINE' of contacts")
    (seen,) = shop.ok("view", "list", "--json").json()
    assert (seen["name"], seen["saved_by"], seen["columns"]) == ("MINE", "kim", None)


def test_custom_fields_in_filters_and_views(shop: Runner) -> None:
    shop.ok("field", "add", "company", "industry", "--type", "choice", "--choices", "retail,energy")
    shop.ok("field", "add", "contact", "region")
    shop.ok("company", "edit", "acme", "--set", "industry=retail")
    shop.ok("company", "edit", "beta", "--set", "industry=energy")
    shop.ok("contact", "edit", "alice", "--set", "region=North")
    shop.ok("contact", "edit", "cy", "--set", "region=south")
    out = shop.ok("company", "list", "--where", "industry=retail", "--columns", "name").stdout
    assert out == "Acme\n"
    out = shop.ok("contact", "list", "--where", "region=north or tag:gold").stdout
    assert names(out) == ["Alice Wong", "Bob Li"]
    assert names(shop.ok("contact", "list", "--where", "region!=north").stdout) == [
        "Bob Li",  # no region: != is true for records without a value
        "Cy Young",
    ]
    shop.ok("view", "save", "south", "--where", "region:south and not tag:vip")
    assert names(shop.ok("contact", "list", "--view", "south").stdout) == ["Cy Young"]
    r = shop("company", "list", "--where", "industry=mining")
    assert r.exit_code == 2
    assert r.stderr.startswith("Error: filter 'industry=mining' at column 10: ")
    r = shop("contact", "list", "--where", "regoin=north")
    assert r.exit_code == 2
    assert r.stderr.startswith("Error: unknown attribute 'regoin' at column 1 (known: name,")
    assert r.stderr.rstrip().endswith("open-deals, id, region)")


def test_custom_fields_as_columns_of_lists_and_views(shop: Runner) -> None:
    shop.ok("field", "add", "contact", "Region")
    shop.ok("field", "add", "company", "industry", "--type", "choice", "--choices", "retail,energy")
    shop.ok("contact", "edit", "alice", "--set", "region=North")
    shop.ok("company", "edit", "acme", "--set", "industry=retail")
    out = shop.ok("contact", "list", "--where", "tag:vip or region=north", "--columns",
                  "name,region").stdout  # fmt: skip
    assert "Alice Wong\tNorth\n" in out
    assert shop.ok("company", "list", "--columns", "name,industry").stdout.startswith(
        "Acme\tretail\n"
    )
    shop.ok("view", "save", "regions", "--where", "", "--columns", "name,REGION")
    assert shop.ok("view", "list", "--json").json()[0]["columns"] == ["name", "Region"]
    assert "Alice Wong\tNorth\n" in shop.ok("contact", "list", "--view", "regions").stdout
    r = shop("contact", "list", "--columns", "name,regoin")
    assert (r.exit_code, r.stderr) == (
        2,
        "Error: contacts columns are id, name, company, email, phone, tags, last-touch,"
        " title, owner, Region, not 'regoin'\n",
    )
