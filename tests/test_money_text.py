"""Money parsing and text folding: pure functions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinycrm.errors import InvalidInput
from tinycrm.money import MAX_CENTS, display_money, format_cents, parse_amount
from tinycrm.text import fold, one_line, query_terms, search_tokens


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("1234.5", 123450),
        ("1,234.50", 123450),
        ("1.234,50", 123450),
        ("1234,50", 123450),
        ("1,234", 123400),
        ("0.01", 1),
        (" 12 000 ", 1200000),
        ("+7", 700),
    ],
)
def test_parse_amount(text: str, cents: int) -> None:
    assert parse_amount(text) == cents


# a currency mark is read by parse_money (tests/test_safety_input.py), never dropped here
@pytest.mark.parametrize(
    "text", ["-1", "abc", "1.005", "1e3", "", "1..2", "NaN", "Infinity", "€99", "1€2"]
)
def test_parse_amount_rejects(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_amount(text)


@given(st.integers(min_value=0, max_value=MAX_CENTS - 1))
def test_cents_round_trip(cents: int) -> None:
    assert parse_amount(format_cents(cents)) == cents
    assert parse_amount(display_money(cents, "EUR").removesuffix(" EUR")) == cents


def test_fold_and_tokens() -> None:
    assert fold("  José   MÜLLER ") == "jose muller"
    assert fold("ＡＣＭＥ") == "acme"
    assert search_tokens("王伟说") == ["王", "伟", "说", "王伟", "伟说"]
    assert search_tokens("alice@acme.com") == ["alice", "acme", "com"]
    assert query_terms("签合同") == ["签合", "合同"]
    assert query_terms("a_b") == ["a", "b"]


def test_one_line_neutralises_terminal_escapes() -> None:
    assert one_line("red\x1b[31m text\x07\nnext\tline") == "red[31m text next line"
    assert one_line("x" * 10, 5) == "xxxx…"
