"""Racing writers: every check-then-write holds what it checks until it commits.

Each test starts a few real processes (forked from this one, so they cost no interpreter
start-up) that each run the real command line on their own store connection, all doing
the same check-then-write. A *gate* makes them collide every time instead of now and
then: a connection of the test's own holds every table of the store in SHARE mode on
PostgreSQL (reads and row locks pass, writes wait) or the write lock on SQLite, until
every racer is waiting inside its transaction (PostgreSQL reports them in
pg_stat_activity); then it lets go. Without row locks every racer would have read the
same state and passed the same check before any of them wrote.

The rule the assertions check is the one a user expects: the outcome is one the
commands could have had run one after the other. Exactly one `deal move --if-version 1`
wins and the rest are refused as stale, exactly one `done` schedules the next occurrence,
and so on.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests import test_digest_delivery
from tests.conftest import TABLES, Result, Runner, _pg_admin_url

pytestmark = pytest.mark.slow  # real processes racing: `make test-fast` leaves them out

WAIT_S = 30.0  # for every racer to reach the store; far more than they need


@dataclass(frozen=True)
class Racer:
    args: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)


def racer(*args: str, **env: str) -> Racer:
    return Racer(tuple(args), env)


def _fork(r: Racer) -> tuple[int, int]:
    """Run the command line in a child process; (pid, pipe the result comes back on)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 0
        try:
            os.close(read_end)
            # the gate is held as long as the slowest racer takes to reach it
            os.environ.update({"TINYCRM_BUSY_TIMEOUT": str(WAIT_S), **r.env})
            from tinycrm.cli import state

            state.state.ctx = None  # its own connection, never one inherited
            res = Runner()(*r.args)
            result = [res.exit_code, res.stdout, res.stderr]
        except BaseException:
            import traceback

            code, result = 70, [70, "", traceback.format_exc()]
        try:
            with os.fdopen(write_end, "wb") as out:
                out.write(json.dumps(result).encode())
        finally:
            os._exit(code)
    os.close(write_end)
    return pid, read_end


def _collect(pid: int, fd: int) -> Result:
    with os.fdopen(fd, "rb") as f:
        payload = f.read()
    _, status = os.waitpid(pid, 0)
    code, out, err = json.loads(payload)
    assert os.waitstatus_to_exitcode(status) == 0, f"a racer crashed: {err}"
    return Result(code, out, err)


@contextmanager
def _gate(store: str) -> Iterator[Callable[[int], None]]:
    """Hold every write to the store back; yields a function that waits until `n`
    racers are waiting inside their transactions (PostgreSQL), or gives them time to get
    there (SQLite, which can't say)."""
    if store.startswith("postgresql"):
        with _pg_gate(store) as wait_for:
            yield wait_for
    else:
        with _sqlite_gate(store) as wait_for:
            yield wait_for


@contextmanager
def _pg_gate(store: str) -> Iterator[Callable[[int], None]]:
    import psycopg

    gate = psycopg.connect(_pg_admin_url(store))
    watch = psycopg.connect(_pg_admin_url(store), autocommit=True)
    try:
        gate.execute(f"LOCK TABLE {TABLES}, stages IN SHARE MODE")

        def wait_for(n: int) -> None:
            deadline = time.monotonic() + WAIT_S
            while time.monotonic() < deadline:
                row = watch.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock' AND pid <> %s",
                    (gate.info.backend_pid,),
                ).fetchone()
                if row is not None and row[0] >= n:
                    return
                time.sleep(0.01)
            pytest.fail(f"the racers never all reached the store ({n} expected)")

        yield wait_for
    finally:
        gate.rollback()
        gate.close()
        watch.close()


@contextmanager
def _sqlite_gate(store: str) -> Iterator[Callable[[int], None]]:
    # In a process of its own: SQLite keeps its file locks per process, and a child
    # forked while this one held a connection would think it held the lock too.
    gate = subprocess.Popen(
        [sys.executable, "-c", _SQLITE_GATE, store],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert gate.stdout is not None and gate.stdout.readline() == "locked\n"
        yield lambda n: time.sleep(0.3)
    finally:
        # a line, not end of file: the racers forked meanwhile hold the pipe open too
        gate.communicate("go\n", timeout=WAIT_S)


_SQLITE_GATE = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
"""


def race(store: str, *waves: Sequence[Racer]) -> list[Result]:
    """Start each wave of racers once the ones before are all waiting at the gate, then
    open it; the results in the order the racers were given."""
    started: list[tuple[int, int]] = []
    with _gate(store) as wait_for:
        for wave in waves:
            started += [_fork(r) for r in wave]
            wait_for(len(started))
    return [_collect(pid, fd) for pid, fd in started]


def same(n: int, *args: str, **env: str) -> list[Racer]:
    return [racer(*args, **env)] * n


def winners(results: list[Result]) -> list[Result]:
    return [r for r in results if r.exit_code == 0]


def losers(results: list[Result]) -> list[Result]:
    return [r for r in results if r.exit_code != 0]


def rows(sql: str, **params: Any) -> list[dict[str, Any]]:
    """Read the store as the CLI would (its own connection, closed after)."""
    from tinycrm.cli import state

    try:
        return state.get_ctx().db.all(sql, params)
    finally:
        state.close()


def count(sql: str, **params: Any) -> int:
    return int(next(iter(rows(sql, **params)[0].values())))


N = 4  # racers per test: enough to collide, few enough for two cores


# -- deals ---------------------------------------------------------------------------------
def _deal(cli: Runner) -> int:
    cli.ok("contact", "add", "Dana Deal", "-e", "dana@deals.example")
    return int(cli.ok("deal", "add", "dana", "Pilot", "--value", "1000", "--json").json()["id"])


def test_one_stale_checked_move_wins(cli: Runner, store: str) -> None:
    deal = _deal(cli)
    results = race(store, same(N, "deal", "move", str(deal), "Qualified", "--if-version", "1"))
    assert len(winners(results)) == 1
    for r in losers(results):
        assert r.exit_code == 1
        assert r.stderr.startswith(f"Error: deal #{deal} Pilot was changed by sam at ")
        assert r.stderr.endswith(
            "(version 2, you had 1); nothing was saved: show it again and redo your change\n"
        )
    assert count("SELECT count(*) FROM stage_changes WHERE deal_id = :d", d=deal) == 2
    assert cli.ok("deal", "show", str(deal), "--json").json()["version"] == 2


# -- reminders -----------------------------------------------------------------------------
def test_one_done_schedules_the_next_occurrence(cli: Runner, store: str) -> None:
    cli.ok("remind", "-", "today 5pm", "weekly report", "--every", "weekly")
    results = race(store, same(N, "done", "1"))
    assert len(winners(results)) == 1
    for r in losers(results):
        assert (r.exit_code, r.stderr) == (2, "Error: reminder 1 is already done\n")
    assert count("SELECT count(*) FROM reminders") == 2
    assert count("SELECT count(*) FROM audit_log WHERE action = 'done'") == 1


def test_one_won_closes_the_deal(cli: Runner, store: str) -> None:
    deal = _deal(cli)
    results = race(store, same(N, "deal", "won", str(deal)))
    assert len(winners(results)) == 1
    for r in losers(results):
        assert (r.exit_code, r.stderr) == (2, f"Error: deal #{deal} is already in Won\n")
    assert count("SELECT count(*) FROM stage_changes WHERE deal_id = :d", d=deal) == 2
    assert count("SELECT count(*) FROM audit_log WHERE action = 'won'") == 1


def test_one_stale_checked_deal_edit_wins(cli: Runner, store: str) -> None:
    deal = _deal(cli)
    results = race(store, same(N, "deal", "edit", str(deal), "-v", "2000", "--if-version", "1"))
    assert len(winners(results)) == 1
    for r in losers(results):
        assert r.exit_code == 1 and "(version 2, you had 1); nothing was saved" in r.stderr
    assert count("SELECT count(*) FROM audit_log WHERE action = 'edit'") == 1


def test_a_stage_removed_while_deals_move_into_it(cli: Runner, store: str) -> None:
    """Removing a stage checks no deal is in it; a deal moving in relies on it being
    there. One of them goes first: the stage is gone and the moves are refused as for an
    unknown stage, or the deals are in and the removal is refused. Never a deal in a
    stage that is gone, nor a store error."""
    deals = [_deal(cli)] + [
        int(cli.ok("deal", "add", "dana", f"Deal {i}", "--json").json()["id"]) for i in (2, 3)
    ]
    results = race(
        store,
        [racer("stages", "rm", "Proposal")],
        [racer("deal", "move", str(d), "Proposal") for d in deals],
    )
    removal, moves = results[0], results[1:]
    if removal.exit_code == 0:
        for r in moves:
            assert r.exit_code == 2 and r.stderr.startswith("Error: unknown stage 'Proposal'")
    else:
        assert all(r.exit_code == 0 for r in moves)  # those before it and after it
        assert re.fullmatch(
            r"Error: stage 'Proposal' still has [123] deal\(s\); move them first\n", removal.stderr
        )
    assert count("SELECT count(*) FROM deals d JOIN stages s ON s.id = d.stage_id") == 3


# -- reminders, notes and what they are about ------------------------------------------
def test_done_on_the_same_reminders_in_other_orders(cli: Runner, store: str) -> None:
    """`done 1 2` and `done 2 1` at once: one marks both, the other is refused (the
    first it names is done), and neither waits for the other in a circle (PostgreSQL
    would then cancel one with "deadlock detected")."""
    cli.ok("remind", "-", "today 5pm", "one")
    cli.ok("remind", "-", "today 6pm", "two")
    results = race(store, [racer("done", "1", "2"), racer("done", "2", "1")])
    assert len(winners(results)) == 1
    (loser,) = losers(results)
    assert loser.exit_code == 2 and re.fullmatch(
        r"Error: reminder [12] is already done\n", loser.stderr
    )
    assert count("SELECT count(*) FROM reminders WHERE done_at IS NOT NULL") == 2


def test_a_snooze_never_lands_on_a_done_reminder(cli: Runner, store: str) -> None:
    cli.ok("remind", "-", "today 5pm", "call back")
    results = race(store, [racer("done", "1")], same(N - 1, "snooze", "1", "3d"))
    assert results[0].exit_code == 0
    done_at = count("SELECT id FROM audit_log WHERE action = 'done'")
    for r in results[1:]:
        assert r.exit_code == 0 or r.stderr == "Error: reminder 1 is already done\n"
    snoozed = [e["id"] for e in rows("SELECT id FROM audit_log WHERE action = 'snooze'")]
    assert len(snoozed) == len(winners(results)) - 1
    assert all(i < done_at for i in snoozed)  # every snooze that landed came before done


def test_notes_and_reminders_on_a_contact_being_removed(cli: Runner, store: str) -> None:
    """A note or reminder resolved its contact before the removal committed: it lands
    before it (and goes with the contact) or is refused as for a missing contact."""
    cli.ok("contact", "add", "Gone Soon", "-e", "gone@x.example")
    results = race(
        store,
        [racer("contact", "rm", "1", "--yes")],
        [racer("note", "#1", "hello"), racer("remind", "#1", "3d", "call"),
         racer("deal", "add", "#1", "Late deal"), racer("purchase", "add", "#1", "10")],
    )  # fmt: skip
    assert results[0].exit_code == 0
    for r in results[1:]:
        # refused by the service, or (SQLite, which may run it last) by resolving "#1"
        assert r.exit_code == 0 or r.stderr.startswith("Error: no contact with id 1"), r.stderr
    assert count("SELECT count(*) FROM interactions") == 0
    assert count("SELECT count(*) FROM reminders") == 0
    assert count("SELECT count(*) FROM purchases") == 0
    assert count("SELECT count(*) FROM deals WHERE contact_id IS NOT NULL") == 0


# -- contacts --------------------------------------------------------------------------
def test_one_stale_checked_contact_edit_wins(cli: Runner, store: str) -> None:
    cli.ok("contact", "add", "Ann Lee")
    results = race(store, same(N, "contact", "edit", "1", "-t", "CTO", "--if-version", "1"))
    assert len(winners(results)) == 1
    for r in losers(results):
        assert r.exit_code == 1 and "(version 2, you had 1); nothing was saved" in r.stderr
    assert cli.ok("contact", "show", "1", "--json").json()["version"] == 2


def test_racing_tags_land_once(cli: Runner, store: str) -> None:
    cli.ok("contact", "add", "Ann Lee")
    results = race(store, same(N, "contact", "tag", "1", "vip"))
    assert len(winners(results)) == N, [r.stderr for r in losers(results)]
    assert count("SELECT count(*) FROM contact_tags WHERE tag = 'vip'") == 1
    assert cli.ok("contact", "show", "1", "--json").json()["version"] == 1 + N


def test_one_contact_removal_wins(cli: Runner, store: str) -> None:
    cli.ok("contact", "add", "Ann Lee")
    results = race(store, same(N, "contact", "rm", "1", "--yes"))
    assert len(winners(results)) == 1
    for r in losers(results):
        assert (r.exit_code, r.stderr) == (1, "Error: no contact with id 1\n")
    assert count("SELECT count(*) FROM audit_log WHERE action = 'delete'") == 1


def test_one_of_racing_look_alike_contacts_is_added(cli: Runner, store: str) -> None:
    results = race(store, same(N, "contact", "add", "Ann Lee", "-e", "ann@x.example"))
    assert len(winners(results)) == 1
    for r in losers(results):
        assert r.exit_code == 1
        assert r.stderr.startswith("Error: a contact like 'Ann Lee' already exists: #1 ")
    assert count("SELECT count(*) FROM contacts") == 1


def test_contacts_racing_to_a_new_company_share_it(cli: Runner, store: str) -> None:
    results = race(store, [racer("contact", "add", f"Person {i}", "-c", "NewCo") for i in range(N)])
    assert len(winners(results)) == N, [r.stderr for r in losers(results)]
    assert count("SELECT count(*) FROM companies") == 1
    assert count("SELECT count(DISTINCT company_id) FROM contacts") == 1


# -- companies -------------------------------------------------------------------------
def test_one_company_takes_a_name(cli: Runner, store: str) -> None:
    """Adding a company and renaming two others to the same name: one takes it."""
    cli.ok("company", "add", "Alpha")
    cli.ok("company", "add", "Beta")
    results = race(
        store,
        [racer("company", "add", "Zeta"), racer("company", "edit", "co:1", "--name", "Zeta"),
         racer("company", "edit", "co:2", "--name", "zeta")],
    )  # fmt: skip
    assert len(winners(results)) == 1
    for r in losers(results):
        # named as the winner spelt it
        assert r.exit_code == 1 and r.stderr.lower().startswith("error: a company named 'zeta' al")
    assert count("SELECT count(*) FROM companies WHERE name_key = 'zeta'") == 1


def test_one_stale_checked_company_edit_wins(cli: Runner, store: str) -> None:
    cli.ok("company", "add", "Acme")
    results = race(store, same(N, "company", "edit", "co:1", "--notes", "x", "--if-version", "1"))
    assert len(winners(results)) == 1
    for r in losers(results):
        assert r.exit_code == 1 and "(version 2, you had 1); nothing was saved" in r.stderr


def test_one_company_removal_wins(cli: Runner, store: str) -> None:
    cli.ok("company", "add", "Acme")
    results = race(store, same(N, "company", "rm", "co:1", "--yes"))
    assert len(winners(results)) == 1
    for r in losers(results):
        assert (r.exit_code, r.stderr) == (1, "Error: no company with id 1\n")
    assert count("SELECT count(*) FROM audit_log WHERE action = 'delete'") == 1


# -- owners and users ------------------------------------------------------------------
def test_racing_assignments_hand_over_in_turn(cli: Runner, store: str) -> None:
    """Each assignment's audit entry names the owner before it: the one the previous
    assignment left, so the entries chain."""
    deal = _deal(cli)
    people = ["bob", "carol", "dave"]
    for p in people:
        cli.ok("user", "add", p)
    results = race(store, [racer("assign", f"deal:{deal}", p) for p in people])
    assert len(winners(results)) == len(people), [r.stderr for r in losers(results)]
    entries = rows("SELECT changes FROM audit_log WHERE action = 'assign' ORDER BY id")
    owners = [json.loads(e["changes"])["owner"] for e in entries]
    assert [o[0] for o in owners] == ["sam"] + [o[1] for o in owners[:-1]]
    assert cli.ok("deal", "show", str(deal), "--json").json()["version"] == 1 + len(people)


def test_assign_with_open_hands_over_only_what_is_open(cli: Runner, store: str) -> None:
    """`assign --with-open` racing a deal being won: the deal goes along only if it was
    still open when the assignment took it, never after it was won."""
    deal = _deal(cli)
    cli.ok("user", "add", "bob")
    results = race(
        store, [racer("deal", "won", str(deal))], [racer("assign", "dana", "bob", "--with-open")]
    )
    assert len(winners(results)) == 2, [r.stderr for r in losers(results)]
    entries = rows(
        "SELECT action FROM audit_log WHERE entity = 'deal' AND entity_id = :d ORDER BY id", d=deal
    )
    actions = [e["action"] for e in entries]
    assert actions in (["add", "won"], ["add", "assign", "won"])


def test_one_user_takes_a_name(cli: Runner, store: str) -> None:
    results = race(store, same(N, "user", "add", "bob"))
    assert len(winners(results)) == 1
    for r in losers(results):
        assert (r.exit_code, r.stderr) == (
            1,
            "Error: there is already a user called 'bob'; change them with tinycrm user edit bob\n",
        )


def test_a_new_user_s_first_commands_create_them_once(cli: Runner, store: str) -> None:
    """On SQLite anyone's first command makes them a user; on a PostgreSQL (team) store
    only the first user of an empty store is made so. Either way, once."""
    if store.startswith("postgresql"):
        results = race(store, same(N, "contact", "list", TINYCRM_USER="newbie"))
    else:
        cli.ok("contact", "add", "Ann Lee")
        results = race(store, same(N, "note", "ann", "hello", TINYCRM_USER="newbie"))
    assert len(winners(results)) == N, [r.stderr for r in losers(results)]
    assert count("SELECT count(*) FROM users WHERE name = 'newbie'") == 1
    assert count("SELECT count(*) FROM users") == (1 if store.startswith("postgresql") else 2)


def test_racing_leads_never_make_a_loop(cli: Runner, store: str) -> None:
    cli.ok("user", "add", "bob")
    cli.ok("user", "add", "carol")
    results = race(
        store, [racer("user", "edit", "bob", "--lead", "carol"),
                racer("user", "edit", "carol", "--lead", "bob")],
    )  # fmt: skip
    assert len(winners(results)) == 1
    (loser,) = losers(results)
    assert loser.exit_code == 2 and loser.stderr.endswith("that would make a loop\n")


# -- the pipeline and tags -------------------------------------------------------------
def test_one_stage_takes_a_name(cli: Runner, store: str) -> None:
    """Adding a stage and renaming one to the same name (in any case): one takes it, and
    the positions stay one to seven."""
    results = race(
        store, same(N - 1, "stages", "add", "Demo", "-p", "30") + [
            racer("stages", "edit", "Lead", "--name", "demo")]
    )  # fmt: skip
    assert len(winners(results)) == 1
    for r in losers(results):
        assert r.exit_code == 1
        assert r.stderr.lower() == "error: a stage named 'demo' already exists\n"
    names = [r["name"].lower() for r in rows("SELECT name FROM stages ORDER BY position")]
    assert names.count("demo") == 1
    positions = [r["position"] for r in rows("SELECT position FROM stages ORDER BY position")]
    assert positions == list(range(1, len(names) + 1))


def test_racing_tag_cadences_keep_one(cli: Runner, store: str) -> None:
    results = race(store, [racer("tag", "cadence", "vip", f"{d}d") for d in (10, 20, 30, 40)])
    assert len(winners(results)) == 4, [r.stderr for r in losers(results)]
    assert count("SELECT count(*) FROM tag_cadences") == 1


def test_racing_goals_for_the_same_period_keep_one(cli: Runner, store: str) -> None:
    results = race(
        store, [racer("goal", "set", "sam", f"{n}000", "--per", "month") for n in (1, 2, 3, 4)]
    )
    assert len(winners(results)) == 4, [r.stderr for r in losers(results)]
    [goal] = rows("SELECT target FROM goals")
    assert goal["target"] in (100000, 200000, 300000, 400000)  # one of them, last wins


# -- merges and erasure ----------------------------------------------------------------
def _two_alikes(cli: Runner) -> None:
    cli.ok("contact", "add", "Ann Lee", "-e", "ann@x.example")
    cli.ok("contact", "add", "Ann Lee", "-e", "ann@y.example", "--on-duplicate", "create")
    cli.ok("note", "#2", "about ann")


def test_one_merge_wins(cli: Runner, store: str) -> None:
    _two_alikes(cli)
    results = race(
        store, same(N - 1, "merge", "1", "2", "--yes"), [racer("merge", "2", "1", "--yes")]
    )
    assert len(winners(results)) == 1
    for r in losers(results):
        assert r.exit_code == 1 and r.stderr.startswith("Error: no contact with id ")
    assert count("SELECT count(*) FROM merges") == 1
    assert count("SELECT count(*) FROM contacts") == 1
    assert count("SELECT count(*) FROM interactions") == 1


def test_one_undo_of_a_merge_wins(cli: Runner, store: str) -> None:
    _two_alikes(cli)
    cli.ok("merge", "1", "2", "--yes")
    results = race(store, same(N, "merge", "--undo", "1", "--yes"))
    assert len(winners(results)) == 1
    for r in losers(results):
        assert r.exit_code == 1 and r.stderr.startswith("Error: merge 1 was already undone")
    assert count("SELECT count(*) FROM contacts") == 2


def test_one_erasure_wins(cli: Runner, store: str) -> None:
    """Of several erasures of one person one erases them; an erasure of another person
    at the same time keeps its purchases under the same, single placeholder."""
    for who in ("ann", "bob"):
        cli.ok("contact", "add", f"{who.title()} Lee", "-e", f"{who}@x.example")
        cli.ok("purchase", "add", who, "10")
    results = race(store, same(N - 1, "forget", "#1", "--yes") + [racer("forget", "#2", "--yes")])
    assert len(winners(results)) == 2 and results[-1].exit_code == 0
    for r in losers(results):
        assert (r.exit_code, r.stderr) == (1, "Error: no contact with id 1\n")
    assert count("SELECT count(*) FROM erasures") == 2
    assert count("SELECT count(*) FROM contacts WHERE name_key = ''") == 1  # one placeholder
    assert count("SELECT count(DISTINCT contact_id) FROM purchases") == 1


# -- imports ---------------------------------------------------------------------------
def test_racing_imports_of_one_purchases_file_land_it_once(
    cli: Runner, store: str, tmp_path: Path
) -> None:
    csv = tmp_path / "orders.csv"
    csv.write_text(
        "email,date,amount\n"
        + "".join(f"c{i}@shop.example,2026-10-{1 + i:02d},{10 + i}.00\n" for i in range(20)),
        encoding="utf-8",
    )
    results = race(store, same(N, "import", "purchases", str(csv), "--create-missing"))
    assert len(winners(results)) == N, [r.stderr for r in losers(results)]
    assert count("SELECT count(*) FROM purchases") == 20
    assert count("SELECT count(*) FROM contacts") == 20


def test_racing_imports_of_one_contacts_file_land_it_once(
    cli: Runner, store: str, tmp_path: Path
) -> None:
    csv = tmp_path / "people.csv"
    csv.write_text(
        "name,email,company\n"
        + "".join(f"Person {i},p{i}@x.example,Co {i % 3}\n" for i in range(20)),
        encoding="utf-8",
    )
    results = race(store, same(N, "import", "contacts", str(csv)))
    assert len(winners(results)) == N, [r.stderr for r in losers(results)]
    assert count("SELECT count(*) FROM contacts") == 20
    assert count("SELECT count(*) FROM companies") == 3


def test_racing_imports_of_interactions_and_deals_land_them_once(
    cli: Runner, store: str, tmp_path: Path
) -> None:
    cli.ok("contact", "add", "Ann Lee", "-e", "ann@x.example")
    notes, deals = tmp_path / "notes.csv", tmp_path / "deals.csv"
    notes.write_text(
        "happened_at,kind,contact,body\n"
        + "".join(
            f"2026-10-{1 + i:02d}T10:00:00Z,call,ann@x.example,call {i}\n" for i in range(10)
        ),
        encoding="utf-8",
    )
    deals.write_text(
        "title,contact,stage,company\n"
        + "".join(f"Deal {i},ann@x.example,Lead,Shared Co\n" for i in range(10)),
        encoding="utf-8",
    )
    results = race(
        store,
        same(2, "import", "interactions", str(notes)) + same(2, "import", "deals", str(deals)),
    )
    assert len(winners(results)) == 4, [r.stderr for r in losers(results)]
    assert count("SELECT count(*) FROM interactions") == 10
    assert count("SELECT count(*) FROM deals") == 10
    assert count("SELECT count(*) FROM companies") == 1


# -- the digest ------------------------------------------------------------------------
smtp = test_digest_delivery.smtp  # a loopback SMTP server and its inbox


def test_racing_digest_runs_mail_the_day_once(
    cli: Runner, store: str, smtp: tuple[test_digest_delivery.Inbox, int]
) -> None:
    """Cron on two machines, at the same minute: the send log is checked and written
    in one transaction before the mail goes, so one run mails and the others see it
    (before, each checked, mailed, then wrote: on SQLite as well)."""
    inbox, _ = smtp
    cli.ok("remind", "-", "today 5pm", "call")
    results = race(store, same(N, "digest", "--mail-to", "sam@example.com"))
    assert len(winners(results)) == N, [r.stderr for r in losers(results)]
    assert len(inbox.messages) == 1
    assert count("SELECT count(*) FROM digests_sent") == 1


def test_a_failed_mail_leaves_the_day_to_the_next_run(
    cli: Runner, store: str, smtp: tuple[test_digest_delivery.Inbox, int], home: Path
) -> None:
    inbox, port = smtp
    cli.ok("remind", "-", "today 5pm", "call")
    cli.ok("digest", "--mail-to", "sam@example.com")
    before = rows("SELECT * FROM digests_sent")
    settings = (home / "settings.toml").read_text()
    (home / "settings.toml").write_text(settings.replace(str(port), "1"))
    r = cli("digest", "--mail-to", "other@example.com", "--force")
    assert r.exit_code == 1 and r.stderr.startswith("Error: can't send mail through")
    assert rows("SELECT * FROM digests_sent") == before  # the entry it replaced is back
    r = cli("digest", "--mail-to", "sam@example.com", "--as-of", "2026-11-24")
    assert r.exit_code == 1
    assert count("SELECT count(*) FROM digests_sent") == 1  # not the failed day
    (home / "settings.toml").write_text(settings)
    cli.ok("digest", "--mail-to", "sam@example.com", "--as-of", "2026-11-24")
    assert len(inbox.messages) == 2


# -- waiting, and what a writer says when it waited too long -----------------------------
def test_a_writer_held_up_too_long_says_so_on_both_backends(cli: Runner, store: str) -> None:
    """TINYCRM_BUSY_TIMEOUT bounds the wait for another writer's locks on PostgreSQL as it
    does for SQLite's file lock, with the same message; nothing is written."""
    deal = _deal(cli)
    with _gate(store):
        started = time.monotonic()
        pid, fd = _fork(racer("deal", "move", str(deal), "Qualified", TINYCRM_BUSY_TIMEOUT="1"))
        while os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
            if time.monotonic() - started > 8:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                pytest.fail("the writer waited on past TINYCRM_BUSY_TIMEOUT")
            time.sleep(0.05)
        waited = time.monotonic() - started
    r = _collect(pid, fd)
    assert r.exit_code == 1
    assert r.stderr == (
        f"Error: the store {_described(store)} stayed locked by another process for"
        " 1 s; try again\n"
    )
    assert 0.9 < waited < 8
    assert cli.ok("deal", "show", str(deal), "--json").json()["stage"] == "Lead"


def _described(store: str) -> str:
    """The store as messages name it."""
    from tinycrm.store.db import locate

    return locate(store).describe()


@pytest.mark.pg
def test_a_deadlock_is_one_clear_line(pg_store: str) -> None:
    """Locks are taken in one order so writers never wait in a circle; if two ever did,
    PostgreSQL cancels one: it says so plainly, and nothing of it is written."""
    import threading

    from tinycrm.errors import StoreError
    from tinycrm.store.open import open_store

    setup = open_store(pg_store)
    with setup.write():
        for name in ("a", "b"):
            setup.execute("INSERT INTO tag_cadences (tag, days) VALUES (:t, 1)", {"t": name})
    setup.close()
    both = threading.Barrier(2)
    outcome: dict[str, str] = {}

    def grab(first: str, second: str) -> None:
        db = open_store(pg_store)
        try:
            with db.write():
                db.execute("UPDATE tag_cadences SET days = 2 WHERE tag = :t", {"t": first})
                both.wait()
                db.execute("UPDATE tag_cadences SET days = 3 WHERE tag = :t", {"t": second})
            outcome[first] = "ok"
        except StoreError as e:
            outcome[first] = str(e)
        finally:
            db.close()

    threads = [threading.Thread(target=grab, args=p) for p in (("a", "b"), ("b", "a"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=WAIT_S)
    assert sorted(outcome.values()) == [
        f"another command on {_described(pg_store)} was changing the same records at the"
        " same time; nothing was saved: try again",
        "ok",
    ]
    assert count("SELECT count(*) FROM tag_cadences WHERE days = 3") == 1


def test_a_new_user_s_dry_run_import_still_runs(
    cli: Runner, store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dry run reads in one snapshot; a user's first command makes them a user (a
    write, with its lock) inside it. That stays allowed. (A team store makes no user on
    the way: there newbie is added first.)"""
    cli.ok("contact", "add", "Ann Lee", "-e", "ann@x.example")
    if store.startswith("postgresql"):
        cli.ok("user", "add", "newbie")
    notes = tmp_path / "notes.csv"
    notes.write_text("happened_at,kind,contact,body\n2026-10-01T10:00:00Z,call,ann@x.example,hi\n")
    monkeypatch.setenv("TINYCRM_USER", "newbie")
    r = cli.ok("import", "interactions", str(notes), "--dry-run", "--json").json()
    assert (r["imported"], r["errors"]) == (1, [])
    assert count("SELECT count(*) FROM interactions") == 0


def test_a_lock_outside_a_write_transaction_is_refused(store: str) -> None:
    """A lock taken outside a write transaction would be let go at once on PostgreSQL
    (autocommit) and lock nothing; both backends refuse it, so a test on SQLite catches
    the mistake too."""
    from tinycrm.store.open import open_store

    db = open_store(store)
    try:
        for outside in (contextlib.nullcontext(), db.read()):
            with outside:
                with pytest.raises(RuntimeError, match=r"Db.lock\(\) outside a write"):
                    db.lock("contacts", 1)
                with pytest.raises(RuntimeError, match=r"Db.lock_key\(\) outside a write"):
                    db.lock_key("users")
        with db.write():
            db.lock("contacts", [2, 1], "delete")
            db.lock_key("users", shared=True)
    finally:
        db.close()


# -- service cases (#20) ---------------------------------------------------------------
def test_one_close_of_a_case_wins(cli: Runner, store: str) -> None:
    cli.ok("contact", "add", "Ann Lee")
    cli.ok("case", "add", "ann", "Printer broken")
    results = race(store, same(N, "case", "close", "1", "--solution", "new toner"))
    assert len(winners(results)) == 1
    for r in losers(results):
        assert (r.exit_code, r.stderr) == (2, "Error: case 1 is already closed\n")
    assert count("SELECT count(*) FROM audit_log WHERE action = 'close'") == 1
    assert cli.ok("case", "show", "1", "--json").json()["version"] == 2


def test_one_stale_checked_case_edit_wins(cli: Runner, store: str) -> None:
    cli.ok("contact", "add", "Ann Lee")
    cli.ok("case", "add", "ann", "Printer broken")
    results = race(store, same(N, "case", "edit", "1", "--priority", "high", "--if-version", "1"))
    assert len(winners(results)) == 1
    for r in losers(results):
        assert r.exit_code == 1 and "(version 2, you had 1); nothing was saved" in r.stderr
    assert count("SELECT count(*) FROM audit_log WHERE entity = 'case' AND action = 'edit'") == 1


def test_racing_first_notes_on_a_case_respond_once(cli: Runner, store: str) -> None:
    cli.ok("contact", "add", "Ann Lee")
    cli.ok("case", "add", "ann", "Printer broken")
    results = race(store, same(N, "case", "note", "1", "on it"))
    assert len(winners(results)) == N
    assert count("SELECT count(*) FROM case_notes WHERE case_id = 1") == N
    assert count("SELECT count(*) FROM audit_log WHERE action = 'respond'") == 1


def test_case_notes_on_a_contact_being_removed(cli: Runner, store: str) -> None:
    """A note on a case whose contact goes meanwhile lands before (and goes with it) or
    is refused, never a foreign-key error or a deadlock."""
    cli.ok("contact", "add", "Gone Soon")
    cli.ok("case", "add", "gone", "Refund")
    results = race(
        store,
        [racer("contact", "rm", "1", "--yes")],
        [racer("case", "note", "1", "hello"), racer("case", "edit", "1", "--priority", "low")],
    )
    assert results[0].exit_code == 0, results[0].stderr
    for r in results[1:]:
        assert r.exit_code == 0 or r.stderr.startswith(
            ("Error: no case with id 1", "Error: no contact with id 1")
        ), r.stderr
    assert count("SELECT count(*) FROM cases") == 0
    assert count("SELECT count(*) FROM interactions") == 0


# -- undo ----------------------------------------------------------------------------------
def test_one_of_racing_undos_takes_the_change_back(cli: Runner, store: str) -> None:
    deal = _deal(cli)  # changes 1 and 2
    cli.ok("deal", "move", str(deal), "Qualified")  # change 3
    results = race(store, same(N, "undo", "3"))
    assert len(winners(results)) == 1
    for r in losers(results):
        assert (r.exit_code, r.stderr) == (
            2,
            "Error: change 3 (move deal #1 Pilot (Lead → Qualified)) was undone already\n",
        )
    assert count("SELECT count(*) FROM stage_changes WHERE deal_id = :d", d=deal) == 1
    assert count("SELECT count(*) FROM changes WHERE undoes = 3") == 1


# -- custom fields ---------------------------------------------------------------------
def test_one_field_takes_a_name(cli: Runner, store: str) -> None:
    results = race(store, same(N, "field", "add", "company", "tier", "--type", "number"))
    assert len(winners(results)) == 1
    for r in losers(results):
        assert (r.exit_code, r.stderr) == (
            2,
            "Error: companies already have a field called 'tier'\n",
        )
    assert count("SELECT count(*) FROM custom_fields") == 1


def test_values_set_while_their_field_is_removed(cli: Runner, store: str) -> None:
    """Setting a field as it is removed: each --set lands before the removal (and goes with
    it) or is refused after it, cleanly; no value outlives its field."""
    cli.ok("field", "add", "company", "tier", "--type", "number")
    for name in ("Acme", "Beta", "Gamma"):
        cli.ok("company", "add", name)
    results = race(
        store,
        [racer("field", "rm", "company", "tier", "--yes")]
        + [racer("company", "edit", f"co:{i}", "--set", f"tier={i}") for i in (1, 2, 3)],
    )
    assert results[0].exit_code == 0, results[0].stderr
    for r in results[1:]:
        assert r.exit_code == 0 or r.stderr.startswith(
            "Error: no company field 'tier' (it has none yet)"
        ), r.stderr
    assert count("SELECT count(*) FROM custom_values") == 0
    assert count("SELECT count(*) FROM custom_fields") == 0
