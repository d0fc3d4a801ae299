"""Reminders: every open reminder by due time, overdue in red, recurrence shown.
d done, s snooze, n note, enter opens the contact; m only mine, o only overdue."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable, Footer, Static

from tinycrm.refs import Target
from tinycrm.services.reminders import ReminderView
from tinycrm.text import plural
from tinycrm.tui import data
from tinycrm.tui.screens.base import run_db
from tinycrm.tui.screens.reminder_actions import ReminderListScreen
from tinycrm.tui.widgets import format as fmt
from tinycrm.tui.widgets.nav import NavBar


class RemindersScreen(ReminderListScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "done", "Done"),
        Binding("s", "snooze", "Snooze"),
        Binding("n", "note", "Note"),
        Binding("e", "edit", "Edit"),
        Binding("x,delete", "delete", "Delete", key_display="x"),
        Binding("m", "mine", "Mine/All"),
        Binding("o", "overdue", "Overdue/All"),
        Binding("f5", "reload", "Reload", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.mine = False
        self.overdue = False
        self.items: dict[int, ReminderView] = {}

    class Loaded(Message, bubble=False):
        def __init__(self, reminders: data.Reminders) -> None:
            super().__init__()
            self.reminders = reminders

    def compose(self) -> ComposeResult:
        yield NavBar("reminders")
        table: DataTable[Any] = DataTable(id="reminder-list", cursor_type="row", zebra_stripes=True)
        table.add_columns("Due", "At", "About", "Reminder", "Repeats", "Owner", "Snoozed")
        yield table
        yield Static("", id="reminders-status")
        yield Footer()

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#reminder-list", DataTable))
        self.reload()

    def reload(self) -> None:
        super().reload()
        mine, overdue = self.mine, self.overdue
        run_db(self, lambda ctx: data.load_reminders(ctx, mine, overdue), self.Loaded)

    def action_reload(self) -> None:
        self.reload()

    def on_reminders_screen_loaded(self, message: Loaded) -> None:
        loaded = message.reminders
        table = self.query_one("#reminder-list", DataTable)
        keep = table.cursor_row
        table.clear()
        self.items = {}
        clock = self.crm.store.clock
        tz, now = clock.tz, clock.now()
        for r in loaded.rows:
            self.items[r.id] = r
            table.add_row(
                fmt.due(r.due_at, now, tz),
                fmt.local(r.due_at, tz),
                fmt.cell(r.target or ""),  # never markup
                Text(r.text, style="red" if r.overdue else ""),
                r.recurrence or "",
                fmt.cell(r.owner or ""),
                f"{r.snoozed}×" if r.snoozed else "",
                key=str(r.id),
            )
        if loaded.rows:
            table.move_cursor(row=min(keep, len(loaded.rows) - 1))
        total = loaded.total  # the store's counts, not the rows loaded
        shown = f"{len(loaded.rows):,} of " if total > len(loaded.rows) else ""
        filters = " · ".join(
            x for x in ("mine" if self.mine else "everyone's", "overdue only" * self.overdue) if x
        )
        self.query_one("#reminders-status", Static).update(
            f"{shown}{plural(total, 'open reminder')} ({filters}) · {loaded.overdue:,} overdue"
        )

    def _current(self) -> ReminderView | None:
        table = self.query_one("#reminder-list", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.items.get(int(key)) if key else None

    def action_done(self) -> None:
        self.complete_reminder(self._current())

    def action_snooze(self) -> None:
        self.snooze_reminder(self._current())

    def action_edit(self) -> None:
        r = self._current()
        if r is not None:
            self.edit_record("reminder", r.id)

    def action_delete(self) -> None:
        r = self._current()
        if r is not None:
            self.delete_record("reminder", r.id)

    def action_note(self) -> None:
        r = self._current()
        if r is None:
            return
        from tinycrm.tui.screens.forms import NoteForm

        label = r.target or ""
        for kind, ref in (
            ("contact", r.contact_id),
            ("company", r.company_id),
            ("deal", r.deal_id),
        ):
            if ref is not None:
                self.app.push_screen(NoteForm(Target(kind, ref, label), label))
                return
        self.notify("This reminder is about nobody in particular", severity="warning")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        r = self._current()
        if r is not None and r.contact_id is not None:
            self.crm.open_contact(r.contact_id)

    def action_mine(self) -> None:
        self.mine = not self.mine
        self.reload()

    def action_overdue(self) -> None:
        self.overdue = not self.overdue
        self.reload()
