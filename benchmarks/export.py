"""Time `tinycrm export ...` and `tinycrm forget` on the 100k-contact benchmark store, with
the peak memory of each run.

    python benchmarks/export.py [--db benchmarks/data/bench.db] [--runs 3]

Each export runs as its own process on a copy of the store (upgraded to the current schema
first, so no run pays for a migration), writing to a file with `--output`; the time is the
median wall time, the memory the largest peak resident set size (`ru_maxrss` of the child).
Exports stream a page of 1000 records at a time, so their memory should not grow with the
store. `forget` is timed once per run on a contact with notes, reminders and purchases
(each run on a fresh copy).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

TINYCRM = Path(sys.executable).parent / "tinycrm"
EXPORTS = [
    ("contacts", "csv"),
    ("contacts", "json"),
    ("contacts", "vcard"),
    ("interactions", "csv"),
    ("deals", "csv"),
    ("purchases", "csv"),
]


def copy_store(source: Path, target: Path) -> None:
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    from tinycrm.store.open import open_store

    open_store(str(target)).close()
    for backup in target.parent.glob("backups/*"):
        backup.unlink()


def run(args: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds, peak RSS in MiB) of one tinycrm process."""
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the child: exec tinycrm with its output to /dev/null
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.execve(str(TINYCRM), [str(TINYCRM), *args], env)
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"tinycrm {' '.join(args)} failed")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=Path("benchmarks/data/bench.db"))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    if not args.db.exists():
        raise SystemExit(f"no store at {args.db}: run `make bench-data` first")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        store = work / "store.db"
        copy_store(args.db, store)
        env = {
            **os.environ,
            "TINYCRM_DB": str(store),
            "TINYCRM_HOME": str(work / "home"),
            "TINYCRM_NOW": "2026-11-23T09:00:00+00:00",
            "TINYCRM_TZ": "UTC",
        }
        counts = {
            t: sqlite3.connect(store).execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("contacts", "interactions", "deals", "purchases")
        }
        print(f"store: {', '.join(f'{n:,} {t}' for t, n in counts.items())}")
        print(f"{'command':<34} {'wall s':>8} {'CPU s':>8} {'peak MiB':>9} {'file MiB':>9}")
        _, _, floor_mem = run(["--version"], env)
        print(f"{'tinycrm --version (the floor)':<34} {'':>8} {'':>8} {floor_mem:>9}")
        for kind, fmt in EXPORTS:
            out = work / f"{kind}.{fmt}"
            times, cpus, mems = [], [], []
            for _ in range(args.runs):
                t, c, m = run(["export", kind, "-f", fmt, "-o", str(out), "--force"], env)
                times.append(t)
                cpus.append(c)
                mems.append(m)
            size = out.stat().st_size / 2**20
            label = f"export {kind} -f {fmt}"
            print(
                f"{label:<34} {statistics.median(times):>8.2f} {statistics.median(cpus):>8.2f}"
                f" {max(mems):>9} {size:>9.1f}",
                flush=True,
            )
        times, cpus, mems = [], [], []
        for i in range(args.runs):
            fresh = work / f"forget{i}.db"
            copy_store(args.db, fresh)
            victim = (
                sqlite3.connect(fresh)
                .execute(
                    "SELECT contact_id FROM purchases GROUP BY contact_id"
                    " ORDER BY count(*) DESC LIMIT 1"
                )
                .fetchone()[0]
            )
            t, c, m = run(["forget", str(victim), "--yes"], {**env, "TINYCRM_DB": str(fresh)})
            times.append(t)
            cpus.append(c)
            mems.append(m)
            fresh.unlink()
        print(
            f"{'forget ID --yes':<34} {statistics.median(times):>8.2f}"
            f" {statistics.median(cpus):>8.2f} {max(mems):>9}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
