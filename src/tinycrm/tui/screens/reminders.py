"""Reminders: every open reminder by due time, overdue in red, recurrence shown.
d done, s snooze, n note, enter opens the contact; m only mine, o only overdue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Static

from tinycrm.refs import Target
from tinycrm.services.context import Ctx
from tinycrm.services.reminders import ReminderView
from tinycrm.tui.screens.base import CRMScreen, run_db
from tinycrm.tui.widgets import format as fmt
from tinycrm.tui.widgets.nav import NavBar

LIMIT = 500


@dataclass
class Reminders:
    rows: list[ReminderView]
    total: int


def load_reminders(ctx: Ctx, mine: bool, overdue: bool) -> Reminders:
    from tinycrm.services.reminders import count_reminders, list_reminders

    with ctx.db.read():
        rows = list_reminders(ctx, mine=mine, overdue_only=overdue, limit=LIMIT)
        total = count_reminders(ctx, mine=mine, overdue_only=overdue)
    return Reminders(rows, total)


class RemindersScreen(CRMScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "done", "Done"),
        Binding("s", "snooze", "Snooze"),
        Binding("n", "note", "Note"),
        Binding("m", "mine", "Mine/All"),
        Binding("o", "overdue", "Overdue/All"),
        Binding("f5", "reload", "Reload", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.mine = False
        self.overdue = False
        self.items: dict[int, ReminderView] = {}

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
        run_db(self, lambda ctx: load_reminders(ctx, mine, overdue), self.show)

    def action_reload(self) -> None:
        self.reload()

    def show(self, data: Reminders) -> None:
        table = self.query_one("#reminder-list", DataTable)
        keep = table.cursor_row
        table.clear()
        self.items = {}
        tz, now = self.crm.store.tz, self.crm.store.now()
        for r in data.rows:
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
        if data.rows:
            table.move_cursor(row=min(keep, len(data.rows) - 1))
        overdue = sum(1 for r in data.rows if r.overdue)
        shown = f"{len(data.rows)} of {data.total}" if data.total > len(data.rows) else data.total
        filters = " · ".join(
            x for x in ("mine" if self.mine else "everyone's", "overdue only" * self.overdue) if x
        )
        self.query_one("#reminders-status", Static).update(
            f"{shown} open reminders ({filters}) · {overdue} overdue"
        )

    def _current(self) -> ReminderView | None:
        table = self.query_one("#reminder-list", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.items.get(int(key)) if key else None

    def action_done(self) -> None:
        r = self._current()
        if r is None:
            return
        from tinycrm.services.reminders import complete

        def done(result: Any) -> None:
            tz = self.crm.store.tz
            extra = f" · next {fmt.local(result.next.due_at, tz)}" if result.next else ""
            self.notify(f"Done: {r.text}{extra}")
            self.crm.data_changed()

        run_db(self, lambda ctx: complete(ctx, r.id), done, group="write", exclusive=False)

    def action_snooze(self) -> None:
        r = self._current()
        if r is not None:
            from tinycrm.tui.screens.forms import SnoozeForm

            self.app.push_screen(SnoozeForm(r.id, r.text))

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
