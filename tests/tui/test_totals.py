"""The app's count and total lines come from the store and name every currency (#18,
items 5 and 6), under Pilot on the seeded store."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from tests.conftest import Runner
from tests.tui.test_screens import rows, run, settle
from tinycrm.tui import data
from tinycrm.tui.app import TinyCRMApp


def status(app: TinyCRMApp, widget_id: str) -> str:
    return str(app.screen.query_one(f"#{widget_id}", Static).render())


def test_reminders_line_counts_the_store_not_the_rows_loaded(
    seeded: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    Runner().ok("remind", "bob", "2026-11-22 10:00", "chase the invoice")  # overdue too
    monkeypatch.setattr(data, "REMINDERS", 1)  # as 500 of 5,442 on the big store

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("4")
        await settle(pilot)
        assert len(rows(app, "reminder-list")) == 1
        assert status(app, "reminders-status") == ("1 of 4 open reminders (everyone's) · 2 overdue")

    run(flow)


def test_board_line_counts_every_deal_and_names_every_currency(seeded: str) -> None:
    Runner().ok("deal", "add", "bob", "UK pilot", "--value", "1200", "--currency", "GBP")

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("3")
        await settle(pilot)
        assert status(app, "board-status") == (
            "4 open deals · 23,000.00 EUR + 1,200.00 GBP · weighted 12,300.00 EUR (in EUR only)"
        )

    run(flow)


def test_rankings_line_says_how_many_of_how_many(
    seeded: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tinycrm.tui.screens import rankings

    monkeypatch.setattr(rankings, "LIMIT", 1)  # as 1,000 of 43,277 on the big store

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("5")
        await settle(pilot)
        assert status(app, "ranking-status").startswith("1 of 2 shown · by rfm · contacts")

    run(flow)
