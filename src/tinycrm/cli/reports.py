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
from tinycrm.cli.common import (
    LIMIT_MAX,
    FormatOpt,
    JsonOpt,
    OwnerOpt,
    ViewOpt,
    day,
    get_ctx,
    listing,
    table_format,
    when,
)
from tinycrm.errors import InvalidInput
from tinycrm.services.context import Ctx

if TYPE_CHECKING:
    from tinycrm.money import Money
    from tinycrm.services.goals import GoalProgress
    from tinycrm.services.reports import CustomerList

report_app = typer.Typer(
    help="Reports: customers, deals, team, sales, service, products.",
    no_args_is_help=True,
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
# the dated records (purchases) up to the end of the day, as `rank --as-of` counts them;
# the forecast's and team's --as-of (AsOfOpt, below) is a moment: the start of the day
AsOfDayOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Count up to the end of this day (default today).",
        show_default=False,
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
    as_of: AsOfDayOpt = None,
    where: Annotated[
        str | None,
        typer.Option(
            "--where", "-w", help="With --list: only contacts a filter matches (docs/cli.md)."
        ),
    ] = None,
    view: ViewOpt = None,
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
    day = _day(ctx, as_of, "--as-of")
    if (where or view) and list_ is None:
        raise InvalidInput("--where and --view narrow a list: give --list SEGMENT too")
    if list_ is not None:
        shown = limit if kind != "table" else output.screen_limit(limit)
        found = reports.customer_list(
            ctx,
            list_.strip().lower(),
            once_older_than=older,
            currency=currency,
            limit=shown,
            where=listing(ctx, "contacts", where, view).filter if (where or view) else None,
            as_of=day,
        )
        _render_customer_list(ctx, found, kind, shown)
        return
    r = reports.customers_report(ctx, once_older_than=older, currency=currency, as_of=day)
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


# -- forecast ---------------------------------------------------------------------------------
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Read the report at the start of this day (default: now).",
        show_default=False,
    ),
]


def _as_of(ctx: Ctx, text: str | None) -> Ctx:
    """The context read at local midnight starting the --as-of day (what the digest for
    that day says), or as it is."""
    if text is None:
        return ctx
    from dataclasses import replace
    from datetime import UTC, datetime, time

    try:
        the_day = day(ctx, text)
    except InvalidInput as e:
        raise InvalidInput(f"--as-of: {e}") from None
    start = datetime.combine(the_day, time(0), tzinfo=ctx.tz).astimezone(UTC)
    return replace(ctx, now=start)


@report_app.command("forecast")
def forecast(
    by: Annotated[str, typer.Option("--by", help="month or quarter.")] = "month",
    months: Annotated[
        int | None,
        typer.Option(
            "--months",
            help="How far ahead, from this month (default 3 by month, 12 by quarter).",
            show_default=False,
        ),
    ] = None,
    owner: Annotated[
        str | None, typer.Option("--owner", help="This user's deals.", show_default=False)
    ] = None,
    team: Annotated[bool, typer.Option("--team", help="Everyone's deals.")] = False,
    as_of: AsOfOpt = None,
    limit: Annotated[
        int,
        typer.Option("--limit", min=0, max=LIMIT_MAX, help="Deals listed apart, of each kind."),
    ] = 20,
    fmt: FormatOpt = "table",
    json_: JsonOpt = False,
) -> None:
    """What will close: open deals by expected close period.

    Count, value and weighted value (by probability) of your open deals (--owner, --team)
    per month or quarter, beside what was won in each; deals with no close day or one in
    the past are listed apart. Money per currency, never mixed.
    """
    from tinycrm.services.forecast import forecast_report

    kind = table_format(fmt, json_)
    ctx = _as_of(get_ctx(), as_of)
    r = forecast_report(ctx, by=by, months=months, owner=owner, team=team, listed=limit)
    if kind == "json":
        output.emit_json(r)
        return
    lines = r.periods + r.later
    largest: dict[str, int] = {}
    for x in lines:
        largest[x.currency] = max(largest.get(x.currency, 0), x.weighted.cents)
    whose = "the team" if r.owner is None else r.owner
    shown = [x for x in lines if x.currency == r.currencies[0] or _any(x)]
    table = _Table(
        "period",
        f"Forecast for {whose} by {r.by}, as of {r.today:%a %d %b %Y}",
        ["period", "deals", "value", "weighted", "won", "won value"],
        [
            [
                x.period,
                f"{x.deals:,}",
                output.money(x.value, x.currency),
                output.money(x.weighted, x.currency),
                f"{x.won_deals:,}",
                output.money(x.won_value, x.currency),
            ]
            for x in shown
        ],
        [
            "period",
            "first",
            "last",
            "currency",
            "deals",
            "value",
            "weighted",
            "won_deals",
            "won_value",
        ],  # fmt: skip
        [
            [
                x.period,
                x.first,
                x.last,
                x.currency,
                x.deals,
                x.value,
                x.weighted,
                x.won_deals,
                x.won_value,
            ]
            for x in lines
        ],  # fmt: skip
        bars=[x.weighted.cents / largest[x.currency] if largest[x.currency] else 0 for x in shown],
        bar_title="weighted",
        bar_full=1.0,
    )
    apart_columns = ["deal", "title", "owner", "stage", "close", "%", "value", "weighted"]
    apart_csv = [
        "list", "id", "title", "owner", "stage", "expected_close", "probability", "value",
        "weighted", "currency",
    ]  # fmt: skip

    def deals(key: str, title: str, found: list[Any]) -> _Table:
        return _Table(
            key,
            title,
            apart_columns,
            [
                [
                    f"#{d.id}",
                    d.title,
                    d.owner or "",
                    d.stage,
                    "" if d.expected_close is None else d.expected_close.isoformat(),
                    d.probability,
                    output.money(d.value, d.value.currency),
                    output.money(d.weighted, d.weighted.currency),
                ]
                for d in found
            ],
            apart_csv,
            [
                [
                    key,
                    d.id,
                    d.title,
                    d.owner,
                    d.stage,
                    d.expected_close,
                    d.probability,
                    d.value,
                    d.weighted,
                    d.value.currency,
                ]
                for d in found
            ],  # fmt: skip
        )

    overdue = deals("overdue", _apart("Close day passed", r.overdue), r.overdue_deals)
    undated = deals("undated", _apart("No close day", r.undated), r.undated_deals)
    if kind == "csv":
        _render([table, overdue, undated], kind, [])
        return
    tables = [table] + [t for t in (overdue, undated) if t.rows]
    notes = []
    if (r.overdue or r.undated) and output.is_tty():  # a hint for people, not for a pipe
        notes.append("Fix these with: tinycrm deal edit ID --close DAY")
    _render(tables, kind, notes)


def _any(x: Any) -> bool:
    """A forecast line with something in it."""
    return bool(x.deals or x.won_deals)


def _apart(title: str, sums: list[Any]) -> str:
    """`Close day passed: 3 deals, 12,000.00 EUR (weighted 6,000.00 EUR)` per currency."""
    from tinycrm.text import plural

    parts = [
        f"{plural(s.deals, 'deal')}, {output.money(s.value, s.currency)}"
        f" (weighted {output.money(s.weighted, s.currency)})"
        for s in sums
    ]
    return f"{title}: {'; '.join(parts) or 'none'}"


# -- team -------------------------------------------------------------------------------------
@report_app.command("team")
def team(
    since: SinceOpt = None,
    until: UntilOpt = None,
    currency: CurrencyOpt = None,
    as_of: AsOfOpt = None,
    fmt: FormatOpt = "table",
    json_: JsonOpt = False,
) -> None:
    """Per salesperson: activity, wins, revenue, pipeline, goals.

    Activities logged and deals won in the period (default: the last 90 days), their
    customers' revenue, open pipeline and overdue reminders; then each goal in force:
    achieved, %, working days left and the pace needed per day.
    """
    from tinycrm.services.reports import TeamLine, team_report

    kind = table_format(fmt, json_)
    ctx = _as_of(get_ctx(), as_of)
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
    tables = [table, *_goals_table(ctx, r.goals)]
    _render(tables, kind, _currency_note(cur, r.other_currencies))


def _goals_table(ctx: Ctx, found: list[GoalProgress]) -> list[_Table]:
    """The team report's goals: one row per goal in force, with the pace to reach it."""
    if not found:
        return []
    from tinycrm.io import goal_text

    def number(g: GoalProgress, value: float) -> str:
        """A cell in the goal's unit, named by the metric column."""
        if g.amount is not None:
            return _amount(int(value))
        return f"{value:,}" if value != int(value) else f"{int(value):,}"

    def pace(g: GoalProgress) -> str:
        if g.remaining == 0:
            return "met"
        if g.pace_money is not None:
            return _amount(g.pace_money.cents)
        return "–" if g.pace is None else number(g, g.pace)

    def metric(g: GoalProgress) -> str:
        return f"revenue {g.amount.currency}" if g.amount is not None else g.metric

    return [
        _Table(
            "goal",
            f"Goals, as of {found[0].as_of.astimezone(ctx.tz):%a %d %b %Y %H:%M}",
            ["user", "metric", "period", "goal", "achieved", "%", "days left", "pace/day"],
            [
                [
                    g.user,
                    metric(g),
                    g.period,
                    number(g, g.target),
                    number(g, g.achieved),
                    f"{goal_text.percent(g)}%",
                    f"{g.working_days_left:,}",
                    pace(g),
                ]
                for g in found
            ],
            [
                "user",
                "metric",
                "period",
                "first",
                "last",
                "goal",
                "achieved",
                "currency",
                "share",
                "working_days",
                "working_days_left",
                "pace",
            ],  # fmt: skip
            [
                [
                    g.user,
                    g.metric,
                    g.period,
                    g.first,
                    g.last,
                    g.amount if g.amount is not None else g.target,
                    g.achieved_money if g.achieved_money is not None else g.achieved,
                    None if g.amount is None else g.amount.currency,
                    g.share,
                    g.working_days,
                    g.working_days_left,
                    g.pace_money if g.pace_money is not None else g.pace,
                ]
                for g in found
            ],  # fmt: skip
            bars=[min(g.achieved / g.target, 1.0) if g.target else 0.0 for g in found],
            bar_title="progress",
            bar_full=1.0,
        )
    ]


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
    """Per lead source: contacts, conversion, revenue, ROI.

    How many became customers, their revenue and deals won; --since/--until pick the
    contacts created in that period, and the campaigns that started in it: their cost,
    ROI, cost per lead and per customer.
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
            "campaigns",
            "cost",
            "roi",
            "cost_per_lead",
            "cost_per_customer",
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
                s.campaigns,
                s.cost,
                s.roi,
                s.cost_per_lead,
                s.cost_per_customer,
            ]
            for s in r.sources
        ],
        bars=[float(s.revenue_cents) for s in r.sources],
        bar_title="revenue",
        footer=[cells(r.total, "total")],
    )
    paid = [s for s in r.sources if s.cost is not None]

    def spend(s: SourceLine, name: str) -> list[Any]:
        return [
            name,
            f"{s.campaigns:,}",
            _amount(s.cost_cents),
            f"{s.contacts:,}",
            f"{s.customers:,}",
            _amount(s.revenue_cents),
            _rate(s.roi),
            _per(s.cost_per_lead),
            _per(s.cost_per_customer),
        ]

    spend_columns = [
        "source", "campaigns", "cost", "leads", "customers", "revenue", "ROI", "per lead",
        "per customer",
    ]  # fmt: skip
    returns = _Table(
        "return",
        f"Marketing return per source: campaigns that started {_when(r.since, r.until)}",
        spend_columns,
        [spend(s, s.source or "(none)") for s in paid],
        [],
        [],
        footer=[spend(r.total, "total")] if len(paid) > 1 else [],
    )
    campaigns = _Table(
        "campaign",
        f"Campaigns that started {_when(r.since, r.until)}: their leads by first touch",
        [
            "campaign",
            "source",
            "cost",
            "leads",
            "customers",
            "revenue",
            "ROI",
            "per lead",
            "per customer",
        ],  # fmt: skip
        [
            [
                c.name,
                c.source,
                _amount(c.cost_cents),
                f"{c.leads:,}",
                f"{c.customers:,}",
                _amount(c.revenue_cents),
                _rate(c.roi),
                _per(c.cost_per_lead),
                _per(c.cost_per_customer),
            ]
            for c in r.campaigns
        ],
        [
            "id",
            "campaign",
            "source",
            "starts_on",
            "ends_on",
            "cost",
            "leads",
            "customers",
            "conversion",
            "revenue",
            "roi",
            "cost_per_lead",
            "cost_per_customer",
            "currency",
        ],  # fmt: skip
        [
            [
                c.id,
                c.name,
                c.source,
                c.starts_on,
                c.ends_on,
                c.cost,
                c.leads,
                c.customers,
                c.conversion,
                c.revenue,
                c.roi,
                c.cost_per_lead,
                c.cost_per_customer,
                cur,
            ]
            for c in r.campaigns
        ],
    )
    if kind == "csv":  # the return columns ride on the source table
        _render([table, campaigns], kind, [])
        return
    tables = [table] + ([returns, campaigns] if r.campaigns else [])
    _render(tables, kind, _currency_note(cur, r.other_currencies))


def _when(since: date | None, until: date | None) -> str:
    if since and until:
        return _span(since, until)
    if since:
        return f"from {since.isoformat()}"
    if until:
        return f"up to {until.isoformat()}"
    return "at any time"


def _rate(rate: float | None) -> str:
    """A ratio that can pass 100% or go below 0 (ROI): '+250.0%', '-40.0%', '–'."""
    if rate is None:
        return "–"
    text = output.percent(rate)
    return text if rate < 0 else "+" + text


def _per(amount: Money | None) -> str:
    return "–" if amount is None else _amount(amount.cents)


# -- revenue and retention --------------------------------------------------------------------
def _growth(rate: float | None) -> str:
    return _rate(rate)


@report_app.command("revenue")
def revenue(
    by: Annotated[str, typer.Option("--by", help="month, quarter or year.")] = "month",
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="First day (default: 12 months, 8 quarters or 5 years back).",
            show_default=False,
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", help="Last day (default: the as-of day).", show_default=False),
    ] = None,
    as_of: AsOfDayOpt = None,
    level: Annotated[
        str, typer.Option("--level", help="Customers are contacts or companies.")
    ] = "contact",
    currency: CurrencyOpt = None,
    fmt: FormatOpt = "table",
    json_: JsonOpt = False,
) -> None:
    """Revenue per month, quarter or year, with a chart.

    Orders, customers (new and returning), average order value and growth per period;
    refunds lower revenue (docs/value.md).
    """
    from tinycrm.services.trends import RevenuePeriod, revenue_report

    kind = table_format(fmt, json_)
    ctx = get_ctx()
    r = revenue_report(
        ctx,
        by=by,
        since=_day(ctx, since, "--since"),
        until=_day(ctx, until, "--until"),
        as_of=_day(ctx, as_of, "--as-of"),
        level=level.strip().lower(),
        currency=currency,
    )
    if kind == "json":
        output.emit_json(r)
        return
    cur = r.currency

    def cells(p: RevenuePeriod) -> list[Any]:
        return [
            p.period,
            _amount(p.revenue_cents),
            f"{p.orders:,}",
            f"{p.customers:,}",
            f"{p.new_customers:,}",
            f"{p.returning_customers:,}",
            _per(p.average_order),
            _growth(p.growth) if p.period != "total" else "",
        ]

    who = "companies" if r.level == "company" else "customers"
    table = _Table(
        "period",
        f"Revenue by {r.by} in {cur}, {_span(r.since, r.until)}",
        ["period", "revenue", "orders", who, "new", "returning", "avg order", "growth"],
        [cells(p) for p in r.periods],
        [
            "period",
            "first_day",
            "last_day",
            "revenue",
            "orders",
            "customers",
            "new_customers",
            "returning_customers",
            "average_order",
            "growth",
            "currency",
        ],  # fmt: skip
        [
            [
                p.period,
                p.first_day,
                p.last_day,
                p.revenue,
                p.orders,
                p.customers,
                p.new_customers,
                p.returning_customers,
                p.average_order,
                p.growth,
                cur,
            ]
            for p in r.periods
        ],
        bars=[float(max(p.revenue_cents, 0)) for p in r.periods],
        bar_title="revenue",
        footer=[cells(r.total)],
    )
    notes = _currency_note(cur, r.other_currencies)
    if output.is_tty():
        cut = [p.period for p in r.periods if (p.first_day, p.last_day) != _whole(r.by, p.period)]
        if cut:
            notes.insert(0, f"Part of the period only: {', '.join(cut)}.")
    _render([table], kind, notes)


def _whole(by: str, name: str) -> tuple[date, date]:
    """The first and last day of a whole period named as the report names it."""
    from tinycrm.services.trends import key_of, period_end, period_start

    year = int(name[:4])
    if by == "month":
        first = date(year, int(name[5:7]), 1)
    elif by == "quarter":
        first = date(year, (int(name[6]) - 1) * 3 + 1, 1)
    else:
        first = date(year, 1, 1)
    key = key_of(by, first)
    return period_start(by, key), period_end(by, key)


@report_app.command("retention")
def retention(
    by: Annotated[str, typer.Option("--by", help="month or quarter.")] = "month",
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="The first cohort's period holds this day (default: 12 months or 8 quarters"
            " back).",
            show_default=False,
        ),
    ] = None,
    as_of: AsOfDayOpt = None,
    currency: CurrencyOpt = None,
    fmt: FormatOpt = "table",
    json_: JsonOpt = False,
) -> None:
    """Cohorts: do customers buy again?

    Customers by the period of their first order, the share of each that ordered again
    in each later period, and the retention rate.
    """
    from tinycrm.services.trends import key_of, period_name, retention_report

    kind = table_format(fmt, json_)
    ctx = get_ctx()
    r = retention_report(
        ctx,
        by=by,
        since=_day(ctx, since, "--since"),
        as_of=_day(ctx, as_of, "--as-of"),
        currency=currency,
    )
    if kind == "json":
        output.emit_json(r)
        return
    width = max((len(c.shares) for c in r.cohorts), default=0)
    long_rows = []
    for c in r.cohorts:
        key = key_of(r.by, c.first_day)
        long_rows.append([c.period, c.customers, 0, c.period, c.customers, _first_share(c)])
        for j, (n, share) in enumerate(zip(c.retained, c.shares, strict=True), start=1):
            long_rows.append([c.period, c.customers, j, period_name(r.by, key + j), n, share])
    cohorts = _Table(
        "cohort",
        f"Cohorts by first {r.by} ({r.currency}): the share ordering again N {r.by}s later,"
        f" as of {r.as_of.isoformat()}",
        ["cohort", "customers", *(f"+{j}" for j in range(1, width + 1))],
        [[c.period, f"{c.customers:,}", *(_whole_percent(s) for s in c.shares)] for c in r.cohorts],
        ["cohort", "customers", "offset", "period", "ordered", "share"],
        long_rows,
        footer=[["all", "", *(_whole_percent(s) for s in r.average)]],
    )
    rate = _Table(
        "retention",
        "Retention",
        ["customers", "bought again later", "retention rate"],
        [[f"{r.eligible:,}", f"{r.returned:,}", output.percent(r.retention_rate)]],
        ["as_of", "since", "by", "customers", "returned", "retention_rate", "currency"],
        [[r.as_of, r.since, r.by, r.eligible, r.returned, r.retention_rate, r.currency]],
    )
    notes = _currency_note(r.currency, r.other_currencies)
    if output.is_tty():
        last = r.cohorts[-1].period if r.cohorts else ""
        notes[:0] = [
            f"Retention rate {output.percent(r.retention_rate)}: {r.returned:,} of"
            f" {r.eligible:,} customers ordered again in a later {r.by}",
            f"(the customers whose first {r.by} came before {last};"
            f" {last} has run only to {r.as_of.isoformat()}).",
        ]
        _render([cohorts], kind, notes)
        return
    _render([cohorts, rate], kind, notes)


def _first_share(c: Any) -> float | None:
    """A cohort's share in its own first period: all of them, when there are any."""
    return 1.0 if c.customers else None


def _whole_percent(rate: float | None) -> str:
    """A share as a whole percentage, half-up ('45%'), so a year of cohorts fits a screen."""
    if rate is None:
        return "–"
    from decimal import ROUND_HALF_UP, Decimal

    return f"{(Decimal(str(rate)) * 100).quantize(Decimal('1'), rounding=ROUND_HALF_UP)}%"


# -- service ----------------------------------------------------------------------------------
def _worked(minutes: int | None) -> str:
    """Working time as `dates.span` writes a length, but never in days: `1d` would read as
    24 hours, while a working day is the working-hours window (8h by default)."""
    from tinycrm.dates import span

    if minutes is None:
        return "—"
    if minutes == 0:
        return "0 min"  # answered at once (span's "now" reads as a time)
    return span(minutes * 60) if minutes < 24 * 60 else f"{minutes // 60}h"


@report_app.command("service")
def service(
    since: SinceOpt = None,
    until: UntilOpt = None,
    owner: OwnerOpt = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Judge open and late cases at this time (default now).",
            show_default=False,
        ),
    ] = None,
    fmt: FormatOpt = "table",
    json_: JsonOpt = False,
) -> None:
    """Service cases: open, SLA breaches, times, satisfaction.

    Open cases by priority and age, first-response and resolution times in working hours
    (median, p90) with SLA breaches, and satisfaction, per user and for the team, for the
    period (default: the last 90 days).
    """
    from tinycrm.services.service_report import AGE_BANDS, SCORES, ServiceLine, service_report

    kind = table_format(fmt, json_)
    ctx = get_ctx()
    r = service_report(
        ctx,
        since=_day(ctx, since, "--since"),
        until=_day(ctx, until, "--until"),
        owner=owner,
        as_of=when(ctx, as_of) if as_of else None,
    )
    if kind == "json":
        output.emit_json(r)
        return
    from tinycrm.services.sla import PRIORITIES

    bands = [b[0] for b in AGE_BANDS]
    lines = [(v, v.user or "(nobody)") for v in r.users] + [(r.team, "team")]

    def open_cells(v: ServiceLine, name: str) -> list[Any]:
        return [
            name,
            v.open_now,
            *(v.open_by_priority[p] for p in PRIORITIES),
            *(v.open_by_age[b] for b in bands),
            v.late_response_now,
            v.late_resolution_now,
        ]

    def time_cells(v: ServiceLine, name: str) -> list[Any]:
        return [
            name,
            v.opened,
            v.response.count,
            _worked(v.response.median_minutes),
            _worked(v.response.p90_minutes),
            v.response.breached,
            v.resolution.count,
            _worked(v.resolution.median_minutes),
            _worked(v.resolution.p90_minutes),
            v.resolution.breached,
        ]

    def time_csv(v: ServiceLine, name: str) -> list[Any]:
        return [
            name,
            v.opened,
            v.response.count,
            v.response.median_minutes,
            v.response.p90_minutes,
            v.response.breached,
            v.resolution.count,
            v.resolution.median_minutes,
            v.resolution.p90_minutes,
            v.resolution.breached,
        ]

    def csat_cells(v: ServiceLine, name: str) -> list[Any]:
        avg = "—" if v.csat_average is None else f"{v.csat_average:.2f}"
        return [name, v.csat_count, avg, *(v.csat_scores[s] for s in SCORES)]

    def csat_csv(v: ServiceLine, name: str) -> list[Any]:
        return [name, v.csat_count, v.csat_average, *(v.csat_scores[s] for s in SCORES)]

    def build(
        key: str, title: str, cols: list[str], cells: Any, csv_cols: list[str], csv: Any
    ) -> _Table:
        every = [cells(v, n) for v, n in lines]  # the team's line last: a footer on screen
        rows = [csv(v, n) for v, n in lines]  # and a row in CSV (its medians are its own)
        return _Table(key, title, cols, every[:-1], csv_cols, rows, footer=every[-1:])

    period_ = _span(r.since, r.until)
    at = output.local(r.as_of, ctx.tz)
    open_cols = ["user", "open", *PRIORITIES, *bands, "late response", "late resolution"]
    tables = [
        build(
            "open",
            f"Open cases as of {at}: by priority, by age (calendar days), late now",
            open_cols,
            open_cells,
            [
                "user",
                "open",
                *PRIORITIES,
                *(f"age_{b}" for b in bands),
                "late_response",
                "late_resolution",
            ],
            open_cells,
        ),
        build(
            "times",
            f"Cases {period_}: first response and resolution in working hours",
            [
                "user",
                "opened",
                "responded",
                "median",
                "p90",
                "late",
                "resolved",
                "median",
                "p90",
                "late",
            ],
            time_cells,
            [
                "user",
                "opened",
                "responded",
                "response_median_minutes",
                "response_p90_minutes",
                "response_breached",
                "resolved",
                "resolution_median_minutes",
                "resolution_p90_minutes",
                "resolution_breached",
            ],
            time_csv,
        ),
        build(
            "csat",
            f"Satisfaction of the cases closed {period_} (1-5)",
            ["user", "scored", "average", *(str(s) for s in SCORES)],
            csat_cells,
            ["user", "scored", "average", *(f"score_{s}" for s in SCORES)],
            csat_csv,
        ),
    ]
    _render(tables, kind, [])


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
