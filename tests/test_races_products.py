"""Racing writers on products, line items and quote numbers (#22), in real processes on
both backends, behind tests/test_races.py's gate so they collide on every run."""

from __future__ import annotations

import pytest

from tests.conftest import Runner
from tests.test_races import N, count, losers, race, rows, same, winners

pytestmark = pytest.mark.slow


def _deal_with_items(cli: Runner) -> None:
    cli.ok("contact", "add", "Dana Deal")
    cli.ok("product", "add", "Pro licence", "--price", "120", "--sku", "PRO-1")
    cli.ok("deal", "add", "dana", "Pilot")
    cli.ok("deal", "item", "add", "1", "PRO-1", "--qty", "2")


def test_concurrent_quotes_get_distinct_consecutive_numbers(cli: Runner, store: str) -> None:
    _deal_with_items(cli)
    results = race(store, same(N, "quote", "1", "--json"))
    assert len(winners(results)) == N, [r.stderr for r in losers(results)]
    numbers = sorted(r.json()["number"] for r in results)
    assert numbers == [f"Q-2026-{n:04d}" for n in range(1, N + 1)]
    assert count("SELECT count(*) FROM quotes") == N
    # undo takes the last quote back, but not its number: the next one is new
    cli.ok("undo")
    assert cli.ok("quote", "1", "--json").json()["number"] == f"Q-2026-{N + 1:04d}"


def test_one_of_several_adds_of_the_same_sku_wins(cli: Runner, store: str) -> None:
    results = race(store, same(N, "product", "add", "Widget", "--price", "5", "--sku", "W-1"))
    assert len(winners(results)) == 1
    for r in losers(results):
        assert (r.exit_code, r.stderr) == (
            1, "Error: SKU 'W-1' is taken by product #1 Widget\n",
        )  # fmt: skip
    assert count("SELECT count(*) FROM products") == 1


def test_concurrent_items_all_count_in_the_deal_value(cli: Runner, store: str) -> None:
    _deal_with_items(cli)
    results = race(store, same(N, "deal", "item", "add", "1", "PRO-1", "--qty", "1"))
    assert len(winners(results)) == N, [r.stderr for r in losers(results)]
    deal = cli.ok("deal", "show", "1", "--json").json()
    assert [i["line"] for i in deal["lines"]["items"]] == list(range(1, N + 2))
    assert deal["value"] == f"{120 * (N + 2)}.00"
    assert deal["version"] == N + 2
    assert [r["position"] for r in rows("SELECT position FROM deal_items ORDER BY id")] == list(
        range(1, N + 2)
    )
