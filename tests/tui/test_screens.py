"""The TUI's main flows under Pilot, on a seeded SQLite store with a frozen clock."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import DataTable, Static
from textual.worker import WorkerCancelled

from tests.conftest import Runner
from tinycrm.tui import app as app_module
from tinycrm.tui.app import Notice, TinyCRMApp
from tinycrm.tui.data import Store
from tinycrm.tui.screens.base import StoreChanged
from tinycrm.tui.screens.contact import ContactScreen
from tinycrm.tui.screens.forms import FormModal
from tinycrm.tui.screens.help import HelpScreen
from tinycrm.tui.widgets.pipeline import PipelineBars

Flow = Callable[[Pilot[int], TinyCRMApp], Awaitable[None]]


def run(
    flow: Flow,
    *,
    watch: bool = False,
    size: tuple[int, int] = (100, 32),
    messages: list[Message] | None = None,
) -> None:
    """Run `flow` on the app once its first screen has loaded; every message any part of
    the app receives is added to `messages`, if given."""

    async def main() -> None:
        app = TinyCRMApp(Store.open(), watch=watch)
        hook = messages.append if messages is not None else None
        async with app.run_test(size=size, message_hook=hook) as pilot:
            await settle(pilot)
            assert getattr(app.screen, "loaded_generation", -1) >= 0
            await flow(pilot, app)

    asyncio.run(main())


async def settle(pilot: Pilot[int]) -> None:
    """Let every worker finish and what it posted be handled, until two rounds in a row
    start nothing new (a message handled may start a worker, whose message may start
    another: Today's list, then its top customers)."""
    quiet = 0
    for _ in range(200):
        if quiet == 2:
            return
        await pilot.pause()
        running = [w for w in pilot.app.workers if not w.is_finished]
        if running:
            with contextlib.suppress(WorkerCancelled):  # replaced by a newer one: go on
                await pilot.app.workers.wait_for_complete(running)
            quiet = 0
        else:
            quiet += 1
    raise AssertionError("the app never settled: its workers keep starting new ones")


async def watching(app: TinyCRMApp) -> None:
    """Wait for the store watcher's first look: the changes it reports come after it."""
    assert app.watcher is not None
    assert await asyncio.to_thread(app.watcher.looked.wait, 5.0)


async def store_changed(pilot: Pilot[int], messages: list[Message], timeout: float = 3.0) -> None:
    """Wait for the store watcher to report a change made elsewhere (it looks every
    POLL_SECONDS), then for the screen to show it."""
    seen = sum(isinstance(m, StoreChanged) for m in messages)
    deadline = asyncio.get_running_loop().time() + timeout
    while sum(isinstance(m, StoreChanged) for m in messages) == seen:
        assert asyncio.get_running_loop().time() < deadline, "no StoreChanged came"
        await asyncio.sleep(0.05)
    await settle(pilot)


def rows(app: TinyCRMApp, table_id: str) -> list[list[str]]:
    table = app.screen.query_one(f"#{table_id}", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def todo(cli: Runner) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = cli.ok("todo", "--all", "--json").json()
    return result


def test_today_shows_reminders_touches_deals_and_pipeline(seeded: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        reminders = rows(app, "reminders")
        assert [r[1] for r in reminders] == ["send the proposal", "call Bob back", "check in"]
        assert reminders[0][0] == "3d overdue"
        assert [r[0] for r in rows(app, "touch")] == ["Alice Wong", "Carla Diaz"]
        assert "北京 order" in [r[0] for r in rows(app, "deals")]
        pipeline = str(app.screen.query_one(PipelineBars).render())
        assert "Proposal" in pipeline and "12.0k" in pipeline
        await settle(pilot)
        assert "Alice Wong" in str(app.screen.query_one("#top").render())

    run(flow)


def test_done_from_today_completes_the_highlighted_reminder(seeded: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("d")
        await settle(pilot)
        assert [r[1] for r in rows(app, "reminders")] == ["call Bob back", "check in"]

    run(flow)
    assert [r["text"] for r in todo(Runner())] == ["call Bob back", "check in"]


def test_snooze_from_today_takes_a_when(seeded: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("down", "s")
        await settle(pilot)
        assert isinstance(app.screen, FormModal)
        app.screen.query_one("#until").value = ""  # type: ignore[attr-defined]
        await pilot.press(*"wed 14:00", "enter")
        await settle(pilot)
        assert not isinstance(app.screen, FormModal)

    run(flow)
    bob = next(r for r in todo(Runner()) if r["text"] == "call Bob back")
    assert bob["due_at"] == "2026-11-25T13:00:00Z" and bob["snoozed"] == 1


def test_search_narrows_as_you_type_with_cjk_and_tags(seeded: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("2")
        await settle(pilot)
        assert len(rows(app, "contacts")) == 4
        await pilot.press("slash", *"acme")
        await settle(pilot)
        assert [r[0] for r in rows(app, "contacts")] == ["Alice Wong", "Carla Diaz"]
        search = app.screen.query_one("#search")
        search.value = "明天"  # type: ignore[attr-defined]
        await settle(pilot)
        assert [r[0] for r in rows(app, "contacts")] == ["王小明"]
        search.value = "tag:vip"  # type: ignore[attr-defined]
        await settle(pilot)
        assert [r[0] for r in rows(app, "contacts")] == ["Alice Wong"]
        await pilot.press("escape")
        await settle(pilot)
        assert len(rows(app, "contacts")) == 4

    run(flow)


def test_open_a_contact_and_log_a_note(seeded: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ContactScreen)
        await settle(pilot)
        card = str(app.screen.query_one("#card", Static).render())
        assert "Alice Wong" in card and "alice@acme.example" in card and "#vip" in card
        assert (
            "2,000.00 EUR in 2 purchases\n  last buy  2026-11-02" in card
            and "12,000.00 EUR" in card
        )
        await settle(pilot)
        assert "ABC A" in str(app.screen.query_one("#grade").render())
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, FormModal)
        await pilot.press(*"signed the NDA", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ContactScreen)
        assert rows(app, "timeline")[0][1:3] == ["note", "signed the NDA"]

    run(flow)
    shown = Runner().ok("contact", "show", "alice", "--json").json()
    assert shown["timeline"][0]["text"] == "signed the NDA"


def test_reminder_form_explains_a_bad_date_inline_then_saves(seeded: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        app.open_contact(2)  # Bob
        await settle(pilot)
        assert isinstance(app.screen, ContactScreen)
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, FormModal)
        form = app.screen
        await pilot.press(*"send the contract", "tab")
        form.query_one("#due").value = "tomorow"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "can't read date 'tomorow'" in str(form.query_one("#due-error", Static).render())
        assert app.screen is form
        form.query_one("#due").value = "下周一"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ContactScreen)

    run(flow)
    added = next(r for r in todo(Runner()) if r["text"] == "send the contract")
    assert added["due_at"] == "2026-11-30T08:00:00Z" and added["target"] == "Bob Stone"


def test_purchase_form_takes_a_refund_and_refuses_nonsense(seeded: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        app.open_contact(2)
        await settle(pilot)
        assert isinstance(app.screen, ContactScreen)
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, FormModal)
        form = app.screen
        await pilot.press(*"5 abc", "ctrl+s")
        await pilot.pause()
        assert str(form.query_one("#amount-error", Static).render()) != ""
        # a refund (docs/value.md)
        form.query_one("#amount").value = "-12.50"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ContactScreen)
        await pilot.press("p")
        await settle(pilot)
        app.screen.query_one("#amount").value = "450.50"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(pilot)
        # the refund lowers the total and is no order
        assert "438.00 EUR in 1 purchase\n" in str(app.screen.query_one("#card", Static).render())

    run(flow)
    amounts = [p["amount"] for p in Runner().ok("purchase", "list", "bob", "--json").json()]
    assert amounts[:2] == ["450.50", "-12.50"]


def test_the_contact_view_shows_important_dates_and_values_kept_as_written(
    seeded: str, tmp_path: Path
) -> None:
    cli = Runner()
    card_file = tmp_path / "kim.vcf"
    card_file.write_text(
        "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Kim Odd\r\nTEL:1\r\nBDAY:--03-14\r\n"
        "ANNIVERSARY:2010-06-12\r\nEND:VCARD\r\n",
        encoding="utf-8",
    )
    cli.ok("import", "contacts", str(card_file))
    kim = cli.ok("contact", "show", "Kim Odd", "--json").json()["id"]

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        app.open_contact(kim)
        await settle(pilot)
        assert isinstance(app.screen, ContactScreen)
        await settle(pilot)
        card = str(app.screen.query_one("#card", Static).render())
        assert "  birthday  --03-14\n" in card
        assert " annivers.  2010-06-12\n" in card
        assert "Kept as written\n  phone: 1  (not a phone number: '1')\n" in card

    run(flow)


def test_a_write_from_another_process_appears(seeded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_module, "POLL_SECONDS", 0.1)
    messages: list[Message] = []

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        assert len(rows(app, "reminders")) == 3
        await watching(app)
        # another connection, as `tinycrm remind` from another terminal would be
        await asyncio.to_thread(Runner().ok, "remind", "bob", "today 18:00", "from elsewhere")
        await store_changed(pilot, messages)
        assert len(rows(app, "reminders")) == 4
        assert "from elsewhere" in [r[1] for r in rows(app, "reminders")]

    run(flow, watch=True, messages=messages)


def test_help_lists_the_keys_of_the_screen_underneath(seeded: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one(Static).render())
        assert "Today" in text and "Snooze" in text and "command palette" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)

    run(flow)


def test_small_terminal_still_works(seeded: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        assert len(rows(app, "reminders")) == 3
        await pilot.press("2")
        await settle(pilot)
        assert len(rows(app, "contacts")) == 4

    run(flow, size=(80, 24))


def test_a_broken_store_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    result = Runner()("--db", str(tmp_path), "tui")
    assert result.exit_code == 1
    assert result.stderr == f"Error: the store path {tmp_path} is a directory, not a file\n"


def columns(app: TinyCRMApp) -> dict[str, list[str]]:
    from tinycrm.tui.screens.deals import StageColumn

    return {
        c.stage: [str(c.get_option_at_index(i).id) for i in range(c.option_count)]
        for c in app.screen.query(StageColumn)
    }


def test_move_a_deal_along_the_board_with_shift_arrows(seeded: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("3")
        await settle(pilot)
        assert columns(app)
        board = columns(app)
        assert list(board) == ["Lead", "Qualified", "Proposal", "Negotiation"]
        assert board["Lead"] == ["2"]  # Stone pilot
        await pilot.press("shift+right")
        await settle(pilot)
        assert columns(app)["Qualified"] == ["2"]
        await pilot.press("shift+right")
        await settle(pilot)
        assert columns(app)["Proposal"] == ["1", "2"]  # biggest first
        assert app.screen.focused is not None
        await pilot.press("shift+left")
        await settle(pilot)
        assert columns(app)["Qualified"] == ["2"]

    run(flow)
    shown = Runner().ok("deal", "show", "2", "--json").json()
    assert shown["stage"] == "Qualified"
    assert [h["to"] for h in shown["history"]] == ["Lead", "Qualified", "Proposal", "Qualified"]


def test_mark_won_and_lost_with_a_reason(seeded: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("3")
        await settle(pilot)
        assert columns(app)
        await pilot.press("w")  # Stone pilot, in Lead
        await settle(pilot)
        assert "2" not in sum(columns(app).values(), [])
        await pilot.press("right", "right", "right", "l")  # 北京 order, in Negotiation
        await settle(pilot)
        assert isinstance(app.screen, FormModal)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "can't be empty" in str(app.screen.query_one("#reason-error", Static).render())
        await pilot.press(*"budget cut", "enter")
        await settle(pilot)
        assert columns(app)["Negotiation"] == []

    run(flow)
    cli = Runner()
    assert cli.ok("deal", "show", "2", "--json").json()["status"] == "won"
    lost = cli.ok("deal", "show", "3", "--json").json()
    assert (lost["status"], lost["lost_reason"]) == ("lost", "budget cut")


def test_reminders_screen_lists_by_due_and_marks_done(seeded: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("4")
        await settle(pilot)
        assert len(rows(app, "reminder-list")) == 3
        listed = rows(app, "reminder-list")
        assert [r[3] for r in listed] == ["send the proposal", "call Bob back", "check in"]
        assert listed[0][0] == "3d overdue" and listed[2][4] == "weekly"
        await pilot.press("o")
        await settle(pilot)
        assert len(rows(app, "reminder-list")) == 1
        await pilot.press("o", "down", "down")
        await settle(pilot)
        assert len(rows(app, "reminder-list")) == 3
        await pilot.press("down", "down", "d")  # the weekly one: done, and the next one set
        await settle(pilot)
        assert [r[1] for r in rows(app, "reminder-list")][-1] == "2026-12-04 09:00"

    run(flow)


def test_rankings_show_the_pareto_line_and_filter_by_grade(seeded: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("5")
        await settle(pilot)
        assert len(rows(app, "ranking")) == 2
        assert [r[1] for r in rows(app, "ranking")] == ["Alice Wong", "Carla Diaz"]
        pareto = str(app.screen.query_one("#pareto", Static).render())
        assert "2 customers" in pareto and "the top 20% bring" in pareto
        await pilot.press("a")  # ABC: A only
        await settle(pilot)
        assert len(rows(app, "ranking")) == 1
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ContactScreen)

    run(flow)


def test_command_palette_finds_contacts_and_actions(seeded: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"wong")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ContactScreen)
        assert app.screen.contact_id == 1
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"go to deals")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "DealsScreen"

    run(flow)


def test_add_a_contact_then_edit_it(seeded: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("2")
        await settle(pilot)
        assert len(rows(app, "contacts")) == 4
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, FormModal)
        form = app.screen
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "can't be empty" in str(form.query_one("#name-error", Static).render())
        await pilot.press(*"Dora Lind", "tab", *"dora@lind.example", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ContactScreen)
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, FormModal)
        edit = app.screen
        edit.query_one("#tags").value = "vip partner"  # type: ignore[attr-defined]
        edit.query_one("#every").value = "2 weeks"  # type: ignore[attr-defined]
        edit.query_one("#title").value = "CTO"  # type: ignore[attr-defined]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ContactScreen)
        await settle(pilot)
        assert "#partner #vip" in str(app.screen.query_one("#card", Static).render())

    run(flow)
    dora = Runner().ok("contact", "show", "dora", "--json").json()
    assert (dora["title"], dora["tags"], dora["cadence_days"]) == ("CTO", ["partner", "vip"], 14)
    assert dora["emails"] == ["dora@lind.example"]


def test_adding_a_look_alike_is_refused_once_then_saved_on_request(seeded: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("2")
        await settle(pilot)
        assert len(rows(app, "contacts")) == 4
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, FormModal)
        form = app.screen
        await pilot.press(*"alice  WONG", "ctrl+s")
        error = form.query_one("#form-error", Static)
        await settle(pilot)
        assert "already exists" in str(error.render())
        shown = str(error.render())
        assert "#1 Alice Wong (same name)" in shown and "Save again to add it anyway" in shown
        assert app.screen is form  # still open, with what was typed
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ContactScreen)

    run(flow)
    names = [c["name"] for c in Runner().ok("contact", "list", "--json").json()]
    assert names.count("Alice Wong") == 1 and "alice WONG" in names


def test_delete_asks_then_ctrl_z_undoes_and_ctrl_shift_z_redoes(seeded: str) -> None:
    """The delete lands at once (another terminal sees it); `u` or ctrl+z takes it back
    through the journal, with a notice naming what was undone; ctrl+shift+z redoes."""
    messages: list[Message] = []
    cli = Runner()

    def names() -> list[str]:
        return [c["name"] for c in cli.ok("contact", "list", "--json").json()]

    everyone = names()

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("2")
        await settle(pilot)
        assert len(rows(app, "contacts")) == 4
        await pilot.press("x")
        await settle(pilot)
        assert type(app.screen).__name__ == "ConfirmModal"
        await pilot.press("y")
        await settle(pilot)
        assert len(rows(app, "contacts")) == 3
        gone = next(n for n in everyone if n not in names())
        await pilot.press("u")
        await settle(pilot)
        assert len(rows(app, "contacts")) == 4 and names() == everyone
        await pilot.press("ctrl+shift+z")
        await settle(pilot)
        assert len(rows(app, "contacts")) == 3 and gone not in names()
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert len(rows(app, "contacts")) == 4 and names() == everyone
        notices = [m.text for m in messages if isinstance(m, Notice)]
        assert notices[0] == f"Deleted {gone} · ctrl+z undoes"
        assert notices[1].startswith("Undid change ") and "delete contact #" in notices[1]
        assert gone in notices[1] and notices[1].endswith("· ctrl+shift+z redoes")
        assert notices[2].startswith("Redid change ") and notices[2].endswith("· ctrl+z undoes")

    run(flow, messages=messages)


def test_ctrl_z_takes_back_a_change_made_in_the_app_or_anywhere(seeded: str) -> None:
    """The general undo: the last change of the user, whatever made it (here a note
    logged from the command line while the app runs), and the palette's redo."""
    messages: list[Message] = []
    cli = Runner()

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        cli.ok("deal", "add", "alice", "Pilot", "--value", "100")
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert "Pilot" not in cli.ok("deal", "list").stdout
        await app.run_action("redo")
        await settle(pilot)
        assert "Pilot" in cli.ok("deal", "list").stdout
        notices = [m.text for m in messages if isinstance(m, Notice)]
        assert notices[0].startswith("Undid change ") and "add deal #" in notices[0]
        assert "Pilot" in notices[0]

    run(flow, messages=messages)


def test_the_app_can_open_on_another_screen(seeded: str) -> None:
    async def main() -> None:
        app = TinyCRMApp.starting_on("contacts")(Store.open(), watch=False)
        async with app.run_test(size=(100, 32)) as pilot:
            await settle(pilot)
            assert type(app.screen).__name__ == "ContactsScreen"
            await settle(pilot)
            assert len(rows(app, "contacts")) == 4
            await pilot.press("1")
            await settle(pilot)
            assert len(rows(app, "reminders")) == 3

    asyncio.run(main())


def test_enter_in_the_search_box_opens_the_first_match(seeded: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("2")
        await settle(pilot)
        assert len(rows(app, "contacts")) == 4
        await pilot.press("slash", *"carla", "enter", "n")  # n before the contact has loaded
        await settle(pilot)
        assert isinstance(app.screen, FormModal)
        assert "Carla Diaz" in str(app.screen.query_one(".form-title", Static).render())

    run(flow)


def test_a_locked_store_or_a_bug_is_a_message_not_a_crash(
    seeded: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tinycrm.errors import StoreError
    from tinycrm.tui import data

    def locked(*args: object, **kwargs: object) -> None:
        raise StoreError("the store tinycrm.db stayed locked by another process for 5 s")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    seen: list[str] = []

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        monkeypatch.setattr(app, "notify", lambda message, **kw: seen.append(str(message)))
        monkeypatch.setattr(data, "load_today", locked)
        monkeypatch.setattr(data, "load_reminders", broken)
        await pilot.press("f5")
        await settle(pilot)
        assert seen
        await pilot.press("4")
        await settle(pilot)
        assert len(seen) == 2
        assert app.is_running

    run(flow)
    assert seen == [
        "the store tinycrm.db stayed locked by another process for 5 s",
        "internal error (RuntimeError: boom); rerun with TINYCRM_DEBUG=1",
    ]


def test_clicking_a_screen_name_switches_to_it(seeded: str) -> None:
    from tinycrm.tui.widgets.nav import NavBar

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.click(NavBar, offset=(27, 0))  # " 3 Deals "
        await settle(pilot)
        assert type(app.screen).__name__ == "DealsScreen"

    run(flow)


def test_the_app_on_either_backend_sees_writes_from_elsewhere(
    cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.tui.conftest import seed

    seed(cli)
    monkeypatch.setattr(app_module, "POLL_SECONDS", 0.1)
    messages: list[Message] = []

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        app.open_contact(2)  # Bob
        await settle(pilot)
        assert isinstance(app.screen, ContactScreen)
        await watching(app)
        await asyncio.to_thread(cli.ok, "note", "bob", "called from the other terminal")
        await store_changed(pilot, messages)
        assert rows(app, "timeline")[0][2] == "called from the other terminal"

    run(flow, watch=True, messages=messages)


def test_every_screen_loads_on_either_backend(cli: Runner) -> None:
    from tests.tui.conftest import seed

    seed(cli)

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        assert len(rows(app, "reminders")) == 3
        await pilot.press("2")
        await settle(pilot)
        assert len(rows(app, "contacts")) == 4
        await pilot.press("3")
        await settle(pilot)
        assert sum(len(v) for v in columns(app).values()) == 3
        await pilot.press("4")
        await settle(pilot)
        assert len(rows(app, "reminder-list")) == 3
        await pilot.press("5")
        await settle(pilot)
        assert len(rows(app, "ranking")) == 2
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ContactScreen)
        await settle(pilot)
        assert len(rows(app, "timeline")) == 4

    run(flow)


def test_contacts_change_order(seeded: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("2")
        await settle(pilot)
        assert len(rows(app, "contacts")) == 4
        names = ["Alice Wong", "Bob Stone", "Carla Diaz", "王小明"]
        await pilot.press("o")
        await settle(pilot)
        assert [r[0] for r in rows(app, "contacts")] == names[::-1]
        await pilot.press("o")  # never touched first, then the longest ago
        untouched = ["Bob Stone", "王小明", "Alice Wong", "Carla Diaz"]
        await settle(pilot)
        assert [r[0] for r in rows(app, "contacts")] == untouched
        status = str(app.screen.query_one("#contacts-status", Static).render())
        assert "longest untouched first" in status
        await pilot.press("o")  # newest first
        newest = ["Carla Diaz", "王小明", "Bob Stone", "Alice Wong"]
        await settle(pilot)
        assert [r[0] for r in rows(app, "contacts")] == newest
        await pilot.press("slash", *"acme")  # a search keeps the order
        await settle(pilot)
        assert [r[0] for r in rows(app, "contacts")] == names[2::-2]

    run(flow)


def test_contacts_sort_by_company_and_owner(seeded: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("2")
        await settle(pilot)
        assert len(rows(app, "contacts")) == 4
        for _ in range(4):  # Z→A, untouched, newest, then by company
            await pilot.press("o")
        by_company = ["Alice Wong", "Carla Diaz", "王小明", "Bob Stone"]  # ACME, 北京贸易, none
        await settle(pilot)
        assert [r[0] for r in rows(app, "contacts")] == by_company
        status = str(app.screen.query_one("#contacts-status", Static).render())
        assert "by company" in status
        await pilot.press("o")  # by owner: all sam's, so by name
        await settle(pilot)
        assert "by owner" in str(app.screen.query_one("#contacts-status").render())
        assert [r[0] for r in rows(app, "contacts")] == sorted(by_company[:2] + ["Bob Stone"]) + [
            "王小明"
        ]
        table = app.screen.query_one("#contacts", DataTable)
        name_width = table.ordered_columns[0].get_render_width(table)
        await pilot.click(table, offset=(name_width + 2, 0))  # the Company header
        await settle(pilot)
        assert [r[0] for r in rows(app, "contacts")] == by_company

    run(flow)


def many_people(monkeypatch: pytest.MonkeyPatch, n: int) -> list[str]:
    """`n` more contacts (Person 000…) and a small window over them (pages of 12, 36 rows
    held, read 4 rows from either end): every contact's name, in list order."""
    from tinycrm.services.contacts import add_contact
    from tinycrm.tui.screens import contacts as screen_module

    monkeypatch.setattr(screen_module, "PAGE", 12)
    monkeypatch.setattr(screen_module, "WINDOW", 36)
    monkeypatch.setattr(screen_module, "EDGE", 4)
    people = [f"Person {i:03d}" for i in range(n)]
    with Store.open().ctx() as ctx, ctx.db.write():
        for name in people:
            add_contact(ctx, name=name, allow_duplicate=True)
    return sorted(["Alice Wong", "Bob Stone", "Carla Diaz", "王小明", *people])


@pytest.mark.slow
def test_contacts_scroll_through_a_window_to_the_last_and_back(
    seeded: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The table holds at most WINDOW rows however far one scrolls; arrows walk every
    contact in order, end and home jump to either end."""
    from tinycrm.tui.screens import contacts as screen_module

    names = many_people(monkeypatch, 80)

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("2")
        await settle(pilot)
        assert len(rows(app, "contacts")) >= 12
        screen = app.screen
        assert isinstance(screen, screen_module.ContactsScreen)
        table = screen.query_one(screen_module.ContactTable)

        def current() -> str:
            return str(table.get_row_at(table.cursor_row)[0])

        async def walk(key: str) -> list[str]:
            seen = [current()]
            for _ in range(len(names) + 5):
                await pilot.press(key)
                await settle(pilot)
                assert not screen.paging
                assert table.row_count <= 36
                if current() != seen[-1]:
                    seen.append(current())
            return seen

        assert await walk("down") == names  # every contact once, in order
        assert (screen.after, screen.before) == (None, True)  # the first ones were let go
        assert await walk("up") == names[::-1]  # and back up, reading them again
        await pilot.press("end")
        await settle(pilot)
        assert current() == names[-1]
        assert table.row_count <= 36
        await pilot.press("home")
        await settle(pilot)
        assert current() == names[0]
        for _ in range(len(names) // 16 + 1):  # 17 rows a page (pagedown moves 16 on)
            await pilot.press("pagedown")
            await settle(pilot)
            assert not screen.paging
        assert current() == names[-1] and table.row_count <= 36

    run(flow, size=(100, 24))  # 17 rows on screen, 36 held


@pytest.mark.slow
def test_page_down_held_faster_than_pages_come_loses_no_press(
    seeded: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Presses that reach the end of the rows held while the next page is being read are
    kept and done when it arrives: n quick page-downs end where n slow ones would."""
    from tinycrm.tui.screens import contacts as screen_module

    names = many_people(monkeypatch, 120)

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("2")
        await settle(pilot)
        assert len(rows(app, "contacts")) >= 12
        screen = app.screen
        assert isinstance(screen, screen_module.ContactsScreen)
        table = screen.query_one(screen_module.ContactTable)
        step = table._page()  # the rows a page-down moves on
        await pilot.press(*["pagedown"] * 5)  # all sent before any page can come
        await settle(pilot)
        assert not screen.paging and not screen.owed
        await settle(pilot)
        assert str(table.get_row_at(table.cursor_row)[0]) == names[5 * step]
        await pilot.press(*["pageup"] * 5)
        await settle(pilot)
        assert not screen.paging and not screen.owed
        await settle(pilot)
        assert str(table.get_row_at(table.cursor_row)[0]) == names[0]
        await pilot.press(*["pagedown"] * 40)  # far past the end: stops at the last
        await settle(pilot)
        assert not screen.paging and not screen.owed
        await settle(pilot)
        assert str(table.get_row_at(table.cursor_row)[0]) == names[-1]
        assert table.row_count <= 36

    run(flow, size=(100, 24))


def test_contacts_columns_fit_the_width_and_hold_still_while_scrolling(
    seeded: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Column widths come from the terminal's width, not from the rows held: paging into
    longer names moves nothing sideways, nothing scrolls sideways, and a narrower terminal
    drops the least needed columns (title, tags, owner) rather than the name or phone."""
    from tinycrm.services.contacts import add_contact
    from tinycrm.tui.screens import contacts as screen_module

    monkeypatch.setattr(screen_module, "PAGE", 12)
    monkeypatch.setattr(screen_module, "WINDOW", 36)
    with Store.open().ctx() as ctx, ctx.db.write():
        for i in range(60):  # the later pages hold ever longer companies and emails
            add_contact(
                ctx,
                name=f"Person {i:03d}",
                company="Co " + "x" * i,
                emails=[f"p{i}.{'y' * i}@example.com"],
                allow_duplicate=True,
            )

    def layout(app: TinyCRMApp) -> list[tuple[str, int]]:
        table = app.screen.query_one("#contacts", DataTable)
        return [(str(c.key.value), c.get_render_width(table)) for c in table.ordered_columns]

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("2")
        await settle(pilot)
        assert len(rows(app, "contacts")) >= 12
        table = app.screen.query_one("#contacts", DataTable)
        first = layout(app)
        assert [k for k, _ in first] == ["name", "company", "email", "phone", "last touch"]
        assert table.virtual_size.width <= table.size.width  # no sideways scrolling
        for _ in range(6):
            await pilot.press("pagedown")
            await settle(pilot)
        assert "Person 059" in [r[0] for r in rows(app, "contacts")]
        assert layout(app) == first
        at = str(table.get_row_at(table.cursor_row)[0])
        await pilot.resize_terminal(200, 40)
        await settle(pilot)
        assert len(layout(app)) == 8
        assert [k for k, _ in layout(app)] == [
            "name", "company", "title", "email", "phone", "tags", "owner", "last touch"
        ]  # fmt: skip
        assert table.virtual_size.width <= table.size.width
        await settle(pilot)
        assert str(table.get_row_at(table.cursor_row)[0]) == at  # on the same contact

    run(flow, size=(80, 24))


def test_the_theme_picked_is_the_theme_of_the_next_run(seeded: str) -> None:
    from tinycrm import config
    from tinycrm.tui.data import state_path

    async def pick(pilot: Pilot[int], app: TinyCRMApp) -> None:
        assert app.theme == "textual-dark"
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert state_path().exists()

    async def check(pilot: Pilot[int], app: TinyCRMApp) -> None:
        assert app.theme == "textual-light"

    run(pick)
    run(check)
    assert json.loads(state_path().read_text()) == {"theme": "textual-light"}
    # the user's settings are never written (the seed's are as it wrote them)
    assert config.settings_path().read_text() == "next_step_grace = 0\n"
    state_path().write_text("{not json")  # a damaged file is forgotten, not a crash

    async def dark(pilot: Pilot[int], app: TinyCRMApp) -> None:
        assert app.theme == "textual-dark"

    run(dark)


def test_today_fits_long_names_in_80_columns_without_scrolling_sideways(seeded: str) -> None:
    cli = Runner()
    long_name = "Maximiliane Alexandra Konstantinopoulou-Wittgenstein von Hohenzollern"
    cli.ok("contact", "add", long_name, "--every", "7d")
    cli.ok("remind", "Maximiliane", "today 11:00", "ask about the framework agreement renewal")

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        for name in ("reminders", "touch", "deals"):
            table = app.screen.query_one(f"#{name}", DataTable)
            assert table.max_scroll_x == 0, name  # nothing hides off to the right
            assert table.virtual_size.width <= table.size.width, name
        reminder = next(r for r in rows(app, "reminders") if r[1].startswith("ask"))
        assert reminder[2] == long_name
        table = app.screen.query_one("#reminders", DataTable)
        drawn = [table.render_line(y).text for y in range(table.size.height)]
        line = next(x for x in drawn if "today 11:00" in x)  # the due time whole
        assert "ask about" in line and "…" in line  # the text cut short, visibly
        assert "renewal" not in line
        deals = app.screen.query_one("#deals", DataTable)
        drawn = [deals.render_line(y).text for y in range(deals.size.height)]
        assert any("8,000.00 EUR" in x for x in drawn)  # the value is never cut

    run(flow, size=(80, 24))


def test_brackets_in_names_and_notes_are_text_not_markup(seeded: str) -> None:
    cli = Runner()
    cli.ok("contact", "add", "Zed [/b] Markup", "--company", "[bold]Co")
    cli.ok("note", "Zed", "quoted [/i] and [red]")
    cli.ok("remind", "Zed", "today 16:00", "ask [/u]")

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        assert "Zed [/b] Markup" in [r[2] for r in rows(app, "reminders")]
        await pilot.press("2")
        await settle(pilot)
        assert len(rows(app, "contacts")) == 5
        assert ["Zed [/b] Markup", "[bold]Co"] in [r[:2] for r in rows(app, "contacts")]
        await pilot.press("end", "up")  # 王小明 comes last, after Zed
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ContactScreen)
        await settle(pilot)
        assert "quoted [/i] and [red]" in [r[2] for r in rows(app, "timeline")]
        await pilot.pause(0.2)  # drawn without an error
        assert app.is_running

    run(flow)


def test_ctrl_z_takes_back_a_delete_and_an_edit_made_in_a_list(seeded: str) -> None:
    """`x` and `e` in the Reminders list, then ctrl+z twice: the reminder is back as it
    was before the edit, and the list shows it."""
    from textual.widgets import Input

    from tinycrm.tui.screens.forms import FormModal

    messages: list[Message] = []
    cli = Runner()
    before = cli.ok("todo", "--all", "--json").json()

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("4")
        await settle(pilot)
        first = [r[3] for r in rows(app, "reminder-list")]
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, FormModal)
        app.screen.query_one("#text", Input).value = "a typo"
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("x", "y")
        await settle(pilot)
        assert len(rows(app, "reminder-list")) == len(first) - 1
        await pilot.press("ctrl+z")
        await settle(pilot)
        await pilot.press("ctrl+z")
        await settle(pilot)
        assert [r[3] for r in rows(app, "reminder-list")] == first
        notices = [m.text for m in messages if isinstance(m, Notice)]
        assert [n.split(":")[0].rsplit(" ", 1)[0] for n in notices] == ["Undid change"] * 2
        assert "delete reminder #" in notices[0] and "edit reminder #" in notices[1]

    run(flow, messages=messages)
    after = cli.ok("todo", "--all", "--json").json()
    assert [r.pop("version") for r in after] == [3, 1, 1]  # forward, never back
    assert after == [{k: v for k, v in r.items() if k != "version"} for r in before]
