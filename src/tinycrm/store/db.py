"""The store's connection: one connection, portable SQL, one transaction per use case.

Services write SQL with `:name` parameters and read rows as dicts. On SQLite this runs on
the stdlib `sqlite3` module (so quick entry never imports SQLAlchemy); on PostgreSQL on
psycopg 3, with the parameters rewritten to `%(name)s`. Timestamps are aware UTC
`datetime`s in Python; SQLite stores them as `YYYY-MM-DD HH:MM:SS` (UTC, a layout
SQLAlchemy reads, and lexical order is time order), PostgreSQL as `timestamptz`.

Nothing here reads the settings file or the environment: the caller (startup.py, the CLI)
passes what the settings say as a `StoreSettings` inside the `Location`. Opening and
migrating is in `tinycrm.store.open`, backups in `tinycrm.store.backups`.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

from tinycrm import pgurl
from tinycrm.errors import StoreError
from tinycrm.text import mask_secrets

DEFAULT_BUSY_TIMEOUT_S = 10.0
MAX_BUSY_TIMEOUT_S = 86400.0  # a day; SQLite counts the wait in int milliseconds
DEFAULT_KEEP_BACKUPS = 5

Row = dict[str, Any]
Params = Mapping[str, Any] | None

#: What a check can be about when there is no row to lock yet: a name or an address about
#: to be taken, a file about to be imported twice (see Db.lock_key).
LockKey = Literal[
    "contact identities",  # names, emails and phones, for the duplicate checks
    "company names",
    "users",  # their names and who leads whom
    "stages",  # the pipeline: names and positions
    "tag cadences",
    "digests sent",
    "purchase imports",
    "interaction imports",
    "deal imports",
    "team settings",  # the store's shared settings (working hours, holidays)
    "sla targets",
    "mail imports",  # the messages `mail import` logged, and IMAP folder positions
    "case imports",  # the cases `import cases` checks for duplicates
    "products",  # SKUs and names; shared by a writer that needs a product to stay
    "quote numbers",  # the per-year counter of quote numbers
    "goals",  # one goal per user, metric, period length and first period
    "campaign names",
    "custom fields",  # their names per kind of record
    "saved views",  # their names, unique ignoring case
]
LockMode = Literal["change", "delete", "keep"]
_LOCK_SPACE = 0x7463  # "tc": the first key of tinycrm's advisory locks (Db.lock_key)


@dataclass(frozen=True)
class StoreSettings:
    """What the user's settings say about using a store, as plain values: the caller reads
    them (config.store_settings) so that nothing below the services reads a file."""

    busy_timeout: float = DEFAULT_BUSY_TIMEOUT_S  # seconds a writer waits for another
    keep_backups: int = DEFAULT_KEEP_BACKUPS  # automatic backups kept per store
    #: Where backups of a PostgreSQL store go (`backups/` in the user data folder); an
    #: SQLite store's go to `backups/` beside its file.
    pg_backups: Path | None = None


# Whole seconds: a CRM needs no more, and it saves 7 bytes per stored time and index entry
# (~40 MiB on the benchmark store); equal times fall back to id order.
_TS_FORMAT = "%Y-%m-%d %H:%M:%S"
_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@dataclass(frozen=True)
class Location:
    """Where a store lives: a SQLite file path, or a PostgreSQL connection URL (as the user
    gave it in `url`; read once into `pg`, which keeps the password apart); with the
    settings to use it by."""

    dialect: str  # "sqlite" | "postgresql"
    path: Path | None = None
    url: str | None = None
    pg: pgurl.PgUrl | None = None
    settings: StoreSettings = field(default=StoreSettings(), compare=False)

    def describe(self) -> str:
        """A label safe to print: the path, or the URL with any password masked."""
        if self.path is not None:
            return str(self.path)
        return self.pg.masked if self.pg is not None else mask_secrets(self.url or "")


def locate(value: str, settings: StoreSettings | None = None) -> Location:
    """Parse what the user gave as `--db`: a path, `sqlite:///path` or `postgresql://...`."""
    value = value.strip()
    settings = settings or StoreSettings()
    if pgurl.SCHEME.match(value):
        return Location("postgresql", url=value, pg=pgurl.parse(value), settings=settings)
    if value.startswith("sqlite:///"):
        path = Path(value[len("sqlite:///") :]).expanduser()
        return Location("sqlite", path=path, settings=settings)
    if "://" in value:
        scheme = value.split("://", 1)[0]
        raise StoreError(
            f"unsupported store URL scheme {mask_secrets(scheme)!r}: use a file path or"
            " postgresql://..."
        )
    if pgurl.is_key_value(value):
        pgurl.parse(value)  # refused, with the password masked
    return Location("sqlite", path=Path(value).expanduser(), settings=settings)


def pg_of(location: Location) -> pgurl.PgUrl:
    """The parsed URL of a PostgreSQL store (a programming error for an SQLite one)."""
    assert location.pg is not None, "not a PostgreSQL store"
    return location.pg


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> Row:
    return {d[0]: v for d, v in zip(cursor.description, row, strict=True)}


class Db:
    """A connection and the few operations services need."""

    def __init__(self, conn: Any, location: Location) -> None:
        self.conn = conn
        self.location = location
        self.dialect = location.dialect
        self.is_sqlite = location.dialect == "sqlite"
        self._in_tx = False
        self._writing = False
        self._sql_cache: dict[str, str] = {}
        #: Whether the store has the change journal (set by open_store at the head
        #: revision); then every write transaction is filed as one change when it ends.
        self.journal = False
        self._audit_ids: list[int] = []
        self._change_user: int | None = None
        self._change_at: Any = None
        self._change_undoes: int | None = None
        #: The change the last write transaction was filed as (None: it wrote nothing
        #: the journal keeps).
        self.last_change: int | None = None

    # -- SQL ------------------------------------------------------------------------------
    def _sql(self, sql: str) -> str:
        if self.is_sqlite:
            return sql
        cached = self._sql_cache.get(sql)
        if cached is None:
            cached = _PARAM.sub(r"%(\1)s", sql.replace("%", "%%"))
            self._sql_cache[sql] = cached
        return cached

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        """Driver errors as one-line StoreErrors naming the store."""
        try:
            yield
        except sqlite3.OperationalError as e:
            raise _store_error(e, self.location) from None
        except Exception as e:
            if self.is_sqlite or not _is_psycopg_error(e):
                raise
            raise _pg_error(e, self.location) from None

    def execute(self, sql: str, params: Params = None) -> Any:
        """Run one statement with `:name` parameters; the driver's cursor."""
        with self._errors():
            return self.conn.execute(self._sql(sql), dict(params or {}))

    def all(self, sql: str, params: Params = None) -> list[Row]:
        """Every row of a query, as dicts."""
        return list(self.execute(sql, params).fetchall())

    def tuples(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]:
        """Rows as plain tuples, in the SELECT's column order: for queries that return
        tens of thousands of rows, where building a dict per row is most of the cost."""
        with self._errors():
            if self.is_sqlite:
                cursor = self.conn.cursor()
                cursor.row_factory = None
                return list(cursor.execute(sql, dict(params or {})).fetchall())
            from psycopg.rows import tuple_row

            with self.conn.cursor(row_factory=tuple_row) as cur:
                cur.execute(self._sql(sql), dict(params or {}))
                return list(cur.fetchall())

    def one(self, sql: str, params: Params = None) -> Row | None:
        """The first row of a query (None if there is none)."""
        row: Row | None = self.execute(sql, params).fetchone()
        return row

    def value(self, sql: str, params: Params = None) -> Any:
        """The first column of the first row (None if there is no row)."""
        row = self.one(sql, params)
        return None if row is None else next(iter(row.values()))

    def insert(self, sql: str, params: Params = None) -> int:
        """Run an INSERT ... RETURNING id and give back the new id."""
        row = self.one(sql, params)
        assert row is not None, "INSERT without RETURNING id"
        return int(row["id"])

    def insert_many(self, sql: str, rows: list[dict[str, Any]]) -> None:
        """Run one statement for each of `rows` in a single driver call (bulk imports)."""
        try:
            self.conn.executemany(self._sql(sql), rows) if self.is_sqlite else (
                self.conn.cursor().executemany(self._sql(sql), rows)
            )
        except sqlite3.OperationalError as e:
            raise _store_error(e, self.location) from None

    # -- transactions ---------------------------------------------------------------------
    @contextlib.contextmanager
    def write(self) -> Iterator[Db]:
        """One write transaction. SQLite takes the write lock up front (BEGIN IMMEDIATE), so
        concurrent writers queue on the busy timeout instead of failing half-way."""
        if self._in_tx:  # nested use: part of the outer transaction
            if self._writing:
                yield self
                return
            self._writing = True  # inside an SQLite read() (the user made on first use)
            try:
                yield self
            finally:
                self._writing = False
            return
        self._in_tx = self._writing = True
        self._audit_ids, self._change_user, self._change_undoes = [], None, None
        self.last_change = None
        try:
            if self.is_sqlite:
                self.execute("BEGIN IMMEDIATE")
                try:
                    yield self
                    self._close_change()
                except BaseException:
                    self.conn.rollback()
                    raise
                self.execute("COMMIT")
            else:
                with self.conn.transaction():
                    yield self
                    self._close_change()
        except BaseException:
            self.last_change = None
            raise
        finally:
            self._in_tx = self._writing = False

    # -- the change journal (tinycrm.store.journal) ----------------------------------------
    def note_audit(self, audit_id: int, user_id: int | None, at: Any) -> None:
        """An audit entry written in this transaction: it names the change the transaction
        is filed as, whose user and time are those of its first entry (audit.record)."""
        if not self._audit_ids:
            self._change_user, self._change_at = user_id, at
        self._audit_ids.append(audit_id)

    def mark_undo(self, change_id: int) -> None:
        """This transaction takes back change `change_id` (services/undo): the change it is
        filed as says so, and `change_id` is marked undone by it."""
        self._check_writing("mark_undo")
        self._change_undoes = change_id

    def discard_journal(self) -> None:
        """Drop what the journal caught in this transaction so far: for a write that must
        leave no trace and cannot be undone (forget)."""
        self._check_writing("discard_journal")
        if self.journal:
            self.execute("DELETE FROM row_changes WHERE change_id IS NULL")

    def _close_change(self) -> None:
        """File the rows the triggers wrote in this transaction under one new change. A
        transaction that logged no audit entry (a user made on first use, a repair of
        derived columns) is housekeeping, not a change anyone undoes: its rows are dropped.
        Every KEEP_CHANGES-th change or so prunes the oldest."""
        if not self.journal:
            return
        from tinycrm.store import journal

        pending = self.value(
            "SELECT id FROM row_changes WHERE change_id IS NULL ORDER BY id LIMIT 1"
        )
        if pending is None and self._change_undoes is None:
            return  # an undo is filed even when it had nothing to write back
        if not self._audit_ids and self._change_undoes is None:
            self.execute("DELETE FROM row_changes WHERE change_id IS NULL")
            return
        change = self.insert(
            "INSERT INTO changes (at, user_id, audit_ids, undoes)"
            " VALUES (:at, :user, :audit, :undoes) RETURNING id",
            {
                "at": self._change_at,
                "user": self._change_user,
                "audit": ",".join(str(i) for i in self._audit_ids) or None,
                "undoes": self._change_undoes,
            },
        )
        self.execute("UPDATE row_changes SET change_id = :c WHERE change_id IS NULL", {"c": change})
        if self._change_undoes is not None:
            target = self._change_undoes
            self.execute(
                "UPDATE changes SET undone_by = :c WHERE id = :t", {"c": change, "t": target}
            )
            # taking back an undo (a redo): the change that undo took back stands again
            self.execute(
                "UPDATE changes SET undone_by = NULL WHERE id ="
                " (SELECT undoes FROM changes WHERE id = :t)",
                {"t": target},
            )
        if change % journal.PRUNE_EVERY == 0:
            self.execute(
                "DELETE FROM changes WHERE id <= :old", {"old": change - journal.KEEP_CHANGES}
            )
        self.last_change = change

    # -- locks ----------------------------------------------------------------------------
    # The rule (docs/architecture.md, "Check, then write"): a write transaction locks what
    # it checks before it reads it, so the check still holds when it writes. SQLite's
    # BEGIN IMMEDIATE already holds the whole store; PostgreSQL runs READ COMMITTED, where
    # two transactions can read the same row, both pass the same check and both write.
    # Locks are taken first in a transaction: keys, then rows, parents before children
    # (companies, contacts, deals, reminders), ids in order; so two writers never wait
    # for each other in a circle.

    def lock(self, table: str, ids: int | Iterable[int], mode: LockMode = "change") -> None:
        """Hold these rows of `table` until the transaction ends; read them after this.

        A writer that waits here then reads what the one before it committed. The mode
        says what the transaction does with the rows: "change" them (or decide on what
        they hold: only one writer at a time), "delete" them or move their children
        away (also holds back rows being added under them), or "keep" them: add rows
        under them, which needs them to stay (other keepers and changers go on).
        Missing ids are skipped: the read after finds them gone."""
        self._check_writing("lock")
        wanted = sorted({ids} if isinstance(ids, int) else {int(i) for i in ids})
        if self.is_sqlite or not wanted:
            return
        clause = {"change": "NO KEY UPDATE", "delete": "UPDATE", "keep": "KEY SHARE"}[mode]
        listed = ",".join(str(i) for i in wanted)
        self.execute(f"SELECT id FROM {table} WHERE id IN ({listed}) ORDER BY id FOR {clause}")

    def lock_key(self, key: LockKey, *, shared: bool = False) -> None:
        """Hold `key` until the transaction ends: for a check with no row to lock (is
        this name taken? was this file imported?). Every writer that could make the
        check fail takes the same key first; `shared` for one that only relies on what
        the key guards (a deal move needs its stage to stay), so those go on together.
        A PostgreSQL advisory lock."""
        self._check_writing("lock_key")
        if self.is_sqlite:
            return
        import zlib

        how = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        number = zlib.crc32(key.encode()) - (1 << 31)  # an int4
        self.execute(
            f"SELECT {how}(CAST(:space AS integer), CAST(:key AS integer))",
            {"space": _LOCK_SPACE, "key": number},
        )

    def _check_writing(self, what: str) -> None:
        if not self._writing:
            raise RuntimeError(f"Db.{what}() outside a write transaction locks nothing")

    @contextlib.contextmanager
    def read(self) -> Iterator[Db]:
        """A consistent snapshot for a multi-query read."""
        if self._in_tx or not self.is_sqlite:
            yield self
            return
        self._in_tx = True
        try:
            self.execute("BEGIN")
            try:
                yield self
            finally:
                self.conn.rollback()
        finally:
            self._in_tx = False

    def close(self) -> None:
        """Close the connection (an open transaction is rolled back)."""
        self.conn.close()

    def like_any_case(self, column: str, param: str) -> str:
        """SQL for: `column` matches the LIKE pattern in `:param` (ASCII in lower case,
        `!` escaping) whatever the case of its ASCII letters. SQLite's LIKE ignores that
        case already (and lower() would cost 4x on a long scan); PostgreSQL's doesn't."""
        if self.is_sqlite:
            return f"{column} LIKE :{param} ESCAPE '!'"
        return f"lower({column}) LIKE :{param} ESCAPE '!'"

    # -- the store's files and schema ------------------------------------------------------
    def checkpoint(self, wait: float) -> bool:
        """SQLite: copy the write-ahead log into the store file and empty it, waiting up to
        `wait` seconds for readers of an older snapshot (they still need the old pages).
        With `secure_delete` on when rows were deleted, the file then holds nothing of
        them. False if a reader still held on; the next checkpoint (at the latest when the
        last connection closes) finishes the job. PostgreSQL: nothing to do (True)."""
        if not self.is_sqlite:
            return True
        deadline = time.monotonic() + wait
        while True:
            with self._errors():
                row = self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if not row["busy"]:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    def tables(self) -> list[Table]:
        """tinycrm's tables as the store has them (not the search index or Alembic's)."""
        if self.is_sqlite:
            return self._sqlite_tables()
        return self._postgres_tables()

    def _sqlite_tables(self) -> list[Table]:
        names = [
            str(r["name"])
            for r in self.all(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite!_%'"
                " ESCAPE '!' AND name NOT LIKE '%!_fts' ESCAPE '!' AND name NOT LIKE"
                " '%!_fts!_%' ESCAPE '!' AND name <> 'alembic_version' ORDER BY name"
            )
        ]
        out = []
        for name in names:
            info = self.all(f"PRAGMA table_info('{name}')")
            unique = set()
            for index in self.all(f"PRAGMA index_list('{name}')"):
                cols = self.all(f"PRAGMA index_info('{index['name']}')")
                if index["unique"] and len(cols) == 1:
                    unique.add(str(cols[0]["name"]))
            out.append(
                Table(
                    name,
                    key=tuple(
                        str(c["name"]) for c in sorted(info, key=lambda c: c["pk"]) if c["pk"]
                    ),
                    columns=tuple(str(c["name"]) for c in info),
                    text=tuple(str(c["name"]) for c in info if _is_text(str(c["type"]))),
                    unique=frozenset(unique),
                )
            )
        return out

    def _postgres_tables(self) -> list[Table]:
        columns: dict[str, list[tuple[str, str]]] = {}
        for r in self.all(
            "SELECT table_name, column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name NOT IN"
            " ('alembic_version', 'search_docs') ORDER BY table_name, ordinal_position"
        ):
            columns.setdefault(str(r["table_name"]), []).append(
                (str(r["column_name"]), str(r["data_type"]))
            )
        keys: dict[str, list[str]] = {}
        unique: dict[str, set[str]] = {}
        for r in self.all(
            "SELECT c.relname AS tbl, i.indisprimary AS pk, a.attname AS col,"
            " array_position(i.indkey::int2[], a.attnum) AS pos, i.indnkeyatts AS n"
            " FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid"
            " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey)"
            " WHERE c.relnamespace = current_schema()::regnamespace AND i.indisunique"
            " ORDER BY tbl, pos"
        ):
            if r["pk"]:
                keys.setdefault(str(r["tbl"]), []).append(str(r["col"]))
            elif r["n"] == 1:
                unique.setdefault(str(r["tbl"]), set()).add(str(r["col"]))
        return [
            Table(
                name,
                key=tuple(keys.get(name, ())),
                columns=tuple(c for c, _ in cols),
                text=tuple(c for c, kind in cols if _is_text(kind)),
                unique=frozenset(unique.get(name, ())),
            )
            for name, cols in sorted(columns.items())
        ]

    # -- values ---------------------------------------------------------------------------
    def ts(self, value: datetime | None) -> Any:
        """A timestamp as the store wants it."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use aware UTC times")
        value = value.astimezone(UTC)
        return value.strftime(_TS_FORMAT) if self.is_sqlite else value

    def day(self, value: date | None) -> Any:
        """A calendar day as the store wants it (ISO text on SQLite, DATE on PostgreSQL)."""
        if value is None:
            return None
        return value.isoformat() if self.is_sqlite else value


@dataclass(frozen=True)
class Table:
    """A table as the store describes it (`Db.tables()`)."""

    name: str
    key: tuple[str, ...]  # the primary key's columns
    columns: tuple[str, ...]
    text: tuple[str, ...]  # the columns that hold text
    unique: frozenset[str]  # columns with a unique index of their own


def _is_text(declared: str) -> bool:
    kind = declared.upper()
    return any(word in kind for word in ("CHAR", "TEXT", "CLOB"))


def _is_psycopg_error(e: Exception) -> bool:
    module = type(e).__module__
    return module.startswith("psycopg")


def _pg_error(e: Exception, where: Location) -> StoreError:
    state = getattr(e, "sqlstate", None)
    if state == "55P03":  # lock_not_available: waited lock_timeout (the busy timeout)
        return _locked_error(where)
    if state == "40P01":  # deadlock_detected: the server cancelled this one
        return StoreError(
            f"another command on {where.describe()} was changing the same records at the"
            " same time; nothing was saved: try again"
        )
    first = mask_secrets((str(e).strip().splitlines() or [type(e).__name__])[0])
    return StoreError(f"store error on {where.describe()}: {first}")


def _locked_error(where: Location) -> StoreError:
    return StoreError(
        f"the store {where.describe()} stayed locked by another process for"
        f" {where.settings.busy_timeout:g} s; try again"
    )


def read_ts(value: Any) -> datetime | None:
    """A stored timestamp back as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    text = str(value)
    parsed = datetime.fromisoformat(text)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def read_day(value: Any) -> date | None:
    """A stored calendar day back as a date."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _store_error(e: sqlite3.OperationalError, where: Location) -> StoreError:
    text = str(e)
    if "locked" in text or "busy" in text:
        return _locked_error(where)
    if "readonly" in text or "read-only" in text:
        return StoreError(f"the store {where.describe()} is read-only")
    if "disk I/O" in text and file_size_limit() is not None:
        return StoreError(f"can't use the store {where.describe()}: {text}{limit_hint()}")
    if "disk I/O" in text or "not a database" in text or "malformed" in text:
        return StoreError(f"the store {where.describe()} is unreadable: {text}")
    return StoreError(f"store error on {where.describe()}: {text}")


# -- the file-size limit (ulimit -f) -----------------------------------------------------
#: What SQLite writes beside a WAL store as soon as it is opened (the -shm index).
WAL_INDEX_BYTES = 32768


def file_size_limit() -> int | None:
    """The largest file this process may write (RLIMIT_FSIZE, `ulimit -f`), if limited."""
    try:
        import resource
    except ImportError:  # not on this platform
        return None
    soft = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    return None if soft == resource.RLIM_INFINITY else int(soft)


def limit_hint() -> str:
    """' (...ulimit -f)' naming the limit when there is one: for I/O errors."""
    limit = file_size_limit()
    if limit is None:
        return ""
    return f" (this process may not write files over {limit} bytes: ulimit -f)"


def check_file_size_limit(needed: int, doing: str) -> None:
    """Refuse up front what the file-size limit would stop half-way: a clean one-line
    error instead of a half-written file (and SIGXFSZ, or EFBIG, part-way through)."""
    limit = file_size_limit()
    if limit is not None and needed > limit:
        raise StoreError(
            f"{doing} needs to write files of up to {needed} bytes, but this process may not"
            f" write files over {limit} bytes (ulimit -f)"
        )
