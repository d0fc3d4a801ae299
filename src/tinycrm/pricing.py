"""Line-item arithmetic (pure, stdlib): what a deal's items come to, exactly, in cents.

The rules (docs/products.md, "How a deal's value is worked out"):

- A line is `quantity` (a whole number) × `price` (cents): its gross amount, exact.
- A percentage discount is taken per line and rounded **half-up** to the cent (a half
  cent goes up: 0.5 → 1); an amount discount is cents off the line as a whole, at most
  the line's gross. A line's net is its gross less its discount.
- The deal's value is the sum of its lines' nets (before tax): exact, no rounding.
- Tax is worked out **per rate on the sum of the nets at that rate**, rounded half-up
  once per rate (not per line), as an invoice shows it: "19% on 1,200.00: 228.00".
- The total is the net plus every rate's tax.

Rates and percentages are basis points (1 bp = 0.01%, so 19% is 1900 and 7.5% is 750),
so every step is integer arithmetic: `half_up(n, d)` is the one rounding.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from tinycrm.errors import InvalidInput

BP = 10_000  # basis points in 100%
MAX_QUANTITY = 1_000_000_000


def half_up(numerator: int, denominator: int) -> int:
    """`numerator / denominator` rounded to the nearest integer, a half going up (both
    non-negative, denominator positive)."""
    return (2 * numerator + denominator) // (2 * denominator)


@dataclass(frozen=True)
class Line:
    """A line item as stored: `quantity` × `price_cents`, less `discount_bp` percent or
    `discount_cents` (at most one), taxed at `tax_bp`."""

    quantity: int
    price_cents: int
    discount_bp: int | None = None
    discount_cents: int | None = None
    tax_bp: int = 0


@dataclass(frozen=True)
class LineAmounts:
    gross_cents: int  # quantity × price
    discount_cents: int  # taken off the line (a percentage rounded half-up)
    net_cents: int  # gross less discount: what the line adds to the deal's value


@dataclass(frozen=True)
class TaxAmount:
    rate_bp: int
    base_cents: int  # the nets of the lines at this rate
    tax_cents: int  # base × rate, rounded half-up once


@dataclass(frozen=True)
class Totals:
    lines: tuple[LineAmounts, ...]
    gross_cents: int  # before discounts
    discount_cents: int
    net_cents: int  # the deal's value
    taxes: tuple[TaxAmount, ...]  # one per rate above 0, lowest rate first
    tax_cents: int
    total_cents: int  # net plus tax


def line_amounts(line: Line) -> LineAmounts:
    """One line's gross, discount and net (see the module docstring)."""
    gross = line.quantity * line.price_cents
    if line.discount_bp is not None:
        off = half_up(gross * line.discount_bp, BP)
    elif line.discount_cents is not None:
        off = min(line.discount_cents, gross)
    else:
        off = 0
    return LineAmounts(gross, off, gross - off)


def totals(lines: Iterable[Line]) -> Totals:
    """What the lines come to: nets summed exactly, tax per rate rounded once."""
    items = list(lines)
    amounts = tuple(line_amounts(x) for x in items)
    bases: dict[int, int] = {}
    for line, a in zip(items, amounts, strict=True):
        if line.tax_bp:
            bases[line.tax_bp] = bases.get(line.tax_bp, 0) + a.net_cents
    taxes = tuple(
        TaxAmount(rate, base, half_up(base * rate, BP)) for rate, base in sorted(bases.items())
    )
    net = sum(a.net_cents for a in amounts)
    tax = sum(t.tax_cents for t in taxes)
    return Totals(
        amounts,
        sum(a.gross_cents for a in amounts),
        sum(a.discount_cents for a in amounts),
        net,
        taxes,
        tax,
        net + tax,
    )


_PERCENT = re.compile(r"\s*(\d{1,3})(?:[.,](\d{1,2}))?\s*%?\s*")


def parse_percent(text: str, *, field: str, allow_zero: bool = True) -> int:
    """'19%', '7.5%', '19' or '0' -> basis points (1900, 750, 1900, 0), at most two
    decimals and at most 100%."""
    m = _PERCENT.fullmatch(text)
    if m is None:
        raise InvalidInput(f"{field} is not a percentage: {text!r} (try 19% or 7.5%)")
    bp = int(m[1]) * 100 + int((m[2] or "0").ljust(2, "0"))
    if bp > BP:
        raise InvalidInput(f"{field} can't be more than 100%: {text!r}")
    if bp == 0 and not allow_zero:
        raise InvalidInput(f"{field} must be more than 0%: {text!r}")
    return bp


def format_percent(bp: int) -> str:
    """Basis points for people: 1900 -> '19%', 750 -> '7.5%', 1234 -> '12.34%'."""
    whole, rest = divmod(bp, 100)
    return f"{whole}%" if not rest else f"{whole}.{rest:02d}".rstrip("0") + "%"


def check_quantity(quantity: int) -> int:
    """A line's quantity: a whole number from 1 to MAX_QUANTITY."""
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidInput(f"--qty must be a whole number from 1 to {MAX_QUANTITY:,}: {quantity}")
    return quantity
