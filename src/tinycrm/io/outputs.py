"""Where a command's output goes: standard output, or a file. One rule for every option
that writes a file (`export ... -o`, `import ... --rejects`, `backup FILE`):

- **Never the store.** Not the SQLite file nor its `-wal`, `-shm` or `-journal` files (nor
  its migration lock), however the path is spelled: through a symlink, `..`, a hard link
  or a symlinked folder (resolved paths and inodes are compared). Nor the file being
  imported.
- **No surprises.** A folder is refused; an existing file is replaced only with `--force`.
- **Private and whole.** A file is written into a temporary file beside it, created 0600,
  and moved into place when complete: no moment at which another user can read it, and
  a failure (a full disk, `ulimit -f`, Ctrl-C) leaves nothing behind, an existing file
  untouched, and one line: `Error: can't write FILE: No space left on device` (exit 2).
- **Pipes and devices are written into, never replaced.** A pipe (`-o >(gzip > x)`,
  `/dev/stdout` in a pipeline) takes the data as it comes; a character device such as a
  terminal or `/dev/null` does too, with `--force`. Anything else that is not a regular
  file is refused, and so is any of them for a backup, which must be a file.
- **Inert on a terminal, exact elsewhere.** Written to a terminal, control characters and
  bidi overrides in the data are removed (as every command shows stored text); to a file
  or a pipe, the data is written exactly.

`target()` checks a path and returns an `Output`; `opened()` / `write_text()` /
`write_bytes()` write it. A write failure on standard output propagates as the OSError it
is (cli/entry.py turns it into one line), except a closed pipe, which ends quietly.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from tinycrm.errors import InvalidInput

#: The files that make up an SQLite store, by suffix, as an error names them.
STORE_FILES = {
    "": "the store",
    "-wal": "the write-ahead log of the store",
    "-shm": "the shared-memory index of the store",
    "-journal": "the rollback journal of the store",
    ".migrate-lock": "the migration lock of the store",
}


@dataclass(frozen=True)
class Output:
    """A checked place to write: standard output (`path` None) or a file."""

    path: Path | None
    shown: str  # as the user gave it, for messages
    force: bool = False
    direct: bool = False  # an existing pipe, terminal or device: written into, not replaced


STDOUT = Output(None, "standard output")


def target(
    given: str | Path | None,
    *,
    store: Path | None,
    force: bool,
    inputs: Sequence[Path] = (),
    regular_only: bool = False,
) -> Output:
    """Check that `given` may be written (see the module docstring); None or the text `-`
    is standard output. `store` is the SQLite store's path (None for PostgreSQL), `inputs`
    files being read that must not be overwritten; `regular_only` refuses pipes and
    devices (a backup). Raises InvalidInput (exit 2) naming the path and why."""
    if given is None or (isinstance(given, str) and given == "-"):
        return STDOUT
    shown = str(given)
    path = Path(given).expanduser()
    if store is not None:
        for suffix, what in STORE_FILES.items():
            if _same_place(path, Path(f"{store}{suffix}")):
                raise InvalidInput(f"{shown} is {what} {store}; give another file name")
    for source in inputs:
        if _same_place(path, source):
            raise InvalidInput(f"{shown} is the file being imported; give another file name")
    try:
        st = path.stat()
    except FileNotFoundError:
        if os.path.lexists(path) and not force:  # a link to nothing: it is still there
            raise InvalidInput(f"{shown} already exists; pass --force to overwrite it") from None
        return Output(path, shown, force)
    except OSError as e:
        raise InvalidInput(f"can't write {shown}: {e.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise InvalidInput(f"{shown} is a folder; give a file name")
    if stat.S_ISREG(st.st_mode):
        if not force:
            raise InvalidInput(f"{shown} already exists; pass --force to overwrite it")
        return Output(path, shown, force)
    if regular_only or not (stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode)):
        raise InvalidInput(f"{shown} is not a regular file; give a file name")
    if stat.S_ISCHR(st.st_mode) and not force:
        raise InvalidInput(f"{shown} already exists; pass --force to overwrite it")
    return Output(path, shown, force, direct=True)


def _same_place(path: Path, other: Path) -> bool:
    """Whether writing `path` would write `other`: the same file (inode) when both exist,
    else the same resolved path (symlinks, `.` and `..` followed)."""
    try:
        if path.exists() and other.exists():
            return os.path.samefile(path, other)
        return path.resolve() == other.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop
        return False


# -- writing ------------------------------------------------------------------------------------


@contextlib.contextmanager
def opened(
    out: Output, *, binary: bool = False, encoding: str = "utf-8", errors: str = "strict"
) -> Iterator[Any]:
    """A stream to write `out` through (text with no newline translation, or bytes);
    a file appears, complete and private, only when the block ends without an error."""
    if out.path is None:
        with _stdout(binary=binary) as stream:
            yield stream
        return
    try:
        if out.direct:
            with _direct(out.path, binary=binary, encoding=encoding, errors=errors) as stream:
                yield stream
        else:
            with _replaced(out, binary=binary, encoding=encoding, errors=errors) as stream:
                yield stream
    except FileExistsError:  # it appeared while we wrote
        raise InvalidInput(f"{out.shown} already exists; pass --force to overwrite it") from None
    except OSError as e:
        raise InvalidInput(f"can't write {out.shown}: {e.strerror or e}") from None


def write_text(out: Output, text: str, *, encoding: str = "utf-8", errors: str = "strict") -> None:
    with opened(out, encoding=encoding, errors=errors) as f:
        f.write(text)


def write_bytes(out: Output, data: bytes) -> None:
    with opened(out, binary=True) as f:
        f.write(data)


@contextlib.contextmanager
def _stdout(*, binary: bool) -> Iterator[Any]:
    sys.stdout.flush()
    if sys.stdout.isatty():
        stream: Any = _Inert(sys.stdout, binary=binary)
    elif binary:
        stream = getattr(sys.stdout, "buffer", None) or _Encoding(sys.stdout)
    else:
        stream = sys.stdout
    yield stream
    stream.flush()


@contextlib.contextmanager
def _direct(path: Path, *, binary: bool, encoding: str, errors: str) -> Iterator[Any]:
    """Into an existing pipe, terminal or device, as it is (never created or replaced)."""
    fd = os.open(path, os.O_WRONLY | os.O_NOCTTY)
    raw = os.fdopen(fd, "wb")
    with raw:
        stream: Any = raw
        if os.isatty(fd):
            text = _text(raw, encoding, errors)
            stream = _Inert(text, binary=binary)
        elif not binary:
            stream = _text(raw, encoding, errors)
        yield stream
        stream.flush()


@contextlib.contextmanager
def _replaced(out: Output, *, binary: bool, encoding: str, errors: str) -> Iterator[IO[Any]]:
    """Into a private temporary file beside the target, moved into place when complete."""
    from tinycrm.store.backups import place_file

    assert out.path is not None
    folder = out.path.parent
    fd, name = tempfile.mkstemp(prefix=f".{out.path.name}.", suffix=".partial", dir=folder)
    tmp = Path(name)  # mkstemp makes it 0600, whatever the umask
    try:
        with os.fdopen(fd, "wb") as raw:
            stream: IO[Any] = raw if binary else _text(raw, encoding, errors)
            yield stream
            stream.flush()
        place_file(tmp, out.path, overwrite=out.force)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _text(raw: IO[bytes], encoding: str, errors: str) -> Any:
    import io

    return io.TextIOWrapper(raw, encoding=encoding, errors=errors, newline="", write_through=True)


class _Inert:
    """A terminal's stream that drops control characters and bidi overrides (text.scrub),
    so stored text can't drive the terminal; bytes are decoded as UTF-8 first."""

    def __init__(self, stream: Any, *, binary: bool) -> None:
        self._stream = stream
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace") if binary else None

    def write(self, data: Any) -> int:
        from tinycrm.text import scrub

        text = self._decoder.decode(data) if self._decoder is not None else data
        self._stream.write(scrub(text))
        return len(data)

    def flush(self) -> None:
        if self._decoder is not None:
            self._stream.write(self._decoder.decode(b"", final=True))
        self._stream.flush()


class _Encoding:
    """Bytes written to a text stream that has no `buffer` (a test's StringIO)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, data: bytes) -> int:
        self._stream.write(data.decode("utf-8", "replace"))
        return len(data)

    def flush(self) -> None:
        self._stream.flush()
