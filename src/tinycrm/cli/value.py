"""`tinycrm rank`: customers by RFM, value, CLV or ABC grade (docs/value.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from tinycrm.cli import output
from tinycrm.cli.common import FormatOpt, JsonOpt, ViewOpt, day, get_ctx, listing, table_format
from tinycrm.text import plural

SEGMENT_HELP = (
    "Only this segment: champions, loyal, potential, new, promising, need attention,"
    " about to sleep, can't lose, at risk, hibernating, lost."
)


def rank(
    by: Annotated[
        str, typer.Option("--by", help="Order: rfm, value (total bought), clv or abc.")
    ] = "rfm",
    level: Annotated[
        str, typer.Option("--level", help="Rank contacts, or companies (their contacts' sum).")
    ] = "contact",
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="Count purchases up to this day, itself included (default: today)."
        ),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Count purchases from this day on.")
    ] = None,
    top: Annotated[int | None, typer.Option("--top", "-n", help="At most this many.")] = None,
    segment: Annotated[str | None, typer.Option("--segment", help=SEGMENT_HELP)] = None,
    where: Annotated[
        str | None,
        typer.Option(
            "--where",
            "-w",
            help="Only customers a filter matches (of companies with --level company).",
        ),
    ] = None,
    view: ViewOpt = None,
    explain: Annotated[
        bool, typer.Option("--explain", "-x", help="Say how the scores and CLV are computed.")
    ] = False,
    fmt: FormatOpt = "table",
    json_: JsonOpt = False,
) -> None:
    """Rank customers: RFM, segments, ABC grades and CLV.

    Who buys, how often and how much, best first; customers are those with a purchase in
    the period.
    """
    import dataclasses

    from tinycrm.money import format_cents, show
    from tinycrm.services.value import RankedCustomer
    from tinycrm.services.value import rank as rank_customers

    kind = table_format(fmt, json_)
    ctx = get_ctx()
    ranking = rank_customers(
        ctx,
        by=by.strip().lower(),
        level=level.strip().lower(),
        as_of=day(ctx, as_of) if as_of else None,
        since=day(ctx, since, past=True) if since else None,
        top=top if top is not None else (output.screen_limit(None) if kind == "table" else None),
        segment=segment.strip().lower() if segment else None,
        where=(
            listing(
                ctx, "contacts" if level.strip().lower() == "contact" else "companies", where, view
            ).filter
            if where or view
            else None
        ),
    )
    if kind == "json":
        output.emit_json(ranking)
        return
    if kind == "csv":
        fields = [f.name for f in dataclasses.fields(RankedCustomer)]
        output.csv_rows(fields, [[getattr(c, f) for f in fields] for c in ranking.customers])
        return
    s = ranking.summary
    if explain:
        _explain(s.clv_years, s.currency)
    rows = [
        [
            c.rank,
            c.name,
            f"#{c.id}",
            c.rfm,
            c.segment,
            c.abc,
            c.frequency,
            show(c.monetary) if output.is_tty() else format_cents(c.monetary.cents),
            f"{c.recency_days}d",
            show(c.clv) if output.is_tty() else format_cents(c.clv.cents),
        ]
        for c in ranking.customers
    ]
    output.table(
        ["#", "name", "id", "rfm", "segment", "abc", "orders", "total", "last order", "clv"],
        rows,
        empty="no customers: nobody bought anything in this period",
    )
    if output.is_tty() and s.n:
        share = f"{float(s.top20_share) * 100:.1f}%"
        others = f"; {plural(s.other_currencies, 'purchase')} in other currencies left out" * bool(
            s.other_currencies
        )
        output.say(
            f"{plural(s.n, 'customer')} bought {show(s.revenue)} up to"
            f" {s.as_of}; the top 20% brought {share} of it{others}."
        )
        if top is None and len(rows) < s.n and segment is None:
            output.more_rows(len(rows), s.n, "--top N for more, --json for all")
    elif s.other_currencies:  # piped: the rows stay clean, stderr says what is left out
        output.note(
            f"amounts in {s.currency} only; {plural(s.other_currencies, 'purchase')}"
            " in other currencies left out"
        )


def _explain(years: int, currency: str) -> None:
    for line in (
        "r, f, m: 1-5 by rank among all customers (ties share the lower rank):",
        "  r: days since the last purchase, longest ago = 1; f: purchases; m: total bought.",
        "segment: from r and f (docs/value.md); abc: by total, A = the first 80% of revenue,"
        " B = the next 15%, C = the rest.",
        f"clv = total × 365 × {years} years / max(365, days since the first purchase), in"
        f" {currency}: a year's spending, kept up for {years} years (clv_years in settings).",
    ):
        output.say(line)
