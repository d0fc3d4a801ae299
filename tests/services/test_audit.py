"""The audit log, lost-update protection and owners, through the services, on both
backends: every kind of write leaves one entry with the right user and old/new values;
a stale edit is refused with nothing written; assign hands records over."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tinycrm.errors import Conflict, InvalidInput, NotFound
from tinycrm.refs import Target
from tinycrm.services import (
    audit,
    companies,
    contacts,
    deals,
    interactions,
    owners,
    purchases,
    reminders,
    users,
)
from tinycrm.services.context import Ctx
from tinycrm.services.users import ensure_user


def entries(ctx: Ctx) -> list[tuple[Any, ...]]:
    """Every entry, oldest first: (user, entity, entity_id, action, changes)."""
    return [
        (e.user, e.entity, e.entity_id, e.action, e.changes)
        for e in reversed(audit.recent(ctx.db, limit=1000))
    ]


def last(ctx: Ctx) -> tuple[Any, ...]:
    return entries(ctx)[-1]


def as_user(ctx: Ctx, name: str) -> Ctx:
    """The same store and clock, another user (added to the store if new)."""
    return dataclasses.replace(ctx, user_name=name, _user_id=ensure_user(ctx.db, name, ctx.now))


def later(ctx: Ctx, minutes: int) -> Ctx:
    return dataclasses.replace(ctx, now=ctx.now + timedelta(minutes=minutes))


def test_contact_writes_record_old_and_new(ctx: Ctx) -> None:
    cid = contacts.add_contact(
        ctx, name="Alice Wong", emails=["alice@example.com"], company="Acme", tags=["vip"]
    )
    assert entries(ctx) == [
        ("sam", "company", 1, "add", {"name": [None, "Acme"], "owner": [None, "sam"]}),
        (
            "sam",
            "contact",
            cid,
            "add",
            {
                "name": [None, "Alice Wong"],
                "emails": [None, ["alice@example.com"]],
                "company": [None, "Acme"],
                "tags": [None, ["vip"]],
                "owner": [None, "sam"],
            },
        ),
    ]
    ana = as_user(ctx, "ana")
    contacts.edit_contact(
        ana, cid, title="CEO", notes="", add_emails=["a@acme.example"], company=""
    )
    assert last(ctx) == (
        "ana",
        "contact",
        cid,
        "edit",
        {
            "title": [None, "CEO"],
            "company": ["Acme", None],
            "emails": [["alice@example.com"], ["alice@example.com", "a@acme.example"]],
        },
    )
    contacts.tag_contact(ctx, cid, add=["partner"], remove=["vip"])
    assert last(ctx) == ("sam", "contact", cid, "tag", {"tags": [["vip"], ["partner"]]})
    interactions.log_interaction(ctx, Target("contact", cid, "Alice Wong"), "hello")
    contacts.delete_contact(ctx, cid)
    assert last(ctx) == (
        "sam",
        "contact",
        cid,
        "delete",
        {
            "name": ["Alice Wong", None],
            "title": ["CEO", None],
            "emails": [["alice@example.com", "a@acme.example"], None],
            "interactions": [1, None],
            "reminders": [0, None],
            "purchases": [0, None],
        },
    )


def test_an_edit_that_changes_nothing_records_no_fields(ctx: Ctx) -> None:
    cid = contacts.add_contact(ctx, name="Bob", notes="x")
    contacts.edit_contact(ctx, cid, notes="x")
    assert last(ctx)[3:] == ("edit", {})


def test_company_writes(ctx: Ctx) -> None:
    co = companies.add_company(ctx, name="Acme", domain="acme.example")
    companies.edit_company(ctx, co, domain="acme.com", phone="+49 30 1")
    assert last(ctx) == (
        "sam",
        "company",
        co,
        "edit",
        {"domain": ["acme.example", "acme.com"], "phone": [None, "+49 30 1"]},
    )
    companies.delete_company(ctx, co)
    assert last(ctx) == (
        "sam",
        "company",
        co,
        "delete",
        {"name": ["Acme", None], "domain": ["acme.com", None], "phone": ["+49 30 1", None]},
    )


def test_deal_writes(ctx: Ctx) -> None:
    cid = contacts.add_contact(ctx, name="Alice Wong")
    d = deals.add_deal(ctx, "50 licences", target=Target("contact", cid, "Alice Wong"),
                       value_cents=1_200_000)  # fmt: skip
    assert last(ctx)[3:] == (
        "add",
        {
            "title": [None, "50 licences"],
            "value": [None, "12000.00"],
            "currency": [None, "EUR"],
            "probability": [None, 10],
            "stage": [None, "Lead"],
            "status": [None, "open"],
            "contact": [None, "Alice Wong"],
            "owner": [None, "sam"],
        },
    )
    deals.edit_deal(ctx, d.id, value_cents=1_500_000, expected_close=date(2026, 12, 31))
    assert last(ctx)[3:] == (
        "edit",
        {"value": ["12000.00", "15000.00"], "expected_close": [None, "2026-12-31"]},
    )
    deals.move_deal(ctx, d.id, "Proposal")
    assert last(ctx)[3:] == ("move", {"stage": ["Lead", "Proposal"]})
    deals.close_deal(ctx, d.id, "lost", reason="price")
    assert last(ctx)[3:] == (
        "lost",
        {
            "stage": ["Proposal", "Lost"],
            "status": ["open", "lost"],
            "lost_reason": [None, "price"],
        },
    )
    deals.move_deal(ctx, d.id, "Negotiation")
    assert last(ctx)[3] == "reopen"
    deals.close_deal(ctx, d.id, "won")
    assert last(ctx)[3] == "won"


def test_reminder_interaction_and_purchase_writes(ctx: Ctx) -> None:
    cid = contacts.add_contact(ctx, name="Alice Wong")
    alice = Target("contact", cid, "Alice Wong")
    due = datetime(2026, 11, 24, 8, tzinfo=UTC)
    r = reminders.add_reminder(ctx, alice, due, "call back", every="weekly")
    assert last(ctx) == (
        "sam",
        "reminder",
        r.id,
        "add",
        {
            "text": [None, "call back"],
            "due_at": [None, "2026-11-24T08:00:00Z"],
            "about": [None, f"contact #{cid} Alice Wong"],
            "recurrence": [None, "weekly"],
            "owner": [None, "sam"],
        },
    )
    reminders.snooze(ctx, r.id, due + timedelta(hours=2))
    assert last(ctx)[3:] == (
        "snooze",
        {"due_at": ["2026-11-24T08:00:00Z", "2026-11-24T10:00:00Z"]},
    )
    done = reminders.complete(ctx, r.id)
    assert done.next is not None
    assert entries(ctx)[-2:] == [
        ("sam", "reminder", r.id, "done", {"done_at": [None, "2026-11-23T09:00:00Z"]}),
        (
            "sam",
            "reminder",
            done.next.id,
            "add",
            {
                "text": [None, "call back"],
                "due_at": [None, "2026-12-01T08:00:00Z"],
                "after": [None, r.id],
            },
        ),
    ]
    logged = interactions.log_interaction(ctx, alice, "asked for a quote", kind="call")
    assert last(ctx) == (
        "sam",
        "interaction",
        logged.id,
        "add",
        {
            "kind": [None, "call"],
            "body": [None, "asked for a quote"],
            "happened_at": [None, "2026-11-23T09:00:00Z"],
            "about": [None, f"contact #{cid} Alice Wong"],
        },
    )
    p = purchases.add_purchase(ctx, cid, 120_050, on=date(2026, 11, 2), note="licences")
    assert last(ctx) == (
        "sam",
        "purchase",
        p.id,
        "add",
        {
            "amount": [None, "1200.50"],
            "currency": [None, "EUR"],
            "purchased_on": [None, "2026-11-02"],
            "note": [None, "licences"],
            "contact": [None, "Alice Wong"],
        },
    )


def test_the_one_adding_users_is_a_user_already_and_signs_every_entry(ctx: Ctx) -> None:
    users.add_user(ctx.db, "lea", ctx.now, by=ctx)  # sam was signed in when ctx was opened
    users.edit_user(ctx.db, "sam", lead="lea", by=ctx)
    assert [(e[0], e[1], e[3]) for e in entries(ctx)] == [
        ("sam", "user", "add"),
        ("sam", "user", "edit"),
    ]


def test_users_and_stages(ctx: Ctx) -> None:
    assert ctx.user_id  # sam has used tinycrm before
    users.add_user(ctx.db, "ana", ctx.now, email="ana@example.com", by=ctx)
    ana_id = users.user_id(ctx.db, "ana")
    assert last(ctx) == (
        "sam",
        "user",
        ana_id,
        "add",
        {"name": [None, "ana"], "email": [None, "ana@example.com"]},
    )
    users.edit_user(ctx.db, "ana", timezone="Europe/Berlin", lead="sam", by=ctx)
    assert last(ctx)[3:] == (
        "edit",
        {"timezone": [None, "Europe/Berlin"], "lead": [None, "sam"]},
    )
    stage = deals.add_stage(ctx, "Demo", probability=40, rot_days=5)
    assert last(ctx)[1:4] == ("stage", stage.id, "add")
    deals.edit_stage(ctx, "Demo", probability=45, position=2)
    assert last(ctx)[3:] == ("edit", {"position": [5, 2], "probability": [40, 45]})
    deals.remove_stage(ctx, "Demo")
    assert last(ctx)[3] == "delete" and last(ctx)[4]["name"] == ["Demo", None]


def test_a_contacts_history_has_its_notes_reminders_and_purchases_newest_first(
    ctx: Ctx,
) -> None:
    alice = contacts.add_contact(ctx, name="Alice Wong")
    bob = contacts.add_contact(ctx, name="Bob Stone")
    a = Target("contact", alice, "Alice Wong")
    interactions.log_interaction(later(ctx, 1), a, "hello")
    interactions.log_interaction(later(ctx, 2), Target("contact", bob, "Bob Stone"), "not hers")
    r = reminders.add_reminder(later(ctx, 3), a, ctx.now + timedelta(days=1), "call")
    purchases.add_purchase(later(ctx, 4), alice, 5000)
    contacts.edit_contact(later(ctx, 5), alice, title="CEO")
    reminders.complete(later(ctx, 6), r.id)
    got = audit.history(ctx.db, "contact", alice)
    assert [(e.entity, e.action) for e in got] == [
        ("reminder", "done"),
        ("contact", "edit"),
        ("purchase", "add"),
        ("reminder", "add"),
        ("interaction", "add"),
        ("contact", "add"),
    ]
    assert got[0].label == "call" and got[1].label == "Alice Wong"
    assert [e.at for e in got] == sorted((e.at for e in got), reverse=True)
    assert [e.action for e in audit.history(ctx.db, "contact", alice, limit=2)] == ["done", "edit"]


def test_forgetting_a_contact_deletes_its_entries_and_its_rows_entries_only(ctx: Ctx) -> None:
    alice = contacts.add_contact(ctx, name="Alice Wong")
    bob = contacts.add_contact(ctx, name="Bob Stone")
    interactions.log_interaction(ctx, Target("contact", alice, "Alice Wong"), "hers")
    reminders.add_reminder(ctx, Target("contact", alice, "A"), ctx.now, "call her")
    purchases.add_purchase(ctx, alice, 100)
    interactions.log_interaction(ctx, Target("contact", bob, "Bob Stone"), "his")
    assert audit.forget_contact(ctx.db, alice) == 4
    assert audit.history(ctx.db, "contact", alice) == []
    assert [(e[1], e[2]) for e in entries(ctx)] == [("contact", bob), ("interaction", 2)]


def test_a_stale_contact_edit_is_refused_naming_who_and_nothing_is_written(ctx: Ctx) -> None:
    cid = contacts.add_contact(ctx, name="Alice Wong", title="Buyer")
    seen = contacts.get_contact(ctx.db, cid).version
    contacts.edit_contact(later(as_user(ctx, "ana"), 30), cid, title="Head of purchasing")
    before = entries(ctx)
    with pytest.raises(Conflict) as refused:
        contacts.edit_contact(
            ctx, cid, title="CEO", company="New Co", add_emails=["x@y.example"],
            expected_version=seen,
        )  # fmt: skip
    assert str(refused.value) == (
        f"contact #{cid} Alice Wong was changed by ana at 2026-11-23 10:30 (edit: title)"
        f" after you read it (version {seen + 1}, you had {seen}); nothing was saved:"
        " show it again and redo your change"
    )
    now = contacts.get_contact(ctx.db, cid)
    assert (now.title, now.company, now.emails, now.version) == (
        "Head of purchasing",
        None,
        [],
        seen + 1,
    )
    assert companies.list_companies(ctx.db) == []
    assert entries(ctx) == before
    with pytest.raises(Conflict):
        contacts.tag_contact(ctx, cid, add=["vip"], remove=[], expected_version=seen)
    contacts.edit_contact(ctx, cid, title="CEO", expected_version=seen + 1)
    assert contacts.get_contact(ctx.db, cid).version == seen + 2


def test_every_change_to_a_contact_moves_its_version_once(ctx: Ctx) -> None:
    cid = contacts.add_contact(ctx, name="Alice Wong")
    assert contacts.get_contact(ctx.db, cid).version == 1
    contacts.edit_contact(ctx, cid, title="CEO", add_emails=["a@b.example"])
    contacts.tag_contact(ctx, cid, add=["vip"], remove=[])
    owners.assign(ctx, "contact", cid, "sam")  # already hers: no change
    users.add_user(ctx.db, "ana", ctx.now)
    owners.assign(ctx, "contact", cid, "ana")
    interactions.log_interaction(ctx, Target("contact", cid, "Alice Wong"), "a note is no edit")
    assert contacts.get_contact(ctx.db, cid).version == 4


def test_stale_deal_and_company_edits_are_refused(ctx: Ctx) -> None:
    d = deals.add_deal(ctx, "Pilot", value_cents=100)
    deals.move_deal(as_user(ctx, "ana"), d.id, "Qualified")
    with pytest.raises(Conflict, match=r"deal #1 Pilot was changed by ana .* \(move: stage"):
        deals.edit_deal(ctx, d.id, value_cents=500, expected_version=d.version)
    with pytest.raises(Conflict):
        deals.close_deal(ctx, d.id, "won", expected_version=d.version)
    again = deals.get_deal(ctx.db, d.id)
    assert (again.value_cents, again.stage, again.version) == (100, "Qualified", d.version + 1)
    co = companies.add_company(ctx, name="Acme")
    companies.edit_company(as_user(ctx, "ana"), co, notes="key account")
    with pytest.raises(Conflict, match="company #1 Acme was changed by ana"):
        companies.edit_company(ctx, co, notes="mine", expected_version=1)
    assert companies.get_company(ctx.db, co).notes == "key account"


def test_assign_a_contact_with_its_open_deals_and_reminders(ctx: Ctx) -> None:
    users.add_user(ctx.db, "ana", ctx.now)
    cid = contacts.add_contact(ctx, name="Alice Wong")
    a = Target("contact", cid, "Alice Wong")
    open_deal = deals.add_deal(ctx, "Open one", target=a)
    won = deals.add_deal(ctx, "Won one", target=a)
    deals.close_deal(ctx, won.id, "won")
    on_deal = reminders.add_reminder(
        ctx, Target("deal", open_deal.id, "Open one"), ctx.now + timedelta(days=1), "quote"
    )
    r_open = reminders.add_reminder(ctx, a, ctx.now + timedelta(days=1), "call")
    r_done = reminders.add_reminder(ctx, a, ctx.now + timedelta(days=1), "old")
    reminders.complete(ctx, r_done.id)
    result = owners.assign(ctx, "contact", cid, "ana", with_open=True)
    assert (result.owner, result.previous, result.deals) == ("ana", "sam", [open_deal.id])
    assert result.reminders == [on_deal.id, r_open.id]
    assert contacts.get_contact(ctx.db, cid).owner == "ana"
    assert deals.get_deal(ctx.db, won.id).owner == "sam"
    assert reminders.get_reminder(ctx.db, r_done.id, ctx.now).owner == "sam"
    assert [c.name for c in contacts.list_contacts(ctx.db, owner="ana")] == ["Alice Wong"]
    mine = reminders.list_reminders(ctx, owner_id=users.user_id(ctx.db, "ana"))
    assert [r.text for r in mine] == ["quote", "call"]
    assigned = [e for e in entries(ctx) if e[3] == "assign"]
    assert [(e[1], e[2], e[4]) for e in assigned] == [
        ("contact", cid, {"owner": ["sam", "ana"]}),
        ("deal", open_deal.id, {"owner": ["sam", "ana"]}),
        ("reminder", on_deal.id, {"owner": ["sam", "ana"]}),
        ("reminder", r_open.id, {"owner": ["sam", "ana"]}),
    ]
    again = owners.assign(ctx, "contact", cid, "ana", with_open=True)
    assert (again.previous, again.deals, again.reminders) == ("ana", [], [])
    assert len([e for e in entries(ctx) if e[3] == "assign"]) == 4


def test_assign_refuses_unknown_users_and_records(ctx: Ctx) -> None:
    cid = contacts.add_contact(ctx, name="Alice Wong")
    before = entries(ctx)
    with pytest.raises(InvalidInput, match=r"^no user called 'zoe' \(users: sam\)$"):
        owners.assign(ctx, "contact", cid, "zoe")
    with pytest.raises(NotFound, match="no reminder with id 9"):
        owners.assign(ctx, "reminder", 9, "sam")
    with pytest.raises(InvalidInput, match="--with-open goes with a contact or a deal"):
        owners.assign(ctx, "reminder", 1, "sam", with_open=True)
    assert entries(ctx) == before


def test_one_entry_per_import_run(ctx: Ctx) -> None:
    from tinycrm.services.imports.purchases import ImportSource, PurchaseRow, import_purchases

    contacts.add_contact(ctx, name="Alice Wong", emails=["alice@example.com"])
    rows = [
        PurchaseRow(line=n + 2, contact="alice@example.com", day=date(2026, 10, n + 1),
                    amount_cents=1000 * (n + 1), currency="EUR", note=None)
        for n in range(5)
    ]  # fmt: skip
    source = ImportSource(
        file="buys.csv", encoding="utf-8", encoding_guessed=False, delimiter=",",
        decimal_mark=".", date_formats=["%Y-%m-%d"], columns={}, ignored_columns=[],
    )  # fmt: skip
    import_purchases(ctx, rows, source=source, dry_run=True)
    count = len(entries(ctx))
    import_purchases(ctx, rows, source=source)
    assert len(entries(ctx)) == count + 1
    assert last(ctx) == (
        "sam",
        "import",
        0,
        "import",
        {
            "what": [None, "purchases"],
            "file": [None, "buys.csv"],
            "rows": [None, 5],
            "imported": [None, 5],
            "duplicates": [None, 0],
            "rejected": [None, 0],
            "contacts_created": [None, 0],
            "totals": [None, ["150.00 EUR"]],
        },
    )


def test_describe_shows_times_locally_and_lists_readably(ctx: Ctx) -> None:
    entry = audit.HistoryEntry(
        id=1, at=ctx.now, user="sam", entity="reminder", entity_id=1, label=None,
        action="snooze", changes={"due_at": ["2026-11-24T08:00:00Z", "2026-11-24T10:00:00Z"],
                                  "tags": [["a", "b"], []], "notes": [None, "x" * 80]},
    )  # fmt: skip
    assert audit.describe(entry, ctx.tz) == (
        "due: 2026-11-24 09:00 → 2026-11-24 11:00; tags: a, b → —; notes: — → " + "x" * 59 + "…"
    )
