"""The one fitting table (widgets/table.py) that Today's three lists and the contacts list
use: its columns fit its width by one rule, it fits itself again when the width changes,
and it never scrolls sideways."""

from __future__ import annotations

import asyncio
from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import DataTable

from tests.tui.test_screens import run, settle
from tinycrm.tui.app import TinyCRMApp
from tinycrm.tui.widgets.table import GUTTER, Column, FittingTable, Row, fit_columns

SPEC = (
    Column("due", "Due", 5, share=1),
    Column("what", "What", 6, share=4),
    Column("who", "Who", 4, share=2, goes=2),
    Column("repeats", "Repeats", 6, share=1, goes=1),
)


def texts(*rows: tuple[str, ...]) -> list[list[Text]]:
    return [[Text(c) for c in row] for row in rows]


def widths(layout: list[tuple[Column, int]]) -> dict[str, int]:
    return {c.key: w for c, w in layout}


def test_columns_as_wide_as_their_longest_cell_when_all_fit() -> None:
    rows = texts(("today", "call Bob back", "Bob Stone", "weekly"), ("3d", "a", "b", ""))
    room = 5 + 13 + 9 + 7 + 2 * 4 + GUTTER
    assert widths(fit_columns(SPEC, rows, room)) == {"due": 5, "what": 13, "who": 9, "repeats": 7}


def test_too_narrow_an_empty_column_that_may_go_goes_first() -> None:
    rows = texts(("today", "call Bob back", "Bob Stone", ""), ("3d", "send it", "Alice", ""))
    # one cell short of the natural widths: Repeats (empty) goes, though Who would go
    # before it by order if it were not empty
    layout = fit_columns(SPEC, rows, 5 + 13 + 9 + 7 + 2 * 4 + GUTTER - 1)
    assert widths(layout) == {"due": 5, "what": 13, "who": 9}


def test_too_narrow_the_columns_shrink_by_share_then_go_in_order() -> None:
    rows = texts(("today", "call Bob back about the proposal", "Bob Stone", "weekly"))
    shrunk = widths(fit_columns(SPEC, rows, 50))
    assert sum(shrunk.values()) + 2 * len(shrunk) + GUTTER == 50
    assert shrunk["due"] == 5 and shrunk["what"] > shrunk["who"] >= 4  # by share, not below least
    assert list(widths(fit_columns(SPEC, rows, 30))) == ["due", "what", "who"]  # Repeats: 1st
    assert list(widths(fit_columns(SPEC, rows, 22))) == ["due", "what"]  # then Who


def test_fixed_widths_do_not_follow_the_rows() -> None:
    spec = (Column("name", "Name", 4, width=10), Column("tags", "Tags", 4, goes=1, width=8))
    for rows in ([], texts(("a", "")), texts(("a much longer name than ten", "x" * 30))):
        assert widths(fit_columns(spec, rows, 100)) == {"name": 10, "tags": 8}
    # an empty column of fixed width does not go for being empty (rows come and go): it
    # shrinks with the others
    tight = fit_columns(spec, texts(("Alice", "")), 10 + 8 + 4 + GUTTER - 1)
    assert list(widths(tight)) == ["name", "tags"] and sum(widths(tight).values()) == 17


class TableApp(App[None]):
    def __init__(self, spec: tuple[Column, ...], rows: list[Row]) -> None:
        super().__init__()
        self.spec, self.start = spec, rows

    def compose(self) -> ComposeResult:
        yield FittingTable(self.spec, cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one(FittingTable)
        table.focus()
        table.set_rows(self.start)


def shown(table: FittingTable) -> dict[str, int]:
    return {str(c.key.value): c.width for c in table.ordered_columns}


def test_the_table_fits_itself_again_when_its_width_changes() -> None:
    rows: list[Row] = [
        (str(i), (f"{i}d", f"reminder number {i} " * 3, f"person {i}", "weekly")) for i in range(30)
    ]

    async def main() -> None:
        app = TableApp(SPEC, rows)
        async with app.run_test(size=(120, 12)) as pilot:
            table = app.query_one(FittingTable)
            await pilot.pause()
            wide = shown(table)
            assert list(wide) == ["due", "what", "who", "repeats"]
            table.move_cursor(row=17)
            await pilot.resize_terminal(28, 12)
            await pilot.pause()
            narrow = shown(table)
            assert list(narrow) == ["due", "what", "who"] and narrow["what"] < wide["what"]
            assert table.virtual_size.width <= table.scrollable_content_region.width
            assert (table.cursor_row, table.get_row_at(17)[0].plain) == (17, "17d")
            await pilot.resize_terminal(120, 12)
            await pilot.pause()
            assert shown(table) == wide

    asyncio.run(main())


def test_rows_added_keep_fixed_widths_and_widen_measured_ones() -> None:
    fixed = (Column("name", "Name", 4, width=12), Column("mail", "Mail", 4, width=20))
    measured = (Column("name", "Name", 4), Column("mail", "Mail", 4))

    async def main(spec: tuple[Column, ...]) -> tuple[dict[str, int], dict[str, int]]:
        app = TableApp(spec, [("1", ("Al", "al@x"))])
        async with app.run_test(size=(80, 10)) as pilot:
            table = app.query_one(FittingTable)
            await pilot.pause()
            before = shown(table)
            table.append_rows([("2", ("Bartholomew", "bartholomew@example.com"))])
            await pilot.pause()
            assert table.row_count == 2
            table.drop_row("1")
            assert [table.get_row_at(0)[0].plain] == ["Bartholomew"]
            return before, shown(table)

    assert asyncio.run(main(fixed)) == ({"name": 12, "mail": 20}, {"name": 12, "mail": 20})
    assert asyncio.run(main(measured)) == ({"name": 4, "mail": 4}, {"name": 11, "mail": 23})


def test_no_list_scrolls_sideways_at_any_width_from_80_columns(seeded: str) -> None:
    too_wide: list[str] = []

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        for key, tables in (
            ("1", ("reminders", "touch", "deals")),
            ("2", ("contacts",)),
            ("5", ("ranking",)),
        ):
            await pilot.press(key)
            await settle(pilot)
            for width in range(80, 221, 7):
                await pilot.resize_terminal(width, 30)
                await settle(pilot)
                for name in tables:
                    table: DataTable[Any] = app.screen.query_one(f"#{name}", DataTable)
                    room = table.scrollable_content_region.width
                    if table.virtual_size.width > room or table.max_scroll_x:
                        too_wide.append(f"{name} at {width}: {table.virtual_size.width} > {room}")

    run(flow)
    assert too_wide == []


def test_pipeline_bars_never_cut_a_stage_name_and_separate_thousands() -> None:
    from textual.app import App

    from tinycrm.services.deals import StageTotal
    from tinycrm.tui.widgets.pipeline import PipelineBars

    stages = [
        StageTotal("Negotiation and legal review", 1, 80, "open", 12_345, 9_900_000, 7_920_000),
        StageTotal("Lead", 0, 10, "open", 3, 300_000, 30_000),
    ]

    class BarsApp(App[None]):
        def compose(self) -> ComposeResult:
            yield PipelineBars()

        def on_mount(self) -> None:
            self.query_one(PipelineBars).show(stages, "EUR")

    async def main() -> str:
        app = BarsApp()
        async with app.run_test(size=(60, 8)) as pilot:
            await pilot.pause()
            return str(app.query_one(PipelineBars).render())

    drawn = asyncio.run(main())
    assert "Negotiation and legal review " in drawn
    assert "12,345" in drawn and "12,348" in drawn  # a stage, and all open deals


def test_today_titles_name_only_the_counts_that_are_not_zero() -> None:
    from tinycrm.tui.screens.today import title

    assert title("Reminders", (2, "overdue"), (0, "today"), (1_204, "this week"), none="x") == (
        "Reminders · 2 overdue · 1,204 this week"
    )
    assert title("Deals to push", (0, "rotting"), (0, "big"), none="none slipping") == (
        "Deals to push · none slipping"
    )
