"""How fast duplicates are found on a big store, and whether the planted ones are.

    python benchmarks/dedupe.py [--contacts 100000] [--seed 7] [--runs 5]

Builds a contacts-only SQLite store (names from generate.py's Zipf-weighted pools, so common
names repeat the way they do in a real address book; emails and phones with `match_key`
as the services write them; the search index), plants duplicates written differently
(case, NBSP, full-width, word order, a typo, plus-addressing, a phone in another format),
then times `find_matches` (what `contact add` runs) and `find_groups` (`tinycrm dedupe`)
in process, and `tinycrm contact add` as a whole process. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402
from tinycrm.identity import email_match_key, phone_match_key  # noqa: E402
from tinycrm.store.open import open_store  # noqa: E402
from tinycrm.text import fold, phone_key, search_document  # noqa: E402

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
REGION = "GB"

# (original name, email, phone) and how the duplicate is written
PLANTED = [
    (("Priya Raman", "priya.raman@gmail.com", "+44 20 7946 0101"), ("PRIYA  RAMAN", None, None)),
    (("Jonas Kleber", None, None), ("Jonas\u00a0Kleber", None, None)),
    (("Ines Albrecht", None, None), ("Ｉｎｅｓ Ａｌｂｒｅｃｈｔ", None, None)),
    (("Tomasz Wrona", None, None), ("Wrona, Tomasz", None, None)),
    (("Katharina Oberst", None, None), ("Katharina Oberts", None, None)),
    (("Q. Lindgren", "q.lindgren@gmail.com", None), ("Quinn L.", "qlindgren+crm@gmail.com", None)),
    (("Rui Batista", None, "+44 20 7946 0202"), ("R. B.", None, "020 7946 0202")),
]


NEW_NAMES = ("Ottoline Vasquez", "Barnaby Thistlewood", "Wilhelmina Oyelaran", "Caspian Drewitt",
             "Peregrine Holloway", "Imogen Fairweather", "Lysander Quayle")  # fmt: skip


def build(path: Path, n: int, seed: int) -> None:
    rng = random.Random(seed)
    open_store(str(path)).close()
    import sqlite3

    conn = sqlite3.connect(str(path))
    ts = NOW.strftime("%Y-%m-%d %H:%M:%S.%f")
    people: list[tuple[str, str | None, str | None]] = []
    for _ in range(n - 2 * len(PLANTED)):
        who = generate.person(rng)
        email = f"{who.local}{rng.randint(1, 9999)}@{rng.choice(generate.FREEMAIL)}"
        phone = f"+44 20 {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"
        people.append((who.full, email if rng.random() < 0.9 else None, phone))
    for original, duplicate in PLANTED:
        people.insert(rng.randrange(len(people)), original)
        people.append(duplicate)
    planted_phones = {p for pair in PLANTED for _, _, p in pair if p}
    contacts, methods, docs = [], [], []
    for cid, (name, email, phone) in enumerate(people, start=1):
        contacts.append((cid, name, fold(name), ts, ts))
        values = []
        for kind, value in (("email", email), ("phone", phone)):
            if value is None:
                continue
            key = value.lower() if kind == "email" else phone_key(value)
            if kind == "email":
                match = email_match_key(value)
            elif value in planted_phones:
                match = phone_match_key(value, REGION)
            else:  # "+44 20 ..." with a country code: its digits are its E.164 form
                match = phone_key(value)
            methods.append((cid, kind, value, key, match, len(values)))
            values.append(value)
        docs.append((cid, search_document(name, *values)))
    with conn:
        conn.executemany(
            "INSERT INTO contacts (id, name, name_key, created_at, updated_at, version)"
            " VALUES (?, ?, ?, ?, ?, 1)",
            contacts,
        )
        conn.executemany(
            "INSERT INTO contact_methods (contact_id, kind, value, value_key, match_key,"
            " position) VALUES (?, ?, ?, ?, ?, ?)",
            methods,
        )
        conn.executemany("INSERT INTO contact_fts (rowid, body) VALUES (?, ?)", docs)
    conn.close()


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="tinycrm-dedupe-bench-"))
    store = home / "dedupe.db"
    start = time.perf_counter()
    build(store, args.contacts, args.seed)
    print(f"built {args.contacts:,} contacts in {time.perf_counter() - start:.1f} s: {store}\n")

    from tinycrm.services import duplicates
    from tinycrm.services.context import Ctx

    db = open_store(str(store))
    ctx = Ctx(db=db, user_name="bench", now=NOW, tz=UTC, phone_region=REGION)
    duplicates.find_matches(ctx, name="Anna Schmidt")  # imports (rapidfuzz), page cache
    rows: list[tuple[str, float, str]] = []
    lookups = {
        "common name (Maria Müller)": {"name": "Maria Müller"},
        "typo (Katharina Oberts)": {"name": "Katharina Oberts"},
        "new name, email and phone": {
            "name": "Zebedee Quarrington",
            "emails": ["zq@example.org"],
            "phones": ["+44 20 7000 0000"],
        },
        "plus-addressed email": {"name": "Q", "emails": ["qlindgren+x@gmail.com"]},
    }
    for label, kwargs in lookups.items():
        ms, found = timed(lambda kw=kwargs: duplicates.find_matches(ctx, **kw), args.runs)
        rows.append((f"find_matches: {label}", ms, f"{len(found)} match(es)"))
    for threshold in (90, 100):
        ms, report = timed(
            lambda t=threshold: duplicates.find_groups(db, threshold=t, limit=20),
            max(1, args.runs // 2),
        )
        planted = _planted_found(db, report, threshold)
        rows.append(
            (
                f"find_groups --threshold {threshold}",
                ms,
                f"{report.groups_total:,} groups; planted found {planted}",
            )
        )
    db.close()
    env = {**os.environ, "TINYCRM_DB": str(store), "TINYCRM_HOME": str(home)}
    cmd_times = []
    for i in range(args.runs):
        begin = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "tinycrm", "contact", "add", NEW_NAMES[i % len(NEW_NAMES)],
             "-e", f"new{i}@example.org", "-p", f"+44 20 7000 000{i % 10}"],
            env=env, check=True, capture_output=True,
        )  # fmt: skip
        cmd_times.append(time.perf_counter() - begin)
    rows.append(("tinycrm contact add (whole process)", statistics.median(cmd_times) * 1000, ""))
    print("| what | median ms | result |\n| --- | ---: | --- |")
    for label, ms, note in rows:
        print(f"| {label} | {ms:,.1f} | {note} |")


def _planted_found(db: Any, report: Any, threshold: int) -> str:
    """How many planted pairs ended up in one group (the whole report, not just the page)."""
    from tinycrm.services import duplicates

    full = duplicates.find_groups(db, threshold=threshold)
    names = [{c.name for c in g.contacts} for g in full.groups]
    found = 0
    for (original, *_), (duplicate, *_) in PLANTED:
        if any(original in g and duplicate in g for g in names):
            found += 1
    return f"{found}/{len(PLANTED)}"


if __name__ == "__main__":
    main()
