"""Forecast and goals (#21): `report forecast`, `goal set|list|rm`, goal progress in
`report team` and the digest, and wins credited to who owned the deal when it was won.

Every figure is worked out by hand in the comments, on SQLite and PostgreSQL. The clock is
Mon 23 Nov 2026 09:00 UTC (10:00 in Berlin, the user's zone); working days Mon-Fri.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Runner


def at(cli: Runner, when: str, *args: str) -> Any:
    """Run a command with the clock frozen at `when` (UTC)."""
    old = os.environ["TINYCRM_NOW"]
    os.environ["TINYCRM_NOW"] = when
    try:
        return cli.ok(*args)
    finally:
        os.environ["TINYCRM_NOW"] = old


def seed(cli: Runner) -> None:
    """sam's and max's deals around November 2026 (ids in the order made)."""
    cli.ok("user", "add", "max")
    cli.ok("contact", "add", "Alice Wong")
    deal = ("deal", "add", "alice")
    cli.ok(*deal, "Nov close", "--value", "1000", "--close", "2026-11-30", "--probability", "20")
    cli.ok(*deal, "Dec close", "--value", "2000", "--close", "2026-12-15", "--probability", "25")
    cli.ok(*deal, "Dec too", "--value", "333.33", "--close", "2026-12-31", "--probability", "33")
    cli.ok(*deal, "Jan USD", "--value", "$5000", "--close", "2027-01-10", "--probability", "50")
    cli.ok(*deal, "Later", "--value", "700", "--close", "2027-03-01", "--probability", "20")
    cli.ok(*deal, "Past", "--value", "400", "--close", "2026-11-20", "--probability", "20")
    cli.ok(*deal, "Undated", "--value", "900", "--probability", "20")
    cli.ok(*deal, "Max Dec", "--value", "10000", "--close", "2026-12-01", "--probability", "10")
    cli.ok("assign", "deal:8", "max")
    cli.ok(*deal, "Won Nov", "--value", "1500")
    cli.ok("deal", "won", "9")  # now: Mon 23 Nov 10:00 Berlin
    at(cli, "2026-10-10T09:00:00Z", *deal, "Won Oct", "--value", "250")
    at(cli, "2026-10-15T10:00:00Z", "deal", "won", "10")
    at(cli, "2026-10-20T09:00:00Z", *deal, "Won at midnight", "--value", "100")
    # 23:30 UTC on 31 Oct is 00:30 on 1 Nov in Berlin: November's, in the user's zone
    at(cli, "2026-10-31T23:30:00Z", "deal", "won", "11")
    cli.ok("assign", "deal:11", "max")  # handed over after the win: still sam's win


def line(report: dict[str, Any], period: str, currency: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [
        x for x in report["periods"] if (x["period"], x["currency"]) == (period, currency)
    ]
    assert len(found) == 1
    return found[0]


# -- forecast ----------------------------------------------------------------------------------
def test_forecast_by_month_per_currency_with_wins_and_deals_apart(cli: Runner) -> None:
    seed(cli)
    r = cli.ok("report", "forecast", "--json").json()
    assert r["owner"] == "sam" and r["today"] == "2026-11-23"
    assert r["currencies"] == ["EUR", "USD"]
    assert [(x["period"], x["currency"]) for x in r["periods"]] == [
        ("2026-11", "EUR"), ("2026-11", "USD"), ("2026-12", "EUR"), ("2026-12", "USD"),
        ("2027-01", "EUR"), ("2027-01", "USD"),
    ]  # fmt: skip
    # November: Nov close 1000 x 20% = 200; won: Won Nov 1500 (now) + Won at midnight 100
    nov = line(r, "2026-11", "EUR")
    assert (nov["deals"], nov["value"], nov["weighted"]) == (1, "1000.00", "200.00")
    assert (nov["won_deals"], nov["won_value"]) == (2, "1600.00")
    assert (nov["first"], nov["last"]) == ("2026-11-01", "2026-11-30")
    # December: 2000 x 25% = 500.00 and 333.33 x 33% = 109.9989 -> 110.00; max's deal not
    dec = line(r, "2026-12", "EUR")
    assert (dec["deals"], dec["value"], dec["weighted"]) == (2, "2333.33", "610.00")
    assert (dec["won_deals"], dec["won_value"]) == (0, "0.00")
    jan = line(r, "2027-01", "USD")
    assert (jan["deals"], jan["value"], jan["weighted"]) == (1, "5000.00", "2500.00")
    assert line(r, "2027-01", "EUR")["deals"] == 0
    # March is past the 3 months: later; 700 x 20% = 140
    assert [(x["currency"], x["deals"], x["value"], x["weighted"]) for x in r["later"]] == [
        ("EUR", 1, "700.00", "140.00")
    ]
    assert r["overdue"] == [{"currency": "EUR", "deals": 1, "value": "400.00", "weighted": "80.00"}]
    assert r["undated"] == [
        {"currency": "EUR", "deals": 1, "value": "900.00", "weighted": "180.00"}
    ]
    [past] = r["overdue_deals"]
    assert (past["id"], past["title"], past["expected_close"]) == (6, "Past", "2026-11-20")
    assert [d["title"] for d in r["undated_deals"]] == ["Undated"]


def test_forecast_by_quarter_team_and_owner(cli: Runner) -> None:
    seed(cli)
    q = cli.ok("report", "forecast", "--by", "quarter", "--team", "--json").json()
    # 12 months from 1 Oct: Q4 2026 .. Q3 2027
    assert [x["period"] for x in q["periods"] if x["currency"] == "EUR"] == [
        "2026-Q4", "2027-Q1", "2027-Q2", "2027-Q3",
    ]  # fmt: skip
    q4 = line(q, "2026-Q4", "EUR")
    # 1000 + 2000 + 333.33 + max's 10000; weighted 200 + 500 + 110 + 1000
    assert (q4["deals"], q4["value"], q4["weighted"]) == (4, "13333.33", "1810.00")
    # Won Oct 250 + Won at midnight 100 + Won Nov 1500
    assert (q4["won_deals"], q4["won_value"]) == (3, "1850.00")
    q1 = line(q, "2027-Q1", "EUR")
    assert (q1["deals"], q1["value"]) == (1, "700.00")
    assert q["later"] == [] and q["owner"] is None
    mx = cli.ok("report", "forecast", "--owner", "max", "--json").json()
    dec = line(mx, "2026-12", "EUR")
    assert (dec["deals"], dec["value"], dec["weighted"]) == (1, "10000.00", "1000.00")
    # max owns Won at midnight now, but sam won it
    assert line(mx, "2026-11", "EUR")["won_deals"] == 0
    assert mx["currencies"] == ["EUR"] and mx["overdue"] == [] and mx["undated"] == []


def test_forecast_as_of_moves_today(cli: Runner) -> None:
    seed(cli)
    # read at the start of 1 Dec: November is past, so Nov close (30 Nov) is overdue too
    r = cli.ok("report", "forecast", "--as-of", "2026-12-01", "--json").json()
    assert r["today"] == "2026-12-01" and r["as_of"] == "2026-11-30T23:00:00Z"
    assert [x["period"] for x in r["periods"] if x["currency"] == "EUR"] == [
        "2026-12", "2027-01", "2027-02",
    ]  # fmt: skip
    assert r["overdue"][0]["deals"] == 2 and r["overdue"][0]["value"] == "1400.00"
    # read at the start of 23 Nov: Won Nov (won at 10:00) is not in yet
    early = cli.ok("report", "forecast", "--as-of", "2026-11-23", "--json").json()
    nov = line(early, "2026-11", "EUR")
    assert (nov["won_deals"], nov["won_value"]) == (1, "100.00")


def test_forecast_piped_and_csv(cli: Runner) -> None:
    seed(cli)
    out = cli.ok("report", "forecast").stdout.splitlines()
    assert out[0] == "period\t2026-11\t1\t1,000.00 EUR\t200.00 EUR\t2\t1,600.00 EUR"
    assert "period\t2027-01\t1\t5,000.00 USD\t2,500.00 USD\t0\t0.00 USD" in out
    assert "period\tlater\t1\t700.00 EUR\t140.00 EUR\t0\t0.00 EUR" in out
    assert "overdue\t#6\tPast\tsam\tLead\t2026-11-20\t20\t400.00 EUR\t80.00 EUR" in out
    assert "undated\t#7\tUndated\tsam\tLead\t\t20\t900.00 EUR\t180.00 EUR" in out
    csv = cli.ok("report", "forecast", "--format", "csv").stdout.split("\r\n")
    assert csv[0] == "period,first,last,currency,deals,value,weighted,won_deals,won_value"
    assert csv[1] == "2026-11,2026-11-01,2026-11-30,EUR,1,1000.00,200.00,2,1600.00"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--by", "week"], "Error: --by must be one of month, quarter, year: 'week'\n"),
        (["--by", "year"], "Error: --by must be month or quarter: 'year'\n"),
        (["--months", "0"], "Error: --months must be between 1 and 120: 0\n"),
        (["--owner", "max", "--team"], "Error: give --owner or --team, not both\n"),
        (["--owner", "zed"], "Error: no user called 'zed' (users: max, sam)\n"),
        (["--json", "--format", "csv"], "Error: give --json or --format csv, not both\n"),
        (
            ["--as-of", "someday"],
            "Error: --as-of: can't read date 'someday': try 'tomorrow 9am',"
            " '3d', 'next friday' or 2026-12-01\n",
        ),
    ],
)
def test_forecast_bad_input(cli: Runner, args: list[str], message: str) -> None:
    cli.ok("user", "add", "max")
    r = cli("report", "forecast", *args)
    assert (r.exit_code, r.stderr, r.stdout) == (2, message, "")


# -- goals -------------------------------------------------------------------------------------
def test_goal_set_list_replace_and_rm(cli: Runner) -> None:
    cli.ok("user", "add", "max")
    r = cli.ok("goal", "set", "sam", "4000", "--per", "month", "--from", "2026-10")
    assert r.stdout == "Goal #1: sam, 4,000.00 EUR of revenue a month, from 2026-10\n"
    cli.ok("goal", "set", "sam", "€5,000", "--per", "month")  # from this month
    cli.ok("goal", "set", "max", "3", "--per", "quarter", "--metric", "won-deals")
    again = cli.ok("goal", "set", "max", "4", "--per", "quarter", "--metric", "won-deals", "--json")
    assert again.json()["id"] == 3 and again.json()["target"] == 4  # replaced, not added
    goals = cli.ok("goal", "list", "--json").json()
    assert [(g["user"], g["metric"], g["per"], g["starts"], g["until"], g["target"],
             g["amount"]) for g in goals] == [
        ("max", "won-deals", "quarter", "2026-10-01", None, 4, None),
        ("sam", "revenue", "month", "2026-10-01", "2026-10-31", 400000, "4000.00"),
        ("sam", "revenue", "month", "2026-11-01", None, 500000, "5000.00"),
    ]  # fmt: skip
    assert cli.ok("goal", "list", "--user", "max").stdout == (
        "#3\tmax\twon-deals\tquarter\t4 won deals\tfrom 2026-Q4\n"
    )
    assert cli.ok("goal", "list", "--user", "sam").stdout.splitlines()[0] == (
        "#1\tsam\trevenue\tmonth\t4,000.00 EUR\t2026-10 to 2026-10"
    )
    r = cli.ok("goal", "rm", "2")
    assert r.stdout == "Removed goal #2: sam, 5,000.00 EUR of revenue a month, from 2026-11\n"
    # the October goal applies again from then on
    assert [g["until"] for g in cli.ok("goal", "list", "--json").json()] == [None, None]
    cli.ok("undo")  # the rm, through the change journal
    assert len(cli.ok("goal", "list", "--json").json()) == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["zed", "5", "--per", "month"], "Error: no user called 'zed' (users: max, sam)\n"),
        (["sam", "5"], "Error: say how often: --per month, --per quarter or --per year\n"),
        (["sam", "5", "--per", "week"],
         "Error: --per must be one of month, quarter, year: 'week'\n"),
        (["sam", "0", "--per", "month"], None),
        (["sam", "-5", "--per", "month"], None),
        (["sam", "2.5", "--per", "month", "--metric", "activities"],
         "Error: AMOUNT of a goal in activities is a whole number from 1 to 1,000,000,000:"
         " '2.5'\n"),
        (["sam", "5", "--per", "month", "--metric", "calls"],
         "Error: --metric must be one of revenue, won-deals, activities: 'calls'\n"),
        (["sam", "5", "--per", "month", "--from", "2026-Q5"],
         "Error: --from must be a month (2026-12), a quarter (2026-Q4), a year (2026) or a day:"
         " '2026-Q5'\n"),
        (["sam", "5", "--per", "month", "--metric", "won-deals", "--currency", "USD"],
         "Error: --currency goes with a revenue goal, not won-deals\n"),
    ],
)  # fmt: skip
def test_goal_set_bad_input(cli: Runner, args: list[str], message: str | None) -> None:
    cli.ok("user", "add", "max")
    r = cli("goal", "set", *args)
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1
    if message is not None:
        assert r.stderr == message
    assert cli.ok("goal", "list", "--json").json() == []  # nothing written


def test_goal_rm_unknown(cli: Runner) -> None:
    r = cli("goal", "rm", "7")
    assert (r.exit_code, r.stderr) == (1, "Error: no goal with id 7\n")


def progress_seed(cli: Runner) -> None:
    seed(cli)
    cli.ok("settings", "set", "holidays", "2026-12-24, 2026-12-25")
    cli.ok("goal", "set", "sam", "4000", "--per", "month", "--from", "2026-10")
    cli.ok("goal", "set", "sam", "5000", "--per", "month", "--from", "2026-11")
    cli.ok("goal", "set", "max", "3", "--per", "month", "--metric", "won-deals")
    cli.ok("goal", "set", "sam", "10", "--per", "quarter", "--metric", "activities")
    at(cli, "2026-09-30T09:00:00Z", "note", "alice", "September: not this quarter")
    at(cli, "2026-10-05T09:00:00Z", "note", "alice", "October")
    cli.ok("note", "alice", "this morning", "--when", "2026-11-23 09:30")
    cli.ok("note", "alice", "planned", "--when", "2026-11-24 09:30", "--future")


def test_report_team_goals_progress_and_pace(cli: Runner) -> None:
    progress_seed(cli)
    r = cli.ok("report", "team", "--json").json()
    goals = {(g["user"], g["metric"]): g for g in r["goals"]}
    assert list(goals) == [("max", "won-deals"), ("sam", "activities"), ("sam", "revenue")]
    rev = goals[("sam", "revenue")]
    # 1500 (Won Nov) + 100 (Won at midnight, max's now) of 5000: 32%; Mon 23 - Mon 30 Nov
    # is 6 working days; 3400 / 6 = 566.666.. rounded up to the cent
    assert (rev["period"], rev["target"], rev["achieved"]) == ("2026-11", 500000, 160000)
    assert (rev["amount"], rev["achieved_money"], rev["share"]) == ("5000.00", "1600.00", 0.32)
    assert (rev["working_days"], rev["working_days_left"]) == (21, 6)
    assert (rev["remaining"], rev["pace_money"], rev["pace"]) == (340000, "566.67", None)
    act = goals[("sam", "activities")]
    # October and this morning; Q4's working days left: 6 in November, 23 in December
    # less 24 and 25 December = 27; 8 / 27 = 0.296.. rounded up to a tenth
    assert (act["period"], act["achieved"], act["share"]) == ("2026-Q4", 2, 0.2)
    assert (act["working_days"], act["working_days_left"], act["pace"]) == (64, 27, 0.3)
    won = goals[("max", "won-deals")]
    assert (won["achieved"], won["share"], won["pace"]) == (0, 0.0, 0.5)
    # the wins: sam won 3 in the last 90 days, max none, though max owns one of them now
    wins = {u["user"]: u["deals_won"] for u in r["users"]}
    assert wins == {"max": 0, "sam": 3}
    piped = cli("report", "team").stdout.splitlines()  # a note on stderr: USD left out
    assert "goal\tsam\trevenue EUR\t2026-11\t5,000.00\t1,600.00\t32%\t6\t566.67" in piped
    assert "goal\tmax\twon-deals\t2026-11\t3\t0\t0%\t6\t0.5" in piped


def test_goal_met_and_no_days_left(cli: Runner) -> None:
    progress_seed(cli)
    cli.ok("goal", "set", "sam", "1000", "--per", "month")  # replaces November's 5000
    # Monday 30 Nov is the last working day; read on Sunday 29 Nov... then on 1 Dec
    r = cli.ok("report", "team", "--json").json()
    rev = next(g for g in r["goals"] if g["metric"] == "revenue")
    assert (rev["share"], rev["remaining"], rev["pace_money"]) == (1.6, 0, "0.00")
    assert "sam\trevenue EUR\t2026-11\t1,000.00\t1,600.00\t160%\t6\tmet" in (
        cli("report", "team").stdout
    )
    cli.ok("goal", "set", "max", "3", "--per", "month", "--metric", "won-deals")
    last = at(cli, "2026-11-30T18:00:00Z", "digest", "--user", "max", "--as-of", "2026-11-30")
    assert "  0% of November's won-deals goal: 0 of 3 deals; 1 working day left," \
        " 3 deals a day to go\n" in last.stdout  # fmt: skip


def test_digest_goal_line_counts_up_to_the_day_s_start(cli: Runner) -> None:
    progress_seed(cli)
    d = cli.ok("digest", "--as-of", "2026-11-23", "--json").json()
    texts = [g["text"] for g in d["goals"]]
    # at 00:00 on 23 Nov neither this morning's note nor Won Nov (10:00) is in: 1 note,
    # 9 / 27 = 0.333.. rounded up to a tenth; 100 of 5000, 4900 / 6 = 816.666..
    assert texts == [
        "10% of Q4's activities goal: 1 of 10 activities; 27 working days left,"
        " 0.4 activities a day to go",
        "2% of November's revenue goal: 100.00 of 5,000.00 EUR; 6 working days left,"
        " 816.67 EUR a day to go",
    ]
    # October's goal in October: 250 (Won Oct) of 4000, from Mon 19 Oct (10 working days)
    octo = cli.ok("digest", "--as-of", "2026-10-19", "--json").json()["goals"]
    rev = next(g for g in octo if g["metric"] == "revenue")
    assert rev["text"] == (
        "6% of October's revenue goal: 250.00 of 4,000.00 EUR; 10 working days left,"
        " 375.00 EUR a day to go"
    )
    team = cli.ok("digest", "--team", "--as-of", "2026-11-23").stdout
    assert "  max: 0% of November's won-deals goal: 0 of 3 deals; 6 working days left," \
        " 0.5 deals a day to go\n" in team  # fmt: skip


def test_reopened_deal_loses_its_win_and_assign_keeps_it(cli: Runner) -> None:
    seed(cli)
    cli.ok("goal", "set", "sam", "3", "--per", "month", "--metric", "won-deals")
    cli.ok("assign", "deal:9", "max")
    [g] = cli.ok("report", "team", "--json").json()["goals"]
    assert g["achieved"] == 2  # Won Nov and Won at midnight: both still sam's
    cli.ok("deal", "reopen", "9")
    [g] = cli.ok("report", "team", "--json").json()["goals"]
    assert g["achieved"] == 1
    cli.ok("deal", "won", "9")  # won again, now owned by max: max's win
    [g] = cli.ok("report", "team", "--json").json()["goals"]
    assert g["achieved"] == 1
    wins = {u["user"]: u["deals_won"] for u in cli.ok("report", "team", "--json").json()["users"]}
    assert wins == {"max": 1, "sam": 2}


def test_digest_with_only_a_goal_is_still_empty(cli: Runner) -> None:
    cli.ok("goal", "set", "sam", "5000", "--per", "month")
    text = cli.ok("digest").stdout
    assert text == (
        "tinycrm digest for sam — Monday 23 November 2026\n\n"
        "Goals (1)\n"
        "  0% of November's revenue goal: 0.00 of 5,000.00 EUR; 6 working days left,"
        " 833.34 EUR a day to go\n\n"
        "Nothing is due. Nothing is slipping.\n"
    )
    assert cli.ok("digest", "--quiet-if-empty").stdout == ""


def test_imported_won_deals_count_for_their_owner(cli: Runner, tmp_path: Path) -> None:
    cli.ok("user", "add", "max")
    cli.ok("contact", "add", "Ann Lee", "-e", "ann@acme.com")
    path = tmp_path / "deals.csv"
    path.write_text(
        "title,contact,stage,status,value,currency,closed_at,owner\n"
        "Big,ann@acme.com,Won,won,1000,EUR,2026-11-10T10:00:00Z,max\n"
        "Open,ann@acme.com,Lead,,500,EUR,,max\n"
    )
    cli.ok("import", "deals", str(path))
    cli.ok("goal", "set", "max", "2000", "--per", "month")
    cli.ok("assign", "deal:1", "sam")  # max's win stays max's
    [g] = cli.ok("report", "team", "--json").json()["goals"]
    assert (g["user"], g["achieved_money"], g["share"]) == ("max", "1000.00", 0.5)


# -- query plans -------------------------------------------------------------------------------
def test_forecast_and_goal_queries_never_walk_a_big_table_row_by_row(
    sqlite_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deals through an index, interactions only through ix_interactions_happened_at;
    plans without statistics, as a real store has them (tinycrm never runs ANALYZE)."""
    import re

    from tinycrm.cli import state
    from tinycrm.services import forecast, goals

    cli = Runner()
    for metric in ("revenue", "won-deals", "activities"):
        cli.ok("goal", "set", "sam", "5", "--per", "month", "--metric", metric)
    cli.ok("goal", "set", "sam", "50", "--per", "quarter")
    ctx = state.get_ctx()
    try:
        ctx.db.conn.execute("DROP TABLE IF EXISTS sqlite_stat1")
        seen: list[tuple[str, Any]] = []
        for method in ("all", "value", "one"):
            real = getattr(type(ctx.db), method)

            def spy(self: Any, sql: str, params: Any = None, _real: Any = real) -> Any:
                seen.append((sql, params))
                return _real(self, sql, params)

            monkeypatch.setattr(type(ctx.db), method, spy)
        forecast.forecast_report(ctx)
        forecast.forecast_report(ctx, by="quarter", team=True)
        assert len(goals.progress(ctx)) == 4
        plans = []
        for sql, params in seen:
            rows = ctx.db.conn.execute("EXPLAIN QUERY PLAN " + sql, dict(params or {}))
            plans += [str(r["detail"]) for r in rows.fetchall()]
        walks = [p for p in plans if re.match(r"SCAN (deals|d)( |$)", p)]
        assert [p for p in walks if "USING" not in p] == [], walks
        assert not [p for p in plans if re.match(r"SCAN (interactions|i)( |$)", p)], plans
        assert any("ix_interactions_happened_at" in p for p in plans)
        assert any("ix_deals_status_stage" in p for p in plans)
    finally:
        state.close()
