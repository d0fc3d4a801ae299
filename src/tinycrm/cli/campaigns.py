"""`tinycrm campaign ...`: marketing campaigns, the cost behind a lead source for a time.

Their return (leads, customers, revenue, ROI, cost per lead and per customer) is in
`tinycrm report sources` (docs/reports.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from tinycrm.cli import output
from tinycrm.cli.common import (
    FormatOpt,
    IfVersionOpt,
    JsonOpt,
    YesOpt,
    confirm,
    day,
    get_ctx,
    table_format,
)
from tinycrm.errors import InvalidInput

if TYPE_CHECKING:
    from datetime import date

    from tinycrm.money import TypedAmount
    from tinycrm.services.campaigns import Campaign
    from tinycrm.services.context import Ctx

campaign_app = typer.Typer(
    help="Marketing campaigns: what a lead source cost, and when.", no_args_is_help=True
)

RefArg = Annotated[str, typer.Argument(help="The campaign's id or name.")]
SourceOpt = Annotated[
    str | None,
    typer.Option(
        "--source", help="The lead source it brings (as contacts carry it).", show_default=False
    ),
]
CostOpt = Annotated[
    str | None,
    typer.Option("--cost", help="What it cost: 2500, '€2,500', '2500 usd'.", show_default=False),
]
CurrencyOpt = Annotated[
    str | None,
    typer.Option(
        "--currency", help="The cost's currency (default from settings).", show_default=False
    ),
]
StartOpt = Annotated[
    str | None,
    typer.Option(
        "--start", help="Its first day (a WHEN or date; default today).", show_default=False
    ),
]
EndOpt = Annotated[
    str | None,
    typer.Option(
        "--end", help="Its last day (default: still running; 'none' on edit).", show_default=False
    ),
]


def _cost(ctx: Ctx, cost: str, currency: str | None) -> TypedAmount:
    from tinycrm.money import parse_currency, parse_money

    given = parse_currency(currency, field="--currency", usual=[ctx.currency]) if currency else None
    return parse_money(cost, field="--cost", currency=given, usual=[ctx.currency])


def _day(ctx: Ctx, text: str, option: str) -> date:
    try:
        return day(ctx, text)
    except InvalidInput as e:
        raise InvalidInput(f"{option}: {e}") from None


def _run(c: Campaign) -> str:
    end = c.ends_on.isoformat() if c.ends_on else "running"
    return f"{c.starts_on.isoformat()} – {end}"


def _said(c: Campaign, verb: str) -> str:
    from tinycrm.money import show

    return f"{verb} campaign #{c.id} {c.name}: {show(c.cost)} for {c.source!r}, {_run(c)}"


@campaign_app.command("add")
def campaign_add(
    name: Annotated[str, typer.Argument(help="The campaign's name (unique).")],
    source: SourceOpt = None,
    cost: CostOpt = None,
    currency: CurrencyOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Record a campaign: its cost for a lead source.

    Contacts of that source created from --start to --end count as its leads (first
    touch; see docs/reports.md)."""
    from tinycrm.services import campaigns

    if source is None:
        raise InvalidInput("campaign add needs --source: the lead source it brings")
    if cost is None:
        raise InvalidInput("campaign add needs --cost: what it cost (0 for a free one)")
    ctx = get_ctx()
    money = _cost(ctx, cost, currency)
    c = campaigns.add_campaign(
        ctx,
        name,
        source=source,
        cost_cents=money.cents,
        currency=money.currency,
        starts_on=_day(ctx, start, "--start") if start else None,
        ends_on=_day(ctx, end, "--end") if end else None,
    )
    if json_:
        output.emit_json(c)
    else:
        output.say(_said(c, "Added"))


@campaign_app.command("list")
def campaign_list(
    source: SourceOpt = None, fmt: FormatOpt = "table", json_: JsonOpt = False
) -> None:
    """Campaigns, latest first: source, cost and days."""
    from tinycrm.money import display_money
    from tinycrm.services import campaigns

    kind = table_format(fmt, json_)
    ctx = get_ctx()
    rows = campaigns.list_campaigns(ctx, source=source)
    if kind == "json":
        output.emit_json(rows)
        return
    if kind == "csv":
        output.csv_rows(
            ["id", "name", "source", "cost", "currency", "starts_on", "ends_on", "version"],
            [
                [c.id, c.name, c.source, c.cost, c.cost.currency, c.starts_on, c.ends_on, c.version]
                for c in rows
            ],
        )
        return
    output.table(
        ["id", "name", "source", "cost", "days"],
        [
            [c.id, c.name, c.source, display_money(c.cost.cents, c.cost.currency), _run(c)]
            for c in rows
        ],
        empty="no campaigns yet: tinycrm campaign add NAME --source S --cost AMOUNT",
    )


@campaign_app.command("edit")
def campaign_edit(
    ref: RefArg,
    name: Annotated[
        str | None, typer.Option("--name", help="New name.", show_default=False)
    ] = None,
    source: SourceOpt = None,
    cost: CostOpt = None,
    currency: CurrencyOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    if_version: IfVersionOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Change a campaign's name, source, cost or days."""
    from tinycrm.services import campaigns

    ctx = get_ctx()
    money = _cost(ctx, cost, currency) if cost is not None else None
    if money is None and currency is not None:
        from tinycrm.money import parse_currency

        money_currency: str | None = parse_currency(
            currency, field="--currency", usual=[ctx.currency]
        )
    else:
        money_currency = money.currency if money else None
    clear = end is not None and end.strip().lower() in ("none", "")
    c = campaigns.edit_campaign(
        ctx,
        ref,
        name=name,
        source=source,
        cost_cents=money.cents if money else None,
        currency=money_currency,
        starts_on=_day(ctx, start, "--start") if start else None,
        ends_on=_day(ctx, end, "--end") if end and not clear else None,
        clear_end=clear,
        expected_version=if_version,
    )
    if json_:
        output.emit_json(c)
    else:
        output.say(_said(c, "Updated"))


@campaign_app.command("rm")
def campaign_rm(
    ref: RefArg, yes: YesOpt = False, if_version: IfVersionOpt = None, json_: JsonOpt = False
) -> None:
    """Delete a campaign (its contacts keep their source)."""
    from tinycrm.services import campaigns

    ctx = get_ctx()
    c = campaigns.get_campaign(ctx, ref)
    confirm(f"Delete campaign #{c.id} {c.name} ({c.source})?", yes)
    campaigns.delete_campaign(ctx, str(c.id), expected_version=if_version)
    if json_:
        output.emit_json({"deleted": {"kind": "campaign", "id": c.id, "name": c.name}})
    else:
        output.say(f"Deleted campaign #{c.id} {c.name}")
