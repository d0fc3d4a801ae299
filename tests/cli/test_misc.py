"""Purchases, search, log, the home view and global options."""

from __future__ import annotations

from typing import Any

from tests.conftest import Runner


def _j(r: Any) -> Any:
    return r.json()


def test_purchases_are_exact_decimals(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("purchase", "add", "alice", "0.10", "--date", "2026-01-05")
    cli.ok("purchase", "add", "alice", "0.20", "--note", "cables")
    p = _j(cli.ok("purchase", "add", "alice", "1.234,56", "--date", "3d ago", "--json"))
    assert (p["amount"], p["amount_cents"], p["purchased_on"]) == ("1234.56", 123456, "2026-11-20")
    listing = _j(cli.ok("purchase", "list", "alice", "--json"))
    assert [x["amount"] for x in listing] == ["0.20", "1234.56", "0.10"]
    assert _j(cli.ok("contact", "show", "alice", "--json"))["purchases_total"] == {"EUR": "1234.86"}
    r = cli("purchase", "add", "alice", "-1")  # looks like an option to the parser
    assert r.exit_code == 2 and r.stderr.startswith("Error: No such option: -1")
    for bad in ("-1", "0", "abc", "1.005", "1e3"):
        r = cli("purchase", "add", "alice", "--", bad)
        assert r.exit_code == 2, bad
        assert r.stderr.startswith("Error: amount") and r.stderr.count("\n") == 1
    assert len(_j(cli.ok("purchase", "list", "--json"))) == 3


def test_search_is_accent_case_width_and_prefix_insensitive(cli: Runner) -> None:
    cli.ok("contact", "add", "José Müller", "-e", "jose@example.com")
    cli.ok("contact", "add", "ＡＣＭＥ Buyer")
    cli.ok("note", "jose", "Wants the Enterprise plan")
    for query, expected in [
        ("jose", "José Müller"),
        ("MULLER", "José Müller"),
        ("mül", "José Müller"),
        ("acme", "ＡＣＭＥ Buyer"),
        ("example.com", "José Müller"),
    ]:
        hits = _j(cli.ok("search", query, "--kind", "contact", "--json"))
        assert [h["title"] for h in hits] == [expected], query
    notes = _j(cli.ok("search", "enterp", "--json"))
    assert [(h["kind"], h["title"]) for h in notes] == [("interaction", "José Müller")]


def test_search_finds_chinese_inside_text(cli: Runner) -> None:
    cli.ok("contact", "add", "王伟", "-c", "北京科技")
    cli.ok("note", "王伟", "客户说明天见面签合同")
    assert [h["title"] for h in _j(cli.ok("search", "王", "--kind", "contact", "--json"))] == [
        "王伟"
    ]
    assert [h["kind"] for h in _j(cli.ok("search", "签合同", "--json"))] == ["interaction"]
    assert [h["kind"] for h in _j(cli.ok("search", "明天", "--json"))] == ["interaction"]
    assert [h["kind"] for h in _j(cli.ok("search", "科技", "--json"))] == ["contact", "company"]
    assert _j(cli.ok("search", "后天", "--json")) == []


def test_search_ignores_query_syntax(cli: Runner) -> None:
    cli.ok("contact", "add", "O'Brien")
    for query in ['"', "AND", "NEAR(", "*", "o'brien OR 1=1", "'; drop table contacts; --"]:
        r = cli("search", query, "--json")
        assert r.exit_code == 0, (query, r.stderr)
    assert [h["title"] for h in _j(cli.ok("search", "o'brien", "--json"))] == ["O'Brien"]
    r = cli("search", "x", "--kind", "planets")
    assert r.exit_code == 2 and "--kind must be" in r.stderr


def test_log_shows_recent_activity_newest_first(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("note", "alice", "first call", "--when", "yesterday")
    cli.ok("remind", "alice", "tomorrow", "send deck")
    cli.ok("deal", "add", "alice", "Pilot")
    cli.ok("purchase", "add", "alice", "99")
    events = _j(cli.ok("log", "--json"))
    kinds = {e["kind"] for e in events}
    assert {"contact+", "note", "reminder+", "deal+", "purchase"} <= kinds
    assert events[-1]["kind"] == "note" and events[-1]["at"] == "2026-11-22T08:00:00Z"
    assert [e["kind"] for e in _j(cli.ok("log", "--since", "today 0:00", "--json"))].count(
        "note"
    ) == 0


def test_home_view_and_version(cli: Runner) -> None:
    assert cli.ok().stdout == "Nothing due today, Monday 23 November.\n"  # piped too
    cli.ok("remind", "-", "today 4pm", "expenses")
    assert cli.ok().stdout.split("\t")[3] == "expenses"
    assert cli.ok("--version").stdout.startswith("tinycrm ")


def test_ambiguous_ref_lists_candidates_and_exits_2(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("contact", "add", "Alice Smith")
    r = cli("note", "alice", "hi")
    assert r.exit_code == 2
    assert r.stderr == (
        "Error: 'alice' matches several: #2 Alice Smith, #1 Alice Wong;"
        " use the id or more of the name\n"
    )
    assert cli.ok("note", "alice w", "hi").stdout == "Logged note #1 for Alice Wong\n"
    assert cli.ok("note", "smith", "hi").stdout == "Logged note #2 for Alice Smith\n"
    assert cli.ok("note", "alice wnog", "typo").stdout == "Logged note #3 for Alice Wong\n"
