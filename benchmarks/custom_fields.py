"""Custom fields on the 100k store: a typed value table against JSON with expression indexes.

    python benchmarks/custom_fields.py [--db benchmarks/data/bench.db] [--runs 15]
                                       [--pg postgresql+psycopg://postgres@127.0.0.1/x]

Gives every contact of a copy of the benchmark store three custom fields, 90% of them a
value each: `industry` (a choice of eight), `employees` (a number, 1 to 20,000, skewed
small) and `renewal` (a date, December 2026 to June 2028). Then builds both ways of storing
them side by side on the same copy:

- **typed value table** (what tinycrm builds, migration 0016): `custom_values`, a row per
  record and field with a typed column per kind of value and a partial index per column,
  led by the field and carrying the record's id (covering: a filter reads nothing else);
  filtered through `services.fields.condition_sql`.
- **JSON column**: a `custom` column on `contacts` holding the values as one JSON object,
  with one expression index per field (SQLite `json_extract`, PostgreSQL `->>` with a cast
  for the number).

and times, in process, for the three filters of issue #23 (`industry=retail`,
`employees>100`, `renewal<2027-03-01`) and all three together: the count of matching
contacts and the first page of 50 by name (what `contact list --where` reads). Median and
p90 of `--runs` runs after a warm-up, in milliseconds. With `--pg URL` (a server URL; a
new database is created and dropped) the contacts and values are copied into PostgreSQL
and timed the same way; autovacuum would analyse the tables after such a load, so the
script runs ANALYZE there (SQLite gets no statistics, as tinycrm never runs ANALYZE).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import copy_store  # noqa: E402
from tinycrm.services import fields  # noqa: E402
from tinycrm.services.context import Ctx  # noqa: E402
from tinycrm.store.db import Db  # noqa: E402
from tinycrm.store.open import open_store  # noqa: E402

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
INDUSTRIES = ["retail", "banking", "health", "software", "logistics", "energy", "media", "food"]
FILTERS = {
    "industry=retail": [("industry", "=", "retail")],
    "employees>100": [("employees", ">", "100")],
    "renewal<2027-03-01": [("renewal", "<", "2027-03-01")],
    "all three": [
        ("industry", "=", "retail"),
        ("employees", ">", "100"),
        ("renewal", "<", "2027-03-01"),
    ],
}
JSON_SQL = {
    "sqlite": {
        "industry": ("json_extract(c.custom, '$.industry') = :{p}", str),
        "employees": ("json_extract(c.custom, '$.employees') > :{p}", float),
        "renewal": ("json_extract(c.custom, '$.renewal') < :{p}", str),
    },
    "postgresql": {
        "industry": ("(c.custom ->> 'industry') = :{p}", str),
        "employees": ("((c.custom ->> 'employees')::numeric) > :{p}", float),
        "renewal": ("(c.custom ->> 'renewal') < :{p}", str),
    },
}
JSON_INDEXES = {
    "sqlite": [
        "CREATE INDEX ix_json_industry ON contacts (json_extract(custom, '$.industry'))",
        "CREATE INDEX ix_json_employees ON contacts (json_extract(custom, '$.employees'))",
        "CREATE INDEX ix_json_renewal ON contacts (json_extract(custom, '$.renewal'))",
    ],
    "postgresql": [
        "CREATE INDEX ix_json_industry ON contacts ((custom ->> 'industry'))",
        "CREATE INDEX ix_json_employees ON contacts (((custom ->> 'employees')::numeric))",
        "CREATE INDEX ix_json_renewal ON contacts ((custom ->> 'renewal'))",
    ],
}


def values_for(ids: list[int], seed: int = 23) -> dict[int, dict[str, Any]]:
    """The field values of each contact (90% have each field)."""
    rng = random.Random(seed)
    start = date(2026, 12, 1)
    out: dict[int, dict[str, Any]] = {}
    for i in ids:
        v: dict[str, Any] = {}
        if rng.random() < 0.9:
            v["industry"] = rng.choice(INDUSTRIES)
        if rng.random() < 0.9:
            v["employees"] = min(20_000, int(rng.lognormvariate(4.2, 1.6)) + 1)
        if rng.random() < 0.9:
            v["renewal"] = (start + timedelta(days=rng.randrange(0, 578))).isoformat()
        out[i] = v
    return out


def ctx_for(db: Db) -> Ctx:
    return Ctx(db=db, user_name="bench", now=NOW, tz=ZoneInfo("Europe/Berlin"), _user_id=None)


def fill(db: Db, values: dict[int, dict[str, Any]]) -> dict[str, float]:
    """Both representations of `values` in the store; seconds each took to write."""
    took: dict[str, float] = {}
    t = time.perf_counter()
    with db.write():
        for position, (name, type_, choices) in enumerate(
            (
                ("industry", "choice", ",".join(INDUSTRIES)),
                ("employees", "number", None),
                ("renewal", "date", None),
            ),
            start=1,
        ):
            db.execute(
                "INSERT INTO custom_fields (entity, name, name_key, type, choices, required,"
                " position, created_at, version) VALUES ('contact', :n, :n, :t, :c, :r, :p,"
                " :now, 1)",
                {
                    "n": name,
                    "t": type_,
                    "c": json.dumps(choices.split(",")) if choices else None,
                    "r": False,
                    "p": position,
                    "now": db.ts(NOW),
                },
            )
        ids = {r["name"]: int(r["id"]) for r in db.all("SELECT id, name FROM custom_fields", {})}
        rows: list[dict[str, Any]] = []
        for cid, v in values.items():
            base = {"c": cid, "key": None, "num": None, "day": None}
            if "industry" in v:
                rows.append(
                    {
                        **base,
                        "f": ids["industry"],
                        "value": v["industry"],
                        "key": v["industry"],
                        "num": float(INDUSTRIES.index(v["industry"])),
                    }
                )
            if "employees" in v:
                rows.append(
                    {
                        **base,
                        "f": ids["employees"],
                        "value": str(v["employees"]),
                        "num": float(v["employees"]),
                    }
                )
            if "renewal" in v:
                rows.append(
                    {
                        **base,
                        "f": ids["renewal"],
                        "value": v["renewal"],
                        "day": db.day(date.fromisoformat(v["renewal"])),
                    }
                )
        db.insert_many(
            "INSERT INTO custom_values (field_id, contact_id, value, value_key, value_num,"
            " value_date) VALUES (:f, :c, :value, :key, :num, :day)",
            rows,
        )
    took["typed value table"] = time.perf_counter() - t
    t = time.perf_counter()
    with db.write():
        kind = "TEXT" if db.is_sqlite else "jsonb"
        db.execute(f"ALTER TABLE contacts ADD COLUMN custom {kind}")
        cast = "" if db.is_sqlite else "::jsonb"
        db.insert_many(
            f"UPDATE contacts SET custom = :j{cast} WHERE id = :c",
            [{"c": cid, "j": json.dumps(v)} for cid, v in values.items()],
        )
        for sql in JSON_INDEXES["sqlite" if db.is_sqlite else "postgresql"]:
            db.execute(sql)
    took["JSON column"] = time.perf_counter() - t
    return took


def queries(db: Db, conds: list[tuple[str, str, str]]) -> dict[str, tuple[str, dict[str, Any]]]:
    """(SQL, params) of the count and the first page, both ways."""
    ctx = ctx_for(db)
    typed_where, typed_params = [], {}
    json_where, json_params = [], {}
    dialect = "sqlite" if db.is_sqlite else "postgresql"
    for i, (name, op, value) in enumerate(conds):
        found = fields.condition_sql(ctx, "contact", "c.id", name, op, value, f"p{i}_")
        assert found is not None
        typed_where.append(found[0])
        typed_params.update(found[1])
        sql, convert = JSON_SQL[dialect][name]
        json_where.append(sql.format(p=f"j{i}"))
        json_params[f"j{i}"] = convert(value)
    out = {}
    for way, where, params in (
        ("typed value table", typed_where, typed_params),
        ("JSON column", json_where, json_params),
    ):
        clause = " AND ".join(where)
        out[f"{way}|count"] = (f"SELECT count(*) AS n FROM contacts c WHERE {clause}", params)
        out[f"{way}|first 50 by name"] = (
            f"SELECT c.id, c.name FROM contacts c WHERE {clause}"
            " ORDER BY c.name_key, c.id LIMIT 50",
            params,
        )
    return out


def timed(call: Callable[[], Any], runs: int) -> tuple[float, float, Any]:
    result = call()  # warm-up
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        result = call()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.9) - 1], result


def measure(db: Db, runs: int) -> list[tuple[str, str, str, float, float, int]]:
    rows = []
    for label, conds in FILTERS.items():
        qs = queries(db, conds)
        answers: dict[str, Any] = {}
        for key, (sql, params) in qs.items():
            way, what = key.split("|")

            def run(s: str = sql, p: dict[str, Any] = params) -> Any:
                return db.all(s, p)

            with db.read():
                med, p90, result = timed(run, runs)
            n = int(result[0]["n"]) if what == "count" else len(result)
            answers.setdefault(what, set()).add(
                n if what == "count" else tuple(r["id"] for r in result)
            )
            rows.append((label, way, what, med, p90, n))
        for what, seen in answers.items():  # both ways must find the same contacts
            assert len(seen) == 1, (label, what, seen)
    return rows


def to_pg(source: Db, url: str) -> tuple[Db, str]:
    """A new PostgreSQL database migrated to head, with the source's contacts (name, key,
    times) copied in; its URL to drop afterwards."""
    import psycopg

    base, _, query = url.partition("?")
    name = f"tinycrm_bench_fields_{os.getpid()}"
    admin = base.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    target = base.rsplit("/", 1)[0] + "/" + name + (f"?{query}" if query else "")
    db = open_store(target)
    rows = source.all("SELECT id, name, name_key, created_at, updated_at FROM contacts", {})
    with db.write():
        db.execute("ALTER TABLE contacts DISABLE TRIGGER USER")
        db.insert_many(
            "INSERT INTO contacts (id, name, name_key, created_at, updated_at, version)"
            " VALUES (:id, :name, :name_key, :created_at, :updated_at, 1)",
            rows,
        )
        db.execute("ALTER TABLE contacts ENABLE TRIGGER USER")
    return db, target


def drop_pg(url: str) -> None:
    import psycopg

    base = url.partition("?")[0]
    name = base.rsplit("/", 1)[1]
    admin = base.rsplit("/", 1)[0].replace("postgresql+psycopg://", "postgresql://") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def report(backend: str, took: dict[str, float], rows: list[Any]) -> None:
    print(f"\n{backend}: written in " + ", ".join(f"{k} {v:.1f} s" for k, v in took.items()))
    print(f"{'filter':22} {'storage':18} {'query':17} {'median ms':>10} {'p90 ms':>8} {'rows':>7}")
    for label, way, what, med, p90, n in rows:
        print(f"{label:22} {way:18} {what:17} {med:10.1f} {p90:8.1f} {n:7,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=Path("benchmarks/data/bench.db"))
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--pg", help="a PostgreSQL server URL (a database is made and dropped)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "fields.db"
        copy_store(args.db, copy)
        db = open_store(str(copy))  # upgrades the copy to head (custom fields: 0016)
        ids = [int(r["id"]) for r in db.all("SELECT id FROM contacts ORDER BY id", {})]
        values = values_for(ids)
        took = fill(db, values)
        report(f"SQLite, {len(ids):,} contacts", took, measure(db, args.runs))
        if args.pg:
            pg, url = to_pg(db, args.pg)
            try:
                took = fill(pg, values)
                with pg.write():
                    pg.execute("ANALYZE contacts")
                    pg.execute("ANALYZE custom_values")
                report(f"PostgreSQL, {len(ids):,} contacts", took, measure(pg, args.runs))
            finally:
                pg.close()
                drop_pg(url)
        db.close()


if __name__ == "__main__":
    main()
