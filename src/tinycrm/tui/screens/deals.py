"""Deals: the pipeline as a board, one column per open stage, with each column's count,
total and weighted total. shift+←/→ moves the highlighted deal a stage, m picks a stage,
w marks it won, l lost (with a reason), e edits it, x deletes it (asking first), i shows its
line items and totals; ←/→ change column; enter opens the contact.
Rotting deals (idle past their stage's rot days) are marked. The filter bar (f) takes the
language of `deal list --where`; ctrl+s saves the filter and order as a view of deals, and
the views switch from the bar (v picks the next one).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option, OptionDoesNotExist

from tinycrm.errors import InvalidInput, TinyCRMError
from tinycrm.services.context import Ctx
from tinycrm.services.deals import DealView
from tinycrm.services.views import View
from tinycrm.text import plural
from tinycrm.tui import data
from tinycrm.tui.data import Board
from tinycrm.tui.screens.base import CRMModal, run_db
from tinycrm.tui.screens.forms import Field, FormModal, Job
from tinycrm.tui.screens.record_actions import RecordScreen
from tinycrm.tui.widgets import format as fmt
from tinycrm.tui.widgets.filter_bar import FilterBar
from tinycrm.tui.widgets.nav import NavBar


class StageColumn(OptionList):
    """The deals of one stage."""

    def __init__(self, stage: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stage = stage


class DealsScreen(RecordScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("shift+right", "move(1)", "Move →", key_display="⇧→"),
        Binding("shift+left", "move(-1)", "Move ←", key_display="⇧←"),
        Binding("m", "pick", "Move to…"),
        Binding("w", "won", "Won"),
        Binding("l", "lost", "Lost"),
        Binding("left", "column(-1)", "Column ←", show=False),
        Binding("right", "column(1)", "Column →", show=False),
        Binding("n", "note", "Note"),
        Binding("e", "edit", "Edit"),
        Binding("i", "items", "Items"),
        Binding("x,delete", "delete", "Delete", key_display="x"),
        Binding("f", "filter", "Filter"),
        Binding("v", "next_view", "Views"),
        Binding("ctrl+s", "save_view", "Save view"),
        Binding("f5", "reload", "Reload", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.where = ""  # the filter the board shows (read without an error)
        self.pending: str | None = None  # a filter asked for, not yet read
        self.status_text = ""  # the line under the board, as the last board read left it
        self.order = "stage"  # how each column is sorted (services.deals.DEAL_ORDERS)
        self.view: View | None = None  # the saved view shown, if it still is one
        self.board: Board | None = None
        self.deals: dict[int, DealView] = {}
        self.follow: int | None = None  # the deal to highlight after the next load
        self.mounted_stages: list[str] = []
        self._writing = threading.Lock()  # the board's own changes, one at a time
        self._written: dict[int, DealView] = {}  # each deal as this board last wrote it

    class Loaded(Message, bubble=False):
        def __init__(self, board: Board) -> None:
            super().__init__()
            self.board = board

    class LoadRefused(Message, bubble=False):
        """The board could not be read with the filter asked for (`where`)."""

        def __init__(self, where: str, error: TinyCRMError) -> None:
            super().__init__()
            self.where = where
            self.error = error

    class ViewsLoaded(Message, bubble=False):
        def __init__(self, views: list[View]) -> None:
            super().__init__()
            self.views = views

    class DealChanged(Message, bubble=False):
        def __init__(self, note: str) -> None:
            super().__init__()
            self.note = note

    class ChangeRefused(Message, bubble=False):
        def __init__(self, error: TinyCRMError) -> None:
            super().__init__()
            self.error = error

    class ItemsLoaded(Message, bubble=False):
        def __init__(self, deal: DealView) -> None:
            super().__init__()
            self.deal = deal

    def compose(self) -> ComposeResult:
        yield NavBar("deals")
        yield FilterBar(
            "f filter: value>10000 and close<2027-03-01 · enter applies",
            id="filter-bar",
        )
        yield Horizontal(id="board")
        yield Static("", id="board-status")
        yield Footer()

    def on_mount(self) -> None:
        self.reload()

    def reload(self) -> None:
        super().reload()
        current = self._current()
        if current is not None and self.follow is None:
            self.follow = current.id
        self._load(self.where)
        run_db(self, lambda ctx: data.load_views(ctx, "deals"), self.ViewsLoaded, group="views")

    def _load(self, where: str, *, asked: bool = False) -> None:
        """Read the board with `where`; `asked`: a filter just applied (its error shows)."""
        if asked:
            self.pending = where
            self._say(f"filtering: {where}…" if where else "…", keep=False)
        order = self.order

        def refused(error: TinyCRMError) -> DealsScreen.LoadRefused:
            return self.LoadRefused(where, error)

        run_db(self, lambda ctx: data.load_board(ctx, where, order), self.Loaded, failed=refused)

    def action_reload(self) -> None:
        self.reload()

    def _say(self, text: str, *, keep: bool = True) -> None:
        """The line under the board (`keep`: what to go back to after a filter fails)."""
        if keep:
            self.status_text = text
        self.query_one("#board-status", Static).update(text)

    def on_deals_screen_load_refused(self, message: LoadRefused) -> None:
        if isinstance(message.error, InvalidInput) and message.where == self.pending:
            self.pending = None
            self.query_one(FilterBar).failed(message.where, message.error)
            self._say(self.status_text)
        else:
            self.crm.show_error(message.error)

    async def on_deals_screen_loaded(self, message: Loaded) -> None:
        board = message.board
        if board.where == self.pending:
            self.pending = None
            self.query_one(FilterBar).applied()
        self.where = board.where
        self.board = board
        self.deals = {}
        now = self.crm.store.clock.now()
        column = self._focused_column()
        focus_stage = column.stage if column else None
        names = [s.stage for s in board.stages]
        if names != self.mounted_stages:  # the first time, or the pipeline was edited
            self.mounted_stages = names
            box = self.query_one("#board", Horizontal)
            await box.remove_children()
            await box.mount_all(
                Vertical(
                    Static("", classes="column-title"),
                    StageColumn(name, classes="column"),
                    Static("", classes="more"),
                    classes="stage",
                )
                for name in names
            )
        for s, stage_box in zip(board.stages, self.query(".stage"), strict=True):
            title = Text()
            title.append(f"{s.stage}\n", style="bold")
            if board.matching is not None:  # filtered: how many match, of all in the stage
                title.append(f"{board.matching.get(s.stage, 0):,} of {s.all_deals:,} match")
            else:
                title.append(f"{s.deals:,} · {fmt.short_money(s.value_cents)}")
                title.append(f" · ~{fmt.short_money(s.weighted_cents)}", style="dim")
            stage_box.query_one(".column-title", Static).update(title)
            options = []
            for d in board.deals.get(s.stage, []):
                self.deals[d.id] = d
                card = Text()
                card.append(d.title, style="bold")
                if d.rots_at is not None and d.rots_at <= now:
                    card.append(" ⚠ rotting", style="bold red")
                card.append(f"\n{fmt.money(d.value_cents, d.currency)}")
                who = d.contact or d.company
                if who:
                    card.append(f" · {who}", style="dim")
                options.append(Option(card, id=str(d.id)))
            column_list = stage_box.query_one(StageColumn)
            keep = column_list.highlighted
            column_list.clear_options()
            column_list.add_options(options)
            if options:
                column_list.highlighted = min(keep or 0, len(options) - 1)
            # every currency, as the column lists
            more = (s.all_deals if board.matching is None else board.matching[s.stage]) - len(
                options
            )
            stage_box.query_one(".more", Static).update(
                f"… {more:,} more (tinycrm deal list)" if more > 0 else ""
            )
        self._restore(focus_stage)
        total = sum(s.value_cents for s in board.stages)
        weighted = sum(s.weighted_cents for s in board.stages)
        others: dict[str, int] = {}
        for s in board.stages:
            for cur, cents in s.other_cents.items():
                others[cur] = others.get(cur, 0) + cents
        also = "".join(f" + {fmt.money(c, cur)}" for cur, c in sorted(others.items()))
        weighed = f"weighted {fmt.money(weighted, board.currency)}"
        shown = f" · view {self.view.name}" if self.view else ""
        if board.matching is not None:
            matched = sum(board.matching.values())
            shown = shown or " · filtered"
            self._say(
                f"{plural(matched, 'open deal')} match{'es' if matched == 1 else ''}"
                f" {board.where!r}{shown} · f filter · v views · ctrl+s saves"
            )
            return
        self._say(
            f"{plural(sum(s.all_deals for s in board.stages), 'open deal')}"
            f" · {fmt.money(total, board.currency)}{also}"
            f" · {weighed}{f' (in {board.currency} only)' if others else ''}{shown}"
        )

    # -- the filter bar and saved views -------------------------------------------------------
    def on_deals_screen_views_loaded(self, message: ViewsLoaded) -> None:
        self.query_one(FilterBar).set_views(message.views, self.view.name if self.view else None)

    def action_filter(self) -> None:
        self.set_focus(self.query_one("#filter-text", Input))

    def on_filter_bar_left(self, message: FilterBar.Left) -> None:
        self._restore(None)

    def on_filter_bar_applied(self, message: FilterBar.Applied) -> None:
        if self.view is not None and self.view.filter != message.text:
            self.view = None
            self.query_one(FilterBar).show_view(None)
        self._load(message.text, asked=True)

    def on_filter_bar_view_chosen(self, message: FilterBar.ViewChosen) -> None:
        self.show_saved(message.view)

    def show_saved(self, view: View | None) -> None:
        """Show a saved view (its filter and order), or every open deal again."""
        self.view = view
        bar = self.query_one(FilterBar)
        bar.set_text(view.filter if view else "")
        bar.show_view(view.name if view else None)
        self.order = (view.sort if view else None) or "stage"
        self._load(view.filter if view else "", asked=True)

    def action_next_view(self) -> None:
        """The next saved view of deals, by name (after the last: every open deal)."""
        views = self.query_one(FilterBar).views
        names = sorted(views, key=str.casefold)
        if not names:
            self.app.notify("No saved views of deals yet: f filters, ctrl+s saves it as a view")
            return
        index = names.index(self.view.name) + 1 if self.view and self.view.name in names else 0
        self.show_saved(views[names[index]] if index < len(names) else None)

    def action_save_view(self) -> None:
        from tinycrm.tui.screens.forms import SaveViewForm

        def saved(result: Any) -> None:
            if result is not None:
                self.view = result.view
                run_db(
                    self,
                    lambda ctx: data.load_views(ctx, "deals"),
                    self.ViewsLoaded,
                    group="views",
                )

        columns = list(self.view.columns) if self.view and self.view.columns else None
        self.app.push_screen(
            SaveViewForm(
                "deals", self.where, self.order, columns, name=self.view.name if self.view else ""
            ),
            saved,
        )

    def _restore(self, stage: str | None) -> None:
        columns = list(self.query(StageColumn))
        if not columns:
            return
        target = next((c for c in columns if c.stage == stage), columns[0])
        if self.follow is not None:
            for c in columns:
                try:
                    index = c.get_option_index(str(self.follow))
                except OptionDoesNotExist:
                    continue
                target = c
                target.highlighted = index
                break
            self.follow = None
        if target.highlighted is None and target.option_count:
            target.highlighted = 0
        self.set_focus(target)

    # -- moving around ------------------------------------------------------------------------
    def _focused_column(self) -> StageColumn | None:
        return self.focused if isinstance(self.focused, StageColumn) else None

    def _current(self) -> DealView | None:
        column = self._focused_column()
        if column is None or column.highlighted is None or not column.option_count:
            return None
        option_id = column.get_option_at_index(column.highlighted).id
        return self.deals.get(int(option_id)) if option_id else None

    def action_column(self, step: int) -> None:
        columns = list(self.query(StageColumn))
        column = self._focused_column()
        if not columns:
            return
        index = columns.index(column) if column in columns else 0
        target = columns[max(0, min(len(columns) - 1, index + step))]
        if target.highlighted is None and target.option_count:
            target.highlighted = 0
        self.set_focus(target)

    # -- changing deals -----------------------------------------------------------------------
    # Every change passes the version of the deal the user acted on, so a deal someone else
    # moved or edited since the board was read is refused (and the board re-read) instead of
    # being overwritten. The board's own changes run one at a time and each builds on the
    # version the previous one wrote, so pressing shift+→ three times quickly moves a deal
    # three stages, not once plus two false conflicts.
    def newest(self, deal: DealView) -> DealView:
        """`deal` as last written from this board, if that is newer than what was shown."""
        mine = self._written.get(deal.id)
        return mine if mine is not None and mine.version > deal.version else deal

    def _change(
        self, deal: DealView, change: Callable[[Ctx, DealView], DealView], message: str
    ) -> None:
        self.follow = deal.id

        def job(ctx: Ctx) -> DealView:
            with self._writing:
                result = change(ctx, self.newest(deal))
                self._written[result.id] = result
                return result

        run_db(
            self,
            job,
            lambda result: self.DealChanged(message.format(stage=result.stage)),
            group="write",
            exclusive=False,
            failed=self.ChangeRefused,
            writes=True,
        )

    def on_deals_screen_deal_changed(self, message: DealChanged) -> None:
        self.notify(message.note)

    def on_deals_screen_change_refused(self, message: ChangeRefused) -> None:
        """Refused (changed meanwhile, say): nothing was written; read the board again to
        show where the deal is now."""
        self.crm.show_error(message.error)
        self.reload()

    def _stage_after(self, deal: DealView, step: int) -> str:
        """The open stage `step` columns from the deal's; InvalidInput past either end."""
        names = [s.stage for s in self.board.stages] if self.board else []
        index = names.index(deal.stage) + step if deal.stage in names else -1
        if not 0 <= index < len(names):
            hint = "w marks it won, l lost" if step > 0 else "it is in the first stage"
            raise InvalidInput(f"{deal.title}: {hint}")
        return names[index]

    def action_move(self, step: int) -> None:
        deal = self._current()
        if deal is None:
            return
        try:
            self._stage_after(self.newest(deal), step)
        except InvalidInput as e:
            self.notify(str(e), severity="warning")
            return
        from tinycrm.services.deals import move_deal

        def move(ctx: Ctx, now: DealView) -> DealView:
            stage = self._stage_after(now, step)
            return move_deal(ctx, now.id, stage, expected_version=now.version)

        self._change(deal, move, f"{deal.title} → {{stage}}")

    def action_won(self) -> None:
        deal = self._current()
        if deal is None:
            return
        from tinycrm.services.deals import close_deal

        def won(ctx: Ctx, now: DealView) -> DealView:
            return close_deal(ctx, now.id, "won", expected_version=now.version)

        self._change(deal, won, f"Won: {deal.title} 🎉")

    def _lost_form(self, deal: DealView) -> LostForm:
        return LostForm(deal.id, deal.title, lambda: self.newest(deal).version)

    def action_lost(self) -> None:
        deal = self._current()
        if deal is not None:
            self.app.push_screen(self._lost_form(deal))

    def action_pick(self) -> None:
        deal, board = self._current(), self.board
        if deal is None or board is None:
            return
        from tinycrm.services.deals import move_deal

        def picked(stage: str | None) -> None:
            if stage and stage != deal.stage:
                if stage == "Lost":
                    self.app.push_screen(self._lost_form(deal))
                    return

                def move(ctx: Ctx, now: DealView) -> DealView:
                    return move_deal(ctx, now.id, stage, expected_version=now.version)

                self._change(deal, move, f"{deal.title} → {{stage}}")

        stages = [s.stage for s in board.stages] + ["Won", "Lost"]
        self.app.push_screen(StagePicker(deal.title, stages, deal.stage), picked)

    def action_note(self) -> None:
        deal = self._current()
        if deal is None:
            return
        from tinycrm.refs import Target
        from tinycrm.tui.screens.forms import NoteForm

        self.app.push_screen(NoteForm(Target("deal", deal.id, deal.title), deal.title))

    def action_edit(self) -> None:
        deal = self._current()
        if deal is not None:
            self.edit_record("deal", deal.id)

    def action_items(self) -> None:
        deal = self._current()
        if deal is None:
            self.notify("No deal highlighted", severity="warning")
            return
        did = deal.id
        run_db(self, lambda ctx: data.deal_with_items(ctx, did), self.ItemsLoaded, group="items")

    def on_deals_screen_items_loaded(self, message: ItemsLoaded) -> None:
        self.app.push_screen(ItemsView(message.deal))

    def action_delete(self) -> None:
        deal = self._current()
        if deal is not None:
            self.delete_record("deal", deal.id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        deal = self.deals.get(int(event.option.id or 0))
        if deal is not None and deal.contact_id is not None:
            self.crm.open_contact(deal.contact_id)
        elif deal is not None:
            self.notify("This deal has no contact", severity="warning")


class LostForm(FormModal):
    title_text = "Mark lost"

    def __init__(self, deal_id: int, title: str, version: Callable[[], int]) -> None:
        self.deal_id = deal_id
        self.version = version  # as the board knows it: a deal changed elsewhere is refused
        self.title_text = f"Mark lost · {title}"
        self.fields = [Field("reason", "Why was it lost?", placeholder="went with a competitor")]
        super().__init__()

    def build(self) -> Job:
        from tinycrm.services.deals import close_deal

        reason = self.text("reason", "the reason")
        deal_id, version = self.deal_id, self.version

        def job(ctx: Ctx) -> Any:
            return close_deal(ctx, deal_id, "lost", reason=reason, expected_version=version())

        return job

    def describe(self, result: Any) -> str:
        return f"Lost: {result.title} ({result.lost_reason})"


class StagePicker(CRMModal[str | None]):
    """Choose a stage; enter picks, escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, stages: list[str], current: str) -> None:
        super().__init__()
        self.title_text = title
        self.stages = stages
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            yield Static(f"Move {self.title_text} to…", classes="form-title")
            yield OptionList(
                *[Option(s + ("  (now)" if s == self.current else ""), id=s) for s in self.stages],
                id="stages",
            )

    def on_mount(self) -> None:
        picker = self.query_one("#stages", OptionList)
        picker.highlighted = self.stages.index(self.current) if self.current in self.stages else 0
        self.set_focus(picker)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)


class ItemsView(CRMModal[None]):
    """A deal's line items, discounts, tax per rate and totals; escape closes."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,i,q", "close", "Close")]

    def __init__(self, deal: DealView) -> None:
        super().__init__()
        self.deal = deal

    def compose(self) -> ComposeResult:
        with Vertical(classes="form"):
            yield Static(f"#{self.deal.id} {self.deal.title}", classes="form-title")
            yield Static(items_text(self.deal), id="items")

    def action_close(self) -> None:
        self.dismiss(None)


def items_text(deal: DealView) -> Text:
    """The deal's lines and totals as the items view shows them."""
    from tinycrm.money import display_amount, show
    from tinycrm.pricing import format_percent

    lines = deal.lines
    text = Text()
    if lines is None or not lines.items:
        text.append(f"No items: its value, {show(deal.value)}, was typed.\n", style="dim")
        text.append("tinycrm deal item add DEAL PRODUCT --qty N", style="dim")
        return text
    for i in lines.items:
        text.append(f"{i.line:>2}  ")
        text.append(i.product, style="bold")
        if i.sku:
            text.append(f" ({i.sku})", style="dim")
        text.append(f"\n    {i.quantity:,} × {display_amount(i.price.cents)}")
        if i.discount.cents:
            off = display_amount(i.discount.cents)
            if i.discount_bp is not None:
                off += f" ({format_percent(i.discount_bp)})"
            text.append(f" less {off}")
        text.append(f" · tax {format_percent(i.tax_bp)}", style="dim")
        text.append(f" = {display_amount(i.net.cents)}\n")
    assert lines.net is not None and lines.total is not None
    text.append(f"\n{'net':>14}  {show(lines.net)}\n", style="bold")
    for t in lines.taxes:
        text.append(f"{'tax ' + format_percent(t.rate_bp):>14}  {show(t.tax)}\n")
    text.append(f"{'total':>14}  {show(lines.total)}", style="bold")
    return text

    def action_cancel(self) -> None:
        self.dismiss(None)
