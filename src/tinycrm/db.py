"""The store: one connection, portable SQL, one transaction per use case.

Services write SQL with `:name` parameters and read rows as dicts. On SQLite this runs on
the stdlib `sqlite3` module (so quick entry never imports SQLAlchemy); on PostgreSQL on
psycopg 3, with the parameters rewritten to `%(name)s`. Timestamps are aware UTC
`datetime`s in Python; SQLite stores them as `YYYY-MM-DD HH:MM:SS` (UTC, a layout
SQLAlchemy reads, and lexical order is time order), PostgreSQL as `timestamptz`.

Opening a store checks its schema revision cheaply; only a store that must be created or
upgraded imports Alembic, and an existing SQLite file is backed up before any upgrade.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import sqlite3
import stat
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from tinycrm import pgurl
from tinycrm.errors import MissingStore, StoreError
from tinycrm.text import mask_secrets

if TYPE_CHECKING:
    import subprocess

#: The newest schema revision this tinycrm knows, and every revision it can upgrade from.
#: tests/test_migrations.py checks these against the Alembic scripts.
SCHEMA_HEAD = "0007"
KNOWN_REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007")

DEFAULT_BUSY_TIMEOUT_S = 10.0


MAX_BUSY_TIMEOUT_S = 86400.0  # a day; SQLite counts the wait in int milliseconds


def busy_timeout() -> float:
    """How long a writer waits for another one to finish (TINYCRM_BUSY_TIMEOUT seconds)."""
    from tinycrm.config import env_seconds

    return env_seconds("TINYCRM_BUSY_TIMEOUT", DEFAULT_BUSY_TIMEOUT_S, 0.0, MAX_BUSY_TIMEOUT_S)


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
]
LockMode = Literal["change", "delete", "keep"]
_LOCK_SPACE = 0x7463  # "tc": the first key of tinycrm's advisory locks (Db.lock_key)

# Whole seconds: a CRM needs no more, and it saves 7 bytes per stored time and index entry
# (~40 MiB on the benchmark store); equal times fall back to id order.
_TS_FORMAT = "%Y-%m-%d %H:%M:%S"
_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@dataclass(frozen=True)
class Location:
    """Where a store lives: a SQLite file path, or a PostgreSQL connection URL (as the user
    gave it in `url`; read once into `pg`, which keeps the password apart)."""

    dialect: str  # "sqlite" | "postgresql"
    path: Path | None = None
    url: str | None = None
    pg: pgurl.PgUrl | None = None

    def describe(self) -> str:
        """A label safe to print: the path, or the URL with any password masked."""
        if self.path is not None:
            return str(self.path)
        return self.pg.masked if self.pg is not None else mask_secrets(self.url or "")


def locate(value: str) -> Location:
    """Parse what the user gave as `--db`: a path, `sqlite:///path` or `postgresql://...`."""
    value = value.strip()
    if pgurl.SCHEME.match(value):
        return Location("postgresql", url=value, pg=pgurl.parse(value))
    if value.startswith("sqlite:///"):
        return Location("sqlite", path=Path(value[len("sqlite:///") :]).expanduser())
    if "://" in value:
        scheme = value.split("://", 1)[0]
        raise StoreError(
            f"unsupported store URL scheme {mask_secrets(scheme)!r}: use a file path or"
            " postgresql://..."
        )
    if pgurl.is_key_value(value):
        pgurl.parse(value)  # refused, with the password masked
    return Location("sqlite", path=Path(value).expanduser())


def _pg(location: Location) -> pgurl.PgUrl:
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
        with self._errors():
            return self.conn.execute(self._sql(sql), dict(params or {}))

    def all(self, sql: str, params: Params = None) -> list[Row]:
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
        row: Row | None = self.execute(sql, params).fetchone()
        return row

    def value(self, sql: str, params: Params = None) -> Any:
        row = self.one(sql, params)
        return None if row is None else next(iter(row.values()))

    def insert(self, sql: str, params: Params = None) -> int:
        """Run an INSERT ... RETURNING id and give back the new id."""
        row = self.one(sql, params)
        assert row is not None, "INSERT without RETURNING id"
        return int(row["id"])

    def insert_many(self, sql: str, rows: list[dict[str, Any]]) -> None:
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
        try:
            if self.is_sqlite:
                self.execute("BEGIN IMMEDIATE")
                try:
                    yield self
                except BaseException:
                    self.conn.rollback()
                    raise
                self.execute("COMMIT")
            else:
                with self.conn.transaction():
                    yield self
        finally:
            self._in_tx = self._writing = False

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
        f" {busy_timeout():g} s; try again"
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


# -- opening ----------------------------------------------------------------------------
def open_store(value: str, *, create: bool = True) -> Db:
    """Open (upgrading if needed) the store named by `value`; with `create`, make it where
    there is none. Without, no file, an empty file or a database without tinycrm's tables
    is `MissingStore`."""
    location = locate(value)
    if location.dialect == "sqlite":
        return _open_sqlite(location, create=create)
    return _open_postgres(location, create=create)


def _open_sqlite(location: Location, *, create: bool) -> Db:
    path = location.path
    assert path is not None
    fresh = not path.exists()
    if not create and (fresh or (path.is_file() and path.stat().st_size == 0)):
        raise MissingStore(f"no tinycrm store at {path}")  # an empty file is not one yet
    if fresh:
        _create_private_file(path)
    db = _open_sqlite_raw(location)
    try:
        revision = _sqlite_revision(db)
        if revision is None and not create:  # an SQLite file without tables
            raise MissingStore(f"no tinycrm store at {path}")
    except BaseException:
        db.close()
        raise
    if revision != SCHEMA_HEAD:
        _migrate(db, revision)
    return db


def _open_sqlite_raw(location: Location) -> Db:
    """A connection to an existing SQLite file with tinycrm's pragmas; no schema check."""
    path = location.path
    assert path is not None
    if path.is_dir():
        raise StoreError(f"the store path {path} is a directory, not a file")
    check_file_size_limit(WAL_INDEX_BYTES, f"opening the store {path}")
    wait = busy_timeout()
    try:
        conn = sqlite3.connect(
            str(path), timeout=wait, isolation_level=None, check_same_thread=False
        )
        conn.row_factory = _dict_row
        conn.execute(f"PRAGMA busy_timeout = {int(wait * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
        if conn.execute("PRAGMA journal_mode").fetchone()["journal_mode"] != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        # probe the file: a non-database fails here, not half-way through a command
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError as e:
        raise _store_error(e, location) from None
    except sqlite3.DatabaseError as e:
        raise StoreError(f"the store {path} is unreadable: {e}") from None
    return Db(conn, location)


def _create_private_file(path: Path) -> None:
    try:
        if not path.parent.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
    except FileExistsError:
        pass
    except OSError as e:
        raise StoreError(f"can't create the store {path}: {e.strerror}") from None
    with contextlib.suppress(OSError):
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)


def _sqlite_revision(db: Db) -> str | None:
    has = db.value(
        "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
    )
    if not has:
        tables = db.value("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'")
        if tables:
            raise StoreError(f"{db.location.describe()} is an SQLite file but not a tinycrm store")
        return None
    value = db.value("SELECT version_num FROM alembic_version")
    return None if value is None else str(value)


def _open_postgres(location: Location, *, create: bool) -> Db:
    db = connect_postgres(location)
    try:
        has = db.value("SELECT to_regclass('alembic_version') IS NOT NULL AS has")
        revision = db.value("SELECT version_num FROM alembic_version") if has else None
        if revision != SCHEMA_HEAD:
            if revision is None and not create:
                raise MissingStore(f"no tinycrm store at {location.describe()}")
            _migrate(db, None if revision is None else str(revision))
    except BaseException:
        db.close()
        raise
    return db


def connect_postgres(location: Location) -> Db:
    """A connection to the PostgreSQL server of `location`; no schema check. The password
    goes to libpq as a parameter of its own, never inside the URL it parses."""
    try:
        import psycopg
        from psycopg.rows import dict_row
    except ImportError:
        raise StoreError(
            "PostgreSQL stores need psycopg: pip install 'tinycrm[postgres]'"
        ) from None
    pg = _pg(location)
    # A writer waits for another's locks as long as an SQLite one waits for the file.
    options = f"-c TimeZone=UTC -c lock_timeout={int(busy_timeout() * 1000)}"
    try:
        conn = psycopg.connect(
            pg.url, row_factory=dict_row, autocommit=True, options=options, **pg_secrets(location)
        )
    except psycopg.Error as e:
        message = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise StoreError(
            f"can't connect to {location.describe()}: {mask_secrets(message)}"
        ) from None
    return Db(conn, location)


def pg_secrets(location: Location) -> dict[str, Any]:
    """The store URL's password (and SSL key password) as connection parameters."""
    pg = _pg(location)
    found = {"password": pg.password, "sslpassword": pg.sslpassword}
    return {k: v for k, v in found.items() if v is not None}


def peek_revision(location: Location) -> str | None:
    """The schema revision of the store at `location` without creating or upgrading it:
    None when there is no store yet."""
    if location.dialect == "sqlite":
        assert location.path is not None
        if not location.path.exists():
            return None
        db = _open_sqlite_raw(location)
        try:
            return _sqlite_revision(db)
        finally:
            db.close()
    db = connect_postgres(location)
    try:
        return _current_revision(db)
    finally:
        db.close()


# -- migrations -------------------------------------------------------------------------
def _migrate(db: Db, revision: str | None) -> None:
    """Create or upgrade the schema to SCHEMA_HEAD, backing up an existing store first."""
    if revision is not None and revision not in KNOWN_REVISIONS:
        raise StoreError(
            f"the store {db.location.describe()} has schema revision {revision}, newer than "
            f"this tinycrm knows ({SCHEMA_HEAD}); upgrade tinycrm to use it"
        )
    with _migration_lock(db):
        # Another process may have migrated while we waited for the lock.
        current = _current_revision(db)
        if current == SCHEMA_HEAD:
            return
        if current is not None:
            backup_before_migration(db, current)
        _run_alembic(db)


def _current_revision(db: Db) -> str | None:
    if db.is_sqlite:
        return _sqlite_revision(db)
    has = db.value("SELECT to_regclass('alembic_version') IS NOT NULL AS has")
    return str(db.value("SELECT version_num FROM alembic_version")) if has else None


@contextlib.contextmanager
def _migration_lock(db: Db) -> Iterator[None]:
    if db.is_sqlite:
        import fcntl

        assert db.location.path is not None
        lock_path = db.location.path.with_name(db.location.path.name + ".migrate-lock")
        fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                # Waiters re-check the revision once they hold the lock, so removing the
                # file (instead of leaving it beside the store, even after a failure) is safe.
                with contextlib.suppress(OSError):
                    os.unlink(lock_path)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
    else:
        db.execute("SET lock_timeout = 0")  # however long the other's migration takes
        db.execute("SELECT pg_advisory_lock(7463829)")
        try:
            yield
        finally:
            db.execute("SELECT pg_advisory_unlock(7463829)")
            db.execute("RESET lock_timeout")


def backup_before_migration(db: Db, revision: str) -> Path | None:
    """Copy the store aside before changing its schema; returns the backup's path."""
    return auto_backup(db, f"{SCHEMA_HEAD}-from-{revision}")


# -- backups ----------------------------------------------------------------------------
# The primitives live here, below everything, because migrations need them; `tinycrm
# backup` and `tinycrm restore` (tinycrm.io.backup) build on them.

DEFAULT_KEEP_BACKUPS = 5
_AUTO = re.compile(
    r"\.before-[A-Za-z0-9.-]+?-(?P<stamp>\d{8}T\d{6}Z)(?:-(?P<n>\d+))?\.(?:bak|dump)$"
)


def backups_dir(location: Location) -> Path:
    """Where backups of this store go: `backups/` beside an SQLite file; for PostgreSQL
    `backups/` in the user data folder (TINYCRM_HOME when set)."""
    if location.path is not None:
        return location.path.parent / "backups"
    from tinycrm.config import data_dir

    return data_dir() / "backups"


def backup_stem(location: Location) -> str:
    """The store's name in its automatic backups: the file name, or pg-HOST-PORT-DBNAME."""
    if location.path is not None:
        return location.path.name
    from urllib.parse import urlsplit

    parts = urlsplit(_pg(location).url)
    raw = f"pg-{parts.hostname or 'local'}-{parts.port or 5432}-{parts.path.lstrip('/')}"
    return re.sub(r"[^A-Za-z0-9._-]", "_", raw)


def make_private_dir(folder: Path) -> None:
    """Create `folder` (and missing parents) readable by the owner only."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as e:
        raise StoreError(f"can't create the backup folder {folder}: {e.strerror}") from None


@contextlib.contextmanager
def private_dir(folder: Path) -> Iterator[Path]:
    """make_private_dir(), and if the block fails, remove again the folders it made (when
    empty): a failed backup leaves nothing behind."""
    made = []
    for parent in (folder, *folder.parents):
        if parent.exists():
            break
        made.append(parent)
    make_private_dir(folder)
    try:
        yield folder
    except BaseException:
        for created in made:  # innermost first
            with contextlib.suppress(OSError):
                created.rmdir()
        raise


def keep_backups() -> int:
    """How many automatic backups to keep per store (`keep_backups` in the settings)."""
    from tinycrm.config import load_settings

    return load_settings().keep_backups


def auto_backup(db: Db, what: str) -> Path:
    """An automatic backup of the store, taken before `what` (a migration, a restore),
    into backups_dir() as `<stem>.before-<what>-<UTC stamp>.bak` (`.dump` for PostgreSQL);
    then only the newest keep_backups() automatic backups of this store are kept."""
    if db.is_sqlite:
        return auto_backup_sqlite(db.conn, db.location, what)
    with private_dir(backups_dir(db.location)) as folder:
        target = claim_auto_name(folder, backup_stem(db.location), what, ".dump")
        try:
            pg_dump(db.location, target, why="the backup before this change")
        except BaseException:
            with contextlib.suppress(OSError):
                target.unlink()
            raise
    rotate_backups(folder, backup_stem(db.location), keep_backups())
    return target


def auto_backup_sqlite(conn: sqlite3.Connection, location: Location, what: str) -> Path:
    """auto_backup() for an SQLite store, from any connection to it."""
    stem = backup_stem(location)
    with private_dir(backups_dir(location)) as folder:
        target = claim_auto_name(folder, stem, what, ".bak")
        try:
            sqlite_copy(conn, target, overwrite=True)
        except BaseException:
            with contextlib.suppress(OSError):
                target.unlink()
            raise
    rotate_backups(folder, stem, keep_backups())
    return target


def claim_auto_name(folder: Path, stem: str, what: str, ext: str) -> Path:
    """Create (empty, 0600) and return a fresh automatic backup name, numbered after every
    automatic backup of the store in the same second, so the newest sorts last."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    same_second = [key[1] for key, _ in _auto_backups(folder, stem) if key[0] == stamp]
    first = 1 + max(same_second, default=0)
    for n in range(first, first + 1000):
        suffix = "" if n == 1 else f"-{n}"
        target = folder / f"{stem}.before-{what}-{stamp}{suffix}{ext}"
        try:
            os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            continue
        except OSError as e:
            raise StoreError(f"can't write a backup in {folder}: {e.strerror}") from None
        return target
    raise StoreError(f"too many backups named {stem}.before-{what}-{stamp} in {folder}")


def _auto_backups(folder: Path, stem: str) -> list[tuple[tuple[str, int], Path]]:
    """The automatic backups of the store named `stem` in `folder`, oldest first."""
    found = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    for entry in entries:
        if not entry.name.startswith(stem + "."):
            continue
        match = _AUTO.fullmatch(entry.name[len(stem) :])
        if match is None or entry.is_symlink() or not entry.is_file():
            continue
        found.append(((match["stamp"], int(match["n"] or 1)), entry))
    found.sort()
    return found


def latest_auto_backup(location: Location) -> Path | None:
    """The newest automatic backup of the store at `location`, if any."""
    found = _auto_backups(backups_dir(location), backup_stem(location))
    return found[-1][1] if found else None


def rotate_backups(folder: Path, stem: str, keep: int) -> list[Path]:
    """Delete all but the newest `keep` automatic backups of the store named `stem`.

    Only files named as auto_backup() names them are candidates, so a backup the user made
    (`tinycrm backup`, or a renamed copy) is never deleted. Returns what was removed."""
    found = _auto_backups(folder, stem)
    removed = []
    for _, old in found[: max(len(found) - max(keep, 1), 0)]:
        with contextlib.suppress(OSError):
            old.unlink()
            removed.append(old)
    return removed


def sqlite_copy(conn: sqlite3.Connection, target: Path, *, overwrite: bool) -> None:
    """A consistent copy of the SQLite database behind `conn` (which other processes may be
    writing) at `target`: SQLite's online backup API in one step (a single read snapshot),
    into a private temporary file beside `target` that is synced and then renamed into
    place, so `target` is never half written. The copy is a single file (rollback
    journal), readable on its own. A copy the file-size limit would stop is refused before
    it starts; any failure is a StoreError and leaves no temporary file or journal."""
    cursor = conn.cursor()
    cursor.row_factory = None
    pages = cursor.execute("PRAGMA page_count").fetchone()[0]
    page_size = cursor.execute("PRAGMA page_size").fetchone()[0]
    check_file_size_limit(int(pages) * int(page_size), f"copying the store to {target}")
    tmp = _private_temp(target)
    try:
        dest = sqlite3.connect(str(tmp), isolation_level=None)
        try:
            conn.backup(dest)
            dest.execute("PRAGMA journal_mode = DELETE")
        finally:
            dest.close()
        place_file(tmp, target, overwrite=overwrite)
    except BaseException as e:
        for leftover in (tmp, *(tmp.with_name(tmp.name + x) for x in ("-journal", "-wal", "-shm"))):
            with contextlib.suppress(OSError):
                leftover.unlink()
        if isinstance(e, sqlite3.Error):
            raise StoreError(f"can't copy the store to {target}: {e}{limit_hint()}") from None
        if isinstance(e, OSError) and not isinstance(e, FileExistsError):
            raise StoreError(f"can't write {target}: {e.strerror or e}{limit_hint()}") from None
        raise


def _private_temp(target: Path) -> Path:
    import tempfile

    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)  # mkstemp creates it 0600
    return Path(name)


def place_file(tmp: Path, target: Path, *, overwrite: bool) -> None:
    """Sync `tmp` and move it to `target` atomically (same folder). Without `overwrite`
    an existing `target` is left alone and FileExistsError raised."""
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    if overwrite:
        os.replace(tmp, target)
    else:
        try:
            os.link(tmp, target)  # fails if target exists: no check-then-write race
        except FileExistsError:
            raise
        except OSError:  # no hard links here (FAT, some network shares): check, then move
            if os.path.lexists(target):
                raise FileExistsError(
                    errno.EEXIST, os.strerror(errno.EEXIST), str(target)
                ) from None
            os.replace(tmp, target)
        else:
            os.unlink(tmp)
    with contextlib.suppress(OSError):
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


# -- PostgreSQL client tools -------------------------------------------------------------
def pg_tool(name: str, why: str) -> str:
    import shutil

    found = shutil.which(name)
    if found is None:
        raise StoreError(
            f"{why} needs {name}, which is not installed; install the PostgreSQL client tools"
            " (the same major version as the server, or newer) and retry"
        )
    return found


def pg_command_env(location: Location) -> tuple[str, dict[str, str]]:
    """(the URL without any password, environment with PGPASSWORD): the password never
    reaches a command line, where other users could read it in the process list."""
    pg = _pg(location)
    if pg.sslpassword is not None:  # libpq reads it from no variable or file
        raise StoreError(
            f"the PostgreSQL client tools can't be given the sslpassword in"
            f" {location.describe()} without showing it to other users; decrypt the key"
            " file or connect without it"
        )
    env = dict(os.environ)
    if pg.password is not None:
        env["PGPASSWORD"] = pg.password
    return pg.url, env


def run_pg_tool(location: Location, args: list[str], *, what: str) -> bytes:
    """Run a client tool against the store; its stdout, or a StoreError with the tool's
    first error line (passwords masked)."""
    import subprocess

    _, env = pg_command_env(location)
    done = subprocess.run(args, env=env, capture_output=True, check=False)
    if done.returncode != 0:
        raise StoreError(f"{what} failed on {location.describe()}: {tool_failure(done)}")
    return done.stdout


def tool_failure(done: subprocess.CompletedProcess[bytes]) -> str:
    """Why a client tool failed, in one line: its first error line (passwords masked), or
    the signal that stopped it (SIGXFSZ: the file-size limit, named)."""
    import signal

    lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
    if lines:
        return mask_secrets(next((line for line in lines if "error" in line.lower()), lines[0]))
    if done.returncode < 0:
        try:
            name = signal.Signals(-done.returncode).name
        except ValueError:
            name = f"signal {-done.returncode}"
        hint = limit_hint() if name == "SIGXFSZ" else ""
        return f"it was stopped by {name}{hint}"
    return f"it exited with status {done.returncode} and no message"


def pg_dump(location: Location, target: Path, *, why: str, snapshot: str | None = None) -> None:
    """pg_dump the store into `target` (custom format, for pg_restore)."""
    tool = pg_tool("pg_dump", why)
    conninfo, _ = pg_command_env(location)
    args = [tool, "--format=custom", "--no-owner", "--file", str(target)]
    if snapshot:
        args.append(f"--snapshot={snapshot}")
    run_pg_tool(location, [*args, "--dbname", conninfo], what="pg_dump")
    with contextlib.suppress(OSError):
        os.chmod(target, stat.S_IRUSR | stat.S_IWUSR)


def alembic_config() -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    return cfg


def sqlalchemy_url(location: Location) -> str:
    """The store as SQLAlchemy names it; for PostgreSQL without the password, which goes
    in as a connect argument (pg_secrets)."""
    if location.dialect == "sqlite":
        return f"sqlite:///{location.path}"
    return _pg(location).sqlalchemy_url()


def _run_alembic(db: Db, target: str = "head") -> None:
    """Upgrade with Alembic on a SQLAlchemy connection of its own (rare: first use, upgrades)."""
    from alembic import command
    from sqlalchemy import create_engine

    secrets = {} if db.is_sqlite else pg_secrets(db.location)
    engine = create_engine(sqlalchemy_url(db.location), connect_args=secrets)
    try:
        with engine.begin() as conn:
            if db.is_sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys = OFF")
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, target)
    finally:
        engine.dispose()
