"""Revenue over time and whether customers come back: `report revenue`, `report retention`.

Both read purchases in one currency (the store's by default; others are listed, never
converted) and follow docs/value.md: a purchase of 0 or more is an **order**, a negative
one a **refund** that lowers revenue on its own day and is no order, so a refund makes
nobody a customer. The erased-customers placeholder (`forget`) keeps its purchases in
revenue and orders but is nobody: it is left out of every count of customers.

Periods are calendar months, quarters or years of purchase days. Each figure is one
aggregate query grouped by a period key computed in SQL (`_key`): year x 12 + month - 1
for months, year x 4 + (month - 1) / 3 for quarters, the year for years. So no purchase row
is loaded into Python: on the benchmark store (500k purchases) each report is a handful
of passes over the covering index `ix_purchases_customer_value`. docs/reports.md defines
every figure; tests/oracle_trends.py restates them plainly for the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from tinycrm.errors import InvalidInput
from tinycrm.money import Money, parse_currency
from tinycrm.services.context import Ctx
from tinycrm.services.reports import ratio, today
from tinycrm.store.db import Db

PERIODS = ("month", "quarter", "year")
LEVELS = ("contact", "company")
#: How many periods a report covers when --since is not given (the last one holds --until).
DEFAULT_PERIODS = {"month": 12, "quarter": 8, "year": 5}
_NOT_ERASED = "p.contact_id NOT IN (SELECT id FROM contacts WHERE name_key = '')"


# -- periods ------------------------------------------------------------------------------------
def check_by(by: str, allowed: tuple[str, ...] = PERIODS) -> str:
    """A period length as typed: month, quarter or year."""
    word = by.strip().lower()
    if word not in allowed:
        raise InvalidInput(f"--by must be {', '.join(allowed[:-1])} or {allowed[-1]}: {by!r}")
    return word


def key_of(by: str, day: date) -> int:
    """The period a day falls in, as a number that counts periods (consecutive periods
    differ by 1)."""
    if by == "month":
        return day.year * 12 + day.month - 1
    if by == "quarter":
        return day.year * 4 + (day.month - 1) // 3
    return day.year


def period_start(by: str, key: int) -> date:
    """The first day of the period `key`."""
    if by == "month":
        return date(key // 12, key % 12 + 1, 1)
    if by == "quarter":
        return date(key // 4, (key % 4) * 3 + 1, 1)
    return date(key, 1, 1)


def period_end(by: str, key: int) -> date:
    """The last day of the period `key`."""
    return period_start(by, key + 1) - timedelta(days=1)


def period_name(by: str, key: int) -> str:
    """The period's name as CSV and JSON carry it: 2026-11, 2026-Q4, 2026."""
    start = period_start(by, key)
    if by == "month":
        return f"{start.year:04d}-{start.month:02d}"
    if by == "quarter":
        return f"{start.year:04d}-Q{key % 4 + 1}"
    return f"{start.year:04d}"


def _key(db: Db, by: str, expr: str) -> str:
    """SQL for key_of(by, a stored day)."""
    if db.is_sqlite:
        year = f"CAST(substr({expr}, 1, 4) AS INTEGER)"
        month = f"CAST(substr({expr}, 6, 2) AS INTEGER)"
    else:
        year = f"CAST(EXTRACT(YEAR FROM {expr}) AS INTEGER)"
        month = f"CAST(EXTRACT(MONTH FROM {expr}) AS INTEGER)"
    if by == "month":
        return f"({year} * 12 + {month} - 1)"
    if by == "quarter":
        return f"({year} * 4 + ({month} - 1) / 3)"
    return year


def _int(value: Any) -> int:
    return 0 if value is None else int(value)


def _currency(ctx: Ctx, currency: str | None) -> str:
    return parse_currency(currency, usual=[ctx.currency]) if currency else ctx.currency


def _codes(db: Db, cur: str, last: date, first: date | None = None) -> list[str]:
    since = " AND purchased_on >= :first" if first is not None else ""
    rows = db.all(
        "SELECT DISTINCT currency FROM purchases WHERE currency <> :cur"
        f" AND purchased_on <= :last{since}",
        {"cur": cur, "last": db.day(last), "first": db.day(first)},
    )
    return sorted(str(r["currency"]) for r in rows)


# -- revenue ------------------------------------------------------------------------------------
@dataclass
class RevenuePeriod:
    period: str  # 2026-11, 2026-Q4, 2026; "total" for the total line
    first_day: date  # the days of the period the report covers (the first and last period
    last_day: date  # may be cut by --since and --until)
    revenue: Money  # orders and refunds, in the report currency
    revenue_cents: int
    orders: int  # purchases of 0 or more
    customers: int  # who made an order in the period
    new_customers: int  # of those, whose first order ever was in the period
    returning_customers: int  # the others: they had ordered before the period
    average_order: Money | None  # revenue / orders, half-up to the cent; None without orders
    growth: float | None  # revenue against the period before: (this - before) / before


@dataclass
class RevenueReport:
    as_of: date
    by: str
    level: str  # contact or company: who a customer is
    since: date
    until: date
    currency: str
    periods: list[RevenuePeriod]  # every period since..until, oldest first, empty ones too
    total: RevenuePeriod  # customers: distinct over the whole report; growth None
    other_currencies: list[str]  # purchases in these are left out


def _half_up(cents: int, count: int) -> int:
    exact = Decimal(cents) / Decimal(count)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _growth(now: int, before: int | None) -> float | None:
    if before is None or before <= 0:
        return None
    exact = Decimal(now - before) / Decimal(before)
    return float(exact.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def revenue_report(
    ctx: Ctx,
    *,
    by: str = "month",
    since: date | None = None,
    until: date | None = None,
    as_of: date | None = None,
    level: str = "contact",
    currency: str | None = None,
) -> RevenueReport:
    """Revenue per month, quarter or year: orders, customers (new and returning) and the
    average order, from `since` (default: the start of the 12 months, 8 quarters or 5 years
    ending with `until`) to `until` (default `as_of`, default today). `level` company
    counts companies as customers (contacts without a company are left out)."""
    by = check_by(by)
    if level not in LEVELS:
        raise InvalidInput(f"--level must be contact or company: {level!r}")
    cur = _currency(ctx, currency)
    day = as_of or today(ctx)
    last = until or day
    if last > day:
        raise InvalidInput(
            f"--until ({last.isoformat()}) is after --as-of ({day.isoformat()}):"
            " purchases after the as-of day are not counted"
        )
    first = since or period_start(by, key_of(by, last) - DEFAULT_PERIODS[by] + 1)
    if first > last:
        raise InvalidInput(f"--since ({first.isoformat()}) is after --until ({last.isoformat()})")
    db = ctx.db
    k = _key(db, by, "p.purchased_on")
    who, join = "p.contact_id", ""
    if level == "company":
        who, join = "c.company_id", " JOIN contacts c ON c.id = p.contact_id"
        join += " AND c.company_id IS NOT NULL"
    params = {"cur": cur, "first": db.day(first), "last": db.day(last)}
    inside = "p.currency = :cur AND p.purchased_on >= :first AND p.purchased_on <= :last"
    with db.read():
        money = {
            int(r["k"]): r
            for r in db.all(
                f"SELECT {k} AS k, sum(p.amount_cents) AS revenue,"
                " count(CASE WHEN p.amount_cents >= 0 THEN 1 END) AS orders"
                f" FROM purchases p{join} WHERE {inside} GROUP BY {k}",
                params,
            )
        }
        buyers = {
            int(r["k"]): _int(r["n"])
            for r in db.all(
                f"SELECT {k} AS k, count(DISTINCT {who}) AS n FROM purchases p{join}"
                f" WHERE {inside} AND p.amount_cents >= 0 AND {_NOT_ERASED} GROUP BY {k}",
                params,
            )
        }
        firsts = _key(db, by, "f.first")
        new = {
            int(r["k"]): _int(r["n"])
            for r in db.all(
                f"SELECT {firsts} AS k, count(*) AS n FROM (SELECT {who} AS who,"
                f" min(p.purchased_on) AS first FROM purchases p{join} WHERE p.currency = :cur"
                f" AND p.amount_cents >= 0 AND p.purchased_on <= :last AND {_NOT_ERASED}"
                f" GROUP BY {who}) f WHERE f.first >= :first GROUP BY {firsts}",
                params,
            )
        }
        everyone = _int(
            db.value(
                f"SELECT count(DISTINCT {who}) FROM purchases p{join}"
                f" WHERE {inside} AND p.amount_cents >= 0 AND {_NOT_ERASED}",
                params,
            )
        )
        others = _codes(db, cur, last, first)
    periods: list[RevenuePeriod] = []
    before: int | None = None
    for key in range(key_of(by, first), key_of(by, last) + 1):
        row = money.get(key, {})
        revenue, orders = _int(row.get("revenue")), _int(row.get("orders"))
        customers, fresh = buyers.get(key, 0), new.get(key, 0)
        periods.append(
            RevenuePeriod(
                period=period_name(by, key),
                first_day=max(first, period_start(by, key)),
                last_day=min(last, period_end(by, key)),
                revenue=Money(revenue, cur),
                revenue_cents=revenue,
                orders=orders,
                customers=customers,
                new_customers=fresh,
                returning_customers=customers - fresh,
                average_order=Money(_half_up(revenue, orders), cur) if orders else None,
                growth=_growth(revenue, before),
            )
        )
        before = revenue
    revenue = sum(p.revenue_cents for p in periods)
    orders = sum(p.orders for p in periods)
    fresh = sum(p.new_customers for p in periods)
    total = RevenuePeriod(
        period="total",
        first_day=first,
        last_day=last,
        revenue=Money(revenue, cur),
        revenue_cents=revenue,
        orders=orders,
        customers=everyone,
        new_customers=fresh,
        returning_customers=everyone - fresh,
        average_order=Money(_half_up(revenue, orders), cur) if orders else None,
        growth=None,
    )
    return RevenueReport(day, by, level, first, last, cur, periods, total, others)


# -- retention ----------------------------------------------------------------------------------
@dataclass
class Cohort:
    period: str  # the period of the cohort's first orders
    first_day: date
    customers: int  # whose first order ever was in that period
    # offset k (1, 2, ...: periods after the first) -> how many of them ordered in it, and
    # their share; as many as periods have begun by the as-of day
    retained: list[int]
    shares: list[float | None]


@dataclass
class RetentionReport:
    as_of: date
    by: str
    since: date  # the first cohort's first day
    currency: str
    cohorts: list[Cohort]  # oldest first, every period since..as_of, empty ones too
    # per offset: every cohort that has reached it, pooled (retained / customers)
    average: list[float | None]
    eligible: int  # customers of the cohorts before the as-of day's period
    returned: int  # of those, who ordered in a later period than their first
    retention_rate: float | None  # returned / eligible
    other_currencies: list[str]


def retention_report(
    ctx: Ctx,
    *,
    by: str = "month",
    since: date | None = None,
    as_of: date | None = None,
    currency: str | None = None,
) -> RetentionReport:
    """Do customers come back? Customers grouped by the month or quarter of their first
    order (cohorts, from the period holding `since`, default the 12 months or 8 quarters
    ending with `as_of`'s), the share of each that ordered again in each later period up to
    `as_of` (default today), and the retention rate: the share of customers who ordered in
    a later period than their first."""
    by = check_by(by, PERIODS[:2])
    cur = _currency(ctx, currency)
    day = as_of or today(ctx)
    last_key = key_of(by, day)
    first_key = key_of(by, since) if since else last_key - DEFAULT_PERIODS[by] + 1
    if first_key > last_key:
        raise InvalidInput(
            f"--since ({since.isoformat() if since else ''}) is after --as-of ({day.isoformat()})"
        )
    start = period_start(by, first_key)
    db = ctx.db
    k0 = _key(db, by, "f.first")
    k = _key(db, by, "p.purchased_on")
    params = {"cur": cur, "start": db.day(start), "last": db.day(day)}
    firsts = (
        "SELECT p.contact_id, min(p.purchased_on) AS first FROM purchases p"
        " WHERE p.currency = :cur AND p.amount_cents >= 0 AND p.purchased_on <= :last"
        f" AND {_NOT_ERASED} GROUP BY p.contact_id"
    )
    with db.read():
        cells = db.all(
            f"SELECT {k0} AS k0, {k} AS k, count(DISTINCT p.contact_id) AS n"
            f" FROM purchases p JOIN ({firsts}) f ON f.contact_id = p.contact_id"
            " WHERE f.first >= :start AND p.currency = :cur AND p.amount_cents >= 0"
            f" AND p.purchased_on <= :last GROUP BY {k0}, {k}",
            params,
        )
        returned = _int(
            db.value(
                f"SELECT count(DISTINCT p.contact_id) FROM purchases p JOIN ({firsts}) f"
                " ON f.contact_id = p.contact_id WHERE f.first >= :start"
                " AND p.currency = :cur AND p.amount_cents >= 0 AND p.purchased_on <= :last"
                f" AND {k} > {k0}",
                params,
            )
        )
        others = _codes(db, cur, day, start)
    counts: dict[tuple[int, int], int] = {(int(r["k0"]), int(r["k"])): _int(r["n"]) for r in cells}
    cohorts: list[Cohort] = []
    pooled: dict[int, list[int]] = {}  # offset -> [retained, customers]
    for key in range(first_key, last_key + 1):
        size = counts.get((key, key), 0)
        retained = [counts.get((key, key + j), 0) for j in range(1, last_key - key + 1)]
        for j, n in enumerate(retained, start=1):
            pool = pooled.setdefault(j, [0, 0])
            pool[0] += n
            pool[1] += size
        cohorts.append(
            Cohort(
                period=period_name(by, key),
                first_day=period_start(by, key),
                customers=size,
                retained=retained,
                shares=[ratio(n, size) for n in retained],
            )
        )
    eligible = sum(c.customers for c in cohorts[:-1])
    return RetentionReport(
        as_of=day,
        by=by,
        since=start,
        currency=cur,
        cohorts=cohorts,
        average=[ratio(*pooled[j]) for j in sorted(pooled)],
        eligible=eligible,
        returned=returned,
        retention_rate=ratio(returned, eligible),
        other_currencies=others,
    )
