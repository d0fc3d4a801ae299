"""One contact, 360°: details, tags, company, open deals, purchases and value grade, the
products to offer them next (services.recommend), and the timeline of notes, purchases,
deal moves and service cases, newest first.

n logs a note, r sets a reminder, p records a purchase, c opens a service case; e edits the
highlighted note, purchase, deal or case of the timeline (E the contact), x deletes it,
enter opens a case; escape goes back.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Footer, Static

from tinycrm.refs import Target
from tinycrm.services.contacts import ContactDetail
from tinycrm.services.recommend import Recommendations
from tinycrm.text import plural
from tinycrm.tui import data
from tinycrm.tui.screens.base import run_db
from tinycrm.tui.screens.record_actions import RecordScreen
from tinycrm.tui.widgets import format as fmt
from tinycrm.tui.widgets.nav import NavBar
from tinycrm.tui.widgets.table import Column, FittingTable, Row

# The timeline's columns: the time and the kind never shrink (a cut time of day reads as
# another time), who wrote it goes first on a narrow terminal, the text takes the rest.
TIMELINE_COLUMNS = (
    Column("when", "When", 16, share=0),
    Column("kind", "What", 8, share=0),
    Column("text", "", 12, share=1),
    Column("by", "By", 4, share=0, goes=1),
)


class Timeline(FittingTable):
    """A contact's timeline, newest first: home and end go to the newest and the oldest
    entry (a DataTable's home and end would scroll sideways)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home,ctrl+home", "newest", "Newest", show=False),
        Binding("end,ctrl+end", "oldest", "Oldest", show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(TIMELINE_COLUMNS, **kwargs)

    def action_newest(self) -> None:
        if self.row_count:
            self.move_cursor(row=0)

    def action_oldest(self) -> None:
        if self.row_count:
            self.move_cursor(row=self.row_count - 1)


class ContactScreen(RecordScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back"),
        Binding("n", "note", "Note"),
        Binding("r", "remind", "Remind"),
        Binding("p", "purchase", "Purchase"),
        Binding("c", "case", "Case"),
        Binding("e", "edit_entry", "Edit entry"),
        Binding("x,delete", "delete_entry", "Delete entry", key_display="x"),
        Binding("E", "edit", "Edit contact", key_display="E"),
        Binding("f5", "reload", "Reload", show=False),
    ]

    def __init__(self, contact_id: int) -> None:
        super().__init__()
        self.contact_id = contact_id
        self.detail: ContactDetail | None = None
        self.field_defs: list[Any] = []  # custom fields of contacts, for the edit form
        self.pending: str | None = None  # an action asked for before the contact loaded

    class Loaded(Message, bubble=False):
        def __init__(self, detail: ContactDetail) -> None:
            super().__init__()
            self.detail = detail

    class GradeLoaded(Message, bubble=False):
        def __init__(self, grade: str) -> None:
            super().__init__()
            self.grade = grade

    class Recommended(Message, bubble=False):
        def __init__(self, found: Recommendations) -> None:
            super().__init__()
            self.found = found

    class FieldsLoaded(Message, bubble=False):
        def __init__(self, defs: list[Any]) -> None:
            super().__init__()
            self.defs = defs

    def compose(self) -> ComposeResult:
        yield NavBar("contacts")
        with Horizontal(id="contact"):
            with VerticalScroll(id="contact-card"):
                yield Static("Loading…", id="card")
                yield Static("", id="grade")
                offer = Static("", id="recommend")
                offer.display = False  # shown once there is something to offer
                yield offer
            yield Timeline(id="timeline", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.set_focus(self.query_one(Timeline))
        self.reload()

    def reload(self) -> None:
        super().reload()
        cid, store = self.contact_id, self.crm.store
        run_db(self, data.field_defs, self.FieldsLoaded, group="fields")
        run_db(self, lambda ctx: data.load_contact(ctx, cid), self.Loaded)
        run_db(
            self, lambda ctx: data.contact_grade(store, ctx, cid), self.GradeLoaded, group="grade"
        )
        run_db(
            self, lambda ctx: data.recommendations(ctx, cid), self.Recommended, group="recommend"
        )

    def action_reload(self) -> None:
        self.reload()

    def on_contact_screen_loaded(self, message: Loaded) -> None:
        from tinycrm.dates import important_day_text
        from tinycrm.money import parse_amount

        c = message.detail
        first = self.detail is None
        self.detail = c
        if first and self.pending is not None:
            self.call_after_refresh(self.run_action, self.pending)
            self.pending = None
        clock = self.crm.store.clock
        tz, now = clock.tz, clock.now()
        self.sub_title = c.name
        card = Text()
        card.append(c.name + "\n", style="bold")
        line = " · ".join(x for x in (c.title, c.company) if x)
        if line:
            card.append(line + "\n")
        card.append("\n")
        for label, value in (
            ("email", ", ".join(c.emails)),
            ("phone", ", ".join(c.phones)),
            ("tags", " ".join(f"#{t}" for t in c.tags)),
            ("owner", c.owner or ""),
            ("source", c.source or ""),
            ("cadence", f"every {c.cadence_days}d" if c.cadence_days else ""),
            ("last touch", fmt.ago(c.last_touch_at, now, tz)),
            ("birthday", important_day_text(c.birthday) if c.birthday else ""),
            ("annivers.", important_day_text(c.anniversary) if c.anniversary else ""),
        ):
            if value:
                card.append(f"{label:>10}  ", style="dim")
                card.append(value + "\n")
        for v in c.fields:  # custom fields, in their order
            card.append(f"{v.name:>10}  ", style="dim")
            card.append(fmt.custom_shown(v.value) + "\n")
        if c.next_reminder_at is not None:
            card.append(f"{'next':>10}  ", style="dim")
            card.append(fmt.due(c.next_reminder_at, now, tz))
            card.append(f" {c.next_reminder}\n")
        if c.purchases_count:
            totals = ", ".join(fmt.money(v.cents, v.currency) for v in c.purchases_total.values())
            card.append(f"{'bought':>10}  ", style="dim")
            card.append(f"{totals} in {plural(c.purchases_count, 'purchase')}\n")
            card.append(f"{'last buy':>10}  ", style="dim")
            card.append(f"{c.last_purchase_on}\n")
        if c.open_deals:
            card.append("\nOpen deals\n", style="bold")
            for d in c.open_deals:
                value = fmt.money(parse_amount(d.value), d.currency)
                card.append(f"  #{d.id} {d.title} · {d.stage} · {value}\n")
        if c.notes:
            card.append("\nNotes\n", style="bold")
            card.append(c.notes + "\n")
        if c.as_written:  # what an import could not read, kept (never markup: Text)
            card.append("\nKept as written\n", style="bold")
            for a in c.as_written:
                card.append(f"  {a.field}: {a.value}", style="")
                card.append(f"  ({a.why})\n", style="dim")
        self.query_one("#card", Static).update(card)
        table = self.query_one(Timeline)
        keep = table.cursor_row
        rows: list[Row] = [
            (
                f"{e.ref}:{i}",
                (
                    fmt.local(e.when, tz)[: 10 if e.kind == "purchase" else 16],
                    e.kind,
                    " ".join(e.text.split()) if e.text else "",  # its lines on one line
                    e.user or "",
                ),
            )
            for i, e in enumerate(c.timeline)
        ]
        if not c.timeline:
            rows = [("empty", ("", "", "nothing yet: n logs a note", ""))]
        table.set_rows(rows)
        if c.timeline and keep > 0:  # the entry just edited or deleted: stay there
            table.move_cursor(row=min(keep, len(rows) - 1))

    def on_contact_screen_fields_loaded(self, message: FieldsLoaded) -> None:
        self.field_defs = message.defs

    def on_contact_screen_grade_loaded(self, message: GradeLoaded) -> None:
        self.query_one("#grade", Static).update(Text(message.grade, style="bold"))

    def on_contact_screen_recommended(self, message: Recommended) -> None:
        found = message.found
        text = Text()
        if found.products:
            text.append("\nOffer next\n", style="bold")
            for r in found.products:
                text.append(f"  {r.label}")
                text.append(f"  {r.score:.2f}\n", style="dim")
        offer = self.query_one("#recommend", Static)
        offer.update(text)
        offer.display = bool(found.products)

    def _target(self) -> tuple[Target, str] | None:
        if self.detail is None:
            return None

        return Target("contact", self.detail.id, self.detail.name), self.detail.name

    def action_back(self) -> None:
        self.app.pop_screen()

    def _later(self, action: str) -> bool:
        """True (and the action kept for when it has loaded) while the contact loads."""
        if self.detail is None:
            self.pending = action
            return True
        return False

    def action_note(self) -> None:
        from tinycrm.tui.screens.forms import NoteForm

        if self._later("note"):
            return
        target = self._target()
        if target is not None:
            self.app.push_screen(NoteForm(*target))

    def action_remind(self) -> None:
        from tinycrm.tui.screens.forms import ReminderForm

        if self._later("remind"):
            return
        target = self._target()
        if target is not None:
            self.app.push_screen(ReminderForm(*target))

    def action_purchase(self) -> None:
        from tinycrm.tui.screens.forms import PurchaseForm

        if self._later("purchase"):
            return
        if self.detail is not None:
            self.app.push_screen(PurchaseForm(self.detail.id, self.detail.name))

    def action_case(self) -> None:
        """Open a service case for the contact."""
        from tinycrm.tui.screens.forms import CaseForm

        if self._later("case"):
            return
        target = self._target()
        if target is not None:
            self.app.push_screen(CaseForm(*target))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """enter on a case of the timeline opens it."""
        event.stop()
        entry = self._entry()
        if entry is not None and entry[0] == "case":
            self.crm.open_case(entry[1])

    def _entry(self) -> tuple[str, int] | None:
        """The highlighted timeline entry as (kind, id): a note, a purchase or a deal."""
        table = self.query_one(Timeline)
        if self.detail is None or not self.detail.timeline or table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value or ""
        kind, _, rest = key.partition(":")
        return kind, int(rest.partition(":")[0])

    def action_edit_entry(self) -> None:
        """e: the highlighted note, purchase or deal; the contact when there is none."""
        if self._later("edit_entry"):
            return
        entry = self._entry()
        if entry is None:
            self.action_edit()
        else:
            self.edit_record(*entry)

    def action_delete_entry(self) -> None:
        if self._later("delete_entry"):
            return
        entry = self._entry()
        if entry is None:
            self.notify("Nothing highlighted in the timeline", severity="warning")
        else:
            self.delete_record(*entry)

    def action_edit(self) -> None:
        from tinycrm.tui.screens.forms import ContactForm

        if self._later("edit"):
            return
        if self.detail is not None:
            self.app.push_screen(ContactForm(self.detail, self.field_defs))
