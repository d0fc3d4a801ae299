"""`tinycrm deal ...` and `tinycrm stages ...`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tinycrm.cli import output
from tinycrm.cli.common import (
    ColumnsOpt,
    IfVersionOpt,
    JsonOpt,
    MineOpt,
    OwnerOpt,
    ScreenfulOpt,
    ViewOpt,
    WhereOpt,
    YesOpt,
    confirm,
    day,
    get_ctx,
    listing,
    owner_name,
    resolve,
)
from tinycrm.cli.fields import SetOpt, UnsetOpt, assignments, pairs
from tinycrm.refs import Target
from tinycrm.services.context import Ctx
from tinycrm.text import plural

deal_app = typer.Typer(help="Track deals through the pipeline.", no_args_is_help=True)
stages_app = typer.Typer(help="Show or change the pipeline stages.")
item_app = typer.Typer(
    help="Line items: products on a deal, which sum to its value.",
    no_args_is_help=True,
)
deal_app.add_typer(item_app, name="item")

DealArg = Annotated[str, typer.Argument(help="Deal id (12 or #12) or title.")]


def _deal(ctx: Ctx, ref: str) -> Target:
    raw = ref.strip()
    if not raw.lower().startswith(("deal:", "d:")):
        raw = "deal:" + raw
    return resolve(ctx, raw, ("deal",))


def _known(ctx: Ctx, ref: str) -> Target:
    """The deal a command that changes it names; an id that names none is a usage error
    (exit 2) naming the id."""
    from tinycrm.errors import NotFound, UnknownId

    try:
        return _deal(ctx, ref)
    except NotFound as e:
        raw = ref.strip().lstrip("#").lower().removeprefix("deal:").removeprefix("d:")
        if raw.lstrip("#").isdigit():
            raise UnknownId(str(e)) from None
        raise


def _show_one(ctx: Ctx, d: object, json_: bool, verb: str) -> None:
    from tinycrm.money import show
    from tinycrm.services.deals import DealView

    assert isinstance(d, DealView)
    if json_:
        output.emit_json(d)
    else:
        output.say(f"{verb} deal #{d.id} {d.title} — {d.stage}, {show(d.value)}")
        if d.purchases_added:
            output.say(
                f"Recorded {plural(d.purchases_added, 'purchase')} of its items by {d.contact}"
            )


@deal_app.command("add")
def deal_add(
    ref: Annotated[str, typer.Argument(help="Contact or company (company:acme) the deal is with.")],
    title: Annotated[str, typer.Argument(help="What is being sold, e.g. '50 licences'.")],
    value: Annotated[
        str,
        typer.Option(
            "--value", "-v", help="Deal value, e.g. 12000, 12,000.50 or $12000 (sets the currency)."
        ),
    ] = "0",
    currency: Annotated[
        str | None, typer.Option("--currency", help="ISO code (default from settings).")
    ] = None,
    stage: Annotated[
        str | None, typer.Option("--stage", "-s", help="Starting stage (default the first).")
    ] = None,
    probability: Annotated[
        int | None, typer.Option("--probability", min=0, max=100, help="Override the stage's %.")
    ] = None,
    close: Annotated[
        str | None, typer.Option("--close", help="Expected close date, e.g. 'end of month'.")
    ] = None,
    set_: SetOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Open a new deal with a contact or company."""
    from tinycrm.money import parse_currency, parse_money
    from tinycrm.services.deals import add_deal

    ctx = get_ctx()
    given = parse_currency(currency, field="--currency", usual=[ctx.currency]) if currency else None
    money = parse_money(value, field="--value", currency=given, usual=[ctx.currency])
    target = resolve(ctx, ref, ("contact", "company"))
    d = add_deal(
        ctx,
        title,
        target=target,
        value_cents=money.cents,
        currency=money.currency,
        stage=stage,
        probability=probability,
        expected_close=day(ctx, close) if close else None,
        custom=assignments(set_),
    )
    _show_one(ctx, d, json_, "Added")


@deal_app.command("list")
def deal_list(
    stage: Annotated[str | None, typer.Option("--stage", "-s", help="Only this stage.")] = None,
    status: Annotated[str, typer.Option("--status", help="open, won, lost or all.")] = "open",
    owner: OwnerOpt = None,
    mine: MineOpt = False,
    ref: Annotated[
        str | None, typer.Option("--contact", "-c", help="Only deals with this contact.")
    ] = None,
    where: WhereOpt = None,
    view: ViewOpt = None,
    sort: Annotated[
        str | None,
        typer.Option("--sort", help="stage, value, close, newest or title (default stage)."),
    ] = None,
    columns: ColumnsOpt = None,
    limit: ScreenfulOpt = None,
    json_: JsonOpt = False,
) -> None:
    """List deals by stage, biggest first."""
    from tinycrm.cli import columns as cols
    from tinycrm.errors import InvalidInput
    from tinycrm.services.deals import count_deals, list_deals

    if status not in ("open", "won", "lost", "all"):
        raise InvalidInput(f"--status must be open, won, lost or all: {status!r}")
    ctx = get_ctx()
    contact_id = resolve(ctx, ref).id if ref else None
    chosen = listing(ctx, "deals", where, view, sort, columns)
    filters: dict[str, Any] = {
        # a filter that names a status decides it; else --status (open by default)
        "status": None if status == "all" or _names_status(chosen.filter) else status,
        "stage": stage,
        "owner": owner_name(ctx, owner, mine),
        "contact_id": contact_id,
        "where": chosen.filter,
    }
    shown = limit if json_ else output.screen_limit(limit)
    rows = list_deals(ctx.db, **filters, limit=shown, order=chosen.sort or "stage")
    if json_:
        output.emit_json(rows)
        return
    cols.show(
        ctx,
        "deals",
        chosen.columns,
        rows,
        empty="no deals match"
        if chosen.filter or stage or contact_id or filters["owner"]
        else "no deals: tinycrm deal add 'Alice Wong' '50 licences' --value 12000",
    )
    if shown is not None and len(rows) == shown:
        total = count_deals(ctx.db, **filters)
        output.more_rows(shown, total, "narrow with --where/--stage or raise --limit")


def _names_status(compiled: Any) -> bool:
    """Whether a filter says which deals by status it wants (`status:won`, `closed>…`)."""
    if compiled is None:
        return False
    from tinycrm.services.filters import mentions

    return mentions(compiled, ("status", "closed", "lost-reason"))


@deal_app.command("show")
def deal_show(ref: DealArg, json_: JsonOpt = False) -> None:
    """A deal with its stage history."""
    from tinycrm.money import format_cents, show
    from tinycrm.services.deals import get_deal

    ctx = get_ctx()
    d = get_deal(ctx.db, _deal(ctx, ref).id, history=True, items=True)
    if json_:
        output.emit_json(d)
        return
    value = show(d.value)
    if d.lines is not None and d.lines.items:
        value += f" (from {plural(len(d.lines.items), 'item')})"
    output.fields(
        [
            ("id", f"#{d.id}"),
            ("stage", f"{d.stage} ({d.status})"),
            ("value", value),
            ("probability", f"{d.probability}%"),
            ("weighted", f"{format_cents(d.weighted.cents)} {d.currency}"),
            ("contact", d.contact),
            ("company", d.company),
            ("owner", d.owner),
            ("expected close", d.expected_close.isoformat() if d.expected_close else None),
            ("lost because", d.lost_reason),
            ("in stage since", output.local(d.stage_entered_at, ctx.tz)),
            *pairs(d.fields),
        ],
        title=d.title,
    )
    if d.lines is not None and d.lines.items:
        _render_lines(d.lines)
    output.table(
        ["when", "from", "to", "by"],
        [
            [output.local(h["at"], ctx.tz), h["from"] or "—", h["to"], h["user"] or ""]
            for h in d.history
        ],
        title="History",
        section=True,
    )


def _render_lines(lines: object) -> None:
    """A deal's items and totals, as `deal show` and `deal item` print them."""
    from tinycrm.money import display_amount, show
    from tinycrm.pricing import format_percent
    from tinycrm.services.deal_items import DealLines

    assert isinstance(lines, DealLines)
    rows: list[list[object]] = []
    for i in lines.items:
        off = ""
        if i.discount.cents:
            off = display_amount(i.discount.cents)
            if i.discount_bp is not None:
                off += f" ({format_percent(i.discount_bp)})"
        rows.append(
            [
                i.line,
                i.sku or "",
                i.product,
                i.quantity,
                display_amount(i.price.cents),
                off,
                format_percent(i.tax_bp),
                display_amount(i.net.cents),
            ]
        )
    output.table(
        ["#", "SKU", "product", "qty", "price", "discount", "tax", "net"],
        rows,
        title="Items",
        section=True,
    )
    assert lines.net is not None and lines.tax is not None and lines.total is not None
    totals: list[tuple[str, object]] = [("net", show(lines.net))]
    for t in lines.taxes:
        totals.append((f"tax {format_percent(t.rate_bp)}", show(t.tax)))
    totals.append(("total", show(lines.total)))
    output.fields(totals)


def _discount(text: str | None, currency: str) -> tuple[int | None, int | None]:
    """`--discount 10%` (basis points) or `--discount 50` (cents in the deal's currency)."""
    if text is None:
        return None, None
    if "%" in text:
        from tinycrm.pricing import parse_percent

        return parse_percent(text, field="--discount", allow_zero=False), None
    from tinycrm.money import parse_money

    money = parse_money(text, field="--discount", currency=currency, usual=[currency])
    return None, money.cents


def _item_price(text: str | None, currency: str) -> int | None:
    if text is None:
        return None
    from tinycrm.money import parse_money

    return parse_money(text, field="--price", currency=currency, usual=[currency]).cents


def _show_lines(lines: object, json_: bool, said: str) -> None:
    from tinycrm.money import show
    from tinycrm.services.deal_items import DealLines

    assert isinstance(lines, DealLines)
    if json_:
        output.emit_json(lines)
        return
    output.say(said)
    if lines.items:
        assert lines.net is not None
        output.say(f"The deal's value is now {show(lines.net)} (before tax).")
        _render_lines(lines)
    else:
        output.say(f"Deal #{lines.deal_id} has no items now; its value stays as it was.")


QtyOpt = Annotated[int, typer.Option("--qty", "-q", min=1, help="How many (a whole number).")]
ItemPriceOpt = Annotated[
    str | None,
    typer.Option(
        "--price", "-p", help="Price each, in the deal's currency (default the product's)."
    ),
]
DiscountOpt = Annotated[
    str | None,
    typer.Option(
        "--discount", help="Off the line: 10% or an amount such as 50.", show_default=False
    ),
]
LineArg = Annotated[int, typer.Argument(min=1, help="Line number, as deal show lists them.")]


@item_app.command("add")
def item_add(
    ref: DealArg,
    product: Annotated[str, typer.Argument(help="Product SKU, name or #id.")],
    qty: QtyOpt = 1,
    price: ItemPriceOpt = None,
    discount: DiscountOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Put a product on a deal; the deal's value becomes its items' total."""
    from tinycrm.services.deal_items import add_item
    from tinycrm.services.deals import get_deal

    ctx = get_ctx()
    deal = _known(ctx, ref)
    currency = get_deal(ctx.db, deal.id).currency
    dbp, dc = _discount(discount, currency)
    lines = add_item(
        ctx,
        deal.id,
        product,
        quantity=qty,
        price_cents=_item_price(price, currency),
        discount_bp=dbp,
        discount_cents=dc,
    )
    added = lines.items[-1]
    _show_lines(lines, json_, f"Added line {added.line} to deal #{deal.id}: {added.product}")


@item_app.command("edit")
def item_edit(
    ref: DealArg,
    line: LineArg,
    qty: Annotated[
        int | None, typer.Option("--qty", "-q", min=1, help="How many (a whole number).")
    ] = None,
    price: ItemPriceOpt = None,
    discount: DiscountOpt = None,
    no_discount: Annotated[
        bool, typer.Option("--no-discount", help="Take the discount off.")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Change a line's quantity, price or discount."""
    from tinycrm.services.deal_items import edit_item
    from tinycrm.services.deals import get_deal

    ctx = get_ctx()
    deal = _known(ctx, ref)
    currency = get_deal(ctx.db, deal.id).currency
    dbp, dc = _discount(discount, currency)
    lines = edit_item(
        ctx,
        deal.id,
        line,
        quantity=qty,
        price_cents=_item_price(price, currency),
        discount_bp=dbp,
        discount_cents=dc,
        no_discount=no_discount,
    )
    _show_lines(lines, json_, f"Changed line {line} of deal #{deal.id}")


@item_app.command("rm")
def item_rm(ref: DealArg, line: LineArg, json_: JsonOpt = False) -> None:
    """Take a line off a deal; the lines after it move up."""
    from tinycrm.services.deal_items import remove_item

    ctx = get_ctx()
    deal = _known(ctx, ref)
    lines = remove_item(ctx, deal.id, line)
    _show_lines(lines, json_, f"Removed line {line} from deal #{deal.id}")


@deal_app.command("edit")
def deal_edit(
    ref: DealArg,
    title: Annotated[str | None, typer.Option("--title", help="New title.")] = None,
    value: Annotated[
        str | None,
        typer.Option("--value", "-v", help="New value (a currency mark, $5, sets the currency)."),
    ] = None,
    currency: Annotated[str | None, typer.Option("--currency", help="ISO currency code.")] = None,
    probability: Annotated[
        int | None, typer.Option("--probability", min=0, max=100, help="Win probability %.")
    ] = None,
    close: Annotated[str | None, typer.Option("--close", help="Expected close date.")] = None,
    contact: Annotated[
        str | None,
        typer.Option("--contact", "-c", help="The contact it is with (and their company)."),
    ] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="The user who owns it.")] = None,
    set_: SetOpt = None,
    unset: UnsetOpt = None,
    if_version: IfVersionOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Change a deal's title, value, odds, close date or owner.

    Also its contact or company.
    """
    from tinycrm.money import parse_currency, parse_money
    from tinycrm.services.deals import edit_deal, get_deal

    ctx = get_ctx()
    deal = _known(ctx, ref)
    # a shared mark (¥, kr, $) means the deal's own currency when it can
    usual = [get_deal(ctx.db, deal.id).currency, ctx.currency]
    given = parse_currency(currency, field="--currency", usual=usual) if currency else None
    money = None
    if value is not None:
        money = parse_money(value, field="--value", currency=given, usual=usual)
    d = edit_deal(
        ctx,
        deal.id,
        title=title,
        value_cents=money.cents if money else None,
        currency=money.currency if money else given,
        probability=probability,
        expected_close=day(ctx, close) if close else None,
        contact_id=resolve(ctx, contact).id if contact else None,
        owner=owner,
        expected_version=if_version,
        custom=assignments(set_),
        unset=unset or (),
    )
    _show_one(ctx, d, json_, "Updated")


@deal_app.command("rm")
def deal_rm(
    ref: DealArg, yes: YesOpt = False, if_version: IfVersionOpt = None, json_: JsonOpt = False
) -> None:
    """Delete a deal with its stage history and reminders.

    Its notes stay, off the deal.
    """
    from tinycrm.services.deals import deal_impact, delete_deal

    ctx = get_ctx()
    deal = _known(ctx, ref)
    impact = deal_impact(ctx.db, deal.id)
    kept = ""
    if impact.interactions:
        kept = f" ({impact.interactions} note(s) logged on it stay, off the deal)"
    confirm(
        f"Delete deal #{deal.id} {deal.label!r} and its {impact.reminders} reminder(s){kept}?",
        yes,
    )
    d = delete_deal(ctx, deal.id, expected_version=if_version)
    if json_:
        output.emit_json({"deleted": {"kind": "deal", "id": d.id}, "was": d, "removed": impact})
    else:
        output.say(f"Deleted deal #{d.id} {d.title}")


@deal_app.command("reopen")
def deal_reopen(
    ref: DealArg,
    stage: Annotated[
        str | None,
        typer.Option("--stage", "-s", help="Open stage to go to (default: the last open one)."),
    ] = None,
    if_version: IfVersionOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Take a won or lost deal back to an open stage."""
    from tinycrm.services.deals import reopen_deal

    ctx = get_ctx()
    d = reopen_deal(ctx, _known(ctx, ref).id, stage=stage, expected_version=if_version)
    _show_one(ctx, d, json_, "Reopened")


@deal_app.command("move")
def deal_move(
    ref: DealArg,
    stage: Annotated[str, typer.Argument(help="Stage name (a unique prefix is enough).")],
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why (required when moving to Lost).")
    ] = None,
    if_version: IfVersionOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Move a deal to another stage."""
    from tinycrm.services.deals import move_deal

    ctx = get_ctx()
    d = move_deal(ctx, _deal(ctx, ref).id, stage, reason=reason, expected_version=if_version)
    _show_one(ctx, d, json_, "Moved")


@deal_app.command("won")
def deal_won(ref: DealArg, if_version: IfVersionOpt = None, json_: JsonOpt = False) -> None:
    """Mark a deal won."""
    from tinycrm.services.deals import close_deal

    ctx = get_ctx()
    d = close_deal(ctx, _deal(ctx, ref).id, "won", expected_version=if_version)
    _show_one(ctx, d, json_, "Won")


@deal_app.command("lost")
def deal_lost(
    ref: DealArg,
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why it was lost.")],
    if_version: IfVersionOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Mark a deal lost, with the reason."""
    from tinycrm.services.deals import close_deal

    ctx = get_ctx()
    d = close_deal(ctx, _deal(ctx, ref).id, "lost", reason=reason, expected_version=if_version)
    _show_one(ctx, d, json_, "Lost")


# -- stages ----------------------------------------------------------------------------------
def _render_stages(json_: bool) -> None:
    from tinycrm.services.deals import list_stages

    rows = list_stages(get_ctx().db)
    if json_:
        output.emit_json(rows)
        return
    output.table(
        ["#", "stage", "probability", "rots after", "outcome", "open deals"],
        [
            [
                s.position,
                s.name,
                f"{s.probability}%",
                plural(s.rot_days, "day") if s.rot_days else "",
                s.outcome,
                s.open_deals,
            ]
            for s in rows
        ],
    )


@stages_app.callback(invoke_without_command=True)
def stages_main(typer_ctx: typer.Context, json_: JsonOpt = False) -> None:
    """List the pipeline stages (or change them with a subcommand)."""
    if typer_ctx.invoked_subcommand is None:
        _render_stages(json_)


@stages_app.command("add")
def stages_add(
    name: Annotated[str, typer.Argument(help="Stage name.")],
    probability: Annotated[
        int, typer.Option("--probability", "-p", min=0, max=100, help="Default win %.")
    ],
    rot_days: Annotated[
        int | None,
        typer.Option("--rot-days", min=1, max=36_500, help="Days before a deal here rots."),
    ] = None,
    before: Annotated[
        str | None, typer.Option("--before", help="Put it before this stage.")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Add a pipeline stage (before Won/Lost by default)."""
    from tinycrm.services.deals import add_stage

    add_stage(get_ctx(), name, probability=probability, rot_days=rot_days, before=before)
    _render_stages(json_)


@stages_app.command("edit")
def stages_edit(
    name: Annotated[str, typer.Argument(help="Stage to change.")],
    rename: Annotated[str | None, typer.Option("--name", help="New name.")] = None,
    probability: Annotated[
        int | None, typer.Option("--probability", "-p", min=0, max=100, help="Default win %.")
    ] = None,
    rot_days: Annotated[
        int | None,
        typer.Option("--rot-days", min=0, max=36_500, help="Days before a deal rots (0: never)."),
    ] = None,
    position: Annotated[
        int | None, typer.Option("--position", min=1, help="New place in the order (1 = first).")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Rename, reorder or change a stage's probability and rot days."""
    from tinycrm.services.deals import edit_stage

    edit_stage(
        get_ctx(),
        name,
        new_name=rename,
        probability=probability,
        rot_days=rot_days,
        position=position,
    )
    _render_stages(json_)


@stages_app.command("rm")
def stages_rm(
    name: Annotated[str, typer.Argument(help="Stage to remove (must be empty).")],
    json_: JsonOpt = False,
) -> None:
    """Remove a stage that has no deals."""
    from tinycrm.services.deals import remove_stage

    remove_stage(get_ctx(), name)
    _render_stages(json_)
