"""`tinycrm campaign` and the marketing return in `report sources`: exact figures on a small
store whose contacts were created on chosen days (Berlin time), so the first-touch rule is
tested at its edges: local midnight, overlapping campaigns of one source, a free campaign,
a campaign in another currency and a campaign that brought nobody."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date, datetime

import pytest

from tests.cli.test_terminal import on_terminal
from tests.conftest import Runner
from tinycrm.money import Money
from tinycrm.services import contacts, purchases
from tinycrm.services.campaigns import FOREVER, Campaign, attribution_windows
from tinycrm.services.context import Ctx


def _at(ctx: Ctx, when: str) -> Ctx:
    return dataclasses.replace(ctx, now=datetime.fromisoformat(when.replace("Z", "+00:00")))


# name -> (source, created UTC, [(day, cents, currency)])
PEOPLE = {
    # 1 March 00:30 in Berlin: the first day of Fair spring
    "Ann": ("fair", "2026-02-28T23:30:00Z", [("2026-04-01", 200_000, "EUR")]),
    # 19 March 23:30 in Berlin: still Fair spring's
    "Ben": ("fair", "2026-03-19T22:30:00Z", []),
    # 20 March 00:30 in Berlin: Fair mail started that day, and the later start wins
    "Cat": ("fair", "2026-03-19T23:30:00Z",
            [("2026-04-02", 10_000, "EUR"), ("2026-04-03", 1_000, "USD")]),
    "Dan": ("fair", "2026-02-27T09:00:00Z", []),  # before any fair campaign
    "Eve": ("ads", "2026-08-01T09:00:00Z", [("2026-08-02", 5_000, "EUR")]),
    "Fay": ("web", "2026-05-01T09:00:00Z", []),
}  # fmt: skip


@pytest.fixture
def store_with_leads(ctx: Ctx, cli: Runner) -> Iterator[Runner]:
    from tinycrm.cli import state

    for name, (source, created, bought) in PEOPLE.items():
        c = contacts.add_contact(_at(ctx, created), name=name, source=source)
        for day, cents, cur in bought:
            purchases.add_purchase(ctx, c, cents, on=date.fromisoformat(day), currency=cur)
    state.close()
    add = ("campaign", "add")
    cli.ok(*add, "Fair spring", "--source", "fair", "--cost", "1000", "--start", "2026-03-01",
           "--end", "2026-03-31")  # fmt: skip
    cli.ok(*add, "Fair mail", "--source", "fair", "--cost", "€300", "--start", "2026-03-20")
    cli.ok(*add, "Web ads", "--source", "web", "--cost", "500 usd", "--start", "2026-05-01")
    cli.ok(*add, "Ads Q3", "--source", "ads", "--cost", "0", "--start", "2026-07-01",
           "--end", "2026-09-30")  # fmt: skip
    cli.ok(*add, "Radio", "--source", "radio", "--cost", "200", "--start", "2026-06-01")
    yield cli


def _line(s: dict[str, object]) -> tuple[object, ...]:
    return tuple(
        s[k]
        for k in ("contacts", "customers", "revenue", "campaigns", "cost", "roi",
                  "cost_per_lead", "cost_per_customer")
    )  # fmt: skip


def test_sources_report_with_campaigns(store_with_leads: Runner) -> None:
    r = store_with_leads.ok("report", "sources", "--json").json()
    by = {s["source"]: s for s in r["sources"]}
    # fair: 4 contacts, Ann and Cat bought 2,000 + 100 EUR; 1,300 spent on two campaigns
    # ROI (2,100 - 1,300) / 1,300 = 0.61538 -> 0.6154; 1,300 / 4 leads; 1,300 / 2 customers
    assert _line(by["fair"]) == (4, 2, "2100.00", 2, "1300.00", 0.6154, "325.00", "650.00")
    # a free campaign: no ROI (nothing to divide by), and its leads cost nothing
    assert _line(by["ads"]) == (1, 1, "50.00", 1, "0.00", None, "0.00", "0.00")
    # a campaign that brought nobody: all of it lost, no cost per lead or customer
    assert _line(by["radio"]) == (0, 0, "0.00", 1, "200.00", -1.0, None, None)
    # paid in USD: left out (never converted) and named
    assert _line(by["web"]) == (1, 0, "0.00", 0, None, None, None, None)
    assert r["other_currencies"] == ["USD"]
    # total: 1,500 spent; (2,150 - 1,500) / 1,500 = 0.4333; 1,500 / 6; 1,500 / 3
    assert _line(r["total"]) == (6, 3, "2150.00", 4, "1500.00", 0.4333, "250.00", "500.00")
    assert [s["source"] for s in r["sources"]] == ["fair", "ads", "web", "radio"]

    lines = {c["name"]: c for c in r["campaigns"]}
    assert list(lines) == ["Fair spring", "Fair mail", "Radio", "Ads Q3"]  # by start day
    spring, mail = lines["Fair spring"], lines["Fair mail"]
    # Ann and Ben (1 to 19 March); ROI (2,000 - 1,000) / 1,000
    assert (spring["leads"], spring["customers"], spring["revenue"], spring["roi"]) == (
        2, 1, "2000.00", 1.0,
    )  # fmt: skip
    assert (spring["cost_per_lead"], spring["cost_per_customer"], spring["conversion"]) == (
        "500.00", "1000.00", 0.5,
    )  # fmt: skip
    # Cat, from 20 March on (her USD purchase is left out): (100 - 300) / 300
    assert (mail["leads"], mail["customers"], mail["revenue"], mail["roi"]) == (
        1, 1, "100.00", -0.6667,
    )  # fmt: skip
    assert (mail["ends_on"], mail["cost_per_customer"]) == (None, "300.00")
    assert (lines["Radio"]["leads"], lines["Radio"]["cost_per_lead"]) == (0, None)


def test_a_period_picks_the_campaigns_that_started_in_it(store_with_leads: Runner) -> None:
    r = store_with_leads.ok(
        "report", "sources", "--since", "2026-03-15", "--until", "2026-06-30", "--json"
    ).json()
    assert [c["name"] for c in r["campaigns"]] == ["Fair mail", "Radio"]
    fair = next(s for s in r["sources"] if s["source"] == "fair")
    # the contacts created in the period (Ben on 19 March, Cat on the 20th) against the
    # cost of the campaigns that started in it (Fair mail): (100 - 300) / 300
    assert _line(fair) == (2, 1, "100.00", 1, "300.00", -0.6667, "150.00", "300.00")
    # a campaign's own leads don't depend on the period
    assert r["campaigns"][0]["leads"] == 1


def test_sources_csv_and_piped_tables(store_with_leads: Runner) -> None:
    out = store_with_leads.ok("report", "sources", "--format", "csv").stdout
    sources, campaigns = out.split("\r\n\r\n")
    assert sources.splitlines()[0].endswith(
        "currency,campaigns,cost,roi,cost_per_lead,cost_per_customer"
    )
    assert "fair,4,2,0.5,2100.00,0,0.00,EUR,2,1300.00,0.6154,325.00,650.00" in sources
    assert campaigns.splitlines()[0] == (
        "id,campaign,source,starts_on,ends_on,cost,leads,customers,conversion,revenue,roi,"
        "cost_per_lead,cost_per_customer,currency"
    )
    assert "1,Fair spring,fair,2026-03-01,2026-03-31,1000.00,2,1,0.5,2000.00,1.0,500.00," in (
        campaigns
    )
    r = store_with_leads("report", "sources")
    piped = r.stdout
    assert r.stderr == "Note: Money in EUR only; USD amounts are left out (see --currency).\n"
    assert {line.split("\t")[0] for line in piped.splitlines()} == {"source", "return", "campaign"}


def test_sources_on_a_terminal(store_with_leads: Runner) -> None:
    screen = on_terminal("report", "sources", lines=40)
    assert "Marketing return per source: campaigns that started at any time" in screen
    assert "+61.5%" in screen and "-66.7%" in screen
    assert max(len(line) for line in screen.splitlines()) <= 100


def test_campaign_commands(cli: Runner) -> None:
    added = cli.ok(
        "campaign", "add", "Trade fair", "--source", "trade fair", "--cost", "€2,500",
        "--start", "2026-10-01", "--end", "2026-10-03", "--json",
    ).json()  # fmt: skip
    assert added == {
        "id": 1, "name": "Trade fair", "source": "trade fair", "cost": "2500.00",
        "currency": "EUR", "starts_on": "2026-10-01", "ends_on": "2026-10-03",
        "created_at": "2026-11-23T09:00:00Z", "updated_at": "2026-11-23T09:00:00Z", "version": 1,
    }  # fmt: skip
    said = cli.ok("campaign", "add", "Newsletter", "--source", "mail", "--cost", "40 usd").stdout
    assert said == "Added campaign #2 Newsletter: 40.00 USD for 'mail', 2026-11-23 – running\n"
    listed = cli.ok("campaign", "list").stdout.splitlines()
    assert listed == [
        "2\tNewsletter\tmail\t40.00 USD\t2026-11-23 – running",
        "1\tTrade fair\ttrade fair\t2,500.00 EUR\t2026-10-01 – 2026-10-03",
    ]
    edited = cli.ok(
        "campaign", "edit", "trade FAIR", "--cost", "2600", "--end", "none", "--if-version", "1",
        "--json",
    ).json()  # fmt: skip
    assert (edited["cost"], edited["ends_on"], edited["version"]) == ("2600.00", None, 2)
    stale = cli("campaign", "edit", "1", "--name", "Fair", "--if-version", "1")
    assert stale.exit_code == 1 and "was changed by sam" in stale.stderr
    assert "nothing was saved" in stale.stderr
    refused = cli("campaign", "rm", "1")  # no terminal to ask on, no --yes
    assert refused.exit_code != 0 and cli.ok("campaign", "list", "--json").json()[1]["id"] == 1
    gone = cli.ok("campaign", "rm", "Trade fair", "--yes", "--if-version", "2").stdout
    assert gone == "Deleted campaign #1 Trade fair\n"
    assert [c["id"] for c in cli.ok("campaign", "list", "--json").json()] == [2]
    cli.ok("undo")
    back = cli.ok("campaign", "list", "--source", "trade fair", "--json").json()
    assert [(c["id"], c["cost"], c["version"]) for c in back] == [(1, "2600.00", 2)]


BAD = [
    ("add X", "campaign add needs --source: the lead source it brings"),
    ("add X --source web", "campaign add needs --cost: what it cost (0 for a free one)"),
    ("add X --source ' ' --cost 5",
     "--source can't be empty: give the lead source the campaign brings"),
    ("add X --source web --cost -5", "--cost can't be negative: '-5'"),
    ("add X --source web --cost five", "--cost is not a number: 'five' (try 1234.50)"),
    ("add 42 --source web --cost 5",
     "campaign name can't be a bare number (it reads as an id): '42'"),
    ("add X --source web --cost 5 --start 2026-03-02 --end 2026-03-01",
     "--end (2026-03-01) is before --start (2026-03-02)"),
    ("add X --source web --cost 5 --start someday", None),
    ("edit nope --cost 5", "no campaign called 'nope' (see: tinycrm campaign list)"),
    ("rm 7 --yes", "no campaign with id 7"),
    ("edit 7", None),
]  # fmt: skip


@pytest.mark.parametrize(("args", "message"), BAD)
def test_bad_campaign_input(cli: Runner, args: str, message: str | None) -> None:
    import shlex

    r = cli("campaign", *shlex.split(args))
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1
    if message is not None:
        assert r.stderr == f"Error: {message}\n"
    assert cli.ok("campaign", "list", "--json").json() == []


def test_a_campaign_name_is_taken_in_any_case(cli: Runner) -> None:
    cli.ok("campaign", "add", "Spring", "--source", "web", "--cost", "5")
    r = cli("campaign", "add", "SPRING", "--source", "web", "--cost", "5")
    assert (r.exit_code, r.stderr) == (
        2,
        "Error: there is a campaign called 'Spring' already (#1)\n",
    )
    cli.ok("campaign", "add", "Autumn", "--source", "web", "--cost", "5")
    r = cli("campaign", "edit", "autumn", "--name", "spring")
    assert (r.exit_code, r.stderr) == (
        2,
        "Error: there is a campaign called 'Spring' already (#1)\n",
    )


def _c(i: int, source: str, start: str, end: str | None) -> Campaign:
    at = datetime(2026, 1, 1, tzinfo=None)
    return Campaign(
        i, f"c{i}", source, Money(0, "EUR"), "EUR", date.fromisoformat(start),
        date.fromisoformat(end) if end else None, at, at, 1,
    )  # fmt: skip


def test_attribution_windows_first_touch() -> None:
    d = date.fromisoformat
    windows = attribution_windows(
        [
            _c(1, "fair", "2026-03-01", "2026-03-31"),
            _c(2, "fair", "2026-03-10", "2026-03-15"),  # inside 1: cuts a hole in it
            _c(3, "fair", "2026-03-10", None),  # the same start as 2, a higher id: 2 first
            _c(4, "web", "2026-03-01", None),  # another source: no effect
        ]
    )
    assert windows[1] == [(d("2026-03-01"), d("2026-03-09"))]
    assert windows[2] == [(d("2026-03-10"), d("2026-03-15"))]
    assert windows[3] == [(d("2026-03-16"), FOREVER)]
    assert windows[4] == [(d("2026-03-01"), FOREVER)]
