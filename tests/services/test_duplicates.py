"""Finding duplicates: on entry (find_matches) and across the store (find_groups), on both
backends, through the real indexes."""

from __future__ import annotations

import dataclasses

import pytest

from tinycrm.services import contacts, duplicates
from tinycrm.services.context import Ctx


@pytest.fixture
def ctx(store: str, ctx: Ctx) -> Ctx:
    """The shared context, with phone numbers written without a country code British."""
    return dataclasses.replace(ctx, phone_region="GB")


@pytest.fixture
def alice(ctx: Ctx) -> int:
    return contacts.add_contact(
        ctx, name="Alice Wong", emails=["Alice.Wong@gmail.com"], phones=["+44 20 7946 0958"]
    )


SAME_NAME = [
    "alice wong",  # case
    "  Alice   Wong ",  # spaces
    "Alice\u00a0Wong",  # NBSP
    "ＡＬＩＣＥ　ＷＯＮＧ",  # full-width letters and space
    "Wong, Alice",  # order and punctuation
    "Alíce Wóng",  # accents
]


@pytest.mark.parametrize("name", SAME_NAME)
def test_the_same_name_written_differently(ctx: Ctx, alice: int, name: str) -> None:
    found = duplicates.find_matches(ctx, name=name)
    assert [(m.id, m.reasons, m.score) for m in found] == [(alice, ["same name"], 100)]


@pytest.mark.parametrize(("name", "ratio"), [("Alice Wongg", 95), ("Alise Wong", 90)])
def test_near_identical_names(ctx: Ctx, alice: int, name: str, ratio: int) -> None:
    found = duplicates.find_matches(ctx, name=name)
    assert [(m.id, m.reasons) for m in found] == [(alice, [f"similar name ({ratio})"])]


def test_a_different_person_is_no_match(ctx: Ctx, alice: int) -> None:
    assert duplicates.find_matches(ctx, name="Alan Wong") == []
    assert duplicates.find_matches(ctx, name="Bob Jones", emails=["alice@work.example"]) == []
    assert duplicates.find_matches(ctx, name="Alice Wong", exclude=[alice]) == []


@pytest.mark.parametrize(
    "email",
    [
        "ALICE.WONG@GMAIL.COM",  # case
        "alicewong@gmail.com",  # Gmail ignores dots
        "alice.wong+crm@gmail.com",  # plus-addressing
        "alice.wong@googlemail.com",  # Gmail's other domain
        "ａｌｉｃｅ.ｗｏｎｇ@gmail.com",  # full-width
    ],
)
def test_the_same_mailbox(ctx: Ctx, alice: int, email: str) -> None:
    found = duplicates.find_matches(ctx, name="A. W.", emails=[email])
    assert [(m.id, m.reasons) for m in found] == [(alice, ["same email alicewong@gmail.com"])]


def test_plus_addressing_only_counts_where_the_provider_ignores_it(ctx: Ctx) -> None:
    bob = contacts.add_contact(ctx, name="Bob Jones", emails=["bob@acme.example"])
    assert duplicates.find_matches(ctx, name="B", emails=["bob+x@acme.example"]) == []
    found = duplicates.find_matches(ctx, name="B", emails=["BOB@acme.example"])
    assert [m.id for m in found] == [bob]


@pytest.mark.parametrize(
    "phone", ["+44 20 7946 0958", "0044 20 7946 0958", "020 7946 0958", "+44 (20) 7946-0958"]
)
def test_the_same_phone_in_any_format_with_a_region(ctx: Ctx, alice: int, phone: str) -> None:
    found = duplicates.find_matches(ctx, name="Someone Else", phones=[phone])
    assert [(m.id, m.reasons) for m in found] == [(alice, ["same phone +442079460958"])]


def test_a_national_number_needs_a_region(ctx: Ctx, alice: int) -> None:
    ctx = dataclasses.replace(ctx, phone_region=None)
    assert duplicates.find_matches(ctx, name="Someone Else", phones=["020 7946 0958"]) == []
    found = duplicates.find_matches(ctx, name="Someone Else", phones=["+44 20 7946 0958"])
    assert [m.id for m in found] == [alice]


def test_every_reason_is_given_strongest_first(ctx: Ctx, alice: int) -> None:
    (m,) = duplicates.find_matches(
        ctx, name="Alice Wongg", emails=["alicewong@gmail.com"], phones=["02079460958"]
    )
    assert m.reasons == [
        "same email alicewong@gmail.com",
        "same phone +442079460958",
        "similar name (95)",
    ]
    assert (m.name, m.email, m.phone) == ("Alice Wong", "alice.wong@gmail.com", "+44 20 7946 0958")


def test_add_contact_refuses_a_look_alike_unless_allowed(ctx: Ctx, alice: int) -> None:
    from tinycrm.errors import Conflict

    with pytest.raises(Conflict, match=r"#\d+ Alice Wong \(same name\)"):
        contacts.add_contact(ctx, name="ALICE WONG")
    with pytest.raises(Conflict, match="same phone"):
        contacts.add_contact(ctx, name="Carla", phones=["020 7946 0958"])
    assert contacts.count_contacts(ctx.db) == 1
    contacts.add_contact(ctx, name="ALICE WONG", allow_duplicate=True)
    assert contacts.count_contacts(ctx.db) == 2


def test_add_details_fills_blanks_and_adds_what_is_new(ctx: Ctx, alice: int) -> None:
    contacts.edit_contact(ctx, alice, title="CEO")
    added = contacts.add_details(
        ctx,
        alice,
        emails=["alice.wong@gmail.com", "alice@acme.example"],
        phones=["+44 20 7946 0958"],
        title="Intern",
        source="fair",
        tags=["vip"],
    )
    assert added == ["source", "email alice@acme.example", "tag vip"]
    d = contacts.get_contact(ctx.db, alice)
    assert (d.title, d.source, d.tags) == ("CEO", "fair", ["vip"])
    assert d.emails == ["alice.wong@gmail.com", "alice@acme.example"]
    assert contacts.add_details(ctx, alice, tags=["vip"]) == []


def _groups(report: duplicates.DuplicateReport) -> list[tuple[list[str], list[str]]]:
    return [([c.name for c in g.contacts], g.reasons) for g in report.groups]


def test_groups_join_contacts_by_any_shared_key(ctx: Ctx) -> None:
    def add(name: str, emails: list[str] | None = None, phones: list[str] | None = None) -> None:
        contacts.add_contact(ctx, name=name, emails=emails, phones=phones, allow_duplicate=True)

    add("Alice Wong", ["alice.wong@gmail.com"])
    add("A. Wong", ["alicewong+news@gmail.com"], ["+1 415 555 0100"])
    add("Ali W", phones=["+1 (415) 555-0100"])
    add("Jon Smith")
    add("John Smith")
    add("Smith, John")
    add("Zoe Park")
    report = duplicates.find_groups(ctx.db)  # contacts oldest first: the one to keep
    assert (report.contacts, report.groups_total, report.threshold) == (7, 2, 90)
    assert _groups(report) == [
        (
            ["Alice Wong", "A. Wong", "Ali W"],
            ["same email alicewong@gmail.com", "same phone +14155550100"],
        ),
        (["Jon Smith", "John Smith", "Smith, John"], ["same name", "similar name (95)"]),
    ]
    strict = duplicates.find_groups(ctx.db, threshold=100)
    assert _groups(strict)[1] == (["John Smith", "Smith, John"], ["same name"])
    assert duplicates.find_groups(ctx.db, limit=1).groups_total == 2
    assert len(duplicates.find_groups(ctx.db, limit=1).groups) == 1


def test_blocks_put_near_names_together_without_comparing_all() -> None:
    keys = ["john smith", "jon smith", "jane smith", "smith", "smyth", "mary jones"]
    blocks = duplicates.blocks(keys)
    assert {0, 1, 2} <= set(blocks["smith j"])
    assert set(blocks["1 sm"]) == {3, 4}
    assert not any({0, 5} <= set(b) for b in blocks.values())
