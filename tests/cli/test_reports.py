"""`tinycrm report`: exact figures on a small store built through the real services.

The store (`crm`) is small enough to work every figure out by hand; the comments beside
each assertion say how. The clock is Monday 2026-11-23 09:00 UTC (10:00 in Berlin), so
the default period is 2026-08-26 .. 2026-11-23 and "90 days ago" is 2026-08-25.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest

from tests.cli.test_terminal import on_terminal
from tests.conftest import Runner
from tinycrm.refs import Target
from tinycrm.services import contacts, deals, interactions, purchases, reminders
from tinycrm.services.context import Ctx
from tinycrm.services.users import ensure_user


def _as(ctx: Ctx, user: str, when: str) -> Ctx:
    now = datetime.fromisoformat(when.replace("Z", "+00:00"))
    return dataclasses.replace(
        ctx, user_name=user, now=now, _user_id=ensure_user(ctx.db, user, now)
    )


# name -> (owner, source, created)
PEOPLE = {
    "Alice Able": ("sam", "website", "2025-01-10T09:00:00Z"),
    "Bob Busy": ("sam", "website", "2025-07-01T09:00:00Z"),
    "Cara Once": ("ana", "referral", "2025-07-02T09:00:00Z"),
    "Dan Recent": ("ana", "referral", "2025-07-03T09:00:00Z"),
    "Eve Edge": ("ana", None, "2025-07-04T09:00:00Z"),
    "Finn Never": ("lee", "website", "2025-07-05T09:00:00Z"),
    "Gus Quiet": ("lee", None, "2025-07-06T09:00:00Z"),
    "Hal Twice": ("sam", "referral", "2025-07-07T09:00:00Z"),
    "Ivy Even": ("sam", "referral", "2025-07-08T09:00:00Z"),
}

# name -> [(day, amount in cents, currency)]
BOUGHT = {
    # 3 buying days, mean gap 59.5 days, last 203 days ago: churn risk
    "Alice Able": [("2026-01-05", 10_000, "EUR"), ("2026-03-05", 20_000, "EUR"),
                   ("2026-05-04", 30_000, "EUR")],
    # 4 purchases on 3 days (two on 1 Nov, one in USD); mean gap 30.5, last 22 days ago
    "Bob Busy": [("2026-09-01", 100_000, "EUR"), ("2026-10-01", 100_000, "EUR"),
                 ("2026-11-01", 100_000, "EUR"), ("2026-11-01", 5_000, "USD")],
    "Cara Once": [("2026-06-01", 50_000, "EUR")],  # once, 175 days ago
    "Dan Recent": [("2026-11-20", 5_000, "EUR")],  # once, but 3 days ago
    "Eve Edge": [("2026-08-25", 7_000, "EUR")],  # once, exactly 90 days ago: not "over 90"
    "Hal Twice": [("2025-12-01", 40_000, "EUR"), ("2026-02-01", 40_000, "EUR")],
    # gaps of 10 days, last 20 days ago: exactly 2x, not more; churn from tomorrow
    "Ivy Even": [("2026-10-14", 1_000, "EUR"), ("2026-10-24", 1_000, "EUR"),
                 ("2026-11-03", 1_000, "EUR")],
}  # fmt: skip

# (who logged it, about, when UTC)
NOTES = [
    ("sam", "Alice Able", "2026-01-05T10:00:00Z"),  # before the period
    ("sam", "Alice Able", "2026-11-20T10:00:00Z"),
    ("sam", "Bob Busy", "2026-11-21T10:00:00Z"),
    ("sam", "Ivy Even", "2026-10-01T10:00:00Z"),
    ("ana", "Cara Once", "2026-09-10T10:00:00Z"),
    ("ana", "Dan Recent", "2026-11-22T10:00:00Z"),
    ("ana", "Eve Edge", "2026-08-25T22:30:00Z"),  # 26 Aug 00:30 in Berlin: in the period
    ("lee", "Gus Quiet", "2026-08-25T21:00:00Z"),  # 25 Aug 23:00 in Berlin: before it
]


@dataclasses.dataclass
class Crm:
    ids: dict[str, int]  # contact name -> id
    deals: dict[str, int]  # deal title -> id


def _deal(
    ctx: Ctx,
    owner: str,
    title: str,
    who: str,
    cents: int,
    path: list[tuple[str, str]],
    *,
    ids: dict[str, int],
    currency: str = "EUR",
    probability: int | None = None,
    reason: str | None = None,
) -> int:
    """A deal opened in path[0]'s stage at its time, then moved along the rest."""
    (stage, opened), *moves = path
    target = Target("contact", ids[who], who)
    d = deals.add_deal(
        _as(ctx, owner, opened),
        title,
        target=target,
        value_cents=cents,
        currency=currency,
        stage=stage,
        probability=probability,
    )
    for stage, when in moves:
        deals.move_deal(_as(ctx, owner, when), d.id, stage, reason=reason)
    return d.id


@pytest.fixture
def crm(ctx: Ctx) -> Iterator[Crm]:
    from tinycrm.cli import state

    ids = {}
    for name, (owner, source, created) in PEOPLE.items():
        ids[name] = contacts.add_contact(_as(ctx, owner, created), name=name, source=source)
    for name, bought in BOUGHT.items():
        for day, cents, cur in bought:
            purchases.add_purchase(ctx, ids[name], cents, on=date.fromisoformat(day), currency=cur)
    for user, name, when in NOTES:
        target = Target("contact", ids[name], name)
        by = _as(ctx, user, when)
        interactions.log_interaction(by, target, "talked", when=by.now)
    t = "T09:00:00Z"
    d = {
        # open in Qualified: Lead 1-11 Nov (10 d), Qualified from 11 Nov (12 d to now)
        "Alpha": _deal(ctx, "sam", "Alpha", "Bob Busy", 100_000,
                       [("Lead", "2026-11-01" + t), ("Qualified", "2026-11-11" + t)], ids=ids),
        # open in Proposal at its own 40 %: Lead 5 d, Qualified 10 d, Proposal 38 d to now
        "Beta": _deal(ctx, "sam", "Beta", "Alice Able", 200_000,
                      [("Lead", "2026-10-01" + t), ("Qualified", "2026-10-06" + t),
                       ("Proposal", "2026-10-16" + t)], ids=ids, probability=40),
        # won on 1 Oct: Lead 10 d, Qualified 10 d, Proposal 10 d
        "Gamma": _deal(ctx, "ana", "Gamma", "Cara Once", 300_000,
                       [("Lead", "2026-09-01" + t), ("Qualified", "2026-09-11" + t),
                        ("Proposal", "2026-09-21" + t), ("Won", "2026-10-01" + t)], ids=ids),
        # lost at 23:30 UTC on 10 Oct, which is 11 Oct in Berlin: Lead 9 d 14.5 h
        "Delta": _deal(ctx, "ana", "Delta", "Dan Recent", 50_000,
                       [("Lead", "2026-10-01" + t), ("Lost", "2026-10-10T23:30:00Z")],
                       ids=ids, reason="price too high"),
        # opened in Qualified (skipping Lead), lost on 10 Nov: Qualified 20 d
        "Epsilon": _deal(ctx, "lee", "Epsilon", "Eve Edge", 70_000,
                         [("Qualified", "2026-10-21" + t), ("Lost", "2026-11-10" + t)],
                         ids=ids, reason="no budget"),
        # open in Lead, in dollars: left out of the money, counted in the flow (10 d)
        "Zeta": _deal(ctx, "lee", "Zeta", "Finn Never", 10_000,
                      [("Lead", "2026-11-13" + t)], ids=ids, currency="USD"),
        # won long before the period: Lead 31 d
        "Eta": _deal(ctx, "sam", "Eta", "Alice Able", 80_000,
                     [("Lead", "2026-05-01" + t), ("Won", "2026-06-01" + t)], ids=ids),
        # open in Negotiation since 3 Nov (20 d)
        "Theta": _deal(ctx, "sam", "Theta", "Ivy Even", 40_000,
                       [("Negotiation", "2026-11-03" + t)], ids=ids),
    }  # fmt: skip
    for user, due, done in (
        ("sam", "2026-11-20T09:00:00Z", False),  # overdue
        ("sam", "2026-11-25T09:00:00Z", False),  # not yet due
        ("ana", "2026-11-23T08:00:00Z", False),  # an hour overdue
        ("ana", "2026-11-10T09:00:00Z", True),  # done
    ):
        r = reminders.add_reminder(
            _as(ctx, user, "2026-11-01T09:00:00Z"),
            None,
            datetime.fromisoformat(due.replace("Z", "+00:00")),
            "call",
        )
        if done:
            reminders.complete(_as(ctx, user, "2026-11-10T10:00:00Z"), r.id)
    state.close()  # the CLI opens the store itself
    yield Crm(ids, d)


def at(cli: Runner, when: str, *args: str) -> Any:
    old = os.environ["TINYCRM_NOW"]
    os.environ["TINYCRM_NOW"] = when
    try:
        return cli.ok(*args).json()
    finally:
        os.environ["TINYCRM_NOW"] = old


def parse_csv(text: str) -> list[list[dict[str, str]]]:
    """CSV tables separated by an empty line, each a list of {header: cell}."""
    assert "\r\n" in text and not re.search(r"(?<!\r)\n", text), "RFC 4180 line ends"
    tables: list[list[list[str]]] = [[]]
    for row in csv.reader(io.StringIO(text, newline="")):
        if row:
            tables[-1].append(row)
        else:
            tables.append([])
    return [[dict(zip(t[0], r, strict=True)) for r in t[1:]] for t in tables]


# -- customers --------------------------------------------------------------------------------


def test_customers_counts_every_segment(cli: Runner, crm: Crm) -> None:
    r = cli.ok("report", "customers", "--json").json()
    assert r["as_of"] == "2026-11-23"
    assert r["currency"] == "EUR"
    assert r["once_older_than_days"] == 90
    assert r["contacts"] == 9
    assert {s["name"]: (s["contacts"], s["of"], s["share"]) for s in r["segments"]} == {
        "bought": (7, "contacts", 0.7778),  # everyone but Finn and Gus
        "repeat": (4, "customers", 0.5714),  # Alice, Bob, Hal, Ivy
        "once": (1, "customers", 0.1429),  # Cara; Dan is recent, Eve exactly 90 days ago
        "never-bought": (2, "contacts", 0.2222),
        "never-contacted": (2, "contacts", 0.2222),  # Finn, and Hal who bought
        "churn": (1, "customers", 0.1429),  # Alice; Ivy is exactly at twice her rhythm
    }
    assert [s["name"] for s in r["segments"]] == [
        "bought",
        "repeat",
        "once",
        "never-bought",
        "never-contacted",
        "churn",
    ]
    # 600 + 3,000 + 500 + 50 + 70 + 800 + 30 in EUR; Bob's 50 USD is left out
    assert (r["revenue"], r["revenue_cents"], r["revenue_customers"]) == ("5050.00", 505_000, 7)
    assert r["other_currencies"] == ["USD"]
    # ranked Bob 3,000, Hal 800, Alice 600, Cara 500, Eve 70, Dan 50, Ivy 30: the top N %
    # of 7 customers, rounded up, is 1, 1, 1, 2 and 4 of them
    assert [
        (c["top_percent"], c["customers"], c["revenue"], c["share"]) for c in r["concentration"]
    ] == [
        (1, 1, "3000.00", 0.5941),
        (5, 1, "3000.00", 0.5941),
        (10, 1, "3000.00", 0.5941),
        (20, 2, "3800.00", 0.7525),
        (50, 4, "4900.00", 0.9703),
    ]


def test_refunds_lower_totals_but_are_no_buying_days(cli: Runner, crm: Crm) -> None:
    cli.ok("purchase", "add", "Finn Never", "-20", "--date", "2026-11-01")  # only a refund
    cli.ok("purchase", "add", "Cara Once", "--refund", "100", "--date", "2026-11-20")
    cli.ok("purchase", "add", "Gus Quiet", "0", "--date", "2026-11-02")  # a free order
    r = cli.ok("report", "customers", "--json").json()
    segments = {s["name"]: s["contacts"] for s in r["segments"]}
    assert (segments["bought"], segments["once"], segments["never-bought"]) == (8, 1, 1)
    assert names(cli, "--list", "once") == ["Cara Once"]  # the refund is no second visit
    assert names(cli, "--list", "never-bought") == ["Finn Never"]
    # Cara's 500 less her 100 refund; Gus's free order adds a customer, not revenue
    assert (r["revenue"], r["revenue_customers"]) == ("4950.00", 8)


def names(cli: Runner, *args: str) -> list[str]:
    rows = cli.ok("report", "customers", "--json", *args).json()
    return [c["name"] for c in rows]


def test_each_segment_lists_its_contacts_biggest_spenders_first(cli: Runner, crm: Crm) -> None:
    assert names(cli, "--list", "bought") == [
        "Bob Busy",
        "Hal Twice",
        "Alice Able",
        "Cara Once",
        "Eve Edge",
        "Dan Recent",
        "Ivy Even",
    ]
    assert names(cli, "--list", "repeat") == ["Bob Busy", "Hal Twice", "Alice Able", "Ivy Even"]
    assert names(cli, "--list", "once") == ["Cara Once"]
    assert names(cli, "--list", "never-bought") == ["Finn Never", "Gus Quiet"]  # by id
    assert names(cli, "--list", "never-contacted") == ["Hal Twice", "Finn Never"]
    assert names(cli, "--list", "churn") == ["Alice Able"]
    assert names(cli, "--list", "Churn") == ["Alice Able"]
    assert names(cli, "--list", "bought", "--limit", "2") == ["Bob Busy", "Hal Twice"]
    bob = cli.ok("report", "customers", "--list", "repeat", "--json").json()[0]
    assert bob == {
        "id": crm.ids["Bob Busy"],
        "name": "Bob Busy",
        "owner": "sam",
        "last_purchase_on": "2026-11-01",
        "purchases": 4,
        "buying_days": 3,
        "total": "3000.00",
        "total_cents": 300_000,
        "currency": "EUR",
        "last_touch_at": "2026-11-21T10:00:00Z",
    }
    finn = cli.ok("report", "customers", "--list", "never-bought", "--json").json()[0]
    assert (finn["purchases"], finn["total"], finn["last_purchase_on"]) == (0, "0.00", None)
    # in dollars, only Bob has bought anything
    usd = cli.ok("report", "customers", "--list", "bought", "--currency", "usd", "--json")
    assert [(c["name"], c["total"], c["currency"]) for c in usd.json()][:2] == [
        ("Bob Busy", "50.00", "USD"),
        ("Alice Able", "0.00", "USD"),
    ]


def test_once_counts_a_single_purchase_strictly_older_than_the_limit(cli: Runner, crm: Crm) -> None:
    def once(*args: str) -> list[str]:
        return names(cli, "--list", "once", *args)

    assert once() == ["Cara Once"]  # Eve bought exactly 90 days ago
    assert once("--once-older-than", "89d") == ["Cara Once", "Eve Edge"]
    assert once("--once-older-than", "89") == ["Cara Once", "Eve Edge"]
    assert once("--once-older-than", "2") == ["Cara Once", "Eve Edge", "Dan Recent"]
    assert once("--once-older-than", "26w") == []  # Cara: 175 days
    r = cli.ok("report", "customers", "--once-older-than", "89d", "--json").json()
    assert r["once_older_than_days"] == 89
    assert [s["contacts"] for s in r["segments"] if s["name"] == "once"] == [2]


def test_churn_is_more_than_twice_the_mean_gap_since_the_last_buying_day(
    cli: Runner, crm: Crm
) -> None:
    # Ivy: gaps of 10 days; 20 days since her last purchase today, 21 tomorrow
    assert names(cli, "--list", "churn") == ["Alice Able"]
    tomorrow = at(cli, "2026-11-24T09:00:00Z", "report", "customers", "--list", "churn", "--json")
    assert [c["name"] for c in tomorrow] == ["Alice Able", "Ivy Even"]
    # Bob (mean gap 30.5 days, same-day purchases counted once) turns at 62 days: 2 Jan
    jan1 = at(cli, "2027-01-01T12:00:00Z", "report", "customers", "--list", "churn", "--json")
    jan2 = at(cli, "2027-01-02T12:00:00Z", "report", "customers", "--list", "churn", "--json")
    assert "Bob Busy" not in [c["name"] for c in jan1]
    assert "Bob Busy" in [c["name"] for c in jan2]


# -- pipeline ---------------------------------------------------------------------------------


def test_pipeline_report(cli: Runner, crm: Crm) -> None:
    r = cli.ok("report", "pipeline", "--json").json()
    assert (r["since"], r["until"], r["currency"]) == ("2026-08-26", "2026-11-23", "EUR")
    assert r["as_of"] == "2026-11-23T09:00:00Z"
    got = {s["stage"]: s for s in r["stages"]}
    assert list(got) == ["Lead", "Qualified", "Proposal", "Negotiation"]

    def money(stage: str) -> tuple[int, str, str]:
        s = got[stage]
        return s["deals"], s["value"], s["weighted"]

    assert money("Lead") == (0, "0.00", "0.00")  # only Zeta, in dollars
    assert money("Qualified") == (1, "1000.00", "250.00")  # Alpha at 25 %
    assert money("Proposal") == (1, "2000.00", "800.00")  # Beta at its own 40 %
    assert money("Negotiation") == (1, "400.00", "300.00")  # Theta at 75 %
    assert (r["open_deals"], r["open_value"], r["open_weighted"]) == (3, "3400.00", "1350.00")
    assert r["open_value_cents"] == 340_000 and r["open_weighted_cents"] == 135_000
    # furthest stage: Alpha Q, Beta P, Gamma won, Delta L, Epsilon Q, Zeta L, Eta won, Theta N
    flow = {s["stage"]: (s["reached"], s["to_next"], s["to_won"]) for s in r["stages"]}
    assert flow == {
        "Lead": (8, 0.75, 0.25),
        "Qualified": (6, 0.6667, 0.3333),
        "Proposal": (4, 0.75, 0.5),
        "Negotiation": (3, 0.6667, 0.6667),  # Gamma and Eta won past it
    }
    days = {s["stage"]: (s["stints"], s["avg_days"]) for s in r["stages"]}
    assert days == {
        # 10 + 5 + 10 + 9d14.5h + 10 + 31 days over 6 stints = 12.6007
        "Lead": (6, 12.6),
        "Qualified": (4, 13.0),  # 12 (open, to now) + 10 + 10 + 20
        "Proposal": (2, 24.0),  # 38 (open) + 10
        "Negotiation": (1, 20.0),
    }
    assert r["closed"] == [
        {"outcome": "won", "deals": 1, "value": "3000.00", "value_cents": 300_000},
        {"outcome": "lost", "deals": 2, "value": "1200.00", "value_cents": 120_000},
    ]
    assert r["win_rate"] == 0.3333
    assert r["lost_reasons"] == [
        {"reason": "no budget", "deals": 1, "value": "700.00", "value_cents": 70_000},
        {"reason": "price too high", "deals": 1, "value": "500.00", "value_cents": 50_000},
    ]
    assert r["other_currencies"] == ["USD"]


def test_pipeline_periods_are_local_days(cli: Runner, crm: Crm) -> None:
    def closed(*args: str) -> dict[str, int]:
        r = cli.ok("report", "pipeline", "--json", *args).json()
        return {c["outcome"]: c["deals"] for c in r["closed"]}

    # Delta was lost at 23:30 UTC on 10 Oct: 11 Oct in Berlin
    assert closed("--since", "2026-10-01", "--until", "2026-10-10") == {"won": 1, "lost": 0}
    assert closed("--since", "2026-10-11", "--until", "2026-10-11") == {"won": 0, "lost": 1}
    assert closed("--since", "2026-10-02") == {"won": 0, "lost": 2}
    assert closed("--since", "2026-05-01", "--until", "2026-06-30") == {"won": 1, "lost": 0}
    r = cli.ok("report", "pipeline", "--since", "2026-10-02", "--json").json()
    assert r["win_rate"] == 0.0
    r = cli.ok("report", "pipeline", "--since", "2026-12-01", "--until", "2026-12-31", "--json")
    assert r.json()["win_rate"] is None and r.json()["lost_reasons"] == []
    # in dollars: only Zeta, open in Lead
    usd = cli.ok("report", "pipeline", "--currency", "USD", "--json").json()
    assert [(s["stage"], s["deals"], s["value"]) for s in usd["stages"]][0] == ("Lead", 1, "100.00")
    assert usd["open_deals"] == 1 and usd["other_currencies"] == ["EUR"]


# -- team and sources -------------------------------------------------------------------------


def test_team_report(cli: Runner, crm: Crm) -> None:
    r = cli.ok("report", "team", "--json").json()
    assert (r["since"], r["until"], r["currency"]) == ("2026-08-26", "2026-11-23", "EUR")
    rows = {
        u["user"]: (
            u["activities"],
            u["deals_won"],
            u["won_value"],
            u["revenue"],
            u["open_deals"],
            u["open_weighted"],
            u["overdue_reminders"],
        )
        for u in r["users"]
    }
    assert rows == {
        # notes on Eve (26 Aug in Berlin), Cara, Dan; Gamma won; Dan's 50 (Eve's 70 is on
        # 25 Aug, before the period); nothing open; one reminder an hour overdue
        "ana": (3, 1, "3000.00", "50.00", 0, "0.00", 1),
        # Gus's note is 25 Aug in Berlin; Zeta is in dollars
        "lee": (0, 0, "0.00", "0.00", 0, "0.00", 0),
        # Alice, Bob, Ivy; Eta was won in June; Bob's 3 x 1,000 and Ivy's 3 x 10;
        # Alpha 250 + Beta 800 + Theta 300 weighted
        "sam": (3, 0, "0.00", "3030.00", 3, "1350.00", 1),
    }
    assert [u["user"] for u in r["users"]] == ["ana", "lee", "sam"]
    t = r["total"]
    assert (t["user"], t["activities"], t["revenue"], t["open_weighted"]) == (
        None,
        6,
        "3080.00",
        "1350.00",
    )
    assert (t["revenue_cents"], t["overdue_reminders"], t["deals_won"]) == (308_000, 2, 1)
    assert r["other_currencies"] == ["USD"]
    wide = cli.ok("report", "team", "--since", "2026-01-01", "--json").json()
    sam = next(u for u in wide["users"] if u["user"] == "sam")
    assert (sam["activities"], sam["deals_won"], sam["won_value"]) == (4, 1, "800.00")


def test_team_shows_what_nobody_owns(cli: Runner, crm: Crm) -> None:
    from tinycrm.store.open import open_store

    db = open_store(os.environ["TINYCRM_DB"])
    with db.write():
        db.execute("UPDATE reminders SET owner_id = NULL WHERE owner_id IS NOT NULL")
    db.close()
    r = cli.ok("report", "team", "--json").json()
    assert [(u["user"], u["overdue_reminders"]) for u in r["users"]] == [
        ("ana", 0),
        ("lee", 0),
        ("sam", 0),
        (None, 2),
    ]
    piped = cli("report", "team")  # piped, what is left out is said on stderr
    assert (piped.exit_code, piped.stderr) == (
        0,
        "Note: Money in EUR only; USD amounts are left out (see --currency).\n",
    )
    assert "(nobody)" in piped.stdout


def test_sources_report(cli: Runner, crm: Crm) -> None:
    r = cli.ok("report", "sources", "--json").json()
    assert (r["since"], r["until"], r["currency"]) == (None, None, "EUR")
    rows = [
        (
            s["source"],
            s["contacts"],
            s["customers"],
            s["conversion"],
            s["revenue"],
            s["deals_won"],
            s["won_value"],
        )
        for s in r["sources"]
    ]
    assert rows == [
        ("referral", 4, 4, 1.0, "1380.00", 1, "3000.00"),  # Cara, Dan, Hal, Ivy; Gamma
        ("website", 3, 2, 0.6667, "3600.00", 1, "800.00"),  # Alice, Bob, Finn; Eta
        (None, 2, 1, 0.5, "70.00", 0, "0.00"),  # Eve, Gus
    ]
    t = r["total"]
    assert (t["contacts"], t["customers"], t["conversion"], t["revenue"], t["deals_won"]) == (
        9,
        7,
        0.7778,
        "5050.00",
        2,
    )
    assert r["other_currencies"] == ["USD"]
    # a cohort: contacts created from 1 June 2025 on (not Alice), with all they ever bought
    cohort = cli.ok("report", "sources", "--since", "2025-06-01", "--json").json()
    web = next(s for s in cohort["sources"] if s["source"] == "website")
    assert (web["contacts"], web["customers"], web["revenue"], web["deals_won"]) == (
        2,
        1,
        "3000.00",
        0,
    )
    assert cohort["since"] == "2025-06-01" and cohort["until"] is None
    early = cli.ok("report", "sources", "--until", "2025-07-01", "--json").json()
    assert [(s["source"], s["contacts"]) for s in early["sources"]] == [("website", 2)]


# -- formats ----------------------------------------------------------------------------------


def test_csv_parses_back_to_the_same_numbers(cli: Runner, crm: Crm) -> None:
    segments, tops = parse_csv(cli.ok("report", "customers", "--format", "csv").stdout)
    js = cli.ok("report", "customers", "--json").json()
    assert [(s["segment"], int(s["contacts"]), float(s["share"])) for s in segments] == [
        (s["name"], s["contacts"], s["share"]) for s in js["segments"]
    ]
    assert [(int(t["customers"]), t["revenue"], t["currency"]) for t in tops] == [
        (c["customers"], c["revenue"], "EUR") for c in js["concentration"]
    ]
    (listed,) = parse_csv(cli.ok("report", "customers", "--list", "repeat", "-f", "csv").stdout)
    assert listed[0] == {
        "id": str(crm.ids["Bob Busy"]),
        "name": "Bob Busy",
        "owner": "sam",
        "last_purchase_on": "2026-11-01",
        "purchases": "4",
        "buying_days": "3",
        "total": "3000.00",
        "currency": "EUR",
        "last_touch_at": "2026-11-21T10:00:00Z",
    }

    stages, closed, reasons = parse_csv(cli.ok("report", "pipeline", "--format", "csv").stdout)
    pj = cli.ok("report", "pipeline", "--json").json()
    for row, s in zip(stages, pj["stages"], strict=True):
        assert (row["stage"], int(row["deals"]), row["value"], row["weighted"]) == (
            s["stage"],
            s["deals"],
            s["value"],
            s["weighted"],
        )
        assert (int(row["reached"]), float(row["to_next"]), float(row["avg_days"])) == (
            s["reached"],
            s["to_next"],
            s["avg_days"],
        )
    assert [(c["outcome"], c["deals"], c["value"], c["since"]) for c in closed] == [
        ("won", "1", "3000.00", "2026-08-26"),
        ("lost", "2", "1200.00", "2026-08-26"),
    ]
    assert [(x["lost_reason"], x["value"]) for x in reasons] == [
        ("no budget", "700.00"),
        ("price too high", "500.00"),
    ]

    (team,) = parse_csv(cli.ok("report", "team", "--format", "csv").stdout)
    assert [(u["user"], u["revenue"], u["open_weighted"], u["currency"]) for u in team] == [
        ("ana", "50.00", "0.00", "EUR"),
        ("lee", "0.00", "0.00", "EUR"),
        ("sam", "3030.00", "1350.00", "EUR"),
    ]
    # the second table is the campaigns (none here: tests/cli/test_campaigns.py has them)
    sources, campaigns = parse_csv(cli.ok("report", "sources", "--format", "csv").stdout)
    assert campaigns == []
    assert [(s["source"], s["customers"], s["conversion"], s["revenue"]) for s in sources] == [
        ("referral", "4", "1.0", "1380.00"),
        ("website", "2", "0.6667", "3600.00"),
        ("(none)", "1", "0.5", "70.00"),
    ]


def test_piped_lines_start_with_their_table(cli: Runner, crm: Crm) -> None:
    piped = cli("report", "pipeline")  # piped, what is left out is said on stderr
    assert (piped.exit_code, piped.stderr) == (
        0,
        "Note: Money in EUR only; USD amounts are left out (see --currency).\n",
    )
    lines = piped.stdout.splitlines()
    keys = [line.split("\t")[0] for line in lines]
    assert keys == ["stage"] * 5 + ["flow"] * 4 + ["closed"] * 3 + ["reason"] * 2
    assert lines[1].split("\t") == ["stage", "Qualified", "1", "1,000.00 EUR", "250.00 EUR", "25"]
    assert lines[4].split("\t")[:3] == ["stage", "total", "3"]
    assert lines[11].split("\t")[:3] == ["closed", "win rate", "33.3%"]
    assert "█" not in piped.stdout
    seg = cli("report", "customers").stdout.splitlines()
    assert seg[0].split("\t") == ["segment", "bought", "7", "77.8% of contacts", "--list bought"]
    assert seg[-1].split("\t")[:2] == ["concentration", "all (7)"]
    assert cli.ok("report", "customers", "--list", "churn").stdout.split("\t")[:2] == [
        str(crm.ids["Alice Able"]),
        "Alice Able",
    ]


def test_an_empty_store_reports_zeros(cli: Runner) -> None:
    r = cli.ok("report", "customers", "--json").json()
    assert r["contacts"] == 0 and r["concentration"] == [] and r["revenue"] == "0.00"
    assert all(s["contacts"] == 0 and s["share"] is None for s in r["segments"])
    p = cli.ok("report", "pipeline", "--json").json()
    assert [s["reached"] for s in p["stages"]] == [0, 0, 0, 0]
    assert all(s["avg_days"] is None and s["to_next"] is None for s in p["stages"])
    assert cli.ok("report", "sources", "--json").json()["sources"] == []
    assert cli.ok("report", "customers", "--list", "churn", "--json").json() == []
    tables_of = {
        "customers": 2, "pipeline": 3, "team": 1, "sources": 2, "revenue": 1, "retention": 2,
    }  # fmt: skip
    for report, tables in tables_of.items():
        cli.ok("report", report)
        assert len(parse_csv(cli.ok("report", report, "--format", "csv").stdout)) == tables


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("customers", "--list", "lapsed"), "--list must be one of bought, repeat, once,"),
        (("customers", "--format", "xml"), "--format must be one of table, csv, json: 'xml'"),
        (("customers", "--json", "--format", "csv"), "give --json or --format csv, not both"),
        (("customers", "--once-older-than", "2h"), "--once-older-than must be whole days"),
        (("customers", "--once-older-than", "0"), "between 1 and 36500 days: 0"),
        (("customers", "--once-older-than", "soon"), "can't read duration"),
        (("customers", "--currency", "euros"), "currency must be a 3-letter ISO code"),
        (("customers", "--list", "once", "--limit", "0"), "--limit"),
        (("pipeline", "--since", "tomorow"), "--since: can't read date 'tomorow'"),
        (("pipeline", "--since", "2026-11-01", "--until", "2026-10-01"), "is after --until"),
        (("team", "--until", "someday"), "--until: can't read date"),
        (("team", "--currency", "E"), "currency must be a 3-letter ISO code"),
        (("sources", "--since", "2026-11-01", "--until", "2026-10-01"), "is after --until"),
        (("sources", "--format", "pdf"), "--format must be one of"),
        (("bogus",), "No such command 'bogus'"),
    ],
)
def test_bad_options_exit_2_with_one_line(cli: Runner, args: tuple[str, ...], message: str) -> None:
    r = cli("report", *args)
    assert r.exit_code == 2, r.stderr
    assert r.stdout == ""
    assert r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1, r.stderr
    assert message in r.stderr


# -- on a terminal ----------------------------------------------------------------------------


def test_charts_and_tables_on_a_terminal(cli: Runner, crm: Crm) -> None:
    screen = on_terminal("report", "pipeline", lines=60)
    assert "Open pipeline in EUR" in screen
    bars = {
        m[1]: m[2]
        for m in re.finditer(r"^(Qualified|Proposal|Negotiation) .*?([█▏▎▍▌▋▊▉]+)", screen, re.M)
    }
    # bars in proportion to value: 1,000, 2,000 and 400 EUR, the largest 12 cells wide
    assert bars == {"Qualified": "██████", "Proposal": "████████████", "Negotiation": "██▍"}
    assert "Won and lost, 2026-08-26 – 2026-11-23" in screen
    assert re.search(r"win rate\s+33\.3%", screen)
    assert "Money in EUR only; USD amounts are left out (see --currency)." in screen
    screen = on_terminal("report", "customers", lines=60)
    assert re.search(r"churn risk \(overdue for their rhythm\)\s+1\s+14\.3% of customers", screen)
    assert re.search(r"top 50% \(4\)\s+4,900\.00 EUR\s+97\.0%\s+█{11}▋", screen)
    assert re.search(r"all \(7\)\s+5,050\.00 EUR\s+100\.0%", screen)


def test_a_long_list_shows_a_screenful_and_says_how_many_more(cli: Runner) -> None:
    for i in range(25):
        cli.ok("contact", "add", f"Lead {i:02d}")
    screen = on_terminal("report", "customers", "--list", "never-bought", lines=15)
    assert re.findall(r"Lead \d\d", screen) == [f"Lead {i:02d}" for i in range(10)]
    assert "… 10 of 25 shown: raise --limit, or use --format csv" in screen
    assert len(cli.ok("report", "customers", "--list", "never-bought").stdout.splitlines()) == 25


# -- query plans ------------------------------------------------------------------------------


def test_report_queries_never_walk_a_big_table_row_by_row(
    sqlite_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every report aggregates (nearly) everything, so reading a whole table is expected;
    but through an index where one holds the columns, never the interaction history, and
    reminders only through the small index of open ones. Plans without statistics, as a
    real store has them (tinycrm never runs ANALYZE)."""
    from tinycrm.cli import state
    from tinycrm.services import reports

    ctx = state.get_ctx()
    try:
        ctx.db.conn.execute("DROP TABLE IF EXISTS sqlite_stat1")
        seen: list[tuple[str, Any]] = []
        real = type(ctx.db).execute

        def spy(self: Any, sql: str, params: Any = None) -> Any:
            seen.append((sql, params))
            return real(self, sql, params)

        monkeypatch.setattr(type(ctx.db), "execute", spy)
        reports.customers_report(ctx)
        for segment in reports.SEGMENTS:
            reports.customer_list(ctx, segment, limit=10)
        reports.pipeline_report(ctx)
        reports.team_report(ctx)
        reports.sources_report(ctx)
        reports.sources_report(ctx, since=date(2026, 1, 1), until=date(2026, 6, 30))
        plans = []
        for sql, params in seen:
            if sql.startswith("BEGIN"):
                continue
            rows = ctx.db.conn.execute("EXPLAIN QUERY PLAN " + sql, dict(params or {}))
            plans += [str(r["detail"]) for r in rows.fetchall()]
        # table walks: purchases and deals only through an index, interactions and
        # reminders never in full
        walks = [p for p in plans if re.match(r"SCAN (purchases|p|deals|d)( |$)", p)]
        assert [p for p in walks if "USING" not in p] == [], walks
        assert not [p for p in plans if re.match(r"SCAN (interactions|i)( |$)", p)]
        reminder_walks = [p for p in plans if re.match(r"SCAN (reminders|r)( |$)", p)]
        assert all("ix_reminders_open" in p for p in reminder_walks), reminder_walks
        assert any("SEARCH i USING INDEX ix_interactions_happened_at" in p for p in plans)
        assert any("ix_purchases_customer_value" in p for p in plans)
    finally:
        state.close()
