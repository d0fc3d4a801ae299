"""`report revenue` and `report retention`: the CDNOW sample imported through the real
`import purchases`, checked against the plain oracle (tests/oracle_trends.py) on both
backends; then hand-made stores for refunds, 0.00 orders, companies, currencies, erased
customers, partial periods and bad input."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests import oracle_trends
from tests.conftest import Runner

CDNOW = Path(__file__).parent / "fixtures" / "cdnow" / "CDNOW_sample.txt"


def _cdnow() -> list[oracle_trends.Purchase]:
    """The sample as (customer, day, cents): read independently of tinycrm's readers."""
    out = []
    for line in CDNOW.read_text(encoding="ascii").splitlines():
        _master, sample_id, day, _cds, dollars = line.split()
        cents = int(Decimal(dollars) * 100)
        out.append(
            (
                f"CDNOW customer {int(sample_id)}",
                date.fromisoformat(day[:4] + "-" + day[4:6] + "-" + day[6:]),
                cents,
            )
        )
    return out


def _import(cli: Runner, tmp_path: Path, rows: list[oracle_trends.Purchase], currency: str) -> None:
    path = tmp_path / "purchases.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["contact", "date", "amount", "currency"])
        for who, day, cents in rows:
            w.writerow([who, day.isoformat(), f"{Decimal(cents) / 100:.2f}", currency])
    r = cli("import", "purchases", str(path), "--create-missing", "--allow-duplicates", "--json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["imported"] == len(rows)


def test_cdnow_revenue_and_cohorts_match_the_oracle(cli: Runner, tmp_path: Path) -> None:
    rows = _cdnow()
    assert len(rows) == 6919 and sum(1 for r in rows if r[2] == 0) == 8
    _import(cli, tmp_path, rows, "USD")
    first, last = date(1997, 1, 1), date(1998, 6, 30)
    for by in ("month", "quarter"):
        got = cli.ok(
            "report", "revenue", "--by", by, "--since", "1997-01-01", "--until", "1998-06-30",
            "--as-of", "1998-06-30", "--currency", "USD", "--json",
        ).json()  # fmt: skip
        want = oracle_trends.revenue(rows, first, last, by)
        assert [p["period"] for p in got["periods"]] == list(want)
        for p in got["periods"]:
            w = want[p["period"]]
            assert Decimal(p["revenue"]) * 100 == w["revenue"], p
            assert (p["orders"], p["customers"], p["new_customers"], p["returning_customers"]) == (
                w["orders"], w["customers"], w["new"], w["returning"],
            ), p  # fmt: skip
        assert Decimal(got["total"]["revenue"]) == Decimal("244091.94")
        assert got["total"]["orders"] == 6919 and got["total"]["customers"] == 2357
        assert got["total"]["new_customers"] == 2357  # every first order is in 1997-Q1

        ret = cli.ok(
            "report", "retention", "--by", by, "--since", "1997-01-01", "--as-of", "1998-06-30",
            "--currency", "USD", "--json",
        ).json()  # fmt: skip
        table, rate = oracle_trends.cohorts(rows, first, last, by)
        assert [c["period"] for c in ret["cohorts"]] == list(table)
        for c in ret["cohorts"]:
            size, shares = table[c["period"]]
            assert c["customers"] == size
            assert c["shares"] == shares, c["period"]
        assert ret["retention_rate"] == rate
        assert ret["eligible"] == 2357
    # the first cohort as people see it: 781 customers, 124 of them back in February
    assert table["1997-Q1"][0] == 2357
    monthly, _ = oracle_trends.cohorts(rows, first, last, "month")
    assert monthly["1997-01"][0] == 781 and monthly["1997-01"][1][0] == 0.1588


# -- hand-made ---------------------------------------------------------------------------------
# The clock is 2026-11-23 (tests/conftest.py); the store's currency is EUR.
HAND = [
    ("Ann", date(2026, 9, 3), 10_000),
    ("Ann", date(2026, 10, 5), 5_000),
    ("Ann", date(2026, 10, 9), -2_000),  # a refund: lowers October, no order
    ("Bob", date(2026, 10, 1), 0),  # a free order: Bob is a customer, new in October
    ("Cy", date(2026, 11, 2), -1_000),  # a refund alone makes nobody a customer
    ("Dee", date(2025, 12, 30), 7_000),
    ("Dee", date(2026, 11, 20), 3_000),  # returning after a long gap
]


@pytest.fixture
def hand(cli: Runner, tmp_path: Path) -> Runner:
    _import(cli, tmp_path, HAND, "EUR")
    cli.ok("purchase", "add", "Ann", "50 usd", "--date", "2026-11-01")  # left out, named
    return cli


def test_hand_made_revenue(hand: Runner) -> None:
    got = hand.ok("report", "revenue", "--json").json()
    # default: the 12 months ending with today, so from 2025-12-01
    assert (got["since"], got["until"], got["as_of"]) == ("2025-12-01", "2026-11-23", "2026-11-23")
    by = {p["period"]: p for p in got["periods"]}
    assert len(by) == 12 and by["2026-01"]["orders"] == 0 and by["2026-01"]["average_order"] is None
    oct_ = by["2026-10"]
    assert (oct_["revenue"], oct_["orders"], oct_["customers"]) == ("30.00", 2, 2)
    assert (oct_["new_customers"], oct_["returning_customers"]) == (1, 1)  # Bob new, Ann back
    assert oct_["average_order"] == "15.00"  # 30.00 / 2 orders (the refund lowers it)
    assert oct_["growth"] == -0.7  # 30 against September's 100
    nov = by["2026-11"]
    assert (nov["revenue"], nov["orders"], nov["customers"], nov["new_customers"]) == (
        "20.00", 1, 1, 0,
    )  # fmt: skip
    assert nov["last_day"] == "2026-11-23"
    assert by["2025-12"]["new_customers"] == 1
    total = got["total"]
    assert (total["revenue"], total["orders"], total["customers"], total["new_customers"]) == (
        "220.00", 5, 3, 3,
    )  # fmt: skip
    assert got["other_currencies"] == ["USD"]


def test_revenue_period_cut_and_as_of(hand: Runner) -> None:
    got = hand.ok(
        "report", "revenue", "--by", "quarter", "--since", "2026-10-05", "--as-of", "2026-10-31",
        "--json",
    ).json()  # fmt: skip
    (q4,) = got["periods"]
    assert (q4["period"], q4["first_day"], q4["last_day"]) == (
        "2026-Q4",
        "2026-10-05",
        "2026-10-31",
    )
    # from 5 October: Ann's 50.00 and her refund; Bob's free order was on the 1st
    assert (q4["revenue"], q4["orders"], q4["customers"], q4["returning_customers"]) == (
        "30.00", 1, 1, 1,
    )  # fmt: skip


def test_revenue_at_company_level(hand: Runner) -> None:
    hand.ok("contact", "edit", "Ann", "--company", "Acme")
    hand.ok("contact", "edit", "Bob", "--company", "Acme")
    got = hand.ok("report", "revenue", "--level", "company", "--json").json()
    by = {p["period"]: p for p in got["periods"]}
    # only contacts with a company count: Ann and Bob, one customer (Acme)
    assert (by["2026-10"]["customers"], by["2026-10"]["new_customers"]) == (1, 0)
    assert by["2026-09"]["new_customers"] == 1
    assert got["total"]["revenue"] == "130.00" and got["total"]["customers"] == 1


def test_hand_made_retention(hand: Runner) -> None:
    got = hand.ok("report", "retention", "--since", "2025-12-01", "--json").json()
    cohorts = {c["period"]: c for c in got["cohorts"]}
    assert cohorts["2025-12"]["customers"] == 1  # Dee
    assert cohorts["2025-12"]["retained"] == [0] * 10 + [1]  # back in November, 11 later
    assert cohorts["2026-09"]["customers"] == 1  # Ann; Bob's cohort is October
    assert cohorts["2026-09"]["shares"] == [1.0, 0.0]  # October yes, November no
    assert cohorts["2026-10"]["customers"] == 1 and cohorts["2026-10"]["shares"] == [0.0]
    assert cohorts["2026-11"] == {
        "period": "2026-11", "first_day": "2026-11-01", "customers": 0, "retained": [],
        "shares": [],
    }  # fmt: skip
    # pooled: offset 1 is Dee (no), Ann (yes), Bob (no) -> 1 / 3
    assert got["average"][0] == 0.3333
    assert (got["eligible"], got["returned"], got["retention_rate"]) == (3, 2, 0.6667)


def test_retention_csv_is_one_row_per_cohort_and_offset(hand: Runner) -> None:
    out = hand.ok("report", "retention", "--since", "2026-09-01", "--format", "csv").stdout
    first, second = out.split("\r\n\r\n")
    rows = list(csv.reader(io.StringIO(first)))
    assert rows[0] == ["cohort", "customers", "offset", "period", "ordered", "share"]
    assert rows[1:4] == [
        ["2026-09", "1", "0", "2026-09", "1", "1.0"],
        ["2026-09", "1", "1", "2026-10", "1", "1.0"],
        ["2026-09", "1", "2", "2026-11", "0", "0.0"],
    ]
    rate = list(csv.reader(io.StringIO(second)))
    assert rate == [
        ["as_of", "since", "by", "customers", "returned", "retention_rate", "currency"],
        ["2026-11-23", "2026-09-01", "month", "2", "1", "0.5", "EUR"],
    ]


def test_erased_customers_keep_revenue_but_are_nobody(hand: Runner) -> None:
    hand.ok("forget", "Dee", "--yes")
    got = hand.ok("report", "revenue", "--json").json()
    by = {p["period"]: p for p in got["periods"]}
    assert by["2026-11"]["revenue"] == "20.00" and by["2026-11"]["orders"] == 1
    assert by["2026-11"]["customers"] == 0
    assert got["total"]["customers"] == 2
    ret = hand.ok("report", "retention", "--since", "2025-12-01", "--json").json()
    assert ret["cohorts"][0]["customers"] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["revenue", "--by", "week"], "Error: --by must be month, quarter or year: 'week'\n"),
        (["retention", "--by", "year"], "Error: --by must be month or quarter: 'year'\n"),
        (["revenue", "--level", "team"], "Error: --level must be contact or company: 'team'\n"),
        (
            ["revenue", "--since", "2026-11-01", "--until", "2026-10-01"],
            "Error: --since (2026-11-01) is after --until (2026-10-01)\n",
        ),
        (
            ["revenue", "--until", "2026-11-20", "--as-of", "2026-11-01"],
            "Error: --until (2026-11-20) is after --as-of (2026-11-01):"
            " purchases after the as-of day are not counted\n",
        ),
        (["retention", "--as-of", "soon-ish"], None),
    ],
)
def test_bad_options_are_one_line_and_exit_2(
    cli: Runner, args: list[str], message: str | None
) -> None:
    r = cli("report", *args)
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1
    if message is not None:
        assert r.stderr == message


def test_trend_queries_read_purchases_through_their_index(
    hand: Runner, store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No purchase row is read from the table: every pass goes through the covering index
    (contact, day, amount, currency), as the benchmark store needs. Plans without
    statistics, as a real store has them. SQLite's plans (PostgreSQL picks its own)."""
    if store.startswith("postgresql"):
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    from typing import Any

    from tinycrm.cli import state
    from tinycrm.services import reports, trends

    hand.ok(
        "campaign", "add", "Autumn", "--source", "web", "--cost", "100", "--start", "2026-09-01"
    )
    ctx = state.get_ctx()
    try:
        ctx.db.conn.execute("DROP TABLE IF EXISTS sqlite_stat1")
        seen: list[tuple[str, Any]] = []
        real = type(ctx.db).execute

        def spy(self: Any, sql: str, params: Any = None) -> Any:
            seen.append((sql, params))
            return real(self, sql, params)

        monkeypatch.setattr(type(ctx.db), "execute", spy)
        for by in ("month", "quarter", "year"):
            trends.revenue_report(ctx, by=by)
        trends.revenue_report(ctx, level="company")
        trends.retention_report(ctx)
        reports.sources_report(ctx)
        plans = []
        for sql, params in seen:
            if sql.startswith("BEGIN"):
                continue
            rows = ctx.db.conn.execute("EXPLAIN QUERY PLAN " + sql, dict(params or {}))
            plans += [str(r["detail"]) for r in rows.fetchall()]
        walks = [p for p in plans if re.match(r"SCAN (purchases|p)( |$)", p)]
        assert walks and all("COVERING INDEX ix_purchases_customer_value" in p for p in walks), (
            walks
        )
    finally:
        state.close()


def test_revenue_and_retention_on_a_terminal(hand: Runner) -> None:
    from tests.cli.test_terminal import on_terminal

    screen = on_terminal("report", "revenue", lines=40)
    assert "Revenue by month in EUR, 2025-12-01 – 2026-11-23" in screen
    assert re.search(r"2026-10 +30\.00 +2 +2 +1 +1 +15\.00 +-70\.0% +█", screen)
    assert re.search(r"total +220\.00 +5 +3 +3 +0 +44\.00", screen)
    assert "Part of the period only: 2026-11." in screen
    screen = on_terminal("report", "retention", "--since", "2025-12-01", lines=40)
    assert re.search(r"2026-09 +1 +100% +0%", screen)
    assert "Retention rate 66.7%: 2 of 3 customers ordered again in a later month" in screen
    assert "(the customers whose first month came before 2026-11;" in screen
    assert max(len(line) for line in screen.splitlines()) <= 100
