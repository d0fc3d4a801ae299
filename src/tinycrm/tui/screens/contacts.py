"""Contacts: every contact, a page at a time, with search as you type.

The list is read in keyset pages (`list_contacts(after=...)`, `before=...`: constant time
per page at 100k contacts) and the table is a window of at most WINDOW rows: the next page
is read when the cursor or the scrollbar nears its end, the previous one near its start,
and rows far from the cursor are dropped, so scrolling through 100k contacts holds no more
than scrolling through a few hundred. home and end read the first and the last page.
Typing searches the same index as `tinycrm search` (name, email, company, tags, notes;
CJK inside words); `tag:vip` and `owner:sam` in the box filter. o (or a click on the Name,
Company, Owner or Last touch header) changes the order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Input, Static

from tinycrm.services.contacts import ContactSummary
from tinycrm.services.context import Ctx
from tinycrm.tui.screens.base import CRMScreen, run_db
from tinycrm.tui.widgets import format as fmt
from tinycrm.tui.widgets.nav import NavBar

PAGE = 100
WINDOW = 300  # rows held at most, around the cursor: the table's memory stays flat at 100k
EDGE = 10  # a page is read when the cursor or the view comes this close to either end

# The columns, by key: (width when there is room, least width, share of the room when there
# isn't (0: never shrinks), order of going when even the least widths don't fit (0: stays)).
# Widths are fixed, not measured from the rows: rows come and go as the list scrolls.
COLUMNS: dict[str, tuple[int, int, int, int]] = {
    "name": (26, 16, 3, 0),
    "company": (28, 10, 3, 0),
    "title": (22, 8, 1, 1),
    "email": (36, 12, 3, 0),
    "phone": (17, 17, 0, 5),
    "tags": (24, 6, 1, 2),
    "owner": (10, 6, 0, 3),
    "last touch": (10, 10, 0, 4),
}
# (or a screenful, whichever is more: held-down page-down should not wait for pages)
ORDER_LABELS = {
    "name": "by name A→Z",
    "name-desc": "by name Z→A",
    "untouched": "longest untouched first",
    "newest": "newest first",
    "company": "by company",
    "owner": "by owner",
}
SEARCH_LIMIT = 500


@dataclass
class Query:
    text: str = ""
    tag: str | None = None
    owner: str | None = None
    order: str = "name"  # one of tinycrm.services.contacts.ORDERS

    @classmethod
    def parse(cls, raw: str, order: str) -> Query:
        q = cls(order=order)
        words = []
        for word in raw.split():
            low = word.lower()
            if low.startswith("tag:") and len(word) > 4:
                q.tag = word[4:]
            elif low.startswith("owner:") and len(word) > 6:
                q.owner = word[6:]
            else:
                words.append(word)
        q.text = " ".join(words)
        return q


@dataclass
class Page:
    """Rows for the table and where they go: `where` is "all" (they replace what is
    shown), "end" (after it) or "start" (before it)."""

    query: Query
    rows: list[ContactSummary]
    after: Any  # more after these: True (list) or the search hits still to show; None: no
    before: bool = False  # more before these
    total: int | None = None  # contacts in the store, or search hits
    where: str = "all"
    keep: int | None = None  # the contact to put the cursor back on
    last: bool = False  # the cursor goes to the last row
    epoch: int = 0  # which start of the table it belongs to (ContactsScreen.epoch)


def load_page(ctx: Ctx, q: Query, after: Any, limit: int, count: bool) -> Page:
    """One page of the list: in order by keyset (`after` is the id of the row the page
    follows), or of the search hits (`after` holds the hits still to show, in order)."""
    from tinycrm.services import contacts, search

    db = ctx.db
    if q.text:
        if after is None:  # a new search: every hit, in order, once
            ids = search.matching_ids(db, "contact", q.text, SEARCH_LIMIT)
            after = contacts.sorted_ids(db, ids, tag=q.tag, owner=q.owner, order=q.order)
        hits: list[int] = after
        window, rest = hits[:limit], hits[limit:]
        by_id = {c.id: c for c in contacts.summaries_by_id(db, window)}
        rows = [by_id[i] for i in window if i in by_id]
        return Page(q, rows, rest or None, total=len(hits) if count else None)
    key = contacts.page_key(db, after, q.order) if after is not None else None
    rows = contacts.list_contacts(
        db, tag=q.tag, owner=q.owner, order=q.order, after=key, limit=limit
    )
    total = contacts.count_contacts(db) if count else None
    return Page(q, rows, True if len(rows) == limit else None, key is not None, total)


def load_before(ctx: Ctx, q: Query, first: int | None, limit: int) -> Page:
    """The `limit` rows before the contact `first` in the list (not searching), or the
    last `limit` rows when `first` is None."""
    from tinycrm.services import contacts

    key = contacts.page_key(ctx.db, first, q.order) if first is not None else None
    rows = contacts.list_contacts(
        ctx.db, tag=q.tag, owner=q.owner, order=q.order, before=key, last=key is None, limit=limit
    )
    return Page(q, rows, first is not None or None, len(rows) == limit, where="start")


def load_window(ctx: Ctx, q: Query, first: int | None, limit: int) -> Page:
    """The list read again from the contact `first` on (or from the start): what a reload
    shows without moving. `first` gone (deleted meanwhile): from the start."""
    from tinycrm.errors import NotFound

    if q.text or first is None:
        return load_page(ctx, q, None, limit, count=True)
    try:
        prev = load_before(ctx, q, first, 1).rows
    except NotFound:
        return load_page(ctx, q, None, limit, count=True)
    page = load_page(ctx, q, prev[0].id if prev else None, limit, count=True)
    if not page.rows or page.rows[0].id != first:
        # a row came in just before `first` (or `first` went): not a reason to jump
        page.before = bool(prev)
    return page


class ContactTable(DataTable[Any]):
    """Asks for more rows when scrolled near either end of what it holds; home and end
    go to the first and the last contact."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home,ctrl+home", "first", "First", show=False),
        Binding("end,ctrl+end", "last", "Last", show=False),
    ]

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        screen = self.screen
        if isinstance(screen, ContactsScreen) and self.row_count:
            edge = self.edge()
            if new > old and new >= self.max_scroll_y - edge:
                screen.more()
            elif new < old and new <= edge:
                screen.less()

    def on_resize(self) -> None:
        screen = self.screen
        if isinstance(screen, ContactsScreen):
            screen.fit_columns()

    # A key held down outruns the pages: what a move could not do because the rows it
    # wanted are still being read is owed, and done when they arrive, so no press is lost.
    def _moved(self, action: Callable[[], None], wanted: int) -> None:
        before = self.cursor_row
        action()
        short = wanted - (self.cursor_row - before)
        screen = self.screen
        if short * wanted > 0 and isinstance(screen, ContactsScreen):  # fell short
            screen.owe(short)

    def _page(self) -> int:
        """The rows a page-down or page-up moves (DataTable's page: the rows in view)."""
        return self.scrollable_content_region.height - (
            self.header_height if self.show_header else 0
        )

    def action_page_down(self) -> None:
        self._moved(super().action_page_down, self._page())

    def action_page_up(self) -> None:
        self._moved(super().action_page_up, -self._page())

    def action_cursor_down(self) -> None:
        self._moved(super().action_cursor_down, 1)

    def action_cursor_up(self) -> None:
        self._moved(super().action_cursor_up, -1)

    def edge(self) -> int:
        """How close to either end of the rows held the next page is read: a screenful
        (at least EDGE), yet small enough that a page read at one end never brings the
        cursor close to the other (which would read back and forth)."""
        return min(max(EDGE, self.size.height), (WINDOW - PAGE) // 2 - 1)

    def action_first(self) -> None:
        screen = self.screen
        if isinstance(screen, ContactsScreen):
            screen.jump(last=False)

    def action_last(self) -> None:
        screen = self.screen
        if isinstance(screen, ContactsScreen):
            screen.jump(last=True)


class ContactsScreen(CRMScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        # priority: handled before the key reaches the table, so the focus has moved by the
        # time the next key (typed fast) arrives
        Binding("slash", "search", "Search", key_display="/", priority=True),
        Binding("escape", "clear", "Clear", show=False),
        Binding("down", "to_list", "List", show=False),
        Binding("o", "order", "Order"),  # name A→Z, Z→A, untouched, newest, company, owner
        Binding("a", "add", "Add"),
        Binding("e", "edit", "Edit"),
        Binding("x,delete", "delete", "Delete", key_display="x"),
        Binding("u", "undo", "Undo", show=False),
        Binding("n", "note", "Note"),
        Binding("r", "remind", "Remind"),
        Binding("f5", "reload", "Reload", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.query_ = Query()
        self.after: Any = None  # more rows after the table's: True, or the hits to show
        self.before = False  # more rows before the table's
        self.paging = False  # a page is on its way (one at a time, either direction)
        self.owed = 0  # rows the cursor still has to move when the next page comes (- up)
        self.epoch = 0  # bumped when the table starts again (reload, search, jump)
        self.total: int | None = None
        self.window: list[ContactSummary] = []  # the table's rows, in order
        self.summaries: dict[int, ContactSummary] = {}
        self.column_layout: list[tuple[str, int]] = []  # (key, width) of the columns shown

    def compose(self) -> ComposeResult:
        yield NavBar("contacts")
        yield Input(
            placeholder="/ to search name, email, company, tags, notes…  tag:vip owner:sam",
            id="search",
        )
        table = ContactTable(id="contacts", cursor_type="row", zebra_stripes=True)
        self._fit_columns(table)  # again on every resize
        yield table
        yield Static("", id="contacts-status")
        yield Footer()

    def on_mount(self) -> None:
        # the list first, so 1-5 switch screens and a/e/x/n/r/o act; / goes to the search
        # box (the placeholder says so), where typing narrows the list at once
        self.set_focus(self.query_one(ContactTable))
        self.reload()

    # -- loading ------------------------------------------------------------------------------
    def reload(self, fresh: bool = False) -> None:
        """Read the list again; unless `fresh` (a new query), the same stretch of it, with
        the cursor on the same contact."""
        super().reload()
        q = self.query_
        table = self.query_one(ContactTable)
        keep = None if fresh or not table.row_count else self._current_id()
        first = self.window[0].id if keep is not None and self.before and self.window else None
        limit = max(PAGE, min(len(self.window), WINDOW)) if keep is not None else PAGE
        self.paging = True
        epoch = self._new_epoch()

        def job(ctx: Ctx) -> Page:
            page = load_window(ctx, q, first, limit)
            page.keep, page.epoch = keep, epoch
            return page

        run_db(self, job, self.show, failed=self._failed)

    def more(self) -> None:
        """The next page, after the last row."""
        if self.after is None or self.paging or not self.window:
            return
        self.paging = True
        q = self.query_
        after = self.after if q.text else self.window[-1].id
        epoch = self.epoch

        def job(ctx: Ctx) -> Page:
            page = load_page(ctx, q, after, PAGE, count=False)
            page.where, page.epoch = "end", epoch
            return page

        run_db(self, job, self.show, group="more", failed=self._failed)

    def less(self) -> None:
        """The page before the first row (rows dropped from the window to keep it small)."""
        if not self.before or self.paging or not self.window or self.query_.text:
            return
        self.paging = True
        q, first, epoch = self.query_, self.window[0].id, self.epoch

        def job(ctx: Ctx) -> Page:
            page = load_before(ctx, q, first, PAGE)
            page.epoch = epoch
            return page

        run_db(self, job, self.show, group="more", failed=self._failed)

    def jump(self, *, last: bool) -> None:
        """To the first or the last contact, reading that end of the list if not held."""
        table = self.query_one(ContactTable)
        q = self.query_
        if q.text or not (self.after if last else self.before):  # that end is in the table
            if q.text and last:
                self.more()  # search hits (at most SEARCH_LIMIT): read on towards the end
            if table.row_count:
                table.move_cursor(row=table.row_count - 1 if last else 0)
            return
        self.paging = True
        epoch = self._new_epoch()

        def job(ctx: Ctx) -> Page:
            if last:
                page = load_before(ctx, q, None, PAGE)
                page.where, page.last = "all", True
            else:
                page = load_page(ctx, q, None, PAGE, count=False)
            page.epoch = epoch
            return page

        run_db(self, job, self.show, failed=self._failed)

    def _new_epoch(self) -> int:
        """A new start for the table: pages asked for before it are dropped."""
        self.epoch += 1
        self.owed = 0
        return self.epoch

    def owe(self, rows: int) -> None:
        """The cursor fell `rows` short at the end of the rows held (a page down pressed
        again before the next page came): move them once it is here, if there is more."""
        if self.after is not None if rows > 0 else self.before:
            self.owed += rows

    def _pay(self, table: ContactTable) -> None:
        """Move the cursor the rows owed, as far as the rows held now allow."""
        if not self.owed or not table.row_count:
            return
        target = max(0, min(table.cursor_row + self.owed, table.row_count - 1))
        self.owed -= target - table.cursor_row
        if (self.owed > 0 and self.after is None) or (self.owed < 0 and not self.before):
            self.owed = 0  # at the very end: nothing more will come
        table.move_cursor(row=target)

    def _failed(self, error: Exception) -> None:
        self.paging = False
        self.crm.show_error(error)

    def show(self, page: Page) -> None:
        if page.query != self.query_ or page.epoch != self.epoch:
            return  # typed on meanwhile, or jumped: a newer load is coming
        table = self.query_one(ContactTable)
        if page.total is not None:
            self.total = page.total
        pending = self.crm.pending_deletes
        rows = [c for c in page.rows if c.id not in pending]
        old = self.window
        cursor, scroll = table.cursor_row, table.scroll_y
        if page.where == "end":
            have = {c.id for c in old}
            rows = [c for c in rows if c.id not in have]
            self.after = page.after
            window = old + rows
            # let go of rows above, but never of the cursor's
            drop = min(len(window) - WINDOW, cursor)
            drop = max(0, drop) if not page.query.text else 0
            if not drop:  # only rows to add at the bottom: nothing moves
                self.window = window
                self.summaries.update((c.id, c) for c in rows)
                self._add_rows(table, rows)
                self._status()
                self.paging = False
                self._pay(table)
                self._edges()
                return
            window = window[drop:]
            self.before = True
            shift = -drop
        elif page.where == "start":
            have = {c.id for c in old}
            rows = [c for c in rows if c.id not in have]
            self.before = page.before
            window = rows + old
            # let go of rows below, but never of the cursor's
            keep = max(WINDOW, cursor + len(rows) + 1)
            if len(window) > keep:
                window = window[:keep]
                self.after = True
            shift = len(rows)
        else:
            window, shift = rows, 0
            self.after, self.before = page.after, page.before
        self.window = window
        self.summaries = {c.id: c for c in window}
        table.clear()
        self._add_rows(table, window)
        if page.where == "all":
            index = next((i for i, c in enumerate(window) if c.id == page.keep), None)
            if page.last:
                table.move_cursor(row=len(window) - 1)
            elif index is not None:
                table.move_cursor(row=index, scroll=False)
                table.scroll_y = table.scroll_target_y = scroll
                table.move_cursor(row=index)  # and into view, should the rows have moved
        else:
            # rows came or went above: keep the same contacts where they were on screen
            table.move_cursor(row=max(0, min(cursor + shift, len(window) - 1)), scroll=False)
            table.scroll_y = table.scroll_target_y = max(0, scroll + shift)
        self._status()
        # the table's scroll and cursor moved above without asking for pages: now it may
        self.paging = False
        self._pay(table)
        self._edges()

    def _edges(self) -> None:
        """Read the next (or previous) page if the cursor is near the end (or the start) of
        the rows held, or the table has room for more."""
        table = self.query_one(ContactTable)
        if not table.row_count:
            return
        edge = table.edge()
        if table.cursor_row >= table.row_count - edge or table.row_count < table.size.height:
            self.more()
        elif table.cursor_row < edge:
            self.less()

    def _add_rows(self, table: ContactTable, rows: list[ContactSummary]) -> None:
        if not rows:
            return
        tz, now = self.crm.store.tz, self.crm.store.now()
        shown = [key for key, _ in self.column_layout]
        for c in rows:
            cells = {
                "name": c.name,
                "company": c.company or "",
                "title": c.title or "",
                "email": c.email or "",
                "phone": c.phone or "",
                "tags": " ".join(c.tags),
                "owner": c.owner or "",
                "last touch": fmt.ago(c.last_touch_at, now, tz) if c.last_touch_at else "",
            }
            # Text, not str: DataTable would read a name's [brackets] as markup
            table.add_row(*(fmt.cell(cells[key]) for key in shown), key=str(c.id))

    def fit_columns(self) -> None:
        """Fit the columns to the table's new width and redraw the rows held."""
        table = self.query_one(ContactTable)
        cursor, scroll = table.cursor_row, table.scroll_y
        if not self._fit_columns(table) or not self.window:
            return
        self._add_rows(table, self.window)
        table.move_cursor(row=min(cursor, len(self.window) - 1), scroll=False)
        table.scroll_y = table.scroll_target_y = scroll

    def _fit_columns(self, table: ContactTable) -> bool:
        """Give the table the columns that fit its width, at fixed widths (fmt.fit_widths):
        they don't change as pages of contacts come and go, and nothing scrolls sideways.
        On a narrow terminal the least needed columns go first. True if they changed."""
        width = table.size.width or self.app.size.width
        shown = list(COLUMNS)
        while True:
            # less the scrollbar and the focus bar, and a cell of padding either side
            room = width - 3 - 2 * len(shown)
            widths = fmt.fit_widths(
                room,
                [COLUMNS[k][0] for k in shown],
                [COLUMNS[k][1] for k in shown],
                [COLUMNS[k][2] for k in shown],
            )
            droppable = [k for k in shown if COLUMNS[k][3]]
            if sum(widths) <= room or not droppable:
                break
            shown.remove(min(droppable, key=lambda k: COLUMNS[k][3]))
        layout = list(zip(shown, widths, strict=True))
        if layout == self.column_layout:
            return False
        self.column_layout = layout
        table.clear(columns=True)
        for key, w in layout:
            table.add_column(key.capitalize(), key=key, width=w)
        return True

    def _status(self) -> None:
        table = self.query_one(ContactTable)
        q = self.query_
        shown = table.row_count
        more = "+" if self.after is not None or self.before else ""
        if q.text:
            what = " ".join(
                x for x in (q.text, q.tag and f"tag:{q.tag}", q.owner and f"owner:{q.owner}") if x
            )
            hits = self.total or 0
            cap = (
                f" (the first {SEARCH_LIMIT}; type more to narrow)" if hits >= SEARCH_LIMIT else ""
            )
            text = f"{hits} matching {what!r}{cap}"
        elif q.tag or q.owner:
            what = " ".join(
                x for x in (q.tag and f"tag:{q.tag}", q.owner and f"owner:{q.owner}") if x
            )
            text = f"{shown}{more} with {what}"
        else:
            text = f"{self.total if self.total is not None else shown} contacts"
        order = ORDER_LABELS[q.order]
        self.query_one("#contacts-status", Static).update(
            f"{text} · {order} · enter opens · n note · r remind"
        )

    # -- searching ------------------------------------------------------------------------------
    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_ = Query.parse(event.value, self.query_.order)
        self.after = None
        self.reload(fresh=True)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the search box opens the highlighted (first) match."""
        cid = self._current_id()
        if cid is not None:
            self.crm.open_contact(cid)

    def action_to_list(self) -> None:
        self.set_focus(self.query_one(ContactTable))

    def action_search(self) -> None:
        box = self.query_one("#search", Input)
        if self.focused is box:
            box.insert_text_at_cursor("/")
        else:
            self.set_focus(box)

    def action_clear(self) -> None:
        box = self.query_one("#search", Input)
        if box.value:
            box.value = ""
        self.set_focus(self.query_one(ContactTable))

    def action_order(self, order: str | None = None) -> None:
        """Switch to `order`, or to the next one."""
        if order is None:
            names = list(ORDER_LABELS)
            order = names[(names.index(self.query_.order) + 1) % len(names)]
        box = self.query_one("#search", Input)
        self.query_ = Query.parse(box.value, order)
        self.reload(fresh=True)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        column = event.column_key.value
        if column == "name":
            self.action_order("name-desc" if self.query_.order == "name" else "name")
        elif column == "last touch":
            self.action_order("untouched")
        elif column in ("company", "owner"):
            self.action_order(column)

    def action_reload(self) -> None:
        self.reload()

    # -- acting -----------------------------------------------------------------------------
    def _current_id(self) -> int | None:
        table = self.query_one(ContactTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return int(key) if key is not None else None

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.crm.open_contact(int(event.row_key.value))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._edges()  # where the cursor is now: the event may be older than the rows

    def _target(self) -> tuple[Any, str] | None:
        from tinycrm.refs import Target

        cid = self._current_id()
        if cid is None or cid not in self.summaries:
            return None
        name = self.summaries[cid].name
        return Target("contact", cid, name), name

    def action_note(self) -> None:
        from tinycrm.tui.screens.forms import NoteForm

        target = self._target()
        if target is not None:
            self.app.push_screen(NoteForm(*target))

    def action_remind(self) -> None:
        from tinycrm.tui.screens.forms import ReminderForm

        target = self._target()
        if target is not None:
            self.app.push_screen(ReminderForm(*target))

    # -- add, edit, delete (with undo) ---------------------------------------------------------
    def action_add(self) -> None:
        from tinycrm.tui.screens.forms import ContactForm

        def added(contact_id: int | None) -> None:
            if contact_id is not None:
                self.crm.open_contact(contact_id)

        self.app.push_screen(ContactForm(), added)

    def action_edit(self) -> None:
        cid = self._current_id()
        if cid is None:
            return
        from tinycrm.services.contacts import get_contact
        from tinycrm.tui.screens.forms import ContactForm

        def loaded(detail: Any) -> None:
            self.app.push_screen(ContactForm(detail))

        run_db(self, lambda ctx: get_contact(ctx.db, cid, timeline=0), loaded, group="edit")

    def action_delete(self) -> None:
        cid = self._current_id()
        if cid is None or cid not in self.summaries:
            return
        name = self.summaries[cid].name
        from tinycrm.services.contacts import delete_impact
        from tinycrm.tui.screens.forms import ConfirmModal

        def ask(impact: Any) -> None:
            detail = (
                f"With {impact.interactions} notes, {impact.reminders} reminders and"
                f" {impact.purchases} purchases; {impact.deals} deals stay, unlinked."
                " You can undo for a few seconds (u)."
            )

            def answered(yes: bool | None) -> None:
                if yes:
                    self.crm.delete_later(cid, name)
                    table = self.query_one(ContactTable)
                    table.remove_row(str(cid))
                    self.summaries.pop(cid, None)
                    self.window = [c for c in self.window if c.id != cid]

            self.app.push_screen(ConfirmModal(f"Delete {name}?", detail), answered)

        run_db(self, lambda ctx: delete_impact(ctx.db, cid), ask, group="edit")

    def action_undo(self) -> None:
        if self.crm.undo_delete():
            self.reload()
