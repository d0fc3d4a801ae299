"""What the change journal costs: `import contacts` of N rows into a fresh store with the
journal's triggers and without them, and `undo` of that import, as whole processes.

    python benchmarks/journal.py [--rows 100000] [--seed 11] [--keep DIR]

The CSV is import_contacts.py's (Google-shaped, every 20th person a variant). "Without"
is the same store with the journal triggers dropped, which is what the import cost before
migration 0009. Prints seconds, the overhead, the journal's rows and bytes, and how long
the undo of the whole import takes.
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import import_contacts as bench  # noqa: E402


def drop_triggers(store: Path) -> None:
    conn = sqlite3.connect(store)
    try:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%_journal_%'"
            )
        ]
        for name in names:
            conn.execute(f"DROP TRIGGER {name}")
        conn.commit()
    finally:
        conn.close()


def journal_size(store: Path) -> tuple[int, int]:
    conn = sqlite3.connect(store)
    try:
        rows, size = conn.execute(
            "SELECT count(*), coalesce(sum(coalesce(length(old_row), 0)"
            " + coalesce(length(new_row), 0)), 0) FROM row_changes"
        ).fetchone()
        return int(rows), int(size)
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--keep", type=Path)
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="tinycrm-journal-"))
    work.mkdir(parents=True, exist_ok=True)
    people = work / "people.csv"
    bench.write_people(people, args.rows, args.seed)
    env = {
        "PATH": "/usr/bin:/bin",
        "TINYCRM_HOME": str(work / "home"),
        "TINYCRM_USER": "anna",
        "TINYCRM_NOW": "2026-11-23T09:00:00Z",
        "TINYCRM_TZ": "Europe/Berlin",
    }
    with_j, without_j = work / "with.db", work / "without.db"
    for store in (with_j, without_j):
        store.unlink(missing_ok=True)
        bench.upgrade(store)
    drop_triggers(without_j)
    plain, _ = bench.timed(without_j, [str(people)], env)
    journaled, summary = bench.timed(with_j, [str(people)], env)
    rows, size = journal_size(with_j)
    started = time.perf_counter()
    undone = subprocess.run(
        [str(bench.TINYCRM), "--db", str(with_j), "undo"], env=env, capture_output=True, text=True
    )
    undo_s = time.perf_counter() - started
    if undone.returncode != 0:
        raise SystemExit(f"undo failed: {undone.stderr.strip()}")
    print(f"rows imported: {summary['created']:,} contacts ({args.rows:,} lines)")
    print(f"import without the journal: {plain:.1f} s")
    print(f"import with the journal:    {journaled:.1f} s (+{(journaled / plain - 1) * 100:.0f}%)")
    print(f"journal: {rows:,} row images, {size / 2**20:.1f} MiB of JSON")
    print(f"undo of the whole import:   {undo_s:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
