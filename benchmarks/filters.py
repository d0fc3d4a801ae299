"""Time `--where` filters on the 100k-contact benchmark store: in process (compile, the
first page of `contact list`, and the count its footer shows) and as whole processes.

    python benchmarks/filters.py [--db benchmarks/data/bench.db] [--runs 7]

On a copy of the store upgraded to the current schema. In process: median and p90 of
`runs` runs after one warm-up, for the compiled filter alone, `list_contacts(where=…,
limit=100)` (a screenful and more, what `contact list` prints) and `count_contacts`.
Whole process: `tinycrm contact list --where … --limit 100` with its output to /dev/null.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from export import copy_store  # noqa: E402  (the sibling script's store copy)

TINYCRM = Path(sys.executable).parent / "tinycrm"
NOW = "2026-11-23T09:00:00+00:00"
CONTACTS = [
    "tag:vip",
    'created>"last month"',
    "company:gmbh",
    "owner:anna and not tag:vip",
    "spent>1000",
    "last-contact<2026-06-01 and orders>=3",
    "email:example.org or phone:030",
    "(tag:vip or tag:key-account) and last-purchase>2026-09-01",
]
DEALS = ["stage:Proposal value>=10000", "close<2027-03-01 and owner:anna", "tag:vip"]


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float, object]:
    fn()
    times = []
    result: object = None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.9))], result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=Path("benchmarks/data/bench.db"))
    parser.add_argument("--runs", type=int, default=7)
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
            "TINYCRM_NOW": NOW,
            "TINYCRM_TZ": "Europe/Berlin",
            "TINYCRM_USER": "anna",
        }
        os.environ.update(env)
        from tinycrm.services import contacts, deals
        from tinycrm.services.filters import compile_filter
        from tinycrm.startup import open_ctx

        ctx = open_ctx()
        print(f"{'in process, contacts':<58} {'rows':>7} {'ms':>7} {'p90':>7}")
        for text in CONTACTS:
            compiled = compile_filter(ctx, "contacts", text)
            c_ms, _, _ = timed(lambda t=text: compile_filter(ctx, "contacts", t), args.runs)
            l_ms, l_p90, _ = timed(
                lambda f=compiled: contacts.list_contacts(ctx.db, where=f, limit=100), args.runs
            )
            n_ms, n_p90, n = timed(
                lambda f=compiled: contacts.count_contacts(ctx.db, where=f), args.runs
            )
            print(f"  {text:<56} {'':>7}")
            print(f"    {'compile':<54} {'':>7} {c_ms:>7.1f}")
            print(f"    {'list_contacts, first 100':<54} {'':>7} {l_ms:>7.1f} {l_p90:>7.1f}")
            print(f"    {'count_contacts':<54} {n:>7,} {n_ms:>7.1f} {n_p90:>7.1f}", flush=True)
        print(f"{'in process, deals (every status)':<58} {'rows':>7} {'ms':>7} {'p90':>7}")
        for text in DEALS:
            compiled = compile_filter(ctx, "deals", text)
            l_ms, l_p90, rows = timed(
                lambda f=compiled: deals.list_deals(ctx.db, status=None, where=f, limit=100),
                args.runs,
            )
            print(f"  {text:<56} {'':>7} {l_ms:>7.1f} {l_p90:>7.1f}", flush=True)
        ctx.db.close()
        print(f"{'whole process: tinycrm contact list --where … -n 100':<58} {'':>7} {'ms':>7}")
        for text in [None, *CONTACTS[:4]]:
            command = [str(TINYCRM), "contact", "list", "-n", "100"]
            if text:
                command += ["--where", text]
            times = []
            for i in range(args.runs + 1):
                start = time.perf_counter()
                subprocess.run(command, env=env, stdout=subprocess.DEVNULL, check=True)
                if i:
                    times.append((time.perf_counter() - start) * 1000)
            label = text or "(no filter)"
            print(f"  {label:<56} {'':>7} {statistics.median(times):>7.0f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
