"""Opening a store: SQLite pragmas and a private new file, the PostgreSQL connection, the
schema revision check, and migrating (backup first, under a lock, with Alembic).

Opening checks the revision cheaply; only a store that must be created or upgraded imports
Alembic, and an existing store is backed up (tinycrm.store.backups) before any upgrade.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tinycrm.errors import MissingStore, StoreError
from tinycrm.store.backups import auto_backup
from tinycrm.store.db import (
    WAL_INDEX_BYTES,
    Db,
    Location,
    StoreSettings,
    _dict_row,
    _store_error,
    check_file_size_limit,
    locate,
    pg_of,
)
from tinycrm.text import mask_secrets

#: The newest schema revision this tinycrm knows, and every revision it can upgrade from.
#: tests/test_store.py (test_head_revision_matches_the_alembic_scripts) checks these
#: against the Alembic scripts in tinycrm/migrations/versions/.
SCHEMA_HEAD = "0018"
KNOWN_REVISIONS = (
    "0001",
    "0002",
    "0003",
    "0004",
    "0005",
    "0006",
    "0007",
    "0008",
    "0009",
    "0010",
    "0011",
    "0012",
    "0013",
    "0014",
    "0015",
    "0016",
    "0017",
    "0018",
)


def open_store(value: str, *, create: bool = True, settings: StoreSettings | None = None) -> Db:
    """Open (upgrading if needed) the store named by `value`, used with `settings` (the
    built-in defaults when not given); with `create`, make it where there is none.
    Without, no file, an empty file or a database without tinycrm's tables is
    `MissingStore`."""
    location = locate(value, settings)
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
    db.journal = True
    return db


def _open_sqlite_raw(location: Location) -> Db:
    """A connection to an existing SQLite file with tinycrm's pragmas; no schema check."""
    path = location.path
    assert path is not None
    if path.is_dir():
        raise StoreError(f"the store path {path} is a directory, not a file")
    check_file_size_limit(WAL_INDEX_BYTES, f"opening the store {path}")
    wait = location.settings.busy_timeout
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
    db.journal = True
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
    pg = pg_of(location)
    # A writer waits for another's locks as long as an SQLite one waits for the file.
    options = f"-c TimeZone=UTC -c lock_timeout={int(location.settings.busy_timeout * 1000)}"
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
    pg = pg_of(location)
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


def alembic_config() -> Any:
    """Alembic's configuration for tinycrm's migrations (no alembic.ini needed)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent.parent / "migrations"))
    return cfg


def sqlalchemy_url(location: Location) -> str:
    """The store as SQLAlchemy names it; for PostgreSQL without the password, which goes
    in as a connect argument (pg_secrets)."""
    if location.dialect == "sqlite":
        return f"sqlite:///{location.path}"
    return pg_of(location).sqlalchemy_url()


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
