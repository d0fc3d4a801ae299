"""`tinycrm report customers|pipeline|team|sources`: the numbers a sales lead reads on a
Monday morning (definitions in docs/reports.md).

Each report is a few tables. On a terminal they are Rich tables with bars where a picture
reads faster; piped, one tab-separated line per row that starts with the table's key
(`segment`, `stage`, ...), so `grep`/`awk` can pick a table; `--format csv` prints each
table with its header row, tables separated by an empty line; `--json` the whole report.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tinycrm.cli import output
from tinycrm.cli.common import LIMIT_MAX, FormatOpt, JsonOpt, day, get_ctx, table_format
from tinycrm.errors import InvalidInput
from tinycrm.services.context import Ctx

if TYPE_CHECKING:
    from tinycrm.services.reports import CustomerList

report_app = typer.Typer(
    help="Reports: customers, pipeline, team, lead sources and products.", no_args_is_help=True
)

SinceOpt = Annotated[
    str | None,
    typer.Option("--since", help="First day of the period (a WHEN or date).", show_default=False),
]
UntilOpt = Annotated[
    str | None,
    typer.Option("--until", help="Last day of the period (default today).", show_default=False),
]
CurrencyOpt = Annotated[
    str | None,
    typer.Option(
        "--currency", help="Money in this currency (default from settings).", show_default=False
    ),
]
BAR_WIDTH = 12  # cells for the longest bar; the widest table still fits 100 columns


def _day(ctx: Ctx, text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return day(ctx, text, past=True)
    except InvalidInput as e:
        raise InvalidInput(f"{option}: {e}") from None


def _days(text: str) -> int:
    """`90d`, `13w` or a bare number of days, as a whole number of days."""
    raw = text.strip()
    if raw.isdigit():
        return int(raw)
    from datetime import timedelta

    from tinycrm.dates import parse_duration

    span = parse_duration(raw)
    if span % timedelta(days=1):
        raise InvalidInput(f"--once-older-than must be whole days, like 90d or 13w: {text!r}")
    return span.days


@dataclass
class _Table:
    """One table of a report, as people see it and as spreadsheets get it."""

    key: str  # the first field of each piped line
    title: str
    columns: list[str]
    rows: list[list[Any]]
    csv_columns: list[str]
    csv_rows: list[list[Any]]
    bars: list[float] = field(default_factory=list)  # one per row, drawn on a terminal
    bar_title: str = ""
    bar_full: float = 0.0  # the value of a full-width bar (default: the largest)
    footer: list[list[Any]] = field(default_factory=list)  # a total row, never in CSV


def _render(tables: list[_Table], fmt: str, notes: list[str]) -> None:
    if fmt == "csv":
        for i, t in enumerate(tables):
            if i:
                sys.stdout.write("\r\n")
            output.csv_rows(t.csv_columns, t.csv_rows)
        return
    tty = output.is_tty()
    for i, t in enumerate(tables):
        if not tty:
            output.table([t.key, *t.columns], [[t.key, *r] for r in t.rows + t.footer])
            continue
        if i:
            output.say("")
        columns, rows = list(t.columns), [list(r) for r in t.rows] + [list(r) for r in t.footer]
        if t.bars:
            largest = t.bar_full or max(t.bars)
            columns.append(t.bar_title)
            for r, v in zip(rows, t.bars, strict=False):
                r.append(output.bar(v, largest, BAR_WIDTH))
            for r in rows[len(t.bars) :]:
                r.append("")
        output.say(t.title)  # above the table, not in it: Rich wraps titles to its width
        output.table(columns, rows, empty="nothing to show")
    for note in notes:  # piped, on stderr: the data stays clean, the reader still knows
        output.say(note) if tty else output.note(note)


def _currency_note(currency: str, others: list[str]) -> list[str]:
    if not others:
        return []
    return [f"Money in {currency} only; {', '.join(others)} amounts are left out (see --currency)."]


def _money(cents: int, currency: str) -> str:
    from tinycrm.money import display_money

    return display_money(cents, currency)


def _amount(cents: int) -> str:
    """An amount for a wide table whose title names the currency: '1,234.50'."""
    from tinycrm.money import display_money

    return display_money(cents, "").strip()


def _span(since: date, until: date) -> str:
    return f"{since.isoformat()} – {until.isoformat()}"


# -- customers --------------------------------------------------------------------------------
def _segment_label(name: str, older_than: int) -> str:
    return {
        "bought": "bought",
        "repeat": "bought on 2+ days",
        "once": f"bought once, over {older_than} days ago",
        "never-bought": "never bought",
        "never-contacted": "never contacted",
        "churn": "churn risk (overdue for their rhythm)",
    }[name]


@report_app.command("customers")
def customers(
    once_older_than: Annotated[
        str,
        typer.Option(
            "--once-older-than", help="'Bought once' counts only a purchase older than this."
        ),
    ] = "90d",
    list_: Annotated[
        str | None,
        typer.Option(
            "--list",
            help="List one segment's contacts: bought, repeat, once, never-bought,"
            " never-contacted or churn.",
            show_default=False,
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            "-n",
            min=1,
            max=LIMIT_MAX,
            help="With --list: at most this many (default: a screenful).",
        ),
    ] = None,
    currency: CurrencyOpt = None,
    fmt: FormatOpt = "table",
    json_: JsonOpt = False,
) -> None:
    """The customer base: segments and concentration.

    Who bought, bought again, lapsed, was never reached, or is overdue for their usual
    rhythm; and how concentrated revenue is.
    """
    from tinycrm.services import reports

    kind = table_format(fmt, json_)
    older = _days(once_older_than)
    ctx = get_ctx()
    if list_ is not None:
        shown = limit if kind != "table" else output.screen_limit(limit)
        found = reports.customer_list(
            ctx,
            list_.strip().lower(),
            once_older_than=older,
            currency=currency,
            limit=shown,
        )
        _render_customer_list(ctx, found, kind, shown)
        return
    r = reports.customers_report(ctx, once_older_than=older, currency=currency)
    if kind == "json":
        output.emit_json(r)
        return
    segments = _Table(
        "segment",
        f"Customers on {r.as_of.strftime('%a %d %b %Y')}: {r.contacts:,} contacts",
        ["segment", "contacts", "share", "list with"],
        [
            [
                _segment_label(s.name, r.once_older_than_days),
                f"{s.contacts:,}",
                f"{output.percent(s.share)} of {s.of}",
                f"--list {s.name}",
            ]
            for s in r.segments
        ],
        ["segment", "contacts", "of", "share"],
        [[s.name, s.contacts, s.of, s.share] for s in r.segments],
    )
    concentration = _Table(
        "concentration",
        f"Revenue concentration in {r.currency}",
        ["customers", "revenue", "share"],
        [
            [
                f"top {c.top_percent}% ({c.customers:,})",
                _money(c.revenue_cents, r.currency),
                output.percent(c.share),
            ]
            for c in r.concentration
        ],
        ["top_percent", "customers", "revenue", "currency", "share"],
        [[c.top_percent, c.customers, c.revenue, r.currency, c.share] for c in r.concentration],
        bars=[c.share or 0.0 for c in r.concentration],
        bar_title="share",
        bar_full=1.0,
        footer=[
            [
                f"all ({r.revenue_customers:,})",
                _money(r.revenue_cents, r.currency),
                output.percent(1.0),
            ]
        ]
        if r.concentration
        else [],
    )
    # CSV keeps its shape (two tables) even before anyone bought in the currency
    tables = [segments] + ([concentration] if r.concentration or kind == "csv" else [])
    notes = _currency_note(r.currency, r.other_currencies)
    if output.is_tty():
        notes.insert(
            0, "Definitions: docs/reports.md. Drill down: tinycrm report customers --list churn"
        )
    _render(tables, kind, notes)


def _render_customer_list(ctx: Ctx, found: CustomerList, kind: str, shown: int | None) -> None:
    rows = found.rows
    if kind == "json":
        output.emit_json(rows)
        return
    if kind == "csv":
        output.csv_rows(
            [
                "id",
                "name",
                "owner",
                "last_purchase_on",
                "purchases",
                "buying_days",
                "total",
                "currency",
                "last_touch_at",
            ],
            [
                [
                    c.id,
                    c.name,
                    c.owner,
                    c.last_purchase_on,
                    c.purchases,
                    c.buying_days,
                    c.total,
                    c.currency,
                    c.last_touch_at,
                ]
                for c in rows
            ],
        )
        return
    output.table(
        ["id", "name", "owner", "last purchase", "purchases", "total", "last touch"],
        [
            [
                c.id,
                c.name,
                c.owner or "",
                c.last_purchase_on.isoformat() if c.last_purchase_on else "",
                c.purchases
                if c.purchases == c.buying_days
                else f"{c.purchases} on {c.buying_days} days",
                _money(c.total_cents, c.currency),
                output.local(c.last_touch_at, ctx.tz)[:10],
            ]
            for c in rows
        ],
        empty=f"nobody in {found.segment}",
    )
    if shown is not None:
        output.more_rows(len(rows), found.matching, "raise --limit, or use --format csv")


# -- pipeline ---------------------------------------------------------------------------------
@report_app.command("pipeline")
def pipeline(
    since: SinceOpt = None,
    until: UntilOpt = None,
    currency: CurrencyOpt = None,
    fmt: FormatOpt = "table",
    json_: JsonOpt = False,
) -> None:
    """The pipeline: stages, conversion, won and lost.

    Open deals per stage (count, value, weighted), conversion between stages, days in
    stage, and what was won and lost in the period (default: the last 90 days).
    """
    from tinycrm.services.reports import pipeline_report

    kind = table_format(fmt, json_)
    ctx = get_ctx()
    r = pipeline_report(
        ctx,
        since=_day(ctx, since, "--since"),
        until=_day(ctx, until, "--until"),
        currency=currency,
    )
    if kind == "json":
        output.emit_json(r)
        return
    cur = r.currency
    stages = _Table(
        "stage",
        f"Open pipeline in {cur}",
        ["stage", "deals", "value", "weighted", "%"],
        [
            [
                s.stage,
                f"{s.deals:,}",
                _money(s.value_cents, cur),
                _money(s.weighted_cents, cur),
                s.probability,
            ]
            for s in r.stages
        ],
        [
            "stage",
            "probability",
            "deals",
            "value",
            "weighted",
            "currency",
            "reached",
            "to_next",
            "to_won",
            "stints",
            "avg_days",
        ],
        [
            [
                s.stage,
                s.probability,
                s.deals,
                s.value,
                s.weighted,
                cur,
                s.reached,
                s.to_next,
                s.to_won,
                s.stints,
                s.avg_days,
            ]
            for s in r.stages
        ],
        bars=[float(s.value_cents) for s in r.stages],
        bar_title="value",
        footer=[
            [
                "total",
                f"{r.open_deals:,}",
                _money(r.open_value_cents, cur),
                _money(r.open_weighted_cents, cur),
                "",
            ]
        ],
    )
    flow = _Table(
        "flow",
        "How deals move (every deal ever, every currency)",
        ["stage", "reached", "to next", "to won", "avg days in stage"],
        [
            [
                s.stage,
                f"{s.reached:,}",
                output.percent(s.to_next),
                output.percent(s.to_won),
                "–" if s.avg_days is None else f"{s.avg_days:.1f}",
            ]
            for s in r.stages
        ],
        [],
        [],
    )
    closed = _Table(
        "closed",
        f"Won and lost, {_span(r.since, r.until)}",
        ["outcome", "deals", "value"],
        [[c.outcome, f"{c.deals:,}", _money(c.value_cents, cur)] for c in r.closed],
        ["outcome", "deals", "value", "currency", "since", "until"],
        [[c.outcome, c.deals, c.value, cur, r.since, r.until] for c in r.closed],
        footer=[["win rate", output.percent(r.win_rate), ""]],
    )
    reasons = _Table(
        "reason",
        "Lost, by reason",
        ["reason", "deals", "value"],
        [
            [x.reason or "(none)", f"{x.deals:,}", _money(x.value_cents, cur)]
            for x in r.lost_reasons
        ],
        ["lost_reason", "deals", "value", "currency"],
        [[x.reason, x.deals, x.value, cur] for x in r.lost_reasons],
    )
    if kind == "csv":  # the flow columns ride on the stage table
        _render([stages, closed, reasons], kind, [])
        return
    tables = [stages, flow, closed] + ([reasons] if r.lost_reasons else [])
    _render(tables, kind, _currency_note(cur, r.other_currencies))


# -- team -------------------------------------------------------------------------------------
@report_app.command("team")
def team(
    since: SinceOpt = None,
    until: UntilOpt = None,
    currency: CurrencyOpt = None,
    fmt: FormatOpt = "table",
    json_: JsonOpt = False,
) -> None:
    """Per salesperson: activity, wins, revenue, pipeline.

    Activities logged and deals won in the period (default: the last 90 days), their
    customers' revenue, open pipeline and overdue reminders.
    """
    from tinycrm.services.reports import TeamLine, team_report

    kind = table_format(fmt, json_)
    ctx = get_ctx()
    r = team_report(
        ctx,
        since=_day(ctx, since, "--since"),
        until=_day(ctx, until, "--until"),
        currency=currency,
    )
    if kind == "json":
        output.emit_json(r)
        return
    cur = r.currency

    def cells(u: TeamLine, name: str) -> list[Any]:
        return [
            name,
            f"{u.activities:,}",
            f"{u.deals_won:,}",
            _amount(u.won_value_cents),
            _amount(u.revenue_cents),
            f"{u.open_deals:,}",
            _amount(u.open_weighted_cents),
            f"{u.overdue_reminders:,}",
        ]

    table = _Table(
        "user",
        f"Team, {_span(r.since, r.until)} (money in {cur}; pipeline and overdue as of now)",
        ["user", "activities", "won", "won value", "revenue", "open", "weighted", "overdue"],
        [cells(u, u.user or "(nobody)") for u in r.users],
        [
            "user",
            "activities",
            "deals_won",
            "won_value",
            "revenue",
            "open_deals",
            "open_weighted",
            "overdue_reminders",
            "currency",
        ],
        [
            [
                u.user or "(nobody)",
                u.activities,
                u.deals_won,
                u.won_value,
                u.revenue,
                u.open_deals,
                u.open_weighted,
                u.overdue_reminders,
                cur,
            ]
            for u in r.users
        ],
        footer=[cells(r.total, "total")],
    )
    _render([table], kind, _currency_note(cur, r.other_currencies))


# -- sources ----------------------------------------------------------------------------------
@report_app.command("sources")
def sources(
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only contacts created from this day on.", show_default=False),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", help="Only contacts created up to this day.", show_default=False),
    ] = None,
    currency: CurrencyOpt = None,
    fmt: FormatOpt = "table",
    json_: JsonOpt = False,
) -> None:
    """Per lead source: contacts, conversion, revenue.

    How many became customers, their revenue and deals won; --since/--until pick the
    contacts created in that period.
    """
    from tinycrm.services.reports import SourceLine, sources_report

    kind = table_format(fmt, json_)
    ctx = get_ctx()
    r = sources_report(
        ctx,
        since=_day(ctx, since, "--since"),
        until=_day(ctx, until, "--until"),
        currency=currency,
    )
    if kind == "json":
        output.emit_json(r)
        return
    cur = r.currency

    def cells(s: SourceLine, name: str) -> list[Any]:
        return [
            name,
            f"{s.contacts:,}",
            f"{s.customers:,}",
            output.percent(s.conversion),
            _amount(s.revenue_cents),
            f"{s.deals_won:,}",
            _amount(s.won_value_cents),
        ]

    who = "every contact"
    if r.since or r.until:
        who = "contacts created " + (
            _span(r.since, r.until)
            if r.since and r.until
            else f"from {r.since.isoformat()}"
            if r.since
            else f"up to {r.until.isoformat()}"
            if r.until
            else ""
        )
    table = _Table(
        "source",
        f"Lead sources: {who} (money in {cur})",
        ["source", "contacts", "customers", "conversion", "revenue", "won", "won value"],
        [cells(s, s.source or "(none)") for s in r.sources],
        [
            "source",
            "contacts",
            "customers",
            "conversion",
            "revenue",
            "deals_won",
            "won_value",
            "currency",
        ],
        [
            [
                s.source or "(none)",
                s.contacts,
                s.customers,
                s.conversion,
                s.revenue,
                s.deals_won,
                s.won_value,
                cur,
            ]
            for s in r.sources
        ],
        bars=[float(s.revenue_cents) for s in r.sources],
        bar_title="revenue",
        footer=[cells(r.total, "total")],
    )
    _render([table], kind, _currency_note(cur, r.other_currencies))


# -- products ---------------------------------------------------------------------------------
@report_app.command("products")
def products(
    since: SinceOpt = None,
    until: UntilOpt = None,
    currency: CurrencyOpt = None,
    fmt: FormatOpt = "table",
    json_: JsonOpt = False,
) -> None:
    """Per product: units sold, revenue and customers.

    From the purchases that name a product in the period (default: the last 90 days);
    refunds give units and revenue back.
    """
    from tinycrm.services.product_report import products_report

    kind = table_format(fmt, json_)
    ctx = get_ctx()
    r = products_report(
        ctx,
        since=_day(ctx, since, "--since"),
        until=_day(ctx, until, "--until"),
        currency=currency,
    )
    if kind == "json":
        output.emit_json(r)
        return
    cur = r.currency
    table = _Table(
        "product",
        f"Products, {_span(r.since, r.until)} (revenue in {cur})",
        ["SKU", "product", "units", "revenue", "customers", "lines"],
        [
            [
                x.sku or "",
                x.name + (" (archived)" if x.archived else ""),
                f"{x.units:,}",
                _amount(x.revenue.cents),
                f"{x.customers:,}",
                f"{x.lines:,}",
            ]
            for x in r.products
        ],
        ["sku", "product", "units", "revenue", "customers", "lines", "currency"],
        [[x.sku or "", x.name, x.units, x.revenue, x.customers, x.lines, cur] for x in r.products],
        bars=[max(x.revenue.cents, 0) for x in r.products],
        bar_title="revenue",
        footer=[["", "total", "", _amount(r.revenue.cents), "", ""]]
        + (
            [["", "(no product)", "", _amount(r.without_product.cents), "", ""]]
            if r.without_product.cents
            else []
        ),
    )
    _render([table], kind, _currency_note(cur, r.other_currencies))
