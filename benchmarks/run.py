"""Time tinycrm's everyday commands on the benchmark store, as whole processes.

    python benchmarks/run.py [--db benchmarks/data/bench.db] [--runs 15]
                             [--write docs/benchmarks.md | --only NAME,NAME...]

Every command runs as its own process (what a user waits for), on a copy of the store made at
the start (the commands write to it; the source store stays untouched), with the clock frozen
at the store's "now" (TINYCRM_NOW), TINYCRM_TZ=Europe/Berlin and one of the generated users.
Standard output goes to /dev/null; the commands that print tables also run a second time
with a pseudo-terminal as standard output (where they draw rich tables). The commands are
interleaved round-robin, two warm-up rounds first, so machine noise spreads evenly; each is
reported as median and p90 and as a multiple of the floor, a bare `python -c "import sqlite3"`
on the same interpreter. Then search is timed in process, and the modules each command loads
are recorded. `--write` turns the results into docs/benchmarks.md. `--only "next,case list"`
times just those commands (and the floor, and their runs on a terminal) and prints their
tables, for a change that touches a few commands; nothing else runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import fcntl
import json
import os
import platform
import pty
import re
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Callable, Sequence, Sized
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

WARMUP = 2
DEFAULTS = {  # used when the store has no JSON sidecar (see generate.py)
    "now": "2026-11-23T09:00:00Z",
    "user": "anna",
    "common_word": "renewal",
    "rare_word": "escrow",
}
TIMEZONE = "Europe/Berlin"
NAME_PREFIX = "mar"  # Maria, Marco, Martin, Martínez, Marketing Manager ...
SEARCH_LIMIT = 50
IN_PROCESS_TARGETS_MS = {"contact": 20.0, "interaction": 150.0}
SIZE_BUDGET_MIB = 400
AGENDA_TARGET_MS = 25.0  # the SQL of `next` and `digest` (issue #4)
RANK_QUERY_TARGET_MS = 400.0  # the aggregation behind `rank` (issue #5)
TUI_TARGETS = {"paint_ms": 1000.0, "key_ms": 100.0, "rss_mb": 120.0}  # issue #6
IMPORT_ROWS = 500_000
IMPORT_TARGET_S = 60.0  # `import purchases` of IMPORT_ROWS rows (issue #5)
CONTACT_ROWS = 100_000
CONTACT_TARGET_S = 60.0  # `import contacts` of CONTACT_ROWS rows (issue #7)
PER_SECTION = 50  # items per digest section in text, Markdown, HTML and mail (digest_format)
# Modules a quick command should not need; the first five are the ones the issue names.
HEAVY_MODULES = (
    "sqlalchemy",
    "sqlmodel",
    "textual",
    "dateparser",
    "rich",
    "alembic",
    "pydantic",
    "rapidfuzz",
    "dateutil",
)
PROBE = """
import json, sys
from tinycrm.cli.entry import run
code = run(sys.argv[1:])
loaded = sorted(m for m in sys.modules if "." not in m)
sys.stderr.write(json.dumps({"code": code, "loaded": loaded}) + "\\n")
"""
TERMINAL_SIZE = (50, 120)  # rows, columns of the pseudo-terminal
# Commands that print tables: also timed with a terminal as standard output.
ON_TERMINAL = (
    "todo", "contact show", "search common", "search rare", "deal list", "next", "case list",
)  # fmt: skip


def tinycrm_argv() -> list[str]:
    """The installed console script next to this interpreter (what users run)."""
    script = Path(sys.executable).with_name("tinycrm")
    return [str(script)] if script.exists() else [sys.executable, "-m", "tinycrm"]


@dataclass
class Command:
    name: str  # short label, e.g. "note"
    shown: str  # the command line as a reader would type it
    args: Callable[[int], list[str]]  # run number -> tinycrm's arguments
    factor: float | None  # target: at most this many times the floor's median
    program: list[str] = field(default_factory=tinycrm_argv)
    terminal: bool = False  # standard output on a pseudo-terminal instead of /dev/null
    times_ms: list[float] = field(default_factory=list)

    def argv(self, run: int) -> list[str]:
        return [*self.program, *self.args(run)]

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p90(self) -> float:
        return statistics.quantiles(self.times_ms, n=10, method="inclusive")[-1]


@dataclass
class Probe:
    name: str
    target_ms: float | None  # None: reported, with no target of its own
    call: Callable[[], Sized]
    times_ms: list[float] = field(default_factory=list)
    found: int = 0


@dataclass
class Setup:
    source: Path
    store: Path  # the working copy
    meta: dict[str, Any]
    contact: str
    contact_facts: dict[str, int]
    done_ids: list[int]
    env: dict[str, str]
    purchase_ids: list[int] = field(default_factory=list)  # one to delete per run
    interaction_id: int = 0  # the busiest contact's latest note, corrected each run
    buyer: str = ""  # `recommend`'s REF: the customer who bought the most products


# -- preparing --------------------------------------------------------------------------------
def copy_store(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's backup API (safe even with a -wal file around).
    The source is only read; a read-write connection lets SQLite tidy its -wal and -shm
    files away on closing, which a read-only one leaves behind."""
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def pick_contact(conn: sqlite3.Connection) -> tuple[str, dict[str, int]]:
    """The busiest contact whose full name is unique (so the name alone resolves to it)."""
    row = conn.execute(
        "SELECT c.id, c.name FROM contacts c"
        " JOIN (SELECT name_key FROM contacts GROUP BY name_key HAVING count(*) = 1) u"
        "   ON u.name_key = c.name_key"
        " WHERE NOT EXISTS (SELECT 1 FROM companies co WHERE co.name_key = c.name_key)"
        "   AND NOT EXISTS (SELECT 1 FROM deals d WHERE d.title_key = c.name_key)"
        " ORDER BY (SELECT count(*) FROM interactions i WHERE i.contact_id = c.id) DESC, c.id"
        " LIMIT 1"
    ).fetchone()
    if row is None:
        raise SystemExit("the store has no contact with a unique name to benchmark with")
    contact_id, name = row
    facts = {
        label: conn.execute(
            f"SELECT count(*) FROM {table} WHERE {col} = ?", (contact_id,)
        ).fetchone()[0]
        for label, table, col in (
            ("interactions", "interactions", "contact_id"),
            ("purchases", "purchases", "contact_id"),
            ("deals", "deals", "contact_id"),
            ("reminders", "reminders", "contact_id"),
        )
    }
    return name, facts


def prepare(source: Path, workdir: Path, needed_ids: int) -> Setup:
    sidecar = source.with_suffix(".json")
    meta = {**DEFAULTS, **(json.loads(sidecar.read_text()) if sidecar.exists() else {})}
    store = workdir / source.name
    started = time.perf_counter()
    copy_store(source, store)
    print(f"copied {source} to {store} in {time.perf_counter() - started:.1f} s", flush=True)
    conn = sqlite3.connect(store)
    try:
        contact, facts = pick_contact(conn)
        done_ids = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM reminders WHERE done_at IS NULL AND rrule IS NULL"
                " ORDER BY due_at, id LIMIT ?",
                (needed_ids,),
            )
        ]
        purchase_ids = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM purchases ORDER BY id DESC LIMIT ?", (needed_ids,)
            )
        ]
        (interaction_id,) = conn.execute(
            "SELECT i.id FROM interactions i JOIN contacts c ON c.id = i.contact_id"
            " WHERE c.name = ? ORDER BY i.happened_at DESC, i.id DESC LIMIT 1",
            (contact,),
        ).fetchone()
        # the most products bought: the most co-occurrence for `recommend` to add up
        bought = conn.execute(
            "SELECT contact_id FROM purchases WHERE product_id IS NOT NULL GROUP BY contact_id"
            " ORDER BY count(DISTINCT product_id) DESC, contact_id LIMIT 1"
        ).fetchone()
    finally:
        conn.close()
    if len(done_ids) < needed_ids:
        raise SystemExit(f"the store has {len(done_ids)} open reminders; {needed_ids} needed")
    if len(purchase_ids) < needed_ids:
        raise SystemExit(f"the store has {len(purchase_ids)} purchases; {needed_ids} needed")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TINYCRM_")}
    env.update(
        TINYCRM_DB=str(store),
        TINYCRM_HOME=str(workdir / "home"),  # no personal settings file gets in the way
        TINYCRM_NOW=meta["now"],
        TINYCRM_TZ=TIMEZONE,
        TINYCRM_USER=meta["user"],
    )
    buyer = f"contact:{bought[0]}" if bought else contact
    return Setup(
        source, store, meta, contact, facts, done_ids, env, purchase_ids, interaction_id, buyer
    )


def unique_name(i: int) -> str:
    """A name unlike any other run's (or the store's), so `contact add` adds it."""
    letters = "bcdfghjklmnpqrstvwxz"
    n, word = 1_000_003 * (i + 7) % 9_999_991, ""
    while n:
        n, r = divmod(n, len(letters))
        word += letters[r]
    return f"{word[:4].title()} {word[4:].title()}x"


def fixed(args: list[str]) -> Callable[[int], list[str]]:
    return lambda _run: args


def commands(setup: Setup) -> list[Command]:
    """The floor first, then the commands with their targets (multiples of the floor)."""
    who, common, rare = setup.contact, setup.meta["common_word"], setup.meta["rare_word"]
    note, todo = "called about the renewal", "send the contract"
    floor = [sys.executable, "-c", "import sqlite3"]
    base = [
        Command("floor", 'python -c "import sqlite3"', fixed([]), None, program=floor),
        Command("--help", "tinycrm --help", fixed(["--help"]), 15),
        Command("note", f'tinycrm note "{who}" "{note}"', fixed(["note", who, note]), 12),
        Command(
            "remind", f'tinycrm remind "{who}" 3d "{todo}"', fixed(["remind", who, "3d", todo]), 12
        ),
        Command(
            "done",
            "tinycrm done ID (a different open reminder each run)",
            lambda i: ["done", str(setup.done_ids[i])],
            12,
        ),
        Command("todo", "tinycrm todo", fixed(["todo"]), 12),
        Command(
            "interaction edit",
            "tinycrm interaction edit ID --text TEXT (the contact's latest note)",
            lambda i: ["interaction", "edit", str(setup.interaction_id), "--text", f"{note} ({i})"],
            12,
        ),
        Command(
            "purchase rm",
            "tinycrm purchase rm ID --yes (a different purchase each run)",
            lambda i: ["purchase", "rm", str(setup.purchase_ids[i]), "--yes"],
            12,
        ),
        Command(
            "contact query",
            f"tinycrm contact query {who.split()[0]} (mutt's query_command)",
            fixed(["contact", "query", who.split()[0]]),
            12,
        ),
        Command(
            "complete contact",
            f'tab after "tinycrm note {who[:4]}" (tinycrm __complete bash ...)',
            fixed(["__complete", "bash", f"tinycrm note {who[:4]}", who[:4]]),
            12,
        ),
        Command(
            "contact add",
            'tinycrm contact add "NEW NAME" -e new@example.org (checked for duplicates)',
            lambda i: ["contact", "add", unique_name(i), "-e", f"bench{i}@example.org"],
            30,
        ),
        Command(
            "undo",
            "tinycrm undo (the round's contact add, the user's last change)",
            fixed(["undo"]),
            12,
        ),
        Command("history", f'tinycrm history "{who}"', fixed(["history", who]), 30),
        Command(
            "contact show", f'tinycrm contact show "{who}"', fixed(["contact", "show", who]), 30
        ),
        Command("search common", f"tinycrm search {common}", fixed(["search", common]), 30),
        Command("search rare", f"tinycrm search {rare}", fixed(["search", rare]), 30),
        Command("deal list", "tinycrm deal list", fixed(["deal", "list"]), 30),
        Command("next", "tinycrm next", fixed(["next"]), 30),
        Command("digest", "tinycrm digest", fixed(["digest"]), 30),
        Command("digest json", "tinycrm digest --format json", fixed(["digest", "-f", "json"]), 30),
        Command("digest team", "tinycrm digest --team", fixed(["digest", "--team"]), 30),
        Command("case list", "tinycrm case list --open", fixed(["case", "list", "--open"]), 30),
        Command(
            "case list escalated",
            "tinycrm case list --escalated (the cases escalated to you)",
            fixed(["case", "list", "--escalated"]),
            30,
        ),
        Command("rank", "tinycrm rank --top 20", fixed(["rank", "--top", "20"]), 60),
        Command(
            "rank company",
            "tinycrm rank --level company --by clv --top 20",
            fixed(["rank", "--level", "company", "--by", "clv", "--top", "20"]),
            60,
        ),
        *(
            Command(f"report {r}", f"tinycrm report {r}", fixed(["report", r]), 60)
            for r in (
                "customers",
                "pipeline",
                "team",
                "sources",
                "revenue",
                "retention",
                "products",
            )
        ),
        # the case commands' target (issue #20): 30x, like next and digest
        Command("report service", "tinycrm report service", fixed(["report", "service"]), 30),
        Command(
            "report forecast",
            "tinycrm report forecast --team",
            fixed(["report", "forecast", "--team"]),
            60,
        ),
        Command(
            "recommend",
            f"tinycrm recommend {setup.buyer} (the customer who bought the most products)",
            fixed(["recommend", setup.buyer]),
            60,
        ),
    ]
    on_terminal = [
        dataclasses.replace(c, terminal=True, times_ms=[]) for c in base if c.name in ON_TERMINAL
    ]
    return base + on_terminal


# -- measuring --------------------------------------------------------------------------------
def execute(argv: list[str], env: dict[str, str], terminal: bool) -> tuple[float, str]:
    """Run one process; returns its wall time in ms and its standard error. Standard output
    goes to /dev/null, or to a pseudo-terminal that a thread keeps reading (as a terminal
    emulator would, so a long table never blocks on a full buffer)."""
    if not terminal:
        started = time.perf_counter_ns()
        done = subprocess.run(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env=env,
        )  # fmt: skip
        elapsed_ms = (time.perf_counter_ns() - started) / 1e6
    else:
        leader, follower = pty.openpty()
        rows, cols = TERMINAL_SIZE
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        reader = threading.Thread(target=drain, args=(leader,))
        reader.start()
        started = time.perf_counter_ns()
        done = subprocess.run(
            argv, stdin=subprocess.DEVNULL, stdout=follower, stderr=subprocess.PIPE,
            env={**env, "TERM": "xterm-256color"},
        )  # fmt: skip
        elapsed_ms = (time.perf_counter_ns() - started) / 1e6
        os.close(follower)
        reader.join()
        os.close(leader)
    stderr = done.stderr.decode(errors="replace")
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed (exit {done.returncode}):\n{stderr}")
    return elapsed_ms, stderr


def drain(fd: int) -> None:
    while True:
        try:
            if not os.read(fd, 1 << 16):
                return
        except OSError:  # the other side closed: Linux reports EIO
            return


def time_processes(cmds: list[Command], env: dict[str, str], runs: int) -> None:
    """Round-robin: every round runs each command once, starting one further along the list."""
    for round_no in range(WARMUP + runs):
        shift = round_no % len(cmds)
        for cmd in cmds[shift:] + cmds[:shift]:
            elapsed_ms, _ = execute(cmd.argv(round_no), env, cmd.terminal)
            if round_no >= WARMUP:
                cmd.times_ms.append(elapsed_ms)
        label = "warm-up" if round_no < WARMUP else "round"
        number = round_no + 1 if round_no < WARMUP else round_no - WARMUP + 1
        print(f"  {label} {number} done", flush=True)


def time_in_process(setup: Setup, runs: int) -> list[Probe]:
    """Search timed inside one process, on an open store (no start-up cost)."""
    from zoneinfo import ZoneInfo

    from tinycrm.services import agenda
    from tinycrm.services.context import Ctx
    from tinycrm.services.digest import build_digest
    from tinycrm.services.next_actions import next_actions
    from tinycrm.services.search import matching_ids, search
    from tinycrm.services.value import customers, rank
    from tinycrm.store.open import open_store

    db = open_store(str(setup.store), create=False)
    now = datetime.fromisoformat(setup.meta["now"].replace("Z", "+00:00"))
    from tinycrm.services.users import sign_in

    user = setup.meta["user"]
    ctx = Ctx(
        db=db, user_name=user, now=now, tz=ZoneInfo(TIMEZONE), _user_id=sign_in(db, user, now)
    )
    scope = agenda.scope_for(ctx, setup.meta["user"])
    today = now.astimezone(ctx.tz).date()
    common, rare = setup.meta["common_word"], setup.meta["rare_word"]
    contact_ms, note_ms = IN_PROCESS_TARGETS_MS["contact"], IN_PROCESS_TARGETS_MS["interaction"]
    probes = [
        Probe(f"contacts, name prefix '{NAME_PREFIX}': matching_ids", contact_ms,
              lambda: matching_ids(db, "contact", NAME_PREFIX, SEARCH_LIMIT)),
        Probe(f"contacts, name prefix '{NAME_PREFIX}': search()", contact_ms,
              lambda: search(db, NAME_PREFIX, kinds=("contact",), limit=SEARCH_LIMIT)),
        Probe(f"notes, common word '{common}': matching_ids", note_ms,
              lambda: matching_ids(db, "interaction", common, SEARCH_LIMIT)),
        Probe(f"notes, common word '{common}': search()", note_ms,
              lambda: search(db, common, kinds=("interaction",), limit=SEARCH_LIMIT)),
        Probe(f"notes, rare word '{rare}': search()", note_ms,
              lambda: search(db, rare, kinds=("interaction",), limit=SEARCH_LIMIT)),
        Probe(f"next: next_actions() for {scope.user_name}", AGENDA_TARGET_MS,
              lambda: next_actions(ctx, scope)),
        Probe(f"digest: build_digest() for {scope.user_name}, as printed and mailed",
              AGENDA_TARGET_MS,
              lambda: digest_items(build_digest(ctx, scope, today, per_section=PER_SECTION))),
        Probe(f"digest: build_digest() for {scope.user_name}, every item (--format json)", None,
              lambda: digest_items(build_digest(ctx, scope, today))),
        Probe("rank: the per-customer aggregation query (customers())", RANK_QUERY_TARGET_MS,
              lambda: customers(ctx, level="contact", as_of=today, since=None)),
        Probe("rank: rank() top 20, query and scoring", None,
              lambda: rank(ctx, top=20).customers),
    ]  # fmt: skip
    try:
        for probe in probes:
            for run_no in range(WARMUP + runs):
                started = time.perf_counter_ns()
                result = probe.call()
                elapsed_ms = (time.perf_counter_ns() - started) / 1e6
                if run_no >= WARMUP:
                    probe.times_ms.append(elapsed_ms)
            probe.found = len(result)
    finally:
        db.close()
    return probes


def digest_items(d: Any) -> list[Any]:
    from tinycrm.services.digest import SECTIONS

    return [item for section in SECTIONS for item in getattr(d, section)]


def module_loads(cmds: list[Command], env: dict[str, str], spare_run: int) -> list[list[str]]:
    """Which heavy modules each command has imported by the time it finishes: per command,
    its label and then the modules."""
    loaded: list[list[str]] = []
    for cmd in cmds:
        if cmd.factor is None:  # the floor
            continue
        if cmd.name in ("done", "purchase rm", "contact add"):
            args = cmd.args(spare_run)  # a run number no timed run used: a record of its own
        else:
            args = cmd.args(0)
        _, stderr = execute([sys.executable, "-c", PROBE, *args], env, cmd.terminal)
        report = json.loads(stderr.strip().splitlines()[-1])
        if report["code"] != 0:
            raise SystemExit(f"probe of {cmd.shown} failed:\n{stderr}")
        loaded.append([label(cmd), *(m for m in HEAVY_MODULES if m in report["loaded"])])
    return loaded


def label(cmd: Command) -> str:
    return f"`{cmd.shown}`" + (" on a terminal" if cmd.terminal else "")


def import_profile(env: dict[str, str], argv: Sequence[str], top: int = 8) -> list[tuple[str, int]]:
    """The slowest top-level imports (cumulative microseconds) of one command, from
    `python -X importtime`."""
    script = f"from tinycrm.cli.entry import run; run({list(argv)!r})"
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", script],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    rows = []
    for line in out.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\s*)(\S+)", line)
        if m and not m.group(2):  # not indented: imported by the command itself
            rows.append((m.group(3), int(m.group(1))))
    return sorted(rows, key=lambda r: -r[1])[:top]


def time_bulk_import(setup: Setup, workdir: Path) -> list[list[object]]:
    """Each import file once into a fresh copy of the source store (see import_purchases)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import import_purchases as bench

    work = workdir / "bulk"
    work.mkdir()
    base = work / "base.db"
    bench.copy_store(setup.source, base)
    bench.upgrade(base)
    today = datetime.fromisoformat(setup.meta["now"].replace("Z", "+00:00")).date()
    data = bench.rows(bench.refs(base), IMPORT_ROWS, today, seed=7)
    files = {"plain.csv": bench.write_plain, "german.csv": bench.write_german}
    for name, write in files.items():
        write(work / name, data)
    env = {**setup.env, "TINYCRM_HOME": str(work / "home")}
    env.pop("TINYCRM_DB", None)
    out: list[list[object]] = []
    for name in files:
        store = work / f"{Path(name).stem}.db"
        bench.copy_store(base, store)
        for label in [name, f"{name} again"] if name == "plain.csv" else [name]:
            seconds, summary = bench.timed_import(store, work / name, env)
            verdict = "PASS" if seconds < IMPORT_TARGET_S else "FAIL"
            out.append([
                f"`{label}`", f"{seconds:.1f}", f"{IMPORT_ROWS / seconds:,.0f}",
                f"{summary['imported']:,}", f"{summary['duplicates']:,}",
                f"< {IMPORT_TARGET_S:g} s", verdict,
            ])  # fmt: skip
        store.unlink()
    return out


def time_contact_import(setup: Setup, workdir: Path) -> list[list[object]]:
    """A Google-shaped contacts CSV (see import_contacts) into a fresh store, then into a
    copy of the benchmark store: a dry run, and a merge of every duplicate."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import import_contacts as bench

    work = workdir / "contacts"
    work.mkdir()
    people = work / "people.csv"
    bench.write_people(people, CONTACT_ROWS, 11)
    env = {**setup.env, "TINYCRM_HOME": str(work / "home")}
    env.pop("TINYCRM_DB", None)
    fresh, copy = work / "fresh.db", work / "bench.db"
    bench.upgrade(fresh)
    bench.copy_store(setup.source, copy)
    bench.upgrade(copy)
    out: list[list[object]] = []
    for label, store, extra in (
        ("into a fresh store", fresh, []),
        ("into the 100k store, dry run", copy, ["--dry-run"]),
        ("into the 100k store, merging duplicates", copy, ["--on-duplicate", "merge"]),
    ):
        seconds, summary = bench.timed(store, [str(people), *extra], env)
        verdict = "PASS" if seconds < CONTACT_TARGET_S else "FAIL"
        out.append([
            label, f"{seconds:.1f}", f"{CONTACT_ROWS / seconds:,.0f}",
            f"{summary['created']:,}", f"{summary['merged']:,}", f"{summary['skipped']:,}",
            f"< {CONTACT_TARGET_S:g} s", verdict,
        ])  # fmt: skip
    return out


def time_tui(setup: Setup) -> list[list[object]]:
    """The full-screen app in tmux at 200x60 and 80x24 (see benchmarks/tui.py)."""
    import shutil

    if shutil.which("tmux") is None:
        return [["(tmux is not installed: not measured)", "", "", "", "", ""]]
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import tui as bench

    def row(what: str, values_ms: list[float], target: float) -> list[object]:
        med = statistics.median(values_ms)
        p90 = statistics.quantiles(values_ms, n=10, method="inclusive")[-1]
        verdict = "PASS" if med <= target else "FAIL"
        return [what, f"{med:.0f}", f"{p90:.0f}", f"≤ {target:g} ms", verdict]

    rows: list[list[object]] = []
    for size in ((200, 60), (80, 24)):
        t = bench.measure(setup.source, setup.meta, 5, size)
        label = f"{size[0]}×{size[1]}"
        paint = TUI_TARGETS["paint_ms"]
        rows += [
            [label, *row("first paint, Today", [x * 1000 for x in t.today], paint)],
            [label, *row("first paint, Contacts", [x * 1000 for x in t.contacts], paint)],
            [label, *row("search keystroke", [x * 1000 for x in t.keys], TUI_TARGETS["key_ms"])],
            [label, *row("page down", [x * 1000 for x in t.scrolls], TUI_TARGETS["key_ms"])],
        ]
        peak = t.peak_kb / 1024
        verdict = "PASS" if peak <= TUI_TARGETS["rss_mb"] else "FAIL"
        rows.append([
            label, "memory: after paint / after searching / peak (MB)",
            f"{t.painted_kb / 1024:.0f} / {t.after_kb / 1024:.0f}", f"{peak:.0f}",
            f"≤ {TUI_TARGETS['rss_mb']:g} MB", verdict,
        ])  # fmt: skip
        scrolled = t.scrolled_kb / 1024
        verdict = "PASS" if scrolled <= TUI_TARGETS["rss_mb"] else "FAIL"
        rows.append([
            label, f"memory at the last contact ({t.pages:,} page-downs, {t.scrolled_s:.0f} s)",
            f"{scrolled:.0f}", "", f"≤ {TUI_TARGETS['rss_mb']:g} MB", verdict,
        ])  # fmt: skip
        steps = dict(bench.tour(setup.source, setup.meta, size))
        peak = steps["peak"] / 1024
        verdict = "PASS" if peak <= TUI_TARGETS["rss_mb"] else "FAIL"
        rows.append([
            label, "memory, a tour of every screen (tui.py --tour): Contacts / Rankings (MB)",
            f"{steps['Contacts'] / 1024:.0f} / {steps['Rankings'] / 1024:.0f}", f"{peak:.0f}",
            f"≤ {TUI_TARGETS['rss_mb']:g} MB", verdict,
        ])  # fmt: skip
    return rows


# -- reporting --------------------------------------------------------------------------------
def table(header: Sequence[str], rows: Sequence[Sequence[object]], right: int = 1) -> str:
    """A Markdown table; columns from `right` on are right-aligned."""
    align = ["---" if i < right else "---:" for i in range(len(header))]
    lines = [header, align, *[[str(c) for c in r] for r in rows]]
    return "\n".join("| " + " | ".join(str(c) for c in line) + " |" for line in lines)


def command_rows(cmds: list[Command], floor: float) -> tuple[list[list[object]], bool]:
    rows: list[list[object]] = []
    all_pass = True
    for cmd in cmds:
        ratio = cmd.median / floor
        if cmd.factor is None:
            verdict, target = "", "(floor)"
        else:
            ok = ratio <= cmd.factor
            all_pass &= ok
            verdict = "PASS" if ok else "FAIL"
            target = f"≤ {cmd.factor:g}× ({cmd.factor * floor:.0f} ms)"
        rows.append(
            [
                label(cmd) if cmd.terminal else f"`{cmd.shown}`",
                f"{cmd.median:.0f}",
                f"{cmd.p90:.0f}",
                f"{ratio:.1f}×",
                target,
                verdict,
            ]
        )
    return rows, all_pass


def probe_rows(probes: list[Probe]) -> list[list[object]]:
    rows: list[list[object]] = []
    for p in probes:
        med = statistics.median(p.times_ms)
        p90 = statistics.quantiles(p.times_ms, n=10, method="inclusive")[-1]
        if p.target_ms is None:
            rows.append([p.name, p.found, f"{med:.1f}", f"{p90:.1f}", "—", "reported"])
            continue
        verdict = "PASS" if med <= p.target_ms else "FAIL"
        rows.append([p.name, p.found, f"{med:.1f}", f"{p90:.1f}", f"≤ {p.target_ms:g}", verdict])
    return rows


def machine() -> dict[str, str]:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return {
        "cpus": nproc or str(os.cpu_count()),
        "cpu": cpu,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git_describe(),
    }


def git_describe() -> str:
    here = Path(__file__).resolve().parent
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=here, capture_output=True, text=True
    )
    if head.returncode != 0:
        return "unknown"
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "src"],
        cwd=here.parent,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return head.stdout.strip() + (" with uncommitted changes in src/" if dirty else "")


def report(
    setup: Setup,
    cmds: list[Command],
    probes: list[Probe],
    loads: list[list[str]],
    imports: list[tuple[str, int]],
    runs: int,
    bulk: list[list[object]],
    tui: list[list[object]],
    contacts: list[list[object]],
) -> str:
    box = machine()
    meta = setup.meta
    counts: dict[str, int] = meta.get("counts", {})
    size = meta.get("size_bytes") or setup.source.stat().st_size
    floor = cmds[0].median
    cmd_rows, all_pass = command_rows([c for c in cmds if not c.terminal], floor)
    tty_rows, tty_pass = command_rows([c for c in cmds if c.terminal], floor)
    scale = meta.get("scale")
    if scale == 1.0:
        budget = "PASS" if size <= SIZE_BUDGET_MIB * 2**20 else "FAIL"
    else:
        budget = f"applies at scale 1.0, not checked at scale {scale}"
    facts = ", ".join(f"{n} {k}" for k, n in setup.contact_facts.items())
    load_rows = [
        [name, *("yes" if m in mods else "-" for m in HEAVY_MODULES)] for name, *mods in loads
    ]
    parts = [
        "# Benchmarks",
        "Generated by `benchmarks/run.py` from its measurements; rerun it rather than editing "
        "this page.",
        f"Measured {box['date']} on {box['cpus']} CPUs ({box['cpu']}), {box['os']}, "
        f"Python {box['python']}, SQLite {box['sqlite']}; tinycrm {box['commit']}.",
        "## Reproduce",
        "```sh\n"
        "make bench-data   # benchmarks/generate.py: builds benchmarks/data/bench.db\n"
        "make bench        # benchmarks/run.py: prints these tables\n"
        ".venv/bin/python benchmarks/run.py --write docs/benchmarks.md   # rewrites this page\n"
        "```",
        f"The store is generated from seed {meta.get('seed', '?')} with every date anchored on "
        f"a fixed now, {meta['now']} (TINYCRM_NOW); commands run with "
        f"TINYCRM_TZ={TIMEZONE} and TINYCRM_USER={meta['user']}, on a copy of the store.",
        "## The store",
        f"{size / 2**20:.1f} MiB at scale {meta.get('scale', '?')}, generated in "
        f"{meta.get('generate_seconds', '?')} s. Size budget ≤ {SIZE_BUDGET_MIB} MiB at scale "
        f"1.0: {budget}.",
        table(["rows", "count"], [[k.replace("_", " "), f"{n:,}"] for k, n in counts.items()]),
        f'Commands that name a contact use "{setup.contact}", the busiest contact with a '
        f"unique name ({facts}).",
        "## Commands, as whole processes",
        f"Wall time of each command as its own process, in ms: median and p90 of {runs} "
        f"interleaved runs after {WARMUP} warm-up rounds. The ratio is the median over the "
        "floor's median; the targets are the issue's. Standard output goes to /dev/null, so "
        "list commands print plain tab-separated lines; the next table has them on a terminal, "
        "where they draw rich tables.",
        table(["command", "median ms", "p90 ms", "ratio", "target", "result"], cmd_rows),
        f"All commands within target: {'yes' if all_pass else 'no'}.",
        "### The same commands on a terminal",
        "Commands that print a table, with standard output on a pseudo-terminal "
        f"({TERMINAL_SIZE[1]}×{TERMINAL_SIZE[0]}, TERM=xterm-256color) that is read as fast as "
        "they write, as a terminal emulator would; same rounds, same floor, same targets.",
        table(["command", "median ms", "p90 ms", "ratio", "target", "result"], tty_rows),
        f"All within target on a terminal: {'yes' if tty_pass else 'no'}.",
        "## Search, next, digest and rank, in process",
        f"The services on an open store (no process start-up), median and p90 of {runs} runs "
        f"after {WARMUP} warm-ups. Search takes the top {SEARCH_LIMIT}: `matching_ids` is the "
        "full-text query alone, `search()` also loads the rows shown. `next_actions()` and "
        "`build_digest()` run every query of `tinycrm next` and `tinycrm digest` and build "
        f"their items (hits = items). The digest as printed and mailed holds the first "
        f"{PER_SECTION} items of each section and counts the rest; `--format json` holds "
        "every item, so it grows with the backlog and has no target of its own (the JSON "
        "digest as a whole process is in the first table). `customers()` is `rank`'s one "
        "query (every customer's purchases summed, rows back in Python); `rank()` adds the "
        "scoring and sorting.",
        table(["query", "hits", "median ms", "p90 ms", "target ms", "result"], probe_rows(probes)),
        f"## Bulk import: {IMPORT_ROWS:,} purchases",
        "`tinycrm import purchases` as its own process on a fresh copy of the store, once per "
        "file (benchmarks/import_purchases.py): contacts named by id, email or name in about "
        "equal parts, 10% in USD, over three years. `plain.csv` is `,`-separated with ISO "
        "dates; `german.csv` has a BOM, CRLF, `;`, `31.01.2026` and `1.234,50`. The second "
        "run of `plain.csv` finds every row already stored and skips it.",
        table(["run", "seconds", "rows/s", "imported", "duplicates", "target", "result"], bulk),
        f"## Bulk import: {CONTACT_ROWS:,} contacts",
        "`tinycrm import contacts` as its own process (benchmarks/import_contacts.py): a CSV "
        "in Google Contacts' shape (first/middle/last name, organization and title, two "
        "labelled emails and a phone, an address in parts, labels as tags, notes, some over "
        "two lines), every 20th person a re-spelled duplicate of an earlier one (another "
        "spelling of the email, the number in national form, the words of the name "
        "reordered). Into an empty store, then into a copy of the benchmark store, where "
        "every email, phone and name is also looked up among 100,000 stored contacts.",
        table(
            ["run", "seconds", "rows/s", "created", "merged", "skipped", "target", "result"],
            contacts,
        ),
        "## The full-screen app",
        "`tinycrm tui` in a real terminal (tmux), as its own process on a copy of the store "
        "(benchmarks/tui.py): first paint is from process start to the first screenful; a "
        "search keystroke is from the key to the list showing its matches (the words `koch`, "
        "`wang`, `王` and the common note word, typed one key at a time); page down is a "
        "screenful of further contacts. Times include tmux's own lag. Median and p90 of 5 "
        "starts, or of every key.",
        table(["terminal", "what", "median", "p90", "target", "result"], tui, right=2),
        "## Modules loaded",
        "Heavy modules in `sys.modules` once the command has run (through "
        "`tinycrm.cli.entry.run`, the console script's code path).",
        table(["command", *HEAVY_MODULES], load_rows, right=len(HEAVY_MODULES) + 1),
        "Slowest top-level imports of `tinycrm todo` (`python -X importtime`, cumulative):",
        table(["module", "ms"], [[f"`{name}`", f"{us / 1000:.1f}"] for name, us in imports]),
    ]
    return "\n\n".join(parts) + "\n"


# Figures from the scripts run.py does not run (dedupe, exports, doctor, record imports) are
# written below this line by hand, with their date; rewriting the page keeps them.
KEEP_MARKER = "<!-- measured by the other scripts in benchmarks/: run.py keeps what follows -->"


def kept_part(page: Path) -> str:
    """The hand-written end of an existing page, from KEEP_MARKER on ('' if none)."""
    if not page.exists():
        return ""
    text = page.read_text(encoding="utf-8")
    at = text.find(KEEP_MARKER)
    return "\n" + text[at:] if at >= 0 else ""


def time_only(cmds: list[Command], setup: Setup, only: str, runs: int) -> int:
    """Time the floor and the named commands; print their two tables."""
    names = {n.strip() for n in only.split(",") if n.strip()}
    unknown = names - {c.name for c in cmds}
    if unknown:
        raise SystemExit(f"no command named {', '.join(sorted(unknown))}")
    chosen = [cmds[0], *(c for c in cmds[1:] if c.name in names)]
    print(f"timing {len(chosen)} commands x {WARMUP}+{runs} rounds", flush=True)
    time_processes(chosen, setup.env, runs)
    floor = chosen[0].median
    header = ["command", "median ms", "p90 ms", "ratio", "target", "result"]
    plain, _ = command_rows([c for c in chosen if not c.terminal], floor)
    tty, _ = command_rows([c for c in chosen if c.terminal], floor)
    print(table(header, plain))
    if tty:
        print()
        print(table(header, tty))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=Path("benchmarks/data/bench.db"))
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--write", type=Path, help="write the report there (Markdown)")
    parser.add_argument("--only", help="time only these commands (names, comma separated)")
    args = parser.parse_args(argv)
    if args.only and args.write:
        parser.error("--only times a few commands; --write needs them all")
    if args.runs < 15:
        parser.error("--runs must be at least 15")
    if not args.db.exists():
        parser.error(f"no store at {args.db}; build it with: make bench-data")
    with tempfile.TemporaryDirectory(prefix="tinycrm-bench-") as tmp:
        setup = prepare(args.db, Path(tmp), WARMUP + args.runs + 1)
        cmds = commands(setup)
        if args.only:
            return time_only(cmds, setup, args.only, args.runs)
        print(f"timing {len(cmds)} commands x {WARMUP}+{args.runs} rounds", flush=True)
        time_processes(cmds, setup.env, args.runs)
        print("timing search in process", flush=True)
        probes = time_in_process(setup, args.runs)
        print("recording module loads", flush=True)
        loads = module_loads(cmds, setup.env, len(setup.done_ids) - 1)
        imports = import_profile(setup.env, ["todo"])
        print(f"timing the import of {IMPORT_ROWS:,} purchases", flush=True)
        bulk = time_bulk_import(setup, Path(tmp))
        print(f"timing the import of {CONTACT_ROWS:,} contacts", flush=True)
        contacts = time_contact_import(setup, Path(tmp))
        print("timing the full-screen app", flush=True)
        tui = time_tui(setup)
        text = report(setup, cmds, probes, loads, imports, args.runs, bulk, tui, contacts)
    print()
    print(text)
    if args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(text + kept_part(args.write))
        print(f"wrote {args.write}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
