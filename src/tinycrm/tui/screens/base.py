"""What every tinycrm screen shares: the app's store, database work in thread workers whose
results come back as messages, and reloading on `StoreChanged`."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar, cast

from textual.dom import DOMNode
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.worker import get_current_worker

from tinycrm.services.context import Ctx

if TYPE_CHECKING:
    from tinycrm.errors import TinyCRMError
    from tinycrm.tui.app import TinyCRMApp

T = TypeVar("T")


class StoreChanged(Message, bubble=False):
    """Someone committed to the store (the app itself, another terminal, a colleague).

    The store watcher (data.Watcher) sends it to the app, once per change it notices; the
    app passes it on to the screen in front, which reads its data again; the others do
    when they are shown next."""


class ScreenReady(Message, bubble=False):
    """Sent to the app by a screen that was not `taking_keys` (a form being built) once it
    can: the keys typed meanwhile are replayed to it (TinyCRMApp.held_keys)."""


def run_db(
    node: DOMNode,
    job: Callable[[Ctx], T],
    done: Callable[[T], Message] | None = None,
    *,
    group: str = "load",
    exclusive: bool = True,
    failed: Callable[[TinyCRMError], Message] | None = None,
    writes: bool = False,
) -> None:
    """Run `job` with its own store connection in a thread worker and post the message
    `done(result)` to `node` (unless a newer job of the same exclusive group replaced it).

    A job that `writes` tells the store watcher once it has committed, before `done`: the
    watcher's StoreChanged is what reloads the screens. tinycrm errors are posted as
    `failed(error)` (inline messages in forms), else shown as a notification; a bug is a
    notification too. Every string in the result is scrubbed of control characters and
    escape sequences first (text.scrub), however it got into the store, so stored text
    never drives the terminal."""
    from tinycrm.errors import TinyCRMError
    from tinycrm.text import scrub

    app = cast("TinyCRMApp", node.app)

    def work() -> None:
        try:
            with app.store.ctx() as ctx:
                result = scrub(job(ctx))
        except TinyCRMError as e:
            if failed is not None:
                node.post_message(failed(e))
            else:
                app.show_error(e)
            return
        except Exception as e:
            app.show_bug(e)
            if os.environ.get("TINYCRM_DEBUG"):
                raise
            return
        if writes:
            app.wrote()
        if done is not None and not get_current_worker().is_cancelled:
            node.post_message(done(result))

    node.run_worker(work, thread=True, group=group, exclusive=exclusive, exit_on_error=False)


class CRMScreen(Screen[None]):
    """A screen that shows store data: `reload()` reads it again in a worker, on
    StoreChanged, and when the screen is shown again after a change."""

    loaded_generation = -1

    @property
    def crm(self) -> TinyCRMApp:
        return cast("TinyCRMApp", self.app)

    def reload(self) -> None:
        """Read this screen's data again (in a worker)."""
        self.loaded_generation = self.crm.generation

    def on_store_changed(self, message: StoreChanged) -> None:
        self.reload()

    def on_screen_resume(self) -> None:
        if self.loaded_generation != self.crm.generation:
            self.reload()


class CRMModal(ModalScreen[T]):
    @property
    def crm(self) -> TinyCRMApp:
        return cast("TinyCRMApp", self.app)
