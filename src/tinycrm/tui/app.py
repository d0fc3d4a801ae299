"""The tinycrm Textual app: modes for the main screens, the store watcher, global keys."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events
from textual.app import App
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer

from tinycrm.config import tui_poll_seconds
from tinycrm.refs import Target
from tinycrm.tui.commands import CRMCommands
from tinycrm.tui.data import Store
from tinycrm.tui.screens.base import CRMScreen, ScreenReady, StoreChanged, run_db

if TYPE_CHECKING:
    from tinycrm.services.undo import Undone
    from tinycrm.tui.data import Watcher


class Notice(Message):
    """A line to show when a write in a worker is done (posted to the app)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


def _undone(done: Undone) -> Notice:
    verb = "Undid" if done.action == "undo" else "Redid"
    again = "ctrl+shift+z redoes" if done.action == "undo" else "ctrl+z undoes"
    return Notice(f"{verb} change {done.change.id}: {done.change.summary} · {again}")


POLL_SECONDS: float | None = None  # None: TINYCRM_TUI_POLL (config.tui_poll_seconds)


def today_screen() -> Screen[Any]:
    from tinycrm.tui.screens.today import TodayScreen

    return TodayScreen()


def contacts_screen() -> Screen[Any]:
    from tinycrm.tui.screens.contacts import ContactsScreen

    return ContactsScreen()


def deals_screen() -> Screen[Any]:
    from tinycrm.tui.screens.deals import DealsScreen

    return DealsScreen()


def reminders_screen() -> Screen[Any]:
    from tinycrm.tui.screens.reminders import RemindersScreen

    return RemindersScreen()


def rankings_screen() -> Screen[Any]:
    from tinycrm.tui.screens.rankings import RankingsScreen

    return RankingsScreen()


def cases_screen() -> Screen[Any]:
    from tinycrm.tui.screens.cases import CasesScreen

    return CasesScreen()


class TinyCRMApp(App[int]):
    """tinycrm, full screen."""

    TITLE = "tinycrm"
    CSS_PATH = "tinycrm.tcss"
    MODES: ClassVar[dict[str, str | Callable[[], Screen[Any]]]] = {
        "today": today_screen,
        "contacts": contacts_screen,
        "deals": deals_screen,
        "reminders": reminders_screen,
        "rankings": rankings_screen,
        "cases": cases_screen,
    }
    DEFAULT_MODE = "today"
    COMMANDS = App.COMMANDS | {CRMCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "switch_mode('today')", "Today", show=False),
        Binding("2", "switch_mode('contacts')", "Contacts", show=False),
        Binding("3", "switch_mode('deals')", "Deals", show=False),
        Binding("4", "switch_mode('reminders')", "Reminders", show=False),
        Binding("5", "switch_mode('rankings')", "Rankings", show=False),
        Binding("6", "switch_mode('cases')", "Cases", show=False),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("ctrl+t", "toggle_theme", "Theme", show=False),
        Binding("ctrl+z", "undo", "Undo", show=False),
        Binding("ctrl+shift+z", "redo", "Redo", show=False),
        Binding("q", "quit", "Quit", show=False),
    ]

    def __init__(self, store: Store, *, watch: bool = True) -> None:
        """`watch=False`: don't look for other people's commits (tests that want a stale
        screen); the app's own writes still refresh it."""
        super().__init__()
        self.store = store
        self._terminal = -1  # the terminal's file descriptor, once it is being watched
        self.generation = 0  # bumped on StoreChanged; screens shown again reload when stale
        self._watch = watch
        self.watcher: Watcher | None = None
        self._saved_theme = ""
        self.sub_title = store.description
        self.held_keys: list[events.Key] = []  # typed, not handed on yet (see _pump)
        self._in_flight: events.Key | None = None  # handed on, not used yet
        self._hold_timer: Timer | None = None

    @classmethod
    def starting_on(cls, screen: str) -> type[TinyCRMApp]:
        """The app opening on `screen` (a mode) rather than Today, without building Today."""
        if screen == cls.DEFAULT_MODE:
            return cls
        return type(cls.__name__, (cls,), {"DEFAULT_MODE": screen, "__module__": cls.__module__})

    def on_mount(self) -> None:
        from tinycrm.tui.data import load_state

        theme = load_state().get("theme")
        if isinstance(theme, str) and theme in self.available_themes:
            self.theme = theme
        self._saved_theme = self.theme
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        self._start_watcher()
        stdin = sys.__stdin__
        if not self.is_headless and stdin is not None and stdin.isatty():
            self._terminal = stdin.fileno()
            self.set_interval(1.0, self._check_terminal)
            with contextlib.suppress(NotImplementedError, RuntimeError):  # no SIGHUP (Windows)
                asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._hang_up)

    # -- keys typed faster than forms open -----------------------------------------------------
    # A paste or a slow ssh link delivers `a`, "Dana Levi", tab, "dana@levi.io" in one read.
    # Textual hands each key to the widget focused when the key is read, and runs a screen's
    # key binding only when the key comes back from that widget unused: so every key of
    # the burst went to the contacts list before `a` opened the Add form, and a tab went to
    # the name field before it moved the focus. Here keys are handled one at a time: the
    # next is handed on only once the one before has been used (by the widget, or by a
    # binding when it came back), while a screen that is not ready yet (`taking_keys`: a
    # form until it has focused its first field) is in front they wait, and they are
    # handed on in the order typed (ScreenReady).
    def _taking_keys(self) -> bool:
        return bool(getattr(self.screen, "taking_keys", True))

    async def on_event(self, event: events.Event) -> None:
        if not isinstance(event, events.Key) or event.is_forwarded:
            await super().on_event(event)
            return
        self.held_keys.append(event)
        await self._pump()

    async def _pump(self, force: bool = False) -> None:
        """Hand on the keys waiting, one at a time."""
        while self.held_keys and self._in_flight is None:
            if not force and not self._taking_keys():
                self._wait_at_most(2.0)
                return
            event = self.held_keys.pop(0)
            self.app_focus = True
            if await self._check_bindings(event.key, priority=True):
                continue
            target = self.focused or self.screen
            self._in_flight = event
            self._wait_at_most(0.5)
            target._forward_event(event)
            # after the key in the target's queue: used there, or on its way back up
            target.call_later(self._reached, event)

    def _wait_at_most(self, seconds: float) -> None:
        if self._hold_timer is not None:
            self._hold_timer.stop()
        self._hold_timer = self.set_timer(seconds, self._waited_too_long)

    async def _waited_too_long(self) -> None:
        """Never held for ever, whatever happened to the key or the form."""
        self._hold_timer = None
        self._in_flight = None
        await self._pump(force=True)

    def _reached(self, event: events.Key) -> None:
        if event._stop_propagation:  # used by the widget: it won't come back
            self.call_next(self._done, event)

    async def _on_key(self, event: events.Key) -> None:
        await super()._on_key(event)  # came back unused: the bindings run now, once:
        event.prevent_default()  # (not again by App._on_key, next in the dispatch)
        await self._done(event)

    async def _done(self, event: events.Key) -> None:
        if event is not self._in_flight:
            return
        self._in_flight = None
        if self._hold_timer is not None:
            self._hold_timer.stop()
            self._hold_timer = None
        await self._pump()

    async def on_screen_ready(self, message: ScreenReady) -> None:
        await self._pump()

    # -- the terminal going away ----------------------------------------------------------------
    # A window closed or an ssh connection dropped: end at once, as `q` would. SIGHUP
    # does not always come (under `make run` make takes it and dies, and tinycrm keeps a
    # dead terminal), and Textual's input thread then spins on the closed input for ever,
    # so the terminal is also asked every second whether it is there.
    def _check_terminal(self) -> None:
        import termios

        try:
            termios.tcgetattr(self._terminal)  # EIO once the terminal hung up
        except (termios.error, OSError):
            self._hang_up()

    def _hang_up(self) -> None:
        # Not App.exit(): restoring a terminal that is gone can wait for ever. What needs
        # doing is done: every write is in the store as soon as it is made (a delete
        # too: ctrl+z takes it back), and a write still running in a worker is one
        # transaction that rolls back whole, as after any crash.
        os._exit(129)  # 128 + SIGHUP: as if the hang-up had ended it

    def _remember_theme(self, theme: Any) -> None:
        """The theme picked (ctrl+t, the command palette) is the theme of the next run."""
        from tinycrm.tui.data import save_state

        if theme.name == self._saved_theme:
            return
        try:
            save_state(theme=theme.name)
        except OSError as e:
            self.notify(f"could not remember the theme: {e}", severity="warning")
            return
        self._saved_theme = theme.name

    # -- keeping up with the store ------------------------------------------------------------
    # One path: the watcher looks every POLL_SECONDS (for commits by anyone: another
    # terminal, the CLI, a colleague) and at once after each of the app's own writes
    # (`wrote`), and posts StoreChanged once per change it sees; the screen in front
    # reloads, the others when shown.
    def _start_watcher(self) -> None:
        from tinycrm.tui.data import Watcher

        pause = POLL_SECONDS if POLL_SECONDS is not None else tui_poll_seconds()
        self.watcher = Watcher(self.store, self._store_changed, poll=pause if self._watch else None)
        self.watcher.start()

    def _store_changed(self) -> None:
        """In the watcher's thread."""
        with contextlib.suppress(RuntimeError):  # the app has just closed
            self.post_message(StoreChanged())

    def wrote(self) -> None:
        """The app committed a change (in a worker thread): returns once the watcher has
        looked, so StoreChanged is on its way before the writer's own message."""
        if self.watcher is not None:
            self.watcher.wrote()

    def on_store_changed(self, message: StoreChanged) -> None:
        self.generation += 1
        screen = self.screen
        if isinstance(screen, CRMScreen):
            screen.post_message(StoreChanged())

    def on_unmount(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()

    # -- deleting, undo and redo -------------------------------------------------------------
    def delete_contact(self, contact_id: int, name: str) -> None:
        """Delete a contact now; ctrl+z (services/undo) puts it back with all that went."""
        from tinycrm.services.contacts import delete_contact

        run_db(
            self,
            lambda ctx: delete_contact(ctx, contact_id),
            lambda _: Notice(f"Deleted {name} · ctrl+z undoes"),
            group="write",
            exclusive=False,
            writes=True,
        )

    def action_undo(self) -> None:
        """Take back your last change, whatever made it (as `tinycrm undo`)."""
        from tinycrm.services.undo import undo

        run_db(self, undo, _undone, group="write", exclusive=False, writes=True)

    def action_redo(self) -> None:
        """Take back your last undo (as `tinycrm redo`)."""
        from tinycrm.services.undo import redo

        run_db(self, redo, _undone, group="write", exclusive=False, writes=True)

    def on_notice(self, message: Notice) -> None:
        self.notify(message.text, timeout=8)

    async def action_quit(self) -> None:
        self.exit()

    def show_bug(self, error: Exception) -> None:
        """A bug in a worker: one line, as the CLI says it, instead of a silent failure."""
        self.notify(
            f"internal error ({type(error).__name__}: {error}); rerun with TINYCRM_DEBUG=1",
            title="Error",
            severity="error",
            timeout=10,
        )

    def show_error(self, error: Exception) -> None:
        self.notify(str(error), title="Error", severity="error", timeout=8)

    # -- actions ------------------------------------------------------------------------------
    def action_help(self) -> None:
        from tinycrm.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"

    def note_about(self, target: Target) -> None:
        from tinycrm.tui.screens.forms import NoteForm

        self.push_screen(NoteForm(target, target.label))

    def remind_about(self, target: Target) -> None:
        from tinycrm.tui.screens.forms import ReminderForm

        self.push_screen(ReminderForm(target, target.label))

    def open_case(self, case_id: int) -> None:
        from tinycrm.tui.screens.cases import CaseScreen

        self.push_screen(CaseScreen(case_id))

    def open_contact(self, contact_id: int) -> None:
        from tinycrm.tui.screens.contact import ContactScreen

        self.push_screen(ContactScreen(contact_id))
