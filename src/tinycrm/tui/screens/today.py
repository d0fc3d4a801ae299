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


class FitTable(DataTable[Any]):
    """A table whose columns the screen fits to its width, again when that changes."""

    def on_resize(self) -> None:
        screen = self.screen
        if isinstance(screen, TodayScreen) and (self.id or "") in screen.cells:
            screen._draw(self)


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
        self.cells: dict[str, list[tuple[str, tuple[Any, ...]]]] = {}  # table id -> its rows

    def compose(self) -> ComposeResult:
        yield NavBar("today")
        yield Static("", id="greeting")
        with Horizontal(id="today"):
            with Vertical(id="today-left"):
                yield Static("Reminders", classes="section-title", id="reminders-title")
                yield self._table("reminders")
                yield Static("Stay in touch", classes="section-title", id="touch-title")
                yield self._table("touch")
            with Vertical(id="today-right"):
                yield Static("Pipeline", classes="section-title")
                yield PipelineBars(id="pipeline")
                yield Static("Deals to push", classes="section-title", id="deals-title")
                yield self._table("deals")
                yield Static("Top customers", classes="section-title", id="top-title")
                yield Static("", id="top")
        yield Footer()

    # each table's columns: (label, fewest cells, share of the shrinking (0: never shrinks),
    # which goes first when even that is too wide (1 first; 0: never)). The columns fit the
    # width and long texts end in …, so nothing scrolls sideways; what to do comes before
    # whom it is about, so it stays readable at 80 columns.
    COLUMNS: ClassVar[dict[str, tuple[tuple[str, int, int, int], ...]]] = {
        "reminders": (
            ("Due", 11, 1, 0),
            ("Reminder", 12, 4, 0),
            ("About", 8, 2, 0),
            ("Repeats", 6, 1, 1),
        ),
        "touch": (
            ("Contact", 10, 3, 0),
            ("Last touch", 8, 1, 2),
            ("Due", 10, 1, 0),
            ("Cadence", 6, 1, 1),
        ),
        "deals": (
            ("Deal", 6, 3, 0),
            ("With", 6, 2, 2),
            ("Stage", 6, 1, 1),
            ("Value", 8, 0, 0),
            ("", 4, 1, 0),
        ),
    }

    def _table(self, name: str) -> DataTable[Any]:
        table = FitTable(id=name, cursor_type="row", zebra_stripes=True)
        table.add_columns(*(label for label, *_ in self.COLUMNS[name]))
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
            # the most pressing reason only, so it fits beside the value; the title counts all
            if rotting:
                flags = "rotting"
            elif deal.big:
                flags = "big"
            else:
                flags = "" if deal.next_step else "no next step"
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
        for key, item, _ in rows:
            self.rows[key] = item
        self.cells[table.id or ""] = [(key, cells) for key, _, cells in rows]
        self._draw(table)

    def _draw(self, table: DataTable[Any]) -> None:
        """Fill `table` with its rows, its columns fitted to its width."""
        from rich.cells import cell_len

        spec = self.COLUMNS[table.id or ""]
        rows = [(key, [fmt.cell(c) for c in cells]) for key, cells in self.cells[table.id or ""]]
        natural = [
            max([cell_len(c[0])] + [r[i].cell_len for _, r in rows]) for i, c in enumerate(spec)
        ]
        shown = list(range(len(spec)))
        if sum(natural) > table.size.width - 2 - 2 * len(spec):  # too wide: first go the
            # columns that may go and are empty (no reminder repeats, say)
            shown = [i for i in shown if not spec[i][3] or any(r[i].plain for _, r in rows)]
        while True:
            # less the scrollbar, the focus bar and a cell of padding either side of each column
            room = table.size.width - 2 - 2 * len(shown)
            widths = fmt.fit_widths(
                room,
                [natural[i] for i in shown],
                [spec[i][1] for i in shown],
                [spec[i][2] for i in shown],
            )
            droppable = [i for i in shown if spec[i][3]]
            if sum(widths) <= room or not droppable or not table.size.width:
                break
            shown.remove(min(droppable, key=lambda i: spec[i][3]))
        keep = table.cursor_row
        table.clear(columns=True)
        for i, width in zip(shown, widths, strict=True):
            table.add_column(spec[i][0], width=width)
        for key, cells in rows:
            table.add_row(*(cells[i] for i in shown), key=key)
        if rows:
            table.move_cursor(row=min(keep, len(rows) - 1))

    def show_top(self, ranking: Any) -> None:
        """The best customers: grade, what they bought (for people, no currency), name."""
        from rich.cells import cell_len, set_cell_size

        from tinycrm.money import display_amount

        out = Text(no_wrap=True, overflow="ellipsis")
        amounts = [display_amount(c.monetary.cents) for c in ranking.customers]
        wide = max(map(len, amounts), default=0)
        names = min(24, max((cell_len(c.name) for c in ranking.customers), default=0))
        for c, amount in zip(ranking.customers, amounts, strict=True):
            out.append(f"{c.abc} ", style="bold")
            out.append(f"{amount:>{wide}}  ", style="bold")
            out.append(set_cell_size(c.name, names))  # CJK names are two cells a character
            out.append(f"  {c.segment}\n", style="dim")
        if not ranking.customers:
            out.append("no purchases yet: p on a contact records one")
        self.query_one("#top", Static).update(out)
        self.query_one("#top-title", Static).update(
            f"Top customers · {ranking.summary.currency}" if ranking.customers else "Top customers"
        )

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
