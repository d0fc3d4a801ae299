"""`report revenue` and `report retention` restated plainly, from a list of purchases.

An independent oracle for tests/test_trends.py: no SQL, no period keys, no shared code
with tinycrm.services.trends; the definitions are docs/reports.md's, read literally.
Purchases are (customer, day, cents) in one currency; a purchase of 0 or more is an order,
a negative one a refund.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

Purchase = tuple[str, date, int]


def month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def quarter(day: date) -> str:
    return f"{day.year:04d}-Q{(day.month + 2) // 3}"


def _periods(first: date, last: date, name: object) -> list[str]:
    """Every period name from the one holding `first` to the one holding `last`."""
    from datetime import timedelta

    names: list[str] = []
    day = first
    while day <= last:
        n = name(day)  # type: ignore[operator]
        if not names or names[-1] != n:
            names.append(n)
        day += timedelta(days=1)
    return names


def _share(part: int, whole: int) -> float | None:
    if whole == 0:
        return None
    return float((Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_UP))


def revenue(
    purchases: list[Purchase], first: date, last: date, by: str = "month"
) -> dict[str, dict[str, int]]:
    """Per period from `first` to `last`: revenue, orders, customers, new, returning."""
    name = month if by == "month" else quarter
    first_order: dict[str, date] = {}
    for who, day, cents in purchases:
        if cents >= 0 and day <= last and (who not in first_order or day < first_order[who]):
            first_order[who] = day
    out = {
        p: {"revenue": 0, "orders": 0, "customers": 0, "new": 0, "returning": 0}
        for p in _periods(first, last, name)
    }
    buyers: dict[str, set[str]] = defaultdict(set)
    for who, day, cents in purchases:
        if not first <= day <= last:
            continue
        line = out[name(day)]
        line["revenue"] += cents
        if cents >= 0:
            line["orders"] += 1
            buyers[name(day)].add(who)
    for period, who_bought in buyers.items():
        out[period]["customers"] = len(who_bought)
        out[period]["new"] = sum(1 for w in who_bought if name(first_order[w]) == period)
        out[period]["returning"] = out[period]["customers"] - out[period]["new"]
    return out


def cohorts(
    purchases: list[Purchase], first: date, as_of: date, by: str = "month"
) -> tuple[dict[str, tuple[int, list[float | None]]], float | None]:
    """Per cohort period from the one holding `first` to the one holding `as_of`: its size
    and the share that ordered in each later period up to `as_of`; and the retention rate
    (customers of the cohorts before the last period who ordered in a later period)."""
    name = month if by == "month" else quarter
    periods = _periods(first, as_of, name)
    index = {p: i for i, p in enumerate(_periods(date(1900, 1, 1), as_of, name))}
    orders: dict[str, set[str]] = defaultdict(set)  # customer -> periods they ordered in
    for who, day, cents in purchases:
        if cents >= 0 and day <= as_of:
            orders[who].add(name(day))
    members: dict[str, list[str]] = defaultdict(list)
    for who, bought in orders.items():
        members[min(bought, key=index.__getitem__)].append(who)
    table: dict[str, tuple[int, list[float | None]]] = {}
    eligible = returned = 0
    for period in periods:
        people = members.get(period, [])
        later = periods[periods.index(period) + 1 :]
        table[period] = (
            len(people),
            [_share(sum(1 for w in people if p in orders[w]), len(people)) for p in later],
        )
        if later:
            eligible += len(people)
            returned += sum(1 for w in people if len(orders[w]) > 1)
    return table, _share(returned, eligible)
