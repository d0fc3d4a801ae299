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

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable, Footer, Input, Static

from tinycrm.errors import TinyCRMError
from tinycrm.services.contacts import ContactDetail, ContactSummary, DeleteImpact
from tinycrm.services.context import Ctx
from tinycrm.services.search import ContactMatch
from tinycrm.tui import data
from tinycrm.tui.data import SEARCH_LIMIT, Page, Query
from tinycrm.tui.screens.base import CRMScreen, run_db
from tinycrm.tui.widgets import format as fmt
from tinycrm.tui.widgets.nav import NavBar
from tinycrm.tui.widgets.table import Column, FittingTable, Row

PAGE = 100
WINDOW = 300  # rows held at most, around the cursor: the table's memory stays flat at 100k
EDGE = 10  # a page is read when the cursor or the view comes this close to either end

# The columns at fixed widths, not measured from the rows: rows come and go as the list
# scrolls. On a narrow terminal title, tags, owner and then last touch give way.
COLUMNS = (
    Column("name", "Name", 16, share=3, width=26),
    Column("company", "Company", 10, share=3, width=28),
    Column("title", "Title", 8, share=1, goes=1, width=22),
    Column("email", "Email", 12, share=3, width=36),
    Column("phone", "Phone", 17, share=0, goes=5, width=17),
    Column("tags", "Tags", 6, share=1, goes=2, width=24),
    Column("owner", "Owner", 6, share=0, goes=3, width=10),
    Column("last touch", "Last touch", 10, share=0, goes=4, width=10),
    # searching: where the words were found when not in the contact's own record
    Column("why", "Found in", 14, share=3, width=40, optional=True),
)
ORDER_LABELS = {
    "name": "by name A→Z",
    "name-desc": "by name Z→A",
    "untouched": "longest untouched first",
    "newest": "newest first",
    "company": "by company",
    "owner": "by owner",
}


class ContactTable(FittingTable):
    """The contacts held (a window of the list). It says when it is scrolled near either
    end of its rows (EdgeNeared), when a move stopped short at their end (MoveCutShort),
    when home or end asks for the first or the last contact (JumpRequested) and when a
    contact is chosen (ContactSelected); the screen reads the pages."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home,ctrl+home", "first", "First", show=False),
        Binding("end,ctrl+end", "last", "Last", show=False),
    ]

    class EdgeNeared(Message):
        """Scrolled near the end (`forward`) or the start of the rows held."""

        def __init__(self, forward: bool) -> None:
            super().__init__()
            self.forward = forward

    class MoveCutShort(Message):
        """A move stopped at the end of the rows held, `rows` short (- upwards)."""

        def __init__(self, rows: int) -> None:
            super().__init__()
            self.rows = rows

    class JumpRequested(Message):
        """home or end: the first or the `last` contact, held or not."""

        def __init__(self, last: bool) -> None:
            super().__init__()
            self.last = last

    class ContactSelected(Message):
        def __init__(self, contact_id: int) -> None:
            super().__init__()
            self.contact_id = contact_id

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(COLUMNS, **kwargs)
        self._placing = False

    @contextlib.contextmanager
    def placing(self) -> Iterator[None]:
        """Rows and the view changed by the screen (a page put in), not scrolled by the
        user: no EdgeNeared meanwhile."""
        self._placing = True
        try:
            yield
        finally:
            self._placing = False

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if self.row_count and not self._placing:
            edge = self.edge()
            if new > old and new >= self.max_scroll_y - edge:
                self.post_message(self.EdgeNeared(forward=True))
            elif new < old and new <= edge:
                self.post_message(self.EdgeNeared(forward=False))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.ContactSelected(int(event.row_key.value)))

    # A key held down outruns the pages: what a move could not do because the rows it
    # wanted are still being read is owed, and done when they arrive, so no press is lost.
    def _moved(self, action: Callable[[], None], wanted: int) -> None:
        before = self.cursor_row
        action()
        short = wanted - (self.cursor_row - before)
        if short * wanted > 0:  # fell short
            self.post_message(self.MoveCutShort(short))

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
        self.post_message(self.JumpRequested(last=False))

    def action_last(self) -> None:
        self.post_message(self.JumpRequested(last=True))


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
        self.matches: dict[int, ContactMatch] = {}  # why the search found each hit
        self.field_defs: list[Any] = []  # custom fields of contacts, for the add form

    class PageLoaded(Message, bubble=False):
        def __init__(self, page: Page) -> None:
            super().__init__()
            self.page = page

    class PageFailed(Message, bubble=False):
        def __init__(self, error: TinyCRMError) -> None:
            super().__init__()
            self.error = error

    class EditLoaded(Message, bubble=False):
        """The contact to edit, as it is now (its version is what the form saves against),
        and the custom fields of contacts."""

        def __init__(self, loaded: tuple[ContactDetail, list[Any]]) -> None:
            super().__init__()
            self.detail, self.defs = loaded

    class FieldsLoaded(Message, bubble=False):
        """The custom fields of contacts, read with the list: the add form opens at once."""

        def __init__(self, defs: list[Any]) -> None:
            super().__init__()
            self.defs = defs

    class ImpactLoaded(Message, bubble=False):
        """What deleting the contact would take with it, to ask first."""

        def __init__(self, contact_id: int, name: str, impact: DeleteImpact) -> None:
            super().__init__()
            self.contact_id = contact_id
            self.name = name
            self.impact = impact

    def compose(self) -> ComposeResult:
        yield NavBar("contacts")
        me = self.crm.store.user_name
        yield Input(
            placeholder="/ to search name, email, company, tags, notes, deals…  tag:vip"
            + (f" owner:{me}" if me and " " not in me else ""),
            id="search",
        )
        yield ContactTable(id="contacts", cursor_type="row", zebra_stripes=True)
        yield Static("", id="contacts-status")
        yield Footer()

    def on_mount(self) -> None:
        # the list first, so 1-5 switch screens and a/e/x/n/r/o act; / goes to the search
        # box (the placeholder says so), where typing narrows the list at once
        self.set_focus(self.query_one(ContactTable))
        self.reload()

    def on_screen_resume(self) -> None:
        """Back from a contact (opened from the search box, or the palette while typing
        there): the list has the focus, so 1-5 switch screens and the letters act rather
        than type into the search box. The search stays as it was."""
        super().on_screen_resume()
        if isinstance(self.focused, Input):
            self.set_focus(self.query_one(ContactTable))

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
            page = data.load_window(ctx, q, first, limit)
            page.keep, page.epoch = keep, epoch
            return page

        run_db(self, job, self.PageLoaded, failed=self.PageFailed)
        if not fresh:  # a new search needs no new fields
            run_db(self, data.field_defs, self.FieldsLoaded, group="fields")

    def on_contacts_screen_fields_loaded(self, message: FieldsLoaded) -> None:
        self.field_defs = message.defs

    def more(self) -> None:
        """The next page, after the last row."""
        if self.after is None or self.paging or not self.window:
            return
        self.paging = True
        q = self.query_
        after = self.after if q.text else self.window[-1].id
        epoch = self.epoch

        def job(ctx: Ctx) -> Page:
            page = data.load_page(ctx, q, after, PAGE, count=False)
            page.where, page.epoch = "end", epoch
            return page

        run_db(self, job, self.PageLoaded, group="more", failed=self.PageFailed)

    def less(self) -> None:
        """The page before the first row (rows dropped from the window to keep it small)."""
        if not self.before or self.paging or not self.window or self.query_.text:
            return
        self.paging = True
        q, first, epoch = self.query_, self.window[0].id, self.epoch

        def job(ctx: Ctx) -> Page:
            page = data.load_before(ctx, q, first, PAGE)
            page.epoch = epoch
            return page

        run_db(self, job, self.PageLoaded, group="more", failed=self.PageFailed)

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
                page = data.load_before(ctx, q, None, PAGE)
                page.where, page.last = "all", True
            else:
                page = data.load_page(ctx, q, None, PAGE, count=False)
            page.epoch = epoch
            return page

        run_db(self, job, self.PageLoaded, failed=self.PageFailed)

    def _new_epoch(self) -> int:
        """A new start for the table: pages asked for before it are dropped."""
        self.epoch += 1
        self.owed = 0
        return self.epoch

    # -- what the table says ------------------------------------------------------------------
    def on_contact_table_edge_neared(self, message: ContactTable.EdgeNeared) -> None:
        if message.forward:
            self.more()
        else:
            self.less()

    def on_contact_table_move_cut_short(self, message: ContactTable.MoveCutShort) -> None:
        """The cursor fell short at the end of the rows held (a page down pressed again
        before the next page came): move on as far as the rows held now allow (the page
        may have come meanwhile), the rest when the next page is here, if there is more."""
        self.owed += message.rows
        self._pay(self.query_one(ContactTable))

    def on_contact_table_jump_requested(self, message: ContactTable.JumpRequested) -> None:
        self.jump(last=message.last)

    def on_contact_table_contact_selected(self, message: ContactTable.ContactSelected) -> None:
        self.crm.open_contact(message.contact_id)

    def _pay(self, table: ContactTable) -> None:
        """Move the cursor the rows owed, as far as the rows held now allow."""
        if not self.owed or not table.row_count:
            return
        target = max(0, min(table.cursor_row + self.owed, table.row_count - 1))
        self.owed -= target - table.cursor_row
        if (self.owed > 0 and self.after is None) or (self.owed < 0 and not self.before):
            self.owed = 0  # at the very end: nothing more will come
        table.move_cursor(row=target)

    def on_contacts_screen_page_failed(self, message: PageFailed) -> None:
        self.paging = False
        self.crm.show_error(message.error)

    def on_contacts_screen_page_loaded(self, message: PageLoaded) -> None:
        self.show(message.page)

    def show(self, page: Page) -> None:
        if page.query != self.query_ or page.epoch != self.epoch:
            return  # typed on meanwhile, or jumped: a newer load is coming
        table = self.query_one(ContactTable)
        if page.total is not None:
            self.total = page.total
        if page.where == "all" and (page.matches or not page.query.text):
            self.matches = page.matches
        rows = list(page.rows)
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
                with table.placing():
                    table.append_rows(self._rows(rows))
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
        with table.placing():  # the view moves with the rows: not a reason to read more
            table.set_rows(self._rows(window))
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
        # the table's scroll and cursor were placed above: from now on a move may read pages
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

    def _rows(self, contacts: list[ContactSummary]) -> list[Row]:
        """The table's rows for `contacts`: a cell for every column, shown or not."""
        clock = self.crm.store.clock
        tz, now = clock.tz, clock.now()
        q = self.query_.text
        return [
            (
                str(c.id),
                (
                    c.name,
                    c.company or "",
                    c.title or "",
                    c.email or "",
                    c.phone or "",
                    " ".join(c.tags),
                    c.owner or "",
                    fmt.ago(c.last_touch_at, now, tz) if c.last_touch_at else "",
                    fmt.matched(self.matches[c.id], q) if c.id in self.matches else "",
                ),
            )
            for c in contacts
        ]

    def _status(self) -> None:
        table = self.query_one(ContactTable)
        q = self.query_
        shown = table.row_count
        if q.text:
            what = " ".join(
                x for x in (q.text, q.tag and f"tag:{q.tag}", q.owner and f"owner:{q.owner}") if x
            )
            hits = self.total or 0
            cap = (
                f" (the first {SEARCH_LIMIT:,}; type more to narrow)"
                if hits >= SEARCH_LIMIT
                else ""
            )
            text = f"{hits:,} matching {what!r}{cap}"
        elif q.tag or q.owner:
            what = " ".join(
                x for x in (q.tag and f"tag:{q.tag}", q.owner and f"owner:{q.owner}") if x
            )
            # counted in the store, not among the rows held
            total = self.total if self.total is not None else shown
            text = f"{total:,} with {what}"
        else:
            text = fmt.count(self.total if self.total is not None else shown, "contact")
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
            # back from the contact (escape), the list has the focus, so 1-5 switch screens
            # rather than type into the search box
            self.set_focus(self.query_one(ContactTable))
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

    # -- add, edit, delete (ctrl+z or u undoes) -----------------------------------------------
    def action_add(self) -> None:
        from tinycrm.tui.screens.forms import ContactForm

        def added(contact_id: int | None) -> None:
            if contact_id is not None:
                self.crm.open_contact(contact_id)

        self.app.push_screen(ContactForm(None, self.field_defs), added)

    def action_edit(self) -> None:
        cid = self._current_id()
        if cid is None:
            return

        def job(ctx: Ctx) -> tuple[ContactDetail, list[Any]]:
            return data.load_contact(ctx, cid, timeline=0), data.field_defs(ctx)

        run_db(self, job, self.EditLoaded, group="edit")

    def on_contacts_screen_edit_loaded(self, message: EditLoaded) -> None:
        from tinycrm.tui.screens.forms import ContactForm

        self.app.push_screen(ContactForm(message.detail, message.defs))

    def action_delete(self) -> None:
        cid = self._current_id()
        if cid is None or cid not in self.summaries:
            return
        name = self.summaries[cid].name

        def asked(impact: DeleteImpact) -> ContactsScreen.ImpactLoaded:
            return self.ImpactLoaded(cid, name, impact)

        run_db(self, lambda ctx: data.delete_impact(ctx, cid), asked, group="edit")

    def on_contacts_screen_impact_loaded(self, message: ImpactLoaded) -> None:
        from tinycrm.tui.screens.forms import ConfirmModal

        cid, name, impact = message.contact_id, message.name, message.impact
        detail = (
            f"With {impact.interactions} notes, {impact.reminders} reminders and"
            f" {impact.purchases} purchases; {impact.deals} deals stay, unlinked."
            " ctrl+z (or u) undoes it."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.crm.delete_contact(cid, name)
                self.query_one(ContactTable).drop_row(str(cid))
                self.summaries.pop(cid, None)
                self.window = [c for c in self.window if c.id != cid]

        self.app.push_screen(ConfirmModal(f"Delete {name}?", detail), answered)

    def action_undo(self) -> None:
        self.crm.action_undo()
