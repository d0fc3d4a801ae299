"""What a screen that lists reminders does with the highlighted one: done and snooze,
written once for Today and Reminders."""

from __future__ import annotations

from typing import Any

from textual.message import Message

from tinycrm.services.reminders import Completed
from tinycrm.tui.screens.base import run_db
from tinycrm.tui.screens.record_actions import RecordScreen
from tinycrm.tui.widgets import format as fmt


class ReminderListScreen(RecordScreen):
    """A screen with reminders in it; `reminder` is the highlighted one (None: nothing to
    do, the screen has said why). `e` and `x` edit and delete it (RecordScreen)."""

    class ReminderDone(Message, bubble=False):
        def __init__(self, text: str, result: Completed) -> None:
            super().__init__()
            self.text = text
            self.result = result

    def complete_reminder(self, reminder: Any) -> None:
        """Mark it done in a worker; the toast names the next occurrence, if any."""
        if reminder is None:
            return
        from tinycrm.services.reminders import complete

        run_db(
            self,
            lambda ctx: complete(ctx, reminder.id),
            lambda result: self.ReminderDone(reminder.text, result),
            group="write",
            exclusive=False,
            writes=True,
        )

    def on_reminder_list_screen_reminder_done(self, message: ReminderDone) -> None:
        next_one = message.result.next
        due = next_one.due_at if next_one else None
        self.notify(fmt.done(message.text, due, self.crm.store.clock.tz))

    def snooze_reminder(self, reminder: Any) -> None:
        """Ask when to, in the snooze form."""
        if reminder is not None:
            from tinycrm.tui.screens.forms import SnoozeForm

            self.app.push_screen(SnoozeForm(reminder.id, reminder.text))
