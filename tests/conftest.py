"""Shared fixtures: a private TINYCRM_HOME, a frozen clock, and a store on each backend.

`store` is parametrized over SQLite and PostgreSQL. The PostgreSQL run needs
TINYCRM_TEST_PG_URL (CI sets it); it creates a fresh database for the test session and
empties it between tests. Without the variable those tests skip, saying why.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# Property tests explore new random inputs on every local run; CI (HYPOTHESIS_PROFILE=ci,
# set by .ci/run) replays a fixed sequence, so a landing is never refused by a case no one
# has seen yet. Run them locally, or with --hypothesis-seed, to hunt for new ones.
settings.register_profile("ci", derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

PG_URL = os.environ.get("TINYCRM_TEST_PG_URL")
NOW = "2026-11-23T09:00:00+00:00"  # a Monday; 10:00 in Berlin
TZ = "Europe/Berlin"


def _data_tables() -> str:
    """Every table a test may fill (the models', plus PostgreSQL's search index), for
    TRUNCATE; `stages` is emptied and refilled with the default pipeline separately."""
    from tinycrm.models import metadata

    return ", ".join(sorted(set(metadata.tables) - {"stages"} | {"search_docs"}))


TABLES = _data_tables()


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never touch the real store or settings; freeze who, where and when."""
    monkeypatch.setenv("TINYCRM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TINYCRM_NOW", NOW)
    monkeypatch.setenv("TINYCRM_TZ", TZ)
    monkeypatch.setenv("TINYCRM_USER", "sam")
    monkeypatch.delenv("TINYCRM_DB", raising=False)
    monkeypatch.delenv("TINYCRM_SETTINGS", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    _forget_cli_state()  # a `--db` or an open store left by an earlier test must not leak
    return tmp_path / "home"


def _forget_cli_state() -> None:
    from tinycrm.cli import state as cli_state

    cli_state.close()
    cli_state.state.db_option = None


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Skipped tests, one line per reason (not one per test: without PostgreSQL that would
    be hundreds of lines saying the same thing)."""
    reasons: dict[str, int] = {}
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    for reason, count in sorted(reasons.items(), key=lambda item: -item[1]):
        terminalreporter.write_line(f"SKIPPED {count} test{'s' if count != 1 else ''}: {reason}")


# -- stores ------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store migrated once; each test gets a copy (migrating per test is slow)."""
    from tinycrm.store.open import open_store

    path = tmp_path_factory.mktemp("template") / "template.db"
    open_store(str(path)).close()
    return path


def _pg_admin_url(url: str) -> str:
    return re.sub(r"^postgres(ql)?(\+psycopg)?://", "postgresql://", url)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    if not PG_URL:
        pytest.skip("PostgreSQL tests need TINYCRM_TEST_PG_URL (CI sets it)")
    import psycopg

    name = f"tinycrm_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = _pg_admin_url(PG_URL)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, query = PG_URL.partition("?")
    url = base.rsplit("/", 1)[0] + "/" + name + (f"?{query}" if query else "")
    from tinycrm.store.open import open_store

    db = open_store(url)  # migrate once
    try:
        _SEEDED[url] = db.all("SELECT * FROM stages ORDER BY id")
    finally:
        db.close()
    try:
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


#: The default pipeline each session database had right after its migrations: what the
#: migrations seed, read back rather than copied here by hand.
_SEEDED: dict[str, list[dict[str, Any]]] = {}


def _reset_pg(url: str) -> None:
    """Empty every table and restore the default pipeline, as a new store has it."""
    import psycopg

    seed = [{k: v for k, v in row.items() if k != "id"} for row in _SEEDED[url]]
    columns = list(seed[0])
    with psycopg.connect(_pg_admin_url(url), autocommit=True) as conn:
        conn.execute(f"TRUNCATE {TABLES}, stages RESTART IDENTITY CASCADE")
        with conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO stages ({', '.join(columns)})"
                f" VALUES ({', '.join(f'%({c})s' for c in columns)})",
                seed,
            )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def store(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    """The URL (or path) of an empty, migrated store; also exported as TINYCRM_DB."""
    if request.param == "sqlite":
        path = tmp_path / "store" / "tinycrm.db"
        path.parent.mkdir(mode=0o700)
        shutil.copy(sqlite_template, path)
        url = str(path)
    else:
        url = request.getfixturevalue("pg_database")
        _reset_pg(url)
    monkeypatch.setenv("TINYCRM_DB", url)
    return url


@pytest.fixture
def pg_store(pg_database: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A PostgreSQL-only store, for what is specific to the server backend."""
    _reset_pg(pg_database)
    monkeypatch.setenv("TINYCRM_DB", pg_database)
    return pg_database


@pytest.fixture
def sqlite_store(tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An SQLite-only store, for what is specific to the file backend."""
    path = tmp_path / "store" / "tinycrm.db"
    path.parent.mkdir(mode=0o700)
    shutil.copy(sqlite_template, path)
    monkeypatch.setenv("TINYCRM_DB", str(path))
    return str(path)


# -- running the CLI -----------------------------------------------------------------------------
@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        import json

        return json.loads(self.stdout)


class Runner:
    """Runs the real command line in-process (same entry point as the console script)."""

    def __call__(self, *args: str, stdin: str = "") -> Result:
        from tinycrm.cli.entry import run

        out, err = io.StringIO(), io.StringIO()
        old_stdin = sys.stdin
        sys.stdin = io.StringIO(stdin)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = run(list(args))
        finally:
            sys.stdin = old_stdin
        return Result(code, out.getvalue(), err.getvalue())

    def ok(self, *args: str, stdin: str = "") -> Result:
        result = self(*args, stdin=stdin)
        assert result.exit_code == 0, f"{args} failed: {result.stderr}"
        assert result.stderr == ""
        return result


@pytest.fixture
def cli(store: str) -> Runner:
    return Runner()


@pytest.fixture
def ctx(store: str) -> Iterator[object]:
    """A service context on the test store, as the CLI would build it."""
    from tinycrm.cli import state

    yield state.get_ctx()
    state.close()


def pty_output(command: list[str], env: dict[str, str] | None = None) -> bytes:
    """Run `command` with stdout on a pseudo-terminal (as a salesperson's terminal is);
    every byte it printed there. It must succeed."""
    import pty
    import subprocess

    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        command, stdout=follower, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    return b"".join(chunks)
