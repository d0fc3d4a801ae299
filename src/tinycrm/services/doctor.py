"""`tinycrm doctor`: is the store sound, and are the derived data in step with the records?

Checks, on both backends unless said:

- `schema`: the store is at the revision this tinycrm writes (db.SCHEMA_HEAD).
- `integrity` (SQLite): `PRAGMA integrity_check`, and each FTS5 table's own
  `integrity-check` (its inverted index against its stored text).
- `orphans`: rows whose foreign key points at a missing parent, which happens when foreign
  keys were off (an old tool, a hand-written `sqlite3` session). SQLite reports them with
  `PRAGMA foreign_key_check`; on PostgreSQL the same question is asked of every foreign key
  in the catalog.
- `search index`: every contact, company, interaction and deal has its index row, holding
  the tokens of what the record says now (search.documents), and no row is left for a
  record that is gone: `missing`, `stale`, `extra`.
- `clocks`: `contacts.touch_due_at` and `deals.rots_at` as services/clocks computes them,
  and `cases.sla_due_at` as services/cases does (owners without a time zone in the zone
  of the user running doctor, as their own commands would count it).
- `match keys`: each email's and phone's `contact_methods.match_key` as tinycrm.identity
  computes it (phones with the `phone_region` setting).
- `deal values`: a deal with line items is worth their net (tinycrm.pricing), as
  services/deal_items writes it with every item change.

The report also says where the settings a settings file may override come from
(team_settings.effective: the store, the settings file, or the default).

`repair()` takes an automatic backup, then in one transaction finds the problems again
(others may have written meanwhile) and fixes what can be fixed: orphans as their foreign
key's ON DELETE would have (CASCADE deletes the row, SET NULL clears the reference; a
RESTRICT reference, such as a deal in a missing stage, needs a person and is only
reported), the index rows, the clocks, the match keys and the deal values. Damage
`integrity_check` finds in the file itself can't be repaired here: restore a backup.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from tinycrm.money import format_cents
from tinycrm.services import cases, clocks, search, team_settings
from tinycrm.services.team_settings import Effective
from tinycrm.store.backups import auto_backup
from tinycrm.store.db import Db
from tinycrm.store.open import SCHEMA_HEAD

#: Records are compared in id ranges of this size, so memory stays flat on big stores.
SPAN = 5000
#: What each check is called in reports and `--json`, in the order they run.
CHECKS = (
    "schema",
    "integrity",
    "orphans",
    "search index",
    "clocks",
    "match keys",
    "deal values",
)


@dataclass
class Problem:
    check: str  # one of CHECKS
    table: str | None  # the table (or the index's kind) the row is in
    id: int | None  # the row's id (rowid on SQLite) when it has one
    detail: str  # what is wrong, in words; for clocks, the column (its times are below)
    repairable: bool = True
    stored: datetime | None = None  # clocks: the time the column holds (None: empty)
    expected: datetime | None = None  # clocks: the time the services would write there


@dataclass
class DoctorReport:
    store: str  # password masked
    backend: str  # sqlite | postgresql
    revision: str | None
    checks: list[str]  # the checks that ran
    healthy: bool
    problems: list[Problem] = field(default_factory=list)
    repaired: int | None = None  # with --repair: how many problems were fixed
    backup: str | None = None  # with --repair: the backup taken first
    settings: list[Effective] = field(default_factory=list)  # where shared values come from


# -- checking ---------------------------------------------------------------------------
def check(
    db: Db,
    *,
    phone_region: str | None = None,
    tz: tzinfo = UTC,
    file_settings: Mapping[str, Any] | None = None,
) -> DoctorReport:
    """Every check; nothing is written. `tz`: the zone of cases' owners who have none;
    `file_settings`: the settings file's shared keys, to say where each value comes from."""
    checks = [c for c in CHECKS if db.is_sqlite or c != "integrity"]
    problems: list[Problem] = []
    revision = _revision(db)
    if revision != SCHEMA_HEAD:
        problems.append(
            Problem("schema", None, None, f"revision {revision}, expected {SCHEMA_HEAD}", False)
        )
    if db.is_sqlite:
        problems += integrity_problems(db)
    with db.read():
        problems += orphan_problems(db)
        problems += index_problems(db)
        problems += clock_problems(db, tz)
        problems += match_key_problems(db, phone_region)
        problems += deal_value_problems(db)
        shared = team_settings.effective(db, file_settings or {})
    return DoctorReport(
        store=db.location.describe(),
        backend=db.dialect,
        revision=revision,
        checks=checks,
        healthy=not problems,
        problems=problems,
        settings=shared,
    )


def _revision(db: Db) -> str | None:
    value = db.value("SELECT version_num FROM alembic_version")
    return None if value is None else str(value)


def integrity_problems(db: Db) -> list[Problem]:
    """SQLite's own checks of the file, and of each FTS5 table's inverted index."""
    problems = []
    try:
        lines = [str(r["integrity_check"]) for r in db.all("PRAGMA integrity_check")]
    except Exception as e:  # a file too damaged to check is itself the finding
        lines = [str(e)]
    problems += [Problem("integrity", None, None, line, False) for line in lines if line != "ok"]
    for kind in search.KINDS:
        try:
            db.conn.execute(f"INSERT INTO {kind}_fts ({kind}_fts) VALUES ('integrity-check')")
        except sqlite3.DatabaseError as e:
            problems.append(Problem("integrity", f"{kind}_fts", None, f"search index damaged: {e}"))
    return problems


# -- orphans ----------------------------------------------------------------------------
@dataclass(frozen=True)
class ForeignKey:
    table: str
    column: str
    parent: str
    parent_column: str
    on_delete: str  # CASCADE | SET NULL | RESTRICT | NO ACTION | SET DEFAULT

    @property
    def repairable(self) -> bool:
        """Whether its orphans can be repaired as the database would (deleted or set to NULL)."""
        return self.on_delete in ("CASCADE", "SET NULL")

    def orphaned(self) -> str:
        """The condition that picks this key's orphans (the child table aliased `ch`)."""
        return (
            f"ch.{self.column} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {self.parent} p"
            f" WHERE p.{self.parent_column} = ch.{self.column})"
        )


_PG_ACTIONS = {"c": "CASCADE", "n": "SET NULL", "r": "RESTRICT", "a": "NO ACTION"}


def foreign_keys(db: Db) -> list[ForeignKey]:
    """Every single-column foreign key of the store's tables, from the catalog."""
    if db.is_sqlite:
        tables = [
            r["name"]
            for r in db.all(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE"
                " 'CREATE VIRTUAL%' ORDER BY name"
            )
        ]
        keys = []
        for t in tables:
            for r in db.all(f"PRAGMA foreign_key_list({_quote(t)})"):
                keys.append(ForeignKey(t, r["from"], r["table"], r["to"] or "id", r["on_delete"]))
        return keys
    rows = db.all(
        "SELECT c.conrelid::regclass::text AS child, a.attname AS col,"
        " c.confrelid::regclass::text AS parent, pa.attname AS pcol, c.confdeltype AS action"
        " FROM pg_constraint c"
        " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
        " JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = c.confkey[1]"
        " WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace"
        " AND array_length(c.conkey, 1) = 1 ORDER BY 1, 2"
    )
    return [
        ForeignKey(
            r["child"], r["col"], r["parent"], r["pcol"], _PG_ACTIONS.get(r["action"], "NO ACTION")
        )
        for r in rows
    ]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _has_id(db: Db, table: str) -> bool:
    if db.is_sqlite:
        return True  # every tinycrm table has a rowid; `id` where it has one
    return bool(
        db.value(
            "SELECT count(*) AS n FROM information_schema.columns WHERE table_name = :t"
            " AND column_name = 'id' AND table_schema = current_schema()",
            {"t": table},
        )
    )


def orphan_problems(db: Db) -> list[Problem]:
    """Rows whose foreign key names a parent that is not there."""
    keys = foreign_keys(db)
    if db.is_sqlite:
        by_id = {}
        for t in {k.table for k in keys}:
            for r in db.all(f"PRAGMA foreign_key_list({_quote(t)})"):
                by_id[(t, r["id"])] = next(
                    k for k in keys if k.table == t and k.column == r["from"]
                )
        problems = []
        for r in db.all("PRAGMA foreign_key_check"):
            key = by_id[(r["table"], r["fkid"])]
            value = db.value(
                f"SELECT {key.column} AS v FROM {_quote(key.table)} WHERE rowid = :id",
                {"id": r["rowid"]},
            )
            problems.append(_orphan(key, r["rowid"], value))
        return problems
    problems = []
    for key in keys:
        ident = "ch.id" if _has_id(db, key.table) else "NULL"
        for r in db.all(
            f"SELECT {ident} AS id, ch.{key.column} AS v FROM {key.table} ch"
            f" WHERE {key.orphaned()} ORDER BY 1"
        ):
            problems.append(_orphan(key, r["id"], r["v"]))
    return problems


def _orphan(key: ForeignKey, row_id: int | None, value: Any) -> Problem:
    fix = {
        "CASCADE": "repair deletes it",
        "SET NULL": f"repair clears {key.column}",
    }.get(key.on_delete, f"needs a person: point it at an existing {key.parent} row")
    return Problem(
        "orphans",
        key.table,
        row_id,
        f"{key.column} {value} points at no {key.parent} row ({fix})",
        key.repairable,
    )


# -- search index -----------------------------------------------------------------------
def _spans(db: Db, kind: str) -> Iterator[tuple[int, int]]:
    table = {"contact": "contacts", "company": "companies"}.get(kind, kind + "s")
    top = db.value(f"SELECT max(id) AS n FROM {table}") or 0
    if db.is_sqlite:
        top_indexed = db.value(f"SELECT max(rowid) AS n FROM {kind}_fts") or 0
    else:
        top_indexed = (
            db.value("SELECT max(ref_id) AS n FROM search_docs WHERE kind = :k", {"k": kind}) or 0
        )
    top = max(int(top), int(top_indexed))
    for lo in range(0, top, SPAN):
        yield lo, min(lo + SPAN, top)


def _same(a: str, b: str) -> bool:
    """Two index documents match the same searches: the same tokens, in any order."""
    return a == b or sorted(a.split()) == sorted(b.split())


def index_problems(db: Db) -> list[Problem]:
    """Search index rows missing, stale or left over, compared with what the services would
    write."""
    problems = []
    for kind in search.KINDS:
        for lo, hi in _spans(db, kind):
            want = search.documents(db, kind, lo, hi)
            have = search.indexed(db, kind, lo, hi)
            for ref_id in sorted(want.keys() | have.keys()):
                if ref_id not in have:
                    detail = "missing: search can't find it"
                elif ref_id not in want:
                    detail = f"extra: the {kind} is gone"
                elif not _same(want[ref_id], have[ref_id]):
                    detail = "stale: search finds it by old text"
                else:
                    continue
                problems.append(Problem("search index", kind, ref_id, detail))
    return problems


# -- clocks -----------------------------------------------------------------------------
def clock_problems(db: Db, tz: tzinfo = UTC) -> list[Problem]:
    """Stay-in-touch, rot and SLA times that differ from what the services would compute."""
    problems = []
    for table, column, rows in (
        ("contacts", "touch_due_at", clocks.touch_rows),
        ("deals", "rots_at", clocks.rot_rows),
    ):
        alias = table[0]
        top = int(db.value(f"SELECT max(id) AS n FROM {table}") or 0)
        for lo in range(0, top, SPAN):
            for ref_id, stored, due in rows(
                db, f"{alias}.id > :lo AND {alias}.id <= :hi", {"lo": lo, "hi": lo + SPAN}
            ):
                if stored != due:
                    problems.append(
                        Problem("clocks", table, ref_id, column, stored=stored, expected=due)
                    )
    top = int(db.value("SELECT max(id) AS n FROM cases") or 0)
    for lo in range(0, top, SPAN):
        for ref_id, stored, due in cases.clock_rows(db, tz, lo, lo + SPAN):
            if stored != due:
                problems.append(
                    Problem("clocks", "cases", ref_id, "sla_due_at", stored=stored, expected=due)
                )
    return problems


# -- deal values ------------------------------------------------------------------------
def _deal_values(db: Db) -> Iterator[tuple[int, int, int]]:
    """(deal id, stored value, the net of its items) for every deal with line items."""
    from tinycrm.pricing import Line, totals

    lines: dict[int, list[Line]] = {}
    stored: dict[int, int] = {}
    for deal_id, value, qty, price, dbp, dc, tax in db.tuples(
        "SELECT i.deal_id, d.value_cents, i.quantity, i.price_cents, i.discount_bp,"
        " i.discount_cents, i.tax_bp FROM deal_items i JOIN deals d ON d.id = i.deal_id"
        " ORDER BY i.deal_id, i.position, i.id"
    ):
        stored[int(deal_id)] = int(value)
        lines.setdefault(int(deal_id), []).append(
            Line(int(qty), int(price), dbp, None if dc is None else int(dc), int(tax))
        )
    for deal_id, items in lines.items():
        yield deal_id, stored[deal_id], totals(items).net_cents


def deal_value_problems(db: Db) -> list[Problem]:
    """Deals with line items whose value is not their items' net (services.deal_items
    keeps them equal in the same transaction as every item change)."""
    return [
        Problem(
            "deal values",
            "deals",
            deal_id,
            f"value {format_cents(value)}, its items come to {format_cents(net)}",
        )
        for deal_id, value, net in _deal_values(db)
        if value != net
    ]


# -- match keys -------------------------------------------------------------------------
def expected_match_key(kind: str, value: str, region: str | None) -> str | None:
    """The match key an email or phone should have (None when it can't have one)."""
    from tinycrm.identity import email_match_key, phone_match_key

    if kind == "email":
        try:
            return email_match_key(value)
        except ValueError:
            return None
    if kind == "phone":
        return phone_match_key(value, region)
    return None


def _match_key_rows(
    db: Db, region: str | None
) -> Iterator[tuple[int, str, str | None, str | None]]:
    """(method id, value, stored key, expected key) for every email and phone."""
    top = int(db.value("SELECT max(id) AS n FROM contact_methods") or 0)
    for lo in range(0, top, SPAN):
        for mid, kind, value, stored in db.tuples(
            "SELECT id, kind, value, match_key FROM contact_methods"
            " WHERE id > :lo AND id <= :hi AND kind IN ('email', 'phone') ORDER BY id",
            {"lo": lo, "hi": lo + SPAN},
        ):
            yield int(mid), str(value), stored, expected_match_key(kind, str(value), region)


def match_key_problems(db: Db, region: str | None) -> list[Problem]:
    """Emails and phones whose stored match key is missing or stale."""
    problems = []
    for mid, value, stored, want in _match_key_rows(db, region):
        if stored == want:
            continue
        what = "missing" if stored is None else f"stale: {stored!r}"
        problems.append(
            Problem("match keys", "contact_methods", mid, f"{value!r}: {what}, should be {want!r}")
        )
    return problems


# -- repairing --------------------------------------------------------------------------
def repair(
    db: Db,
    *,
    phone_region: str | None = None,
    tz: tzinfo = UTC,
    file_settings: Mapping[str, Any] | None = None,
) -> DoctorReport:
    """Back the store up, fix what can be fixed in one transaction, and check again. With
    nothing to repair, that is just the check: no backup is taken."""
    first = check(db, phone_region=phone_region, tz=tz, file_settings=file_settings)
    if not any(p.repairable for p in first.problems):
        first.repaired = 0
        return first
    backup = auto_backup(db, "repair")
    fixed = 0
    with db.write():
        fixed += _rebuild_damaged_fts(db)  # first: the delete triggers write to it
        fixed += _repair_orphans(db)
        fixed += _repair_index(db)
        fixed += _repair_clocks(db, tz)
        fixed += _repair_match_keys(db, phone_region)
        fixed += _repair_deal_values(db)
    report = check(db, phone_region=phone_region, tz=tz, file_settings=file_settings)
    report.repaired = fixed
    report.backup = str(backup)
    return report


def _repair_orphans(db: Db) -> int:
    fixed = 0
    for _ in range(10):  # a deleted orphan's own orphaned children go in the next round
        changed = 0
        for key in foreign_keys(db):
            if key.on_delete == "CASCADE":
                sql = (
                    f"DELETE FROM {key.table} WHERE {key.column} IS NOT NULL AND NOT EXISTS"
                    f" (SELECT 1 FROM {key.parent} p WHERE p.{key.parent_column} ="
                    f" {key.table}.{key.column})"
                )
            elif key.on_delete == "SET NULL":
                sql = (
                    f"UPDATE {key.table} SET {key.column} = NULL WHERE {key.column} IS NOT NULL"
                    f" AND NOT EXISTS (SELECT 1 FROM {key.parent} p"
                    f" WHERE p.{key.parent_column} = {key.table}.{key.column})"
                )
            else:
                continue
            changed += max(int(db.execute(sql).rowcount or 0), 0)
        fixed += changed
        if not changed:
            break
    return fixed


def _rebuild_damaged_fts(db: Db) -> int:
    fixed = 0
    if db.is_sqlite:
        for kind in search.KINDS:
            try:
                db.conn.execute(f"INSERT INTO {kind}_fts ({kind}_fts) VALUES ('integrity-check')")
            except sqlite3.DatabaseError:
                db.execute(f"INSERT INTO {kind}_fts ({kind}_fts) VALUES ('rebuild')")
                fixed += 1
    return fixed


def _repair_index(db: Db) -> int:
    fixed = 0
    for p in index_problems(db):
        assert p.table is not None and p.id is not None
        search.reindex(db, p.table, p.id)
        fixed += 1
    return fixed


def _repair_clocks(db: Db, tz: tzinfo) -> int:
    problems = clock_problems(db, tz)
    clocks.refresh_touch(db, [p.id for p in problems if p.table == "contacts" and p.id])
    clocks.refresh_rot(db, [p.id for p in problems if p.table == "deals" and p.id])
    case_ids = [p.id for p in problems if p.table == "cases" and p.id]
    if case_ids:
        db.lock("cases", case_ids, "change")
    cases.refresh_clocks(db, tz, case_ids)
    return len(problems)


def _repair_deal_values(db: Db) -> int:
    fixed = 0
    for deal_id, value, net in list(_deal_values(db)):
        if value != net:
            db.execute(
                "UPDATE deals SET value_cents = :v WHERE id = :id", {"v": net, "id": deal_id}
            )
            fixed += 1
    return fixed


def _repair_match_keys(db: Db, region: str | None) -> int:
    fixed = 0
    for mid, _, stored, want in list(_match_key_rows(db, region)):
        if stored != want:
            db.execute(
                "UPDATE contact_methods SET match_key = :k WHERE id = :id", {"k": want, "id": mid}
            )
            fixed += 1
    return fixed
