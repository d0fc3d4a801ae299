"""Reports for a sales lead's Monday morning: customers, pipeline, team and lead sources.

Each figure is one aggregate query, so a report never loads a row per contact, purchase or
interaction into Python: on the benchmark store (100k contacts, 1M interactions, 500k
purchases, 50k deals) every report runs in a fraction of a second. docs/reports.md states
every definition; the rules that shape the SQL:

- Money is never converted. Amounts sum only records in the report's currency (the store's
  by default), and a count printed beside an amount counts the same records. Counts, rates
  and durations that involve no money cover every record. The other currencies met are
  listed (`other_currencies`), so nothing is left out silently.
- Days are calendar days in the user's zone: a period runs from local midnight of `since`
  to local midnight after `until`, and purchase days (stored as dates) compare as dates.
- Rates are exact fractions rounded half-up to 4 places; day averages to 1 place.
- Date arithmetic is the one thing SQLite and PostgreSQL spell differently; `_epoch_day`
  and `_epoch_seconds` hold the two spellings, and every other query is shared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from tinycrm.errors import InvalidInput
from tinycrm.money import Money, parse_currency
from tinycrm.services import goals
from tinycrm.services.campaigns import FOREVER, attribution_windows, list_campaigns
from tinycrm.services.context import Ctx
from tinycrm.services.goals import GoalProgress
from tinycrm.store.db import Db, read_day, read_ts

DEFAULT_PERIOD_DAYS = 90
DEFAULT_ONCE_OLDER_THAN = 90
CHURN_MIN_DAYS = 3  # buying days before a customer has a rhythm to break
CHURN_FACTOR = 2  # overdue: more than this many typical gaps since the last buying day
CONCENTRATION_TOPS = (1, 5, 10, 20, 50)  # percent of customers, biggest first
SEGMENTS = ("bought", "repeat", "once", "never-bought", "never-contacted", "churn")
_EPOCH = date(1970, 1, 1)


# -- shared helpers ---------------------------------------------------------------------------
def ratio(part: int, whole: int) -> float | None:
    """part / whole rounded half-up to 4 places (0.4567 = 45.67 %); None for 0 / 0."""
    if whole == 0:
        return None
    exact = Decimal(part) / Decimal(whole)
    return float(exact.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def _average_days(seconds: int, count: int) -> float | None:
    if count == 0:
        return None
    exact = Decimal(seconds) / Decimal(count * 86_400)
    return float(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _epoch_day(db: Db, expr: str) -> str:
    """SQL for the whole days from 1970-01-01 to a stored day (exact on both backends)."""
    if db.is_sqlite:
        return f"CAST(julianday({expr}) - 2440587.5 AS INTEGER)"
    return f"({expr} - DATE '1970-01-01')"


def _epoch_seconds(db: Db, expr: str) -> str:
    """SQL for the seconds from 1970 to a stored UTC timestamp."""
    if db.is_sqlite:
        return f"CAST(strftime('%s', {expr}) AS INTEGER)"
    return f"CAST(EXTRACT(EPOCH FROM {expr}) AS BIGINT)"


def _int(value: Any) -> int:
    """An aggregate as int: SUM over no rows is NULL, and PostgreSQL sums BIGINT as numeric."""
    return 0 if value is None else int(value)


def _local_midnight(ctx: Ctx, day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ctx.tz).astimezone(ctx.now.tzinfo)


def today(ctx: Ctx) -> date:
    """Today in the user's time zone."""
    return ctx.now.astimezone(ctx.tz).date()


@dataclass(frozen=True)
class Period:
    """Whole local days `since`..`until`, both included; `start`/`end` bound them in UTC."""

    since: date
    until: date
    start: datetime
    end: datetime


def period(ctx: Ctx, since: date | None, until: date | None) -> Period:
    """The period a report covers: by default the DEFAULT_PERIOD_DAYS days ending `until`
    (by default today)."""
    last = until or today(ctx)
    first = since or last - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    if first > last:
        raise InvalidInput(f"--since ({first.isoformat()}) is after --until ({last.isoformat()})")
    return Period(
        first, last, _local_midnight(ctx, first), _local_midnight(ctx, last + timedelta(1))
    )


def _between(db: Db, column: str, p: Period) -> tuple[str, dict[str, Any]]:
    """A timestamp column inside the period (local midnights, compared in UTC)."""
    return f"{column} >= :p_start AND {column} < :p_end", {
        "p_start": db.ts(p.start),
        "p_end": db.ts(p.end),
    }


def _currency(ctx: Ctx, currency: str | None) -> str:
    return parse_currency(currency, usual=[ctx.currency]) if currency else ctx.currency


def _codes(rows: list[dict[str, Any]]) -> list[str]:
    return sorted({str(r["currency"]) for r in rows})


# Per-contact totals in one currency: one pass over ix_purchases_customer_value, which
# holds the currency (schema 0005), so no purchase row is read from the table.
_TOTALS = (
    "SELECT contact_id, sum(amount_cents) AS total FROM purchases"
    " WHERE currency = :cur GROUP BY contact_id"
)
# The placeholder holding erased people's purchases (`tinycrm forget`, services.privacy) is
# no customer: the customers report leaves it out; revenue by owner and source keeps it.
_NOT_ERASED = "contact_id NOT IN (SELECT id FROM contacts WHERE name_key = '')"
_CUSTOMER_TOTALS = (
    "SELECT contact_id, sum(amount_cents) AS total FROM purchases"
    f" WHERE currency = :cur AND purchased_on <= :as_of AND {_NOT_ERASED} GROUP BY contact_id"
    # a customer has an order (0 or more); refunds alone make nobody one
    " HAVING count(CASE WHEN amount_cents >= 0 THEN 1 END) > 0"
)


# -- customers --------------------------------------------------------------------------------
@dataclass
class CustomerSegment:
    name: str  # what --list takes: bought, repeat, once, never-bought, never-contacted, churn
    contacts: int
    of: str  # the base of `share`: "contacts" or "customers"
    share: float | None


@dataclass
class Concentration:
    top_percent: int  # the top N % of customers by revenue in the report currency
    customers: int  # how many customers that is: N % of them, rounded up
    revenue: Money
    revenue_cents: int
    share: float | None  # of all revenue in the report currency


@dataclass
class CustomersReport:
    as_of: date
    currency: str
    once_older_than_days: int
    contacts: int
    segments: list[CustomerSegment]
    revenue: Money  # every purchase in the report currency, ever
    revenue_cents: int
    revenue_customers: int  # customers with purchases in the report currency
    concentration: list[Concentration]
    other_currencies: list[str]  # purchases in these are left out of revenue

    def count(self, name: str) -> int:
        """How many contacts the segment `name` holds."""
        return next(s.contacts for s in self.segments if s.name == name)


@dataclass
class CustomerLine:
    id: int
    name: str
    owner: str | None
    last_purchase_on: date | None
    purchases: int
    buying_days: int
    total: Money  # purchases in `currency`, ever
    total_cents: int
    currency: str
    last_touch_at: datetime | None


@dataclass
class CustomerList:
    segment: str
    matching: int  # every contact in the segment; `rows` may hold fewer (a limit)
    rows: list[CustomerLine] = field(default_factory=list)


def _buyers(db: Db, *, lines: bool = False) -> str:
    """One row per customer, from the covering index alone: buying days, the first and
    last buying day (as day numbers too); for `lines`, also the purchases and their total
    in the report currency (a fifth more work, which the counts don't need)."""
    # an order is a purchase of 0 or more; a refund (negative) only lowers the total
    day = "CASE WHEN amount_cents >= 0 THEN purchased_on END"
    extra = (
        ", count(CASE WHEN amount_cents >= 0 THEN 1 END) AS purchases,"
        " sum(CASE WHEN currency = :cur THEN amount_cents ELSE 0 END) AS total"
        if lines
        else ""
    )
    return (
        f"SELECT contact_id, count(DISTINCT {day}) AS days,"
        f" {_epoch_day(db, f'min({day})')} AS first_n,"
        f" {_epoch_day(db, f'max({day})')} AS last_n, max({day}) AS last_on"
        f"{extra} FROM purchases WHERE purchased_on <= :as_of AND {_NOT_ERASED}"
        " GROUP BY contact_id"
        f" HAVING count(CASE WHEN amount_cents >= 0 THEN 1 END) > 0"
    )


# Churn: at least CHURN_MIN_DAYS buying days, and the days since the last one exceed
# CHURN_FACTOR times the mean gap between consecutive buying days, (last - first) / (days - 1);
# multiplied out so that it stays in exact integers.
_CHURN = (
    f"s.days >= {CHURN_MIN_DAYS} AND (:today_n - s.last_n) * (s.days - 1)"
    f" > {CHURN_FACTOR} * (s.last_n - s.first_n)"
)


def _segment_params(ctx: Ctx, once_older_than: int, as_of: date | None) -> dict[str, Any]:
    """The days the customer segments are judged on: `as_of` (default today), the purchases
    up to it and the interactions before the end of it."""
    if not 1 <= once_older_than <= 36_500:
        raise InvalidInput(f"--once-older-than must be between 1 and 36500 days: {once_older_than}")
    day = as_of or today(ctx)
    return {
        "today_n": (day - _EPOCH).days,
        "once_before": ctx.db.day(day - timedelta(days=once_older_than)),
        "as_of": ctx.db.day(day),
        "as_of_end": ctx.db.ts(_local_midnight(ctx, day + timedelta(days=1))),
    }


def customers_report(
    ctx: Ctx,
    *,
    once_older_than: int = DEFAULT_ONCE_OLDER_THAN,
    currency: str | None = None,
    as_of: date | None = None,
) -> CustomersReport:
    """How the customer base stands today (or at the end of `as_of`: purchases and
    interactions after it are not counted): who bought, came back, lapsed or was never
    reached, and how concentrated revenue is."""
    db = ctx.db
    cur = _currency(ctx, currency)
    params = _segment_params(ctx, once_older_than, as_of)
    with db.read():
        contacts = _int(db.value("SELECT count(*) FROM contacts WHERE name_key <> ''"))
        buyers = db.one(
            "SELECT count(*) AS bought, sum(CASE WHEN s.days >= 2 THEN 1 ELSE 0 END) AS repeat,"
            " sum(CASE WHEN s.days = 1 AND s.last_on < :once_before THEN 1 ELSE 0 END) AS once,"
            f" sum(CASE WHEN {_CHURN} THEN 1 ELSE 0 END) AS churn"
            f" FROM ({_buyers(db)}) s",
            params,
        )
        assert buyers is not None
        never_contacted = _int(
            db.value(
                "SELECT count(*) FROM contacts c WHERE c.name_key <> '' AND NOT EXISTS"
                " (SELECT 1 FROM interactions i WHERE i.contact_id = c.id"
                " AND i.happened_at < :as_of_end)",
                params,
            )
        )
        tops, revenue, paying = _concentration(db, cur, params["as_of"])
        others = _codes(
            db.all(
                "SELECT DISTINCT currency FROM purchases WHERE currency <> :cur"
                " AND purchased_on <= :as_of",
                {"cur": cur, "as_of": params["as_of"]},
            )
        )
    bought = _int(buyers["bought"])

    def seg(name: str, n: int, base: str) -> CustomerSegment:
        return CustomerSegment(name, n, base, ratio(n, contacts if base == "contacts" else bought))

    return CustomersReport(
        as_of=as_of or today(ctx),
        currency=cur,
        once_older_than_days=once_older_than,
        contacts=contacts,
        segments=[
            seg("bought", bought, "contacts"),
            seg("repeat", _int(buyers["repeat"]), "customers"),
            seg("once", _int(buyers["once"]), "customers"),
            seg("never-bought", contacts - bought, "contacts"),
            seg("never-contacted", never_contacted, "contacts"),
            seg("churn", _int(buyers["churn"]), "customers"),
        ],
        revenue=Money(revenue, cur),
        revenue_cents=revenue,
        revenue_customers=paying,
        concentration=tops,
        other_currencies=others,
    )


def _concentration(db: Db, cur: str, as_of: Any) -> tuple[list[Concentration], int, int]:
    """The revenue of the top 1, 5, 10, 20 and 50 % of customers (ranked by what they
    bought in `cur`; ties by id), and the revenue of all of them."""
    cuts = ", ".join(f"(n * {p} + 99) / 100" for p in CONCENTRATION_TOPS)
    rows = db.all(
        f"WITH t AS ({_CUSTOMER_TOTALS}), ranked AS (SELECT"
        " row_number() OVER (ORDER BY total DESC, contact_id) AS rk,"
        " sum(total) OVER (ORDER BY total DESC, contact_id ROWS UNBOUNDED PRECEDING) AS cum,"
        " count(*) OVER () AS n, sum(total) OVER () AS grand FROM t)"
        f" SELECT rk, cum, n, grand FROM ranked WHERE rk IN ({cuts}) ORDER BY rk",
        {"cur": cur, "as_of": as_of},
    )
    if not rows:
        return [], 0, 0
    n, grand = _int(rows[0]["n"]), _int(rows[0]["grand"])
    cum = {_int(r["rk"]): _int(r["cum"]) for r in rows}
    out = []
    for p in CONCENTRATION_TOPS:
        k = (n * p + 99) // 100
        out.append(Concentration(p, k, Money(cum[k], cur), cum[k], ratio(cum[k], grand)))
    return out, grand, n


def customer_list(
    ctx: Ctx,
    segment: str,
    *,
    once_older_than: int = DEFAULT_ONCE_OLDER_THAN,
    currency: str | None = None,
    limit: int | None = None,
    as_of: date | None = None,
) -> CustomerList:
    """The contacts of one segment, biggest spenders (in the report currency) first, then
    by id; `matching` counts them all. With `as_of`, as the segment stood at the end of
    that day (the last touch then, too)."""
    if segment not in SEGMENTS:
        raise InvalidInput(f"--list must be one of {', '.join(SEGMENTS)}: {segment!r}")
    db = ctx.db
    cur = _currency(ctx, currency)
    params = {**_segment_params(ctx, once_older_than, as_of), "cur": cur}
    touch = "c.last_touch_at"
    if as_of is not None:
        touch = (
            "(SELECT max(i.happened_at) FROM interactions i WHERE i.contact_id = c.id"
            " AND i.happened_at < :as_of_end)"
        )
    line = (
        f"SELECT c.id, c.name, u.name AS owner, {touch} AS last_touch_at, {{last}} AS last_on,"
        " {purchases} AS purchases, {days} AS days, {total} AS total"
    )
    buyer = line.format(last="s.last_on", purchases="s.purchases", days="s.days", total="s.total")
    nobody = line.format(last="NULL", purchases="0", days="0", total="0")
    buyers = (
        f" FROM ({_buyers(db, lines=True)}) s JOIN contacts c ON c.id = s.contact_id"
        " LEFT JOIN users u ON u.id = c.owner_id"
    )
    non_buyers = (
        " FROM contacts c LEFT JOIN users u ON u.id = c.owner_id"
        " WHERE c.name_key <> ''"
        " AND NOT EXISTS (SELECT 1 FROM purchases p WHERE p.contact_id = c.id"
        " AND p.amount_cents >= 0 AND p.purchased_on <= :as_of)"
    )
    untouched = (
        "NOT EXISTS (SELECT 1 FROM interactions i WHERE i.contact_id = c.id"
        " AND i.happened_at < :as_of_end)"
    )
    chosen = {
        "bought": buyer + buyers,
        "repeat": buyer + buyers + " WHERE s.days >= 2",
        "once": buyer + buyers + " WHERE s.days = 1 AND s.last_on < :once_before",
        "churn": buyer + buyers + " WHERE " + _CHURN,
        "never-bought": nobody + non_buyers,
        # buyers nobody talked to, and contacts who neither bought nor were talked to
        "never-contacted": (
            f"{buyer}{buyers} WHERE {untouched} UNION ALL {nobody}{non_buyers} AND {untouched}"
        ),
    }[segment]
    sql = f"SELECT m.*, count(*) OVER () AS matching FROM ({chosen}) m ORDER BY m.total DESC, m.id"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    rows = db.all(sql, params)
    matching = _int(rows[0]["matching"]) if rows else 0
    return CustomerList(
        segment,
        matching,
        [
            CustomerLine(
                id=int(r["id"]),
                name=r["name"],
                owner=r["owner"],
                last_purchase_on=read_day(r["last_on"]),
                purchases=_int(r["purchases"]),
                buying_days=_int(r["days"]),
                total=Money(_int(r["total"]), cur),
                total_cents=_int(r["total"]),
                currency=cur,
                last_touch_at=read_ts(r["last_touch_at"]),
            )
            for r in rows
        ],
    )


# -- pipeline ---------------------------------------------------------------------------------
@dataclass
class StageLine:
    stage: str
    probability: int  # the stage's; a deal's own probability wins in `weighted`
    deals: int  # open now, in the report currency
    value: Money
    value_cents: int
    weighted: Money  # sum over the deals of value x probability, each rounded half-up to a cent
    weighted_cents: int
    reached: int  # deals (all currencies, ever) that got to this stage or further
    to_next: float | None  # of those, the share that got to the next open stage (or won)
    to_won: float | None  # of those, the share that is won
    stints: int  # times a deal entered this stage
    avg_days: float | None  # mean length of those stints, the open ones counted up to now


@dataclass
class ClosedLine:
    outcome: str  # won | lost
    deals: int
    value: Money
    value_cents: int


@dataclass
class ReasonLine:
    reason: str | None
    deals: int
    value: Money
    value_cents: int


@dataclass
class PipelineReport:
    as_of: datetime
    since: date
    until: date
    currency: str
    stages: list[StageLine]
    open_deals: int
    open_value: Money
    open_value_cents: int
    open_weighted: Money
    open_weighted_cents: int
    closed: list[ClosedLine]  # won and lost in the period
    win_rate: float | None  # won / (won + lost) in the period
    lost_reasons: list[ReasonLine]  # the period's lost deals by reason, most first
    other_currencies: list[str]  # open or closed-in-period deals left out of the money


def pipeline_report(
    ctx: Ctx,
    *,
    since: date | None = None,
    until: date | None = None,
    currency: str | None = None,
) -> PipelineReport:
    """Open deals by stage, how deals move through the stages, and what closed."""
    db = ctx.db
    cur = _currency(ctx, currency)
    p = period(ctx, since, until)
    with db.read():
        stages = db.all(
            "SELECT id, name, position, probability, outcome FROM stages ORDER BY position, id"
        )
        open_rows = {
            r["stage_id"]: r
            for r in db.all(
                "SELECT d.stage_id, count(*) AS n, sum(d.value_cents) AS value,"
                " sum((d.value_cents * coalesce(d.probability, s.probability) + 50) / 100)"
                " AS weighted FROM deals d JOIN stages s ON s.id = d.stage_id"
                " WHERE d.status = 'open' AND d.currency = :cur GROUP BY d.stage_id",
                {"cur": cur},
            )
        }
        furthest, won = _furthest(db, stages)
        stints = _stints(ctx)
        closed, reasons, others = _closed(db, p, cur)
    open_stages = [s for s in stages if s.get("outcome") == "open"]
    lines = []
    for i, s in enumerate(open_stages):
        reached = sum(n for rank, n in furthest.items() if rank >= s["position"])
        if i + 1 < len(open_stages):
            nxt = open_stages[i + 1]["position"]
            further = sum(n for rank, n in furthest.items() if rank >= nxt)
        else:
            further = won
        o = open_rows.get(s["id"], {})
        count, seconds = stints.get(s["id"], (0, 0))
        lines.append(
            StageLine(
                stage=s["name"],
                probability=int(s["probability"]),
                deals=_int(o.get("n")),
                value=Money(_int(o.get("value")), cur),
                value_cents=_int(o.get("value")),
                weighted=Money(_int(o.get("weighted")), cur),
                weighted_cents=_int(o.get("weighted")),
                reached=reached,
                to_next=ratio(further, reached),
                to_won=ratio(won, reached),
                stints=count,
                avg_days=_average_days(seconds, count),
            )
        )
    won_line = next(c for c in closed if c.outcome == "won")
    lost_line = next(c for c in closed if c.outcome == "lost")
    value = sum(s.value_cents for s in lines)
    weighted = sum(s.weighted_cents for s in lines)
    return PipelineReport(
        as_of=ctx.now,
        since=p.since,
        until=p.until,
        currency=cur,
        stages=lines,
        open_deals=sum(s.deals for s in lines),
        open_value=Money(value, cur),
        open_value_cents=value,
        open_weighted=Money(weighted, cur),
        open_weighted_cents=weighted,
        closed=closed,
        win_rate=ratio(won_line.deals, won_line.deals + lost_line.deals),
        lost_reasons=reasons,
        other_currencies=others,
    )


def _furthest(db: Db, stages: list[dict[str, Any]]) -> tuple[dict[int, int], int]:
    """How many deals got furthest to each stage rank (an open stage's position; a won
    stage ranks past every open one, a lost stage not at all), and how many are won."""
    past_open = max((int(s["position"]) for s in stages), default=0) + 1
    rows = db.all(
        "SELECT f.furthest, count(*) AS n,"
        " sum(CASE WHEN d.status = 'won' THEN 1 ELSE 0 END) AS won FROM"
        " (SELECT sc.deal_id, max(CASE s.outcome WHEN 'open' THEN s.position"
        " WHEN 'won' THEN :past_open END) AS furthest FROM stage_changes sc"
        " JOIN stages s ON s.id = sc.to_stage_id GROUP BY sc.deal_id) f"
        " JOIN deals d ON d.id = f.deal_id WHERE f.furthest IS NOT NULL GROUP BY f.furthest",
        {"past_open": past_open},
    )
    return {int(r["furthest"]): _int(r["n"]) for r in rows}, sum(_int(r["won"]) for r in rows)


def _stints(ctx: Ctx) -> dict[int, tuple[int, int]]:
    """Per stage: how many times a deal entered it, and the seconds those stints lasted.

    A stint starts with a stage change into the stage and ends with the change out of it
    (the same deal's next change names it as `from_stage_id`), or now while the deal is
    still open in it. So the total is the sum of the leaving times, plus now for each deal
    still there, minus the sum of the entering times: three aggregates, no pairing of rows.
    """
    db = ctx.db
    entered: dict[int, list[int]] = {}  # stage -> [stints, sum of entering times]
    left: dict[int, int] = {}  # stage -> sum of leaving times
    for r in db.all(  # one pass: each change enters one stage and (mostly) leaves another
        "SELECT to_stage_id, from_stage_id, count(*) AS n,"
        f" sum({_epoch_seconds(db, 'changed_at')}) AS at FROM stage_changes"
        " GROUP BY to_stage_id, from_stage_id"
    ):
        n, at = _int(r["n"]), _int(r["at"])
        into = entered.setdefault(r["to_stage_id"], [0, 0])
        into[0] += n
        into[1] += at
        if r["from_stage_id"] is not None:
            left[r["from_stage_id"]] = left.get(r["from_stage_id"], 0) + at
    staying = {
        r["stage_id"]: _int(r["n"])
        for r in db.all(
            "SELECT d.stage_id, count(*) AS n FROM deals d WHERE d.status = 'open'"
            " AND EXISTS (SELECT 1 FROM stage_changes sc WHERE sc.deal_id = d.id)"
            " GROUP BY d.stage_id"
        )
    }
    now = int(ctx.now.timestamp())
    return {
        stage: (n, left.get(stage, 0) + staying.get(stage, 0) * now - at)
        for stage, (n, at) in entered.items()
    }


def _closed(db: Db, p: Period, cur: str) -> tuple[list[ClosedLine], list[ReasonLine], list[str]]:
    when, params = _between(db, "d.closed_at", p)
    rows = {
        r["status"]: r
        for r in db.all(
            "SELECT d.status, count(*) AS n, sum(d.value_cents) AS value FROM deals d"
            f" WHERE d.status IN ('won', 'lost') AND {when} AND d.currency = :cur"
            " GROUP BY d.status",
            {**params, "cur": cur},
        )
    }
    closed = [
        ClosedLine(
            outcome,
            _int(rows.get(outcome, {}).get("n")),
            Money(_int(rows.get(outcome, {}).get("value")), cur),
            _int(rows.get(outcome, {}).get("value")),
        )
        for outcome in ("won", "lost")
    ]
    reasons = [
        ReasonLine(r["reason"], _int(r["n"]), Money(_int(r["value"]), cur), _int(r["value"]))
        for r in db.all(
            "SELECT d.lost_reason AS reason, count(*) AS n, sum(d.value_cents) AS value"
            f" FROM deals d WHERE d.status = 'lost' AND {when} AND d.currency = :cur"
            " GROUP BY d.lost_reason ORDER BY count(*) DESC, sum(d.value_cents) DESC,"
            " d.lost_reason",
            {**params, "cur": cur},
        )
    ]
    others = _codes(
        db.all(
            "SELECT DISTINCT d.currency FROM deals d WHERE d.currency <> :cur AND"
            f" (d.status = 'open' OR (d.status IN ('won', 'lost') AND {when}))",
            {**params, "cur": cur},
        )
    )
    return closed, reasons, others


# -- team -------------------------------------------------------------------------------------
@dataclass
class TeamLine:
    user: str | None  # None: records nobody owns
    activities: int  # interactions the user logged that happened in the period
    deals_won: int  # deals the user won in the period (owned when won; report currency)
    won_value: Money
    won_value_cents: int
    revenue: Money  # purchases in the period by contacts the user owns (report currency)
    revenue_cents: int
    open_deals: int  # open deals the user owns (report currency)
    open_weighted: Money
    open_weighted_cents: int
    overdue_reminders: int  # the user's open reminders due before now


@dataclass
class TeamReport:
    as_of: datetime
    since: date
    until: date
    currency: str
    users: list[TeamLine]
    total: TeamLine
    other_currencies: list[str]
    goals: list[GoalProgress] = field(default_factory=list)  # in force as of now


_TEAM_COUNTS = (
    "activities",
    "deals_won",
    "won_value_cents",
    "revenue_cents",
    "open_deals",
    "open_weighted_cents",
    "overdue_reminders",
)


def _team_line(user: str | None, v: dict[str, int], cur: str) -> TeamLine:
    """One row of the team report from its counts, money in `cur`."""
    return TeamLine(
        user=user,
        activities=v["activities"],
        deals_won=v["deals_won"],
        won_value=Money(v["won_value_cents"], cur),
        won_value_cents=v["won_value_cents"],
        revenue=Money(v["revenue_cents"], cur),
        revenue_cents=v["revenue_cents"],
        open_deals=v["open_deals"],
        open_weighted=Money(v["open_weighted_cents"], cur),
        open_weighted_cents=v["open_weighted_cents"],
        overdue_reminders=v["overdue_reminders"],
    )


def team_report(
    ctx: Ctx,
    *,
    since: date | None = None,
    until: date | None = None,
    currency: str | None = None,
) -> TeamReport:
    """Per salesperson: what they did and won in the period, what they carry now, and
    how far each is from the goals in force now."""
    db = ctx.db
    cur = _currency(ctx, currency)
    p = period(ctx, since, until)
    happened, hp = _between(db, "i.happened_at", p)
    closed, cp = _between(db, "d.closed_at", p)
    days = {"since": db.day(p.since), "until": db.day(p.until), "cur": cur}
    figures: dict[int | None, dict[str, int]] = {}

    def add(rows: list[dict[str, Any]], **columns: str) -> None:
        for r in rows:
            line = figures.setdefault(r["uid"], dict.fromkeys(_TEAM_COUNTS, 0))
            for name, column in columns.items():
                line[name] += _int(r[column])

    with db.read():
        users = db.all("SELECT id, name FROM users ORDER BY name, id")
        add(
            db.all(
                "SELECT i.user_id AS uid, count(*) AS n FROM interactions i"
                f" WHERE {happened} GROUP BY i.user_id",
                hp,
            ),
            activities="n",
        )
        add(
            db.all(
                # credit to who owned the deal when it was won (`deals.won_by`)
                "SELECT d.won_by AS uid, count(*) AS n, sum(d.value_cents) AS value"
                f" FROM deals d WHERE d.status = 'won' AND {closed} AND d.currency = :cur"
                " GROUP BY d.won_by",
                {**cp, "cur": cur},
            ),
            deals_won="n",
            won_value_cents="value",
        )
        add(
            db.all(
                "SELECT c.owner_id AS uid, sum(p.amount_cents) AS value FROM purchases p"
                " JOIN contacts c ON c.id = p.contact_id WHERE p.purchased_on >= :since"
                " AND p.purchased_on <= :until AND p.currency = :cur GROUP BY c.owner_id",
                days,
            ),
            revenue_cents="value",
        )
        add(
            db.all(
                "SELECT d.owner_id AS uid, count(*) AS n,"
                " sum((d.value_cents * coalesce(d.probability, s.probability) + 50) / 100)"
                " AS weighted FROM deals d JOIN stages s ON s.id = d.stage_id"
                " WHERE d.status = 'open' AND d.currency = :cur GROUP BY d.owner_id",
                {"cur": cur},
            ),
            open_deals="n",
            open_weighted_cents="weighted",
        )
        add(
            db.all(
                "SELECT r.owner_id AS uid, count(*) AS n FROM reminders r"
                " WHERE r.done_at IS NULL AND r.due_at < :now GROUP BY r.owner_id",
                {"now": db.ts(ctx.now)},
            ),
            overdue_reminders="n",
        )
        others = _codes(
            db.all(
                "SELECT DISTINCT d.currency FROM deals d WHERE d.currency <> :cur AND"
                f" (d.status = 'open' OR (d.status = 'won' AND {closed}))"
                " UNION SELECT DISTINCT p.currency FROM purchases p WHERE p.currency <> :cur"
                " AND p.purchased_on >= :since AND p.purchased_on <= :until",
                {**cp, **days},
            )
        )
    empty = dict.fromkeys(_TEAM_COUNTS, 0)
    lines = [_team_line(u["name"], figures.get(u["id"], empty), cur) for u in users]
    if any(figures.get(None, empty).values()):
        lines.append(_team_line(None, figures[None], cur))
    total = {k: sum(line[k] for line in figures.values()) for k in _TEAM_COUNTS}
    return TeamReport(
        ctx.now,
        p.since,
        p.until,
        cur,
        lines,
        _team_line(None, total, cur),
        others,
        goals.progress(ctx),
    )


# -- sources ----------------------------------------------------------------------------------
@dataclass
class SourceLine:
    source: str | None  # None: contacts with no source
    contacts: int
    customers: int  # contacts with at least one purchase (any currency)
    conversion: float | None  # customers / contacts
    revenue: Money  # their purchases in the report currency, ever
    revenue_cents: int
    deals_won: int  # won deals with these contacts (report currency), ever
    won_value: Money
    won_value_cents: int
    # marketing return: the source's campaigns that started in the period (report currency)
    campaigns: int = 0
    cost: Money | None = None  # None: no campaign of this source in the period
    cost_cents: int = 0
    roi: float | None = None  # (revenue - cost) / cost
    cost_per_lead: Money | None = None  # cost / contacts
    cost_per_customer: Money | None = None  # cost / customers (CAC)


@dataclass
class CampaignLine:
    """A campaign's return: the contacts it brought by first touch (docs/reports.md)."""

    id: int
    name: str
    source: str
    starts_on: date
    ends_on: date | None
    cost: Money
    cost_cents: int
    leads: int  # contacts attributed to it
    customers: int  # of those, contacts with at least one purchase (any currency)
    conversion: float | None
    revenue: Money  # everything those contacts bought in the report currency, ever
    revenue_cents: int
    roi: float | None  # (revenue - cost) / cost; None when it cost nothing
    cost_per_lead: Money | None  # None without leads
    cost_per_customer: Money | None  # CAC; None without customers


@dataclass
class SourcesReport:
    since: date | None  # contacts created in since..until; None: all contacts
    until: date | None
    currency: str
    sources: list[SourceLine]  # most contacts first
    total: SourceLine
    other_currencies: list[str]
    campaigns: list[CampaignLine] = field(default_factory=list)  # started in the period


def per_unit(cents: int, count: int, currency: str) -> Money | None:
    """cents / count rounded half-up to the cent (cents >= 0); None when count is 0."""
    if count == 0:
        return None
    return Money((2 * cents + count) // (2 * count), currency)


def _roi(revenue: int, cost: int) -> float | None:
    """(revenue - cost) / cost, rounded half-up to 4 places (half away from zero)."""
    if cost == 0:
        return None
    exact = (Decimal(revenue) - Decimal(cost)) / Decimal(cost)
    return float(exact.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def _cohort(ctx: Ctx, since: date | None, until: date | None) -> tuple[str, dict[str, Any]]:
    """Contacts created from local midnight of `since` to the end of `until` (either open)."""
    if since is not None and until is not None and since > until:
        raise InvalidInput(f"--since ({since.isoformat()}) is after --until ({until.isoformat()})")
    clause, params = "", {}
    if since is not None:
        clause += " AND c.created_at >= :c_start"
        params["c_start"] = ctx.db.ts(_local_midnight(ctx, since))
    if until is not None:
        clause += " AND c.created_at < :c_end"
        params["c_end"] = ctx.db.ts(_local_midnight(ctx, until + timedelta(days=1)))
    return clause, params


def sources_report(
    ctx: Ctx,
    *,
    since: date | None = None,
    until: date | None = None,
    currency: str | None = None,
) -> SourcesReport:
    """Where customers come from: per lead source (contacts.source), how many contacts
    became customers and what they brought in. With a period, only the contacts created in
    it (a cohort), with everything they bought and won since. The marketing return: the
    cost of the campaigns that started in the period, per source and per campaign, with
    each campaign's leads by first touch (services.campaigns)."""
    db = ctx.db
    cur = _currency(ctx, currency)
    cohort, params = _cohort(ctx, since, until)
    params["cur"] = cur
    with db.read():
        base = db.all(
            "SELECT c.source, count(*) AS contacts, sum(CASE WHEN EXISTS (SELECT 1 FROM"
            " purchases p WHERE p.contact_id = c.id) THEN 1 ELSE 0 END) AS customers"
            f" FROM contacts c WHERE c.name_key <> ''{cohort} GROUP BY c.source",
            params,
        )
        revenue = {
            r["source"]: _int(r["value"])
            for r in db.all(
                f"SELECT c.source, sum(t.total) AS value FROM ({_TOTALS}) t"
                f" JOIN contacts c ON c.id = t.contact_id WHERE 1 = 1{cohort} GROUP BY c.source",
                params,
            )
        }
        won = {
            r["source"]: r
            for r in db.all(
                "SELECT c.source, count(*) AS n, sum(d.value_cents) AS value FROM deals d"
                " JOIN contacts c ON c.id = d.contact_id WHERE d.status = 'won'"
                f" AND d.currency = :cur{cohort} GROUP BY c.source",
                params,
            )
        }
        others = _codes(
            db.all(
                "SELECT DISTINCT p.currency FROM purchases p JOIN contacts c"
                f" ON c.id = p.contact_id WHERE p.currency <> :cur{cohort}"
                " UNION SELECT DISTINCT d.currency FROM deals d JOIN contacts c"
                f" ON c.id = d.contact_id WHERE d.status = 'won' AND d.currency <> :cur{cohort}",
                params,
            )
        )
        spent, returns, other_costs = _campaign_returns(ctx, since, until, cur)

    def line(
        source: str | None, contacts: int, customers: int, rev: int, n: int, v: int
    ) -> SourceLine:
        return SourceLine(
            source,
            contacts,
            customers,
            ratio(customers, contacts),
            Money(rev, cur),
            rev,
            n,
            Money(v, cur),
            v,
        )

    lines = [
        line(
            r["source"],
            _int(r["contacts"]),
            _int(r["customers"]),
            revenue.get(r["source"], 0),
            _int(won.get(r["source"], {}).get("n")),
            _int(won.get(r["source"], {}).get("value")),
        )
        for r in base
    ]
    known = {s.source for s in lines}
    lines += [line(source, 0, 0, 0, 0, 0) for source in spent if source not in known]
    for s in lines:
        if s.source in spent:
            _with_cost(s, *spent[s.source], cur)
    lines.sort(key=lambda s: (-s.contacts, -s.cost_cents, s.source is None, s.source or ""))
    total = line(
        None,
        sum(s.contacts for s in lines),
        sum(s.customers for s in lines),
        sum(s.revenue_cents for s in lines),
        sum(s.deals_won for s in lines),
        sum(s.won_value_cents for s in lines),
    )
    if spent:
        _with_cost(total, sum(n for n, _ in spent.values()), sum(c for _, c in spent.values()), cur)
    return SourcesReport(
        since=since,
        until=until,
        currency=cur,
        sources=lines,
        total=total,
        other_currencies=sorted(set(others) | set(other_costs)),
        campaigns=returns,
    )


def _with_cost(s: SourceLine, campaigns: int, cost: int, cur: str) -> None:
    s.campaigns = campaigns
    s.cost, s.cost_cents = Money(cost, cur), cost
    s.roi = _roi(s.revenue_cents, cost)
    s.cost_per_lead = per_unit(cost, s.contacts, cur)
    s.cost_per_customer = per_unit(cost, s.customers, cur)


def _campaign_returns(
    ctx: Ctx, since: date | None, until: date | None, cur: str
) -> tuple[dict[str | None, tuple[int, int]], list[CampaignLine], list[str]]:
    """The campaigns that started in since..until (either open) in the report currency:
    per source, how many and their cost; per campaign, its return by first touch. Also the
    other currencies such campaigns were paid in (left out)."""
    db = ctx.db
    every = list_campaigns(ctx)  # attribution looks at every campaign, whenever it ran
    windows = attribution_windows(every)
    picked = [
        c
        for c in every
        if (since is None or c.starts_on >= since) and (until is None or c.starts_on <= until)
    ]
    paid = sorted((c for c in picked if c.cost.currency == cur), key=lambda c: (c.starts_on, c.id))
    spent: dict[str | None, tuple[int, int]] = {}
    for c in paid:
        n, cost = spent.get(c.source, (0, 0))
        spent[c.source] = (n + 1, cost + c.cost.cents)
    # One pass for every campaign: each contact of a campaign's source is labelled with the
    # campaign whose days hold its creation (the windows of one source never overlap).
    params: dict[str, Any] = {"cur": cur}
    whens = []
    for c in paid:
        ors = []
        for first, last in windows[c.id]:
            at = f"w{len(params)}"
            params[f"{at}a"] = db.ts(_local_midnight(ctx, first))
            if last == FOREVER:
                ors.append(f"c.created_at >= :{at}a")
            else:
                params[f"{at}b"] = db.ts(_local_midnight(ctx, last + timedelta(days=1)))
                ors.append(f"(c.created_at >= :{at}a AND c.created_at < :{at}b)")
        if ors:
            params[f"s{c.id}"] = c.source
            whens.append(f"WHEN c.source = :s{c.id} AND ({' OR '.join(ors)}) THEN {c.id}")
    counts: dict[int, tuple[int, int, int]] = {}  # campaign -> leads, customers, revenue
    if whens:
        labelled = (
            f"SELECT c.id, CASE {' '.join(whens)} END AS k FROM contacts c WHERE c.name_key <> ''"
        )
        for r in db.all(
            "SELECT x.k, count(*) AS leads, sum(CASE WHEN EXISTS (SELECT 1 FROM purchases p"
            " WHERE p.contact_id = x.id) THEN 1 ELSE 0 END) AS customers"
            f" FROM ({labelled}) x WHERE x.k IS NOT NULL GROUP BY x.k",
            params,
        ):
            counts[int(r["k"])] = (_int(r["leads"]), _int(r["customers"]), 0)
        for r in db.all(
            f"SELECT x.k, sum(t.total) AS value FROM ({_TOTALS}) t JOIN ({labelled}) x"
            " ON x.id = t.contact_id WHERE x.k IS NOT NULL GROUP BY x.k",
            params,
        ):
            leads, customers, _ = counts[int(r["k"])]
            counts[int(r["k"])] = (leads, customers, _int(r["value"]))
    lines = []
    for c in paid:
        leads, customers, revenue = counts.get(c.id, (0, 0, 0))
        lines.append(
            CampaignLine(
                id=c.id,
                name=c.name,
                source=c.source,
                starts_on=c.starts_on,
                ends_on=c.ends_on,
                cost=c.cost,
                cost_cents=c.cost.cents,
                leads=leads,
                customers=customers,
                conversion=ratio(customers, leads),
                revenue=Money(revenue, cur),
                revenue_cents=revenue,
                roi=_roi(revenue, c.cost.cents),
                cost_per_lead=per_unit(c.cost.cents, leads, cur),
                cost_per_customer=per_unit(c.cost.cents, customers, cur),
            )
        )
    others = sorted({c.cost.currency for c in picked if c.cost.currency != cur})
    return spent, lines, others
