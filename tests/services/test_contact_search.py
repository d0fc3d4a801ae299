"""Finding contacts as `tinycrm search` finds records: by their own record, their notes,
their deals and their company, each once with why (on both backends)."""

from __future__ import annotations

from tests.conftest import Runner
from tinycrm.services.search import ContactMatch
from tinycrm.services.search import matching_contacts as matching


def matching_contacts(text: str, limit: int) -> list[ContactMatch]:
    """On the store as the CLI left it (each CLI command closes the one it opened)."""
    from tinycrm.cli import state

    try:
        return matching(state.get_ctx().db, text, limit)
    finally:
        state.close()


def test_contacts_are_found_through_notes_deals_and_companies(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong", "--company", "Escrow Partners")
    cli.ok("contact", "add", "Bob Stone")
    cli.ok("contact", "add", "Carla Diaz")
    cli.ok("contact", "add", "Dan Escrowe")
    cli.ok("note", "bob", "the escrow papers are signed", "--when", "2d ago")
    cli.ok("deal", "add", "carla", "Escrow renewal", "--value", "100")
    cli.ok("note", "carla", "talked about escrow too", "--when", "1d ago")
    found = {m.contact_id: m for m in matching_contacts("escrow", 50)}
    assert {k: (m.via, m.text) for k, m in found.items()} == {
        4: ("contact", ""),  # their own name first
        1: ("contact", ""),  # the company's name is part of the contact's record
        3: ("interaction", "talked about escrow too"),  # the newest note of theirs
        2: ("interaction", "the escrow papers are signed"),
    }
    assert found[2].kind == "note"
    assert [m.via for m in matching_contacts("renewal", 50)] == ["deal"]
    cli.ok("company", "add", "Globex", "--domain", "globex.example")
    cli.ok("contact", "edit", "bob", "--company", "Globex")
    assert [(m.contact_id, m.via, m.text) for m in matching_contacts("globex.ex", 50)] == [
        (2, "company", "Globex")
    ]
    assert [m.contact_id for m in matching_contacts("escrow", 2)] == [4, 1]
    assert matching_contacts("nothing-like-it", 50) == []
