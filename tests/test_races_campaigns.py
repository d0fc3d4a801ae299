"""Campaign commands racing in real processes on both backends (tests/test_races.py's
gate makes them collide): a name is taken once, a checked edit wins once, a removal once."""

from __future__ import annotations

from tests.conftest import Runner
from tests.test_races import N, count, losers, race, racer, same, winners


def test_one_campaign_takes_a_name(cli: Runner, store: str) -> None:
    cli.ok("campaign", "add", "Alpha", "--source", "web", "--cost", "1")
    results = race(
        store,
        [racer("campaign", "add", "Zeta", "--source", "web", "--cost", "5"),
         racer("campaign", "add", "ZETA", "--source", "fair", "--cost", "5"),
         racer("campaign", "edit", "alpha", "--name", "zeta")],
    )  # fmt: skip
    assert len(winners(results)) == 1
    for r in losers(results):
        assert r.exit_code == 2 and r.stderr.startswith("Error: there is a campaign called ")
    assert count("SELECT count(*) FROM campaigns WHERE lower(name) = 'zeta'") == 1


def test_one_stale_checked_campaign_edit_wins(cli: Runner, store: str) -> None:
    cli.ok("campaign", "add", "Fair", "--source", "fair", "--cost", "100")
    results = race(store, same(N, "campaign", "edit", "1", "--cost", "200", "--if-version", "1"))
    assert len(winners(results)) == 1
    for r in losers(results):
        assert r.exit_code == 1 and "(version 2, you had 1); nothing was saved" in r.stderr
    assert count("SELECT version FROM campaigns WHERE id = 1") == 2


def test_one_campaign_removal_wins(cli: Runner, store: str) -> None:
    cli.ok("campaign", "add", "Fair", "--source", "fair", "--cost", "100")
    results = race(store, same(N, "campaign", "rm", "1", "--yes"))
    assert len(winners(results)) == 1
    for r in losers(results):
        assert (r.exit_code, r.stderr) == (2, "Error: no campaign with id 1\n")
    assert count("SELECT count(*) FROM audit_log WHERE entity = 'campaign'"
                 " AND action = 'delete'") == 1  # fmt: skip
