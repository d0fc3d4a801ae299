"""Backups: automatic ones (before migrations, repairs, merges and restores) with their
rotation, the online SQLite copy, files placed whole, and pg_dump with the PostgreSQL
client tools' environment. `tinycrm backup` and `tinycrm restore` (tinycrm.io.backup) build
on these; they live here, below the services, because migrations need them.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import sqlite3
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tinycrm.errors import StoreError
from tinycrm.store.db import Db, Location, check_file_size_limit, limit_hint, pg_of
from tinycrm.text import mask_secrets

if TYPE_CHECKING:
    import subprocess

_AUTO = re.compile(
    r"\.before-[A-Za-z0-9.-]+?-(?P<stamp>\d{8}T\d{6}Z)(?:-(?P<n>\d+))?\.(?:bak|dump)$"
)


def backups_dir(location: Location) -> Path:
    """Where backups of this store go: `backups/` beside an SQLite file; for PostgreSQL the
    folder its settings name (`backups/` in the user data folder)."""
    if location.path is not None:
        return location.path.parent / "backups"
    if location.settings.pg_backups is None:
        raise StoreError(
            f"no folder for backups of {location.describe()} was given (TINYCRM_HOME or the"
            " user data folder)"
        )
    return location.settings.pg_backups


def backup_stem(location: Location) -> str:
    """The store's name in its automatic backups: the file name, or pg-HOST-PORT-DBNAME."""
    if location.path is not None:
        return location.path.name
    from urllib.parse import urlsplit

    parts = urlsplit(pg_of(location).url)
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


def auto_backup(db: Db, what: str) -> Path:
    """An automatic backup of the store, taken before `what` (a migration, a restore),
    into backups_dir() as `<stem>.before-<what>-<UTC stamp>.bak` (`.dump` for PostgreSQL);
    then only the newest `keep_backups` (its settings) automatic backups of this store are
    kept."""
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
    rotate_backups(folder, backup_stem(db.location), db.location.settings.keep_backups)
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
    rotate_backups(folder, stem, location.settings.keep_backups)
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
    """The path of PostgreSQL client tool `name`, or a StoreError saying that `why` needs it."""
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
    pg = pg_of(location)
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
