"""The forecast: open deals by the period they are expected to close in, weighted by
their probability, beside what was already won in each period.

docs/reports.md states the definitions; in short:

- An open deal falls in the month or quarter that holds its expected close day (a calendar
  day, no time zone). Periods run from the one that holds today (the user's zone) for
  `months` months; deals expected later are summed as `later`. Open deals with no expected
  close day, or one before today, are counted and listed apart so they get fixed.
- Weighted value: each deal's value times its probability (its own, else its stage's),
  rounded half-up to the cent per deal, as the pipeline report does.
- Won in a period: deals moved into a won stage from the period's first local midnight up
  to and including now (as of), credited to who owned them then (`deals.won_by`).
- Money is never converted or mixed: every figure is per currency.

One grouped query reads the open deals (by expected close day and currency), one per
period the won deals, and two the deals listed apart, so the report costs the same on the
benchmark store's 50k deals as on ten.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from tinycrm import periods
from tinycrm.errors import InvalidInput
from tinycrm.money import Money
from tinycrm.periods import Period
from tinycrm.services.context import Ctx
from tinycrm.services.users import user_id
from tinycrm.store.db import read_day

MONTHS_DEFAULT = {"month": 3, "quarter": 12}
MONTHS_MAX = 120
LISTED_DEFAULT = 20
_WEIGHTED = "(d.value_cents * coalesce(d.probability, s.probability) + 50) / 100"


@dataclass
class ForecastLine:
    period: str  # 2026-12, 2026-Q4; "later": expected after the last period
    first: date | None  # None for later
    last: date | None
    currency: str
    deals: int  # open deals expected to close in the period
    value: Money
    weighted: Money
    won_deals: int  # deals won in the period up to as_of
    won_value: Money


@dataclass
class ApartLine:
    """Open deals listed apart (no close day, or one in the past), in one currency."""

    currency: str
    deals: int
    value: Money
    weighted: Money


@dataclass
class ForecastDeal:
    id: int
    title: str
    owner: str | None
    stage: str
    expected_close: date | None
    probability: int  # its own, else its stage's
    value: Money
    weighted: Money


@dataclass
class ForecastReport:
    as_of: datetime
    today: date  # in the user's zone
    by: str  # month | quarter
    months: int
    owner: str | None  # whose deals; None: the whole team
    currencies: list[str]  # every currency with a figure, the store's first
    periods: list[ForecastLine]  # per period, then per currency
    later: list[ForecastLine]  # per currency: expected after the last period
    overdue: list[ApartLine]  # per currency: expected close day before today
    undated: list[ApartLine]  # per currency: no expected close day
    overdue_deals: list[ForecastDeal] = field(default_factory=list)  # biggest first
    undated_deals: list[ForecastDeal] = field(default_factory=list)  # biggest first


def _int(value: Any) -> int:
    return 0 if value is None else int(value)


def _midnight(ctx: Ctx, day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ctx.tz).astimezone(ctx.now.tzinfo)


def forecast_report(
    ctx: Ctx,
    *,
    by: str = "month",
    months: int | None = None,
    owner: str | None = None,
    team: bool = False,
    listed: int = LISTED_DEFAULT,
) -> ForecastReport:
    """Open deals by expected close period (count, value, weighted value) beside what was
    won in each period, for the user (default), `owner` or the whole `team`; deals with no
    close day or one in the past apart, the `listed` biggest of each named."""
    kind = periods.check_kind(by, "--by")
    if kind == "year":
        raise InvalidInput("--by must be month or quarter: 'year'")
    span = MONTHS_DEFAULT[kind] if months is None else months
    if not 1 <= span <= MONTHS_MAX:
        raise InvalidInput(f"--months must be between 1 and {MONTHS_MAX}: {span}")
    if team and owner is not None:
        raise InvalidInput("give --owner or --team, not both")
    if not 0 <= listed <= 1_000_000:
        raise InvalidInput(f"--limit must be between 0 and 1000000: {listed}")
    db = ctx.db
    today = ctx.now.astimezone(ctx.tz).date()
    buckets = periods.ahead(today, kind, span)
    with db.read():
        who: str | None
        if team:
            who, uid = None, None
        else:
            who = owner.strip() if owner is not None else ctx.user_name
            uid = user_id(db, who) if owner is not None else ctx.user_id
        open_of = "" if uid is None else " AND d.owner_id = :uid"
        won_of = "" if uid is None else " AND d.won_by = :uid"
        params: dict[str, Any] = {"uid": uid} if uid is not None else {}
        grouped = db.all(
            "SELECT d.expected_close AS day, d.currency, count(*) AS n,"
            f" sum(d.value_cents) AS value, sum({_WEIGHTED}) AS weighted"
            " FROM deals d JOIN stages s ON s.id = d.stage_id"
            f" WHERE d.status = 'open'{open_of} GROUP BY d.expected_close, d.currency",
            params,
        )
        won: dict[tuple[str, str], tuple[int, int]] = {}
        for p in buckets:
            start = _midnight(ctx, p.first)
            if start > ctx.now:
                break
            for r in db.all(
                "SELECT d.currency, count(*) AS n, sum(d.value_cents) AS value FROM deals d"
                " WHERE d.status = 'won' AND d.closed_at >= :a AND d.closed_at < :b"
                f" AND d.closed_at <= :now{won_of} GROUP BY d.currency",
                {
                    **params,
                    "a": db.ts(start),
                    "b": db.ts(_midnight(ctx, p.next().first)),
                    "now": db.ts(ctx.now),
                },
            ):
                won[(p.name, str(r["currency"]))] = (_int(r["n"]), _int(r["value"]))
        overdue_deals = _listed(ctx, "d.expected_close < :today", open_of, params, listed)
        undated_deals = _listed(ctx, "d.expected_close IS NULL", open_of, params, listed)
    return _assemble(
        ctx, today, kind, span, who, buckets, grouped, won, overdue_deals, undated_deals
    )


def _listed(
    ctx: Ctx, where: str, open_of: str, params: dict[str, Any], limit: int
) -> list[ForecastDeal]:
    db = ctx.db
    rows = db.all(
        "SELECT d.id, d.title, u.name AS owner, s.name AS stage, d.expected_close,"
        " coalesce(d.probability, s.probability) AS prob, d.value_cents, d.currency,"
        f" {_WEIGHTED} AS weighted FROM deals d JOIN stages s ON s.id = d.stage_id"
        " LEFT JOIN users u ON u.id = d.owner_id"
        f" WHERE d.status = 'open' AND {where}{open_of}"
        f" ORDER BY d.value_cents DESC, d.id LIMIT {int(limit)}",
        {**params, "today": db.day(ctx.now.astimezone(ctx.tz).date())},
    )
    return [
        ForecastDeal(
            id=int(r["id"]),
            title=str(r["title"]),
            owner=r["owner"],
            stage=str(r["stage"]),
            expected_close=read_day(r["expected_close"]),
            probability=int(r["prob"]),
            value=Money(int(r["value_cents"]), str(r["currency"])),
            weighted=Money(int(r["weighted"]), str(r["currency"])),
        )
        for r in rows
    ]


def _assemble(
    ctx: Ctx,
    today: date,
    kind: str,
    span: int,
    who: str | None,
    buckets: list[Period],
    grouped: list[dict[str, Any]],
    won: dict[tuple[str, str], tuple[int, int]],
    overdue_deals: list[ForecastDeal],
    undated_deals: list[ForecastDeal],
) -> ForecastReport:
    """Put the grouped rows into their periods (and the later, overdue, undated sums)."""
    horizon = buckets[-1].last
    # name -> currency -> [deals, value, weighted]
    sums: dict[str, dict[str, list[int]]] = {}
    for r in grouped:
        day = read_day(r["day"])
        if day is None:
            name = "undated"
        elif day < today:
            name = "overdue"
        elif day > horizon:
            name = "later"
        else:
            name = periods.containing(day, kind).name
        acc = sums.setdefault(name, {}).setdefault(str(r["currency"]), [0, 0, 0])
        acc[0] += _int(r["n"])
        acc[1] += _int(r["value"])
        acc[2] += _int(r["weighted"])
    found = {cur for by_cur in sums.values() for cur in by_cur} | {cur for _, cur in won}
    currencies = [ctx.currency] + sorted(found - {ctx.currency})

    def line(name: str, p: Period | None, cur: str) -> ForecastLine:
        n, value, weighted = sums.get(name, {}).get(cur, [0, 0, 0])
        w_n, w_value = won.get((name, cur), (0, 0))
        return ForecastLine(
            period=name,
            first=p.first if p else None,
            last=p.last if p else None,
            currency=cur,
            deals=n,
            value=Money(value, cur),
            weighted=Money(weighted, cur),
            won_deals=w_n,
            won_value=Money(w_value, cur),
        )

    def apart(name: str) -> list[ApartLine]:
        return [
            ApartLine(cur, v[0], Money(v[1], cur), Money(v[2], cur))
            for cur, v in sorted(sums.get(name, {}).items())
        ]

    return ForecastReport(
        as_of=ctx.now,
        today=today,
        by=kind,
        months=span,
        owner=who,
        currencies=currencies,
        periods=[line(p.name, p, cur) for p in buckets for cur in currencies],
        later=[line("later", None, cur) for cur in currencies if cur in sums.get("later", {})],
        overdue=apart("overdue"),
        undated=apart("undated"),
        overdue_deals=overdue_deals,
        undated_deals=undated_deals,
    )
