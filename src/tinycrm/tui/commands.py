"""The command palette (ctrl+p): every screen, the keys of the screen it was opened on,
and every contact by name (open, log a note, set a reminder)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from tinycrm.services.contacts import ContactSummary
from tinycrm.tui.widgets.nav import SCREENS

if TYPE_CHECKING:
    from tinycrm.tui.app import TinyCRMApp

CONTACTS = 8


def find_contacts(app: TinyCRMApp, text: str) -> list[ContactSummary]:
    """Contacts matching `text` as `tinycrm search` matches, in a thread of its own."""
    from tinycrm.text import scrub
    from tinycrm.tui.data import find_contacts

    with app.store.ctx() as ctx:
        found: list[ContactSummary] = scrub(find_contacts(ctx, text, CONTACTS))
        return found


class CRMCommands(Provider):
    @property
    def crm(self) -> TinyCRMApp:
        return cast("TinyCRMApp", self.app)

    def _actions(self) -> list[tuple[str, Callable[[], object], str]]:
        out: list[tuple[str, Callable[[], object], str]] = []
        for n, (mode, label) in enumerate(SCREENS, start=1):
            out.append((f"Go to {label}", partial(self.app.switch_mode, mode), f"key {n}"))
        screen = self.screen
        title = type(screen).__name__.removesuffix("Screen")
        for b in getattr(screen, "BINDINGS", []):
            if isinstance(b, Binding) and b.description:
                out.append(
                    (
                        f"{title}: {b.description}",
                        partial(screen.run_action, b.action),
                        f"key {b.key_display or b.key}",
                    )
                )
        out.append(("Undo the last change", self.crm.action_undo, "ctrl+z"))
        out.append(("Redo the last undo", self.crm.action_redo, "ctrl+shift+z"))
        out.append(("Keys (help)", self.crm.action_help, "key ?"))
        out.append(("Light or dark theme", self.crm.action_toggle_theme, "ctrl+t"))
        return out

    async def discover(self) -> Hits:
        for name, callback, help_text in self._actions():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._actions():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
        if not query.strip():
            return
        from tinycrm.errors import TinyCRMError

        try:
            people = await asyncio.to_thread(find_contacts, self.crm, query)
        except TinyCRMError:
            return
        from tinycrm.refs import Target

        for c in people:
            about = " · ".join(x for x in (c.company, c.email) if x)
            target = Target("contact", c.id, c.name)
            yield Hit(0.9, c.name, partial(self.crm.open_contact, c.id), help=about or "open")
            yield Hit(
                0.5, f"Log a note · {c.name}", partial(self.crm.note_about, target), help=about
            )
            yield Hit(
                0.4,
                f"Set a reminder · {c.name}",
                partial(self.crm.remind_about, target),
                help=about,
            )
