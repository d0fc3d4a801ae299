"""Line-item arithmetic (tinycrm.pricing) against an independent oracle: exact fractions,
rounded with Decimal's ROUND_HALF_UP where the documented rules say a rounding happens
(a percentage discount per line; tax once per rate on the sum of the nets at that rate)."""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinycrm.errors import InvalidInput
from tinycrm.pricing import Line, format_percent, half_up, parse_percent, totals


def _round(x: Fraction) -> int:
    """The oracle's rounding: to a whole cent, a half up, by Decimal."""
    return int(
        (Decimal(x.numerator) / Decimal(x.denominator)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    )


def _oracle(lines: list[Line]) -> tuple[list[int], int, dict[int, int], int]:
    nets: list[int] = []
    bases: defaultdict[int, int] = defaultdict(int)
    for x in lines:
        gross = Fraction(x.quantity) * x.price_cents
        if x.discount_bp is not None:
            off = _round(gross * Fraction(x.discount_bp, 10_000))
        elif x.discount_cents is not None:
            off = int(min(Fraction(x.discount_cents), gross))
        else:
            off = 0
        net = int(gross - off)
        nets.append(net)
        if x.tax_bp:
            bases[x.tax_bp] += net
    taxes = {r: _round(Fraction(b) * Fraction(r, 10_000)) for r, b in bases.items()}
    return nets, sum(nets), taxes, sum(nets) + sum(taxes.values())


_rates = st.sampled_from([0, 0, 500, 700, 750, 1900, 2000, 1234, 10_000])
_line = st.builds(
    Line,
    quantity=st.integers(1, 10_000),
    price_cents=st.integers(0, 10**9),
    discount_bp=st.one_of(st.none(), st.integers(1, 10_000)),
    tax_bp=_rates,
) | st.builds(
    Line,
    quantity=st.integers(1, 10_000),
    price_cents=st.integers(0, 10**9),
    discount_cents=st.integers(1, 10**9),
    tax_bp=_rates,
)


@given(st.lists(_line, max_size=12))
def test_totals_match_the_oracle(lines: list[Line]) -> None:
    nets, net, taxes, total = _oracle(lines)
    t = totals(lines)
    assert [a.net_cents for a in t.lines] == nets
    assert t.net_cents == net
    assert {x.rate_bp: x.tax_cents for x in t.taxes} == taxes
    assert [x.rate_bp for x in t.taxes] == sorted(taxes)
    assert t.total_cents == total == t.net_cents + t.tax_cents
    assert t.gross_cents - t.discount_cents == t.net_cents
    assert all(0 <= a.discount_cents <= a.gross_cents for a in t.lines)


@given(st.integers(0, 10**12), st.integers(1, 10**6))
def test_half_up_is_the_nearest_integer_a_half_going_up(n: int, d: int) -> None:
    assert half_up(n, d) == _round(Fraction(n, d))


def test_rounding_examples_from_the_docs() -> None:
    # 499.99 at 7.5% is 37.49925: 37.50 (a half cent and more goes up)
    assert totals([Line(1, 49_999, tax_bp=750)]).tax_cents == 3750
    # 3 × 0.05 less 50% is 0.075 off: 0.08 off (half-up), 0.07 left
    assert totals([Line(3, 5, discount_bp=5000)]).net_cents == 7
    # tax once per rate, not per line: two lines of 0.10 at 5% pay 0.01 (5% of 0.20);
    # rounding each line's 0.005 would have made it 0.02
    assert totals([Line(1, 10, tax_bp=500), Line(1, 10, tax_bp=500)]).tax_cents == 1


@pytest.mark.parametrize(
    ("typed", "bp"), [("19%", 1900), ("7.5%", 750), ("7,5 %", 750), ("0", 0), ("100%", 10_000)]
)
def test_percentages_read_as_basis_points(typed: str, bp: int) -> None:
    assert parse_percent(typed, field="--tax-rate") == bp


@pytest.mark.parametrize("typed", ["101%", "-5%", "five", "1.234%", ""])
def test_bad_percentages_are_refused_naming_the_option(typed: str) -> None:
    with pytest.raises(InvalidInput, match="--tax-rate"):
        parse_percent(typed, field="--tax-rate")


def test_percentages_are_written_without_trailing_zeros() -> None:
    assert [format_percent(b) for b in (1900, 750, 1234, 0, 5)] == [
        "19%", "7.5%", "12.34%", "0%", "0.05%",
    ]  # fmt: skip
