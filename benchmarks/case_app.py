"""Time what the app's Cases screen and the knowledge base read, on a store of many cases.

    python benchmarks/case_app.py [--cases 20000] [--contacts 5000] [--keep PATH]

Builds a fresh SQLite store (through `open_store`, so every migration runs) with the given
number of contacts and service cases, written as the services write them: 60% closed with a
solution, the rest open or waiting with their SLA clocks spread around "now" (2026-11-23
09:00 UTC), owners among five users who report to the first, and every case in the search
index (`case_fts`). Then it times, best of 5 runs each: the Cases screen's first page
(everyone's, mine, overdue), walking every page to the end, one case opened (`get_case` and
`similar_cases`, what the case view reads), `due_cases` (Today's list) and the digest's
escalated cases, `case list --open`'s service and `search` for a word of the knowledge
base. Prints one line per measurement.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tinycrm.services import cases, search
from tinycrm.services.context import Ctx
from tinycrm.store.open import open_store
from tinycrm.text import search_document

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
USERS = ("anna", "ben", "chen", "dolores", "emeka")
PROBLEMS = (
    "printer", "toner", "invoice", "login", "password", "delivery", "refund", "licence",
    "upgrade", "crash", "export", "import", "calendar", "sync", "mail", "billing", "address",
    "report", "slow", "timeout", "scanner", "driver", "install", "backup", "restore",
)  # fmt: skip
FILLER = ("the", "our", "customer", "says", "again", "since", "monday", "please", "help")
FIXES = ("replaced", "reset", "resent", "refunded", "patched", "reinstalled", "explained")


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(PROBLEMS if rng.random() < 0.5 else FILLER) for _ in range(words))


def build(path: Path, n_cases: int, n_contacts: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    db = open_store(str(path))
    conn = db.conn
    ts = db.ts
    with conn:
        for i, name in enumerate(USERS, start=1):
            conn.execute(
                "INSERT INTO users (id, name, lead_id, created_at) VALUES (?, ?, ?, ?)",
                (i, name, None if i == 1 else 1, ts(NOW)),
            )
        conn.executemany(
            "INSERT INTO contacts (id, name, name_key, created_at, updated_at, version)"
            " VALUES (?, ?, ?, ?, ?, 1)",
            [
                (c, f"Customer {c}", f"customer {c}", ts(NOW), ts(NOW))
                for c in range(1, n_contacts + 1)
            ],
        )
        rows, docs = [], []
        for k in range(1, n_cases + 1):
            created = NOW - timedelta(minutes=rng.randrange(0, 60 * 24 * 365))
            closed = rng.random() < 0.6
            status = "closed" if closed else rng.choice(("open", "open", "open", "waiting"))
            title = _text(rng, 4)
            body = _text(rng, 14)
            solution = f"{rng.choice(FIXES)} {_text(rng, 6)}" if closed else None
            sla_due = (
                NOW + timedelta(minutes=rng.randrange(-60 * 24 * 20, 60 * 24 * 5))
                if status == "open"
                else None
            )
            rows.append(
                (
                    k, rng.randrange(1, n_contacts + 1), title, body,
                    rng.choice(("low", "normal", "normal", "high", "urgent")), status,
                    1 + min(4, int(rng.expovariate(0.7))),
                    ts(sla_due) if sla_due else None,
                    ts(created) if status == "waiting" else None,
                    ts(created + timedelta(hours=2)) if closed else None,
                    ts(created + timedelta(days=1)) if closed else None,
                    ts(created + timedelta(days=1)) if closed else None,
                    solution, rng.randint(1, 5) if closed and rng.random() < 0.5 else None,
                    ts(created), ts(created),
                )
            )  # fmt: skip
            docs.append((k, search_document(title, body, solution)))
        conn.executemany(
            "INSERT INTO cases (id, contact_id, title, body, priority, status, owner_id,"
            " sla_due_at, waiting_since, first_response_at, resolved_at, closed_at, solution,"
            " satisfaction, created_at, updated_at, paused_minutes, version)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 1)",
            rows,
        )
        conn.executemany("INSERT INTO case_fts (rowid, body) VALUES (?, ?)", docs)
        # the bulk rows are not a change anyone made: no journal
        conn.execute("DELETE FROM row_changes")
    db.close()


def best(label: str, job: Callable[[], Any], runs: int = 5) -> Any:
    times, out = [], None
    for _ in range(runs):
        start = time.perf_counter()
        out = job()
        times.append(time.perf_counter() - start)
    print(f"{label:<44} {min(times) * 1000:8.2f} ms")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--contacts", type=int, default=5_000)
    parser.add_argument("--keep", type=Path, help="build the store here and keep it")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="tinycrm-cases-"))
    path = args.keep or folder / "cases.db"
    start = time.perf_counter()
    build(path, args.cases, args.contacts)
    print(f"built {args.cases:,} cases in {time.perf_counter() - start:.1f} s: {path}")
    db = open_store(str(path))
    ctx = Ctx(db=db, user_name="anna", now=NOW, tz=ZoneInfo("Europe/Berlin"), _user_id=1)
    first = best("case_page: first 200, everyone's", lambda: cases.case_page(ctx))
    best("case_page: first 200, mine", lambda: cases.case_page(ctx, mine=True))
    best("case_page: first 200, overdue", lambda: cases.case_page(ctx, overdue=True))

    def walk() -> int:
        page, n = cases.case_page(ctx), 0
        while True:
            n += len(page.rows)
            if page.after is None:
                return n
            page = cases.case_page(ctx, after=page.after, total=(page.total, page.overdue))

    shown = best("case_page: every page to the end", walk, runs=1)
    print(f"  {shown:,} open cases in pages, the store counts {first.total:,}")
    opened = first.rows[0].id
    best("get_case (the case view)", lambda: cases.get_case(ctx, opened))
    similar = best("similar_cases, 5 (the case view)", lambda: cases.similar_cases(ctx, opened))
    print(f"  best match #{similar[0].id}: {similar[0].title}" if similar else "  no match")
    end = NOW + timedelta(hours=15)
    best("due_cases, mine (Today's cases)", lambda: cases.due_cases(ctx, until=end))
    best("due_cases, the team's", lambda: cases.due_cases(ctx, until=end, team=True))
    best(
        "list_cases(escalated_to) (the digest's cases)",
        lambda: cases.list_cases(ctx, escalated_to=1),
    )
    best("list_cases(open_only) (case list --open)", lambda: cases.list_cases(ctx, open_only=True))
    best("search 'toner', 50 per kind", lambda: search.search(db, "toner", kinds=("case",)))
    db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
