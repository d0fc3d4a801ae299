"""`tinycrm rank`: who buys, how often, how much, and what they are worth.

The store aggregates each customer's purchases in one query that reads only the covering
index `ix_purchases_customer_value`; `tinycrm.analytics.value` does the ranking in Python
(definitions in docs/value.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

from tinycrm.analytics import value as v
from tinycrm.errors import InvalidInput
from tinycrm.money import Money
from tinycrm.services.context import Ctx
from tinycrm.services.filters import Filter, matching_ids

LEVELS = ("contact", "company")


@dataclass(slots=True)  # a ranking holds one per customer: 100k of them on a big store
class RankedCustomer:
    rank: int
    id: int
    name: str
    recency_days: int
    frequency: int
    monetary: Money
    r: int
    f: int
    m: int
    rfm: str
    segment: str
    abc: str
    clv: Money


@dataclass
class ValueSummary:
    n: int
    revenue: Money
    top20_share: str  # of revenue, 4 decimal places
    currency: str
    level: str
    as_of: date
    since: date | None
    clv_years: int
    other_currencies: int  # purchases in other currencies, left out


@dataclass
class Ranking:
    summary: ValueSummary
    customers: list[RankedCustomer]


# Orders are the purchases of 0 or more; a negative amount is a refund, which lowers the
# total but is no order: it moves neither the first nor the last purchase day nor the count.
_ORDER = "CASE WHEN p.amount_cents >= 0 THEN {} END"
_BY_CONTACT = (
    "SELECT p.contact_id AS id,"
    f" min({_ORDER.format('p.purchased_on')}) AS first,"
    f" max({_ORDER.format('p.purchased_on')}) AS last,"
    f" count({_ORDER.format('1')}) AS n, sum(p.amount_cents) AS total FROM purchases p"
    " WHERE p.currency = :cur AND p.purchased_on <= :as_of{since} GROUP BY p.contact_id"
)


def _aggregate(ctx: Ctx, level: str, as_of: date, since: date | None) -> list[tuple[Any, ...]]:
    """(id, first day, last day, purchases, total cents, name) per customer."""
    db = ctx.db
    params: dict[str, Any] = {"cur": ctx.currency, "as_of": db.day(as_of)}
    cond = ""
    if since is not None:
        cond = " AND p.purchased_on >= :since"
        params["since"] = db.day(since)
    per_contact = _BY_CONTACT.format(since=cond)
    if level == "contact":
        sql = (
            "SELECT a.id, a.first, a.last, a.n, a.total, c.name"
            f" FROM ({per_contact}) a JOIN contacts c ON c.id = a.id"
            # not the placeholder that keeps erased people's purchases (services.privacy)
            " WHERE c.name_key <> '' AND a.n > 0"
        )
    else:  # roll the contacts' totals up to their companies
        sql = (
            "SELECT co.id, min(a.first) AS first, max(a.last) AS last, sum(a.n) AS n,"
            " sum(a.total) AS total, co.name"
            f" FROM ({per_contact}) a JOIN contacts c ON c.id = a.id"
            " JOIN companies co ON co.id = c.company_id GROUP BY co.id, co.name"
            " HAVING sum(a.n) > 0"
        )
    return db.tuples(sql, params)


def customers(ctx: Ctx, *, level: str, as_of: date, since: date | None) -> list[v.Customer]:
    """Every customer's purchases in the store currency before `as_of` (from `since`): first
    and last day, count and total, per contact or company."""
    day = date.fromisoformat if ctx.db.is_sqlite else (lambda d: d)
    return [
        # refunds beyond what was bought leave a customer worth 0, never less
        v.Customer(int(i), name, day(first), day(last), int(n), max(0, int(total)))
        for i, first, last, n, total, name in _aggregate(ctx, level, as_of, since)
    ]


def rank(
    ctx: Ctx,
    *,
    by: str = "rfm",
    level: str = "contact",
    as_of: date | None = None,
    since: date | None = None,
    top: int | None = None,
    segment: str | None = None,
    clv_years: int | None = None,
    where: Filter | None = None,
) -> Ranking:
    """Customers with a purchase on or before `as_of` (default today, which counts) and
    from `since`, scored and sorted best first. `rank` is the place in that order among
    all customers, so it stays the same when `segment`, `where` (a compiled filter of
    contacts, or of companies at the company level) or `top` leave some out.
    `clv_years` defaults to the settings' (`ctx.clv_years`)."""
    if by not in v.ORDERS:
        raise InvalidInput(f"--by must be one of {', '.join(v.ORDERS)}: {by!r}")
    if level not in LEVELS:
        raise InvalidInput(f"--level must be contact or company: {level!r}")
    if segment is not None and segment not in v.SEGMENT_NAMES:
        raise InvalidInput(f"no segment {segment!r} (segments: {', '.join(v.SEGMENT_NAMES)})")
    if top is not None and top < 1:
        raise InvalidInput(f"--top must be at least 1: {top}")
    if clv_years is None:
        clv_years = ctx.clv_years
    if not 1 <= clv_years <= 50:
        raise InvalidInput(f"clv_years must be between 1 and 50: {clv_years}")
    as_of = as_of or ctx.now.astimezone(ctx.tz).date()
    if since is not None and since > as_of:
        raise InvalidInput(f"--since ({since}) must be on or before --as-of ({as_of})")
    wanted_entity = "contacts" if level == "contact" else "companies"
    if where is not None and where.entity != wanted_entity:
        raise InvalidInput(f"ranking by {level} takes a filter of {wanted_entity}")
    keep = matching_ids(ctx, where) if where is not None else None
    rows = customers(ctx, level=level, as_of=as_of, since=since)
    scores = v.Scores(rows, as_of, years=clv_years)
    summary = v.summarize(rows)
    out = []
    for place, i in enumerate(scores.order(by), start=1):
        if segment is not None and scores.segment(i) != segment:
            continue
        if keep is not None and scores.at(i).customer.id not in keep:
            continue
        s = scores.at(i)
        c = s.customer
        out.append(
            RankedCustomer(
                rank=place,
                id=c.id,
                name=c.name,
                recency_days=s.recency_days,
                frequency=c.frequency,
                monetary=Money(c.monetary_cents, ctx.currency),
                r=s.r,
                f=s.f,
                m=s.m,
                rfm=s.rfm,
                segment=s.segment,
                abc=s.abc,
                clv=Money(s.clv_cents, ctx.currency),
            )
        )
        if top is not None and len(out) == top:
            break
    return Ranking(
        ValueSummary(
            n=summary.n,
            revenue=Money(summary.revenue_cents, ctx.currency),
            top20_share=_share(summary.top20_share),
            currency=ctx.currency,
            level=level,
            as_of=as_of,
            since=since,
            clv_years=clv_years,
            other_currencies=_other_currencies(ctx, as_of, since),
        ),
        out,
    )


def purchases_mark(ctx: Ctx) -> tuple[int, int | None]:
    """The number of purchases and the newest one's id: a ranking computed earlier is still
    right while this stays the same (and the day and currency do)."""
    row = ctx.db.one("SELECT count(*) AS n, max(id) AS last FROM purchases") or {}
    last = row.get("last")
    return int(row.get("n") or 0), None if last is None else int(last)


def _share(x: Fraction) -> str:
    """A fraction as a 4-place decimal string, rounded half up."""
    scaled = (x * 10_000 * 2 + 1) // 2
    return f"{scaled // 10_000}.{scaled % 10_000:04d}"


def _other_currencies(ctx: Ctx, as_of: date, since: date | None) -> int:
    params: dict[str, Any] = {"cur": ctx.currency, "as_of": ctx.db.day(as_of)}
    cond = ""
    if since is not None:
        cond = " AND purchased_on >= :since"
        params["since"] = ctx.db.day(since)
    sql = "SELECT count(*) FROM purchases WHERE currency <> :cur AND purchased_on <= :as_of" + cond
    return int(ctx.db.value(sql, params))
