"""The command palette (ctrl+p): every screen, the keys of the screen it was opened on,
every saved view (shown on its screen), and every contact by name (open, log a note, set a
reminder)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider

from tinycrm.services.contacts import ContactSummary
from tinycrm.services.search import ContactMatch
from tinycrm.tui.widgets.format import matched
from tinycrm.tui.widgets.nav import SCREENS

if TYPE_CHECKING:
    from tinycrm.services.views import View
    from tinycrm.tui.app import TinyCRMApp

CONTACTS = 8


def saved_views(app: TinyCRMApp) -> list[View]:
    """Every saved view, in a thread of its own."""
    from tinycrm.text import scrub
    from tinycrm.tui.data import load_views

    with app.store.ctx() as ctx:
        found: list[View] = scrub(load_views(ctx))
        return found


def find_contacts(app: TinyCRMApp, text: str) -> list[tuple[ContactSummary, ContactMatch]]:
    """Contacts `tinycrm search text` leads to, each with why, in a thread of its own."""
    from tinycrm.text import scrub
    from tinycrm.tui.data import find_contacts

    with app.store.ctx() as ctx:
        found: list[tuple[ContactSummary, ContactMatch]] = scrub(find_contacts(ctx, text, CONTACTS))
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

    async def _views(self) -> list[tuple[str, Callable[[], object], str]]:
        """A "View: NAME" command for every saved view, which shows it on its screen."""
        from tinycrm.errors import TinyCRMError

        try:
            views = await asyncio.to_thread(saved_views, self.crm)
        except TinyCRMError:
            return []
        return [
            (f"View: {v.name}", partial(self.crm.open_view, v), f"{v.entity}: {v.filter}")
            for v in views
        ]

    async def discover(self) -> Hits:
        for name, callback, help_text in self._actions() + await self._views():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._actions() + await self._views():
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

        for c, match in people:
            # why it was found when not by its own record (a note, a deal, the company)
            about = matched(match, query) or " · ".join(x for x in (c.company, c.email) if x)
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
