"""The keys: those of the screen underneath, then the ones that work everywhere."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

GENERAL = [
    ("1 2 3 4 5", "Today · Contacts · Deals · Reminders · Rankings"),
    ("ctrl+p", "command palette: every action, every contact by name"),
    ("tab / shift+tab", "next / previous list or field"),
    ("↑ ↓ pgup pgdn home end", "move in a list"),
    ("enter", "open the highlighted contact"),
    ("ctrl+t", "light or dark theme"),
    ("?", "this help"),
    ("q · ctrl+q", "quit"),
]

FORMS = [
    ("enter, ctrl+s", "save, from any field"),
    ("escape", "cancel"),
    ("dates", "the WHEN language: tomorrow 9am, 3d, friday, next week, 明天"),
]


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
    ]

    def __init__(self, under: Screen[object]) -> None:
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        title = type(self.under).__name__.removesuffix("Screen")
        own = [
            (b.key_display or b.key, b.description)
            for b in getattr(self.under, "BINDINGS", [])
            if isinstance(b, Binding) and b.description
        ]
        text = Text()
        for heading, keys in ((title, own), ("Everywhere", GENERAL), ("In forms", FORMS)):
            text.append(f"{heading}\n", style="bold underline")
            for key, what in keys:
                text.append(f"  {key:<24}", style="bold")
                text.append(f"{what}\n")
            text.append("\n")
        text.append("escape closes", style="dim")
        with VerticalScroll(classes="form", id="help"):
            yield Static(text)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
