"""`tinycrm backup` and `tinycrm restore`: whole-store copies that are checked before use.

SQLite: a backup is one private file made with SQLite's online backup API (one read
snapshot, so other processes may keep writing), checked with `PRAGMA integrity_check`.
A restore checks the file the same way on a private copy beside the store, takes an
automatic backup of the current store, then writes the copy *through* SQLite into the
store: one write transaction, so other processes that have the store open see either the
old data or the new, and a crash leaves the old. The safety backup is taken after that
transaction holds the write lock, so no write can land between the two and be lost.

PostgreSQL: `pg_dump --format=custom` in a snapshot exported by a transaction that also
counts the rows; a restore runs the archive through `psql --single-transaction` after
dropping tinycrm's tables in the same transaction (an older archive then brings back
exactly its own schema, to be upgraded on next use).

The primitives (copying, naming, rotation, running the client tools) live in
tinycrm.store.backups, which migrations also use.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tinycrm.errors import InvalidInput, MissingStore, StoreError
from tinycrm.io import outputs
from tinycrm.store import backups
from tinycrm.store import db as connection
from tinycrm.store import open as opening

#: Every table a tinycrm store has (tests check this against the models).
TABLES = (
    "alembic_version",
    "users",
    "companies",
    "contacts",
    "tag_cadences",
    "contact_methods",
    "contact_tags",
    "interactions",
    "reminders",
    "stages",
    "products",
    "deals",
    "deal_items",
    "quotes",
    "quote_counters",
    "stage_changes",
    "purchases",
    "digests_sent",
    "merges",
    "erasures",
    "audit_log",
    "cases",
    "case_notes",
    "sla_targets",
    "team_settings",
    "goals",
    "campaigns",
    "custom_fields",
    "custom_values",
    "saved_views",
    "changes",
    "row_changes",
    "mail_messages",
    "mail_links",
    "mail_folders",
    "search_docs",
)
COUNTED = ("contacts", "interactions", "deals", "purchases")
_HAS_DATA = ("contacts", "companies", "interactions", "reminders", "deals", "purchases")
_REQUIRED = {"alembic_version", "contacts", "interactions", "deals", "purchases", "stages"}


@dataclass(frozen=True)
class BackupView:
    """A backup just written (or about to be restored) and what it holds."""

    file: str
    store: str  # the store it was taken from, password masked
    backend: str  # sqlite | postgresql
    bytes: int
    revision: str
    contacts: int
    interactions: int
    deals: int
    purchases: int
    taken_at: datetime


@dataclass(frozen=True)
class RestoreView:
    """A finished restore."""

    file: str
    store: str
    backend: str
    revision: str
    upgrade_pending: bool  # an older schema: upgraded (after a backup) on next use
    contacts: int
    interactions: int
    deals: int
    purchases: int
    safety_backup: str | None  # the store as it was before; null if there was none


def default_backup_file(location: connection.Location) -> Path:
    """backups/tinycrm-YYYYMMDD-HHMMSS.db (UTC; `.dump` for PostgreSQL), unused."""
    folder = backups.backups_dir(location)
    ext = ".db" if location.path is not None else ".dump"
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    target = folder / f"tinycrm-{stamp}{ext}"
    n = 2
    while target.exists():
        target = folder / f"tinycrm-{stamp}-{n}{ext}"
        n += 1
    return target


# -- backup ---------------------------------------------------------------------------------
def backup(location: connection.Location, file: Path | None, *, force: bool) -> BackupView:
    """Copy the store to `file` (default: default_backup_file) and check the copy."""
    if location.path is not None:
        _check_room(location.path)
        _check_store(location.path, location.settings.busy_timeout)
    else:
        backups.pg_tool("pg_dump", "backing up a PostgreSQL store")
        backups.pg_tool("pg_restore", "checking a PostgreSQL backup")
    if file is None:
        file = default_backup_file(location)
    else:
        file = file.expanduser().absolute()
        # never the store or its journals, an existing file only with --force, a file only
        outputs.target(file, store=location.path, force=force, regular_only=True)
    if location.path is not None:
        return _backup_sqlite(location, file, force=force)
    return _backup_pg(location, file, force=force)


def _check_room(path: Path) -> None:
    """Refuse before anything is written a copy the file-size limit (ulimit -f) would stop:
    the copy is at most the store and its write-ahead log."""
    wal = path.with_name(path.name + "-wal")
    try:
        needed = path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    except OSError:
        return  # no store: _check_store says so
    connection.check_file_size_limit(max(needed, connection.WAL_INDEX_BYTES), f"backing up {path}")


def _check_store(path: Path, wait: float) -> None:
    """Refuse early (before any folder is made) what is not a tinycrm SQLite store."""
    if not path.is_file():
        raise StoreError(f"no store at {path}")
    try:
        with contextlib.closing(_connect(path, wait)) as conn:
            _tinycrm_tables(conn, str(path), as_backup=False)
    except InvalidInput as e:
        raise StoreError(str(e)) from None
    except sqlite3.DatabaseError as e:
        raise StoreError(f"the store {path} is unreadable: {e}") from None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False


def _backup_sqlite(location: connection.Location, file: Path, *, force: bool) -> BackupView:
    path = location.path
    assert path is not None
    if not path.is_file():
        raise StoreError(f"no store at {path}")
    taken_at = datetime.now(UTC)
    with backups.private_dir(file.parent):
        revision, counts = _copy_sqlite(
            path, file, force=force, wait=location.settings.busy_timeout
        )
    return BackupView(
        str(file), str(path), "sqlite", file.stat().st_size, revision, *counts, taken_at
    )


def _copy_sqlite(
    path: Path, file: Path, *, force: bool, wait: float
) -> tuple[str, tuple[int, int, int, int]]:
    tmp = file.with_name(f".{file.name}.{os.getpid()}.tmp")
    try:
        src = _connect(path, wait)
        try:
            try:
                _tinycrm_tables(src, str(path), as_backup=False)
            except InvalidInput as e:  # the store itself: a runtime problem, as store/open.py says
                raise StoreError(str(e)) from None
            backups.sqlite_copy(src, tmp, overwrite=True)
        except sqlite3.DatabaseError as e:
            raise StoreError(f"can't back up {path}: {e}{connection.limit_hint()}") from None
        finally:
            src.close()
        try:
            revision, counts = check_sqlite(tmp, label=str(path))
        except InvalidInput as e:
            raise StoreError(
                f"the copy of {path} failed its check, so the store itself may be damaged: {e}"
            ) from None
        _place(tmp, file, force=force)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return revision, counts


def _place(tmp: Path, file: Path, *, force: bool) -> None:
    try:
        backups.place_file(tmp, file, overwrite=force)
    except FileExistsError:
        raise InvalidInput(f"{file} already exists; pass --force to overwrite it") from None
    except OSError as e:
        raise StoreError(f"can't write {file}: {e.strerror}") from None


def _connect(path: Path, wait: float) -> sqlite3.Connection:
    """A connection to an existing SQLite file (never creates one), waiting up to `wait`
    seconds for a writer."""
    conn = sqlite3.connect(
        f"file:{_uri_path(path)}?mode=rw", uri=True, timeout=wait, isolation_level=None
    )
    conn.execute(f"PRAGMA busy_timeout = {int(wait * 1000)}")
    return conn


def _uri_path(path: Path) -> str:
    from urllib.parse import quote

    return quote(str(path.absolute()))


def _tinycrm_tables(conn: sqlite3.Connection, label: str, *, as_backup: bool) -> set[str]:
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    missing = _REQUIRED - names
    if missing:
        what = "a tinycrm backup" if as_backup else "a tinycrm store"
        raise InvalidInput(
            f"{label} is an SQLite file but not {what} (no {', '.join(sorted(missing))} table)"
        )
    return names


def check_sqlite(path: Path, *, label: str) -> tuple[str, tuple[int, int, int, int]]:
    """Check an SQLite backup: integrity, tinycrm's tables, a readable schema revision.
    Returns the revision and the counted rows; InvalidInput (exit 2) if it is no good."""
    try:
        conn = sqlite3.connect(str(path), isolation_level=None)
        try:
            verdict = [r[0] for r in conn.execute("PRAGMA integrity_check(5)")]
            if verdict != ["ok"]:
                raise InvalidInput(f"{label} is damaged: integrity check says {verdict[0]}")
            _tinycrm_tables(conn, label, as_backup=True)
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            counts = tuple(
                int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in COUNTED
            )
        finally:
            conn.close()
    except sqlite3.DatabaseError as e:
        raise InvalidInput(f"{label} is not a tinycrm backup: {e}") from None
    if row is None or not row[0]:
        raise InvalidInput(f"{label} is not a tinycrm backup: it has no schema revision")
    a, b, c, d = counts
    return str(row[0]), (a, b, c, d)


def _backup_pg(location: connection.Location, file: Path, *, force: bool) -> BackupView:
    taken_at = datetime.now(UTC)
    db = opening.open_store(location.url or "", create=False, settings=location.settings)
    tmp = file.with_name(f".{file.name}.{os.getpid()}.tmp")
    try:
        with backups.private_dir(file.parent):
            try:
                # Count the rows and dump in one snapshot, so the counts describe the file.
                with db.conn.transaction():
                    db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    snapshot = str(db.value("SELECT pg_export_snapshot() AS s"))
                    revision = str(db.value("SELECT version_num FROM alembic_version"))
                    counts = [int(db.value(f"SELECT count(*) AS n FROM {t}")) for t in COUNTED]
                    os.close(os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600))
                    backups.pg_dump(
                        location, tmp, why="backing up a PostgreSQL store", snapshot=snapshot
                    )
                if check_pg(location, tmp, label=str(file)) != revision:
                    raise StoreError(f"the dump of {location.describe()} does not read back")
                _place(tmp, file, force=force)
            finally:
                with contextlib.suppress(OSError):
                    tmp.unlink()
    finally:
        db.close()
    a, b, c, d = counts
    return BackupView(
        str(file), location.describe(), "postgresql", file.stat().st_size, revision,
        a, b, c, d, taken_at,
    )  # fmt: skip


def check_pg(location: connection.Location, file: Path, *, label: str) -> str:
    """Check a pg_dump archive: readable, with tinycrm's tables; returns its revision."""
    tool = backups.pg_tool("pg_restore", "checking a PostgreSQL backup")
    try:
        listing = backups.run_pg_tool(location, [tool, "--list", str(file)], what="pg_restore")
    except StoreError:
        raise InvalidInput(f"{label} is not a readable pg_dump archive") from None
    names = set()
    for line in listing.decode("utf-8", "replace").splitlines():
        parts = line.split()
        if len(parts) >= 6 and parts[3:5] == ["TABLE", "DATA"]:
            names.add(parts[6] if len(parts) > 6 else "")
    missing = _REQUIRED - names
    if missing:
        raise InvalidInput(
            f"{label} is a pg_dump archive but not a tinycrm backup"
            f" (no {', '.join(sorted(missing))} table)"
        )
    data = backups.run_pg_tool(
        location,
        [tool, "--data-only", "--table=alembic_version", "--file=-", str(file)],
        what="pg_restore",
    ).decode("utf-8", "replace")
    lines = data.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("COPY ") and "alembic_version" in line and i + 1 < len(lines):
            value = lines[i + 1].strip()
            if value and value != "\\.":
                return value
    raise InvalidInput(f"{label} is not a tinycrm backup: it has no schema revision")


# -- restore --------------------------------------------------------------------------------
@dataclass
class PreparedRestore:
    """A backup checked and ready to go in; `discard()` whatever happens."""

    location: connection.Location
    source: Path
    backup: BackupView
    copy: Path | None = None  # SQLite: the checked private copy beside the store
    current: dict[str, int] | None = field(default=None)  # rows in the store now; None: none
    current_unreadable: str | None = None  # why the current store can't be read

    def has_data(self) -> bool:
        return self.current_unreadable is not None or any((self.current or {}).values())

    def describe_current(self) -> str:
        if self.current_unreadable is not None:
            return f"the store {self.location.describe()} ({self.current_unreadable})"
        from tinycrm.text import plural

        def one(table: str) -> str:  # contacts -> contact, companies -> company
            return table[:-3] + "y" if table.endswith("ies") else table[:-1]

        rows = ", ".join(plural(n, one(t), t) for t, n in (self.current or {}).items() if n)
        return f"the store {self.location.describe()} has data ({rows})"

    def discard(self) -> None:
        if self.copy is not None:
            for p in (self.copy, *_sidecars(self.copy)):
                with contextlib.suppress(OSError):
                    p.unlink()
            self.copy = None


def _sidecars(path: Path) -> tuple[Path, Path, Path]:
    return (
        path.with_name(path.name + "-wal"),
        path.with_name(path.name + "-shm"),
        path.with_name(path.name + "-journal"),
    )


def prepare_restore(location: connection.Location, file: Path) -> PreparedRestore:
    """Check `file` as a backup for this store and look at what the store holds now."""
    file = file.expanduser().absolute()
    if not file.is_file():
        raise InvalidInput(f"no backup file at {file}")
    if location.path is not None:
        return _prepare_sqlite(location, file)
    return _prepare_pg(location, file)


def _check_revision(revision: str, label: str) -> bool:
    """True when the backup's schema is older than this tinycrm's (upgraded on next use)."""
    if revision not in opening.KNOWN_REVISIONS:
        if revision.isdigit() and revision > opening.SCHEMA_HEAD:
            raise StoreError(
                f"{label} has schema revision {revision}, newer than this tinycrm knows"
                f" ({opening.SCHEMA_HEAD}); upgrade tinycrm to restore it"
            )
        raise InvalidInput(f"{label} is not a tinycrm backup: unknown schema revision {revision}")
    return revision != opening.SCHEMA_HEAD


def _prepare_sqlite(location: connection.Location, file: Path) -> PreparedRestore:
    path = location.path
    assert path is not None
    if _same_file(file, path):
        raise InvalidInput(f"{file} is the store itself")
    if not path.parent.exists():
        backups.make_private_dir(path.parent)
    copy = path.with_name(f".{path.name}.restore-{os.getpid()}.tmp")
    prepared = PreparedRestore(location, file, _empty_view(file), copy=copy)
    try:
        # A byte copy (with the backup's -wal, if it was copied while in use): the check and
        # the restore then read the very same bytes, and the user's file is never opened.
        fd = os.open(copy, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
        os.close(fd)
        shutil.copyfile(file, copy)
        wal = file.with_name(file.name + "-wal")
        if wal.is_file():
            shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
        revision, counts = check_sqlite(copy, label=str(file))
        _check_revision(revision, str(file))
        with contextlib.closing(sqlite3.connect(str(copy), isolation_level=None)) as conn:
            conn.execute("PRAGMA journal_mode = DELETE")  # fold any -wal into the file
        prepared.backup = BackupView(
            str(file), str(path), "sqlite", file.stat().st_size, revision, *counts,
            datetime.fromtimestamp(file.stat().st_mtime, UTC),
        )  # fmt: skip
        prepared.current, prepared.current_unreadable = _sqlite_contents(
            path, location.settings.busy_timeout
        )
    except OSError as e:
        prepared.discard()
        raise StoreError(f"can't prepare the restore beside {path}: {e.strerror}") from None
    except BaseException:
        prepared.discard()
        raise
    return prepared


def _empty_view(file: Path) -> BackupView:
    return BackupView(str(file), "", "", 0, "", 0, 0, 0, 0, datetime.now(UTC))


def _sqlite_contents(path: Path, wait: float) -> tuple[dict[str, int] | None, str | None]:
    """Rows per table in the store now (None: no store), or why it can't be read."""
    if not path.exists():
        return None, None
    with path.open("rb") as f:
        header = f.read(16)
    if header and header != b"SQLite format 3\x00":
        # Not SQLite: don't let SQLite near it (it could drop the file's -wal).
        return None, "unreadable: not an SQLite file"
    try:
        with contextlib.closing(_connect(path, wait)) as conn:
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if not names:
                return {}, None
            if "contacts" not in names:
                return None, "an SQLite file that is not a tinycrm store"
            return {
                t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0])
                for t in _HAS_DATA
                if t in names
            }, None
    except sqlite3.OperationalError as e:
        if "locked" in str(e) or "busy" in str(e):
            raise StoreError(
                f"the store {path} stayed locked by another process for {wait:g} s; try again"
            ) from None
        return None, f"unreadable: {e}"
    except sqlite3.DatabaseError as e:
        return None, f"unreadable: {e}"


def restore(prepared: PreparedRestore) -> RestoreView:
    """Put the prepared backup in place of the store, after a safety backup of it."""
    if prepared.location.path is not None:
        safety = _restore_sqlite(prepared)
    else:
        safety = _restore_pg(prepared)
        prepared.backup = _pg_counted(prepared.location, prepared.backup)
    b = prepared.backup
    return RestoreView(
        b.file,
        prepared.location.describe(),
        b.backend,
        b.revision,
        b.revision != opening.SCHEMA_HEAD,
        b.contacts,
        b.interactions,
        b.deals,
        b.purchases,
        None if safety is None else str(safety),
    )


_SQLITE_OK, _SQLITE_BUSY, _SQLITE_LOCKED = 0, 5, 6


def _restore_sqlite(prepared: PreparedRestore) -> Path | None:
    path, copy = prepared.location.path, prepared.copy
    assert path is not None and copy is not None
    if prepared.current is None or prepared.current_unreadable is not None:
        return _replace_file(prepared)
    wait = prepared.location.settings.busy_timeout
    live = _connect(path, wait)
    try:
        _match_page_size(copy, live)
        with contextlib.closing(sqlite3.connect(str(copy), isolation_level=None)) as conn:
            _retire_ids(conn, _id_marks(live))
        src = sqlite3.connect(str(copy), isolation_level=None)
        pages = int(src.execute("PRAGMA page_count").fetchone()[0])
        safety: list[Path] = []
        marks: list[dict[str, int]] = []
        deadline = time.monotonic() + wait

        def progress(status: int, remaining: int, total: int) -> None:
            # Called after each step. From the first step that succeeds the backup holds
            # the store's write lock until it commits, and its pages are not yet visible:
            # a separate reader now sees exactly the last committed state, which no one
            # else can change any more. That is the safety backup, and the last ids given.
            if status == _SQLITE_OK and not safety:
                with contextlib.closing(_connect(path, wait)) as reader:
                    safety.append(backups.auto_backup_sqlite(reader, prepared.location, "restore"))
                    marks.append(_id_marks(reader))
            elif status in (_SQLITE_BUSY, _SQLITE_LOCKED) and time.monotonic() > deadline:
                raise StoreError(
                    f"the store {path} stayed locked by another process for"
                    f" {wait:g} s; nothing was restored, try again"
                )

        try:
            # Steps smaller than the database, so the first one can't finish it all.
            src.backup(live, pages=max(1, min(4096, pages // 4)), progress=progress)
        except sqlite3.OperationalError as e:
            raise StoreError(f"restoring into {path} failed, nothing changed: {e}") from None
        finally:
            src.close()
        if marks:  # ids given while the copy was being readied
            live.execute("BEGIN IMMEDIATE")
            try:
                _retire_ids(live, marks[0])
            except BaseException:
                live.execute("ROLLBACK")
                raise
            live.execute("COMMIT")
        with contextlib.suppress(sqlite3.Error):
            live.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return safety[0] if safety else None
    finally:
        live.close()


_QUOTE_MARK = "quote_counters/"  # a mark of the last quote number of a year (`/2026`)


def _id_marks(conn: sqlite3.Connection) -> dict[str, int]:
    """The highest id each AUTOINCREMENT table of an SQLite store has handed out, and the
    last quote number of each year (`quote_counters/2026`): quote numbers, too, are never
    handed out twice."""
    marks: dict[str, int] = {}
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone():
        marks = {
            str(n): int(seq) for n, seq in conn.execute("SELECT name, seq FROM sqlite_sequence")
        }
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'quote_counters'").fetchone():
        marks |= {
            f"{_QUOTE_MARK}{year}": int(last)
            for year, last in conn.execute("SELECT year, last FROM quote_counters")
        }
    return marks


def _retire_ids(conn: sqlite3.Connection, marks: dict[str, int]) -> None:
    """Make each table's next id come after `marks` (ids the store handed out before a
    restore stay retired: exports, the log and people may still name them). A store from
    before schema 0007 has no counters to raise: its upgrade starts them after the ids
    its own rows and log name."""
    have = _id_marks(conn)
    for table, mark in marks.items():
        if table.startswith(_QUOTE_MARK):
            _retire_quote_numbers(conn, int(table.removeprefix(_QUOTE_MARK)), mark, have)
        elif table not in have:
            autoincrement = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
                " AND sql LIKE '%AUTOINCREMENT%'",
                (table,),
            ).fetchone()
            if autoincrement:
                conn.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (table, mark))
        elif have[table] < mark:
            conn.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = ?", (mark, table))


def _retire_quote_numbers(
    conn: sqlite3.Connection, year: int, mark: int, have: dict[str, int]
) -> None:
    """The year's quote counter at least at `mark`. A backup from before quotes existed
    (schema 0016) has no counters to raise; its upgrade starts them afresh."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'quote_counters'").fetchone():
        return
    now = have.get(f"{_QUOTE_MARK}{year}")
    if now is None:
        conn.execute("INSERT INTO quote_counters (year, last) VALUES (?, ?)", (year, mark))
    elif now < mark:
        conn.execute("UPDATE quote_counters SET last = ? WHERE year = ?", (mark, year))


def _match_page_size(copy: Path, live: sqlite3.Connection) -> None:
    """SQLite can only back up into a WAL store with the same page size."""
    want = int(live.execute("PRAGMA page_size").fetchone()[0])
    with contextlib.closing(sqlite3.connect(str(copy), isolation_level=None)) as conn:
        if int(conn.execute("PRAGMA page_size").fetchone()[0]) != want:
            conn.execute(f"PRAGMA page_size = {want}")
            conn.execute("VACUUM")


def _replace_file(prepared: PreparedRestore) -> Path | None:
    """No store, an empty or an unreadable one: no SQLite connection to write through,
    so keep the old bytes (with its -wal) as the safety backup and swap the file."""
    path, copy = prepared.location.path, prepared.copy
    assert path is not None and copy is not None
    safety = None
    if path.exists() and path.stat().st_size > 0:
        folder = backups.backups_dir(prepared.location)
        backups.make_private_dir(folder)
        safety = backups.claim_auto_name(
            folder, backups.backup_stem(prepared.location), "restore", ".bak"
        )
        shutil.copyfile(path, safety)
        wal = path.with_name(path.name + "-wal")
        if wal.exists():
            shutil.copyfile(wal, safety.with_name(safety.name + "-wal"))
        backups.rotate_backups(
            folder,
            backups.backup_stem(prepared.location),
            prepared.location.settings.keep_backups,
        )
    backups.place_file(copy, path, overwrite=True)
    prepared.copy = None
    for stale in _sidecars(path):  # belonged to the file that was replaced
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()
    return safety


# -- PostgreSQL -----------------------------------------------------------------------------
def _prepare_pg(location: connection.Location, file: Path) -> PreparedRestore:
    backups.pg_tool("pg_restore", "restoring a PostgreSQL store")
    backups.pg_tool("psql", "restoring a PostgreSQL store")
    backups.pg_tool("pg_dump", "the backup of the store before a restore")
    revision = check_pg(location, file, label=str(file))
    _check_revision(revision, str(file))
    view = BackupView(
        str(file), location.describe(), "postgresql", file.stat().st_size, revision,
        0, 0, 0, 0, datetime.fromtimestamp(file.stat().st_mtime, UTC),
    )  # fmt: skip
    prepared = PreparedRestore(location, file, view)
    try:
        db = opening.open_store(location.url or "", create=False, settings=location.settings)
    except MissingStore:
        prepared.current = None
        return prepared
    try:
        prepared.current = {t: int(db.value(f"SELECT count(*) AS n FROM {t}")) for t in _HAS_DATA}
    finally:
        db.close()
    return prepared


# Ids the store handed out before a restore stay retired (exports, the log and people may
# still name them): the sequences' positions are noted before the tables are dropped, and
# after the archive is in, each sequence is moved past its old position; all in the
# restore's one transaction. (The archive sets search_path to '', hence the schema names.)
_PG_ID_MARKS = (
    "CREATE TEMPORARY TABLE tinycrm_id_marks ON COMMIT DROP AS"
    " SELECT schemaname, sequencename, last_value FROM pg_catalog.pg_sequences"
    " WHERE schemaname = current_schema() AND last_value IS NOT NULL;\n"
    # and the last quote number of each year, where the store has quotes (schema 0016)
    "CREATE TEMPORARY TABLE tinycrm_quote_marks (schemaname text, year integer, last integer)"
    " ON COMMIT DROP;\n"
    "DO $$ BEGIN IF to_regclass('quote_counters') IS NOT NULL THEN"
    " INSERT INTO pg_temp.tinycrm_quote_marks SELECT current_schema(), year, last"
    " FROM quote_counters; END IF; END $$;\n"
)
_PG_RETIRE_IDS = (
    "\nSELECT pg_catalog.setval(pg_catalog.format('%I.%I', s.schemaname, s.sequencename)::regclass,"
    " m.last_value) FROM pg_catalog.pg_sequences s JOIN pg_temp.tinycrm_id_marks m"
    " USING (schemaname, sequencename) WHERE coalesce(s.last_value, 0) < m.last_value;\n"
    "DO $$ DECLARE m record; BEGIN"
    " FOR m IN SELECT DISTINCT schemaname FROM pg_temp.tinycrm_quote_marks LOOP"
    " IF to_regclass(pg_catalog.format('%I.quote_counters', m.schemaname)) IS NOT NULL THEN"
    " EXECUTE pg_catalog.format('INSERT INTO %I.quote_counters AS q (year, last)"
    " SELECT year, last FROM pg_temp.tinycrm_quote_marks ON CONFLICT (year)"
    " DO UPDATE SET last = greatest(q.last, excluded.last)', m.schemaname);"
    " END IF; END LOOP; END $$;\n"
)


def _restore_pg(prepared: PreparedRestore) -> Path | None:
    import subprocess

    location = prepared.location
    safety = None
    if prepared.current is not None:
        db = opening.open_store(location.url or "", create=False, settings=location.settings)
        try:
            safety = backups.auto_backup(db, "restore")
        finally:
            db.close()
    script = backups.run_pg_tool(
        location,
        [
            backups.pg_tool("pg_restore", "restoring a PostgreSQL store"),
            "--no-owner",
            "--no-privileges",
            "--file=-",
            str(prepared.source),
        ],
        what="pg_restore",
    )
    drops = _PG_ID_MARKS + "".join(f'DROP TABLE IF EXISTS "{t}" CASCADE;\n' for t in TABLES)
    drops += "DROP FUNCTION IF EXISTS tinycrm_forget_search_doc() CASCADE;\n"
    drops += "DROP FUNCTION IF EXISTS tinycrm_journal() CASCADE;\n"
    conninfo, env = backups.pg_command_env(location)
    psql = backups.pg_tool("psql", "restoring a PostgreSQL store")
    done = subprocess.run(
        [psql, "--no-psqlrc", "--quiet", "--single-transaction", "--set=ON_ERROR_STOP=1",
         "--dbname", conninfo, "--file=-"],
        input=drops.encode() + script + _PG_RETIRE_IDS.encode(),
        env=env,
        capture_output=True,
        check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise StoreError(
            f"restoring into {location.describe()} failed, nothing changed:"
            f" {backups.tool_failure(done)}"
        )
    return safety


def _pg_counted(location: connection.Location, view: BackupView) -> BackupView:
    """The view with the rows now in the store (read without upgrading it)."""
    import dataclasses

    db = opening.connect_postgres(location)
    try:
        a, b, c, d = (int(db.value(f"SELECT count(*) AS n FROM {t}")) for t in COUNTED)
    finally:
        db.close()
    return dataclasses.replace(view, contacts=a, interactions=b, deals=c, purchases=d)
