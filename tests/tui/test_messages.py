"""What the app's parts tell each other: the contacts list says which contact was chosen
and when home or end wants the list's ends; screens get their data as messages from
their workers."""

from __future__ import annotations

from typing import TypeVar

from textual.message import Message
from textual.pilot import Pilot

from tests.tui.test_screens import rows, run, settle
from tinycrm.tui.app import TinyCRMApp
from tinycrm.tui.screens.contact import ContactScreen
from tinycrm.tui.screens.contacts import ContactsScreen, ContactTable
from tinycrm.tui.screens.reminders import RemindersScreen

M = TypeVar("M", bound=Message)


def sent(messages: list[Message], kind: type[M]) -> list[M]:
    """The messages of `kind`, each once (the hook sees a message at every node it
    bubbles through)."""
    return list({id(m): m for m in messages if isinstance(m, kind)}.values())


def test_choosing_a_contact_in_the_list_says_which(seeded: str) -> None:
    messages: list[Message] = []

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("down", "enter")  # Bob Stone
        await settle(pilot)
        chosen = [m.contact_id for m in sent(messages, ContactTable.ContactSelected)]
        assert chosen == [2]
        assert isinstance(app.screen, ContactScreen) and app.screen.contact_id == 2

    run(flow, messages=messages)


def test_home_and_end_ask_the_screen_for_the_ends_of_the_list(seeded: str) -> None:
    messages: list[Message] = []

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("end")
        await settle(pilot)
        assert rows(app, "contacts")[app.screen.query_one(ContactTable).cursor_row][0] == "王小明"
        await pilot.press("home")
        await settle(pilot)
        asked = [m.last for m in sent(messages, ContactTable.JumpRequested)]
        assert asked == [True, False]
        assert app.screen.query_one(ContactTable).cursor_row == 0

    run(flow, messages=messages)


def test_screens_get_their_data_as_messages(seeded: str) -> None:
    messages: list[Message] = []

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("2")
        await settle(pilot)
        pages = [m.page for m in sent(messages, ContactsScreen.PageLoaded)]
        assert [[c.name for c in p.rows] for p in pages] == [
            ["Alice Wong", "Bob Stone", "Carla Diaz", "王小明"]
        ]
        await pilot.press("4", "m")  # only mine
        await settle(pilot)
        loaded = [m.reminders for m in sent(messages, RemindersScreen.Loaded)]
        assert [r.total for r in loaded] == [3, 3]  # everyone's, then mine (all sam's)
        assert len(rows(app, "reminder-list")) == 3

    run(flow, messages=messages)
