"""What the app shares with the command line's fixes of issue #18, under Pilot on the
seeded store: count lines from the store (item 5), totals per currency (6), "N of M"
wording (20), and snooze moving a reminder later (2)."""

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


def test_snooze_then_enter_moves_a_reminder_later_never_earlier(seeded: str) -> None:
    from tinycrm.tui.screens.forms import FormModal

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("down", "down", "s")  # check in, due Fri 27 Nov 09:00
        await settle(pilot)
        assert isinstance(app.screen, FormModal)
        await pilot.press("enter")  # the default: the morning after it is due
        await settle(pilot)
        assert not isinstance(app.screen, FormModal)
        await pilot.press("s")
        await settle(pilot)
        await pilot.press(*"tomorrow", "enter")  # Tue 24 Nov: earlier, refused
        await settle(pilot)
        assert isinstance(app.screen, FormModal)
        assert "snoozing moves a reminder later" in status(app, "form-error")

    run(flow)
    [check_in] = [
        r for r in Runner().ok("todo", "--all", "--json").json() if r["text"] == "check in"
    ]
    assert (check_in["due_at"], check_in["snoozed"]) == ("2026-11-28T08:00:00Z", 1)
