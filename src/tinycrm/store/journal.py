"""The change journal's triggers: every row written to a data table, before and after.

`tinycrm undo` needs to put rows back exactly, which the audit log (written for people:
names, money as text, imports as counts) cannot. So each data table has triggers that copy
the whole row, before and after, into `row_changes` with `change_id` NULL; when the
outermost write transaction ends, `Db.write` files those rows under one new `changes` row
(see `Db._close_change`). Every writer is caught, including ones written after this
(edit, rm, imports, merge), without doing anything.

- SQLite: three triggers per table whose `json_object(...)` names every column (the
  update trigger only when a column changes); so a
  migration that adds a column or rebuilds a table (batch mode drops triggers) must call
  `sqlite_triggers` again for it (tests/test_undo.py checks every table at head).
- PostgreSQL: one plpgsql function, `to_jsonb(OLD/NEW)` (every column, always), and one
  trigger per table; a new table needs its trigger.

Not journaled (`NOT_JOURNALED`): the audit log and the journal itself, the send log of the
digest (what was mailed stays mailed), the quote number counters (a number handed out
stays handed out, even when undo takes its quote back), the erasure records (forget
cannot be undone), and the search index (rewritten from the records after an undo).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

NOT_JOURNALED = frozenset(
    {
        "audit_log",
        "changes",
        "row_changes",
        "digests_sent",
        "erasures",
        "alembic_version",
        "quote_counters",
    }
)

#: How many changes the journal keeps: older ones are pruned as new ones are filed (one
#: change in every PRUNE_EVERY prunes), so undo reaches back this far.
KEEP_CHANGES = 1000
PRUNE_EVERY = 50


def journaled(table: str) -> bool:
    """Whether writes to `table` go to the journal (data tables, not the search index)."""
    return (
        table not in NOT_JOURNALED
        and not table.startswith("sqlite_")
        and "_fts" not in table
        and table != "search_docs"
    )


def sqlite_triggers(table: str, columns: Sequence[str], key: Sequence[str]) -> list[str]:
    """DROP and CREATE statements for `table`'s three journal triggers on SQLite."""

    def image(row: str) -> str:
        return "json_object(" + ", ".join(f"'{c}', {row}.{c}" for c in columns) + ")"

    def row_key(row: str) -> str:
        return "json_array(" + ", ".join(f"{row}.{k}" for k in key) + ")"

    insert = "INSERT INTO row_changes (table_name, row_key, old_row, new_row) VALUES"
    out = []
    for event, values in (
        ("insert", f"('{table}', {row_key('NEW')}, NULL, {image('NEW')})"),
        ("update", f"('{table}', {row_key('OLD')}, {image('OLD')}, {image('NEW')})"),
        ("delete", f"('{table}', {row_key('OLD')}, {image('OLD')}, NULL)"),
    ):
        name = f"{table}_journal_{event}"
        # an update that changes nothing is no change (as on PostgreSQL)
        when = (
            " WHEN " + " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)
            if event == "update"
            else ""
        )
        out.append(f"DROP TRIGGER IF EXISTS {name}")
        out.append(
            f"CREATE TRIGGER {name} AFTER {event.upper()} ON {table}{when}"
            f" BEGIN {insert} {values}; END"
        )
    return out


PG_FUNCTION = """
CREATE OR REPLACE FUNCTION tinycrm_journal() RETURNS trigger AS $$
DECLARE
  before jsonb;
  after jsonb;
BEGIN
  IF TG_OP <> 'INSERT' THEN before := to_jsonb(OLD); END IF;
  IF TG_OP <> 'DELETE' THEN after := to_jsonb(NEW); END IF;
  IF before IS NOT NULL AND after IS NOT NULL AND before = after THEN RETURN NULL; END IF;
  INSERT INTO row_changes (table_name, row_key, old_row, new_row)
  VALUES (
    TG_TABLE_NAME,
    (SELECT jsonb_agg(coalesce(before, after) -> k ORDER BY n)
       FROM unnest(TG_ARGV) WITH ORDINALITY AS a(k, n))::text,
    before::text,
    after::text
  );
  RETURN NULL;
END $$ LANGUAGE plpgsql
"""


def pg_triggers(table: str, key: Sequence[str]) -> list[str]:
    """DROP and CREATE statements for `table`'s journal trigger on PostgreSQL."""
    args = ", ".join(f"'{k}'" for k in key)
    name = f"{table}_journal"
    return [
        f"DROP TRIGGER IF EXISTS {name} ON {table}",
        f"CREATE TRIGGER {name} AFTER INSERT OR UPDATE OR DELETE ON {table}"
        f" FOR EACH ROW EXECUTE FUNCTION tinycrm_journal({args})",
    ]


def install(bind: Any, tables: Sequence[str] | None = None) -> None:
    """Create (or recreate) the journal's triggers on every data table the store has now,
    or on `tables`: migration 0009 for all, and every later migration for the tables it
    adds or alters (`bind` is the migration's SQLAlchemy connection)."""
    import sqlalchemy as sa

    inspector = sa.inspect(bind)
    sqlite = bind.dialect.name == "sqlite"
    if not sqlite:
        bind.exec_driver_sql(PG_FUNCTION)
    for table in sorted(tables if tables is not None else inspector.get_table_names()):
        if not journaled(table):
            continue
        key = inspector.get_pk_constraint(table)["constrained_columns"]
        if sqlite:
            columns = [c["name"] for c in inspector.get_columns(table)]
            statements = sqlite_triggers(table, columns, key)
        else:
            statements = pg_triggers(table, key)
        for statement in statements:
            bind.exec_driver_sql(statement)
