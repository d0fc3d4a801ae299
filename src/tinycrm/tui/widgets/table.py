"""A table whose columns fit its width: it never scrolls sideways, a long cell ends in …,
and on a narrow terminal the least needed columns give way first.

The table owns its column spec and its rows (every column's cell, shown or not), so it
fits itself again whenever its width changes, keeping the cursor and the scroll where they
were. A column has a fixed width when there is room (the contacts list: widths that stay
put as pages of rows come and go) or is as wide as its longest cell (Today's lists).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.widgets import DataTable

from tinycrm.tui.widgets.format import cell

# Cells of the table's width that no column can have: the vertical scrollbar and the
# focus bar (DataTable:focus has a thick left border in tinycrm.tcss).
GUTTER = 2


@dataclass(frozen=True)
class Column:
    """One column of a `FittingTable`."""

    key: str
    label: str
    least: int  # the fewest cells it is given while it is shown
    share: int = 1  # its share of the room when the columns must shrink (0: never shrinks)
    goes: int = 0  # when even the least widths don't fit, the order of going (1 first; 0: stays)
    width: int | None = None  # its width when there is room; None: its longest cell's
    optional: bool = False  # shown only while a row has something in it (why a search found it)
    # narrower than this (or its natural width), a column that may go goes first: a
    # deal's name squeezed to "Train…" says less than no "With" column
    want: int = 0


Row = tuple[str, Sequence[object]]  # a row's key and its cells, one per column of the spec


def fit_widths(room: int, natural: list[int], least: list[int], share: list[int]) -> list[int]:
    """Column widths that fit in `room` cells: each column its `natural` width when all
    fit; otherwise the columns with a `share` split what the others leave in proportion to
    it (never below their `least`, never above their natural width); share 0: a column
    that never shrinks."""
    if sum(natural) <= room:
        return list(natural)
    widths = [n if not s else min(n, lo) for n, lo, s in zip(natural, least, share, strict=True)]
    spare = room - sum(widths)
    growing = [i for i, s in enumerate(share) if s and widths[i] < natural[i]]
    while spare > 0 and growing:
        total = sum(share[i] for i in growing)
        given = 0
        for i in growing:
            more = min(natural[i] - widths[i], max(1, spare * share[i] // total), spare - given)
            widths[i] += more
            given += more
        spare -= given
        growing = [i for i in growing if widths[i] < natural[i]]
        if not given:
            break
    return widths


def fit_columns(
    columns: Sequence[Column], rows: Sequence[Sequence[Text]], width: int, padding: int = 1
) -> list[tuple[Column, int]]:
    """The columns shown in `width` cells and their widths. Too wide: first go the columns
    that may go and are measured and empty (no reminder repeats, say), then the others
    that may go, in their order, until the least widths fit. `width` 0 (not laid out
    yet): every column at its natural width."""
    natural = [
        c.width if c.width is not None else max([cell_len(c.label), *(r[i].cell_len for r in rows)])
        for i, c in enumerate(columns)
    ]
    shown = [i for i, c in enumerate(columns) if not c.optional or any(r[i].plain for r in rows)]

    def room() -> int:  # each column has `padding` cells either side
        return width - GUTTER - 2 * padding * len(shown)

    if width and sum(natural) > room():
        shown = [
            i
            for i in shown
            if not columns[i].goes or columns[i].width is not None or any(r[i].plain for r in rows)
        ]
    while True:
        widths = fit_widths(
            room(),
            [natural[i] for i in shown],
            [columns[i].least for i in shown],
            [columns[i].share for i in shown],
        )
        going = [i for i in shown if columns[i].goes]
        cramped = any(
            w < min(columns[i].want, natural[i]) for i, w in zip(shown, widths, strict=True)
        )
        if not width or (sum(widths) <= room() and not cramped) or not going:
            break
        shown.remove(min(going, key=lambda i: columns[i].goes))
    return [(columns[i], w) for i, w in zip(shown, widths, strict=True)]


class FittingTable(DataTable[Any]):
    """A DataTable that lays out its own columns (`columns`, in order) to fit its width."""

    def __init__(self, columns: Sequence[Column], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = tuple(columns)
        self._fit_index = {c.key: i for i, c in enumerate(self.spec)}
        self._fit_rows: list[tuple[str, tuple[Text, ...]]] = []
        self.fitted: list[tuple[Column, int]] = []
        # the rows decide the layout: a column as wide as its longest cell, or one shown
        # only while a row has something in it
        self._fit_measured = any(c.width is None or c.optional for c in self.spec)
        self._hidden: frozenset[str] = frozenset()  # columns the user chose not to see
        self._lay_out()

    def show_only(self, keys: Sequence[str] | None) -> None:
        """Show only the columns `keys` (and optional ones) as room allows; None: all."""
        self._hidden = frozenset(
            ()
            if keys is None
            else (c.key for c in self.spec if c.key not in keys and not c.optional)
        )
        self._refit()

    @property
    def shown(self) -> list[str]:
        """The keys of the columns shown, in order."""
        return [c.key for c, _ in self.fitted]

    def set_rows(self, rows: Iterable[Row]) -> None:
        """Show `rows` instead of those shown (the cursor goes to the first row, as after
        DataTable.clear)."""
        self._fit_rows = [self._cells(row) for row in rows]
        if not self._lay_out():
            self.clear()
        self._add_fitted(self._fit_rows)

    def append_rows(self, rows: Iterable[Row]) -> None:
        """Add `rows` after those shown."""
        new = [self._cells(row) for row in rows]
        if not new:
            return
        self._fit_rows.extend(new)
        if self._fit_measured and self._refit():
            return  # longer cells widened a column (or filled an optional one): all redrawn
        self._add_fitted(new)

    def drop_row(self, key: str) -> None:
        self._fit_rows = [r for r in self._fit_rows if r[0] != key]
        self.remove_row(key)

    def on_resize(self, event: events.Resize) -> None:
        self._refit()

    # -- the layout ----------------------------------------------------------------------------
    def _cells(self, row: Row) -> tuple[str, tuple[Text, ...]]:
        key, cells = row
        if len(cells) != len(self.spec):
            raise ValueError(f"{len(cells)} cells for {len(self.spec)} columns")
        # Text, not str: DataTable would read a name's [brackets] as markup
        return key, tuple(cell(c) for c in cells)

    def _lay_out(self) -> bool:
        """Fit the columns to the width; True (and the table emptied) if they changed."""
        keep = [i for i, c in enumerate(self.spec) if c.key not in self._hidden]
        spec = [self.spec[i] for i in keep]
        cells = [[r[i] for i in keep] for _, r in self._fit_rows] if self._fit_measured else []
        layout = fit_columns(spec, cells, self.size.width, self.cell_padding)
        if layout == self.fitted:
            return False
        self.fitted = layout
        self.clear(columns=True)
        for column, width in layout:
            self.add_column(column.label, key=column.key, width=width)
        return True

    def _refit(self) -> bool:
        """Fit again (the width or the rows changed) and redraw the rows if the columns
        did, with the cursor and the scroll where they were; True if they did."""
        cursor, scroll = self.cursor_row, self.scroll_y
        if not self._lay_out():
            return False
        self._add_fitted(self._fit_rows)
        if self._fit_rows:
            self.move_cursor(row=min(cursor, len(self._fit_rows) - 1), scroll=False)
            self.scroll_y = self.scroll_target_y = scroll
        return True

    def _add_fitted(self, rows: list[tuple[str, tuple[Text, ...]]]) -> None:
        shown = [self._fit_index[c.key] for c, _ in self.fitted]
        for key, cells in rows:
            self.add_row(*(cells[i] for i in shown), key=key)
