"""Customer value, exactly: RFM scores and segments, ABC grades, a simple CLV, the Pareto line.

Pure functions over plain rows (one `Customer` per contact or company with its purchase
totals); the store aggregates in SQL, this ranks. The definitions are the ones in
docs/value.md, and `tests/oracle_value.py` restates them naively as the test oracle.

- recency_days = as_of − last order day; frequency = orders (purchases of 0 or more);
  monetary = the sum of all amounts, refunds (negative) included, at least 0.
- r, f, m in 1..5: rank with SQL RANK() semantics (ties share the lowest rank, 1-based),
  score = 1 + floor(5·(rank − 1)/n). r ranks recency_days descending (longest ago → 1),
  f frequency ascending, m monetary ascending.
- abc: by monetary descending, ties by name then id; share_before = revenue of the
  customers before it / total revenue: A if < 0.80, B if < 0.95, else C.
- clv = monetary × 365 × years / max(365, days since the first purchase), in cents,
  rounded half up: what the customer spends in a year, kept up for `years` years.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import NamedTuple

#: (segment, r scores, f scores): every (r, f) pair falls in exactly one row.
SEGMENTS: tuple[tuple[str, frozenset[int], frozenset[int]], ...] = (
    ("champions", frozenset({5}), frozenset({4, 5})),
    ("loyal", frozenset({3, 4}), frozenset({4, 5})),
    ("potential", frozenset({4, 5}), frozenset({2, 3})),
    ("new", frozenset({5}), frozenset({1})),
    ("promising", frozenset({4}), frozenset({1})),
    ("need attention", frozenset({3}), frozenset({3})),
    ("about to sleep", frozenset({3}), frozenset({1, 2})),
    ("can't lose", frozenset({1, 2}), frozenset({5})),
    ("at risk", frozenset({1, 2}), frozenset({3, 4})),
    ("hibernating", frozenset({2}), frozenset({1, 2})),
    ("hibernating", frozenset({1}), frozenset({2})),
    ("lost", frozenset({1}), frozenset({1})),
)
SEGMENT_NAMES = tuple(dict.fromkeys(name for name, _, _ in SEGMENTS))
_SEGMENT_OF = {(r, f): name for name, rs, fs in SEGMENTS for r in rs for f in fs}

A_BELOW = Fraction(80, 100)
B_BELOW = Fraction(95, 100)
PARETO_SHARE = Fraction(20, 100)


class Customer(NamedTuple):
    """One customer's purchases, aggregated: amounts in cents, days as dates."""

    id: int
    name: str
    first_purchase: date
    last_purchase: date
    frequency: int
    monetary_cents: int


@dataclass
class Scored:
    customer: Customer
    recency_days: int
    r: int
    f: int
    m: int
    segment: str
    abc: str
    clv_cents: int

    @property
    def rfm(self) -> str:
        return f"{self.r}{self.f}{self.m}"


@dataclass(frozen=True)
class Summary:
    n: int
    revenue_cents: int
    top20_share: Fraction  # revenue share of the top ceil(20% of n) customers by monetary


def score(rank: int, n: int) -> int:
    """1..5 from a 1-based RANK() among n."""
    return 1 + (5 * (rank - 1)) // n


def ascending_ranks(values: list[int]) -> list[int]:
    """RANK() ordering by value ascending: 1 + how many values are strictly smaller."""
    ordered = sorted(values)
    return [1 + bisect_left(ordered, v) for v in values]


def descending_ranks(values: list[int]) -> list[int]:
    """RANK() ordering by value descending: 1 + how many values are strictly larger."""
    ordered = sorted(values)
    n = len(values)
    return [1 + n - bisect_right(ordered, v) for v in values]


def segment(r: int, f: int) -> str:
    return _SEGMENT_OF[r, f]


def abc_order_key(c: Customer) -> tuple[int, str, int]:
    return (-c.monetary_cents, c.name, c.id)


def value_order(customers: list[Customer]) -> list[int]:
    """Indexes by total bought, most first; ties by name, then id (the ABC order)."""
    return sorted(range(len(customers)), key=lambda i: abc_order_key(customers[i]))


def abc_grades(customers: list[Customer], order: list[int] | None = None) -> list[str]:
    """Each customer's grade, by the share of revenue of those before it in the ABC
    order (see the module doc); `order` is `value_order(customers)` if already known."""
    total = sum(c.monetary_cents for c in customers)
    if total == 0:  # only free orders (or refunds as large): nobody has revenue before them
        return ["A"] * len(customers)
    grades = [""] * len(customers)
    before = 0
    for i in value_order(customers) if order is None else order:
        # share_before < 0.80  <=>  100·before < 80·total, in integers (total > 0 here)
        if before * A_BELOW.denominator < A_BELOW.numerator * total:
            grades[i] = "A"
        elif before * B_BELOW.denominator < B_BELOW.numerator * total:
            grades[i] = "B"
        else:
            grades[i] = "C"
        before += customers[i].monetary_cents
    return grades


def clv_cents(c: Customer, as_of: date, years: int) -> int:
    window = max(365, (as_of - c.first_purchase).days)
    numerator = c.monetary_cents * 365 * years
    return (2 * numerator + window) // (2 * window)  # half up (never negative)


def summarize(customers: list[Customer]) -> Summary:
    n = len(customers)
    revenue = sum(c.monetary_cents for c in customers)
    if n == 0 or revenue == 0:
        return Summary(n, revenue, Fraction(0))
    top = math.ceil(n * PARETO_SHARE)
    best = sorted((c.monetary_cents for c in customers), reverse=True)[:top]
    return Summary(n, revenue, Fraction(sum(best), revenue))


class Scores:
    """Every customer's scores, column by column (building 100k objects to show twenty
    costs more than the ranking itself); `at(i)` gives one customer's."""

    def __init__(self, customers: list[Customer], as_of: date, *, years: int) -> None:
        n = len(customers)
        self.customers = customers
        self.recency = [(as_of - c.last_purchase).days for c in customers]
        self.r = [score(x, n) for x in descending_ranks(self.recency)]
        self.f = [score(x, n) for x in ascending_ranks([c.frequency for c in customers])]
        self.m = [score(x, n) for x in ascending_ranks([c.monetary_cents for c in customers])]
        self.by_value = value_order(customers)  # also the tie-break of every order
        self.abc = abc_grades(customers, self.by_value)
        self.clv = [clv_cents(c, as_of, years) for c in customers]

    def __len__(self) -> int:
        return len(self.customers)

    def segment(self, i: int) -> str:
        return _SEGMENT_OF[self.r[i], self.f[i]]

    def at(self, i: int) -> Scored:
        c = self.customers[i]
        return Scored(
            customer=c,
            recency_days=self.recency[i],
            r=self.r[i],
            f=self.f[i],
            m=self.m[i],
            segment=self.segment(i),
            abc=self.abc[i],
            clv_cents=self.clv[i],
        )

    def order(self, by: str) -> list[int]:
        """Indexes best first: rfm by r + f + m, then as value; value by total bought,
        then name, then id; clv by CLV, then as value; abc by grade, then as value."""
        # sorted() is stable: sorting the value order keeps it as the tie-break
        if by == "value":
            return list(self.by_value)
        if by == "rfm":
            total = [r + f + m for r, f, m in zip(self.r, self.f, self.m, strict=True)]
            return sorted(self.by_value, key=lambda i: -total[i])
        if by == "clv":
            return sorted(self.by_value, key=lambda i: -self.clv[i])
        if by == "abc":
            return sorted(self.by_value, key=lambda i: self.abc[i])
        raise ValueError(f"unknown order {by!r}")


ORDERS = ("rfm", "value", "clv", "abc")
