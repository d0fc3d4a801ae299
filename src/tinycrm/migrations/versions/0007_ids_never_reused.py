"""ids are never handed out again: AUTOINCREMENT on SQLite, past every id ever seen

Without AUTOINCREMENT, SQLite gives a new row the highest id in the table plus one, so the
newest record's id came back after it was deleted: a newcomer inherited the audit entries
of the person deleted before it (`history`, `export person`). Every table keyed by an
integer id is rebuilt with `id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT` (the rest of
its definition, its indexes and its triggers, such as the search index's AFTER DELETE
ones, exactly as they were), and its counter (`sqlite_sequence`) starts after the highest
id it ever handed out: the table's own, and any the audit log or a merge snapshot names,
so a record deleted before this upgrade doesn't get its id back either. PostgreSQL's
sequences never go back, but they are moved past those ids too.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 12:00:00
"""

from __future__ import annotations

import json
import re
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

#: Every table keyed by an integer id at revision 0006.
TABLES = (
    "users",
    "companies",
    "contacts",
    "contact_methods",
    "interactions",
    "reminders",
    "stages",
    "deals",
    "stage_changes",
    "purchases",
    "merges",
    "erasures",
    "audit_log",
)
#: audit_log.entity -> the table of its ids
ENTITIES = {
    "user": "users",
    "company": "companies",
    "contact": "contacts",
    "interaction": "interactions",
    "reminder": "reminders",
    "stage": "stages",
    "deal": "deals",
    "purchase": "purchases",
}
_PLAIN_ID = re.compile(r"(?<=[(\s])id INTEGER NOT NULL(?=\s*,)")
_AUTO_ID = re.compile(r"(?<=[(\s])id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT(?=\s*,)")
_PK_CONSTRAINT = re.compile(r",\s*PRIMARY KEY \(id\)")


def upgrade() -> None:
    bind = op.get_bind()
    marks = highest_ids(bind)
    if bind.dialect.name == "sqlite":
        _check_foreign_keys_off(bind)
        for table in TABLES:
            _rebuild(bind, table, _with_autoincrement)
        _seed_sqlite(bind, marks)
    else:
        _seed_postgres(bind, marks)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        _check_foreign_keys_off(bind)
        for table in TABLES:
            _rebuild(bind, table, _without_autoincrement)
        bind.execute(
            sa.text(f"DELETE FROM sqlite_sequence WHERE name IN ({_listed(TABLES)})"),
        )


def _listed(names: tuple[str, ...]) -> str:
    return ", ".join(f"'{n}'" for n in names)


# -- the highest ids ever handed out ------------------------------------------------------
def highest_ids(bind: Any) -> dict[str, int]:
    """Per table: the highest id it holds, the audit log names, or a merge snapshot names
    (the contact merged away, its dropped methods, the rows that moved)."""
    marks: dict[str, int] = {}

    def see(table: str, value: Any) -> None:
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            marks[table] = max(marks.get(table, 0), value)

    for table in TABLES:
        see(table, bind.execute(sa.text(f"SELECT max(id) FROM {table}")).scalar())
    for entity, top in bind.execute(
        sa.text("SELECT entity, max(entity_id) FROM audit_log GROUP BY entity")
    ):
        if entity in ENTITIES:
            see(ENTITIES[entity], top)
    for removed_id, snapshot in bind.execute(sa.text("SELECT removed_id, snapshot FROM merges")):
        see("contacts", removed_id)
        try:
            snap = json.loads(snapshot)
        except (TypeError, ValueError):
            continue
        if not isinstance(snap, dict):
            continue
        see("contacts", (snap.get("removed") or {}).get("id"))
        for table, ids in (snap.get("moved") or {}).items():
            for moved_id in ids if table in TABLES and isinstance(ids, list) else ():
                see(table, moved_id)
        for method in snap.get("moved_methods") or ():
            see("contact_methods", method[0] if isinstance(method, list) and method else None)
        for method in snap.get("dropped_methods") or ():
            see("contact_methods", method.get("id") if isinstance(method, dict) else None)
    return marks


# -- SQLite: rebuild with AUTOINCREMENT ---------------------------------------------------
def _check_foreign_keys_off(bind: Any) -> None:
    """Dropping a parent table with foreign keys on would delete its children's rows."""
    if bind.execute(sa.text("PRAGMA foreign_keys")).scalar():
        raise RuntimeError("migration 0007 must run with PRAGMA foreign_keys = OFF")


def _with_autoincrement(sql: str) -> str | None:
    if "AUTOINCREMENT" in sql:
        return None
    if len(_PLAIN_ID.findall(sql)) != 1 or len(_PK_CONSTRAINT.findall(sql)) != 1:
        raise RuntimeError(f"migration 0007 does not know this table definition: {sql}")
    return _PK_CONSTRAINT.sub(
        "", _PLAIN_ID.sub("id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT", sql)
    )


def _without_autoincrement(sql: str) -> str | None:
    if "AUTOINCREMENT" not in sql:
        return None
    body = _AUTO_ID.sub("id INTEGER NOT NULL", sql)
    cut = body.rindex(")")
    return body[:cut].rstrip() + ", \n\tPRIMARY KEY (id)\n" + body[cut:]


def _rebuild(bind: Any, table: str, change: Any) -> None:
    """SQLite's own recipe for a changed table definition: create the new table, copy the
    rows, drop the old one, rename the new one, then its indexes and triggers again."""

    def sql_of(kind: str) -> list[str]:
        return [
            str(r[0])
            for r in bind.execute(
                sa.text(
                    "SELECT sql FROM sqlite_master WHERE type = :kind AND tbl_name = :t"
                    " AND sql IS NOT NULL ORDER BY name"
                ),
                {"kind": kind, "t": table},
            )
        ]

    (definition,) = sql_of("table")
    new = change(definition)
    if new is None:
        return
    indexes, triggers = sql_of("index"), sql_of("trigger")
    columns = ", ".join(f'"{r[1]}"' for r in bind.execute(sa.text(f"PRAGMA table_info('{table}')")))
    temp = f"_tinycrm_0007_{table}"
    head = re.compile(rf"^CREATE TABLE \"?{re.escape(table)}\"? \(")
    if not head.match(new):
        raise RuntimeError(f"migration 0007 does not know this table definition: {definition}")
    bind.exec_driver_sql(head.sub(f"CREATE TABLE {temp} (", new, count=1))
    bind.exec_driver_sql(f"INSERT INTO {temp} ({columns}) SELECT {columns} FROM {table}")
    bind.exec_driver_sql(f"DROP TABLE {table}")
    bind.exec_driver_sql(f"ALTER TABLE {temp} RENAME TO {table}")
    for sql in indexes + triggers:
        bind.exec_driver_sql(sql)


def _seed_sqlite(bind: Any, marks: dict[str, int]) -> None:
    have = dict(bind.execute(sa.text("SELECT name, seq FROM sqlite_sequence")).fetchall())
    for table, mark in marks.items():
        if table not in have:
            bind.execute(
                sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES (:t, :m)"),
                {"t": table, "m": mark},
            )
        elif int(have[table]) < mark:
            bind.execute(
                sa.text("UPDATE sqlite_sequence SET seq = :m WHERE name = :t"),
                {"t": table, "m": mark},
            )


# -- PostgreSQL: sequences past every id seen ---------------------------------------------
def _seed_postgres(bind: Any, marks: dict[str, int]) -> None:
    for table, mark in marks.items():
        bind.execute(
            sa.text(
                "SELECT setval(s.seq, :m) FROM"
                " (SELECT pg_get_serial_sequence(:t, 'id')::regclass AS seq) s"
                " WHERE coalesce(pg_sequence_last_value(s.seq), 0) < :m"
            ),
            {"t": table, "m": mark},
        )
