"""`tinycrm report service` against figures worked out by hand (docs/reports.md), on SQLite
and PostgreSQL. Working hours are the default Mon-Fri 09:00-17:00 in Berlin (UTC+1 in
November); the period is Mon 23 - Fri 27 Nov 2026, judged at Fri 27 Nov 12:00 Berlin.

Targets (working time): urgent 1h/4h, high 4h/1d (8h), normal 1d/3d, low 2d/10d.

A urgent, sam: Mon 10:00 opened, note 11:30, closed 14:00 (5). Response 90 > 60: late;
  resolution 240 = 240: met.
B high, sam: Mon 10:00 opened, waiting 12:00, open Tue 09:00, resolved Tue 13:00, closed
  Wed (3). Response 120; resolution 660 less 300 waited = 360.
C normal, kim: Mon 10:00 opened, nothing since. Late now: no answer after 2040 working
  minutes (480), unresolved (1440).
D low, kim: Thu 15:00 opened, note Fri 09:30. Response 120 + 30 = 150; open.
E normal, sam: Fri 20 Nov 10:00 opened, closed Mon 23 15:00 (4) with no note. Response
  (resolving answered it) 420 + 360 = 780 > 480: late; resolution 780.
F high, sam: Wed 09:00 opened, waiting 10:00. Response 60; waiting, 60 minutes worked.
G urgent, kim: Tue 17 Nov opened and closed (1): before the period.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.conftest import Runner

PERIOD = ("--since", "2026-11-23", "--until", "2026-11-27", "--as-of", "2026-11-27 12:00")


def _at(monkeypatch: pytest.MonkeyPatch, utc: str) -> None:
    monkeypatch.setenv("TINYCRM_NOW", f"{utc}+00:00")


@pytest.fixture
def cases(cli: Runner, monkeypatch: pytest.MonkeyPatch) -> Runner:
    cli.ok("user", "add", "kim")
    cli.ok("contact", "add", "Alice Wong")
    _at(monkeypatch, "2026-11-17T09:00:00")
    cli.ok("case", "add", "alice", "G", "--priority", "urgent", "--owner", "kim")
    cli.ok("case", "close", "1", "--solution", "done", "--satisfaction", "1")
    _at(monkeypatch, "2026-11-20T09:00:00")
    cli.ok("case", "add", "alice", "E", "--priority", "normal")  # 2
    _at(monkeypatch, "2026-11-23T09:00:00")
    cli.ok("case", "add", "alice", "A", "--priority", "urgent")  # 3
    cli.ok("case", "add", "alice", "B", "--priority", "high")  # 4
    cli.ok("case", "add", "alice", "C", "--priority", "normal", "--owner", "kim")  # 5
    _at(monkeypatch, "2026-11-23T10:30:00")
    cli.ok("case", "note", "3", "looking")
    _at(monkeypatch, "2026-11-23T11:00:00")
    cli.ok("case", "edit", "4", "--status", "waiting")
    _at(monkeypatch, "2026-11-23T13:00:00")
    cli.ok("case", "close", "3", "--solution", "restarted", "--satisfaction", "5")
    _at(monkeypatch, "2026-11-23T14:00:00")
    cli.ok("case", "close", "2", "--solution", "sent the form", "--satisfaction", "4")
    _at(monkeypatch, "2026-11-24T08:00:00")
    cli.ok("case", "edit", "4", "--status", "open")
    _at(monkeypatch, "2026-11-24T12:00:00")
    cli.ok("case", "edit", "4", "--status", "resolved")
    _at(monkeypatch, "2026-11-25T08:00:00")
    cli.ok("case", "add", "alice", "F", "--priority", "high")  # 6
    _at(monkeypatch, "2026-11-25T09:00:00")
    cli.ok("case", "edit", "6", "--status", "waiting")
    _at(monkeypatch, "2026-11-25T10:00:00")
    cli.ok("case", "close", "4", "--solution", "replaced", "--satisfaction", "3")
    _at(monkeypatch, "2026-11-26T14:00:00")
    cli.ok("case", "add", "alice", "D", "--priority", "low", "--owner", "kim")  # 7
    _at(monkeypatch, "2026-11-27T08:30:00")
    cli.ok("case", "note", "7", "on it")
    _at(monkeypatch, "2026-11-27T16:00:00")  # later than --as-of: it judges, not the clock
    return cli


def _report(cli: Runner, *args: str) -> Any:
    return cli.ok("report", "service", *PERIOD, *args, "--json").json()


def _by_user(report: Any) -> dict[str, Any]:
    return {u["user"]: u for u in report["users"]} | {"team": report["team"]}


def test_service_report_matches_the_hand_computed_figures(cases: Runner) -> None:
    r = _report(cases)
    assert (r["since"], r["until"], r["as_of"], r["owner"]) == (
        "2026-11-23", "2026-11-27", "2026-11-27T11:00:00Z", None,
    )  # fmt: skip
    u = _by_user(r)
    assert list(u) == ["kim", "sam", "team"]
    sam, kim, team = u["sam"], u["kim"], u["team"]

    assert (sam["opened"], kim["opened"], team["opened"]) == (3, 2, 5)
    # open now: F (waiting, high, 2d 3h old); C (normal, 4d 2h) and D (low, 21h)
    assert (sam["open_now"], kim["open_now"], team["open_now"]) == (1, 2, 3)
    assert team["open_by_priority"] == {"urgent": 0, "high": 1, "normal": 1, "low": 1}
    assert team["open_by_age"] == {"under 1d": 1, "1-3d": 1, "3-7d": 1, "7-30d": 0, "30d+": 0}
    assert kim["open_by_age"] == {"under 1d": 1, "1-3d": 0, "3-7d": 1, "7-30d": 0, "30d+": 0}
    # only C is late: no answer after 2040 working minutes (target 480), unresolved (1440);
    # F waited 1080 of its 1140 minutes, so it is 60 minutes into its 480
    assert (kim["late_response_now"], kim["late_resolution_now"]) == (1, 1)
    assert (sam["late_response_now"], sam["late_resolution_now"]) == (0, 0)

    # responses in the period: A 90 (late), B 120, E 780 (late: resolving answered it), F 60
    assert sam["response"] == {"count": 4, "breached": 2, "median_minutes": 90, "p90_minutes": 780}
    assert kim["response"] == {"count": 1, "breached": 0, "median_minutes": 150, "p90_minutes": 150}
    assert team["response"] == {
        "count": 5, "breached": 2, "median_minutes": 120, "p90_minutes": 780,
    }  # fmt: skip
    # resolutions: A 240 (= its 4h target: met), B 360, E 780; G was before the period
    assert sam["resolution"] == {
        "count": 3, "breached": 0, "median_minutes": 360, "p90_minutes": 780,
    }  # fmt: skip
    assert kim["resolution"] == {
        "count": 0, "breached": 0, "median_minutes": None, "p90_minutes": None,
    }  # fmt: skip
    # satisfaction of the cases closed in the period: 5, 4, 3 (G's 1 was before)
    assert (team["csat_count"], team["csat_average"]) == (3, 4.0)
    assert team["csat_scores"] == {"1": 0, "2": 0, "3": 1, "4": 1, "5": 1}
    assert (kim["csat_count"], kim["csat_average"]) == (0, None)


def test_the_period_picks_the_cases(cases: Runner) -> None:
    # the week before: G opened, answered, resolved and scored; E opened
    r = cases.ok(
        "report", "service", "--since", "2026-11-16", "--until", "2026-11-22", "--json"
    ).json()
    team = r["team"]
    assert team["opened"] == 2
    assert team["response"] == {"count": 1, "breached": 0, "median_minutes": 0, "p90_minutes": 0}
    assert (team["resolution"]["count"], team["csat_count"], team["csat_scores"]["1"]) == (1, 1, 1)


def test_owner_narrows_to_one_users_cases(cases: Runner) -> None:
    r = _report(cases, "--owner", "kim")
    assert r["owner"] == "kim"
    assert [u["user"] for u in r["users"]] == ["kim"]
    assert r["team"]["opened"] == 2 and r["team"]["response"]["count"] == 1


def test_csv_and_piped_lines(cases: Runner) -> None:
    out = cases.ok("report", "service", *PERIOD, "--format", "csv").stdout
    tables = [list(csv.DictReader(io.StringIO(t))) for t in out.split("\r\n\r\n")]
    assert [len(t) for t in tables] == [3, 3, 3]  # kim, sam, team
    times = {row["user"]: row for row in tables[1]}
    assert (times["team"]["response_median_minutes"], times["team"]["response_p90_minutes"]) == (
        "120", "780",
    )  # fmt: skip
    assert times["kim"]["resolution_median_minutes"] == ""
    assert tables[0][0]["age_3-7d"] == "1" and tables[2][2]["average"] == "4.0"
    piped = cases.ok("report", "service", *PERIOD).stdout.splitlines()
    assert {line.split("\t")[0] for line in piped} == {"open", "times", "csat"}
    assert "times\tteam\t5\t5\t2h\t13h\t2\t3\t6h\t13h\t0" in piped
    # G was answered by its resolution at once: 0 minutes, not "now"
    week = cases.ok("report", "service", "--since", "2026-11-16", "--until", "2026-11-22")
    assert "times\tteam\t2\t1\t0 min\t0 min\t0\t1\t0 min\t0 min\t0" in week.stdout


def test_an_empty_store_and_bad_options(cli: Runner) -> None:
    team = cli.ok("report", "service", "--json").json()["team"]
    assert (team["opened"], team["open_now"], team["response"]["median_minutes"]) == (0, 0, None)
    r = cli("report", "service", "--owner", "nobody")
    assert (r.exit_code, r.stderr) == (2, "Error: no user called 'nobody' (users: sam)\n")
    r = cli("report", "service", "--since", "2026-12-01", "--until", "2026-11-01")
    assert r.exit_code == 2 and r.stderr.count("\n") == 1 and "--since" in r.stderr
