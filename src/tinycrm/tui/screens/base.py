"""What every tinycrm screen shares: the app's store, database work in thread workers,
and reloading when the store changes."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.worker import get_current_worker

from tinycrm.services.context import Ctx

if TYPE_CHECKING:
    from tinycrm.tui.app import TinyCRMApp

T = TypeVar("T")


def run_db(
    node: DOMNode,
    job: Callable[[Ctx], T],
    done: Callable[[T], Any],
    *,
    group: str = "load",
    exclusive: bool = True,
    failed: Callable[[Exception], Any] | None = None,
) -> None:
    """Run `job` with its own store connection in a thread worker, then `done(result)` on
    the UI thread (unless a newer job of the same exclusive group replaced it).
    tinycrm errors go to `failed` (inline messages in forms), else to a notification.
    Every string in the result is scrubbed of control characters and escape sequences
    first (text.scrub), however it got into the store, so stored text never drives the
    terminal."""
    from tinycrm.errors import TinyCRMError
    from tinycrm.text import scrub

    app = cast("TinyCRMApp", node.app)

    def work() -> None:
        try:
            with app.store.ctx() as ctx:
                result = scrub(job(ctx))
        except TinyCRMError as e:
            if failed is not None:
                app.call_from_thread(failed, e)
            else:
                app.call_from_thread(app.show_error, e)
            return
        except Exception as e:
            app.call_from_thread(app.show_bug, e)
            if os.environ.get("TINYCRM_DEBUG"):
                raise
            return
        if not get_current_worker().is_cancelled:
            app.call_from_thread(done, result)

    node.run_worker(work, thread=True, group=group, exclusive=exclusive, exit_on_error=False)


class CRMScreen(Screen[None]):
    """A screen that shows store data: `reload()` reads it again in a worker."""

    loaded_generation = -1

    @property
    def crm(self) -> TinyCRMApp:
        return cast("TinyCRMApp", self.app)

    def reload(self) -> None:
        """Read this screen's data again (in a worker)."""
        self.loaded_generation = self.crm.generation

    def on_screen_resume(self) -> None:
        if self.loaded_generation != self.crm.generation:
            self.reload()


class CRMModal(ModalScreen[T]):
    @property
    def crm(self) -> TinyCRMApp:
        return cast("TinyCRMApp", self.app)
