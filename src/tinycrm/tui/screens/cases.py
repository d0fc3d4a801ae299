"""Cases: the open service cases, the most urgent first, with their SLA clocks; and one case
opened, with its notes and the past cases most like it (the knowledge base).

The list: m only mine, o only overdue; enter opens the case; n notes, a assigns, c closes
with a solution, e edits, x deletes the highlighted case. It is read a page at a time
(keyset pages, `cases.case_page`): the next page when the cursor nears the end.
The case view: the same keys, r reopens, enter on a past case opens it, escape goes back.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Footer, Static

from tinycrm.errors import NotFound, TinyCRMError
from tinycrm.services.cases import CaseKey, CasePage, CaseView
from tinycrm.text import plural
from tinycrm.tui import data
from tinycrm.tui.screens.base import run_db
from tinycrm.tui.screens.record_actions import RecordScreen
from tinycrm.tui.widgets import format as fmt
from tinycrm.tui.widgets.nav import NavBar
from tinycrm.tui.widgets.table import Column, FittingTable, Row

# The SLA time and the marks are never cut (a cut time reads as another time); on a narrow
# terminal the owner goes first, then the status, then the contact.
COLUMNS = (
    Column("sla", "SLA", 11, share=0),
    Column("priority", "Pri", 6, share=0),
    Column("title", "Case", 12, share=4),
    Column("contact", "Contact", 8, share=2, goes=3),
    Column("status", "Status", 7, share=0, goes=2),
    Column("owner", "Owner", 5, share=1, goes=1),
    Column("mark", "", 8, share=0),
)
EDGE = 10  # the next page is read when the cursor comes this close to the end

PRIORITY_STYLE = {"urgent": "bold red", "high": "yellow", "normal": "", "low": "dim"}


def sla_cell(v: CaseView, now: Any, tz: Any) -> Text:
    """When the case is next overdue ("today 14:00", "2h overdue" in red), or why it has no
    clock (waiting on the customer, resolved, closed)."""
    if v.sla_due_at is None:
        return Text(v.status if v.status != "waiting" else "paused", style="dim")
    return fmt.due(v.sla_due_at, now, tz)


def mark(v: CaseView) -> Text:
    """The case's flag: escalated (to whom), or overdue."""
    if v.escalated_to:
        return Text(f"↑ {v.escalated_to}", style="bold red")
    if v.overdue:
        return Text("overdue", style="red")
    return Text("")


class CaseActions(RecordScreen):
    """The keys a case takes, in the list and in its view: the forms and `x`."""

    def current_case(self) -> CaseView | None:
        """The case the keys act on (subclasses)."""
        raise NotImplementedError

    def _case(self) -> CaseView | None:
        v = self.current_case()
        if v is None:
            self.notify("No case highlighted", severity="warning")
        return v

    def action_note(self) -> None:
        from tinycrm.tui.screens.forms import CaseNoteForm

        v = self._case()
        if v is not None:
            self.app.push_screen(CaseNoteForm(v))

    def action_assign(self) -> None:
        from tinycrm.tui.screens.forms import CaseAssignForm

        v = self._case()
        if v is not None:
            self.app.push_screen(CaseAssignForm(v))

    def action_close_case(self) -> None:
        from tinycrm.tui.screens.forms import CaseCloseForm

        v = self._case()
        if v is None:
            return
        if v.status == "closed":
            self.notify(f"Case #{v.id} is closed already (r reopens it)", severity="warning")
            return
        self.app.push_screen(CaseCloseForm(v))

    def action_edit(self) -> None:
        v = self._case()
        if v is not None:
            self.edit_record("case", v.id)  # read again, with its version, for the form

    def action_delete(self) -> None:
        v = self._case()
        if v is not None:
            self.delete_record("case", v.id)


class CasesScreen(CaseActions):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "note", "Note"),
        Binding("c", "close_case", "Close"),
        Binding("a", "assign", "Assign"),
        Binding("e", "edit", "Edit"),
        Binding("x,delete", "delete", "Delete", key_display="x"),
        Binding("m", "mine", "Mine/All"),
        Binding("o", "overdue", "Overdue/All"),
        Binding("f5", "reload", "Reload", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.mine = False
        self.overdue = False
        self.items: dict[int, CaseView] = {}
        self.after: CaseKey | None = None  # the next page's key; None: all read
        self.paging = False
        self.total = 0
        self.late = 0

    class Loaded(Message, bubble=False):
        def __init__(self, page: CasePage, more: bool) -> None:
            super().__init__()
            self.page = page
            self.more = more  # a next page, added to the rows shown

    def compose(self) -> ComposeResult:
        yield NavBar("cases")
        yield FittingTable(COLUMNS, id="case-list", cursor_type="row", zebra_stripes=True)
        yield Static("", id="cases-status")
        yield Footer()

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#case-list", FittingTable))
        self.reload()

    def reload(self) -> None:
        super().reload()
        mine, overdue = self.mine, self.overdue
        self.paging = True
        run_db(self, lambda ctx: data.load_cases(ctx, mine, overdue), self._first)

    def _first(self, page: CasePage) -> Loaded:
        return self.Loaded(page, more=False)

    def action_reload(self) -> None:
        self.reload()

    def _rows(self, rows: list[CaseView]) -> list[Row]:
        clock = self.crm.store.clock
        now, tz = clock.now(), clock.tz
        out: list[Row] = []
        for v in rows:
            self.items[v.id] = v
            out.append(
                (
                    str(v.id),
                    (
                        sla_cell(v, now, tz),
                        Text(v.priority, style=PRIORITY_STYLE.get(v.priority, "")),
                        f"#{v.id} {v.title}",
                        v.contact,
                        v.status,
                        v.owner or "",
                        mark(v),
                    ),
                )
            )
        return out

    def on_cases_screen_loaded(self, message: Loaded) -> None:
        page = message.page
        table = self.query_one("#case-list", FittingTable)
        self.paging = False
        self.after = page.after
        self.total, self.late = page.total, page.overdue
        if message.more:
            table.append_rows(self._rows(page.rows))
        else:
            keep = table.cursor_row
            self.items = {}
            rows = self._rows(page.rows)
            if not rows:
                empty = "no open case" + (" of yours" if self.mine else "")
                empty += " is overdue" if self.overdue else ""
                rows = [("empty", ("", "", empty + " · c on a contact opens one", "", "", "", ""))]
            table.set_rows(rows)
            if page.rows:
                table.move_cursor(row=min(keep, len(page.rows) - 1))
        self._status()

    def _status(self) -> None:
        shown = len(self.items)
        of = f"{shown:,} of " if self.total > shown else ""
        filters = " · ".join(
            x for x in ("mine" if self.mine else "everyone's", "overdue only" * self.overdue) if x
        )
        self.query_one("#cases-status", Static).update(
            f"{of}{plural(self.total, 'open case')} ({filters}) · {self.late:,} overdue"
        )

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        table = event.data_table
        if (
            self.after is not None
            and not self.paging
            and event.cursor_row >= table.row_count - EDGE
        ):
            self.paging = True
            mine, overdue, after = self.mine, self.overdue, self.after
            counts = (self.total, self.late)
            run_db(
                self,
                lambda ctx: data.load_cases(ctx, mine, overdue, after, counts),
                lambda page: self.Loaded(page, more=True),
                group="page",
            )

    def current_case(self) -> CaseView | None:
        table = self.query_one("#case-list", FittingTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.items.get(int(key)) if key and key.isdigit() else None

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        v = self.current_case()
        if v is not None:
            self.app.push_screen(CaseScreen(v.id))

    def action_mine(self) -> None:
        self.mine = not self.mine
        self.reload()

    def action_overdue(self) -> None:
        self.overdue = not self.overdue
        self.reload()


# The past cases under an opened case: what they were, whose, and how they were solved.
SIMILAR_COLUMNS = (
    Column("case", "Case", 10, share=2),
    Column("solution", "Solution", 12, share=3),
    Column("csat", "CSAT", 4, share=0, goes=1),
)


class CaseScreen(CaseActions):
    """One case: its fields, SLA clock, details and notes; beside them the past cases most
    like it, with their solutions."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("n", "note", "Note"),
        Binding("c", "close_case", "Close"),
        Binding("r", "reopen", "Reopen"),
        Binding("a", "assign", "Assign"),
        Binding("e", "edit", "Edit"),
        Binding("x,delete", "delete", "Delete", key_display="x"),
        Binding("f5", "reload", "Reload", show=False),
    ]

    def __init__(self, case_id: int) -> None:
        super().__init__()
        self.case_id = case_id
        self.detail: data.CaseDetail | None = None

    class Loaded(Message, bubble=False):
        def __init__(self, detail: data.CaseDetail) -> None:
            super().__init__()
            self.detail = detail

    class Failed(Message, bubble=False):
        """The case could not be read: gone (deleted here or elsewhere), or another error."""

        def __init__(self, error: TinyCRMError) -> None:
            super().__init__()
            self.error = error

    class Reopened(Message, bubble=False):
        def __init__(self, case: CaseView) -> None:
            super().__init__()
            self.case = case

    def compose(self) -> ComposeResult:
        yield NavBar("cases")
        with Vertical(id="case"):
            with VerticalScroll(id="case-card"):
                yield Static("Loading…", id="case-fields")
            yield Static("Solved before", classes="section-title", id="similar-title")
            yield FittingTable(SIMILAR_COLUMNS, id="similar", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#similar", FittingTable))
        self.reload()

    def reload(self) -> None:
        super().reload()
        case_id = self.case_id
        run_db(self, lambda ctx: data.load_case(ctx, case_id), self.Loaded, failed=self.Failed)

    def action_reload(self) -> None:
        self.reload()

    def on_case_screen_failed(self, message: Failed) -> None:
        if not isinstance(message.error, NotFound):
            self.crm.show_error(message.error)
            return
        self.notify(f"Case #{self.case_id} is no longer in the store")
        if self.app.screen is self:
            self.app.pop_screen()

    def on_case_screen_loaded(self, message: Loaded) -> None:
        self.detail = message.detail
        v = message.detail.case
        clock = self.crm.store.clock
        now, tz = clock.now(), clock.tz
        self.sub_title = f"#{v.id} {v.title}"
        card = Text()
        card.append(f"#{v.id} {v.title}\n", style="bold")
        card.append(f"{v.contact}\n\n")
        sla = sla_cell(v, now, tz)
        if v.sla_due_at is not None and v.first_response_at is None:
            sla.append(" (first response)", "dim")
        if v.escalated_to:
            sla.append(f" · escalated to {v.escalated_to} (level {v.escalation})", "bold red")
        for label, value in (
            ("priority", Text(v.priority, style=PRIORITY_STYLE.get(v.priority, ""))),
            ("status", v.status),
            ("owner", v.owner or "nobody"),
            ("SLA", sla),
            ("due", fmt.local(v.due_at, tz)),
            ("opened", fmt.local(v.created_at, tz)),
            ("responded", fmt.local(v.first_response_at, tz)),
            ("resolved", fmt.local(v.resolved_at, tz)),
            ("closed", fmt.local(v.closed_at, tz)),
            ("solution", v.solution or ""),
            ("CSAT", f"{v.satisfaction}/5" if v.satisfaction else ""),
        ):
            if value:
                card.append(f"{label:>10}  ", style="dim")
                card.append(value if isinstance(value, Text) else str(value))
                card.append("\n")
        if v.body:
            card.append("\nDetails\n", style="bold")
            card.append(v.body + "\n")
        card.append(
            f"\nNotes · {len(v.notes)}\n" if v.notes else "\nNo notes yet: n logs one\n",
            style="bold",
        )
        for n in v.notes:
            card.append(f"{fmt.local(n.happened_at, tz)} {n.user or ''}\n", style="dim")
            card.append(f"  {' '.join(n.body.split())}\n")
        self.query_one("#case-fields", Static).update(card)
        rows: list[Row] = [
            (
                str(s.id),
                (
                    f"#{s.id} {s.title} ({s.contact})",
                    " ".join((s.solution or "").split()),
                    f"{s.satisfaction}/5" if s.satisfaction else "",
                ),
            )
            for s in message.detail.similar
        ]
        if not rows:
            rows = [("empty", ("no past case like this one yet", "", ""))]
        self.query_one("#similar", FittingTable).set_rows(rows)
        found = len(message.detail.similar)
        self.query_one("#similar-title", Static).update(
            f"Solved before · {plural(found, 'past case')} like this one · enter opens one"
            if found
            else "Solved before"
        )

    def current_case(self) -> CaseView | None:
        return self.detail.case if self.detail is not None else None

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        key = event.row_key.value
        if key and key.isdigit():
            self.app.push_screen(CaseScreen(int(key)))

    def action_reopen(self) -> None:
        from tinycrm.services.cases import reopen_case

        v = self._case()
        if v is None:
            return
        if v.status not in ("resolved", "closed"):
            self.notify(f"Case #{v.id} is {v.status}, not resolved or closed", severity="warning")
            return
        case_id, version = v.id, v.version
        run_db(
            self,
            lambda ctx: reopen_case(ctx, case_id, expected_version=version),
            self.Reopened,
            group="write",
            exclusive=False,
            writes=True,
        )

    def on_case_screen_reopened(self, message: Reopened) -> None:
        self.notify(f"Reopened case #{message.case.id} {message.case.title}")

    def action_back(self) -> None:
        self.app.pop_screen()
