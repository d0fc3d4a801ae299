"""`tinycrm tui` (and bare `tinycrm` on a terminal): the full-screen app."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer


def wants_tui() -> bool:
    """Bare `tinycrm` opens the app when both ends are a terminal, unless TINYCRM_NO_TUI=1."""
    if os.environ.get("TINYCRM_NO_TUI") == "1":
        return False
    return sys.stdin.isatty() and sys.stdout.isatty()


SCREENS = ("today", "contacts", "deals", "reminders", "rankings", "cases")


def tui(
    screen: Annotated[
        str, typer.Argument(help="The screen to start on: " + ", ".join(SCREENS) + ".")
    ] = "today",
) -> None:
    """Open the full-screen app (? lists the keys).

    Today's work, contacts, the 360 view, deals, reminders, rankings and service cases.
    """
    from tinycrm.cli.state import state

    if screen not in SCREENS:
        from tinycrm.errors import InvalidInput

        raise InvalidInput(f"no screen {screen!r}: use one of {', '.join(SCREENS)}")
    from tinycrm.tui import run

    code = run(state.db_option, screen)
    if code:
        raise typer.Exit(code)
