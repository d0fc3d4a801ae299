"""Contacts: every contact, a page at a time, with search as you type.

The list is read in keyset pages (`list_contacts(after=...)`: constant time per page at
100k contacts) and the next page is fetched when the cursor or the scrollbar nears the end,
so the table never holds more than what was scrolled through. Typing searches the same
index as `tinycrm search` (name, email, company, tags, notes; CJK inside words);
`tag:vip` and `owner:sam` in the box filter. Clicking the Name header (or o) flips the order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Input, Static
from textual.widgets.data_table import RowDoesNotExist

from tinycrm.services.contacts import ContactSummary
from tinycrm.services.context import Ctx
from tinycrm.tui.screens.base import CRMScreen, run_db
from tinycrm.tui.widgets import format as fmt
from tinycrm.tui.widgets.nav import NavBar

PAGE = 100
ORDER_LABELS = {
    "name": "by name A→Z",
    "name-desc": "by name Z→A",
    "untouched": "longest untouched first",
    "newest": "newest first",
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
    query: Query
    rows: list[ContactSummary]
    after: Any  # where the next page starts (a keyset, or the rest of the hits); None: no more
    total: int | None = None  # contacts in the store, or search hits
    append: bool = False
    keep: int | None = None  # the contact to put the cursor back on


def load_page(ctx: Ctx, q: Query, after: Any, limit: int, count: bool) -> Page:
    """One page of the list: in name order by keyset (`after` is the last row's key), or
    of the search hits (`after` holds the hits still to show, in order)."""
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
        return Page(q, rows, rest or None, len(hits) if count else None)
    rows = contacts.list_contacts(
        db, tag=q.tag, owner=q.owner, order=q.order, after=after, limit=limit
    )
    nxt = contacts.page_key(db, rows[-1].id, q.order) if len(rows) == limit else None
    return Page(q, rows, nxt, contacts.count_contacts(db) if count else None)


class ContactTable(DataTable[Any]):
    """Asks for the next page when scrolled near its end."""

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        if new >= self.max_scroll_y - 20:
            screen = self.screen
            if isinstance(screen, ContactsScreen):
                screen.more()


class ContactsScreen(CRMScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        # priority: handled before the key reaches the table, so the focus has moved by the
        # time the next key (typed fast) arrives
        Binding("slash", "search", "Search", key_display="/", priority=True),
        Binding("escape", "clear", "Clear", show=False),
        Binding("down", "to_list", "List", show=False),
        Binding("o", "order", "Order"),  # name A→Z, Z→A, longest untouched, newest
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
        self.after: Any = None
        self.loading_more = False
        self.total: int | None = None
        self.summaries: dict[int, ContactSummary] = {}

    def compose(self) -> ComposeResult:
        yield NavBar("contacts")
        yield Input(
            placeholder="/ to search name, email, company, tags, notes…  tag:vip owner:sam",
            id="search",
        )
        table = ContactTable(id="contacts", cursor_type="row", zebra_stripes=True)
        table.add_column("Name", key="name")
        for label in ("Company", "Title", "Email", "Phone", "Tags", "Owner", "Last touch"):
            table.add_column(label, key=label.lower())
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
        """Read the list again; unless `fresh` (a new query), keep the rows read so far
        (up to 1000) and the cursor on the same contact."""
        super().reload()
        q = self.query_
        table = self.query_one(ContactTable)
        keep = None if fresh or not table.row_count else self._current_id()
        limit = max(PAGE, min(table.row_count, 1000)) if keep is not None else PAGE

        def job(ctx: Ctx) -> Page:
            page = load_page(ctx, q, None, limit, count=True)
            page.keep = keep
            return page

        run_db(self, job, self.show)

    def more(self) -> None:
        if self.after is None or self.loading_more:
            return
        self.loading_more = True
        q, after = self.query_, self.after

        def job(ctx: Ctx) -> Page:
            page = load_page(ctx, q, after, PAGE, count=False)
            page.append = True
            return page

        run_db(self, job, self.show, group="more")

    def show(self, page: Page) -> None:
        if page.query != self.query_:
            return  # typed on meanwhile: a newer load is coming
        table = self.query_one(ContactTable)
        self.loading_more = False
        if not page.append:
            table.clear()
            self.summaries = {}
        if page.total is not None:
            self.total = page.total
        self.after = page.after
        tz, now = self.crm.store.tz, self.crm.store.now()
        for c in page.rows:
            if c.id in self.summaries or c.id in self.crm.pending_deletes:
                continue
            self.summaries[c.id] = c
            table.add_row(
                c.name,
                c.company or "",
                c.title or "",
                c.email or "",
                c.phone or "",
                " ".join(c.tags),
                c.owner or "",
                fmt.ago(c.last_touch_at, now, tz) if c.last_touch_at else "",
                key=str(c.id),
            )
        if page.keep is not None:
            try:
                table.move_cursor(row=table.get_row_index(str(page.keep)))
            except RowDoesNotExist:
                pass
        self._status()
        if table.row_count and self.after is not None and table.row_count < table.size.height:
            self.more()  # a very tall terminal: fill it

    def _status(self) -> None:
        table = self.query_one(ContactTable)
        q = self.query_
        shown = table.row_count
        more = "+" if self.after is not None else ""
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
        if event.cursor_row >= event.data_table.row_count - 10:
            self.more()

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

            self.app.push_screen(ConfirmModal(f"Delete {name}?", detail), answered)

        run_db(self, lambda ctx: delete_impact(ctx.db, cid), ask, group="edit")

    def action_undo(self) -> None:
        if self.crm.undo_delete():
            self.reload()
