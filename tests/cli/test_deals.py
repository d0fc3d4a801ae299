"""Deals and the pipeline."""

from __future__ import annotations

from typing import Any

from tests.conftest import Runner


def _j(r: Any) -> Any:
    return r.json()


def test_default_pipeline(cli: Runner) -> None:
    stages = _j(cli.ok("stages", "--json"))
    assert [(s["name"], s["probability"], s["outcome"]) for s in stages] == [
        ("Lead", 10, "open"),
        ("Qualified", 25, "open"),
        ("Proposal", 50, "open"),
        ("Negotiation", 75, "open"),
        ("Won", 100, "won"),
        ("Lost", 0, "lost"),
    ]


def test_deal_lifecycle(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong", "-c", "Acme GmbH")
    d = _j(
        cli.ok(
            "deal",
            "add",
            "alice",
            "50 licences",
            "--value",
            "12,000.50",
            "--close",
            "2026-12-31",
            "--json",
        )
    )
    assert (d["id"], d["stage"], d["value"], d["currency"], d["weighted"], d["company"]) == (
        1,
        "Lead",
        "12000.50",
        "EUR",
        "1200.05",
        "Acme GmbH",
    )
    assert d["expected_close"] == "2026-12-31"
    assert cli.ok("deal", "move", "1", "prop").stdout == (
        "Moved deal #1 50 licences — Proposal, 12,000.50 EUR\n"
    )
    cli.ok("deal", "edit", "1", "--probability", "60", "--value", "10000")
    listed = _j(cli.ok("deal", "list", "--json"))
    assert [(x["stage"], x["probability"], x["weighted"]) for x in listed] == [
        ("Proposal", 60, "6000.00")
    ]
    cli.ok("deal", "won", "licences")
    assert _j(cli.ok("deal", "list", "--json")) == []
    won = _j(cli.ok("deal", "list", "--status", "won", "--json"))
    assert won[0]["status"] == "won" and won[0]["closed_at"] == "2026-11-23T09:00:00Z"
    history = _j(cli.ok("deal", "show", "1", "--json"))["history"]
    assert [(h["from"], h["to"]) for h in history] == [
        (None, "Lead"),
        ("Lead", "Proposal"),
        ("Proposal", "Won"),
    ]


def test_lost_needs_a_reason_and_records_it(cli: Runner) -> None:
    cli.ok("contact", "add", "Bob")
    cli.ok("deal", "add", "bob", "Pilot")
    r = cli("deal", "move", "1", "lost")
    assert r.exit_code == 2 and "say why the deal was lost" in r.stderr
    cli.ok("deal", "lost", "1", "--reason", "went with a competitor")
    d = _j(cli.ok("deal", "show", "1", "--json"))
    assert (d["status"], d["lost_reason"]) == ("lost", "went with a competitor")
    assert [h["kind"] for h in _j(cli.ok("search", "competitor", "--json"))] == ["deal"]


def test_bad_deal_input(cli: Runner) -> None:
    cli.ok("contact", "add", "Bob")
    cases = [
        (("deal", "add", "bob", "X", "--value", "-5"), "Error: --value can't be negative: '-5'\n"),
        (("deal", "add", "bob", "X", "--value", "12abc"), None),
        (("deal", "add", "bob", "X", "--stage", "Nope"), None),
        (("deal", "add", "bob", "X", "--stage", "won"), None),
        (("deal", "add", "bob", "X", "--currency", "EURO"), None),
    ]
    for args, exact in cases:
        r = cli(*args)
        assert r.exit_code == 2, (args, r.stderr)
        assert r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1
        if exact:
            assert r.stderr == exact
    r = cli("deal", "add", "bob", "X", "--stage", "Nope")
    assert r.stderr == (
        "Error: unknown stage 'Nope': use one of Lead, Qualified, Proposal,"
        " Negotiation, Won, Lost\n"
    )
    r = cli("deal", "move", "7", "won")
    assert r.exit_code == 1 and r.stderr == "Error: no deal with id 7\n"
    assert _j(cli.ok("deal", "list", "--status", "all", "--json")) == []


def test_stages_are_editable(cli: Runner) -> None:
    cli.ok("stages", "add", "Demo", "--probability", "40", "--rot-days", "5")
    names = [s["name"] for s in _j(cli.ok("stages", "--json"))]
    assert names == ["Lead", "Qualified", "Proposal", "Negotiation", "Demo", "Won", "Lost"]
    cli.ok("stages", "edit", "demo", "--position", "3", "--probability", "35")
    stages = _j(cli.ok("stages", "--json"))
    assert [s["name"] for s in stages][:4] == ["Lead", "Qualified", "Demo", "Proposal"]
    assert stages[2]["probability"] == 35
    cli.ok("contact", "add", "Bob")
    cli.ok("deal", "add", "bob", "Trial", "--stage", "demo")
    r = cli("stages", "rm", "demo")
    assert r.exit_code == 1 and "still has 1 deal" in r.stderr
    r = cli("stages", "rm", "won")
    assert r.exit_code == 1 and "needs a won stage" in r.stderr
