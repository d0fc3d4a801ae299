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

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.conftest import TABLES, Result, Runner, _pg_admin_url

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
            os.environ.update(r.env)
            from tinycrm.cli import state

            state.state.ctx = None  # its own connection, never one inherited
            res = Runner()(*r.args)
            payload = json.dumps([res.exit_code, res.stdout, res.stderr]).encode()
            with os.fdopen(write_end, "wb") as out:
                out.write(payload)
        except BaseException:
            code = 70
        finally:
            os._exit(code)
    os.close(write_end)
    return pid, read_end


def _collect(pid: int, fd: int) -> Result:
    with os.fdopen(fd, "rb") as f:
        payload = f.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "a racer crashed"
    code, out, err = json.loads(payload)
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
