"""The filter bar of the Contacts and Deals screens: a filter in the language of
`--where` (enter applies it, escape leaves it), a quick switch between the saved views of
the screen's records, and the filter's error under it, pointing at its column."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Select, Static

from tinycrm.services.views import View


class FilterBar(Vertical):
    """Says what the user asked for (Applied, ViewChosen); the screen runs the filter and
    reports back with `failed` or `applied`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", "Back to the list", show=False),
    ]

    class Applied(Message):
        """Enter in the filter box: show what `text` matches ('' for everything)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class ViewChosen(Message):
        """A saved view picked in the quick switch."""

        def __init__(self, view: View) -> None:
            super().__init__()
            self.view = view

    class Left(Message):
        """Escape in the filter bar: back to the list."""

    def __init__(self, placeholder: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.placeholder = placeholder
        self.views: dict[str, View] = {}
        # the view the quick switch shows as set by the screen: its Changed messages come
        # later, and must not count as the user picking it (nor may an older one, overtaken)
        self._shown: str | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(classes="filter-row"):
            yield Input(placeholder=self.placeholder, id="filter-text")
            yield Select[str]([], prompt="Views", id="filter-views", allow_blank=True)
        yield Static("", id="filter-error")

    @property
    def text(self) -> str:
        return self.query_one("#filter-text", Input).value.strip()

    def set_text(self, text: str) -> None:
        self.query_one("#filter-text", Input).value = text

    def set_views(self, views: list[View], current: str | None = None) -> None:
        """The views the quick switch offers (and the one shown as chosen)."""
        self.views = {v.name: v for v in views}
        select = self.query_one("#filter-views", Select)
        select.set_options([(v.name, v.name) for v in views])
        self._shown = current if current in self.views else None
        if self._shown is not None:
            select.value = self._shown

    def show_view(self, name: str | None) -> None:
        """Mark `name` as the view shown (None: none, the filter was changed by hand)."""
        select = self.query_one("#filter-views", Select)
        self._shown = name if name in self.views else None
        if self._shown is not None:
            select.value = self._shown
        else:
            select.clear()

    def failed(self, text: str, error: Exception) -> None:
        """Say why `text` can't be read, with a caret under the column it points at."""
        column = getattr(error, "column", None)
        problem = getattr(error, "problem", str(error))
        line = Text()
        if column is not None:
            line.append(f"{text}\n", style="bold")
            line.append(" " * (column - 1) + "^ ", style="bold red")
            line.append(f"column {column}: ")
        line.append(problem, style="red")
        error_box = self.query_one("#filter-error", Static)
        error_box.update(line)
        error_box.display = True
        self.query_one("#filter-text", Input).add_class("-invalid")

    def applied(self) -> None:
        """The filter was read: no error to show."""
        error_box = self.query_one("#filter-error", Static)
        error_box.update("")
        error_box.display = False
        self.query_one("#filter-text", Input).remove_class("-invalid")

    def on_mount(self) -> None:
        self.query_one("#filter-error", Static).display = False

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter-text":
            event.stop()
            self.post_message(self.Applied(event.value.strip()))

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter-text":
            event.stop()  # the screen's search box listens for its own changes

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        value = event.value
        current = self.query_one("#filter-views", Select).value
        if not isinstance(value, str) or value != current or value == self._shown:
            return  # set by the screen, or overtaken by a newer choice
        self._shown = value
        view = self.views.get(value)
        if view is not None:
            self.set_text(view.filter)
            self.post_message(self.ViewChosen(view))

    def action_leave(self) -> None:
        self.post_message(self.Left())
