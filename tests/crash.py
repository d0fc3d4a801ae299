"""Killing a real tinycrm process in the middle of its write, and proving nothing of it
landed: what tests/test_crash.py uses, and what a new command's crash test needs.

A crash test for a command is three lines:

    before = snapshot(store)
    kill_mid_write([...the command...], store)
    assert snapshot(store) == before and doctor_is_clean()
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.conftest import _pg_admin_url

TINYCRM = Path(sys.executable).parent / "tinycrm"


def snapshot(path: str | Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of an SQLite store, FTS5 shadow tables included (so the
    search index is compared byte for byte too)."""
    conn = sqlite3.connect(path)
    try:
        return _every_row(
            conn,
            "SELECT name FROM sqlite_master WHERE type = 'table'"
            " AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name",
        )
    finally:
        conn.close()


def _every_row(conn: Any, tables_sql: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of each table `tables_sql` names, in a stable order, by table."""
    tables = [r[0] for r in conn.execute(tables_sql).fetchall()]
    return {t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}


def wal_size(store: str | Path) -> int:
    try:
        return os.stat(f"{store}-wal").st_size
    except FileNotFoundError:
        return 0


def kill_mid_write(
    args: list[str],
    store: str | Path,
    *,
    wal_bytes: int = 1 << 20,
    timeout: float = 300.0,
    env: dict[str, str] | None = None,
) -> None:
    """Run `tinycrm ARGS` and SIGKILL it once its open transaction has spilled `wal_bytes`
    into the store's write-ahead log: SQLite writes pages there before the commit only
    when the transaction outgrows the page cache (2 MB), so the process is mid-write.
    Fails if the command finished first (give it more to do)."""
    proc = subprocess.Popen(
        [str(TINYCRM), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    deadline = time.monotonic() + timeout
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if wal_size(store) >= wal_bytes:
                proc.send_signal(signal.SIGKILL)
                break
            time.sleep(0.002)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL, (
        f"tinycrm {' '.join(args[:2])} ended by itself ({proc.returncode}) before it"
        f" could be killed mid-write: {proc.stderr.read().decode() if proc.stderr else ''}"
    )
    if proc.stderr:
        proc.stderr.close()


def kill_after(args: list[str], seconds: float, env: dict[str, str] | None = None) -> int:
    """Run a Python snippet or command for `seconds`, then SIGKILL it; its return code."""
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    return proc.returncode


def pg_snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of a PostgreSQL store (the search index included)."""
    import psycopg

    with psycopg.connect(_pg_admin_url(url)) as conn:
        return _every_row(
            conn,
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            " ORDER BY tablename",
        )


def kill_mid_pg_write(
    args: list[str],
    url: str,
    table: str,
    *,
    grown: int = 1 << 20,
    timeout: float = 300.0,
    env: dict[str, str] | None = None,
) -> None:
    """Run `tinycrm ARGS` on the PostgreSQL store `url` and SIGKILL it once `table` has
    grown by `grown` bytes while another backend of this database is inside a transaction:
    PostgreSQL extends a table's file for rows not yet committed, so the command is
    mid-write. Fails if the command finished first (give it more to do)."""
    import psycopg

    size = "SELECT pg_relation_size(%s)"
    busy = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
    )
    with psycopg.connect(_pg_admin_url(url), autocommit=True) as watch:
        start = watch.execute(size, (table,)).fetchone()[0]  # type: ignore[index]
        proc = subprocess.Popen(
            [str(TINYCRM), *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env
        )
        deadline = time.monotonic() + timeout
        try:
            while proc.poll() is None and time.monotonic() < deadline:
                now = watch.execute(size, (table,)).fetchone()[0]  # type: ignore[index]
                if now - start >= grown and watch.execute(busy).fetchone()[0]:  # type: ignore[index]
                    proc.send_signal(signal.SIGKILL)
                    break
                time.sleep(0.005)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert proc.returncode == -signal.SIGKILL, (
        f"tinycrm {' '.join(args[:2])} ended by itself ({proc.returncode}) before it"
        f" could be killed mid-write: {err}"
    )


def wait_for_no_other_backends(url: str, timeout: float = 30.0) -> None:
    """Until no other connection to the database is inside a transaction (a killed
    client's backend rolls back and exits once the server sees the socket close)."""
    import psycopg

    with psycopg.connect(_pg_admin_url(url), autocommit=True) as watch:
        deadline = time.monotonic() + timeout
        while True:
            row = watch.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
            ).fetchone()
            if not row or not row[0]:
                return
            assert time.monotonic() < deadline, "the killed client's transaction never ended"
            time.sleep(0.05)
