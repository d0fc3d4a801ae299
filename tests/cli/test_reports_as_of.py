"""`report customers --as-of`: the customer base as it stood at the end of a past day, on
tests/cli/test_reports.py's store (its comments say who bought and was called when)."""

from __future__ import annotations

import pytest

from tests.cli.test_reports import Crm, crm  # noqa: F401  (the fixture)
from tests.conftest import Runner


def test_customers_as_of_a_past_day(cli: Runner, crm: Crm) -> None:  # noqa: F811
    r = cli.ok("report", "customers", "--as-of", "2026-11-01", "--json").json()
    assert r["as_of"] == "2026-11-01" and r["contacts"] == 9  # the contacts are today's
    assert {s["name"]: s["contacts"] for s in r["segments"]} == {
        # Dan's purchase (20 Nov) and Ivy's third (3 Nov) come later
        "bought": 6,  # Alice, Bob, Cara, Eve, Hal, Ivy
        "repeat": 4,  # Alice, Bob (1 Nov counts: the as-of day is included), Hal, Ivy
        "once": 1,  # Cara (1 June); Eve's 25 Aug is not over 90 days before 1 Nov
        "never-bought": 3,  # Dan, Finn, Gus
        # Bob and Dan were first called after 1 Nov; Finn and Hal never
        "never-contacted": 4,
        # Alice: 181 days since 4 May, more than twice her 59.5-day rhythm
        "churn": 1,
    }
    # 600 + 3,000 + 500 + 70 + 800 + 20: Ivy's third 10.00 and Dan's 50.00 come later
    assert (r["revenue"], r["revenue_customers"]) == ("4990.00", 6)
    assert r["other_currencies"] == ["USD"]  # Bob's 50 USD on 1 Nov
    listed = cli.ok(
        "report", "customers", "--list", "never-contacted", "--as-of", "2026-11-01", "--json"
    ).json()
    assert sorted(c["name"] for c in listed) == [
        "Bob Busy",
        "Dan Recent",
        "Finn Never",
        "Hal Twice",
    ]
    ivy = cli.ok(
        "report", "customers", "--list", "repeat", "--as-of", "2026-10-20", "--json"
    ).json()
    # on 20 Oct Ivy had bought on one day only; Alice was last called on 5 Jan then
    assert "Ivy Even" not in [c["name"] for c in ivy]
    alice = next(c for c in ivy if c["name"] == "Alice Able")
    assert alice["last_touch_at"] == "2026-01-05T10:00:00Z"
    assert alice["total"] == "600.00"


@pytest.mark.parametrize("bad", ["soon-ish", "2026-13-01"])
def test_customers_as_of_must_be_a_day(cli: Runner, bad: str) -> None:
    r = cli("report", "customers", "--as-of", bad)
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.startswith("Error: --as-of: ") and r.stderr.count("\n") == 1
