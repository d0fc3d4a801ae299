"""The full-screen terminal UI (Textual). `run()` is its only entry point.

Textual is imported only here and below, never by the CLI's quick commands.
"""

from __future__ import annotations


def run(db_option: str | None = None, screen: str = "today") -> int:
    """Open the store (a StoreError is raised before any drawing), then run the app."""
    from tinycrm.tui.data import Store

    store = Store.open(db_option)
    from tinycrm.tui.app import TinyCRMApp

    app = TinyCRMApp.starting_on(screen)(store)
    app.run()
    return app.return_code or 0
