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

from tinycrm.errors import MissingStore, StoreError
from tinycrm.text import mask_secrets

#: The newest schema revision this tinycrm knows, and every revision it can upgrade from.
#: tests/test_migrations.py checks these against the Alembic scripts.
SCHEMA_HEAD = "0006"
KNOWN_REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006")

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
        return mask_secrets(self.url or "")


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
    db = _connect_postgres(location)
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


def _connect_postgres(location: Location) -> Db:
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
    return Db(conn, location)


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
    db = _connect_postgres(location)
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

    parts = urlsplit(pg_conninfo(location))
    raw = f"pg-{parts.hostname or 'local'}-{parts.port or 5432}-{parts.path.lstrip('/')}"
    return re.sub(r"[^A-Za-z0-9._-]", "_", raw)


def make_private_dir(folder: Path) -> None:
    """Create `folder` (and missing parents) readable by the owner only."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as e:
        raise StoreError(f"can't create the backup folder {folder}: {e.strerror}") from None


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
    folder = backups_dir(db.location)
    make_private_dir(folder)
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
    folder = backups_dir(location)
    make_private_dir(folder)
    stem = backup_stem(location)
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
    journal), readable on its own."""
    tmp = _private_temp(target)
    try:
        dest = sqlite3.connect(str(tmp), isolation_level=None)
        try:
            conn.backup(dest)
            dest.execute("PRAGMA journal_mode = DELETE")
        finally:
            dest.close()
        place_file(tmp, target, overwrite=overwrite)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
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
        os.link(tmp, target)  # fails if target exists: no check-then-write race
        os.unlink(tmp)
    with contextlib.suppress(OSError):
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


# -- PostgreSQL client tools -------------------------------------------------------------
def pg_conninfo(location: Location) -> str:
    """The URL as libpq takes it (no `+psycopg`), password included: never print it."""
    return re.sub(r"^postgres(ql)?(\+psycopg)?://", "postgresql://", location.url or "")


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
    """(conninfo without the password, environment with PGPASSWORD): the password never
    reaches a command line, where other users could read it in the process list."""
    from urllib.parse import unquote, urlsplit, urlunsplit

    conninfo = pg_conninfo(location)
    parts = urlsplit(conninfo)
    env = dict(os.environ)
    if parts.password is not None:
        env["PGPASSWORD"] = unquote(parts.password)
        host = parts.netloc.rsplit("@", 1)[1]
        user = parts.netloc.rsplit("@", 1)[0].split(":", 1)[0]
        conninfo = urlunsplit(parts._replace(netloc=f"{user}@{host}"))
    return conninfo, env


def run_pg_tool(location: Location, args: list[str], *, what: str) -> bytes:
    """Run a client tool against the store; its stdout, or a StoreError with the tool's
    first error line (passwords masked)."""
    import subprocess

    _, env = pg_command_env(location)
    done = subprocess.run(args, env=env, capture_output=True, check=False)
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines() or ["no message"]
        first = next((line for line in lines if "error" in line.lower()), lines[0])
        first = mask_secrets(first)
        raise StoreError(f"{what} failed on {location.describe()}: {first}")
    return done.stdout


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
