"""Resolving what the user typed to one record."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinycrm.errors import Ambiguous, InvalidInput, NotFound, TinyCRMError
from tinycrm.refs import resolve
from tinycrm.services.contacts import add_contact
from tinycrm.services.context import Ctx


@pytest.fixture
def people(ctx: Ctx) -> Ctx:
    for name, email in [
        ("Alice Wong", "alice@acme.com"),
        ("Alice Smith", None),
        ("José Müller", "jose@example.com"),
        ("王伟", None),
        ("Bob O'Neil", None),
    ]:
        add_contact(ctx, name=name, emails=[email] if email else [])
    return ctx


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1", "Alice Wong"),
        ("#3", "José Müller"),
        ("contact:2", "Alice Smith"),
        ("ALICE@ACME.COM", "Alice Wong"),
        ("alice wong", "Alice Wong"),
        ("  Alice   Wong ", "Alice Wong"),
        ("jose muller", "José Müller"),
        ("JOSÉ", "José Müller"),
        ("ｊｏｓｅ", "José Müller"),
        ("müller", "José Müller"),
        ("王", "王伟"),
        ("alice s", "Alice Smith"),
        ("smith", "Alice Smith"),
        ("bob o'neil", "Bob O'Neil"),
        ("jose mueller", "José Müller"),
    ],
)
def test_resolves(people: Ctx, typed: str, expected: str) -> None:
    assert resolve(people.db, typed).label == expected


def test_ambiguous_and_not_found(people: Ctx) -> None:
    with pytest.raises(Ambiguous) as amb:
        resolve(people.db, "alice")
    assert [c[2] for c in amb.value.candidates] == ["Alice Smith", "Alice Wong"]
    with pytest.raises(NotFound, match="no contact with id 99"):
        resolve(people.db, "99")
    with pytest.raises(NotFound, match="no contact matches 'zzzz qqq'"):
        resolve(people.db, "zzzz qqq")
    with pytest.raises(InvalidInput, match="empty reference"):
        resolve(people.db, "   ")
    with pytest.raises(InvalidInput, match="a deal can't be used here"):
        resolve(people.db, "deal:1")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=40))
def test_any_text_resolves_or_raises_a_domain_error(people: Ctx, typed: str) -> None:
    try:
        target = resolve(people.db, typed, ("contact", "company", "deal"))
    except TinyCRMError:
        return
    assert target.kind in ("contact", "company", "deal") and target.id > 0


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.sampled_from(["Alice Wong", "José Müller", "Bob O'Neil"]),
    st.sampled_from(["upper", "lower", "nfd", "fullwidth", "spaces"]),
)
def test_spelling_variants_find_the_same_person(people: Ctx, name: str, variant: str) -> None:
    typed = {
        "upper": name.upper(),
        "lower": name.lower(),
        "nfd": unicodedata.normalize("NFD", name),
        "fullwidth": "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in name),
        "spaces": "  " + name.replace(" ", "   ") + " ",
    }[variant]
    assert resolve(people.db, typed).label == name
