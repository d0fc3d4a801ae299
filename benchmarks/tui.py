"""Time the full-screen app on the benchmark store, as a user sees it: in a real terminal.

    python benchmarks/tui.py [--db benchmarks/data/bench.db] [--runs 5] [--size 200x60] [--each]

Each run copies the store to a temporary folder (the source stays untouched), starts
`tinycrm tui SCREEN` inside a detached tmux session, and reads the screen with
`tmux capture-pane` every few milliseconds:

- first paint: from just before the process starts to the first screen showing its data
  (Today: the reminder counts; Contacts: the contact count), median and worst of the runs;
- search keystroke: one character typed into the Contacts search box until the status line
  shows the new match count, for each prefix of a few words;
- scrolling: page-down presses through the contacts list until the screen changes, as more
  keyset pages load behind it; then page-down all the way to the last contact;
- memory: resident set size (VmRSS) after the first paint, after the searches, after
  scrolling through the whole list, and the peak (VmHWM) at the end;
- `--tour`: instead, a newcomer's tour of every screen in one process (Today, Contacts,
  the contact with the most notes opened from the search box, Deals, Reminders,
  Rankings, and back to Today), with the resident memory after each and the peak.

The clock is the store's "now", the time zone Europe/Berlin and the user one of the
generated salespeople, as in run.py. Needs tmux. Timings include tmux's own latency
(a capture costs ~2 ms), so they are an upper bound.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SESSION = f"tinycrm-bench-{os.getpid()}"  # several people may measure on one machine


def tmux(*args: str) -> str:
    for attempt in range(5):
        done = subprocess.run(["tmux", *args], capture_output=True, text=True)
        if done.returncode == 0:
            return done.stdout
        if "server exited unexpectedly" not in done.stderr:
            break
        time.sleep(0.2 * (attempt + 1))  # the previous server was still shutting down
    raise RuntimeError(f"tmux {' '.join(args[:3])}: {done.stderr.strip()}")


def screen() -> str:
    return tmux("capture-pane", "-p", "-t", SESSION)


def wait_for(check: Callable[[str], bool], timeout: float = 20.0) -> tuple[float, str]:
    """Seconds until the screen satisfies `check` (polling), and that screen."""
    start = time.perf_counter()
    while True:
        text = screen()
        if check(text):
            return time.perf_counter() - start, text
        if time.perf_counter() - start > timeout:
            raise TimeoutError(f"the screen never got there:\n{text}")
        time.sleep(0.002)


def rss_kb(field: str) -> int:
    pid = tmux("display-message", "-p", "-t", SESSION, "#{pane_pid}").strip()
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def start(store: Path, env: dict[str, str], screen_name: str, size: tuple[int, int]) -> float:
    """Start the app; returns the perf_counter time just before the process started."""
    tinycrm = Path(sys.executable).with_name("tinycrm")
    command = " ".join(
        [
            "exec env",
            *(f"{k}={v}" for k, v in env.items()),
            str(tinycrm),
            "--db",
            str(store),
            "tui",
            screen_name,
        ]
    )
    t0 = time.perf_counter()
    tmux("new-session", "-d", "-s", SESSION, "-x", str(size[0]), "-y", str(size[1]), command)
    return t0


def stop() -> None:
    subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)


TODAY_READY = re.compile(r"Reminders · [\d,]+ overdue")
CONTACTS_READY = re.compile(r"[\d,]+ contacts · ")


def first_paint(store: Path, env: dict[str, str], name: str, size: tuple[int, int]) -> float:
    ready = TODAY_READY if name == "today" else CONTACTS_READY
    t0 = start(store, env, name, size)
    try:
        wait_for(lambda s: bool(ready.search(s)))
        return time.perf_counter() - t0
    finally:
        stop()


def search_focused(text: str) -> bool:
    """The footer shows the list's keys (o Order, a Add…) only while the list has focus."""
    footer = [line for line in text.splitlines() if "^p palette" in line]
    return bool(footer) and "/ Search" in footer[-1] and " Order " not in footer[-1]


def focus_search(tries: int = 5) -> None:
    """Press / until the search box has focus. On a loaded machine a key can land while
    the app is still busy with the escape before it and be lost (or read as alt+/); the
    check before each retry makes sure the earlier press did not land."""
    for _ in range(tries):
        tmux("send-keys", "-t", SESSION, "/")
        try:
            wait_for(search_focused, timeout=3)
            return
        except TimeoutError:
            continue
    raise TimeoutError(f"the search box never got focus:\n{screen()}")


def typing(words: list[str]) -> tuple[list[float], list[float], int]:
    """Type each word into the search box: per-keystroke latencies; then scroll."""
    latencies = []
    for word in words:
        # escape leaves (and clears) the search box, / comes back to it: the same from anywhere
        tmux("send-keys", "-t", SESSION, "Escape")
        # an escape followed closely by / reads as alt+/: wait until the app has had it
        wait_for(lambda s: bool(CONTACTS_READY.search(s)) and "/ to search" in s, timeout=15)
        time.sleep(0.3)
        focus_search()
        time.sleep(0.2)  # a person's pause
        for i in range(1, len(word) + 1):
            shown = f"matching {word[:i]!r}"
            t = time.perf_counter()
            tmux("send-keys", "-t", SESSION, "-l", word[i - 1])
            wait_for(lambda s, shown=shown: shown in s, timeout=15)
            latencies.append(time.perf_counter() - t)
        tmux("send-keys", "-t", SESSION, "Escape")
        wait_for(lambda s: bool(CONTACTS_READY.search(s)), timeout=15)
    after_paint = rss_kb("VmRSS")
    scrolls = []
    for _ in range(40):
        before = screen()
        t = time.perf_counter()
        tmux("send-keys", "-t", SESSION, "PageDown")
        wait_for(lambda s, before=before: s != before, timeout=15)
        scrolls.append(time.perf_counter() - t)
    return latencies, scrolls, after_paint


def scroll_to_the_end(last_name: str, batch: int = 20) -> tuple[float, int]:
    """Page down through the whole contacts list, `batch` presses at a time (each batch
    played out before the next), until `last_name` (the last contact) is on screen:
    seconds taken and page-down presses sent."""
    t = time.perf_counter()
    sent = 0
    while True:
        tmux("send-keys", "-t", SESSION, "-N", str(batch), "PageDown")
        sent += batch
        before, still = screen(), time.perf_counter()
        while time.perf_counter() - still < 0.3:  # the screen holds still: caught up
            time.sleep(0.05)
            now = screen()
            if now != before:
                before, still = now, time.perf_counter()
        if last_name in before:
            return time.perf_counter() - t, sent
        if sent > 20_000:
            raise TimeoutError(f"never got to {last_name!r}:\n{before}")


def last_contact(store: Path) -> str:
    """The name of the last contact in name order (what page-down ends on)."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(store)) as db:
        row = db.execute("SELECT name FROM contacts ORDER BY name_key DESC, id DESC LIMIT 1")
        return str(row.fetchone()[0])


def busiest_contact(store: Path) -> str:
    """The name of the contact with the most notes, calls, emails and meetings."""
    import sqlite3

    with contextlib.closing(sqlite3.connect(store)) as db:
        row = db.execute(
            "SELECT c.name FROM interactions i JOIN contacts c ON c.id = i.contact_id"
            " GROUP BY c.id, c.name ORDER BY count(*) DESC, c.id LIMIT 1"
        )
        return str(row.fetchone()[0])


# each step of the tour: the keys, then what the screen shows once it has its data
TOUR_READY = {
    "today": TODAY_READY,
    "contacts": CONTACTS_READY,
    "deals": re.compile(r"\d[\d,]* open deals · "),
    "reminders": re.compile(r"open reminders \("),
    "rankings": re.compile(r"[\d,]+ customers · revenue"),
}


def tour(db: Path, meta: dict[str, Any], size: tuple[int, int]) -> list[tuple[str, int]]:
    """One process through every screen: (step, resident kB after it), then the peak."""
    if shutil.which("tmux") is None:
        sys.exit("needs tmux")
    env = {
        "TINYCRM_NOW": meta["now"],
        "TINYCRM_TZ": "Europe/Berlin",
        "TINYCRM_USER": meta["user"],
        "TERM": "xterm-256color",
        "PATH": os.environ.get("PATH", ""),
    }
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    out: list[tuple[str, int]] = []

    def step(name: str, keys: list[str], ready: re.Pattern[str], literal: bool = False) -> None:
        if keys:
            tmux("send-keys", "-t", SESSION, *(["-l"] if literal else []), *keys)
        wait_for(lambda s: bool(ready.search(s)), timeout=60)
        time.sleep(1.5)  # what loads after the first paint (Today's top customers, a grade)
        out.append((name, rss_kb("VmRSS")))

    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "bench.db"
        shutil.copy(db, store)
        env["TINYCRM_HOME"] = str(Path(tmp) / "home")
        busiest = busiest_contact(store)
        stop()
        start(store, env, "today", size)
        try:
            step("Today", [], TOUR_READY["today"])
            time.sleep(1)  # keys typed while Textual still talks to the terminal can be lost
            step("Contacts", ["2"], TOUR_READY["contacts"])
            focus_search()
            tmux("send-keys", "-t", SESSION, "-l", busiest)
            wait_for(lambda s: f"matching {busiest!r}" in s, timeout=30)
            step(f"{busiest}, from the search", ["Enter"], re.compile(r"last touch"))
            step("back (escape)", ["Escape"], re.compile(f"matching {re.escape(repr(busiest))}"))
            for n, name in enumerate(("deals", "reminders", "rankings"), start=3):
                step(name.capitalize(), [str(n)], TOUR_READY[name])
            step("Today again", ["1"], TOUR_READY["today"])
            out.append(("peak", rss_kb("VmHWM")))
        finally:
            stop()
    return out


def ms(values: list[float]) -> str:
    p90 = (
        statistics.quantiles(values, n=10, method="inclusive")[-1] if len(values) > 1 else values[0]
    )
    return (
        f"{statistics.median(values) * 1000:7.0f} ms  (p90 {p90 * 1000:.0f} ms,"
        f" max {max(values) * 1000:.0f} ms)"
    )


@dataclass
class TuiTimes:
    today: list[float]  # seconds from process start to the first screenful
    contacts: list[float]
    keys: list[float]  # per search keystroke, until the list shows it
    scrolls: list[float]
    painted_kb: int  # resident memory once Contacts is painted
    after_kb: int  # after the searches and scrolling
    scrolled_kb: int  # after paging down through every contact
    scrolled_s: float  # how long that took
    pages: int  # page-down presses it took
    peak_kb: int


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=ROOT / "benchmarks" / "data" / "bench.db")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size", default="200x60", help="terminal WIDTHxHEIGHT")
    parser.add_argument("--each", action="store_true", help="print every keystroke's time")
    parser.add_argument("--tour", action="store_true", help="memory through every screen")
    args = parser.parse_args()
    width, height = (int(x) for x in args.size.split("x"))
    meta = json.loads(args.db.with_name("bench.json").read_text())
    if args.tour:
        print(f"tinycrm tui on {meta['counts']['contacts']:,} contacts, terminal {args.size}")
        for name, kb in tour(args.db, meta, (width, height)):
            print(f"memory {name:<32} {kb / 1024:5.0f} MB")
        return
    t = measure(args.db, meta, args.runs, (width, height))
    print(f"tinycrm tui on {meta['counts']['contacts']:,} contacts, terminal {args.size}")
    print(f"first paint, Today      {ms(t.today)}")
    print(f"first paint, Contacts   {ms(t.contacts)}")
    print(f"search keystroke        {ms(t.keys)}   ({len(t.keys)} keys)")
    if args.each:
        print("  each key (ms):", " ".join(f"{k * 1000:.0f}" for k in t.keys))
    print(f"page down (scrolling)   {ms(t.scrolls)}   ({len(t.scrolls)} pages)")
    print(f"memory after paint      {t.painted_kb / 1024:7.0f} MB")
    print(f"memory after searching  {t.after_kb / 1024:7.0f} MB")
    print(
        f"memory after scrolling  {t.scrolled_kb / 1024:7.0f} MB   (all contacts:"
        f" {t.pages} page-downs in {t.scrolled_s:.0f} s)"
    )
    print(f"memory peak             {t.peak_kb / 1024:7.0f} MB")


def measure(db: Path, meta: dict[str, Any], runs: int, size: tuple[int, int]) -> TuiTimes:
    """The app in a real terminal (tmux) on a copy of the store `db`."""
    if shutil.which("tmux") is None:
        sys.exit("needs tmux")
    env = {
        "TINYCRM_NOW": meta["now"],
        "TINYCRM_TZ": "Europe/Berlin",
        "TINYCRM_USER": meta["user"],
        "TERM": "xterm-256color",
        "PATH": os.environ.get("PATH", ""),
    }
    if os.environ.get("PYTHONPATH"):  # to measure another checkout of the sources
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    # a session that outlives the measured ones keeps the tmux server up between runs
    keep = f"{SESSION}-keep"
    tmux("new-session", "-d", "-s", keep, "sleep 3600")
    try:
        return run_all(db, meta, env, runs, size)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", keep], capture_output=True)


def run_all(
    db: Path, meta: dict[str, Any], env: dict[str, str], runs: int, size: tuple[int, int]
) -> TuiTimes:
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "bench.db"
        shutil.copy(db, store)
        env["TINYCRM_HOME"] = str(Path(tmp) / "home")
        stop()
        first_paint(store, env, "today", size)  # warm the page cache
        today = [first_paint(store, env, "today", size) for _ in range(runs)]
        contacts = [first_paint(store, env, "contacts", size) for _ in range(runs)]
        start(store, env, "contacts", size)
        try:
            wait_for(lambda s: bool(CONTACTS_READY.search(s)))
            painted = rss_kb("VmRSS")
            time.sleep(1)  # keys typed while Textual still talks to the terminal can be lost
            keys, scrolls, after = typing(["koch", "wang", "王", meta["common_word"]])
            scrolled_s, pages = scroll_to_the_end(last_contact(store))
            scrolled, peak = rss_kb("VmRSS"), rss_kb("VmHWM")
        finally:
            stop()
    return TuiTimes(
        today, contacts, keys, scrolls, painted, after, scrolled, scrolled_s, pages, peak
    )


if __name__ == "__main__":
    main()
