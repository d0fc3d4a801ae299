"""The full-screen terminal UI (Textual). `run()` is its only entry point.

Textual is imported only here and below, never by the CLI's quick commands.
"""

from __future__ import annotations


def run(db_option: str | None = None, screen: str = "today") -> int:
    """Check the environment and open the store (errors are raised before any drawing),
    then run the app."""
    from tinycrm.config import tui_poll_seconds
    from tinycrm.tui.data import Store

    tui_poll_seconds()

    store = Store.open(db_option)
    from tinycrm.tui.app import TinyCRMApp

    app = TinyCRMApp.starting_on(screen)(store)
    app.run()
    return app.return_code or 0
