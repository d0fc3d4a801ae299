"""`e` edits and `x` deletes a note, reminder, purchase or deal in the app (#16): in the
contact view's timeline and in the Today, Reminders and Deals lists, under Pilot, on the
seeded SQLite store. What the app saved is read back through the real CLI."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Input, Static

from tests.conftest import Runner
from tests.tui.test_screens import columns, rows, run, settle
from tinycrm.tui.app import TinyCRMApp
from tinycrm.tui.screens.contact import ContactScreen
from tinycrm.tui.screens.forms import ConfirmModal, FormModal


def _question(app: TinyCRMApp) -> str:
    assert isinstance(app.screen, ConfirmModal)
    return " ".join(str(s.render()) for s in [*app.screen.query(Static)])


def test_edit_and_delete_from_the_contact_timeline(seeded: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("enter")  # Alice Wong
        await settle(pilot)
        assert isinstance(app.screen, ContactScreen)
        kinds = [r[1] for r in rows(app, "timeline")]
        assert kinds == ["deal", "note", "purchase", "purchase"]
        # the purchase of 800 on 2 November was one of 80
        await pilot.press("down", "down", "e")
        await settle(pilot)
        assert isinstance(app.screen, FormModal)
        form = app.screen
        assert form.query_one("#amount", Input).value == "800.00"
        await pilot.press("ctrl+s")  # nothing changed: said, nothing written
        await settle(pilot)
        assert "nothing changed" in str(form.query_one("#form-error", Static).render())
        form.query_one("#amount", Input).value = "80"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ContactScreen)
        assert rows(app, "timeline")[2][2] == "80.00 EUR"
        # the note 20 days ago: delete it, after a question that says what it was
        await pilot.press("up", "x")
        await settle(pilot)
        assert "Delete note #1 with Alice Wong?" in _question(app)
        assert "asked for a quote" in _question(app)
        await pilot.press("n")  # no: nothing goes
        await settle(pilot)
        assert "note" in [r[1] for r in rows(app, "timeline")]
        await pilot.press("x")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, ContactScreen)
        assert "note" not in [r[1] for r in rows(app, "timeline")]
        card = str(app.screen.query_one("#card", Static).render())
        assert "last touch  never" in card  # her only note went

    run(flow)
    cli = Runner()
    assert [p["amount"] for p in cli.ok("purchase", "list", "alice", "--json").json()] == [
        "80.00",
        "1200.00",
    ]
    assert cli.ok("search", "quote", "--json").json() == []
    assert cli.ok("contact", "show", "alice", "--json").json()["last_touch_at"] is None


def test_edit_a_note_in_the_contact_view(seeded: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        app.open_contact(4)  # Carla Diaz: one call ten days ago, one purchase in June
        await settle(pilot)
        assert isinstance(app.screen, ContactScreen)
        at = [r[1] for r in rows(app, "timeline")].index("call")
        await pilot.press(*["down"] * at, "e")
        await settle(pilot)
        assert isinstance(app.screen, FormModal)
        form = app.screen
        form.query_one("#body", Input).value = "intro call, booked a demo"
        form.query_one("#happened", Input).value = "2026-11-20 10:00"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ContactScreen)
        assert "intro call, booked a demo" in [r[2] for r in rows(app, "timeline")]

    run(flow)
    shown = Runner().ok("contact", "show", "carla", "--json").json()
    assert shown["last_touch_at"] == "2026-11-20T09:00:00Z"
    assert Runner().ok("search", "demo", "--json").json()[0]["title"] == "Carla Diaz"


def test_edit_and_delete_a_reminder_in_the_reminders_list(seeded: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("4")
        await settle(pilot)
        assert [r[3] for r in rows(app, "reminder-list")][0] == "send the proposal"
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, FormModal)
        form = app.screen
        assert form.query_one("#due", Input).value == "2026-11-20 10:00"
        form.query_one("#text", Input).value = "send the revised proposal"
        form.query_one("#due", Input).value = "2026-11-25 10:00"
        await pilot.press("ctrl+s")
        await settle(pilot)
        listed = rows(app, "reminder-list")
        assert [r[3] for r in listed] == ["call Bob back", "send the revised proposal", "check in"]
        await pilot.press("x")  # call Bob back
        await settle(pilot)
        assert "Delete reminder #2 about Bob Stone?" in _question(app)
        await pilot.press("y")
        await settle(pilot)
        assert [r[3] for r in rows(app, "reminder-list")] == [
            "send the revised proposal",
            "check in",
        ]
        await pilot.press("down", "x")  # the weekly one: this occurrence, the series goes on
        await settle(pilot)
        assert "repeats weekly" in _question(app)
        await pilot.press("y")
        await settle(pilot)
        assert [r[1] for r in rows(app, "reminder-list")][-1] == "2026-12-04 09:00"

    run(flow)
    todo = Runner().ok("todo", "--all", "--json").json()
    assert [(r["text"], r["due_at"]) for r in todo] == [
        ("send the revised proposal", "2026-11-25T09:00:00Z"),
        ("check in", "2026-12-04T08:00:00Z"),
    ]


def test_edit_and_delete_a_deal_on_the_board(seeded: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await pilot.press("3")
        await settle(pilot)
        assert columns(app)["Lead"] == ["2"]  # Stone pilot
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, FormModal)
        form = app.screen
        form.query_one("#title", Input).value = "Stone pilot (phase 1)"
        form.query_one("#value", Input).value = "3500"
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        question = _question(app)
        assert "Delete deal #2 'Stone pilot (phase 1)' and its 0 reminder(s)?" in question
        await pilot.press("y")
        await settle(pilot)
        assert columns(app)["Lead"] == []

    run(flow)
    cli = Runner()
    assert [d["title"] for d in cli.ok("deal", "list", "--status", "all", "--json").json()] == [
        "ACME rollout",
        "北京 order",
    ]
    entries = cli.ok("history", "bob", "--json").json()
    assert entries == [] or all(e["entity"] != "deal" for e in entries)


def test_edit_a_reminder_from_today(seeded: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        first = rows(app, "reminders")[0]
        assert first[1] == "send the proposal"
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, FormModal)
        app.screen.query_one("#text", Input).value = "send the proposal v2"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert rows(app, "reminders")[0][1] == "send the proposal v2"

    run(flow)


def test_an_edit_form_refuses_a_note_changed_meanwhile(seeded: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        app.open_contact(4)  # Carla Diaz: her call ten days ago
        await settle(pilot)
        at = [r[1] for r in rows(app, "timeline")].index("call")
        await pilot.press(*["down"] * at, "e")
        await settle(pilot)
        assert isinstance(app.screen, FormModal)
        form = app.screen
        # meanwhile, from another terminal
        Runner().ok("interaction", "edit", "2", "--text", "intro call (edited elsewhere)")
        form.query_one("#body", Input).value = "intro call, mine"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form  # still open, with what was typed
        refusal = str(form.query_one("#form-error", Static).render())
        assert "was changed by sam" in refusal and "nothing was saved" in refusal

    run(flow)
    shown = Runner().ok("search", "edited", "--json").json()
    assert [h["detail"] for h in shown] == ["call: intro call (edited elsewhere)"]
