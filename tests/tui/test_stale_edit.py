"""Lost-update protection in the full-screen app: an edit form whose contact was changed
elsewhere (another user, or the app open in another terminal) refuses to save, says so
inline, and writes nothing."""

from __future__ import annotations

import asyncio
import os

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from tests.conftest import Runner
from tests.tui.test_screens import columns, rows, settle
from tinycrm.tui.app import TinyCRMApp
from tinycrm.tui.data import Store
from tinycrm.tui.screens.forms import FormModal


def test_a_second_save_of_a_contact_changed_meanwhile_is_refused_inline(
    seeded: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def open_edit_form(pilot: Pilot[int], app: TinyCRMApp) -> FormModal:
        await settle(pilot)
        assert getattr(app.screen, "loaded_generation", -1) >= 0
        await pilot.press("2")
        await settle(pilot)
        assert len(rows(app, "contacts")) == 4
        await pilot.press("e")  # Alice Wong, the first row
        await settle(pilot)
        assert isinstance(app.screen, FormModal)
        form = app.screen
        assert isinstance(form, FormModal)
        return form

    async def main() -> None:
        first, second = (TinyCRMApp(Store.open(), watch=False) for _ in range(2))
        async with first.run_test(size=(100, 32)) as p1, second.run_test(size=(100, 32)) as p2:
            form1 = await open_edit_form(p1, first)
            form2 = await open_edit_form(p2, second)
            # another user saves first, from the second app
            monkeypatch.setenv("TINYCRM_USER", "ana")
            form2.query_one("#title").value = "Head of purchasing"  # type: ignore[attr-defined]
            await p2.press("ctrl+s")
            await settle(p2)
            assert not isinstance(second.screen, FormModal)
            monkeypatch.setenv("TINYCRM_USER", "sam")
            # the first app's form still shows the old version
            form1.query_one("#title").value = "CEO"  # type: ignore[attr-defined]
            form1.query_one("#tags").value = "vip key"  # type: ignore[attr-defined]
            await p1.press("ctrl+s")
            error = form1.query_one("#form-error", Static)
            await settle(p1)
            assert "changed by ana" in str(error.render())
            await settle(p1)
            assert first.screen is form1  # still open, the typing kept
            assert form1.value("title") == "CEO"
            assert "nothing was saved" in str(error.render())

    asyncio.run(main())
    alice = Runner().ok("contact", "show", "alice", "--json").json()
    assert (alice["title"], alice["tags"], alice["version"]) == ("Head of purchasing", ["vip"], 2)
    history = Runner().ok("history", "alice", "--json").json()
    assert [(e["user"], e["action"]) for e in history][:1] == [("ana", "edit")]
    assert os.environ["TINYCRM_USER"] == "sam"


def test_the_board_refuses_to_move_a_deal_moved_elsewhere_and_shows_where_it_is(
    seeded: str,
) -> None:
    seen: list[str] = []

    async def main() -> None:
        app = TinyCRMApp(Store.open(), watch=False)  # no watcher: the board stays stale
        app.notify = lambda message, **kw: seen.append(str(message))  # type: ignore[method-assign]
        async with app.run_test(size=(100, 32)) as pilot:
            await settle(pilot)
            assert getattr(app.screen, "loaded_generation", -1) >= 0
            await pilot.press("3")
            await settle(pilot)
            assert columns(app).get("Lead") == ["2"]  # Stone pilot
            # someone else moves it two stages on, from another terminal
            await asyncio.to_thread(Runner().ok, "deal", "move", "2", "proposal")
            await pilot.press("shift+right")  # meant Lead → Qualified, from a stale board
            await settle(pilot)
            assert "2" in columns(app)["Proposal"]
            await settle(pilot)
            assert columns(app)["Qualified"] == []

    asyncio.run(main())
    assert any("changed" in m and "nothing was saved" in m for m in seen), seen
    deal = Runner().ok("deal", "show", "2", "--json").json()
    assert deal["stage"] == "Proposal"
    assert [h["to"] for h in deal["history"]] == ["Lead", "Proposal"]


def test_quick_presses_move_a_deal_one_stage_each(seeded: str) -> None:
    async def main() -> None:
        app = TinyCRMApp(Store.open(), watch=False)
        async with app.run_test(size=(100, 32)) as pilot:
            await settle(pilot)
            assert getattr(app.screen, "loaded_generation", -1) >= 0
            await pilot.press("3")
            await settle(pilot)
            assert columns(app).get("Lead") == ["2"]
            # faster than the board is re-read: each move builds on the one before
            await pilot.press("shift+right", "shift+right", "shift+right")
            await settle(pilot)
            assert "2" in columns(app)["Negotiation"]
            await settle(pilot)

    asyncio.run(main())
    deal = Runner().ok("deal", "show", "2", "--json").json()
    assert [h["to"] for h in deal["history"]] == ["Lead", "Qualified", "Proposal", "Negotiation"]
