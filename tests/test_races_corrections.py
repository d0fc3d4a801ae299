"""Racing corrections (#16): edits and deletes of notes, reminders, purchases and deals hold
what they check until they commit, so racing commands end as if run one after the other
(see tests/test_races.py for the gate that makes them collide on every run)."""

from __future__ import annotations

import pytest

from tests.conftest import Runner
from tests.test_races import N, count, losers, race, racer, rows, same, winners

pytestmark = pytest.mark.slow  # real processes racing: `make test-fast` leaves them out


def test_one_stale_checked_interaction_edit_wins(cli: Runner, store: str) -> None:
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("note", "alice", "asked for a qoute")
    results = race(
        store,
        same(N, "interaction", "edit", "1", "--text", "asked for a quote", "--if-version", "1"),
    )
    assert len(winners(results)) == 1
    for r in losers(results):
        assert r.exit_code == 1 and "(version 2, you had 1); nothing was saved" in r.stderr
    assert count("SELECT count(*) FROM audit_log WHERE action = 'edit'") == 1
    assert rows("SELECT version FROM interactions") == [{"version": 2}]


def test_one_purchase_rm_deletes_the_rest_find_none(cli: Runner, store: str) -> None:
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("purchase", "add", "alice", "1000")
    results = race(store, same(N, "purchase", "rm", "1", "--yes"))
    assert len(winners(results)) == 1
    for r in losers(results):
        assert (r.exit_code, r.stderr) == (2, "Error: no purchase with id 1\n")
    assert count("SELECT count(*) FROM audit_log WHERE action = 'delete'") == 1


def test_a_note_logged_while_the_latest_is_deleted_leaves_the_right_last_touch(
    cli: Runner, store: str
) -> None:
    cli.ok("contact", "add", "Alice Wong", "--every", "14d")
    cli.ok("note", "alice", "old", "--when", "2026-11-01 10:00")
    cli.ok("note", "alice", "typed in the future", "--when", "2026-12-01 10:00", "--future")
    results = race(
        store,
        [
            racer("interaction", "rm", "2", "--yes"),
            *(
                racer("note", "alice", f"call {i}", "--when", f"2026-11-1{i} 10:00")
                for i in range(3)
            ),
        ],
    )
    assert not losers(results)
    (contact,) = rows("SELECT last_touch_at FROM contacts")
    (latest,) = rows("SELECT max(happened_at) AS at FROM interactions")
    assert contact["last_touch_at"] == latest["at"]
    assert cli.ok("contact", "show", "alice", "--json").json()["last_touch_at"] == (
        "2026-11-12T09:00:00Z"
    )
    assert cli.ok("doctor").exit_code == 0
