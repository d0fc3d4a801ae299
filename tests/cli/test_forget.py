"""`tinycrm forget` and opt-out: nothing of the person is left anywhere a user can look."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import Runner

NAME, EMAIL, PHONE = "Ann Lee", "ann@acme.com", "+49 30 987654"


def _db(store: str) -> Any:
    from tinycrm.store.open import open_store

    return open_store(store)


def _seed(cli: Runner, store: str) -> None:
    cli.ok("contact", "add", NAME, "-e", EMAIL, "-p", PHONE, "--tag", "vip", "--every", "7d")
    cli.ok("contact", "add", "Bob Stone", "-e", "bob@stone.com")
    cli.ok("note", "ann", "Ann Lee likes green tea", "--follow-up", "friday")
    cli.ok("purchase", "add", "ann", "100", "--date", "2026-10-01")
    cli.ok("purchase", "add", "bob", "40", "--date", "2026-10-02")
    cli.ok("deal", "add", "ann", "Renewal", "--value", "500")
    cli.ok("case", "add", "ann", "Ann Lee wants a refund", "--body", "the green tea order")
    db = _db(store)
    with db.write():
        snap = json.dumps({"name": NAME, "email": EMAIL})
        db.execute(
            "INSERT INTO merges (kept_id, removed_id, snapshot, merged_at)"
            " VALUES (1, 99, :s, :now)",
            {"s": snap, "now": "2026-11-01 10:00:00" if db.is_sqlite else "2026-11-01T10:00Z"},
        )
        for entity, eid in (("contact", 1), ("interaction", 1), ("purchase", 1), ("contact", 2)):
            db.execute(
                "INSERT INTO audit_log (at, entity, entity_id, action, changes)"
                " VALUES (:now, :e, :id, 'edit', :c)",
                {
                    "now": "2026-11-01 10:00:00" if db.is_sqlite else "2026-11-01T10:00Z",
                    "e": entity,
                    "id": eid,
                    "c": json.dumps({"name": [None, NAME if eid == 1 else "Bob Stone"]}),
                },
            )
    db.close()


def _everything(cli: Runner) -> str:
    """All a user can see: search, lists, exports, reports, rankings."""
    views = [
        ("search", "ann"),
        ("search", "tea"),
        ("search", "987654"),
        ("contact", "list"),
        ("contact", "list", "--json"),
        ("export", "contacts"),
        ("export", "contacts", "-f", "vcard"),
        ("export", "interactions", "-f", "json"),
        ("export", "deals", "-f", "json"),
        ("export", "purchases"),
        ("report", "customers", "--json"),
        ("report", "customers", "--list", "bought", "--json"),
        ("rank", "--json"),
        ("todo", "--all", "--json"),
        ("next", "--team", "--json"),
        ("log", "--json"),
        ("case", "list", "--json"),
    ]
    return "\n".join(cli.ok(*v).stdout for v in views)


def _stored(store: str) -> str:
    """Every text column of the tables that could hold the person."""
    db = _db(store)
    try:
        parts = []
        for table in ("contacts", "contact_methods", "interactions", "reminders", "merges",
                      "audit_log", "erasures", "deals", "cases"):  # fmt: skip
            parts += [json.dumps(r, default=str) for r in db.all(f"SELECT * FROM {table}")]
        if db.is_sqlite:
            for kind in ("contact", "interaction"):
                parts += [str(r) for r in db.all(f"SELECT body FROM {kind}_fts")]
        else:
            parts += [str(r) for r in db.all("SELECT body FROM search_docs")]
        return "\n".join(parts).lower()
    finally:
        db.close()


def test_forget_leaves_no_trace_and_keeps_revenue(cli: Runner, store: str) -> None:
    _seed(cli, store)
    assert "ann" in _everything(cli).lower()
    team_before = cli.ok("report", "team", "--since", "2026-01-01", "--json").json()
    r = cli.ok("forget", "ann", "--yes", "--json").json()
    assert r["purchases"] == "anonymised"
    assert r["counts"] == {
        "contacts": 1,
        "methods": 2,
        "tags": 1,
        "interactions": 1,
        "reminders": 1,
        "cases": 1,
        "purchases_anonymised": 1,
        "deals_unlinked": 1,
        "merges": 1,
        # her add, note, follow-up, purchase and case, and the three planted above
        "audit_entries": 8,
        # the deal stays: its entry named her as its contact, now "(erased)"
        "audit_entries_scrubbed": 1,
        # nothing else named her (tests/test_safety_forget.py plants her everywhere)
        "texts_scrubbed": 0,
        "details_removed": 0,
    }
    # the contacts CSV header's "anniversary" column is no trace of Ann
    seen = _everything(cli).lower().replace("anniversary", "")
    for trace in ("ann", "lee", "acme", "987654", "green tea"):
        assert trace not in seen, trace
    stored = _stored(store).replace('"anniversary"', "")  # a column name, not her
    for trace in ("ann lee", EMAIL, "987654", "green tea", "ann"):
        assert trace not in stored, trace
    assert "bob" in seen  # the others stay
    # revenue by owner is unchanged: the purchase is kept, but nobody's
    team_after = cli.ok("report", "team", "--since", "2026-01-01", "--json").json()
    assert team_after["total"]["revenue"] == team_before["total"]["revenue"] == "140.00"
    customers = cli.ok("report", "customers", "--json").json()
    assert customers["contacts"] == 1  # Bob; the placeholder is no contact
    (deal,) = cli.ok("export", "deals", "-f", "json").json()
    assert (deal["title"], deal["contact"]) == ("Renewal", None)
    db = _db(store)
    (erasure,) = db.all("SELECT * FROM erasures")
    db.close()
    assert json.loads(erasure["summary"]) == r["counts"]


def test_forget_can_delete_the_purchases(cli: Runner, store: str) -> None:
    _seed(cli, store)
    r = cli.ok("forget", "ann@acme.com", "--purchases", "delete", "--yes", "--json").json()
    assert r["counts"]["purchases_deleted"] == 1
    rows = cli.ok("export", "purchases", "-f", "json").json()
    assert [p["contact_name"] for p in rows] == ["Bob Stone"]
    db = _db(store)
    assert db.value("SELECT count(*) FROM purchases") == 1
    assert db.value("SELECT count(*) FROM contacts") == 1  # no placeholder needed
    db.close()


def test_forget_off_a_terminal_needs_yes_and_changes_nothing(cli: Runner, store: str) -> None:
    _seed(cli, store)
    r = cli("forget", "ann")
    assert r.exit_code == 2
    assert r.stderr.startswith("Error: Erase #1 Ann Lee for good: 2 contact details, 1 tag,")
    assert r.stderr.endswith("— pass --yes to confirm when not on a terminal\n")
    assert cli.ok("search", "tea", "--json").json() != []
    r = cli("forget", "ann", "--purchases", "keep", "--yes")
    assert (r.exit_code, r.stderr) == (
        2,
        "Error: --purchases must be anonymise or delete: 'keep'\n",
    )


def test_two_erasures_share_one_placeholder(cli: Runner, store: str) -> None:
    _seed(cli, store)
    cli.ok("forget", "ann", "--yes")
    cli.ok("forget", "bob", "--yes")
    db = _db(store)
    assert db.value("SELECT count(DISTINCT contact_id) FROM purchases") == 1
    assert db.value("SELECT sum(amount_cents) FROM purchases") == 14000
    db.close()
    assert cli.ok("contact", "list", "--json").json() == []
    r = cli("forget", "1", "--yes")  # the placeholder itself is no person to forget
    assert r.exit_code == 1


def test_opted_out_contacts_leave_next_and_come_back(cli: Runner, store: str) -> None:
    cli.ok("contact", "add", NAME, "--every", "7d")
    cli.ok("note", "ann", "hello", "--when", "2026-11-01 10:00")
    assert [a["about"] for a in cli.ok("next", "--json").json()] == [NAME]
    cli.ok("contact", "edit", "ann", "--opt-out")
    assert cli.ok("next", "--json").json() == []
    show = cli.ok("contact", "show", "ann", "--json").json()
    assert show["opted_out_at"] == "2026-11-23T09:00:00Z"
    assert [c["name"] for c in cli.ok("contact", "list", "--opted-out", "--json").json()] == [NAME]
    cli.ok("contact", "edit", "ann", "--opt-in")
    assert [a["about"] for a in cli.ok("next", "--json").json()] == [NAME]
    assert cli.ok("contact", "list", "--opted-out", "--json").json() == []
