"""A newcomer's day in the app (issue #18): what tripped a new user, each under Pilot on
the seeded SQLite store with a frozen clock."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Static

from tests.conftest import Runner
from tests.tui.test_screens import rows, run, settle
from tinycrm.tui.app import TinyCRMApp
from tinycrm.tui.screens.contact import ContactScreen


def test_search_finds_notes_deals_and_companies_and_says_why(seeded: str) -> None:
    cli = Runner()
    cli.ok("note", "bob", "the escrow papers are signed", "--when", "2d ago")
    cli.ok("deal", "add", "carla", "Escrow renewal", "--value", "100")

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("2")
        await settle(pilot)
        table = app.screen.query_one("#contacts")
        assert "why" not in table.shown  # type: ignore[attr-defined]
        await pilot.press("slash", *"escrow")
        await settle(pilot)
        assert "why" in table.shown  # type: ignore[attr-defined]
        found = {r[0]: r[-1] for r in rows(app, "contacts")}
        assert found == {
            "Bob Stone": "note: the escrow papers are signed",
            "Carla Diaz": "deal: Escrow renewal",
        }
        status = str(app.screen.query_one("#contacts-status", Static).render())
        assert status.startswith("2 matching 'escrow'")
        await pilot.press("escape")
        await settle(pilot)
        assert "why" not in table.shown  # type: ignore[attr-defined]

    run(flow, size=(140, 40))


def test_the_palette_finds_a_contact_by_a_note_and_says_why(seeded: str) -> None:
    Runner().ok("note", "bob", "the escrow papers are signed", "--when", "2d ago")

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        from textual.command import CommandPalette
        from textual.widgets import OptionList

        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"escrow")
        await pilot.pause(0.8)
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        options = palette.query_one(OptionList)
        shown = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert any("Bob Stone" in s and "note: the escrow papers are signed" in s for s in shown)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ContactScreen)
        assert app.screen.contact_id == 2

    run(flow)


def test_screen_keys_work_after_escape_from_a_contact_opened_from_search(seeded: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("slash", *"bob", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ContactScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen.query_one("#search").value == "bob"  # type: ignore[attr-defined]
        await pilot.press("3")
        await settle(pilot)
        assert type(app.screen).__name__ == "DealsScreen"
        await pilot.press("2")
        await settle(pilot)
        assert app.screen.query_one("#search").value == "bob"  # type: ignore[attr-defined]

    run(flow)
