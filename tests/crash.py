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

TINYCRM = Path(sys.executable).parent / "tinycrm"


def snapshot(path: str | Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of an SQLite store, FTS5 shadow tables included (so the
    search index is compared byte for byte too)."""
    conn = sqlite3.connect(path)
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name"
            )
        ]
        return {
            t: sorted(conn.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables
        }
    finally:
        conn.close()


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
