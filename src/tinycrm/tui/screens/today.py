"""Today: what is due, whom to call, which deals need a push, the pipeline at a glance.

d marks the highlighted reminder done, s snoozes it, n logs a note about the highlighted
row, enter opens its contact, t switches between my work and the team's.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Static

from tinycrm.refs import Target
from tinycrm.tui.data import Today, load_today, top_customers
from tinycrm.tui.screens.base import CRMScreen, run_db
from tinycrm.tui.widgets import format as fmt
from tinycrm.tui.widgets.nav import NavBar
from tinycrm.tui.widgets.pipeline import PipelineBars


class TodayScreen(CRMScreen):
    """The home screen."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "done", "Done"),
        Binding("s", "snooze", "Snooze"),
        Binding("n", "note", "Note"),
        Binding("enter", "open", "Open", show=False),
        Binding("t", "team", "Mine/Team"),
        Binding("f5", "reload", "Reload", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.team = False
        self.rows: dict[str, Any] = {}  # row key -> the item it shows

    def compose(self) -> ComposeResult:
        yield NavBar("today")
        yield Static("", id="greeting")
        with Horizontal(id="today"):
            with Vertical(id="today-left"):
                yield Static("Reminders", classes="section-title", id="reminders-title")
                # what to do before whom it is about: on a narrow screen the table scrolls sideways
                yield self._table("reminders", ("Due", "Reminder", "About", "Repeats"))
                yield Static("Stay in touch", classes="section-title", id="touch-title")
                yield self._table("touch", ("Contact", "Last touch", "Due", "Cadence"))
            with Vertical(id="today-right"):
                yield Static("Pipeline", classes="section-title")
                yield PipelineBars(id="pipeline")
                yield Static("Deals to push", classes="section-title", id="deals-title")
                yield self._table("deals", ("Deal", "With", "Stage", "Value", ""))
                yield Static("Top customers", classes="section-title")
                yield Static("", id="top")
        yield Footer()

    @staticmethod
    def _table(name: str, columns: tuple[str, ...]) -> DataTable[Any]:
        table: DataTable[Any] = DataTable(id=name, cursor_type="row", zebra_stripes=True)
        table.add_columns(*columns)
        return table

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#reminders", DataTable))
        self.reload()

    def reload(self) -> None:
        super().reload()
        team = self.team
        run_db(self, lambda ctx: load_today(ctx, team=team), self.show)

    def action_reload(self) -> None:
        self.reload()

    # -- drawing ------------------------------------------------------------------------------
    def show(self, today: Today) -> None:
        d = today.digest
        now, tz = self.crm.store.now(), self.crm.store.tz
        greeting = f"{today.greeting} · {self.crm.store.description}"
        if today.empty_store:
            greeting += "  ·  An empty store: press 2 then a to add your first contact"
        self.query_one("#greeting", Static).update(greeting)
        self.rows = {}
        reminders = self.query_one("#reminders", DataTable)
        self._refill(
            reminders,
            [
                (
                    f"r{r.id}",
                    r,
                    (fmt.due(r.due_at, now, tz), r.text, r.about or "", r.recurrence or ""),
                )
                for r in [*d.overdue, *d.today, *d.upcoming]
            ],
        )
        counts = d.counts()
        self.query_one("#reminders-title", Static).update(
            f"Reminders · {counts['overdue']} overdue · {counts['today']} today"
            f" · {counts['upcoming']} this week"
        )
        self._refill(
            self.query_one("#touch", DataTable),
            [
                (
                    f"c{t.contact_id}",
                    t,
                    (
                        t.name,
                        fmt.ago(t.last_touch_at, now, tz),
                        fmt.due(t.due_at, now, tz),
                        f"{t.cadence_days}d ({t.cadence_from})",
                    ),
                )
                for t in d.stay_in_touch
            ],
        )
        self.query_one("#touch-title", Static).update(f"Stay in touch · {counts['stay_in_touch']}")
        deals: list[tuple[str, Any, tuple[Any, ...]]] = []
        seen: set[int] = set()
        for deal in [*d.rotting_deals, *d.big_deals, *d.no_next_step]:
            if deal.id in seen:
                continue
            seen.add(deal.id)
            rotting = deal.rots_at is not None and deal.rots_at <= now
            flags = " ".join(
                f
                for f, on in (
                    ("rotting", rotting),
                    ("big", deal.big),
                    ("no next step", not deal.next_step),
                )
                if on
            )
            deals.append(
                (
                    f"d{deal.id}",
                    deal,
                    (
                        deal.title,
                        deal.with_name or "",
                        deal.stage,
                        fmt.money(deal.value_cents, deal.currency),
                        Text(flags, style="bold red" if rotting else "yellow"),
                    ),
                )
            )
        self._refill(self.query_one("#deals", DataTable), deals)
        self.query_one("#deals-title", Static).update(
            f"Deals to push · {counts['rotting_deals']} rotting · {counts['big_deals']} big"
            f" · {counts['no_next_step']} without a next step"
        )
        self.query_one(PipelineBars).show(today.pipeline, today.currency)
        # ranking every customer is the slow part: only once the rest is on screen
        store = self.crm.store
        run_db(self, lambda ctx: top_customers(store, ctx), self.show_top, group="top")

    def _refill(self, table: DataTable[Any], rows: list[tuple[str, Any, tuple[Any, ...]]]) -> None:
        keep = table.cursor_row
        table.clear()
        for key, item, cells in rows:
            self.rows[key] = item
            table.add_row(*cells, key=key)
        if rows:
            table.move_cursor(row=min(keep, len(rows) - 1))

    def show_top(self, ranking: Any) -> None:
        out = Text(no_wrap=True, overflow="ellipsis")
        for c in ranking.customers:
            out.append(f"{c.abc} ", style="bold")
            out.append(f"{c.monetary:>10}  ", style="bold")
            out.append(f"{c.name}")
            out.append(f"  {c.segment}\n", style="dim")
        if not ranking.customers:
            out.append("no purchases yet: p on a contact records one")
        self.query_one("#top", Static).update(out)

    # -- acting on the highlighted row ----------------------------------------------------------
    def _current(self) -> tuple[str, Any] | None:
        focused = self.focused
        if not isinstance(focused, DataTable) or focused.row_count == 0:
            return None
        key = focused.coordinate_to_cell_key(focused.cursor_coordinate).row_key.value
        if key is None or key not in self.rows:
            return None
        return key, self.rows[key]

    def _reminder(self) -> Any:
        current = self._current()
        if current is None or not current[0].startswith("r"):
            self.notify("Highlight a reminder first (tab moves between lists)", severity="warning")
            return None
        return current[1]

    def action_done(self) -> None:
        r = self._reminder()
        if r is None:
            return
        from tinycrm.services.reminders import complete

        def done(result: Any) -> None:
            extra = (
                f" · next {fmt.local(result.next.due_at, self.crm.store.tz)}" if result.next else ""
            )
            self.notify(f"Done: {r.text}{extra}")
            self.crm.data_changed()

        run_db(self, lambda ctx: complete(ctx, r.id), done, group="write", exclusive=False)

    def action_snooze(self) -> None:
        r = self._reminder()
        if r is not None:
            from tinycrm.tui.screens.forms import SnoozeForm

            self.app.push_screen(SnoozeForm(r.id, r.text))

    def _target(self) -> tuple[Target, str] | None:
        current = self._current()
        if current is None:
            return None
        key, item = current
        if key.startswith("d"):
            return Target("deal", item.id, item.title), item.title
        if key.startswith("c"):
            return Target("contact", item.contact_id, item.name), item.name
        if item.contact_id is not None:
            return Target("contact", item.contact_id, item.about or ""), item.about or ""
        if item.deal_id is not None:
            return Target("deal", item.deal_id, item.about or ""), item.about or ""
        return None

    def action_note(self) -> None:
        target = self._target()
        if target is None:
            self.notify("Highlight a reminder, contact or deal first", severity="warning")
            return
        from tinycrm.tui.screens.forms import NoteForm

        self.app.push_screen(NoteForm(*target))

    def action_open(self) -> None:
        current = self._current()
        contact_id = getattr(current[1], "contact_id", None) if current else None
        if contact_id is None:
            self.notify("No contact on this row", severity="warning")
            return
        self.crm.open_contact(int(contact_id))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_team(self) -> None:
        self.team = not self.team
        self.reload()
