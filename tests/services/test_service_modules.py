"""One home per concern in services/ (#15): the context is settled at open and never
changes, contacts' reads and writes live apart, and amounts come back typed."""

from __future__ import annotations

import dataclasses
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import Runner
from tinycrm.errors import InvalidInput
from tinycrm.money import Money
from tinycrm.services import contacts, users
from tinycrm.services.context import Ctx


def test_the_context_cannot_be_changed(ctx: Ctx) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        ctx.tz = ZoneInfo("Asia/Tokyo")  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        ctx._user_id = None  # type: ignore[misc]


def test_who_is_writing_is_settled_at_open_not_on_reading(ctx: Ctx) -> None:
    """A context made without signing in stays that way: reading `user_id` looks nothing up
    (it used to fetch and cache the id on first read), even for a name the store knows."""
    signed_in = ctx.user_id
    unsigned = dataclasses.replace(ctx, _user_id=None)
    assert not unsigned.signed_in
    with pytest.raises(InvalidInput, match=f"no user called {ctx.user_name!r}"):
        unsigned.user_id  # noqa: B018 - the read itself is what is tested
    assert unsigned._user_id is None
    assert ctx.signed_in and ctx.user_id == signed_in


def test_purchase_totals_are_cents_per_currency(cli: Runner) -> None:
    """The service gives cents per currency; only the shells write them as decimals."""
    from tinycrm.cli import state

    cli.ok("contact", "add", "Alice Wong")
    cli.ok("purchase", "add", "alice", "1,200.50", "--date", "2026-11-01")
    cli.ok("purchase", "add", "alice", "0.75 usd", "--date", "2026-11-02")
    cli.ok("purchase", "add", "alice", "99.50", "--date", "2026-11-03")
    try:
        db = state.get_ctx().db
        (alice,) = contacts.list_contacts(db)
        assert contacts.get_contact(db, alice.id).purchases_total == {
            "EUR": Money(130000, "EUR"),
            "USD": Money(75, "USD"),
        }
    finally:
        state.close()
    shown = cli.ok("contact", "show", "alice", "--json").json()
    assert isinstance(shown, dict)
    assert shown["purchases_total"] == {"EUR": "1300.00", "USD": "0.75"}
    text = cli.ok("contact", "show", "alice").stdout
    assert "1,300.00 EUR" in text and "0.75 USD" in text


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("not-an-email", "not an email address: 'not-an-email'"),
        ("a@", "not an email address: 'a@'"),
    ],
)
def test_users_and_contacts_check_emails_by_one_rule(
    cli: Runner, ctx: Ctx, typed: str, error: str
) -> None:
    """A user's email and a contact's go through the same public check (users used to
    borrow a private helper of contacts)."""
    with pytest.raises(InvalidInput) as for_user:
        users.check_email(typed)
    with pytest.raises(InvalidInput) as for_contact:
        contacts.check_emails([typed])
    assert str(for_user.value) == str(for_contact.value) == error
    r = cli("user", "add", "noor", "--email", typed)
    assert r.exit_code == 2
    assert r.stderr == f"Error: {error}\n"
    r = cli("contact", "add", "Sam", "--email", typed)
    assert r.exit_code == 2
    assert r.stderr == f"Error: {error}\n"
