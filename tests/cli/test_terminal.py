"""Lists on a real terminal: the CLI in a pseudo-terminal, as a salesperson sees it."""

from __future__ import annotations

import os
import re
import sys

from tests.conftest import Runner, pty_output

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def on_terminal(*args: str, lines: int = 15) -> str:
    """Run `tinycrm ARGS` with stdout on a pty of `lines` rows; the screen text it drew."""
    env = os.environ | {"LINES": str(lines), "COLUMNS": "100", "NO_COLOR": "1"}
    shown = pty_output([sys.executable, "-m", "tinycrm", *args], env)
    return ANSI.sub("", shown.decode()).replace("\r\n", "\n")


def test_todo_shows_a_screenful_and_says_how_many_more(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong")
    for i in range(25):
        cli.ok("remind", "alice", "2026-11-20 10:00", f"task {i:02d}")
    screen = on_terminal("todo", lines=15)
    shown = re.findall(r"task \d\d", screen)
    assert shown == [f"task {i:02d}" for i in range(10)]
    assert "… 10 of 25 shown: raise --limit" in screen
    # piped and JSON output are never cut
    assert len(cli.ok("todo").stdout.splitlines()) == 25
    assert len(cli.ok("todo", "--json").json()) == 25
    assert len(cli.ok("todo", "-n", "3", "--json").json()) == 3


def test_deal_list_footer_only_when_cut(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong")
    for i in range(12):
        cli.ok("deal", "add", "alice", f"deal {i:02d}", "--value", str(100 + i))
    screen = on_terminal("deal", "list", lines=15)
    assert len(re.findall(r"deal \d\d", screen)) == 10
    assert "… 10 of 12 shown" in screen
    screen = on_terminal("deal", "list", "-n", "20", lines=15)
    assert len(re.findall(r"deal \d\d", screen)) == 12
    assert "shown" not in screen
