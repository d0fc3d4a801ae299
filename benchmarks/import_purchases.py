"""Time `tinycrm import purchases` on a 500k-row file into the 100k-contact benchmark store.

    python benchmarks/import_purchases.py [--db benchmarks/data/bench.db] [--rows 500000]
                                          [--seed 7] [--keep DIR]

Writes two files from the store's own contacts, each naming a contact by id, email or (when
unique) name in about equal parts, over the three years before the store's "now":

- `plain.csv`: `contact,date,amount,currency,note`, ISO dates, `1234.50`, LF;
- `german.csv`: Excel-style `Kunde;Datum;Betrag;Währung;Notiz` with a BOM, CRLF,
  `31.01.2026` and `1.234,50`.

Each is imported by the real console script, as its own process, into a fresh copy of the
store (the source store is only read; the copy is upgraded to the current schema before
the clock starts). Then `plain.csv` is imported a second time into the same copy, where
every row is a duplicate. Prints wall time and rows per second for each.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NOTES = ("licences", "support renewal", "training day", "hardware", "consulting", "upgrade")
TINYCRM = Path(sys.executable).parent / "tinycrm"


def copy_store(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's backup API; the source is only read."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def upgrade(store: Path) -> None:
    """Bring the copy to the current schema now, so no timed run pays for it."""
    from tinycrm.store.open import open_store

    open_store(str(store)).close()
    for backup in store.parent.glob(f"{store.name}.before-*.bak"):
        backup.unlink()


def refs(store: Path) -> list[tuple[int, str | None, str | None]]:
    """(id, an email only this contact has, its name if no one else has it) per contact."""
    conn = sqlite3.connect(store)
    try:
        emails = dict(
            conn.execute(
                "SELECT min(contact_id), value FROM contact_methods WHERE kind = 'email'"
                " GROUP BY value_key HAVING count(DISTINCT contact_id) = 1"
            ).fetchall()
        )
        unique = {
            r[0]
            for r in conn.execute(
                "SELECT name_key FROM contacts GROUP BY name_key HAVING count(*) = 1"
            )
        }
        return [
            (cid, emails.get(cid), name if key in unique else None)
            for cid, name, key in conn.execute("SELECT id, name, name_key FROM contacts")
        ]
    finally:
        conn.close()


def rows(
    people: list[tuple[int, str | None, str | None]], n: int, today: date, seed: int
) -> list[tuple[str, date, int, str, str]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        cid, email, name = rng.choice(people)
        way = rng.random()
        ref = (email if way < 0.35 else name if way < 0.6 else None) or f"#{cid}"
        day = today - timedelta(days=rng.randint(0, 3 * 365))
        cents = max(99, int(rng.lognormvariate(9.5, 1.1)))
        currency = "USD" if rng.random() < 0.1 else ""
        note = rng.choice(NOTES) if rng.random() < 0.3 else ""
        out.append((ref, day, cents, currency, note))
    return out


def write_plain(path: Path, data: list[tuple[str, date, int, str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["contact", "date", "amount", "currency", "note"])
        for ref, day, cents, cur, note in data:
            out.writerow([ref, day.isoformat(), f"{cents // 100}.{cents % 100:02d}", cur, note])


def write_german(path: Path, data: list[tuple[str, date, int, str, str]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f, delimiter=";", lineterminator="\r\n")
        out.writerow(["Kunde", "Datum", "Betrag", "Währung", "Notiz"])
        for ref, day, cents, cur, note in data:
            amount = f"{cents // 100:,}".replace(",", ".") + f",{cents % 100:02d}"
            out.writerow([ref, day.strftime("%d.%m.%Y"), amount, cur, note])


def timed_import(store: Path, csv_path: Path, env: dict[str, str]) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    done = subprocess.run(
        [str(TINYCRM), "--db", str(store), "import", "purchases", str(csv_path), "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"import of {csv_path.name} failed: {done.stderr.strip()}")
    summary: dict[str, Any] = json.loads(done.stdout)
    return elapsed, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=ROOT / "benchmarks" / "data" / "bench.db")
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", type=Path, help="work in this folder and leave it there")
    args = parser.parse_args(argv)
    if not args.db.exists():
        raise SystemExit(f"no store at {args.db}: run `make bench-data` first")
    sidecar = args.db.with_suffix(".json")
    meta = json.loads(sidecar.read_text()) if sidecar.exists() else {}
    now = meta.get("now", "2026-11-23T09:00:00Z")
    today = datetime.fromisoformat(now.replace("Z", "+00:00")).date()
    work = args.keep or Path(tempfile.mkdtemp(prefix="tinycrm-import-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        base = work / "base.db"
        started = time.perf_counter()
        copy_store(args.db, base)
        upgrade(base)
        people = refs(base)
        data = rows(people, args.rows, today, args.seed)
        files = {"plain.csv": write_plain, "german.csv": write_german}
        for name, write in files.items():
            write(work / name, data)
        print(
            f"store copied and {len(files)} files of {args.rows:,} rows written in"
            f" {time.perf_counter() - started:.1f} s ({len(people):,} contacts)",
            flush=True,
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("TINYCRM_")}
        env.update(
            TINYCRM_HOME=str(work / "home"),
            TINYCRM_NOW=now,
            TINYCRM_TZ="Europe/Berlin",
            TINYCRM_USER=meta.get("user", "anna"),
        )
        print(f"{'run':<28} {'seconds':>8} {'rows/s':>9}  imported / duplicates")
        for name in files:
            store = work / f"{Path(name).stem}.db"
            copy_store(base, store)
            runs = [(name, store)] + ([(f"{name} again", store)] if name == "plain.csv" else [])
            for label, target in runs:
                seconds, s = timed_import(target, work / name, env)
                print(
                    f"{label:<28} {seconds:>8.1f} {args.rows / seconds:>9,.0f}"
                    f"  {s['imported']:,} / {s['duplicates']:,}",
                    flush=True,
                )
            store.unlink()
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
