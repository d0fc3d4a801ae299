"""Rankings: `tinycrm rank` on screen — customers by RFM, value, CLV or ABC, with the
Pareto line. b changes the order, g cycles the segment filter, a the ABC grade, c switches
between contacts and companies; enter opens a contact."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable, Footer, Static

from tinycrm.analytics.value import ORDERS, SEGMENT_NAMES
from tinycrm.money import format_cents
from tinycrm.services.value import Ranking
from tinycrm.tui import data
from tinycrm.tui.screens.base import CRMScreen, run_db
from tinycrm.tui.widgets import format as fmt
from tinycrm.tui.widgets.nav import NavBar

LIMIT = 1000
GRADES = (None, "A", "B", "C")


class RankingsScreen(CRMScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("b", "by", "Order by"),
        Binding("g", "segment", "Segment"),
        Binding("a", "grade", "ABC"),
        Binding("c", "level", "Contacts/Companies"),
        Binding("f5", "reload", "Reload", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.by = "rfm"
        self.segment: str | None = None
        self.grade: str | None = None
        self.level = "contact"
        self.ranking: Ranking | None = None

    class Loaded(Message, bubble=False):
        def __init__(self, ranking: Ranking) -> None:
            super().__init__()
            self.ranking = ranking

    def compose(self) -> ComposeResult:
        yield NavBar("rankings")
        yield Static("", id="pareto")
        table: DataTable[Any] = DataTable(id="ranking", cursor_type="row", zebra_stripes=True)
        table.add_columns(
            "#", "Customer", "Recency", "Orders", "Spent", "R", "F", "M", "Segment", "ABC", "CLV"
        )
        yield table
        yield Static("", id="ranking-status")
        yield Footer()

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#ranking", DataTable))
        self.reload()

    def reload(self) -> None:
        super().reload()
        by, level, store = self.by, self.level, self.crm.store
        self.query_one("#ranking-status", Static).update("ranking…")
        run_db(self, lambda ctx: data.load_ranking(store, ctx, by=by, level=level), self.Loaded)

    def action_reload(self) -> None:
        self.reload()

    def on_rankings_screen_loaded(self, message: Loaded) -> None:
        self.show(message.ranking)

    def show(self, ranking: Ranking) -> None:
        """Fill the table and the Pareto line from a ranking (amounts as plain decimals)."""
        self.ranking = ranking
        s = ranking.summary
        table = self.query_one("#ranking", DataTable)
        table.clear()
        rows = [
            c
            for c in ranking.customers
            if (self.grade is None or c.abc == self.grade)
            and (self.segment is None or c.segment == self.segment)
        ]
        for c in rows[:LIMIT]:
            table.add_row(
                c.rank,
                fmt.cell(c.name),  # never markup
                f"{c.recency_days}d",
                c.frequency,
                format_cents(c.monetary.cents),
                c.r,
                c.f,
                c.m,
                c.segment,
                c.abc,
                format_cents(c.clv.cents),
                key=f"{self.level}:{c.id}",
            )
        share = float(s.top20_share) * 100
        self.query_one("#pareto", Static).update(
            f"{s.n} customers · revenue {format_cents(s.revenue.cents)} {s.currency}"
            f" · the top 20% bring {share:.1f}% of it"
            + (
                f" · {s.other_currencies} in other currencies left out"
                if s.other_currencies
                else ""
            )
        )
        found = len(rows)
        shown = f"{LIMIT:,} of {found:,} shown" if found > LIMIT else f"{found:,} shown"
        self.query_one("#ranking-status", Static).update(
            f"{shown} · by {self.by} · {self.level}s"
            f" · segment {self.segment or 'all'} · ABC {self.grade or 'all'}"
        )

    def action_by(self) -> None:
        self.by = ORDERS[(ORDERS.index(self.by) + 1) % len(ORDERS)]
        self.reload()

    def action_segment(self) -> None:
        options: tuple[str | None, ...] = (None, *SEGMENT_NAMES)
        self.segment = options[(options.index(self.segment) + 1) % len(options)]
        self._redraw()

    def action_grade(self) -> None:
        self.grade = GRADES[(GRADES.index(self.grade) + 1) % len(GRADES)]
        self._redraw()

    def _redraw(self) -> None:
        if self.ranking is not None:
            self.show(self.ranking)

    def action_level(self) -> None:
        self.level = "company" if self.level == "contact" else "contact"
        self.reload()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        key = event.row_key.value or ""
        kind, _, ident = key.partition(":")
        if kind == "contact" and ident.isdigit():
            self.crm.open_contact(int(ident))
