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
import os
import re
import sqlite3
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from tinycrm.errors import StoreError

#: The newest schema revision this tinycrm knows, and every revision it can upgrade from.
#: tests/test_migrations.py checks these against the Alembic scripts.
SCHEMA_HEAD = "0005"
KNOWN_REVISIONS = ("0001", "0002", "0003", "0004", "0005")

DEFAULT_BUSY_TIMEOUT_S = 10.0


def busy_timeout() -> float:
    """How long a writer waits for another one to finish (TINYCRM_BUSY_TIMEOUT seconds)."""
    raw = os.environ.get("TINYCRM_BUSY_TIMEOUT")
    try:
        value = float(raw) if raw else DEFAULT_BUSY_TIMEOUT_S
    except ValueError:
        raise StoreError(f"TINYCRM_BUSY_TIMEOUT must be a number of seconds: {raw!r}") from None
    return max(value, 0.0)


Row = dict[str, Any]
Params = Mapping[str, Any] | None

# Whole seconds: a CRM needs no more, and it saves 7 bytes per stored time and index entry
# (~40 MiB on the benchmark store); equal times fall back to id order.
_TS_FORMAT = "%Y-%m-%d %H:%M:%S"
_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@dataclass(frozen=True)
class Location:
    """Where a store lives: a SQLite file path, or a PostgreSQL connection URL."""

    dialect: str  # "sqlite" | "postgresql"
    path: Path | None = None
    url: str | None = None

    def describe(self) -> str:
        """A label safe to print: the path, or the URL with any password masked."""
        if self.path is not None:
            return str(self.path)
        return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", self.url or "")


def locate(value: str) -> Location:
    """Parse what the user gave as `--db`: a path, `sqlite:///path` or `postgresql://...`."""
    value = value.strip()
    if value.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
        return Location("postgresql", url=value)
    if value.startswith("sqlite:///"):
        return Location("sqlite", path=Path(value[len("sqlite:///") :]).expanduser())
    if "://" in value:
        scheme = value.split("://", 1)[0]
        raise StoreError(
            f"unsupported store URL scheme {scheme!r}: use a file path or postgresql://..."
        )
    return Location("sqlite", path=Path(value).expanduser())


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
            first = (str(e).strip().splitlines() or [type(e).__name__])[0]
            raise StoreError(f"store error on {self.location.describe()}: {first}") from None

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
            yield self
            return
        self._in_tx = True
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
            self._in_tx = False

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


def _is_psycopg_error(e: Exception) -> bool:
    module = type(e).__module__
    return module.startswith("psycopg")


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
        return StoreError(
            f"the store {where.describe()} stayed locked by another process for "
            f"{busy_timeout():g} s; try again"
        )
    if "readonly" in text or "read-only" in text:
        return StoreError(f"the store {where.describe()} is read-only")
    if "disk I/O" in text or "not a database" in text or "malformed" in text:
        return StoreError(f"the store {where.describe()} is unreadable: {text}")
    return StoreError(f"store error on {where.describe()}: {text}")


# -- opening ----------------------------------------------------------------------------
def open_store(value: str, *, create: bool = True) -> Db:
    """Open (creating or upgrading if needed) the store named by `value`."""
    location = locate(value)
    if location.dialect == "sqlite":
        return _open_sqlite(location, create=create)
    return _open_postgres(location, create=create)


def _open_sqlite(location: Location, *, create: bool) -> Db:
    path = location.path
    assert path is not None
    fresh = not path.exists()
    if fresh:
        if not create:
            raise StoreError(f"no store at {path}")
        _create_private_file(path)
    elif path.is_dir():
        raise StoreError(f"the store path {path} is a directory, not a file")
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
        db = Db(conn, location)
        revision = _sqlite_revision(db)
    except sqlite3.OperationalError as e:
        raise _store_error(e, location) from None
    except sqlite3.DatabaseError as e:
        raise StoreError(f"the store {path} is unreadable: {e}") from None
    if revision != SCHEMA_HEAD:
        _migrate(db, revision)
    return db


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
    try:
        import psycopg
        from psycopg.rows import dict_row
    except ImportError:
        raise StoreError(
            "PostgreSQL stores need psycopg: pip install 'tinycrm[postgres]'"
        ) from None
    url = location.url or ""
    conninfo = re.sub(r"^postgres(ql)?(\+psycopg)?://", "postgresql://", url)
    try:
        conn = psycopg.connect(
            conninfo, row_factory=dict_row, autocommit=True, options="-c TimeZone=UTC"
        )
    except psycopg.Error as e:
        message = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise StoreError(f"can't connect to {location.describe()}: {message}") from None
    db = Db(conn, location)
    has = db.value("SELECT to_regclass('alembic_version') IS NOT NULL AS has")
    revision = db.value("SELECT version_num FROM alembic_version") if has else None
    if revision != SCHEMA_HEAD:
        if revision is None and not create:
            raise StoreError(f"no tinycrm store at {location.describe()}")
        _migrate(db, None if revision is None else str(revision))
    return db


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
            yield
            # Waiters re-check the revision once they hold the lock, so removing the file
            # (instead of leaving it beside the store) is safe.
            with contextlib.suppress(OSError):
                os.unlink(lock_path)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
    else:
        db.execute("SELECT pg_advisory_lock(7463829)")
        try:
            yield
        finally:
            db.execute("SELECT pg_advisory_unlock(7463829)")


def backup_before_migration(db: Db, revision: str) -> Path | None:
    """Copy the store aside before changing its schema; returns the backup's path."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    if db.is_sqlite:
        assert db.location.path is not None
        target = db.location.path.with_name(
            f"{db.location.path.name}.before-{SCHEMA_HEAD}-from-{revision}-{stamp}.bak"
        )
        _create_private_file(target)
        dest = sqlite3.connect(str(target))
        try:
            db.conn.backup(dest)
        finally:
            dest.close()
        return target
    import shutil
    import subprocess

    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise StoreError(
            "the PostgreSQL store needs upgrading, and tinycrm backs it up first with pg_dump, "
            "which is not installed; install the PostgreSQL client tools and retry"
        )
    backup_dir = Path(os.environ.get("TINYCRM_HOME") or Path.home()) / "tinycrm-backups"
    backup_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    target = backup_dir / f"pg-before-{SCHEMA_HEAD}-from-{revision}-{stamp}.sql"
    conninfo = re.sub(r"^postgres(ql)?(\+psycopg)?://", "postgresql://", db.location.url or "")
    _create_private_file(target)
    with target.open("wb") as out:
        done = subprocess.run([pg_dump, "--dbname", conninfo], stdout=out, check=False)
    if done.returncode != 0:
        raise StoreError(f"pg_dump failed (exit {done.returncode}); the store was not upgraded")
    return target


def alembic_config() -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    return cfg


def sqlalchemy_url(location: Location) -> str:
    if location.dialect == "sqlite":
        return f"sqlite:///{location.path}"
    return re.sub(r"^postgres(ql)?(\+psycopg)?://", "postgresql+psycopg://", location.url or "")


def _run_alembic(db: Db, target: str = "head") -> None:
    """Upgrade with Alembic on a SQLAlchemy connection of its own (rare: first use, upgrades)."""
    from alembic import command
    from sqlalchemy import create_engine

    engine = create_engine(sqlalchemy_url(db.location))
    try:
        with engine.begin() as conn:
            if db.is_sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys = OFF")
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, target)
    finally:
        engine.dispose()
