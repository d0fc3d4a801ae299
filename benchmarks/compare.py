"""Time the quick-entry commands of two tinycrm source trees against each other.

    python benchmarks/compare.py --before /tmp/old/src [--after src]
                                 [--db benchmarks/data/bench.db] [--runs 15]

For a change that adds work to every write (the audit log's INSERT, say): `note`, `remind`
and `done` run as whole processes (`python -m tinycrm` with PYTHONPATH on each tree), on
one copy of the benchmark store per tree, interleaved before/after round by round after
two warm-up rounds, so machine noise hits both alike. Prints median and p90 per command
and tree, and the difference of the medians. Then the same three use cases are timed in
process (the service call and its commit, without the interpreter's start-up, which on a
busy machine drowns a difference of a millisecond): batches of calls, alternating between
the trees. Export the older tree with `git archive REV src | tar -x -C /tmp/old`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import WARMUP, copy_store, execute, prepare  # noqa: E402

IN_PROCESS = """
import json, statistics, sys, time
from zoneinfo import ZoneInfo
from datetime import datetime, timedelta
from tinycrm.store.open import open_store
from tinycrm.refs import resolve
from tinycrm.services.context import Ctx
from tinycrm.services.interactions import log_interaction
from tinycrm.services.reminders import add_reminder, complete

store, who, user, now, calls = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
db = open_store(store, create=False)
ctx = Ctx(db=db, user_name=user, now=datetime.fromisoformat(now.replace("Z", "+00:00")),
          tz=ZoneInfo("Europe/Berlin"))
target = resolve(db, who)
ids = [r["id"] for r in db.all(
    "SELECT id FROM reminders WHERE done_at IS NULL AND rrule IS NULL ORDER BY id DESC LIMIT :n",
    {"n": calls})]
out = {"note": [], "remind": [], "done": []}
for i in range(calls):
    t = time.perf_counter()
    log_interaction(ctx, target, "called about the renewal")
    out["note"].append((time.perf_counter() - t) * 1000)
    t = time.perf_counter()
    add_reminder(ctx, target, ctx.now + timedelta(days=3), "send the contract")
    out["remind"].append((time.perf_counter() - t) * 1000)
    t = time.perf_counter()
    complete(ctx, ids[i])
    out["done"].append((time.perf_counter() - t) * 1000)
print(json.dumps(out))
"""


def in_process(
    trees: dict[str, Path], stores: dict[str, Path], setup: object, batches: int, calls: int
) -> dict[tuple[str, str], list[float]]:
    import json
    import subprocess

    times: dict[tuple[str, str], list[float]] = {}
    env0 = setup.env  # type: ignore[attr-defined]
    for batch in range(batches):
        order = list(trees) if batch % 2 == 0 else list(reversed(trees))
        for name in order:
            done = subprocess.run(
                [sys.executable, "-c", IN_PROCESS, str(stores[name]), setup.contact,  # type: ignore[attr-defined]
                 env0["TINYCRM_USER"], env0["TINYCRM_NOW"], str(calls)],
                env={**env0, "PYTHONPATH": str(trees[name])},
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            for command, values in json.loads(done.stdout).items():
                times.setdefault((command, name), []).extend(values)
    return times


def show(times: dict[tuple[str, str], list[float]], commands: list[str], digits: int) -> None:
    print("| command | before median | after median | difference | before p90 | after p90 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for command in commands:
        b, a = times[(command, "before")], times[(command, "after")]
        mb, ma = statistics.median(b), statistics.median(a)
        pb = statistics.quantiles(b, n=10, method="inclusive")[-1]
        pa = statistics.quantiles(a, n=10, method="inclusive")[-1]
        print(
            f"| {command} | {mb:.{digits}f} ms | {ma:.{digits}f} ms | {ma - mb:+.{digits}f} ms"
            f" | {pb:.{digits}f} ms | {pa:.{digits}f} ms |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="the older src/ folder")
    parser.add_argument("--after", type=Path, default=Path("src"), help="the newer src/ folder")
    parser.add_argument("--db", type=Path, default=Path("benchmarks/data/bench.db"))
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)
    if not args.db.exists():
        parser.error(f"no store at {args.db}; build it with: make bench-data")
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    with tempfile.TemporaryDirectory(prefix="tinycrm-compare-") as tmp:
        # one store per tree: each `done` needs an open reminder of its own
        needed = 2 * (WARMUP + args.runs) + 2
        setup = prepare(args.db, Path(tmp), needed)
        who = setup.contact
        stores = {}
        for name in trees:
            stores[name] = Path(tmp) / f"{name}.db"
            copy_store(setup.store, stores[name])
        commands = {
            "note": lambda i: ["note", who, "called about the renewal"],
            "remind": lambda i: ["remind", who, "3d", "send the contract"],
            "done": lambda i: ["done", str(setup.done_ids[i])],
        }
        times: dict[tuple[str, str], list[float]] = {}
        for round_no in range(WARMUP + args.runs):
            order = list(trees) if round_no % 2 == 0 else list(reversed(trees))
            for command, make_args in commands.items():
                for name in order:
                    env = {**setup.env, "PYTHONPATH": str(trees[name])}
                    env["TINYCRM_DB"] = str(stores[name])
                    argv = [sys.executable, "-m", "tinycrm", *make_args(round_no)]
                    elapsed_ms, _ = execute(argv, env, terminal=False)
                    if round_no >= WARMUP:
                        times.setdefault((command, name), []).append(elapsed_ms)
            print(f"  round {round_no + 1} of {WARMUP + args.runs} done", flush=True)
        print("timing the use cases in process", flush=True)
        inside = in_process(trees, stores, setup, batches=6, calls=50)
    print("\nWhole processes (what the user waits for):\n")
    show(times, list(commands), 1)
    print("\nIn process (the use case and its commit; 300 calls each):\n")
    show(inside, list(commands), 2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
