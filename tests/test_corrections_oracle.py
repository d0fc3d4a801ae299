"""The oracle for corrections (#16): a store built with mistakes that are then corrected
through the command line must give every derived output exactly as a store built right
the first time: rankings, `next`, the digest, every report, search, the contacts' 360
views (clocks, timelines, totals) and `doctor`.

Ids differ between the two stores (the mistakes used some up), and so do the bookkeeping
fields a correction moves by definition (`version`, `updated_at`), so those are left out
of the comparison; everything else is compared as it is, names and contents.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import NOW, Runner, _reset_pg

EARLY = "2026-10-01T08:00:00+00:00"  # when the contacts and the first deals were added
BUILT = "2026-10-20T09:00:00+00:00"  # when the rest was typed (mistakes included)
FIXED = "2026-11-02T16:00:00+00:00"  # when the mistakes were corrected
# NOW (2026-11-23) is when the outputs are read: deals rot, contacts are due a call.

BOOKKEEPING = {"id", "ref", "version", "updated_at", "entity_id", "rank"}


def _content(value: Any) -> Any:
    """`value` without ids and bookkeeping: what people see, by name and content."""
    if isinstance(value, dict):
        return {
            k: _content(v)
            for k, v in value.items()
            if k not in BOOKKEEPING and not k.endswith("_id") and not k.endswith("_ids")
        }
    if isinstance(value, list):
        return [_content(v) for v in value]
    return value


def _common(cli: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    # history is typed on an early clock and dated after it: --future says that is meant
    monkeypatch.setenv("TINYCRM_NOW", EARLY)
    cli.ok("stages", "edit", "lead", "--rot-days", "10")
    cli.ok("stages", "edit", "proposal", "--rot-days", "14")
    cli.ok("user", "add", "anna")
    cli.ok("contact", "add", "Alice Wong", "-c", "Acme GmbH", "--tag", "vip", "--source", "fair")
    cli.ok("contact", "add", "Bob Stone", "-c", "Stone Ltd", "--source", "web")
    cli.ok("contact", "add", "Cleo Park", "--tag", "vip", "--source", "fair")
    cli.ok("contact", "add", "Dan Roe", "--every", "21d")
    cli.ok("tag", "cadence", "vip", "14d")
    cli.ok("deal", "add", "alice", "Renewal", "--value", "12000")
    cli.ok("deal", "move", "deal:Renewal", "proposal")
    cli.ok("deal", "add", "bob", "Support plan", "--value", "700")
    cli.ok(
        "purchase", "add", "alice", "250", "--date", "2026-03-01", "--note", "starter", "--future"
    )
    cli.ok("purchase", "add", "cleo", "80", "--date", "2026-09-15", "--future")
    cli.ok("purchase", "add", "dan", "40", "--date", "2025-11-01", "--future")
    cli.ok("note", "alice", "sent the quote", "--when", "2026-10-12 10:00", "--future")
    cli.ok("note", "dan", "coffee", "--when", "2026-10-01 10:00", "--kind", "meeting", "--future")
    cli.ok("remind", "alice", "2026-11-20 10:00", "chase the quote")
    monkeypatch.setenv("TINYCRM_NOW", BUILT)


def _right(cli: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    """The store as it should have been typed."""
    _common(cli, monkeypatch)
    cli.ok("contact", "tag", "bob", "vip")
    cli.ok(
        "purchase", "add", "alice", "100", "--date", "2026-10-01", "--note", "licences", "--future"
    )
    cli.ok("purchase", "add", "bob", "500", "--date", "2026-08-10", "--future")
    cli.ok(
        "note",
        "alice",
        "asked for a discount",
        "--when",
        "2026-10-15 11:00",
        "--kind",
        "call",
        "--future",
    )
    cli.ok("note", "cleo", "interested in the add-on", "--when", "2026-10-14 09:30", "--future")
    cli.ok("deal", "add", "cleo", "Add-on", "--value", "900")
    cli.ok("note", "deal:Add-on", "demo booked", "--when", "2026-10-16 09:00", "--future")
    cli.ok("remind", "bob", "2026-11-18 09:00", "send the contract")
    cli.ok("deal", "add", "bob", "Pilot", "--value", "3000")


def _corrected(cli: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same, typed with mistakes, then corrected through the command line."""
    _common(cli, monkeypatch)
    cli.ok("contact", "tag", "bob", "vpi")  # a typo in the tag
    cli.ok("purchase", "add", "alice", "1000", "--date", "2026-10-01", "--future")  # 1000 for 100
    cli.ok("purchase", "add", "bob", "500", "--date", "2026-10-08", "--future")  # the wrong day
    cli.ok("purchase", "add", "cleo", "99", "--note", "never happened")
    cli.ok(
        "note", "alice", "asked for a discuont", "--when", "2026-11-15 11:00", "--future"
    )  # typo, date
    cli.ok(
        "note", "bob", "called Bob", "--when", "2026-10-19 17:00", "--future"
    )  # meant for nobody
    cli.ok("deal", "add", "cleo", "Add-on", "--value", "900")
    cli.ok(
        "note", "deal:Add-on", "interested in the add-on", "--when", "2026-10-14 09:30", "--future"
    )
    cli.ok("note", "cleo", "demo booked", "--when", "2026-10-16 09:00", "--future")
    cli.ok("remind", "alice", "2026-12-18 09:00", "send the contarct")  # wrong about, due, text
    cli.ok("remind", "bob", "2026-11-19 09:00", "not needed")
    cli.ok("deal", "add", "alice", "Pilot", "--value", "3000")  # the wrong contact
    cli.ok("deal", "edit", "deal:Pilot", "--contact", "bob")  # noticed at once
    cli.ok("deal", "add", "alice", "Opened by mistake", "--value", "5")
    cli.ok("remind", "deal:Opened by mistake", "2026-11-21 09:00", "follow up")

    monkeypatch.setenv("TINYCRM_NOW", FIXED)  # days later, the corrections
    ids = _ids(cli)
    cli.ok("tag", "rename", "vpi", "vip")
    cli.ok("purchase", "edit", ids["purchase:1000.00"], "--amount", "100", "--note", "licences")
    cli.ok("purchase", "edit", ids["purchase:500.00"], "--date", "2026-08-10")
    cli.ok("purchase", "rm", ids["purchase:99.00"], "--yes")
    cli.ok(
        "interaction",
        "edit",
        ids["note:asked for a discuont"],
        "--text",
        "asked for a discount",
        "--when",
        "2026-10-15 11:00",
        "--kind",
        "call",
    )
    cli.ok("interaction", "rm", ids["note:called Bob"], "--yes")
    # the two notes about Cleo were swapped: one belongs on the deal, the other not
    cli.ok("interaction", "edit", ids["note:interested in the add-on"], "--no-deal")
    cli.ok("interaction", "edit", ids["note:demo booked"], "--deal", ids["deal:Add-on"])
    cli.ok(
        "reminder",
        "edit",
        ids["reminder:send the contarct"],
        "--text",
        "send the contract",
        "--due",
        "2026-11-18 09:00",
        "--about",
        "bob",
    )
    cli.ok("reminder", "rm", ids["reminder:not needed"], "--yes")
    cli.ok("deal", "rm", ids["deal:Opened by mistake"], "--yes")
    monkeypatch.setenv("TINYCRM_NOW", NOW)


def _ids(cli: Runner) -> dict[str, str]:
    """The ids a user would read off the lists, by what the record says."""
    found: dict[str, str] = {}
    for p in cli.ok("purchase", "list", "--json").json():
        found[f"purchase:{p['amount']}"] = str(p["id"])
    for h in cli.ok("search", "a", "--kind", "note", "--limit", "1000", "--json").json():
        found[f"note:{h['detail'].split(': ', 1)[1]}"] = str(h["id"])
    for word in ("called", "demo", "interested"):
        for h in cli.ok("search", word, "--kind", "note", "--json").json():
            found[f"note:{h['detail'].split(': ', 1)[1]}"] = str(h["id"])
    for r in cli.ok("todo", "--all", "--json").json():
        found[f"reminder:{r['text']}"] = str(r["id"])
    for d in cli.ok("deal", "list", "--status", "all", "--json").json():
        found[f"deal:{d['title']}"] = str(d["id"])
    return found


def _outputs(cli: Runner) -> dict[str, Any]:
    """Every derived output, by content."""
    out: dict[str, Any] = {}
    json_commands = {
        "rank": ["rank", "--json"],
        "rank abc": ["rank", "--by", "abc", "--json"],
        "rank clv by company": ["rank", "--by", "clv", "--level", "company", "--json"],
        "next": ["next", "--team", "--explain", "--json"],
        "report customers": ["report", "customers", "--json"],
        "report pipeline": ["report", "pipeline", "--json"],
        "report team": ["report", "team", "--json"],
        "report sources": ["report", "sources", "--json"],
        "search quote": ["search", "quote", "--json"],
        "search discount": ["search", "discount", "--json"],
        "search demo": ["search", "demo", "--json"],
        "search called": ["search", "called", "--json"],
        "search mistake": ["search", "mistake", "--json"],
        "deals": ["deal", "list", "--status", "all", "--json"],
        "todo": ["todo", "--all", "--json"],
        "purchases": ["purchase", "list", "--json"],
        "tags": ["tag", "list", "--json"],
        "contacts": ["contact", "list", "--json"],
    }
    for name, args in json_commands.items():
        out[name] = _content(cli.ok(*args).json())
    out["digest"] = _content(cli.ok("digest", "--team", "--format", "json").json())
    for who in ("alice", "bob", "cleo", "dan"):
        out[f"contact show {who}"] = _content(
            cli.ok("contact", "show", who, "--timeline", "50", "--json").json()
        )
    for title in ("Renewal", "Add-on", "Pilot", "Support plan"):
        out[f"deal show {title}"] = _content(cli.ok("deal", "show", title, "--json").json())
    out["doctor"] = cli.ok("doctor").stdout
    return out


@pytest.fixture
def fresh(store: str, sqlite_template: Path) -> Callable[[], None]:
    """Empty the test store again (as a new, migrated one)."""

    def again() -> None:
        from tinycrm.cli import state

        state.close()
        if store.startswith("postgres"):
            _reset_pg(store)
        else:
            for suffix in ("-wal", "-shm"):
                Path(store + suffix).unlink(missing_ok=True)
            shutil.copy(sqlite_template, store)

    return again


def test_a_corrected_store_derives_what_a_right_one_does(
    cli: Runner, store: str, fresh: Callable[[], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    _right(cli, monkeypatch)
    monkeypatch.setenv("TINYCRM_NOW", NOW)
    expected = _outputs(cli)

    fresh()
    _corrected(cli, monkeypatch)
    got = _outputs(cli)

    # the scenario means something: rankings, rot, stay-in-touch and search all have rows
    assert expected["rank"]["customers"] and expected["next"] and expected["search discount"]
    assert any(a["kind"] == "rotting_deal" for a in expected["next"]), expected["next"]
    assert expected["doctor"] == got["doctor"]
    for name in expected:
        assert got[name] == expected[name], name
