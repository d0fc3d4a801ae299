"""Today: what is due, whom to call, which deals need a push, the pipeline at a glance,
and the service cases escalated to you or yours due today (shown only when there are some).

d marks the highlighted reminder done, s snoozes it, n logs a note about the highlighted
row (on a case: on the case), enter opens its contact (a case: the case), t switches
between my work and the team's.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Footer, Static

from tinycrm.refs import Target
from tinycrm.services.value import Ranking
from tinycrm.tui import data
from tinycrm.tui.screens.base import run_db
from tinycrm.tui.screens.reminder_actions import ReminderListScreen
from tinycrm.tui.widgets import format as fmt
from tinycrm.tui.widgets.nav import NavBar
from tinycrm.tui.widgets.pipeline import PipelineBars
from tinycrm.tui.widgets.table import Column, FittingTable, Row

# Each list's columns. They fit the width and long texts end in …, so nothing scrolls
# sideways; what to do comes before whom it is about, so it stays readable at 80 columns.
# A time ("tomorrow 09:00"), a stage and a flag are never cut (share 0: a cut one reads
# as something else); on a narrow terminal a stage goes whole before the deal's name
# shrinks below its least.
COLUMNS: dict[str, tuple[Column, ...]] = {
    "reminders": (
        Column("due", "Due", 11, share=0),
        Column("text", "Reminder", 12, share=4),
        Column("about", "About", 8, share=2),
        Column("repeats", "Repeats", 6, share=1, goes=1),
    ),
    "cases": (
        Column("sla", "SLA", 11, share=0),
        Column("title", "Case", 12, share=4),
        Column("contact", "Contact", 8, share=2, goes=2),
        Column("mark", "", 7, share=0, goes=1),
    ),
    "touch": (
        Column("contact", "Contact", 10, share=3),
        Column("last", "Last touch", 8, share=0, goes=2),
        Column("due", "Due", 10, share=0),
        Column("cadence", "Cadence", 6, share=1, goes=1),
    ),
    "deals": (
        Column("deal", "Deal", 6, share=3, want=14),
        Column("with", "With", 6, share=2, goes=1),
        Column("stage", "Stage", 6, share=0, goes=2),
        Column("value", "Value", 8, share=0),
        # "rotting", "big", "no step": never cut; it goes last (a rotting deal's name is red)
        Column("flags", "", 7, share=0, goes=3),
    ),
}


EMPTY_HINT = (
    "An empty store. Press 2, then a, to add your first contact"
    " (or: tinycrm import contacts FILE.csv)."
)


def title(name: str, *counts: tuple[int, str], none: str) -> str:
    """A section's title with the counts that aren't zero ("Reminders · 2 overdue · 5 this
    week"), or what `none` says: short enough for an 80-column half of the screen."""
    said = [f"{n:,} {what}" for n, what in counts if n]
    return " · ".join([name, *said] if said else [name, none])


class TodayScreen(ReminderListScreen):
    """The home screen."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("d", "done", "Done"),
        Binding("s", "snooze", "Snooze"),
        Binding("n", "note", "Note"),
        Binding("e", "edit", "Edit"),
        Binding("x,delete", "delete", "Delete", key_display="x"),
        Binding("enter", "open", "Open", show=False),
        Binding("t", "team", "Mine/Team"),
        Binding("f5", "reload", "Reload", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.team = False
        self.rows: dict[str, Any] = {}  # row key -> the item it shows

    class Loaded(Message, bubble=False):
        def __init__(self, today: data.Today) -> None:
            super().__init__()
            self.today = today

    class TopLoaded(Message, bubble=False):
        def __init__(self, ranking: Ranking) -> None:
            super().__init__()
            self.ranking = ranking

    def compose(self) -> ComposeResult:
        yield NavBar("today")
        yield Static("", id="greeting")
        yield Static("", id="goals")
        yield Static("", id="empty-hint")
        with Horizontal(id="today"):
            with Vertical(id="today-left"):
                yield Static("Reminders", classes="section-title", id="reminders-title")
                yield self._table("reminders")
                yield Static("Cases", classes="section-title", id="cases-title")
                yield self._table("cases")
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

    def _table(self, name: str) -> FittingTable:
        return FittingTable(COLUMNS[name], id=name, cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#reminders", DataTable))
        self.reload()

    def reload(self) -> None:
        super().reload()
        team = self.team
        run_db(self, lambda ctx: data.load_today(ctx, team=team), self.Loaded)

    def action_reload(self) -> None:
        self.reload()

    # -- drawing ------------------------------------------------------------------------------
    def on_today_screen_loaded(self, message: Loaded) -> None:
        today = message.today
        d = today.digest
        clock = self.crm.store.clock
        now, tz = clock.now(), clock.tz
        self.query_one("#greeting", Static).update(
            f"{today.greeting} · {self.crm.store.description}"
        )
        # a line of its own, wrapped on a narrow terminal, never cut off
        hint = self.query_one("#empty-hint", Static)
        hint.update(EMPTY_HINT if today.empty_store else "")
        hint.display = today.empty_store
        # where the month stands: one line per goal in force, none without goals
        goals = self.query_one("#goals", Static)
        goals.update("\n".join(f"Goal: {line}" for line in today.goals))
        goals.display = bool(today.goals)
        self.rows = {}
        self._refill(
            "reminders",
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
            title(
                "Reminders",
                (counts["overdue"], "overdue"),
                (counts["today"], "today"),
                (counts["upcoming"], "this week"),
                none="nothing due this week",
            )
        )
        self._show_cases(today, now, tz)
        self._refill(
            "touch",
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
        self.query_one("#touch-title", Static).update(
            title("Stay in touch", (counts["stay_in_touch"], "due"), none="nobody due")
        )
        deals: list[tuple[str, Any, tuple[object, ...]]] = []
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
                flags = "" if deal.next_step else "no step"  # the title says "next step"
            deals.append(
                (
                    f"d{deal.id}",
                    deal,
                    (
                        Text(deal.title, style="bold red" if rotting else ""),
                        deal.with_name or "",
                        deal.stage,
                        fmt.money(deal.value_cents, deal.currency),
                        Text(flags, style="bold red" if rotting else "yellow"),
                    ),
                )
            )
        self._refill("deals", deals)
        self.query_one("#deals-title", Static).update(
            title(
                "Deals to push",
                (counts["rotting_deals"], "rotting"),
                (counts["big_deals"], "big"),
                (counts["no_next_step"], "no next step"),
                none="none slipping",
            )
        )
        self.query_one(PipelineBars).show(today.pipeline, today.currency)
        # ranking every customer is the slow part: only once the rest is on screen
        store = self.crm.store
        run_db(self, lambda ctx: data.top_customers(store, ctx), self.TopLoaded, group="top")

    def _show_cases(self, today: data.Today, now: Any, tz: Any) -> None:
        """Cases escalated to the user (as the digest has them), then theirs due today or
        overdue; the list is there only while it has some (a salesperson without cases
        never sees it)."""
        from tinycrm.tui.screens.cases import mark, sla_cell

        escalated = today.digest.cases
        shown = {v.id for v in escalated}
        due = today.cases_due
        rows = [*escalated, *(v for v in (due.rows if due else []) if v.id not in shown)]
        self._refill(
            "cases",
            [
                (f"k{v.id}", v, (sla_cell(v, now, tz), f"#{v.id} {v.title}", v.contact, mark(v)))
                for v in rows
            ],
        )
        for name in ("#cases", "#cases-title"):
            self.query_one(name).display = bool(rows)
        # due counts the user's own cases, escalated to them or not: so "2 due" is how
        # many of theirs run out today, and the escalated ones are other people's
        self.query_one("#cases-title", Static).update(
            title(
                "Cases",
                (
                    today.digest.counts()["cases"],
                    f"escalated to {'someone' if self.team else 'you'}",
                ),
                (due.total if due else 0, "due today"),
                (due.overdue if due else 0, "overdue"),
                none="none due",
            )
        )

    def _refill(self, name: str, rows: list[tuple[str, Any, tuple[object, ...]]]) -> None:
        """Show `rows` (key, the item, its cells) in the list `name`, the cursor kept."""
        for key, item, _ in rows:
            self.rows[key] = item
        table = self.query_one(f"#{name}", FittingTable)
        keep = table.cursor_row
        cells: list[Row] = [(key, c) for key, _, c in rows]
        table.set_rows(cells)
        if rows:
            table.move_cursor(row=min(keep, len(rows) - 1))

    def on_today_screen_top_loaded(self, message: TopLoaded) -> None:
        """The best customers: grade, what they bought (for people, no currency), name."""
        from rich.cells import cell_len, set_cell_size

        from tinycrm.money import display_amount

        ranking = message.ranking
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
        self.complete_reminder(self._reminder())

    def action_snooze(self) -> None:
        self.snooze_reminder(self._reminder())

    def _record(self) -> tuple[str, int] | None:
        """The highlighted reminder, deal or case, as (kind, id)."""
        current = self._current()
        kinds = {"r": "reminder", "d": "deal", "k": "case"}
        if current is not None and current[0][:1] in kinds:
            return kinds[current[0][:1]], int(current[1].id)
        self.notify("Highlight a reminder, a deal or a case first", severity="warning")
        return None

    def action_edit(self) -> None:
        record = self._record()
        if record is not None:
            self.edit_record(*record)

    def action_delete(self) -> None:
        record = self._record()
        if record is not None:
            self.delete_record(*record)

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
        current = self._current()
        if current is not None and current[0].startswith("k"):  # on the case itself
            from tinycrm.tui.screens.forms import CaseNoteForm

            self.app.push_screen(CaseNoteForm(current[1]))
            return
        target = self._target()
        if target is None:
            self.notify("Highlight a reminder, contact or deal first", severity="warning")
            return
        from tinycrm.tui.screens.forms import NoteForm

        self.app.push_screen(NoteForm(*target))

    def action_open(self) -> None:
        current = self._current()
        if current is not None and current[0].startswith("k"):
            self.crm.open_case(int(current[1].id))
            return
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
