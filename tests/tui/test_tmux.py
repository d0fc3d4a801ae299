"""Smoke test of the real program in a real terminal: bare `tinycrm` inside tmux opens the
app; type into it and read the screen back, as a user would."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import Runner

pytestmark = [
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux"),
    pytest.mark.slow,
]


class Terminal:
    def __init__(self, command: list[str], env: dict[str, str], size: tuple[int, int]) -> None:
        self.name = f"tinycrm-test-{uuid.uuid4().hex[:8]}"
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        line = f"exec env {exports} {shlex.join(command)}"
        # one tmux command list: remain-on-exit is set before the server can notice the
        # program exit; starting a shell and respawning the pane raced with a program that
        # prints and quits at once (its first line was sometimes wiped)
        width, height = str(size[0]), str(size[1])
        self.tmux(
            "new-session", "-d", "-s", self.name, "-x", width, "-y", height, line,
            ";", "set-option", "-t", self.name, "remain-on-exit", "on",
        )  # fmt: skip

    def tmux(self, *args: str) -> str:
        for attempt in range(5):
            done = subprocess.run(["tmux", *args], capture_output=True, text=True)
            if done.returncode == 0:
                return done.stdout
            if "server exited unexpectedly" not in done.stderr:
                break
            time.sleep(0.2 * (attempt + 1))  # the previous server was still shutting down
        raise AssertionError(f"tmux {' '.join(args)}: {done.stderr.strip()}")

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.name)

    def everything(self) -> str:
        """The screen and the lines scrolled off it."""
        return self.tmux("capture-pane", "-p", "-S", "-", "-t", self.name)

    def keys(self, *keys: str, literal: bool = False) -> None:
        self.tmux("send-keys", "-t", self.name, *(["-l"] if literal else []), *keys)

    def wait_for(self, text: str, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared on:\n{screen}")
            time.sleep(0.05)

    def wait_until(self, check: Callable[[str], bool], timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if check(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"never got there:\n{screen}")
            time.sleep(0.05)

    def press_until(self, key: str, text: str, tries: int = 3, wait: float = 5.0) -> str:
        """Press `key` until `text` shows. On a loaded machine a key pressed while a new
        screen is still being set up can be dropped; pressing again is what a user does.
        The check before each retry makes sure the first press has not landed."""
        for _ in range(tries - 1):
            self.keys(key)
            try:
                return self.wait_for(text, timeout=wait)
            except AssertionError:
                continue
        self.keys(key)
        return self.wait_for(text)

    def exited(self) -> bool:
        return self.tmux("display-message", "-p", "-t", self.name, "#{pane_dead}").strip() == "1"

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


@pytest.fixture
def terminal_env(sqlite_store: str) -> dict[str, str]:
    keep = ("TINYCRM_HOME", "TINYCRM_NOW", "TINYCRM_TZ", "TINYCRM_USER", "TINYCRM_DB", "PATH")
    return {k: os.environ[k] for k in keep if k in os.environ} | {"TERM": "xterm-256color"}


@pytest.fixture
def term(terminal_env: dict[str, str]) -> Iterator[Terminal]:
    from tests.tui.conftest import seed

    seed(Runner())
    t = Terminal([sys.executable, "-m", "tinycrm"], terminal_env, (100, 32))
    try:
        yield t
    finally:
        t.close()


def test_bare_tinycrm_on_a_terminal_opens_the_app(term: Terminal) -> None:
    term.wait_for("Reminders · 1 overdue · 1 today")
    term.keys("2")
    term.wait_for("4 contacts")
    time.sleep(0.5)  # keys sent while Textual still sets up the terminal can be lost
    term.keys("/")
    term.keys("acme", literal=True)
    term.wait_for("2 matching 'acme'")
    term.keys("Enter")  # opens the first match, Alice Wong
    term.wait_for("alice@acme.example")
    term.press_until("n", "Log a note · Alice Wong")
    term.keys("typed in tmux", literal=True)
    term.keys("C-s")
    # saved: the form has gone and the note heads the timeline
    term.wait_until(lambda s: "Log a note" not in s and "note      typed in tmux" in s)
    term.keys("q")
    deadline = time.monotonic() + 10
    while not term.exited():
        assert time.monotonic() < deadline, term.screen()
        time.sleep(0.05)
    shown = Runner().ok("contact", "show", "alice", "--json").json()
    assert shown["timeline"][0]["text"] == "typed in tmux"


def test_no_tui_keeps_the_printed_summary(terminal_env: dict[str, str]) -> None:
    Runner().ok("contact", "add", "Alice Wong")
    Runner().ok("remind", "alice", "today 15:00", "call Alice")
    t = Terminal(
        [sys.executable, "-m", "tinycrm"], terminal_env | {"TINYCRM_NO_TUI": "1"}, (100, 20)
    )
    try:
        t.wait_for("More: tinycrm todo --all")
        printed = t.everything()
        assert "Due today, Monday 23 November" in printed and "call Alice" in printed
    finally:
        t.close()


def _descendants(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        children = [int(p) for p in f.read().split()]
    return children + [d for c in children for d in _descendants(c)]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="reads /proc (Linux)")
@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
@pytest.mark.parametrize("parent", ["make", "none"])
def test_closing_the_terminal_ends_the_app_and_keeps_its_promises(
    terminal_env: dict[str, str], tmp_path: Path, parent: str
) -> None:
    """The window closed (here: the tmux session killed) while tinycrm runs under `make
    run`, whose make takes the hang-up and dies while tinycrm is left with a dead terminal:
    the app must not linger (Textual's input loop would spin on it at 100% CPU for ever);
    it quits as `q` would, carrying out the delete still waiting for an undo. On its own,
    it gets the SIGHUP itself, and must not hang restoring a terminal that is gone."""
    from tests.tui.conftest import seed

    seed(Runner())
    makefile = tmp_path / "Makefile"
    tinycrm = shlex.join([sys.executable, "-m", "tinycrm", "tui", "contacts"])
    makefile.write_text(f"run:\n\t{tinycrm}\n")
    make = ["make", "-s", "-f", str(makefile), "run"]
    t = Terminal(make if parent == "make" else shlex.split(tinycrm), terminal_env, (100, 32))
    try:
        t.wait_for("4 contacts")
        pane = int(t.tmux("display-message", "-p", "-t", t.name, "#{pane_pid}").strip())
        apps = [
            p
            for p in [pane, *_descendants(pane)]
            if b"tinycrm" in Path(f"/proc/{p}/cmdline").read_bytes()
        ]
        assert len(apps) == 1, apps
        time.sleep(0.5)  # keys sent while Textual still sets up the terminal can be lost
        t.press_until("x", "Delete Alice Wong")
        t.keys("y")
        t.wait_for("3 contacts")
    finally:
        t.close()
    deadline = time.monotonic() + 10
    while _alive(apps[0]):
        if time.monotonic() > deadline:
            os.kill(apps[0], 9)
            raise AssertionError("tinycrm outlived its terminal")
        time.sleep(0.05)
    names = [c["name"] for c in Runner().ok("contact", "list", "--json").json()]
    assert "Alice Wong" not in names and len(names) == 3


def test_keys_sent_in_one_burst_fill_the_form_they_open(term: Terminal) -> None:
    """As a paste or a slow ssh link delivers them: `a`, a name, tab, an email and enter
    in one send-keys, so the terminal hands them over in one read."""
    term.wait_for("Reminders · 1 overdue · 1 today")
    term.keys("2")
    term.wait_for("4 contacts")
    time.sleep(0.5)  # keys sent while Textual still sets up the terminal can be lost
    term.keys("a", "Dana Levi", "Tab", "dana@levi.io", "Enter")
    term.wait_until(lambda s: "Add a contact" not in s and "dana@levi.io" in s)
    shown = Runner().ok("contact", "show", "dana", "--json").json()
    assert (shown["name"], shown["emails"]) == ("Dana Levi", ["dana@levi.io"])
