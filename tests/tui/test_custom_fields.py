"""Custom fields in the full-screen app (#23): the contact view shows them, and the
contact form edits them (only what changed is written; a bad value is refused inline)."""

from __future__ import annotations

import asyncio

from textual.widgets import Static

from tests.conftest import Runner
from tests.tui.test_screens import rows, settle
from tinycrm.tui.app import TinyCRMApp
from tinycrm.tui.data import Store
from tinycrm.tui.screens.contact import ContactScreen
from tinycrm.tui.screens.forms import FormModal


def test_the_contact_form_edits_custom_fields_and_the_view_shows_them(seeded: str) -> None:
    cli = Runner()
    cli.ok("field", "add", "contact", "segment", "--type", "choice", "--choices", "smb,mid,ent")
    cli.ok("field", "add", "contact", "seats", "--type", "number")
    cli.ok("field", "add", "contact", "deal_size", "--type", "money")
    cli.ok("contact", "edit", "alice", "--set", "seats=40", "--set", "deal_size=$1,500")

    async def main() -> None:
        app = TinyCRMApp(Store.open(), watch=False)
        async with app.run_test(size=(100, 40)) as pilot:
            await settle(pilot)
            await pilot.press("2")
            await settle(pilot)
            assert len(rows(app, "contacts")) == 4
            await pilot.press("e")  # Alice Wong, the first row
            await settle(pilot)
            form = app.screen
            assert isinstance(form, FormModal)
            assert form.value("custom-0") == ""  # segment: none yet
            assert form.value("custom-1") == "40"
            assert form.value("custom-2") == "1500.00 USD"
            form.query_one("#custom-0").value = "huge"  # type: ignore[attr-defined]
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert app.screen is form  # refused, the typing kept
            error = str(form.query_one("#form-error", Static).render())
            assert "segment must be one of smb, mid, ent: 'huge'" in error
            form.query_one("#custom-0").value = "MID"  # type: ignore[attr-defined]
            form.query_one("#custom-1").value = ""  # type: ignore[attr-defined]
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert not isinstance(app.screen, FormModal)
            await pilot.press("enter")  # open Alice
            await settle(pilot)
            assert isinstance(app.screen, ContactScreen)
            card = str(app.screen.query_one("#card", Static).render())
            assert "   segment  mid" in card
            assert "deal_size  1,500.00 USD" in card
            assert "seats" not in card

    asyncio.run(main())
    shown = cli.ok("contact", "show", "alice", "--json").json()
    assert [(f["name"], f["value"]) for f in shown["fields"]] == [
        ("segment", "mid"),
        ("deal_size", "1500.00"),
    ]
    history = cli.ok("history", "alice", "--json").json()
    assert history[0]["changes"] == {"seats": ["40", None], "segment": [None, "mid"]}


def test_the_add_form_asks_for_a_required_field(seeded: str) -> None:
    cli = Runner()
    cli.ok(
        "field", "add", "contact", "segment", "-t", "choice", "--choices", "smb,mid", "--required"
    )

    async def main() -> None:
        app = TinyCRMApp(Store.open(), watch=False)
        async with app.run_test(size=(100, 40)) as pilot:
            await settle(pilot)
            await pilot.press("2")
            await settle(pilot)
            await pilot.press("a")
            await pilot.pause()
            form = app.screen
            assert isinstance(form, FormModal)
            await pilot.press(*"Dora Lind", "ctrl+s")
            await settle(pilot)
            error = str(form.query_one("#form-error", Static).render())
            assert "every contact needs segment" in error
            form.query_one("#custom-0").value = "smb"  # type: ignore[attr-defined]
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert isinstance(app.screen, ContactScreen)

    asyncio.run(main())
    dora = cli.ok("contact", "show", "dora", "--json").json()
    assert [(f["name"], f["value"]) for f in dora["fields"]] == [("segment", "smb")]
