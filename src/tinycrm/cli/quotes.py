"""`tinycrm quote DEAL`, `quote list DEAL`, `quote show NUMBER`, and `tinycrm recommend`."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from tinycrm.cli import output
from tinycrm.cli.common import LIMIT_MAX, JsonOpt, RefArg, get_ctx, resolve


class _QuoteGroup(TyperGroup):
    """`quote DEAL ...` is `quote new DEAL ...`: a first word that is no subcommand (nor
    an option) is the deal."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["new", *args]
        return list(super().parse_args(ctx, args))


quote_app = typer.Typer(
    cls=_QuoteGroup,
    help="Numbered quotes for deals: `tinycrm quote DEAL` issues one.",
    no_args_is_help=True,
)

DealArg = Annotated[str, typer.Argument(help="Deal id (12 or #12) or title.")]
OutOpt = Annotated[
    str | None,
    typer.Option("--output", "-o", help="Write to this file (default standard output)."),
]
FormatOpt = Annotated[
    str | None,
    typer.Option(
        "--format", "-f", help="html or md (default from the file name, else html).",
        show_default=False,
    ),
]  # fmt: skip
ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite the file if it exists.")]


def _format(fmt: str | None, out: str | None) -> str:
    from tinycrm.errors import InvalidInput

    if fmt is None:
        return "md" if out and out.lower().endswith((".md", ".markdown")) else "html"
    key = fmt.strip().lower()
    if key in ("markdown", "md"):
        return "md"
    if key not in ("html",):
        raise InvalidInput(f"--format must be html or md: {fmt!r}")
    return key


def _deal_id(ref: str) -> int:
    from tinycrm.cli.deals import _deal

    ctx = get_ctx()
    return _deal(ctx, ref).id


def _write(view: Any, fmt: str, out: str | None, force: bool) -> None:
    from tinycrm.io import outputs
    from tinycrm.io.quote_format import html_quote, markdown_quote

    target = outputs.target(out, store=get_ctx().db.location.path, force=force)
    text = html_quote(view.content) if fmt == "html" else markdown_quote(view.content)
    outputs.write_text(target, text)


@quote_app.command("new")
def quote_new(
    ref: DealArg,
    out: OutOpt = None,
    fmt: FormatOpt = None,
    valid_for: Annotated[
        str | None,
        typer.Option(
            "--valid-for",
            help="How long it holds, e.g. 30d or 6w (default: settings).",
            show_default=False,
        ),
    ] = None,
    force: ForceOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Issue a numbered quote for a deal's items.

    `tinycrm quote DEAL` is short for this. Prints the quote (HTML or Markdown) or
    writes it to -o FILE; it is stored on the deal, so quote show NUMBER renders it
    again the same.
    """
    from tinycrm.dates import parse_duration
    from tinycrm.errors import InvalidInput
    from tinycrm.io import outputs
    from tinycrm.money import display_money
    from tinycrm.services.quotes import issue_quote

    ctx = get_ctx()
    kind = _format(fmt, out)
    days = None
    if valid_for is not None:
        span = parse_duration(valid_for)
        days = span.days
        if span.seconds or days < 1:
            raise InvalidInput(f"--valid-for is a number of days or weeks: {valid_for!r}")
    deal_id = _deal_id(ref)
    # the file is checked before a number is handed out
    outputs.target(out, store=ctx.db.location.path, force=force)
    view = issue_quote(ctx, deal_id, valid_days=days)
    to_file = out is not None and out != "-"
    if to_file or not json_:
        _write(view, kind, out, force)
    if json_:
        output.emit_json(view)
    elif to_file:
        output.say(
            f"Quote {view.number} for deal #{deal_id}:"
            f" {display_money(view.total.cents, view.total.currency)},"
            f" valid until {view.valid_until.isoformat()}; written to {out}"
        )
        if not view.content.seller_name:
            output.say("Its header has no company name: tinycrm settings set company-name NAME")


@quote_app.command("list")
def quote_list(ref: DealArg, json_: JsonOpt = False) -> None:
    """A deal's quotes, oldest first: number, date, total, valid until."""
    from tinycrm.money import show
    from tinycrm.services.quotes import list_quotes

    ctx = get_ctx()
    rows = list_quotes(ctx, _deal_id(ref))
    if json_:
        output.emit_json(rows)
        return
    output.table(
        ["number", "issued", "total", "valid until", "lines", "by"],
        [
            [
                q.number,
                output.local(q.issued_at, ctx.tz),
                show(q.total),
                q.valid_until.isoformat() + (" (expired)" if q.expired else ""),
                q.lines,
                q.user or "",
            ]
            for q in rows
        ],
        empty="no quotes yet: tinycrm quote DEAL -o quote.html",
    )


@quote_app.command("show")
def quote_show(
    number: Annotated[str, typer.Argument(help="The quote's number, e.g. Q-2026-0001.")],
    out: OutOpt = None,
    fmt: FormatOpt = None,
    force: ForceOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Render a stored quote again, exactly as it was issued."""
    from tinycrm.services.quotes import get_quote

    view = get_quote(get_ctx().db, number)
    if json_:
        output.emit_json(view)
        return
    _write(view, _format(fmt, out), out, force)


def recommend(
    ref: RefArg,
    top: Annotated[
        int, typer.Option("--top", "-n", min=1, max=LIMIT_MAX, help="How many products.")
    ] = 5,
    json_: JsonOpt = False,
) -> None:
    """Products to offer a customer, from what others bought.

    The score is in docs/products.md.
    """
    from tinycrm.pricing import format_percent
    from tinycrm.services.recommend import recommend as suggest

    ctx = get_ctx()
    target = resolve(ctx, ref)
    found = suggest(ctx.db, target.id, top=top)
    if json_:
        output.emit_json(found)
        return
    if not found.bought:
        output.say(f"{found.contact} has bought no catalogue product yet: nothing to go on")
        return
    output.table(
        ["product", "score", "bought with", "customers", "price"],
        [
            [
                r.label,
                f"{r.score:.3f}",
                ", ".join(r.because[:3]),
                r.customers,
                f"{output.money(r.price, r.price.currency)}"
                + (f" +{format_percent(r.tax_bp)} tax" if r.tax_bp else ""),
            ]
            for r in found.products
        ],
        empty=f"nothing to suggest: nobody who bought what {found.contact} bought bought"
        " anything else",
    )
