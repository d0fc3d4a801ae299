"""Hostile input to the catalogue, line items, quotes and recommendations (#22), generated
by hypothesis as tests/test_hostile_input.py does: each command succeeds or refuses with
one `Error:` line, prints nothing that drives the terminal, and leaves the store as it was
when it refuses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import Runner
from tests.test_hostile_input import CLI, FAST, check, texts
from tinycrm.errors import TinyCRMError


@FAST
@given(texts)
def test_percent_parser(text: str) -> None:
    from tinycrm.pricing import BP, parse_percent

    try:
        bp = parse_percent(text, field="--tax-rate")
    except TinyCRMError as e:
        assert "\n" not in str(e)
    else:
        assert 0 <= bp <= BP


@pytest.fixture
def catalogue(sqlite_store: str) -> str:
    cli = Runner()
    cli.ok("contact", "add", "Alice Wong", "-e", "alice@acme.com")
    cli.ok("product", "add", "Pro licence", "--price", "120", "--sku", "PRO-1")
    cli.ok("deal", "add", "alice", "Pilot")
    cli.ok("deal", "item", "add", "1", "PRO-1")
    return sqlite_store


@CLI
@given(texts, texts, texts)
def test_products_and_items(catalogue: str, name: str, number: str, other: str) -> None:
    cli = Runner()
    check(cli, catalogue, "product", "add", name, "--price", number, "--sku", other)
    check(cli, catalogue, "product", "add", "Thing", "--price", "5", "--tax-rate", number)
    check(cli, catalogue, "product", "edit", "PRO-1", "--name", name, "--unit", other)
    check(cli, catalogue, "product", "show", name)
    check(cli, catalogue, "deal", "item", "add", "1", name, "--price", number)
    check(cli, catalogue, "deal", "item", "add", "1", "PRO-1", "--discount", number)
    check(cli, catalogue, "deal", "item", "edit", "1", "1", "--price", other)


@CLI
@given(texts, st.sampled_from(["html", "md", "pdf", ""]), texts)
def test_quotes_and_recommend(catalogue: str, when: str, fmt: str, ref: str) -> None:
    cli = Runner()
    check(cli, catalogue, "quote", "1", "--valid-for", when, "--format", fmt)
    check(cli, catalogue, "quote", "show", ref)
    check(cli, catalogue, "recommend", ref)
    check(cli, catalogue, "purchase", "add", "alice", "5", "--product", ref)
