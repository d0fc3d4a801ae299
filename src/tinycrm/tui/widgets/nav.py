"""The top line: the screens by number (click or press), the current one lit."""

from __future__ import annotations

from textual.widgets import Static

SCREENS = (
    ("today", "Today"),
    ("contacts", "Contacts"),
    ("deals", "Deals"),
    ("reminders", "Reminders"),
    ("rankings", "Rankings"),
    ("cases", "Cases"),
)


class NavBar(Static):
    DEFAULT_CSS = """
    NavBar {
        height: 1;
        background: $panel;
        padding: 0 1;
    }
    """

    def __init__(self, current: str) -> None:
        parts = []
        for n, (mode, label) in enumerate(SCREENS, start=1):
            text = f" {n} {label} "
            if mode == current:
                parts.append(f"[reverse bold]{text}[/]")
            else:
                parts.append(f"[@click=app.switch_mode('{mode}')]{text}[/]")
        # no "? keys · ctrl+p" hint here: the footer shows both, and with six screens the
        # hint no longer fits an 80-column top line
        super().__init__("".join(parts))
