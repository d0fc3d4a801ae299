"""The filter bar on Contacts and Deals under Pilot: a filter narrows the list (read in a
worker), a bad one is shown inline with its column and the list stays, ctrl+s saves the
filter, order and columns as a view, and the views switch from the screen."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Input, Select, Static

from tests.conftest import Runner
from tests.tui.test_screens import run, settle
from tinycrm.tui.app import TinyCRMApp
from tinycrm.tui.screens.contacts import ContactsScreen, ContactTable
from tinycrm.tui.screens.deals import DealsScreen, StageColumn
from tinycrm.tui.screens.forms import SaveViewForm


def names(app: TinyCRMApp) -> list[str]:
    table = app.screen.query_one(ContactTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


def error_text(app: TinyCRMApp) -> str:
    box = app.screen.query_one("#filter-error", Static)
    return str(box.render()) if box.display else ""


async def type_filter(pilot: Pilot[int], text: str) -> None:
    await pilot.press("f")
    box = pilot.app.screen.query_one("#filter-text", Input)
    box.value = ""
    await pilot.press(*text, "enter")
    await settle(pilot)


def test_contacts_filter_bar_narrows_says_what_is_wrong_and_saves_a_view(seeded: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("2")
        await settle(pilot)
        assert isinstance(app.screen, ContactsScreen)
        assert len(names(app)) == 4
        await type_filter(pilot, "tag:vip or company:acme")
        assert names(app) == ["Alice Wong", "Carla Diaz"]
        assert error_text(app) == ""
        assert "filtered" in str(app.screen.query_one("#contacts-status", Static).render())
        # a filter that can't be read: the list stays, the bar says where and why
        await type_filter(pilot, "tag:vip and")
        assert names(app) == ["Alice Wong", "Carla Diaz"]
        assert error_text(app) == "tag:vip and\n           ^ column 12: expected a condition"
        assert app.screen.query_one("#filter-text", Input).has_class("-invalid")
        status = str(app.screen.query_one("#contacts-status", Static).render())
        assert status.startswith("2 contacts · filtered")  # the filter still shown
        await type_filter(pilot, "last-contact<2026-11-10")
        assert names(app) == ["Alice Wong"]
        assert error_text(app) == ""
        # ctrl+s: the filter, order and columns become a view of contacts
        await pilot.press("escape", "o")  # back to the list; order: name Z→A
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, SaveViewForm)
        await pilot.press(*"quiet ones", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ContactsScreen)
        views = Runner().ok("view", "list", "--json").json()
        assert [(v["name"], v["entity"], v["filter"], v["sort"]) for v in views] == [
            ("quiet ones", "contacts", "last-contact<2026-11-10", "name-desc")
        ]

    run(flow)


def test_views_switch_on_the_contacts_screen(seeded: str) -> None:
    cli = Runner()
    cli.ok(
        "view",
        "save",
        "acme",
        "--where",
        "company:acme",
        "--sort",
        "name-desc",
        "--columns",
        "name,email",
    )
    cli.ok("view", "save", "vip", "--where", "tag:vip")
    cli.ok("view", "save", "big deals", "--of", "deals", "--where", "value>=5000")

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("2")
        await settle(pilot)
        bar_views = app.screen.query_one("#filter-bar").views  # type: ignore[attr-defined]
        assert sorted(bar_views) == ["acme", "vip"]  # views of contacts only
        await pilot.press("v")
        await settle(pilot)
        assert names(app) == ["Carla Diaz", "Alice Wong"]  # the view's order
        table = app.screen.query_one(ContactTable)
        assert table.shown == ["name", "email"]  # and its columns
        assert app.screen.query_one("#filter-text", Input).value == "company:acme"
        await pilot.press("v")
        await settle(pilot)
        assert names(app) == ["Alice Wong"]
        assert "view vip" in str(app.screen.query_one("#contacts-status", Static).render())
        await pilot.press("v")  # after the last view: everyone again
        await settle(pilot)
        assert len(names(app)) == 4
        assert app.screen.query_one("#filter-text", Input).value == ""
        # picked in the Views box, as a click would
        app.screen.query_one("#filter-views", Select).value = "acme"
        await settle(pilot)
        assert names(app) == ["Carla Diaz", "Alice Wong"]
        assert app.screen.query_one("#filter-text", Input).value == "company:acme"

    run(flow, size=(120, 32))


def test_deals_filter_bar_and_saving_a_view(seeded: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("3")
        await settle(pilot)
        assert isinstance(app.screen, DealsScreen)

        def cards() -> dict[str, int]:
            return {c.stage: c.option_count for c in app.screen.query(StageColumn)}

        assert sum(cards().values()) == 3
        await type_filter(pilot, "value>=5000")
        assert cards() == {"Lead": 0, "Qualified": 0, "Proposal": 1, "Negotiation": 1}
        assert error_text(app) == ""
        await type_filter(pilot, "stage:nowhere")
        assert sum(cards().values()) == 2  # the board stays as it was
        assert error_text(app).startswith("stage:nowhere\n      ^ column 7: no stage called")
        status = str(app.screen.query_one("#board-status", Static).render())
        assert status.startswith("2 open deals match 'value>=5000'")
        await type_filter(pilot, "contact:alice")
        assert cards()["Proposal"] == 1 and sum(cards().values()) == 1
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press(*"alice deals", "enter")
        await settle(pilot)
        views = Runner().ok("view", "list", "--of", "deals", "--json").json()
        assert [(v["name"], v["filter"], v["sort"]) for v in views] == [
            ("alice deals", "contact:alice", "stage")
        ]
        out = Runner().ok("deal", "list", "--view", "alice deals", "--columns", "title").stdout
        assert out == "ACME rollout\n"

    run(flow)


def test_a_saved_view_from_the_command_palette(seeded: str) -> None:
    Runner().ok("view", "save", "Stone deals", "--of", "deals", "--where", "contact:bob")

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"view: stone")
        await settle(pilot)
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DealsScreen)
        assert app.screen.query_one("#filter-text", Input).value == "contact:bob"
        counts = {c.stage: c.option_count for c in app.screen.query(StageColumn)}
        assert counts["Lead"] == 1 and sum(counts.values()) == 1
        assert "view Stone deals" in str(app.screen.query_one("#board-status", Static).render())

    run(flow)
