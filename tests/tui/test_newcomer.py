"""A newcomer's day in the app (issue #18): what tripped a new user, each under Pilot on
the seeded SQLite store with a frozen clock."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from tests.conftest import Runner
from tests.tui.test_screens import rows, run, settle
from tinycrm.tui.app import TinyCRMApp
from tinycrm.tui.screens.contact import ContactScreen, Timeline


def burst(app: TinyCRMApp, *keys: str) -> None:
    """Send `keys` as the terminal would in one read (a paste, a slow ssh link): every key
    queued before the app handles the first (Pilot.press waits for idle after each)."""
    from textual import events

    driver = app._driver
    assert driver is not None
    for key in keys:
        event = events.Key(key, key if len(key) == 1 else None)
        event.set_sender(app)
        driver.send_message(event)


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
            "Bob Stone": "note: …escrow papers are signed",
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
        assert any("Bob Stone" in s and "note: …escrow papers are signed" in s for s in shown)
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


def test_keys_typed_in_one_burst_land_where_they_were_meant(seeded: str) -> None:
    """As a paste or a slow ssh link delivers them: no pause between the keys."""

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("2")
        await settle(pilot)
        burst(app, "a", *"Dana Levi", "tab", *"dana@levi.io", "ctrl+s")
        await settle(pilot)
        if not isinstance(app.screen, ContactScreen):
            from textual.widgets import Input

            print({i.id: i.value for i in app.screen.query(Input)}, app.screen.focused)
        assert isinstance(app.screen, ContactScreen)

    run(flow)
    shown = Runner().ok("contact", "show", "dana", "--json").json()
    assert (shown["name"], shown["emails"]) == ("Dana Levi", ["dana@levi.io"])


def drawn(app: TinyCRMApp, selector: str) -> list[str]:
    """The lines of a widget as drawn on the screen."""
    widget = app.screen.query_one(selector)
    return [widget.render_line(y).text for y in range(widget.size.height)]


def test_forms_taller_than_the_terminal_keep_save_in_view_and_enter_saves(seeded: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        from textual.widgets import Button

        from tinycrm.tui.screens.forms import FormModal

        await pilot.press("2")
        await settle(pilot)
        await pilot.press("n")  # the note form, at 80x24
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormModal)
        save = form.query_one("#save", Button)
        assert save.region.bottom <= 24 and save.region.height > 0  # on the screen
        assert (
            app.screen.get_widget_at(save.region.x + 1, save.region.y + 1)[0] is save
        )  # not covered
        await pilot.press(*"signed", "tab", "tab")  # to the When field
        form.query_one("#happened").value = ""  # type: ignore[attr-defined]
        await pilot.press(*"yesterday 15:00", "enter")  # enter saves from any field
        await settle(pilot)
        assert not isinstance(app.screen, FormModal)
        await pilot.press("escape", "a")  # the Add contact form: taller than 24 lines
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormModal)
        save = form.query_one("#save", Button)
        assert save.region.bottom <= 24 and save.region.height > 0
        assert app.screen.get_widget_at(save.region.x + 1, save.region.y + 1)[0] is save

    run(flow, size=(80, 24))
    shown = Runner().ok("contact", "show", "alice", "--json").json()
    note = next(e for e in shown["timeline"] if e["text"] == "signed")
    assert note["when"] == "2026-11-22T14:00:00Z"  # Berlin 15:00


def test_dates_are_previewed_as_typed_and_said_in_the_toast(seeded: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        from tinycrm.tui.screens.forms import FormModal

        app.open_contact(2)
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormModal)
        preview = form.query_one("#due-preview", Static)
        assert str(preview.render()) == "→ Tue 24 Nov 09:00 (tomorrow)"  # the default
        await pilot.press(*"call back", "tab")
        form.query_one("#due").value = ""  # type: ignore[attr-defined]
        await pilot.press(*"fri 3pm")
        await settle(pilot)
        assert str(preview.render()) == "→ Fri 27 Nov 15:00 (in 4 days)"
        await pilot.press("backspace", "backspace", "backspace")
        await settle(pilot)
        assert str(preview.render()) == "→ Fri 27 Nov 09:00 (in 4 days)"  # at the day start
        await pilot.press(*"zz")
        await settle(pilot)
        assert str(preview.render()).startswith("→ can't read date 'fri zz'")
        await pilot.press("backspace", "backspace", *"3pm", "enter")
        await settle(pilot)
        assert not isinstance(app.screen, FormModal)
        toasts = [str(n.message) for n in app._notifications]
        assert any(t.endswith("call back · Fri 27 Nov 15:00 (in 4 days)") for t in toasts)

    run(flow)


def test_a_fixed_amount_clears_its_error_at_once(seeded: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        from tinycrm.tui.screens.forms import FormModal

        app.open_contact(2)
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormModal)
        await pilot.press(*"12x", "ctrl+s")
        await settle(pilot)
        error = form.query_one("#amount-error", Static)
        assert str(error.render()) != ""
        await pilot.press("backspace")
        await settle(pilot)
        assert str(error.render()) == ""  # stale once the field changed
        assert not form.query_one("#amount").has_class("-invalid")
        assert str(form.query_one("#on-preview", Static).render()).startswith("→ Mon 23 Nov")

    run(flow)


def test_home_and_end_in_the_timeline_go_to_the_newest_and_oldest(seeded: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        app.open_contact(1)  # Alice: a note, two purchases, a deal
        await settle(pilot)
        table = app.screen.query_one(Timeline)
        assert table.row_count >= 3
        await pilot.press("end")
        assert table.cursor_row == table.row_count - 1
        assert table.scroll_x == 0
        await pilot.press("home")
        assert table.cursor_row == 0

    run(flow, size=(80, 24))


def test_the_empty_store_hint_fits_at_140_and_at_80x24(sqlite_store: str) -> None:
    for size in ((140, 40), (80, 24)):

        async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
            text = " ".join(line.strip() for line in drawn(app, "#empty-hint"))
            assert "An empty store. Press 2, then a, to add your first contact" in text
            assert text.endswith("(or: tinycrm import contacts FILE.csv).")

        run(flow, size=size)


def test_times_and_stages_are_never_cut(seeded: str) -> None:
    cli = Runner()
    cli.ok("remind", "bob", "tomorrow 9:00", "send the long renewal proposal for 2027 to the board")
    cli.ok("deal", "add", "carla", "A very long deal name for a renewal", "--stage", "Negotiation")

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        assert any("tomorrow 09:00" in line for line in drawn(app, "#reminders"))
        deals = drawn(app, "#deals")
        assert not any("Negoti…" in line for line in deals)
        app.open_contact(1)
        await settle(pilot)
        for line in drawn(app, "#timeline")[1:]:
            if line.strip():
                assert line.split()[1][2] == ":" or len(line.split()[0]) == 10  # 2026-11-02

    run(flow, size=(80, 24))


def test_rankings_and_counts_have_thousands_separators(
    seeded: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    Runner().ok("purchase", "add", "bob", "1234567.5", "--date", "2026-11-01")
    monkeypatch.setenv("TINYCRM_USER", "lea")  # not sam, who made the store

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("5")
        await settle(pilot)
        bob = next(r for r in rows(app, "ranking") if r[1] == "Bob Stone")
        assert bob[4] == "1,234,567.50"
        pareto = str(app.screen.query_one("#pareto", Static).render())
        assert "revenue 1,236,867.50 EUR" in pareto
        await pilot.press("2")
        await settle(pilot)
        placeholder = app.screen.query_one("#search").placeholder  # type: ignore[attr-defined]
        assert placeholder.endswith("tag:vip owner:lea")  # the user, not an example

    run(flow)


def test_counts_come_from_the_store_not_from_the_rows_read(
    seeded: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tinycrm.tui import data
    from tinycrm.tui.screens import contacts as contacts_screen

    cli = Runner()
    for i in range(4):
        cli.ok("remind", "bob", f"{i + 1}d ago", f"late {i}")
        cli.ok("contact", "add", f"Vip {i}", "--tag", "vip")
    monkeypatch.setattr(data, "REMINDERS", 2)  # rows read at most
    monkeypatch.setattr(contacts_screen, "PAGE", 2)

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("4")
        await settle(pilot)
        status = str(app.screen.query_one("#reminders-status", Static).render())
        assert status == "2 of 7 open reminders (everyone's) · 5 overdue"
        await pilot.press("2")
        await settle(pilot)
        app.screen.query_one("#search").value = "tag:vip"  # type: ignore[attr-defined]
        await settle(pilot)
        status = str(app.screen.query_one("#contacts-status", Static).render())
        assert status.startswith("5 with tag:vip · ")

    run(flow, size=(100, 8))


def test_one_of_a_thing_is_not_plural(sqlite_store: str) -> None:
    cli = Runner()
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("remind", "alice", "tomorrow", "call")
    cli.ok("purchase", "add", "alice", "10", "--date", "2026-11-01")

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        for key, status, expected in (
            ("2", "#contacts-status", "1 contact · "),
            ("4", "#reminders-status", "1 open reminder (everyone's)"),
            ("5", "#ranking-status", "1 contact · by rfm"),
            ("5", "#pareto", "1 customer · revenue 10.00 EUR"),
        ):
            await pilot.press(key)
            await settle(pilot)
            assert str(app.screen.query_one(status, Static).render()).startswith(expected)

    run(flow)


def test_snooze_then_enter_moves_a_reminder_later_never_earlier(seeded: str) -> None:
    Runner().ok("remind", "bob", "2026-12-01 10:00", "next tuesday's call")

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        from tinycrm.tui.screens.forms import FormModal

        await pilot.press("4")
        await settle(pilot)
        table = app.screen.query_one("#reminder-list")
        row = next(i for i in range(4) if "next tuesday" in str(table.get_row_at(i)[3]))  # type: ignore[attr-defined]
        table.move_cursor(row=row)  # type: ignore[attr-defined]
        await pilot.press("s")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, FormModal)
        assert form.value("until") == ""  # empty: the morning after it is due (the service)
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, FormModal)

    run(flow)
    moved = next(r for r in Runner().ok("todo", "--all", "--json").json() if "tuesday" in r["text"])
    assert moved["due_at"] == "2026-12-02T08:00:00Z"  # 09:00 Berlin, the day after it was due
