"""Rankings: `tinycrm rank` on screen — customers by RFM, value, CLV or ABC, with the
Pareto line, in columns fitted to the width. b changes the order, g cycles the segment
filter, a the ABC grade, c switches between contacts and companies; enter opens a
contact."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable, Footer, Static

from tinycrm.analytics.value import ORDERS, SEGMENT_NAMES
from tinycrm.money import display_amount, display_money
from tinycrm.services.value import Ranking
from tinycrm.tui import data
from tinycrm.tui.screens.base import CRMScreen, run_db
from tinycrm.tui.widgets import format as fmt
from tinycrm.tui.widgets.nav import NavBar
from tinycrm.tui.widgets.table import Column, FittingTable

LIMIT = 1000
GRADES = (None, "A", "B", "C")

#: Each column as wide as its longest cell; on a narrow terminal the name and the segment
#: shrink, then CLV and the order count give way (80 columns keep the rest whole).
COLUMNS = (
    Column("rank", "#", 3, share=0),
    Column("name", "Customer", 12, share=3, want=14),
    Column("recency", "Recency", 7, share=0, goes=3),
    Column("orders", "Orders", 6, share=0, goes=2),
    Column("spent", "Spent", 8, share=0),
    Column("rfm", "RFM", 3, share=0),
    Column("segment", "Segment", 8, share=1, want=11),
    Column("abc", "ABC", 3, share=0),
    Column("clv", "CLV", 8, share=0, goes=1),
)


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
        yield FittingTable(COLUMNS, id="ranking", cursor_type="row", zebra_stripes=True)
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
        """Fill the table and the Pareto line from a ranking (amounts as everywhere else
        in the app: 1,200.00)."""
        self.ranking = ranking
        s = ranking.summary
        table = self.query_one("#ranking", FittingTable)
        rows = [
            c
            for c in ranking.customers
            if (self.grade is None or c.abc == self.grade)
            and (self.segment is None or c.segment == self.segment)
        ]
        table.set_rows(
            (
                f"{self.level}:{c.id}",
                (
                    c.rank,
                    c.name,  # a Text cell: never markup
                    f"{c.recency_days}d",
                    c.frequency,
                    display_amount(c.monetary.cents),
                    f"{c.r}{c.f}{c.m}",
                    c.segment,
                    c.abc,
                    display_amount(c.clv.cents),
                ),
            )
            for c in rows[:LIMIT]
        )
        share = float(s.top20_share) * 100
        self.query_one("#pareto", Static).update(
            f"{fmt.count(s.n, 'customer')} · revenue {display_money(s.revenue.cents, s.currency)}"
            f" · the top 20% bring {share:.1f}% of it"
            + (
                f" · {s.other_currencies:,} in other currencies left out"
                if s.other_currencies
                else ""
            )
        )
        shown = fmt.count(len(rows), self.level, "companies" if self.level == "company" else None)
        if len(rows) > LIMIT:
            shown = f"{LIMIT:,} of {shown} shown"
        self.query_one("#ranking-status", Static).update(
            f"{shown} · by {self.by} · segment {self.segment or 'all'} · ABC {self.grade or 'all'}"
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
