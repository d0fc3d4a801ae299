"""`e` and `x` on a note, reminder, purchase or deal, written once for the contact view
and the lists (Today, Reminders, Deals): the record is read in a worker with its version,
`e` opens its edit form, `x` asks first, saying what goes with it, then deletes it in a
worker, only if it is still at the version the question showed."""

from __future__ import annotations

from typing import Any

from textual.message import Message

from tinycrm.tui import data
from tinycrm.tui.screens.base import CRMScreen, run_db


class RecordScreen(CRMScreen):
    """A screen whose rows include notes, reminders, purchases or deals."""

    class RecordLoaded(Message, bubble=False):
        def __init__(self, kind: str, view: Any) -> None:
            super().__init__()
            self.kind = kind
            self.view = view

    class RemovalAsked(Message, bubble=False):
        def __init__(self, removal: data.Removal) -> None:
            super().__init__()
            self.removal = removal

    class RecordRemoved(Message, bubble=False):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def edit_record(self, kind: str, ident: int) -> None:
        run_db(
            self,
            lambda ctx: data.load_record(ctx, kind, ident),
            lambda view: self.RecordLoaded(kind, view),
            group="record",
        )

    def on_record_screen_record_loaded(self, message: RecordLoaded) -> None:
        from tinycrm.tui.screens.forms import EDIT_FORMS

        self.app.push_screen(EDIT_FORMS[message.kind](message.view))

    def delete_record(self, kind: str, ident: int) -> None:
        run_db(self, lambda ctx: data.removal(ctx, kind, ident), self.RemovalAsked, group="record")

    def on_record_screen_removal_asked(self, message: RemovalAsked) -> None:
        from tinycrm.tui.screens.forms import ConfirmModal

        asked = message.removal

        def answered(yes: bool | None) -> None:
            if yes:
                run_db(
                    self,
                    lambda ctx: data.remove_record(ctx, asked),
                    self.RecordRemoved,
                    group="write",
                    exclusive=False,
                    writes=True,
                )

        self.app.push_screen(ConfirmModal(asked.question, asked.detail), answered)

    def on_record_screen_record_removed(self, message: RecordRemoved) -> None:
        self.notify(f"{message.text} · ctrl+z undoes")
