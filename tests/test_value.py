"""`tinycrm rank`: exact RFM, ABC and CLV on hand-made data with ties, and the SQL path
against the pure oracle (tests/oracle_value.py) on generated purchases, on both backends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import oracle_value
from tests.conftest import Runner
from tinycrm.analytics import value as v
from tinycrm.money import Money
from tinycrm.services import contacts, purchases
from tinycrm.services.context import Ctx
from tinycrm.services.value import rank

AS_OF = date(2026, 11, 23)


# -- the pure definitions ---------------------------------------------------------------------


def test_every_r_f_pair_has_exactly_one_segment() -> None:
    for r in range(1, 6):
        for f in range(1, 6):
            rows = [name for name, rs, fs in v.SEGMENTS if r in rs and f in fs]
            assert len(rows) == 1, (r, f, rows)
            assert v.segment(r, f) == oracle_value.segment(r, f)


def test_ranks_follow_sql_rank_semantics() -> None:
    # ties share the lowest rank; the next distinct value skips past them
    assert v.ascending_ranks([10, 20, 20, 30, 10]) == [1, 3, 3, 5, 1]
    assert v.descending_ranks([10, 20, 20, 30, 10]) == [4, 2, 2, 1, 4]
    assert [v.score(rank, 7) for rank in range(1, 8)] == [1, 1, 2, 3, 3, 4, 5]


def _c(i: int, name: str, last: int, n: int, cents: int, first: int | None = None) -> v.Customer:
    """A customer who last bought `last` days before AS_OF."""
    first_day = AS_OF - timedelta(days=first if first is not None else last)
    return v.Customer(i, name, first_day, AS_OF - timedelta(days=last), n, cents)


def test_hand_made_scores_with_ties() -> None:
    customers = [
        _c(1, "Ada", last=3, n=5, cents=50_000, first=800),
        _c(2, "Bob", last=3, n=1, cents=10_000),
        _c(3, "Cy", last=40, n=5, cents=30_000, first=100),
        _c(4, "Di", last=200, n=2, cents=5_000, first=400),
        _c(5, "Ed", last=400, n=1, cents=5_000),
    ]
    s = v.Scores(customers, AS_OF, years=3)
    # recency 3, 3, 40, 200, 400 -> descending RANK() 4, 4, 3, 2, 1 -> r = 1 + 5(rank-1)//5
    assert s.r == [4, 4, 3, 2, 1]
    # frequency 5, 1, 5, 2, 1 -> ascending RANK() 4, 1, 4, 3, 1
    assert s.f == [4, 1, 4, 3, 1]
    # monetary 500, 100, 300, 50, 50 -> ascending RANK() 5, 3, 4, 1, 1
    assert s.m == [5, 3, 4, 1, 1]
    assert [s.segment(i) for i in range(5)] == ["loyal", "promising", "loyal", "at risk", "lost"]
    # total 1000: Ada 0% before -> A, Cy 50% -> A, Bob 80% -> B (not < 0.80), then
    # Di and Ed tie at 50 and go by name: Di 90% -> B, Ed 95% -> C (not < 0.95)
    assert s.abc == ["A", "B", "A", "B", "C"]
    # clv = total x 365 x 3 / max(365, days since first purchase)
    assert s.clv == [
        (50_000 * 365 * 3 * 2 + 800) // (2 * 800),  # 68,437.5 -> 68,438 (half up)
        30_000,
        90_000,
        13_688,  # 5,000 x 1,095 / 400 = 13,687.5
        13_688,
    ]
    assert s.clv[0] == 68_438
    assert [customers[i].name for i in s.order("value")] == ["Ada", "Cy", "Bob", "Di", "Ed"]
    # r+f+m: Ada 13, Cy 11, Bob 8, Di 6, Ed 3
    assert [customers[i].name for i in s.order("rfm")] == ["Ada", "Cy", "Bob", "Di", "Ed"]
    # Cy bought for less than a year, so a full year's pace counts; Di and Ed tie on CLV
    assert [customers[i].name for i in s.order("clv")] == ["Cy", "Ada", "Bob", "Di", "Ed"]
    summary = v.summarize(customers)
    assert (summary.n, summary.revenue_cents) == (5, 100_000)
    assert summary.top20_share == Fraction(1, 2)  # the top 1 of 5 brought 500 of 1000


# -- the store, the CLI and the oracle --------------------------------------------------------

NAMES = ["Ada", "Bob", "Cy", "Ada", "Dee", "Eve"]  # a repeated name: ties go by id
COMPANIES = ["Acme", "Acme", "Birch", None, "Birch", None]


def _people(ctx: Ctx) -> list[tuple[int, str, int | None, str | None]]:
    out = []
    for name, company in zip(NAMES, COMPANIES, strict=True):
        cid = contacts.add_contact(ctx, name=name, company=company, allow_duplicate=True)
        company_id = ctx.db.value("SELECT company_id FROM contacts WHERE id = :i", {"i": cid})
        out.append((cid, name, company_id, company))
    return out


@pytest.fixture
def people(ctx: Ctx) -> Iterator[tuple[Ctx, list[tuple[int, str, int | None, str | None]]]]:
    yield ctx, _people(ctx)


purchase_rows = st.lists(
    st.tuples(
        st.integers(0, len(NAMES) - 1),  # who
        st.integers(-3, 900),  # days before AS_OF (negative: after, and on AS_OF itself)
        st.sampled_from([100, 2_500, 2_500, 99_999, 1_000_000]),  # ties on purpose
        st.sampled_from(["EUR", "EUR", "EUR", "USD"]),
    ),
    max_size=30,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=purchase_rows,
    by=st.sampled_from(v.ORDERS),
    level=st.sampled_from(["contact", "company"]),
    since_days=st.none() | st.integers(1, 700),
)
def test_the_store_ranks_as_the_oracle_does(
    people: tuple[Ctx, list[tuple[int, str, int | None, str | None]]],
    rows: list[tuple[int, int, int, str]],
    by: str,
    level: str,
    since_days: int | None,
) -> None:
    ctx, who = people
    ctx.db.execute("DELETE FROM purchases")
    bought = []
    for i, days, cents, cur in rows:
        cid, name, company_id, company = who[i]
        day = AS_OF - timedelta(days=days)
        purchases.add_purchase(ctx, cid, cents, on=day, currency=cur, future=days < 0)
        bought.append(oracle_value.Purchase(cid, name, company_id, company, day, cents, cur))
    since = AS_OF - timedelta(days=since_days) if since_days is not None else None
    got = rank(ctx, by=by, level=level, as_of=AS_OF, since=since)
    summary, expected = oracle_value.rank_customers(
        bought, as_of=AS_OF, since=since, level=level, by=by
    )
    from tinycrm.cli.output import to_jsonable

    assert to_jsonable(got.customers) == expected
    assert {k: to_jsonable(got.summary)[k] for k in summary} == summary


def _buy(
    ctx: Ctx, cid: int, days_ago: int, cents: int, currency: str = "EUR", *, future: bool = False
) -> None:
    on = AS_OF - timedelta(days=days_ago)
    purchases.add_purchase(ctx, cid, cents, on=on, currency=currency, future=future)


def test_rank_json_and_its_boundaries(cli: Runner, ctx: Ctx) -> None:
    who = _people(ctx)
    ada, bob, cy = who[0][0], who[1][0], who[2][0]
    _buy(ctx, ada, 10, 40_000)
    _buy(ctx, ada, 400, 10_000)
    _buy(ctx, bob, 30, 25_000)
    _buy(ctx, bob, 30, 5_000, "USD")  # another currency: left out, and counted
    _buy(ctx, cy, -1, 99_900, future=True)  # tomorrow: counts from tomorrow on
    out = cli.ok("rank", "--json").json()
    assert set(out) == {"summary", "customers"}
    assert out["summary"] == {
        "n": 2,
        "revenue": "750.00",
        "top20_share": "0.6667",
        "currency": "EUR",
        "level": "contact",
        "as_of": "2026-11-23",
        "since": None,
        "clv_years": 3,
        "other_currencies": 1,
    }
    first = out["customers"][0]
    assert list(first) == [
        "rank", "id", "name", "recency_days", "frequency", "monetary",
        "r", "f", "m", "rfm", "segment", "abc", "clv",
    ]  # fmt: skip
    # with n = 2 the better one ranks 2nd of 2 ascending: score 1 + 5 x 1 // 2 = 3
    assert (first["id"], first["frequency"], first["monetary"], first["rfm"]) == (
        ada, 2, "500.00", "333",
    )  # fmt: skip
    assert out["customers"][1]["rfm"] == "111"
    # clv: 500.00 x 365 x 3 / 400 days since the first purchase = 1368.75
    assert first["clv"] == "1368.75"
    tomorrow = cli.ok("rank", "--json", "--as-of", "2026-11-24").json()
    assert tomorrow["summary"]["n"] == 3
    # --since is inclusive: Bob bought on 2026-10-24, Ada on 11-13 (and 2025-10-19: out)
    since = cli.ok("rank", "--json", "--since", "2026-10-24").json()
    assert [(c["id"], c["monetary"]) for c in since["customers"]] == [
        (ada, "400.00"),
        (bob, "250.00"),
    ]


def test_rank_levels_orders_and_filters(cli: Runner, ctx: Ctx) -> None:
    who = _people(ctx)
    for k, (cid, _, _, _) in enumerate(who):
        for j in range(k + 1):
            _buy(ctx, cid, 5 + 20 * j + k, 1_000 * (k + 1))
    companies = cli.ok("rank", "--json", "--level", "company", "--by", "value").json()
    # Acme = Ada (1,000) + Bob (2 x 2,000); Birch = Cy (3 x 3,000) + Dee (5 x 5,000)
    assert [(c["name"], c["monetary"], c["frequency"]) for c in companies["customers"]] == [
        ("Birch", "340.00", 8),
        ("Acme", "50.00", 3),
    ]
    top2 = cli.ok("rank", "--json", "--by", "value", "--top", "2").json()["customers"]
    assert [c["rank"] for c in top2] == [1, 2]
    assert [c["name"] for c in top2] == ["Eve", "Dee"]
    everyone = cli.ok("rank", "--json").json()["customers"]
    for seg in {c["segment"] for c in everyone}:
        only = cli.ok("rank", "--json", "--segment", seg).json()["customers"]
        assert only == [c for c in everyone if c["segment"] == seg]  # ranks stay overall
    plain = cli.ok("rank", "--by", "abc").stdout.splitlines()
    assert len(plain) == len(NAMES)
    assert plain[0].split("\t")[:6] == [
        "1",
        "Eve",
        f"#{who[5][0]}",
        *plain[0].split("\t")[3:5],
        "A",
    ]
    explained = cli.ok("rank", "--explain", "--top", "1").stdout
    assert "clv = total × 365 × 3 years / max(365, days since the first purchase)" in explained


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--by", "size"], "--by must be one of rfm, value, clv, abc: 'size'"),
        (["--level", "team"], "--level must be contact or company: 'team'"),
        (["--segment", "whales"], "no segment 'whales'"),
        (["--top", "0"], "--top must be at least 1: 0"),
        (["--since", "2026-12-01", "--as-of", "2026-11-01"], "must be on or before --as-of"),
        (["--as-of", "someday"], "someday"),
    ],
)
def test_rank_refuses_bad_options(cli: Runner, args: list[str], message: str) -> None:
    result = cli("rank", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1


def test_clv_years_comes_from_the_settings(
    cli: Runner, ctx: Ctx, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (cid, *_), *_ = _people(ctx)
    _buy(ctx, cid, 500, 36_500)
    settings_file = tmp_path / "settings.toml"
    settings_file.write_text("clv_years = 5\n", encoding="utf-8")
    monkeypatch.setenv("TINYCRM_SETTINGS", str(settings_file))
    from tinycrm.cli import state

    state.close()  # the next command reads the settings afresh, as a new process does
    [c] = cli.ok("rank", "--json").json()["customers"]
    # 365.00 x 365 x 5 / 500 days = 1332.25
    assert c["clv"] == "1332.25"
    settings_file.write_text("clv_years = 0\n", encoding="utf-8")
    bad = cli("rank")
    assert bad.exit_code == 2 and "clv_years" in bad.stderr


def test_json_is_valid_on_an_empty_store(cli: Runner) -> None:
    out = json.loads(cli.ok("rank", "--json").stdout)
    assert out["customers"] == [] and out["summary"]["n"] == 0
    assert out["summary"]["top20_share"] == "0.0000"


def test_rank_as_csv_keeps_formulas_inert(cli: Runner, ctx: Ctx) -> None:
    import csv
    import io

    evil = contacts.add_contact(ctx, name='=HYPERLINK("http://x.example","click")')
    plain = contacts.add_contact(ctx, name="Plain Buyer")
    _buy(ctx, evil, 5, 1_000)
    _buy(ctx, plain, 9, 2_000)
    out = cli.ok("rank", "--format", "csv", "--by", "value").stdout
    assert out.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == [
        "rank", "id", "name", "recency_days", "frequency", "monetary",
        "r", "f", "m", "rfm", "segment", "abc", "clv",
    ]  # fmt: skip
    assert [r[2] for r in rows[1:]] == ["Plain Buyer", '\'=HYPERLINK("http://x.example","click")']
    assert rows[1][5] == "20.00"  # money stays a plain decimal
    assert cli("rank", "--format", "csv", "--json").exit_code == 2


def test_rank_takes_clv_years_from_the_context(ctx: Ctx) -> None:
    """The CLI and the full-screen app both build their Ctx from the settings."""
    import dataclasses

    (cid, *_), *_ = _people(ctx)
    _buy(ctx, cid, 500, 36_500)
    five = dataclasses.replace(ctx, clv_years=5)
    [c] = rank(five, as_of=AS_OF).customers
    assert c.clv == Money(133225, "EUR")  # 365.00 x 365 x 5 / 500 days
    assert rank(five, as_of=AS_OF).summary.clv_years == 5
    [c] = rank(five, as_of=AS_OF, clv_years=3).customers
    assert c.clv == Money(79935, "EUR")
