"""Time `tinycrm import contacts` on a 100k-row CSV, into a fresh store and into the
100k-contact benchmark store.

    python benchmarks/import_contacts.py [--db benchmarks/data/bench.db] [--rows 100000]
                                         [--seed 11] [--odd 10] [--keep DIR]

Writes `people.csv` in Google Contacts' shape (first/middle/last name, organization and
title, two emails and a phone with labels, an address in parts, labels as tags, notes,
some over two lines), every 20th person a variant of an earlier one (another spelling of
the email, the number in national form, the name with its words reordered), so the
in-file duplicate matching does real work. Each run is the real console script as its own
process:

- into a fresh, empty store (`--on-duplicate skip`);
- into a fresh store again, from `odd.csv`: the same people with `--odd` percent of the
  rows carrying a field that doesn't validate (a phone `1`, an email `n/a`, a birthday
  `circa 1800`, a date that doesn't exist), kept as written (#17), and as many birthdays
  without a year (`--03-14`);
- into a copy of the benchmark store (so every key is also looked up among 100k stored
  contacts), with `--on-duplicate merge`;
- `--dry-run` into the benchmark store.

Prints wall time, rows per second and the created / merged / skipped counts.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TINYCRM = Path(sys.executable).parent / "tinycrm"
FIRST = ("Anna", "Ben", "Chloé", "Dmitri", "Emma", "Farid", "Grace", "Hiro", "Inès", "Jonas")
FIRST += ("Karin", "Liam", "Maja", "Noah", "Olga", "Pablo", "Quinn", "Rosa", "Sven", "Tariq")
LAST = ("Berger", "Chen", "Dubois", "Evans", "Fischer", "García", "Hansen", "Ivanova")
LAST += ("Jensen", "Kowalski", "Lopez", "Müller", "Nakamura", "O'Brien", "Petrov", "Rossi")
COMPANIES = ("Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay")
HEADER = [
    "First Name",
    "Middle Name",
    "Last Name",
    "Organization Name",
    "Organization Title",
    "Birthday",
    "Notes",
    "Labels",
    "E-mail 1 - Label",
    "E-mail 1 - Value",
    "E-mail 2 - Label",
    "E-mail 2 - Value",
    "Phone 1 - Label",
    "Phone 1 - Value",
    "Address 1 - Label",
    "Address 1 - Street",
    "Address 1 - City",
    "Address 1 - Postal Code",
    "Address 1 - Country",
]


#: (column, value) of an odd field; the column index into HEADER
ODD = (
    (13, "1"),  # Phone 1 - Value: a short code
    (9, "n/a"),  # E-mail 1 - Value
    (5, "circa 1800"),  # Birthday, vCard 4.0's text form
    (5, "31.02.1990"),  # Birthday: no such day
)


def write_people(path: Path, n: int, seed: int, odd: float = 0.0) -> int:
    """The file; returns how many rows carry an odd field."""
    rng = random.Random(seed)
    odd_rng = random.Random(seed + 1)
    odd_rows = 0
    made: list[list[str]] = []
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\r\n")
        out.writerow(HEADER)
        for i in range(n):
            if made and i % 20 == 19:
                row = list(rng.choice(made))
                row[0], row[2] = row[2], row[0]  # "Berger Anna"
                row[9] = row[9].upper()
                row[13] = "0" + row[13][4:] if row[13].startswith("+44 ") else row[13]
                out.writerow(row)
                continue
            first, last = rng.choice(FIRST), rng.choice(LAST)
            company = f"{rng.choice(COMPANIES)} {rng.randint(1, 2000)}"
            user = f"{first}.{last}.{i}".lower().replace("'", "")
            row = [
                first,
                "",
                last,
                company,
                rng.choice(("CEO", "CTO", "Buyer", "Head of Sales", "")),
                f"19{rng.randint(50, 99)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                if rng.random() < 0.3
                else "",
                "Met at the fair\nwants a quote" if rng.random() < 0.1 else "",
                "* myContacts ::: " + rng.choice(("Clients", "Leads", "Partners")),
                "Work",
                f"{user}@{company.split()[0].lower()}.example",
                "Home",
                f"{user}@gmail.com" if rng.random() < 0.5 else "",
                "Mobile",
                f"+44 7700 {i // 1000 % 1000:03d}{i % 1000:03d}",
                "Work",
                f"{rng.randint(1, 200)} High Street",
                rng.choice(("London", "Leeds", "Bristol")),
                f"LS{rng.randint(1, 29)} {rng.randint(1, 9)}AB",
                "United Kingdom",
            ]
            made.append(row)
            if odd and odd_rng.random() < odd:
                row = list(row)
                column, value = odd_rng.choice(ODD)
                row[column] = value
                odd_rows += 1
            elif odd and odd_rng.random() < odd:
                row = list(row)
                row[5] = f"--{odd_rng.randint(1, 12):02d}-{odd_rng.randint(1, 28):02d}"
            out.writerow(row)
    return odd_rows


def copy_store(source: Path, target: Path) -> None:
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def upgrade(store: Path) -> None:
    """Create or upgrade the store now, so no timed run pays for it."""
    from tinycrm.store.open import open_store

    open_store(str(store)).close()
    for backup in store.parent.glob(f"{store.name}.before-*.bak"):
        backup.unlink()


def timed(store: Path, args: list[str], env: dict[str, str]) -> tuple[float, float, dict[str, Any]]:
    """Wall seconds, CPU seconds (user + system: what the run costs on a busy machine,
    where the wall time also counts waiting for a core) and the summary."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [str(TINYCRM), "--db", str(store), "import", "contacts", *args, "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"import {' '.join(args)} failed: {done.stderr.strip()}")
    summary: dict[str, Any] = json.loads(done.stdout)
    return elapsed, cpu, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=ROOT / "benchmarks" / "data" / "bench.db")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--odd", type=float, default=10.0, help="percent of rows with an odd field")
    parser.add_argument("--keep", type=Path, help="work in this folder and leave it there")
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="tinycrm-contacts-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        people = work / "people.csv"
        write_people(people, args.rows, args.seed)
        size = people.stat().st_size / 1e6
        print(f"{people.name}: {args.rows:,} rows, {size:.1f} MB", flush=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TINYCRM_")}
        env.update(
            TINYCRM_HOME=str(work / "home"),
            TINYCRM_NOW="2026-11-23T09:00:00Z",
            TINYCRM_TZ="Europe/Berlin",
            TINYCRM_USER="anna",
        )
        runs: list[tuple[str, Path, list[str]]] = []
        fresh = work / "fresh.db"
        upgrade(fresh)
        runs.append(("into a fresh store", fresh, []))
        if args.odd:
            odd = work / "odd.csv"
            n_odd = write_people(odd, args.rows, args.seed, args.odd / 100)
            print(f"{odd.name}: {n_odd:,} rows with an odd field ({args.odd:g}%)", flush=True)
            fresh_odd = work / "fresh-odd.db"
            upgrade(fresh_odd)
            runs.append((f"fresh store, {args.odd:g}% odd fields", fresh_odd, [str(odd)]))
        if args.db.exists():
            bench = work / "bench.db"
            copy_store(args.db, bench)
            upgrade(bench)
            runs.append(("into the 100k store, dry run", bench, ["--dry-run"]))
            runs.append(("into the 100k store, merge", bench, ["--on-duplicate", "merge"]))
        else:
            print(f"no store at {args.db} (make bench-data): only the fresh store is timed")
        print(f"{'run':<32} {'seconds':>8} {'cpu s':>7} {'rows/s':>9}  created / merged / skipped")
        for label, store, extra in runs:
            files = [] if extra[:1] and extra[0].endswith(".csv") else [str(people)]
            seconds, cpu, s = timed(store, [*files, *extra], env)
            kept = sum(s.get("as_written", {}).values())
            print(
                f"{label:<32} {seconds:>8.1f} {cpu:>7.1f} {args.rows / seconds:>9,.0f}"
                f"  {s['created']:,} / {s['merged']:,} / {s['skipped']:,}"
                + (f", kept as written {kept:,}" if kept else ""),
                flush=True,
            )
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
