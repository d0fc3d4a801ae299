"""Stored text that got in some other way (an older version, a direct SQL write) with
terminal escape sequences in it: the TUI shows it inert."""

from __future__ import annotations

import re
import sqlite3

from textual.pilot import Pilot

from tests.tui.test_screens import rows, run, settle
from tinycrm.tui.app import TinyCRMApp

HOSTILE = "\x1b[2J\x1b]52;c;aGk=\x07\x9b31m\u202e"
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def test_escape_sequences_in_stored_text_never_reach_the_screen(seeded: str) -> None:
    conn = sqlite3.connect(seeded)
    conn.execute(
        "UPDATE contacts SET name = ? WHERE name = 'Alice Wong'", (f"Alice{HOSTILE} Wong",)
    )
    conn.execute(
        "UPDATE reminders SET text = ? WHERE text = 'send the proposal'",
        (f"send{HOSTILE} the proposal",),
    )
    conn.commit()
    conn.close()

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        reminders = rows(app, "reminders")
        assert reminders[0][1] == "send[2J]52;c;aGk=31m the proposal"
        assert not any(CONTROL.search(cell) for row in reminders for cell in row)
        await pilot.press("2")
        await settle(pilot)
        contacts = rows(app, "contacts")
        assert "Alice[2J]52;c;aGk=31m Wong" in [r[0] for r in contacts]
        assert not any(CONTROL.search(cell) for row in contacts for cell in row)

        # the rankings (RankedCustomer has __slots__: scrubbed all the same)
        await pilot.press("5")
        await settle(pilot)
        ranking = rows(app, "ranking")
        assert "Alice[2J]52;c;aGk=31m Wong" in [r[1] for r in ranking]
        assert not any(CONTROL.search(cell) for row in ranking for cell in row)

    run(flow)
