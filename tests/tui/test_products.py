"""Products in the app (#22), under Pilot on the seeded store: the board's items view of
a deal, and what to offer a contact next on their view."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Static

from tests.conftest import Runner
from tests.tui.test_screens import run, settle
from tinycrm.tui.app import TinyCRMApp
from tinycrm.tui.screens.contact import ContactScreen
from tinycrm.tui.screens.deals import DealsScreen, ItemsView


def _catalogue(cli: Runner) -> None:
    cli.ok("product", "add", "Pro licence", "--price", "120", "--sku", "PRO-1",
           "--tax-rate", "19%")  # fmt: skip
    cli.ok("product", "add", "Support", "--price", "50", "--sku", "SUP")
    cli.ok("product", "add", "Hardware", "--price", "900", "--sku", "HW")


def test_the_board_shows_a_deals_items_and_totals(seeded: str) -> None:
    cli = Runner()
    _catalogue(cli)
    cli.ok("deal", "item", "add", "2", "PRO-1", "--qty", "10", "--discount", "10%")  # Stone pilot
    cli.ok("deal", "item", "add", "2", "SUP", "--qty", "2")

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("3")
        await settle(pilot)
        assert isinstance(app.screen, DealsScreen)
        await pilot.press("i")  # the Lead column has the focus: Stone pilot
        await settle(pilot)
        assert isinstance(app.screen, ItemsView)
        shown = str(app.screen.query_one("#items", Static).render())
        assert "Pro licence (PRO-1)" in shown
        assert "10 × 120.00 less 120.00 (10%) · tax 19% = 1,080.00" in shown
        assert "2 × 50.00 · tax 0% = 100.00" in shown
        assert "net  1,180.00 EUR" in shown and "tax 19%  205.20 EUR" in shown
        assert "total  1,385.20 EUR" in shown
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DealsScreen)

    run(flow)


def test_the_contact_view_offers_what_others_bought_with_theirs(seeded: str) -> None:
    cli = Runner()
    _catalogue(cli)
    for who, sku in [("alice", "PRO-1"), ("bob", "PRO-1"), ("bob", "SUP"), ("carla", "PRO-1"),
                     ("carla", "SUP"), ("carla", "HW")]:  # fmt: skip
        cli.ok("purchase", "add", who, "10", "--product", sku, "--date", "2026-11-01")

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        app.open_contact(1)  # Alice bought PRO-1 only
        await settle(pilot)
        assert isinstance(app.screen, ContactScreen)
        await settle(pilot)
        shown = str(app.screen.query_one("#recommend", Static).render())
        # SUP: 2 of PRO-1's 3 buyers, and only they: 2/√(3·2); HW: 1/√(3·1)
        assert shown.splitlines()[1:] == [
            "Offer next", "  SUP Support  0.82", "  HW Hardware  0.58",
        ]  # fmt: skip

    run(flow)
