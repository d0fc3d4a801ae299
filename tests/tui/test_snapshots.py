"""Each screen as drawn on the seeded store, with the clock frozen (tests/conftest.py) at
100x32. After a deliberate change of the drawing, look at the report, then run
`pytest tests/tui/test_snapshots.py --snapshot-update`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from tests.tui.test_screens import settle
from tinycrm.tui.app import TinyCRMApp
from tinycrm.tui.data import Store

SIZE = (100, 32)
Snap = Callable[..., bool]


def make_app(screen: str = "today") -> TinyCRMApp:
    store = Store.open()
    store.description = "tinycrm.db"  # not the test's temporary path
    return TinyCRMApp.starting_on(screen)(store, watch=False)


def loaded(*keys: str, screen_name: str | None = None) -> Callable[[Pilot[Any]], Any]:
    """Wait for the first screen's data, press `keys`, wait again."""

    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        await settle(pilot)
        assert getattr(app.screen, "loaded_generation", -1) >= 0
        if keys:
            await pilot.press(*keys)
            await settle(pilot)
            if screen_name is not None:
                assert type(app.screen).__name__ == screen_name
        for box in app.screen.query(Input):
            box.cursor_blink = False  # a blinking cursor would make the picture random
        await pilot.pause()

    return run_before


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize("screen", ["today", "contacts", "deals", "reminders", "rankings"])
def test_screen(snap_compare: Snap, screen: str) -> None:
    assert snap_compare(make_app(screen), terminal_size=SIZE, run_before=loaded())


@pytest.mark.usefixtures("seeded")
def test_contacts_search(snap_compare: Snap) -> None:
    assert snap_compare(
        make_app("contacts"), terminal_size=SIZE, run_before=loaded("slash", *"acme")
    )


@pytest.mark.usefixtures("seeded")
def test_contact_detail(snap_compare: Snap) -> None:
    run_before = loaded("enter", screen_name="ContactScreen")
    assert snap_compare(make_app("contacts"), terminal_size=SIZE, run_before=run_before)


@pytest.mark.usefixtures("seeded")
def test_reminder_form_with_an_error(snap_compare: Snap) -> None:
    run_before = loaded("r", *"call back", "tab", "ctrl+a", *"tomorow", "ctrl+s")
    assert snap_compare(make_app("contacts"), terminal_size=SIZE, run_before=run_before)


@pytest.mark.usefixtures("seeded")
def test_help(snap_compare: Snap) -> None:
    run_before = loaded("question_mark", screen_name="HelpScreen")
    assert snap_compare(make_app("today"), terminal_size=SIZE, run_before=run_before)


@pytest.mark.usefixtures("seeded")
def test_small_terminal(snap_compare: Snap) -> None:
    assert snap_compare(make_app("today"), terminal_size=(80, 24), run_before=loaded())


@pytest.mark.usefixtures("cases")
def test_cases_screen(snap_compare: Snap) -> None:
    assert snap_compare(make_app("cases"), terminal_size=SIZE, run_before=loaded())


@pytest.mark.usefixtures("cases")
def test_case_view_with_the_past_cases_like_it(snap_compare: Snap) -> None:
    run_before = loaded("down", "enter", screen_name="CaseScreen")
    assert snap_compare(make_app("cases"), terminal_size=(80, 24), run_before=run_before)


@pytest.mark.usefixtures("cases")
def test_today_with_cases(snap_compare: Snap) -> None:
    assert snap_compare(make_app("today"), terminal_size=SIZE, run_before=loaded())
