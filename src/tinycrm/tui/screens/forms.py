"""Modal forms: a note, a reminder, a purchase, a snooze, a contact, a service case (open,
edit, close, assign, note); and a confirmation.

Each form checks what it can on the UI thread (dates in the WHEN language, amounts) and
shows the problem under the field; the service runs in a worker and its refusal
(InvalidInput, Conflict...) appears above the buttons. Enter in the last field or ctrl+s
saves, escape cancels.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.css.scalar import Scalar
from textual.message import Message
from textual.widgets import Button, Input, Label, Select, Static

from tinycrm.errors import Conflict, InvalidInput, TinyCRMError
from tinycrm.services.context import Ctx
from tinycrm.tui.screens.base import CRMModal, ScreenReady, run_db
from tinycrm.tui.widgets import format as fmt

if TYPE_CHECKING:
    from tinycrm.tui.data import Clock


def describe_when(clock: Clock, kind: str, text: str) -> str:
    """What a WHEN field's `text` reads as, as the CLI confirms it: 'Fri 11 Dec 15:00 (in
    5 days)'; a date ("day"): 'Mon 02 Nov 2026 (21 days ago)'. Raises InvalidInput."""
    from tinycrm.dates import format_when, parse_date

    now = clock.now()
    if kind == "day":
        today = clock.today()
        day = parse_date(text, today=today, past=True)
        days = (today - day).days
        ago = {0: "today", 1: "yesterday"}.get(days, f"{days} days ago")
        return f"{day:%a %d %b %Y} ({ago})"
    when = clock.when(text, past=kind == "past")
    return format_when(when, now=now, tz=clock.tz, past=kind == "past")


class FieldError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class Field:
    name: str
    label: str
    value: str = ""
    placeholder: str = ""
    choices: tuple[str, ...] = ()  # a Select instead of an Input
    # a WHEN, read as it is typed and shown under the field ("Fri 11 Dec 15:00 (in 5
    # days)"): "at" a time, "past" a time that has been, "day" a date that has been
    when: str = ""


Job = Callable[[Ctx], Any]


class FormModal(CRMModal[Any]):
    """A titled form; subclasses give `fields` and turn the values into a `Job`.

    The fields scroll when the form is taller than the terminal, the buttons below them
    stay in view; enter in any field saves. A WHEN field shows what it reads as while it
    is typed, and a field's error goes as soon as the field is changed."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
    ]
    title_text = ""
    fields: list[Field] = []
    taking_keys = False  # until the fields are there (keys typed before wait: TinyCRMApp)
    erred: set[str]  # fields showing an error from the last save

    class Saved(Message, bubble=False):
        def __init__(self, result: Any) -> None:
            super().__init__()
            self.result = result

    class SaveRefused(Message, bubble=False):
        def __init__(self, error: TinyCRMError) -> None:
            super().__init__()
            self.error = error

    class Previewed(Message, bubble=False):
        """What a WHEN field's `text` reads as (`ok`), or why it can't be read."""

        def __init__(self, field: str, text: str, line: str, ok: bool) -> None:
            super().__init__()
            self.field, self.text, self.line, self.ok = field, text, line, ok

    def compose(self) -> ComposeResult:
        self.erred = set()  # before any field can say it changed
        with Vertical(classes="form"):
            yield Label(self.title_text, classes="form-title")
            with VerticalScroll(classes="form-fields"):
                for f in self.fields:
                    yield Label(f.label, classes="field-label")
                    if f.choices:
                        yield Select(
                            [(c, c) for c in f.choices],
                            value=f.value or f.choices[0],
                            allow_blank=False,
                            id=f.name,
                        )
                    else:
                        yield Input(f.value, placeholder=f.placeholder, id=f.name)
                    if f.when:
                        yield Static("", id=f"{f.name}-preview", classes="field-preview")
                    yield Static("", id=f"{f.name}-error", classes="field-error")
            yield Static("", id="form-error", classes="field-error")
            with Horizontal(classes="buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        first = next(iter(self.query(Input)), None)
        if first is not None:
            self.set_focus(first)
        for f in self.fields:
            if f.when and f.value:
                self._preview(f, f.value)
        self.taking_keys = True
        self.app.post_message(ScreenReady())
        self.call_after_refresh(self._fit_height)

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit_height)

    def _fit_height(self) -> None:
        """The fields get what the terminal leaves beside the title, the store's refusal
        and the buttons, and scroll within it: Save and Cancel stay on the screen."""
        form = self.query_one(".form")
        fields = self.query_one(".form-fields")
        others = sum(
            w.outer_size.height + w.styles.margin.top + w.styles.margin.bottom
            for w in form.children
            if w is not fields
        )
        room = self.size.height - others - form.styles.gutter.height
        if fields.styles.max_height != Scalar.from_number(max(3, room)):
            fields.styles.max_height = max(3, room)

    def value(self, name: str) -> str:
        widget = self.query_one(f"#{name}")
        if isinstance(widget, Select):
            return str(widget.value)
        assert isinstance(widget, Input)
        return widget.value.strip()

    def build(self) -> Job:
        """What Save does, from the fields' values; every form (NoteForm, ReminderForm,
        PurchaseForm, SnoozeForm, ContactForm) defines it. Textual's screens have their own
        metaclass, so this is a plain abstract hook rather than an abc.abstractmethod."""
        raise NotImplementedError(f"{type(self).__name__} must define build()")

    def describe(self, result: Any) -> str:
        return "Saved"

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_cancel()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()  # every field is one line: enter means done

    def on_input_changed(self, event: Input.Changed) -> None:
        """A field changed: its error is stale (it is checked again on save); a WHEN
        field says what it reads as now."""
        name = event.input.id or ""
        self.erred.discard(name)
        with contextlib.suppress(NoMatches):
            self.query_one(f"#{name}-error", Static).update("")
        event.input.remove_class("-invalid")
        field = next((f for f in self.fields if f.name == name), None)
        if field is not None and field.when:
            self._preview(field, event.value.strip())

    # -- reading a WHEN as it is typed ------------------------------------------------------------
    def _preview(self, field: Field, text: str) -> None:
        """Read `text` in a thread (a rare phrase loads dateparser, a second's work) and
        show it under the field; only the newest text typed is shown."""
        if not text:
            self.query_one(f"#{field.name}-preview", Static).display = False
            return
        clock = self.crm.store.clock

        def read() -> None:
            try:
                line, ok = describe_when(clock, field.when, text), True
            except InvalidInput as e:
                line, ok = str(e), False
            self.post_message(self.Previewed(field.name, text, line, ok))

        self.run_worker(
            read, thread=True, exclusive=True, group=f"preview-{field.name}", exit_on_error=False
        )

    def on_form_modal_previewed(self, message: Previewed) -> None:
        if self.value(message.field) != message.text or message.field in self.erred:
            return  # typed on meanwhile (a newer reading is coming), or the error says it
        line = Text(f"→ {message.line}", style="" if message.ok else "italic")
        preview = self.query_one(f"#{message.field}-preview", Static)
        preview.update(line)
        preview.display = True

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _clear_errors(self) -> None:
        self.erred.clear()
        for error in self.query(".field-error"):
            assert isinstance(error, Static)
            error.update("")
        for widget in self.query(".-invalid"):
            widget.remove_class("-invalid")

    def action_save(self) -> None:
        self._clear_errors()
        try:
            job = self.build()
        except FieldError as e:
            self._field_failed(e.field, str(e))
            return
        except InvalidInput as e:
            self._failed(e)
            return
        self.query_one("#save", Button).disabled = True
        run_db(self, job, self.Saved, group="save", failed=self.SaveRefused, writes=True)

    def _field_failed(self, field: str, message: str) -> None:
        self.erred.add(field)
        with contextlib.suppress(NoMatches):  # the error says it: no reading above it
            self.query_one(f"#{field}-preview", Static).display = False
        self.query_one(f"#{field}-error", Static).update(message)
        widget = self.query_one(f"#{field}")
        widget.add_class("-invalid")
        self.set_focus(widget)

    def _failed(self, error: Exception) -> None:
        self.query_one("#save", Button).disabled = False
        self.query_one("#form-error", Static).update(str(error))
        self.call_after_refresh(self._fit_height)  # the message takes room from the fields

    def on_form_modal_save_refused(self, message: SaveRefused) -> None:
        self._failed(message.error)

    def on_form_modal_saved(self, message: Saved) -> None:
        """Saved: the store watcher's StoreChanged refreshes the screen underneath."""
        self.app.notify(self.describe(message.result))
        self.dismiss(message.result)

    # helpers for subclasses
    def said(self, when: Any, *, past: bool = False) -> str:
        """A time as the CLI confirms it: 'Fri 11 Dec 15:00 (in 5 days)'."""
        from tinycrm.dates import format_when

        clock = self.crm.store.clock
        return format_when(when, now=clock.now(), tz=clock.tz, past=past)

    def when(self, field: str, *, past: bool = False, required: bool = True) -> Any:
        text = self.value(field)
        if not text:
            if required:
                raise FieldError(field, "say when, e.g. tomorrow 9am, 3d or friday")
            return None
        try:
            return self.crm.store.clock.when(text, past=past)
        except InvalidInput as e:
            raise FieldError(field, str(e)) from None

    def text(self, field: str, what: str) -> str:
        text = self.value(field)
        if not text:
            raise FieldError(field, f"{what} can't be empty")
        return text


class NoteForm(FormModal):
    """Log a note, call, email or meeting (optionally with a follow-up reminder)."""

    title_text = "Log a note"

    def __init__(self, target: Any, label: str) -> None:
        self.target = target  # a tinycrm.refs.Target
        self.title_text = f"Log a note · {label}"
        self.fields = [
            Field("body", "What happened", placeholder="asked for a quote"),
            Field("kind", "Kind", "note", choices=("note", "call", "email", "meeting")),
            Field(
                "happened",
                "When",
                "now",
                placeholder="now, 2h ago, yesterday 15:00",
                when="past",
            ),
            Field(
                "follow_up",
                "Follow up (optional)",
                placeholder="friday, 3d, next week",
                when="at",
            ),
        ]
        super().__init__()

    def build(self) -> Job:
        from tinycrm.services.interactions import log_interaction

        body = self.text("body", "note text")
        kind = self.value("kind")
        happened = self.when("happened", past=True)
        follow_up = self.when("follow_up", required=False)
        target = self.target

        def job(ctx: Ctx) -> Any:
            return log_interaction(ctx, target, body, kind=kind, when=happened, follow_up=follow_up)

        return job

    def describe(self, result: Any) -> str:
        line = (
            f"Logged a {result.kind} · {result.target} · {self.said(result.happened_at, past=True)}"
        )
        if result.follow_up_at is not None:
            line += f" · follow-up {self.said(result.follow_up_at)}"
        return line


class ReminderForm(FormModal):
    title_text = "Set a reminder"

    def __init__(self, target: Any, label: str) -> None:
        self.target = target
        self.title_text = f"Set a reminder · {label}"
        self.fields = [
            Field("text", "Remind me to", placeholder="send the proposal"),
            Field(
                "due", "When", "tomorrow", placeholder="tomorrow 9am, friday, 3d, 明天", when="at"
            ),
            Field("every", "Repeat (optional)", placeholder="weekly, every mon, 15th of month"),
        ]
        super().__init__()

    def build(self) -> Job:
        from tinycrm.services.reminders import add_reminder

        text = self.text("text", "reminder text")
        due = self.when("due")
        every = self.value("every") or None
        if every:
            from tinycrm.dates import parse_recurrence

            try:
                parse_recurrence(every)
            except InvalidInput as e:
                raise FieldError("every", str(e)) from None
        target = self.target

        def job(ctx: Ctx) -> Any:
            return add_reminder(ctx, target, due, text, every=every)

        return job

    def describe(self, result: Any) -> str:
        return f"Reminder #{result.id} set: {result.text} · {self.said(result.due_at)}"


class PurchaseForm(FormModal):
    title_text = "Record a purchase"

    def __init__(self, contact_id: int, label: str) -> None:
        self.contact_id = contact_id
        self.title_text = f"Record a purchase · {label}"
        self.fields = [
            Field("amount", "Amount", placeholder="1200, 1,200.50 or $99"),
            Field("on", "Date", "today", placeholder="today, yesterday, 2026-11-01", when="day"),
            Field("note", "What was bought (optional)", placeholder="licences"),
        ]
        super().__init__()

    def build(self) -> Job:
        from tinycrm.dates import parse_date
        from tinycrm.money import parse_money
        from tinycrm.services.purchases import add_purchase

        try:
            # 0 is an order (a free sample); a negative amount a refund (docs/value.md)
            money = parse_money(
                self.value("amount"), usual=[self.crm.store.currency], allow_negative=True
            )
        except InvalidInput as e:
            raise FieldError("amount", str(e)) from None
        today = self.crm.store.clock.today()
        try:
            on = parse_date(self.value("on") or "today", today=today, past=True)
        except InvalidInput as e:
            raise FieldError("on", str(e)) from None
        note = self.value("note") or None
        contact_id = self.contact_id

        def job(ctx: Ctx) -> Any:
            return add_purchase(
                ctx, contact_id, money.cents, on=on, currency=money.currency, note=note
            )

        return job

    def describe(self, result: Any) -> str:
        from tinycrm.money import display_money

        if result.amount_cents < 0:
            amount = display_money(-result.amount_cents, result.currency)
            return f"Refund: {result.contact} got back {amount}"
        amount = display_money(result.amount_cents, result.currency)
        return f"Purchase: {result.contact} bought {amount} on {result.purchased_on:%a %d %b %Y}"


class SnoozeForm(FormModal):
    title_text = "Snooze"

    def __init__(self, reminder_id: int, label: str) -> None:
        self.reminder_id = reminder_id
        self.title_text = f"Snooze · {label}"
        self.fields = [
            Field(
                "until",
                "Until",
                "",
                placeholder="the next morning; or 2h, 2d, monday 9am",
                when="at",
            )
        ]
        super().__init__()

    def build(self) -> Job:
        from tinycrm.services.reminders import snooze

        self.when("until", required=False)  # a phrase it can't read is the field's error
        until = self.value("until") or None  # offsets count from the due time (the service)
        rid = self.reminder_id

        def job(ctx: Ctx) -> Any:
            return snooze(ctx, rid, until)

        return job

    def describe(self, result: Any) -> str:
        return f"Snoozed #{result.id} · {result.text} · until {self.said(result.due_at)}"


class ConfirmModal(CRMModal[bool]):
    """Yes or no; y/enter confirms, n/escape declines."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str, detail: str = "") -> None:
        super().__init__()
        self.question = question
        self.detail = detail

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            yield Label(self.question, classes="form-title")
            if self.detail:
                yield Static(self.detail)
            with Horizontal(classes="buttons"):
                yield Button("Yes (y)", variant="error", id="yes")
                yield Button("No (n)", id="no")

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#no", Button))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


def _split(text: str, sep: str | None = ",") -> list[str]:
    return [x.strip() for x in text.split(sep) if x.strip()]


class ContactForm(FormModal):
    """Add a contact, or edit one (`detail` given) with `contacts.save_contact`: only what
    changed is written, in one transaction, and only if nobody changed the contact since
    `detail` was read (its version); otherwise the refusal, naming who changed it, shows
    above the buttons."""

    def __init__(self, detail: Any = None, defs: Any = ()) -> None:
        self.detail = detail
        self.defs = list(defs)  # services.fields.FieldDef of contacts: a field each
        d = detail
        self.title_text = f"Edit {d.name}" if d else "Add a contact"
        self.fields = [
            Field("name", "Name", d.name if d else "", "Alice Wong"),
            Field("emails", "Emails (comma-separated)", ", ".join(d.emails) if d else ""),
            Field("phones", "Phones (comma-separated)", ", ".join(d.phones) if d else ""),
            Field("company", "Company", (d.company or "") if d else "", "ACME"),
            Field("title", "Title", (d.title or "") if d else "", "Head of purchasing"),
            Field("tags", "Tags (space-separated)", " ".join(d.tags) if d else "", "vip lead"),
            Field(
                "every",
                "Stay in touch every",
                f"{d.cadence_days}d" if d and d.cadence_days else "",
                "30d, 2w (empty: no cadence of its own)",
            ),
            Field("notes", "Notes", (d.notes or "") if d else ""),
        ]
        have = {v.name: fmt.custom_text(v.value) for v in (d.fields if d else [])}
        self.was = {f.name: have.get(f.name, "") for f in self.defs}
        for i, f in enumerate(self.defs):
            hint = {
                "choice": "one of " + ", ".join(f.choices),
                "bool": "yes or no",
                "date": "2027-03-01, next friday",
                "money": "12000, $12,000.50",
                "number": "120, 12.5",
            }.get(f.type, "")
            label = f.name + (" (required)" if f.required else "")
            self.fields.append(Field(f"custom-{i}", label, self.was[f.name], hint))
        self._refused: tuple[str, tuple[str, ...], tuple[str, ...]] | None = None
        super().__init__()

    def _cadence(self) -> int | None:
        text = self.value("every")
        if not text or text.lower() in ("none", "off", "0"):
            return None
        from tinycrm.dates import parse_duration

        try:
            days = parse_duration(text).days
        except InvalidInput as e:
            raise FieldError("every", str(e)) from None
        if days < 1:
            raise FieldError("every", "a cadence is at least a day: 1d, 2w, 1mo")
        return days

    def build(self) -> Job:
        from tinycrm.services import contacts

        name = self.text("name", "the name")
        emails, phones = _split(self.value("emails")), _split(self.value("phones"))
        tags = contacts.normalize_tags(_split(self.value("tags"), None))
        company, title, notes = self.value("company"), self.value("title"), self.value("notes")
        cadence = self._cadence()
        d = self.detail
        custom: dict[str, str] = {}
        unset: list[str] = []
        for i, f in enumerate(self.defs):  # only what the form changed
            now = self.value(f"custom-{i}")
            if now != self.was[f.name]:
                if now:
                    custom[f.name] = now
                else:
                    unset.append(f.name)
        # a look-alike already in the store is refused once; saving the same again adds it
        # anyway (the CLI asks merge/skip/create; here the message names the match)
        attempt = (name, tuple(emails), tuple(phones))
        anyway = d is None and self._refused == attempt

        def save(ctx: Ctx) -> Any:
            try:
                return contacts.save_contact(
                    ctx,
                    d.id if d else None,
                    name=name,
                    emails=emails,
                    phones=phones,
                    company=company,
                    title=title,
                    tags=tags,
                    notes=notes,
                    cadence_days=cadence,
                    expected_version=d.version if d else None,
                    allow_duplicate=anyway,
                    custom=custom,
                    unset=unset,
                )
            except Conflict as e:
                if d is not None:
                    raise
                self._refused = attempt
                raise Conflict(f"{e}. Save again to add it anyway.") from None

        return save

    def describe(self, result: Any) -> str:
        return f"Saved {self.value('name')}"


# -- correcting a note, reminder, purchase or deal (e) -----------------------------------------
class _EditForm(FormModal):
    """An edit form filled from a record read with its version: only the fields changed
    are written, and only if nobody changed the record since (else the refusal, naming
    who changed it, shows above the buttons)."""

    def local(self, when: Any) -> str:
        return str(when.astimezone(self.crm.store.clock.tz).strftime("%Y-%m-%d %H:%M"))

    def nothing(self) -> Job:
        raise InvalidInput("nothing changed: change a field, or escape to cancel")


class InteractionEditForm(_EditForm):
    def __init__(self, view: Any) -> None:
        self.view = view  # services.interactions.InteractionView
        self.title_text = f"Edit {view.kind} #{view.id} · {view.contact or view.company or ''}"
        self.fields = [
            Field("body", "What happened", view.body),
            Field("kind", "Kind", view.kind, choices=("note", "call", "email", "meeting")),
            Field("happened", "When", "", "now, 2h ago, yesterday 15:00", when="past"),
        ]
        super().__init__()

    def on_mount(self) -> None:
        self.query_one("#happened", Input).value = self.local(self.view.happened_at)

    def build(self) -> Job:
        from tinycrm.services.interactions import edit_interaction

        v = self.view
        body = self.text("body", "note text")
        kind = self.value("kind")
        happened = self.when("happened", past=True)
        changes: dict[str, Any] = {}
        if body != v.body.strip():
            changes["text"] = body
        if kind != v.kind:
            changes["kind"] = kind
        if self.value("happened") != self.local(v.happened_at):
            changes["when"] = happened
        if not changes:
            return self.nothing()

        def job(ctx: Ctx) -> Any:
            return edit_interaction(ctx, v.id, **changes, expected_version=v.version)

        return job

    def describe(self, result: Any) -> str:
        return f"Updated {result.kind} #{result.id}"


class ReminderEditForm(_EditForm):
    def __init__(self, view: Any) -> None:
        self.view = view  # services.reminders.ReminderView
        about = f" · {view.target}" if view.target else ""
        self.title_text = f"Edit reminder #{view.id}{about}"
        self.fields = [
            Field("text", "Remind me to", view.text),
            Field("due", "When", "", "tomorrow 9am, friday, 3d", when="at"),
            Field("every", "Repeat (empty: no repeat)", view.recurrence or "", "weekly, 2w"),
        ]
        super().__init__()

    def on_mount(self) -> None:
        self.query_one("#due", Input).value = self.local(self.view.due_at)

    def build(self) -> Job:
        from tinycrm.services.reminders import edit_reminder

        v = self.view
        text = self.text("text", "reminder text")
        due = self.when("due")
        every = self.value("every")
        changes: dict[str, Any] = {}
        if text != v.text:
            changes["text"] = text
        if self.value("due") != self.local(v.due_at):
            changes["due"] = due
        if every != (v.recurrence or ""):
            if every:
                from tinycrm.dates import parse_recurrence

                try:
                    parse_recurrence(every)
                except InvalidInput as e:
                    raise FieldError("every", str(e)) from None
                changes["every"] = every
            else:
                changes["no_repeat"] = True
        if not changes:
            return self.nothing()

        def job(ctx: Ctx) -> Any:
            return edit_reminder(ctx, v.id, **changes, expected_version=v.version)

        return job

    def describe(self, result: Any) -> str:
        return f"Updated reminder #{result.id}: {result.text}"


class PurchaseEditForm(_EditForm):
    def __init__(self, view: Any) -> None:
        from tinycrm.money import format_cents

        self.view = view  # services.purchases.PurchaseView
        self.title_text = f"Edit purchase #{view.id} · {view.contact}"
        self.fields = [
            Field("amount", f"Amount ({view.currency})", format_cents(view.amount_cents)),
            Field("on", "Date", view.purchased_on.isoformat(), when="day"),
            Field("note", "What was bought", view.note or ""),
        ]
        super().__init__()

    def build(self) -> Job:
        from tinycrm.dates import parse_date
        from tinycrm.services.purchases import edit_purchase

        v = self.view
        try:
            from tinycrm.money import parse_money

            # 0 is an order, a negative amount a refund (docs/value.md)
            money = parse_money(self.value("amount"), usual=[v.currency], allow_negative=True)
        except InvalidInput as e:
            raise FieldError("amount", str(e)) from None
        try:
            on = parse_date(self.value("on"), today=self.crm.store.clock.today(), past=True)
        except InvalidInput as e:
            raise FieldError("on", str(e)) from None
        note = self.value("note")
        changes: dict[str, Any] = {}
        if money.cents != v.amount_cents:
            changes["amount_cents"] = money.cents
        if money.currency and money.currency != v.currency:
            changes["currency"] = money.currency
        if on != v.purchased_on:
            changes["on"] = on
        if note != (v.note or ""):
            changes["note"] = note
        if not changes:
            return self.nothing()

        def job(ctx: Ctx) -> Any:
            return edit_purchase(ctx, v.id, **changes, expected_version=v.version)

        return job

    def describe(self, result: Any) -> str:
        return f"Updated purchase #{result.id}"


class DealEditForm(_EditForm):
    def __init__(self, view: Any) -> None:
        from tinycrm.money import format_cents

        self.view = view  # services.deals.DealView
        self.title_text = f"Edit deal #{view.id}"
        self.fields = [
            Field("title", "Title", view.title),
            Field("value", f"Value ({view.currency})", format_cents(view.value_cents)),
            Field("probability", "Probability %", str(view.probability)),
            Field(
                "close",
                "Expected close",
                view.expected_close.isoformat() if view.expected_close else "",
                "end of month, 2026-12-31",
            ),
        ]
        super().__init__()

    def build(self) -> Job:
        from tinycrm.dates import parse_date
        from tinycrm.money import parse_money
        from tinycrm.services.deals import edit_deal

        v = self.view
        title = self.text("title", "the title")
        try:
            money = parse_money(self.value("value"), usual=[v.currency])
        except InvalidInput as e:
            raise FieldError("value", str(e)) from None
        raw = self.value("probability")
        if not raw.isdigit() or not 0 <= int(raw) <= 100:
            raise FieldError("probability", "a whole number from 0 to 100")
        close = None
        if self.value("close"):
            try:
                close = parse_date(self.value("close"), today=self.crm.store.clock.today())
            except InvalidInput as e:
                raise FieldError("close", str(e)) from None
        changes: dict[str, Any] = {}
        if title != v.title:
            changes["title"] = title
        if money.cents != v.value_cents:
            changes["value_cents"] = money.cents
        if money.currency and money.currency != v.currency:
            changes["currency"] = money.currency
        if int(raw) != v.probability:
            changes["probability"] = int(raw)
        if close is not None and close != v.expected_close:
            changes["expected_close"] = close
        if not changes:
            return self.nothing()

        def job(ctx: Ctx) -> Any:
            return edit_deal(ctx, v.id, **changes, expected_version=v.version)

        return job

    def describe(self, result: Any) -> str:
        return f"Updated deal #{result.id} {result.title}"


# -- service cases ------------------------------------------------------------------------------
PRIORITIES = ("normal", "high", "urgent", "low")


class CaseForm(FormModal):
    """Open a service case for a contact."""

    def __init__(self, target: Any, label: str) -> None:
        self.target = target  # a tinycrm.refs.Target (a contact)
        self.title_text = f"Open a case · {label}"
        self.fields = [
            Field("title", "What the customer needs", placeholder="printer prints blank pages"),
            Field("body", "Details (optional)", placeholder="model, error, since when"),
            Field("priority", "Priority", "normal", choices=PRIORITIES),
            Field("due", "Deadline of its own (optional)", placeholder="friday 17:00", when="at"),
            Field("owner", "Owner (empty: you)", placeholder="a user's name"),
        ]
        super().__init__()

    def build(self) -> Job:
        from tinycrm.services.cases import add_case

        title = self.text("title", "the case's title")
        body = self.value("body") or None
        priority = self.value("priority")
        due = self.when("due", required=False)
        owner = self.value("owner") or None
        target = self.target

        def job(ctx: Ctx) -> Any:
            return add_case(ctx, target, title, priority=priority, body=body, due=due, owner=owner)

        return job

    def describe(self, result: Any) -> str:
        return f"Opened case #{result.id} {result.title} ({result.priority})"


class CaseEditForm(_EditForm):
    """A case's title, details, priority, status (not closed: `c` closes it) and deadline."""

    def __init__(self, view: Any) -> None:
        self.view = view  # services.cases.CaseView
        self.title_text = f"Edit case #{view.id} · {view.contact}"
        self.fields = [
            Field("title", "Title", view.title),
            Field("body", "Details", view.body or ""),
            Field("priority", "Priority", view.priority, choices=PRIORITIES),
        ]
        if view.status != "closed":
            self.fields.append(
                Field("status", "Status", view.status, choices=("open", "waiting", "resolved"))
            )
        self.fields.append(
            Field("due", "Deadline of its own (empty: none)", "", "friday 17:00", when="at")
        )
        super().__init__()

    def on_mount(self) -> None:
        if self.view.due_at is not None:
            self.query_one("#due", Input).value = self.local(self.view.due_at)

    def build(self) -> Job:
        from tinycrm.services.cases import edit_case

        v = self.view
        title = self.text("title", "the case's title")
        due = self.when("due", required=False)
        changes: dict[str, Any] = {}
        if title != v.title:
            changes["title"] = title
        if self.value("body") != (v.body or "").strip():
            changes["body"] = self.value("body")
        if self.value("priority") != v.priority:
            changes["priority"] = self.value("priority")
        if v.status != "closed" and self.value("status") != v.status:
            changes["status"] = self.value("status")
        if self.value("due") != (self.local(v.due_at) if v.due_at else ""):
            if due is None:
                changes["clear_due"] = True
            else:
                changes["due"] = due
        if not changes:
            return self.nothing()

        def job(ctx: Ctx) -> Any:
            return edit_case(ctx, v.id, **changes, expected_version=v.version)

        return job

    def describe(self, result: Any) -> str:
        return f"Updated case #{result.id} {result.title} ({result.status})"


class CaseCloseForm(FormModal):
    """Close a case: how it was solved (it goes into the knowledge base) and the customer's
    satisfaction."""

    def __init__(self, view: Any) -> None:
        self.view = view
        self.title_text = f"Close case #{view.id} · {view.title}"
        self.fields = [
            Field("solution", "How it was solved", placeholder="replaced the toner cartridge"),
            Field(
                "satisfaction",
                "Customer satisfaction",
                "not asked",
                choices=("not asked", "5", "4", "3", "2", "1"),
            ),
        ]
        super().__init__()

    def build(self) -> Job:
        from tinycrm.services.cases import close_case

        solution = self.text("solution", "the solution")
        raw = self.value("satisfaction")
        score = int(raw) if raw.isdigit() else None
        v = self.view

        def job(ctx: Ctx) -> Any:
            return close_case(ctx, v.id, solution, satisfaction=score, expected_version=v.version)

        return job

    def describe(self, result: Any) -> str:
        return f"Closed case #{result.id} {result.title}"


class CaseAssignForm(FormModal):
    def __init__(self, view: Any) -> None:
        self.view = view
        self.title_text = f"Assign case #{view.id} · {view.title}"
        self.fields = [Field("user", f"Give it to (now {view.owner or 'nobody'})", "", "a name")]
        super().__init__()

    def build(self) -> Job:
        from tinycrm.services.cases import assign_case

        user = self.text("user", "the user's name")
        v = self.view

        def job(ctx: Ctx) -> Any:
            return assign_case(ctx, v.id, user, expected_version=v.version)

        return job

    def describe(self, result: Any) -> str:
        return f"Case #{result.id} is {result.owner}'s now"


class CaseNoteForm(FormModal):
    """A note on a case (on the contact's timeline too; the first is its first response)."""

    def __init__(self, view: Any) -> None:
        self.view = view
        self.title_text = f"Note on case #{view.id} · {view.contact}"
        self.fields = [Field("body", "What happened", placeholder="asked for the model number")]
        super().__init__()

    def build(self) -> Job:
        from tinycrm.services.cases import note_case

        body = self.text("body", "note text")
        case_id = self.view.id

        def job(ctx: Ctx) -> Any:
            return note_case(ctx, case_id, body)

        return job

    def describe(self, result: Any) -> str:
        return f"Logged a note on case #{result.id} {result.title}"


EDIT_FORMS: dict[str, type[_EditForm]] = {
    "interaction": InteractionEditForm,
    "reminder": ReminderEditForm,
    "purchase": PurchaseEditForm,
    "deal": DealEditForm,
    "case": CaseEditForm,
}
