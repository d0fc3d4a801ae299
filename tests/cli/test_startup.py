"""Start-up cost and the real console script. Speed is measured in benchmarks/, not here;
these tests pin *what* the quick commands load, which is what keeps them fast."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "textual", "dateparser", "pydantic", "rapidfuzz")

PROBE = f"""
import json, sys
from tinycrm.cli.entry import run
code = run(sys.argv[1:])
loaded = sorted(m for m in {HEAVY!r} if m in sys.modules)
print(json.dumps({{"code": code, "loaded": loaded}}))
"""


def _probe(args: list[str], env: dict[str, str]) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


@pytest.fixture
def env(sqlite_store: str) -> dict[str, str]:
    from tests.conftest import Runner

    Runner().ok("contact", "add", "Alice Wong", "-e", "alice@acme.com")
    Runner().ok("remind", "alice", "today 5pm", "call back")
    Runner().ok("remind", "alice", "tomorrow", "send deck")
    Runner().ok("note", "alice", "first call")
    Runner().ok("purchase", "add", "alice", "100")
    return dict(os.environ)


@pytest.mark.parametrize(
    "args",
    [
        ["note", "alice", "quick note"],
        ["note", "Alice Wong", "called", "--kind", "call", "--follow-up", "next friday"],
        ["remind", "alice", "3d", "send contract"],
        ["todo"],
        ["done", "1"],
        ["snooze", "2", "2h"],
        ["contact", "show", "alice"],
        ["search", "alice"],
        ["deal", "list"],
        ["undo"],
        ["undo", "--list"],
        ["interaction", "edit", "1", "--text", "first call, corrected"],
        ["purchase", "rm", "1", "--yes"],
        ["reminder", "edit", "2", "--due", "friday"],
        # where the month stands: asked many times a day
        ["goal", "set", "sam", "5000", "--per", "month"],
        ["goal", "list"],
        ["report", "forecast"],
        # mutt's query_command and a shell's tab run on every keystroke
        ["contact", "query", "ali"],
        ["__complete", "bash", "tinycrm note ali", "ali"],
        ["__complete", "zsh", "deal", "move", ""],
        ["__complete", "fish", "contact", "list", "--tag", ""],
    ],
)
def test_everyday_commands_load_nothing_heavy(args: list[str], env: dict[str, str]) -> None:
    result = _probe(args, env)
    assert result == {"code": 0, "loaded": []}


def test_importing_services_loads_no_user_interface() -> None:
    code = (
        "import sys, tinycrm.services.contacts, tinycrm.services.deals, tinycrm.refs;"
        "print([m for m in ('typer', 'rich', 'textual', 'sqlalchemy') if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def _script() -> str:
    path = shutil.which("tinycrm", path=str(Path(sys.executable).parent))
    assert path, "the tinycrm console script is not installed in this venv"
    return path


def test_console_script_bad_input_is_one_line_without_traceback(sqlite_store: str) -> None:
    done = subprocess.run(
        [_script(), "remind", "nobody-at-all", "tomorrow", "x"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == "Error: no contact, company or deal matches 'nobody-at-all'\n"
    done = subprocess.run(
        [_script(), "todo", "--days", "many"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "'many'" in done.stderr


def test_console_script_help_and_json_roundtrip(sqlite_store: str) -> None:
    done = subprocess.run([_script(), "--help"], capture_output=True, text=True, check=True)
    for command in (
        "note",
        "remind",
        "todo",
        "done",
        "snooze",
        "contact",
        "company",
        "deal",
        "stages",
        "purchase",
        "search",
        "log",
    ):
        assert command in done.stdout
    done = subprocess.run(
        [_script(), "contact", "add", "Zhang Wei", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout)["name"] == "Zhang Wei"


def test_no_color_and_no_tty_means_no_escape_sequences(sqlite_store: str) -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    subprocess.run(
        [_script(), "remind", "-", "today 8am", "overdue \x1b[31mthing"],
        env=env,
        check=True,
        capture_output=True,
    )
    out = subprocess.run(
        [_script(), "todo"], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert "\x1b" not in out and "overdue [31mthing" in out
