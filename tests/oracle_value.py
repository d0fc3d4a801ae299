"""The customer-value definitions of docs/value.md, restated as plainly as possible.

This is the test oracle for `tinycrm rank`: no shared code with tinycrm.analytics, quadratic
where that is simplest, Decimal and Fraction arithmetic straight from the definitions.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction


@dataclass(frozen=True)
class Purchase:
    contact_id: int
    contact_name: str
    company_id: int | None
    company_name: str | None
    day: date
    cents: int
    currency: str


# (pattern over "rf", segment); the first match wins
SEGMENT_PATTERNS = [
    (r"5[45]", "champions"),
    (r"[34][45]", "loyal"),
    (r"[45][23]", "potential"),
    (r"51", "new"),
    (r"41", "promising"),
    (r"33", "need attention"),
    (r"3[12]", "about to sleep"),
    (r"[12]5", "can't lose"),
    (r"[12][34]", "at risk"),
    (r"11", "lost"),
    (r"[12][12]", "hibernating"),
]


def segment(r: int, f: int) -> str:
    for pattern, name in SEGMENT_PATTERNS:
        if re.fullmatch(pattern, f"{r}{f}"):
            return name
    raise AssertionError(f"no segment for {r}{f}")


@dataclass
class _Row:
    id: int
    name: str
    recency_days: int
    frequency: int
    monetary_cents: int
    first: date
    r: int = 0
    f: int = 0
    m: int = 0
    segment: str = ""
    abc: str = ""
    clv: Decimal = Decimal(0)


def _money(cents: int | Decimal) -> str:
    return str((Decimal(cents) / 100).quantize(Decimal("0.01")))


def _score(rank: int, n: int) -> int:
    return 1 + math.floor(Fraction(5 * (rank - 1), n))


def rank_customers(
    purchases: list[Purchase],
    *,
    as_of: date,
    since: date | None = None,
    level: str = "contact",
    currency: str = "EUR",
    years: int = 3,
    by: str = "rfm",
) -> tuple[dict[str, object], list[dict[str, object]]]:
    """(summary, customers in `by` order), as `tinycrm rank --json` reports them."""
    kept = [
        p
        for p in purchases
        if p.currency == currency
        and p.day <= as_of
        and (since is None or p.day >= since)
        and (level == "contact" or p.company_id is not None)
    ]
    groups: dict[int, list[Purchase]] = {}
    names: dict[int, str] = {}
    for p in kept:
        key = p.contact_id if level == "contact" else p.company_id
        assert key is not None
        groups.setdefault(key, []).append(p)
        names[key] = p.contact_name if level == "contact" else str(p.company_name)
    rows = [
        _Row(
            id=key,
            name=names[key],
            recency_days=(as_of - max(p.day for p in ps)).days,
            frequency=len(ps),
            monetary_cents=sum(p.cents for p in ps),
            first=min(p.day for p in ps),
        )
        for key, ps in groups.items()
    ]
    n = len(rows)
    for row in rows:
        row.r = _score(1 + sum(1 for o in rows if o.recency_days > row.recency_days), n)
        row.f = _score(1 + sum(1 for o in rows if o.frequency < row.frequency), n)
        row.m = _score(1 + sum(1 for o in rows if o.monetary_cents < row.monetary_cents), n)
        row.segment = segment(row.r, row.f)
        days = max(365, (as_of - row.first).days)
        exact = Decimal(row.monetary_cents) * 365 * years / days
        row.clv = exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)  # cents
    total = sum(r.monetary_cents for r in rows)
    value_order = sorted(rows, key=lambda r: (-r.monetary_cents, r.name, r.id))
    before = 0
    for row in value_order:
        share = Fraction(before, total) if total else Fraction(0)
        row.abc = "A" if share < Fraction(8, 10) else "B" if share < Fraction(95, 100) else "C"
        before += row.monetary_cents
    if by == "value":
        ordered = value_order
    elif by == "rfm":
        ordered = sorted(value_order, key=lambda r: -(r.r + r.f + r.m))
    elif by == "clv":
        ordered = sorted(value_order, key=lambda r: -r.clv)
    else:
        ordered = sorted(value_order, key=lambda r: r.abc)
    out: list[dict[str, object]] = [
        {
            "rank": place,
            "id": row.id,
            "name": row.name,
            "recency_days": row.recency_days,
            "frequency": row.frequency,
            "monetary": _money(row.monetary_cents),
            "r": row.r,
            "f": row.f,
            "m": row.m,
            "rfm": f"{row.r}{row.f}{row.m}",
            "segment": row.segment,
            "abc": row.abc,
            "clv": _money(row.clv),
        }
        for place, row in enumerate(ordered, start=1)
    ]
    top = sorted((r.monetary_cents for r in rows), reverse=True)[: (n + 4) // 5]  # ceil(20%)
    share = Fraction(sum(top), total) if total else Fraction(0)
    pareto = Decimal(share.numerator) / Decimal(share.denominator)
    summary: dict[str, object] = {
        "n": n,
        "revenue": _money(total),
        "top20_share": str(pareto.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)),
    }
    return summary, out
