"""The knowledge base (#20): cases in `search`, `case similar` ranked by full text, kept in
the index by every case write, undo, forget and doctor, through the real command line on
SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from tests.conftest import Runner
from tests.test_doctor import found, sql


def _ids(rows: Any) -> list[int]:
    return [r["id"] for r in rows]


def _past_cases(cli: Runner) -> None:
    """Three closed cases and one open; #1 is the obvious match for a printer toner case."""
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("contact", "add", "Bob Stone")
    cli.ok(
        "case", "add", "alice", "Printer toner empty", "--body", "the office printer says toner low"
    )
    cli.ok("case", "close", "1", "--solution", "sent a new toner cartridge", "--satisfaction", "5")
    cli.ok(
        "case",
        "add",
        "bob",
        "Invoice address wrong",
        "--body",
        "the invoice went to the old office",
    )
    cli.ok("case", "close", "2", "--solution", "corrected the billing address")
    cli.ok("case", "add", "bob", "Login fails", "--body", "password reset mail never arrives")
    cli.ok("case", "close", "3", "--solution", "whitelisted our mail server")
    cli.ok(
        "case", "add", "alice", "Printer toner again", "--body", "toner low on the second printer"
    )


def test_similar_lists_past_cases_with_their_solutions(cli: Runner) -> None:
    _past_cases(cli)
    similar = cli.ok("case", "similar", "4", "--json").json()
    # the same obvious best match first on both backends (bm25 on SQLite, ts_rank on PG)
    assert similar[0]["id"] == 1
    assert similar[0]["solution"] == "sent a new toner cartridge"
    assert (similar[0]["status"], similar[0]["satisfaction"], similar[0]["contact"]) == (
        "closed", 5, "Alice Wong",
    )  # fmt: skip
    # the open case itself is never its own match, nor any case not yet resolved
    assert 4 not in _ids(similar)
    assert all(s["status"] in ("resolved", "closed") for s in similar)
    assert [s["score"] for s in similar] == sorted((s["score"] for s in similar), reverse=True)
    assert _ids(cli.ok("case", "similar", "4", "--limit", "1", "--json").json()) == [1]
    # the login case shares no word with the billing one
    assert 3 not in _ids(cli.ok("case", "similar", "2", "--json").json())
    out = cli.ok("case", "similar", "4").stdout
    assert out.splitlines()[0].split("\t")[:2] == ["1", "Printer toner empty"]
    assert "sent a new toner cartridge" in out.splitlines()[0]


def test_a_case_is_not_like_anything_in_an_empty_knowledge_base(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("case", "add", "alice", "Printer broken")
    assert cli.ok("case", "similar", "1", "--json").json() == []
    r = cli("case", "similar", "9")
    assert (r.exit_code, r.stderr) == (1, "Error: no case with id 9\n")


def test_search_finds_cases_by_solution_title_and_body(cli: Runner) -> None:
    _past_cases(cli)
    hits = cli.ok("search", "cartridge", "--json").json()
    assert [(h["kind"], h["id"]) for h in hits] == [("case", 1)]
    assert hits[0]["detail"] == "Alice Wong (closed): sent a new toner cartridge"
    hits = cli.ok("search", "toner", "--kind", "case", "--json").json()
    assert sorted(h["id"] for h in hits) == [1, 4]
    assert cli.ok("search", "toner", "-k", "note", "--json").json() == []
    r = cli("search", "toner", "--kind", "ticket")
    assert r.exit_code == 2
    assert r.stderr == "Error: --kind must be contact, company, note, deal or case: 'ticket'\n"


def test_every_case_write_keeps_the_index(cli: Runner) -> None:
    _past_cases(cli)
    cli.ok("case", "edit", "4", "--title", "Scanner jammed", "--body", "paper stuck")
    assert _ids(cli.ok("search", "jammed", "--json").json()) == [4]
    assert 4 not in _ids(cli.ok("search", "toner", "--json").json())
    cli.ok("case", "close", "4", "--solution", "removed the stuck sheet")
    assert _ids(cli.ok("search", "sheet", "--json").json()) == [4]
    cli.ok("undo")  # the close: its solution leaves the index with it
    assert cli.ok("search", "sheet", "--json").json() == []
    cli.ok("case", "rm", "4", "--yes")  # the trigger drops its row
    assert cli.ok("search", "jammed", "--json").json() == []
    cli.ok("undo")  # back, and in the index again
    assert _ids(cli.ok("search", "jammed", "--json").json()) == [4]
    assert cli.ok("doctor", "--json").json()["healthy"] is True


def test_forget_erases_the_persons_cases_from_the_index(cli: Runner) -> None:
    _past_cases(cli)
    cli.ok("forget", "alice", "--yes")
    assert cli.ok("search", "toner", "--json").json() == []
    assert cli.ok("search", "cartridge", "--json").json() == []
    assert _ids(cli.ok("search", "invoice", "--json").json()) == [2]
    assert cli.ok("doctor", "--json").json()["healthy"] is True


def test_doctor_finds_and_repairs_the_case_index(cli: Runner, store: str) -> None:
    _past_cases(cli)
    if store.startswith("postgres"):
        sql(store, "DELETE FROM search_docs WHERE kind = 'case' AND ref_id = 1")
        sql(store, "UPDATE search_docs SET body = 'stale' WHERE kind = 'case' AND ref_id = 2")
    else:
        sql(store, "DELETE FROM case_fts WHERE rowid = 1")
        sql(store, "UPDATE case_fts SET body = 'stale' WHERE rowid = 2")
    r = cli("doctor", "--json")
    assert {("search index", "case", 1), ("search index", "case", 2)} <= found(r)
    cli.ok("doctor", "--repair")
    assert cli.ok("doctor", "--json").json()["healthy"] is True
    assert _ids(cli.ok("search", "cartridge", "--json").json()) == [1]
