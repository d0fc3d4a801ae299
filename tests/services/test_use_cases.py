"""Use cases that the shells used to assemble themselves (#15): saving a contact form,
adding a contact that may already be there, logging against someone who may not be there
yet. Each is one service call and one transaction, on both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tinycrm.errors import Conflict, InvalidInput
from tinycrm.services import audit, contacts, duplicates
from tinycrm.services.context import Ctx


def _alice(ctx: Ctx) -> int:
    return contacts.add_contact(
        ctx,
        name="Alice Wong",
        emails=["alice@acme.com"],
        company="Acme GmbH",
        title="Buyer",
        tags=["vip"],
    )


def _form(ctx: Ctx, contact_id: int | None, **changes: object) -> int:
    """Save the contact form as the app fills it from Alice, with `changes` typed in."""
    fields: dict[str, object] = {
        "name": "Alice Wong",
        "emails": ["alice@acme.com"],
        "phones": [],
        "company": "Acme GmbH",
        "title": "Buyer",
        "tags": ["vip"],
        "notes": "",
        "cadence_days": None,
    }
    fields.update(changes)
    return contacts.save_contact(ctx, contact_id, **fields)  # type: ignore[arg-type]


def test_saving_a_form_writes_only_what_differs(ctx: Ctx) -> None:
    alice = _alice(ctx)
    assert _form(ctx, alice, title="Head of purchasing", tags=["vip", "key"], expected_version=1)
    d = contacts.get_contact(ctx.db, alice, timeline=0)
    assert (d.title, d.tags, d.company, d.emails) == (
        "Head of purchasing",
        ["key", "vip"],
        "Acme GmbH",
        ["alice@acme.com"],
    )
    history = audit.history(ctx.db, "contact", alice)
    assert [(e.action, sorted(e.changes)) for e in history][:2] == [
        ("tag", ["tags"]),
        ("edit", ["title"]),
    ]


def test_saving_an_unchanged_form_writes_nothing(ctx: Ctx) -> None:
    alice = _alice(ctx)
    _form(ctx, alice, expected_version=1)
    assert contacts.get_contact(ctx.db, alice, timeline=0).version == 1
    assert [e.action for e in audit.history(ctx.db, "contact", alice)] == ["add"]


def test_a_form_filled_from_an_older_version_is_refused_whole(ctx: Ctx) -> None:
    alice = _alice(ctx)
    contacts.edit_contact(ctx, alice, notes="met at the fair")  # someone else, meanwhile
    with pytest.raises(Conflict, match="nothing was saved"):
        _form(
            ctx,
            alice,
            title="CEO",
            tags=["vip", "key"],
            notes="met at the fair",
            expected_version=1,
        )
    d = contacts.get_contact(ctx.db, alice, timeline=0)
    assert (d.title, d.tags, d.version) == ("Buyer", ["vip"], 2)
    with pytest.raises(Conflict):  # a tag change alone is checked too
        _form(ctx, alice, tags=[], notes="met at the fair", expected_version=1)
    assert contacts.get_contact(ctx.db, alice, timeline=0).tags == ["vip"]


def test_a_form_clears_what_was_emptied(ctx: Ctx) -> None:
    alice = _alice(ctx)
    contacts.edit_contact(ctx, alice, cadence_days=14)
    _form(ctx, alice, company="", title="", emails=[], tags=[], expected_version=2)
    d = contacts.get_contact(ctx.db, alice, timeline=0)
    assert (d.company, d.title, d.emails, d.tags, d.cadence_days) == (None, None, [], [], None)


def test_a_new_contact_from_the_form_refuses_a_look_alike_unless_told(ctx: Ctx) -> None:
    _alice(ctx)
    with pytest.raises(Conflict, match="a contact like 'alice wong' already exists"):
        _form(ctx, None, name="alice wong", emails=[], company="", tags=[])
    again = _form(
        ctx, None, name="alice wong", emails=[], company="", tags=[], allow_duplicate=True
    )
    d = contacts.get_contact(ctx.db, again, timeline=0)
    assert (d.name, d.company, d.title, d.notes) == ("alice wong", None, "Buyer", None)
    assert d.version == 1


def test_add_or_match_merges_into_the_same_person(ctx: Ctx) -> None:
    alice = _alice(ctx)
    done = contacts.add_or_match(
        ctx, name="A. Wong", emails=["ALICE@acme.com"], phones=["+1 555 0100"], on_duplicate="merge"
    )
    assert (done.action, done.contact.id, done.added) == ("merged", alice, ["phone +1 555 0100"])
    assert done.contact.phones == ["+1 555 0100"]
    assert len(contacts.list_contacts(ctx.db)) == 1


def test_add_or_match_skips_the_same_person_and_adds_a_mere_look_alike(ctx: Ctx) -> None:
    alice = _alice(ctx)
    skipped = contacts.add_or_match(ctx, name="Alice Wong", on_duplicate="skip")
    assert (skipped.action, skipped.contact.id, skipped.name) == ("skipped", alice, "Alice Wong")
    alike = contacts.add_or_match(
        ctx, name="Alice Wong", emails=["alice@other.org"], on_duplicate="skip"
    )
    assert alike.action == "added" and alike.contact.id != alice
    assert [m.id for m in alike.alike] == [alice]
    assert len(contacts.list_contacts(ctx.db)) == 2


def test_add_or_match_asks_only_when_there_is_a_look_alike(ctx: Ctx) -> None:
    asked: list[tuple[str, list[int]]] = []

    def ask(name: str, matches: list[duplicates.Match]) -> tuple[str, duplicates.Match | None]:
        asked.append((name, [m.id for m in matches]))
        return "create", None

    first = contacts.add_or_match(ctx, name="Alice Wong", ask=ask)
    assert first.action == "added" and asked == []
    second = contacts.add_or_match(ctx, name="alice  wong", ask=ask)
    assert second.action == "added" and asked == [("alice wong", [first.contact.id])]
    with pytest.raises(Conflict, match="already exists"):  # nobody to ask: refused
        contacts.add_or_match(ctx, name="Alice Wong")
    assert len(contacts.list_contacts(ctx.db)) == 2


def test_logging_against_a_name_creates_the_contact_only_when_asked(ctx: Ctx) -> None:
    from tinycrm.errors import NotFound
    from tinycrm.services.interactions import log_interaction

    with pytest.raises(NotFound, match="add --create to create a contact named 'Bob Newman'"):
        log_interaction(ctx, "Bob Newman", "met at the fair")
    due = ctx.now + timedelta(days=3)
    logged = log_interaction(
        ctx, " Bob   Newman ", "met at the fair", follow_up=due, create_contact=True
    )
    assert (logged.label, logged.target) == (
        "Bob Newman",
        f"contact #{logged.contact_id} Bob Newman",
    )
    assert logged.follow_up_at == due
    again = log_interaction(ctx, "bob", "called back", create_contact=True)
    assert again.contact_id == logged.contact_id
    assert [c.name for c in contacts.list_contacts(ctx.db)] == ["Bob Newman"]


def test_a_failed_follow_up_leaves_no_contact_behind(ctx: Ctx) -> None:
    from tinycrm.services.interactions import log_interaction

    with pytest.raises(InvalidInput):
        log_interaction(
            ctx, "Carol", "hello", follow_up_text=" \x00 ", follow_up=ctx.now, create_contact=True
        )
    assert contacts.list_contacts(ctx.db) == []
    assert audit.recent(ctx.db) == []


def test_a_reminder_about_what_the_user_typed_is_one_call(ctx: Ctx) -> None:
    from tinycrm.errors import NotFound
    from tinycrm.services import companies
    from tinycrm.services.reminders import add_reminder

    acme = companies.add_company(ctx, name="Acme GmbH")
    due = ctx.now + timedelta(days=3)
    r = add_reminder(ctx, "acme", due, "send contract")
    assert (r.company_id, r.target, r.due_at) == (acme, "Acme GmbH", due)
    with pytest.raises(NotFound, match="no contact, company or deal matches 'nobody'"):
        add_reminder(ctx, "nobody", due, "call back")
