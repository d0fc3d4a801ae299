"""`tinycrm purchase ...`, `search`, `log`, and the no-argument home view."""

from __future__ import annotations

from typing import Annotated

import typer

from tinycrm.cli import output
from tinycrm.cli.common import (
    LIMIT_MAX,
    IfVersionOpt,
    JsonOpt,
    RefArg,
    YesOpt,
    confirm,
    day,
    get_ctx,
    parse_id,
    resolve,
    when,
)

purchase_app = typer.Typer(help="Record and list what customers bought.", no_args_is_help=True)


@purchase_app.command(
    "add",
    # `purchase add alice -5`: a number after a dash is the amount, not an unknown option
    context_settings={"ignore_unknown_options": True},
)
def purchase_add(
    ref: RefArg,
    amount: Annotated[
        str,
        typer.Argument(
            help="Amount, e.g. 1200, 1,200.50, €99 or 99 USD (a currency mark sets the"
            " currency). 0 is an order too (a free sample); a negative amount (-50, or"
            " 50 with --refund) is a refund."
        ),
    ],
    date_: Annotated[
        str | None, typer.Option("--date", "-d", help="Purchase date (default today).")
    ] = None,
    currency: Annotated[
        str | None, typer.Option("--currency", help="ISO code (default from settings).")
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="What was bought.")] = None,
    future: Annotated[
        bool, typer.Option("--future", help="Allow a --date after today (normally refused).")
    ] = False,
    refund: Annotated[
        bool,
        typer.Option("--refund", help="Money given back: stored as a negative amount (no order)."),
    ] = False,
    product: Annotated[
        str | None,
        typer.Option("--product", "-p", help="What was bought: a product's SKU, name or #id."),
    ] = None,
    qty: Annotated[
        int | None,
        typer.Option("--qty", "-q", min=1, help="How many of --product (default 1)."),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Record a purchase by a contact, or a refund."""
    from tinycrm.errors import InvalidInput
    from tinycrm.money import display_money, parse_currency, parse_money

    ctx = get_ctx()
    if amount.startswith("-") and not _looks_like_amount(amount[1:]):
        raise InvalidInput(
            f"no such option: {amount} (a refund is a negative amount: -50, or --refund 50)"
        )
    given = parse_currency(currency, field="--currency", usual=[ctx.currency]) if currency else None
    money = parse_money(amount, currency=given, usual=[ctx.currency], allow_negative=not refund)
    cents = money.cents
    if refund:
        if cents == 0:
            raise InvalidInput(f"a refund must be more than zero: {amount!r}")
        cents = -cents
    on = day(ctx, date_, past=True) if date_ else None
    target = resolve(ctx, ref)
    from tinycrm.services.purchases import add_purchase

    p = add_purchase(
        ctx,
        target.id,
        cents,
        on=on,
        currency=money.currency,
        note=note,
        future=future,
        product=product,
        quantity=qty,
    )
    if json_:
        output.emit_json(p)
    elif p.refund:
        output.say(
            f"Refund #{p.id}: {p.contact} got back"
            f" {display_money(-p.amount_cents, p.currency)} on {p.purchased_on.isoformat()}"
        )
    else:
        what = f"{p.quantity} × {p.product} for " if p.product else ""
        output.say(
            f"Purchase #{p.id}: {p.contact} bought {what}"
            f"{display_money(p.amount_cents, p.currency)} on {p.purchased_on.isoformat()}"
        )


def _looks_like_amount(text: str) -> bool:
    """Whether what follows a dash starts like a number or a currency mark ("-5", "-€5"),
    rather than an option name ("-x", "--nte")."""
    head = text.lstrip()[:1]
    return bool(head) and (head.isdigit() or head in ".," or not (head.isalpha() or head == "-"))


@purchase_app.command("list")
def purchase_list(
    ref: Annotated[str | None, typer.Argument(help="Only this contact's purchases.")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only on or after this date.")
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=LIMIT_MAX, help="At most this many.")
    ] = 200,
    json_: JsonOpt = False,
) -> None:
    """List purchases, newest first."""
    from tinycrm.money import display_money
    from tinycrm.services.purchases import list_purchases

    ctx = get_ctx()
    contact_id = resolve(ctx, ref).id if ref else None
    rows = list_purchases(
        ctx.db,
        contact_id=contact_id,
        since=day(ctx, since, past=True) if since else None,
        limit=limit,
    )
    if json_:
        output.emit_json(rows)
        return
    output.table(
        ["id", "date", "contact", "amount", "product", "note"],
        [
            [
                p.id,
                p.purchased_on.isoformat(),
                p.contact,
                display_money(p.amount_cents, p.currency),
                f"{p.quantity} × {p.product}" if p.product else "",
                p.note or "",
            ]
            for p in rows
        ],
        empty="no purchases: tinycrm purchase add 'Alice Wong' 1200 --note 'licences'",
    )


PurchaseIdArg = Annotated[
    str, typer.Argument(help="Purchase id (12 or #12), as purchase list shows.")
]


def _said(p: object) -> str:
    from tinycrm.money import display_money
    from tinycrm.services.purchases import PurchaseView

    assert isinstance(p, PurchaseView)
    what = f"{p.quantity} × {p.product} for " if p.product else ""
    return (
        f"purchase #{p.id}: {p.contact} bought {what}"
        f"{display_money(p.amount_cents, p.currency)} on {p.purchased_on.isoformat()}"
    )


@purchase_app.command("edit")
def purchase_edit(
    ident: PurchaseIdArg,
    amount: Annotated[
        str | None, typer.Option("--amount", "-a", help="The right amount, e.g. 100 or $100.")
    ] = None,
    currency: Annotated[str | None, typer.Option("--currency", help="ISO code.")] = None,
    date_: Annotated[str | None, typer.Option("--date", "-d", help="The right date.")] = None,
    note: Annotated[
        str | None, typer.Option("--note", help="What was bought ('' clears it).")
    ] = None,
    contact: Annotated[str | None, typer.Option("--contact", "-c", help="Who bought it.")] = None,
    product: Annotated[
        str | None,
        typer.Option("--product", "-p", help="The product bought (SKU, name or #id; '' clears)."),
    ] = None,
    qty: Annotated[
        int | None, typer.Option("--qty", "-q", min=1, help="How many of the product.")
    ] = None,
    if_version: IfVersionOpt = None,
    future: Annotated[
        bool, typer.Option("--future", help="Allow a --date after today (normally refused).")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Correct a purchase (rankings and reports follow)."""
    from tinycrm.money import parse_currency, parse_money
    from tinycrm.services.purchases import edit_purchase, get_purchase

    ctx = get_ctx()
    number = parse_id(ident, "purchase id")
    usual = [get_purchase(ctx.db, number).currency, ctx.currency]
    given = parse_currency(currency, field="--currency", usual=usual) if currency else None
    money = None
    if amount is not None:
        # 0 is an order, a negative amount a refund (docs/value.md)
        money = parse_money(
            amount, field="--amount", currency=given, usual=usual, allow_negative=True
        )
    p = edit_purchase(
        ctx,
        number,
        amount_cents=money.cents if money else None,
        currency=money.currency if money else given,
        on=day(ctx, date_, past=True) if date_ else None,
        product=product,
        quantity=qty,
        note=note,
        contact_id=resolve(ctx, contact).id if contact else None,
        expected_version=if_version,
        future=future,
    )
    if json_:
        output.emit_json(p)
    else:
        output.say("Updated " + _said(p))


@purchase_app.command("rm")
def purchase_rm(
    ident: PurchaseIdArg,
    yes: YesOpt = False,
    if_version: IfVersionOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Delete a purchase (rankings and reports follow)."""
    from tinycrm.services.purchases import delete_purchase, get_purchase

    ctx = get_ctx()
    number = parse_id(ident, "purchase id")
    confirm(f"Delete {_said(get_purchase(ctx.db, number))}?", yes)
    p = delete_purchase(ctx, number, expected_version=if_version)
    if json_:
        output.emit_json({"deleted": {"kind": "purchase", "id": p.id}, "was": p})
    else:
        output.say("Deleted " + _said(p))


_KIND_NAMES = {
    "contact": "contact",
    "contacts": "contact",
    "company": "company",
    "companies": "company",
    "note": "interaction",
    "notes": "interaction",
    "deal": "deal",
    "deals": "deal",
    "case": "case",
    "cases": "case",
}


def search(
    text: Annotated[str, typer.Argument(help="Words to find (each matches a word start).")],
    kind: Annotated[
        list[str] | None,
        typer.Option("--kind", "-k", help="contact, company, note, deal or case (repeatable)."),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=1000, help="At most this many per kind.")
    ] = 50,
    json_: JsonOpt = False,
) -> None:
    """Search contacts, companies, notes, deals and cases.

    Cases are found by their titles, details and solutions: the knowledge base."""
    from tinycrm.errors import InvalidInput
    from tinycrm.services.search import KINDS
    from tinycrm.services.search import search as run_search

    kinds: tuple[str, ...] = KINDS
    if kind:
        try:
            kinds = tuple(dict.fromkeys(_KIND_NAMES[k.lower()] for k in kind))
        except KeyError as e:
            raise InvalidInput(
                f"--kind must be contact, company, note, deal or case: {e.args[0]!r}"
            ) from None
    ctx = get_ctx()
    hits = run_search(ctx.db, text, kinds=kinds, limit=limit)
    if json_:
        output.emit_json(hits)
        return
    label = {
        "interaction": "note",
        "contact": "contact",
        "company": "company",
        "deal": "deal",
        "case": "case",
    }
    output.table(
        ["kind", "id", "name", "detail", "when"],
        [[label[h.kind], h.id, h.title, h.detail, output.local(h.when, ctx.tz)[:10]] for h in hits],
        empty=f"nothing matches {text!r}",
    )


def log(
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=10000, help="How many events.")
    ] = 30,
    since: Annotated[
        str | None, typer.Option("--since", help="Only since then, e.g. 'monday' or 7d ago.")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Recent activity across everything, newest first."""
    from tinycrm.services.activity import recent

    ctx = get_ctx()
    events = recent(ctx.db, limit=limit, since=when(ctx, since, past=True) if since else None)
    if json_:
        output.emit_json(events)
        return
    output.table(
        ["when", "what", "who", "", "by"],
        [[output.local(e.at, ctx.tz), e.kind, e.who or "", e.text, e.user or ""] for e in events],
        empty="nothing has happened yet",
    )


def home() -> None:
    """`tinycrm` with no command: the full-screen app on a terminal; otherwise (piped, or
    TINYCRM_NO_TUI=1) what needs doing today, and how to do more."""
    from tinycrm.cli.tui import tui, wants_tui

    if wants_tui():
        tui()
        return
    from tinycrm.cli.work import _end_of_day, render_reminders
    from tinycrm.services.contacts import count_contacts
    from tinycrm.services.reminders import list_reminders

    ctx = get_ctx()
    if output.is_tty() and count_contacts(ctx.db) == 0:
        output.say(f"Welcome to tinycrm. Your store is {ctx.db.location.describe()}")
        output.say("Start with: tinycrm contact add 'Alice Wong' --email alice@example.com")
        output.say("Then: tinycrm note alice 'asked for a quote' --follow-up friday")
        output.say("All commands: tinycrm --help")
        return
    until = _end_of_day(ctx, 0)
    shown = output.screen_limit(None)
    if shown is not None:
        shown -= 2  # the title and the "More:" line
    rows = list_reminders(ctx, until=until, limit=shown)
    today = ctx.now.astimezone(ctx.tz).strftime("%A %d %B")
    if output.is_tty() or not rows:  # piped, a list of rows or this one line
        output.say(f"Due today, {today}" if rows else f"Nothing due today, {today}.")
    render_reminders(ctx, rows, empty="")
    if shown is not None and len(rows) == shown:
        from tinycrm.services.reminders import count_reminders

        output.more_rows(shown, count_reminders(ctx, until=until), "tinycrm todo -n 1000")
    if output.is_tty():
        output.say("More: tinycrm todo --all · tinycrm contact list · tinycrm --help")
