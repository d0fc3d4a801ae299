"""One refresh path: every change, the app's own included, reaches the screens as one
StoreChanged from the store watcher, and the screen in front reads its data again once,
not once directly and again when the watcher sees the same commit. On both backends:
on PostgreSQL an update shows at once too (the watcher reads the audit log's newest id),
not only when the server's statistics catch up a second later."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from textual.message import Message
from textual.pilot import Pilot

from tests.conftest import Runner
from tests.tui.conftest import seed
from tests.tui.test_screens import rows, run, settle, store_changed, watching
from tinycrm.tui import app as app_module
from tinycrm.tui import data
from tinycrm.tui.app import TinyCRMApp
from tinycrm.tui.screens.base import StoreChanged
from tinycrm.tui.screens.contact import ContactScreen
from tinycrm.tui.screens.forms import FormModal

POLL = 0.05
LATER = 1.5  # many polls later; on PostgreSQL, past its statistics delay too


def counting(monkeypatch: pytest.MonkeyPatch, name: str) -> list[object]:
    """Count the calls of the data module's `name` (each is one read of a screen)."""
    calls: list[object] = []
    real: Callable[..., Any] = getattr(data, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(data, name, counted)
    return calls


def changes(messages: list[Message]) -> int:
    """StoreChanged messages handled by a screen (the app passes each one on)."""
    return sum(isinstance(m, StoreChanged) for m in messages) // 2


@pytest.fixture(autouse=True)
def polling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_module, "POLL_SECONDS", POLL)


def test_the_apps_own_write_reloads_the_screen_once(
    cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(cli)
    loads = counting(monkeypatch, "load_today")
    messages: list[Message] = []

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await watching(app)
        loads.clear()
        await pilot.press("d")  # done: the first reminder (an update only)
        await settle(pilot)
        # shown as soon as the write is done, without waiting for a poll
        assert [r[1] for r in rows(app, "reminders")] == ["call Bob back", "check in"]
        await asyncio.sleep(LATER)
        await settle(pilot)
        assert (len(loads), changes(messages)) == (1, 1)

    run(flow, watch=True, messages=messages)


def test_a_form_saved_reloads_the_screen_underneath_once(
    cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(cli)
    loads = counting(monkeypatch, "load_contact")
    messages: list[Message] = []

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        app.open_contact(1)
        await settle(pilot)
        await watching(app)
        loads.clear()
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, FormModal)
        await pilot.press(*"signed the NDA", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ContactScreen)
        assert rows(app, "timeline")[0][1:3] == ["note", "signed the NDA"]
        await asyncio.sleep(LATER)
        await settle(pilot)
        assert len(loads) == 1
        saved = [m for m in messages if isinstance(m, FormModal.Saved)]
        assert [m.result.kind for m in saved] == ["note"]

    run(flow, watch=True, messages=messages)


def test_a_change_made_elsewhere_is_one_store_changed_and_one_reload(
    cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(cli)
    loads = counting(monkeypatch, "load_today")
    messages: list[Message] = []

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await watching(app)
        loads.clear()
        # an update only, from another terminal (on PostgreSQL: not a new row anywhere
        # but in the audit log)
        await asyncio.to_thread(cli.ok, "snooze", "1", "tomorrow 9:00")
        await store_changed(pilot, messages)
        assert [r[1] for r in rows(app, "reminders")] == [
            "call Bob back",
            "send the proposal",
            "check in",
        ]
        await asyncio.sleep(LATER)
        await settle(pilot)
        assert (len(loads), changes(messages)) == (1, 1)

    run(flow, watch=True, messages=messages)


def test_without_watching_others_the_apps_own_writes_still_refresh(seeded: str) -> None:
    """`watch=False` (tests that want a stale screen): nothing is polled, yet a write made
    in the app reaches the screen through the same StoreChanged."""
    messages: list[Message] = []

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await asyncio.to_thread(Runner().ok, "remind", "bob", "today 18:00", "from elsewhere")
        await asyncio.sleep(0.3)
        await settle(pilot)
        assert changes(messages) == 0
        assert len(rows(app, "reminders")) == 3  # not seen: nobody polls
        await pilot.press("d")
        await settle(pilot)
        assert changes(messages) == 1  # the app's own write, and with it the other one
        assert [r[1] for r in rows(app, "reminders")] == [
            "call Bob back",
            "from elsewhere",
            "check in",
        ]

    run(flow, watch=False, messages=messages)
