"""A bar per open stage: its deals, value and weighted value, fitted to the width."""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from tinycrm.services.deals import StageTotal
from tinycrm.tui.widgets import format as fmt


class PipelineBars(Widget):
    DEFAULT_CSS = """
    PipelineBars {
        height: auto;
        padding: 0 1;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id)
        self.stages: list[StageTotal] = []
        self.currency = ""

    def show(self, stages: list[StageTotal], currency: str) -> None:
        self.stages = [s for s in stages if s.outcome == "open"]
        self.currency = currency
        self.refresh(layout=True)

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        return len(self.stages) + 2 if self.stages else 1

    def render(self) -> Text:
        stages = self.stages
        if not stages:
            return Text("no open stages", style="dim")
        width = self.content_size.width
        weighted = width >= 44  # room for the weighted column
        # a stage's name is never cut (the bar gives way); counts have separators
        name_width = min(max(12, width - 1 - 15 - 3), max(len(s.stage) for s in stages))
        numbers = 14 + (9 if weighted else 0)  # ' deals   value weighted'
        bar_width = max(3, min(20, width - name_width - 1 - numbers))
        biggest = max(s.value_cents for s in stages)
        out = Text(no_wrap=True, overflow="ellipsis")
        head = f"{'':<{name_width}} {'':<{bar_width}} {'deals':>5} {'value':>7}"
        out.append(head + (f" {'weighted':>8}" if weighted else "") + "\n", style="dim")
        for s in stages:
            out.append(f"{s.stage[:name_width]:<{name_width}} ")
            out.append(f"{fmt.bar(s.value_cents, biggest, bar_width):<{bar_width}}", style="green")
            out.append(f" {s.deals:>5,} {fmt.short_money(s.value_cents):>7}")
            if weighted:
                out.append(f" {fmt.short_money(s.weighted_cents):>8}", style="dim")
            out.append("\n")
        total = sum(s.value_cents for s in stages)
        out.append(f"{'open':<{name_width}} {self.currency:<{bar_width}}", style="bold")
        out.append(f" {sum(s.deals for s in stages):>5,} {fmt.short_money(total):>7}", style="bold")
        if weighted:
            weight = sum(s.weighted_cents for s in stages)
            out.append(f" {fmt.short_money(weight):>8}", style="bold")
        return out
