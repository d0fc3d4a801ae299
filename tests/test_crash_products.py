"""Crash safety of purchases by product (#22): an import of purchase lines naming products,
killed mid-write, leaves the store as it was; run to the end, it lands whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Runner
from tests.crash import kill_mid_write, snapshot

pytestmark = pytest.mark.slow


def test_a_killed_import_of_product_lines_leaves_the_store_as_it_was(
    sqlite_store: str, tmp_path: Path
) -> None:
    cli = Runner()
    cli.ok("product", "add", "Pro licence", "--price", "120", "--sku", "PRO-1")
    cli.ok("product", "add", "Support", "--price", "50", "--sku", "SUP")
    cli.ok("contact", "add", "Alice Wong", "-e", "alice@acme.com")
    cli.ok("purchase", "add", "alice", "240", "--product", "PRO-1", "--qty", "2")
    csv = tmp_path / "lines.csv"
    with csv.open("w") as f:
        f.write("email,date,amount,sku,qty\n")
        for i in range(60_000):
            f.write(f"c{i % 3000}@shop.example,2025-{1 + i % 12:02d}-{1 + i % 28:02d},")
            f.write(f"{10 + i % 500}.{i % 100:02d},{('PRO-1', 'SUP')[i % 2]},{1 + i % 5}\n")
    before = snapshot(sqlite_store)
    kill_mid_write(["import", "purchases", str(csv), "--create-missing"], sqlite_store)
    assert snapshot(sqlite_store) == before
    cli.ok("doctor")
    r = cli.ok("import", "purchases", str(csv), "--create-missing", "--json").json()
    assert r["imported"] == 60_000
    report = cli.ok("report", "products", "--since", "2025-01-01", "--json").json()
    assert {(p["sku"], p["units"], p["lines"]) for p in report["products"]} == {
        ("PRO-1", 2 + 30_000 * 3 - 0, 30_001), ("SUP", 30_000 * 3, 30_000),
    }  # fmt: skip
    cli.ok("doctor")
