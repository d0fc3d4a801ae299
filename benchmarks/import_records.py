"""Time `tinycrm import deals` and `tinycrm import interactions` on export-shaped files.

    python benchmarks/import_records.py [--contacts 10000] [--deals 10000]
                                        [--interactions 100000] [--seed 7] [--keep DIR]
                                        [--db postgresql://...]

Self-contained: a fresh SQLite store (or the given, empty, PostgreSQL one) gets
`--contacts` people through `import contacts`; then files in the columns `tinycrm export`
writes are imported by the real console script, each as its own process: the deals
(spread over the pipeline, a tenth won and a tenth lost), the interactions (naming their
contact by email or name, a third of them on a deal), and the interactions again, where
every row is a duplicate. Prints wall time and rows per second for each, and then runs
`tinycrm doctor` (untimed) to check the store is consistent.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

TINYCRM = Path(sys.executable).parent / "tinycrm"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
KINDS = ("note", "call", "email", "meeting")
STAGES = ("Lead", "Qualified", "Proposal", "Negotiation")
WORDS = "called about the renewal sent pricing 明天见 follow up next week demo went well".split()


def stamp(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_files(work: Path, args: argparse.Namespace) -> dict[str, Path]:
    rng = random.Random(args.seed)
    people = [
        (f"Person {i}", f"person{i}@example.com" if i % 4 else None) for i in range(args.contacts)
    ]
    contacts = work / "contacts.json"
    contacts.write_text(
        json.dumps(
            [{"name": n, "emails": [{"value": e, "label": None}] if e else []} for n, e in people]
        )
    )
    deals = work / "deals.csv"
    titles: list[tuple[str, str]] = []
    with deals.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\r\n")
        out.writerow(["title", "contact", "contact_name", "company", "stage", "status", "value",
                      "currency", "probability", "expected_close", "lost_reason", "closed_at",
                      "created_at", "owner"])  # fmt: skip
        for i in range(args.deals):
            name, email = rng.choice(people)
            created = NOW - timedelta(days=rng.randint(1, 700), seconds=rng.randint(0, 86_399))
            roll = rng.random()
            stage, status, reason, closed = rng.choice(STAGES), "open", "", ""
            if roll < 0.1:
                stage, status, closed = "Won", "won", stamp(created + timedelta(days=20))
            elif roll < 0.2:
                stage, status, reason = "Lost", "lost", "price"
                closed = stamp(created + timedelta(days=9))
            title = f"Deal {i}"
            titles.append((title, email or name))
            out.writerow([title, email or name, name, f"Company {i % 500}", stage, status,
                          f"{rng.randint(100, 99_999)}.00", "EUR", "", "", reason, closed,
                          stamp(created), "bench"])  # fmt: skip
    notes = work / "interactions.csv"
    with notes.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\r\n")
        out.writerow(["happened_at", "kind", "contact", "contact_name", "company", "deal", "body",
                      "user"])  # fmt: skip
        for _ in range(args.interactions):
            if rng.random() < 0.33:
                deal, ref = rng.choice(titles)
            else:
                name, email = rng.choice(people)
                deal, ref = "", email or name
            when = NOW - timedelta(seconds=rng.randint(0, 700 * 86_400))
            body = " ".join(rng.choices(WORDS, k=rng.randint(3, 12)))
            out.writerow([stamp(when), rng.choice(KINDS), ref, "", "", deal, body, "bench"])
    return {"contacts": contacts, "deals": deals, "interactions": notes}


def run(db: str, env: dict[str, str], *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [str(TINYCRM), "--db", db, *args], env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"tinycrm {' '.join(args)} failed: {done.stderr.strip()}")
    return elapsed, done.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--deals", type=int, default=10_000)
    parser.add_argument("--interactions", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="work in this folder and leave it there")
    parser.add_argument("--db", help="an empty PostgreSQL store (default: a new SQLite file)")
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="tinycrm-records-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        files = write_files(work, args)
        db = args.db or str(work / "bench.db")
        env = {k: v for k, v in os.environ.items() if not k.startswith("TINYCRM_")}
        env.update(TINYCRM_HOME=str(work / "home"), TINYCRM_NOW=stamp(NOW), TINYCRM_USER="bench")
        run(db, env, "user", "add", "bench")
        seconds, _ = run(db, env, "import", "contacts", str(files["contacts"]))
        print(f"{args.contacts:,} contacts imported in {seconds:.1f} s (setup)", flush=True)
        print(f"{'run':<24} {'rows':>8} {'seconds':>8} {'rows/s':>9}  imported / duplicates")
        for label, what, n in (
            ("deals", "deals", args.deals),
            ("interactions", "interactions", args.interactions),
            ("interactions again", "interactions", args.interactions),
        ):
            seconds, out = run(db, env, "import", what, str(files[what]), "--json")
            s: dict[str, Any] = json.loads(out)
            print(
                f"{label:<24} {n:>8,} {seconds:>8.1f} {n / seconds:>9,.0f}"
                f"  {s['imported']:,} / {s['duplicates']:,}",
                flush=True,
            )
        seconds, out = run(db, env, "doctor")
        print(f"doctor ({seconds:.1f} s): {out.strip().splitlines()[0] if out.strip() else 'ok'}")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
