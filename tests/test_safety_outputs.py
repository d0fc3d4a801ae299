"""Every file a command writes (#14): never over the store, never over an existing file
without --force, private from its first byte, whole or not at all; shown inert on a
terminal and exact everywhere else; and tinycrm's CSV reads back exactly what it wrote.

Real SQLite files and the real PostgreSQL server (`store`), the real command line
in-process (`cli`), and a real process where a terminal, a full disk or a file-size limit
matters.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import json
import os
import re
import resource
import signal
import sqlite3
import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Runner, pty_output
from tests.crash import TINYCRM, snapshot

# -- every command that writes a file -------------------------------------------------------------

BAD_FILES = {
    "purchases": "contact,date,amount\r\nAnn Lee,2026-01-02,12.50\r\nAnn Lee,2026-01-03,abc\r\n",
    # an odd email is kept as written (#17); a row with nothing to name the person is bad
    "contacts": "name,email\r\nBob Stone,bob@example.com\r\n,not-an-email\r\n",
    "interactions": (
        "happened_at,kind,contact,contact_name,company,deal,body,user\r\n"
        "2026-01-01T10:00:00Z,note,ann@example.com,Ann Lee,,,hello,sam\r\n"
        "2026-01-02T10:00:00Z,bogus,ann@example.com,Ann Lee,,,bad kind,sam\r\n"
    ),
    "deals": (
        "title,contact,contact_name,company,stage,status,value,currency,probability,"
        "expected_close,lost_reason,closed_at,created_at,owner\r\n"
        "Good deal,ann@example.com,Ann Lee,,Lead,open,10.00,EUR,,,,,,\r\n"
        "Bad deal,ann@example.com,Ann Lee,,Won,open,10.00,EUR,,,,,,\r\n"
    ),
}


def _import_rejects(kind: str, folder: Path, target: str) -> list[str]:
    return ["import", kind, str(folder / f"{kind}.csv"), "--skip-bad", "--rejects", target]


#: Each command that writes a file, as the arguments that write it to TARGET (the folder
#: is where the files to import are); `force` is the option that allows replacing it.
WRITERS: dict[str, Callable[[Path, str], list[str]]] = {
    "export contacts csv": lambda d, t: ["export", "contacts", "-o", t],
    "export contacts json": lambda d, t: ["export", "contacts", "-f", "json", "-o", t],
    "export contacts vcard": lambda d, t: ["export", "contacts", "-f", "vcard", "-o", t],
    "export interactions": lambda d, t: ["export", "interactions", "-o", t],
    "export deals": lambda d, t: ["export", "deals", "-o", t],
    "export purchases": lambda d, t: ["export", "purchases", "-o", t],
    "export person": lambda d, t: ["export", "person", "ann", "-o", t],
    "export ics": lambda d, t: ["export", "ics", "-o", t],
    **{f"import {kind} rejects": functools.partial(_import_rejects, kind) for kind in BAD_FILES},
    "backup": lambda d, t: ["backup", t],
}


def _seed(cli: Runner, folder: Path) -> None:
    cli.ok("contact", "add", "Ann Lee", "-e", "ann@example.com", "--notes", "private notes")
    cli.ok("note", "ann", "talked about prices")
    cli.ok("remind", "ann", "tomorrow 10:00", "call back")
    cli.ok("deal", "add", "ann", "Rollout", "--value", "1200")
    cli.ok("purchase", "add", "ann", "99.50")
    for kind, text in BAD_FILES.items():
        (folder / f"{kind}.csv").write_text(text, encoding="utf-8", newline="")


@pytest.fixture
def seeded(sqlite_store: str, tmp_path: Path) -> Path:
    """An SQLite store with one of everything, and a bad file of each importable kind."""
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    _seed(Runner(), inputs)
    return inputs


def _one_error_line(r: Any) -> str:
    assert r.stderr.startswith("Error: ") and r.stderr.endswith("\n"), r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
    return str(r.stderr)


# -- 1. the store and its journal files are never an output ---------------------------------------


def _store_spellings(store: Path, tmp_path: Path) -> dict[str, Path]:
    """The store's files, and other names for the store file itself."""
    link = tmp_path / "link-to-store.db"
    link.symlink_to(store)
    folder_link = tmp_path / "store-folder"
    folder_link.symlink_to(store.parent, target_is_directory=True)
    hard = tmp_path / "hard-link.db"
    os.link(store, hard)
    return {
        "store": store,
        "-wal": Path(f"{store}-wal"),
        "-shm": Path(f"{store}-shm"),
        "-journal": Path(f"{store}-journal"),
        "symlink": link,
        "symlinked folder": folder_link / store.name,
        "dot-dot": store.parent / ".." / store.parent.name / "." / store.name,
        "hard link": hard,
    }


@pytest.mark.parametrize("spelling", ["store", "-wal", "-shm", "-journal", "symlink",
                                      "symlinked folder", "dot-dot", "hard link"])  # fmt: skip
@pytest.mark.parametrize("writer", list(WRITERS))
def test_no_command_writes_over_the_store_even_with_force(
    seeded: Path, sqlite_store: str, tmp_path: Path, writer: str, spelling: str
) -> None:
    store = Path(sqlite_store)
    target = _store_spellings(store, tmp_path)[spelling]
    before = snapshot(store)
    r = Runner()(*WRITERS[writer](seeded, str(target)), "--force")
    assert r.exit_code == 2, (r.stdout, r.stderr)
    line = _one_error_line(r)
    assert str(target) in line and "the store" in line and "give another file name" in line
    assert snapshot(store) == before
    with contextlib.closing(sqlite3.connect(store)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    if spelling == "-journal":  # a WAL store has none: nothing was made up either
        assert not target.exists()
    assert Runner().ok("contact", "list").stdout.startswith("1\tAnn Lee")


@pytest.mark.parametrize("writer", list(WRITERS))
def test_no_command_writes_over_the_store_without_force(
    seeded: Path, sqlite_store: str, writer: str
) -> None:
    """`export ics -o STORE` and `--rejects STORE` used to replace the database file."""
    store = Path(sqlite_store)
    before = snapshot(store)
    r = Runner()(*WRITERS[writer](seeded, sqlite_store))
    assert r.exit_code == 2, (r.stdout, r.stderr)
    assert _one_error_line(r) == f"Error: {store} is the store {store}; give another file name\n"
    assert snapshot(store) == before


def test_the_store_error_names_the_store_and_the_part(seeded: Path, sqlite_store: str) -> None:
    wal = f"{sqlite_store}-wal"
    r = Runner()("export", "contacts", "-o", wal, "--force")
    assert (r.exit_code, r.stderr) == (
        2,
        f"Error: {wal} is the write-ahead log of the store {sqlite_store};"
        " give another file name\n",
    )


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_rejects_never_overwrite_the_file_being_imported(seeded: Path, kind: str) -> None:
    source = seeded / f"{kind}.csv"
    r = Runner()("import", kind, str(source), "--skip-bad", "--rejects", str(source), "--force")
    assert r.exit_code == 2
    assert f"{source} is the file being imported" in _one_error_line(r)
    assert source.read_text(encoding="utf-8") == BAD_FILES[kind].replace("\r\n", "\n")


# -- 1. an existing file needs --force ------------------------------------------------------------


@pytest.mark.parametrize("writer", list(WRITERS))
def test_an_existing_file_is_replaced_only_with_force(
    seeded: Path, tmp_path: Path, writer: str
) -> None:
    target = tmp_path / "precious.out"
    target.write_text("precious\n")
    args = WRITERS[writer](seeded, str(target))
    r = Runner()(*args)
    assert r.exit_code == 2, (r.stdout, r.stderr)
    assert _one_error_line(r) == f"Error: {target} already exists; pass --force to overwrite it\n"
    assert target.read_text() == "precious\n"
    Runner().ok(*args, "--force")
    assert target.read_text(errors="replace") != "precious\n"
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_the_default_rejects_file_is_not_overwritten_without_force(
    seeded: Path, sqlite_store: str, kind: str
) -> None:
    default = seeded / f"{kind}.rejects.csv"
    default.write_text("fixed by hand\n")
    before = snapshot(sqlite_store)
    r = Runner()("import", kind, str(seeded / f"{kind}.csv"), "--skip-bad")
    assert r.exit_code == 2
    assert "already exists; pass --force" in _one_error_line(r)
    assert default.read_text() == "fixed by hand\n"
    assert snapshot(sqlite_store) == before  # nothing imported: one transaction
    Runner().ok("import", kind, str(seeded / f"{kind}.csv"), "--skip-bad", "--force")
    assert default.read_text(encoding="utf-8").startswith("line,error,")


def test_a_dry_run_ignores_an_existing_rejects_file(seeded: Path) -> None:
    default = seeded / "purchases.rejects.csv"
    default.write_text("fixed by hand\n")
    Runner().ok("import", "purchases", str(seeded / "purchases.csv"), "--skip-bad", "--dry-run")
    assert default.read_text() == "fixed by hand\n"


# -- 11. private from the first byte --------------------------------------------------------------


@pytest.fixture
def open_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.usefixtures("open_umask")
@pytest.mark.parametrize("writer", list(WRITERS))
def test_every_output_file_is_private(seeded: Path, tmp_path: Path, writer: str) -> None:
    target = tmp_path / "out" / "new.file"
    target.parent.mkdir()
    Runner().ok(*WRITERS[writer](seeded, str(target)))
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    # replacing a world-readable file leaves a private one
    target.chmod(0o644)
    Runner().ok(*WRITERS[writer](seeded, str(target)), "--force")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


@pytest.mark.usefixtures("open_umask")
def test_an_export_is_private_while_it_is_being_written(
    seeded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No moment at which another user could open the half-written file."""
    from tinycrm.services import exports

    folder = tmp_path / "out"
    folder.mkdir()
    seen: list[tuple[str, int]] = []
    real = exports.iter_contacts

    def spying(db: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        for n, rec in enumerate(real(db, *args, **kwargs)):
            if n == 0:
                seen.extend((p.name, stat.S_IMODE(p.stat().st_mode)) for p in folder.iterdir())
            yield rec

    monkeypatch.setattr(exports, "iter_contacts", spying)
    Runner().ok("export", "contacts", "-o", str(folder / "contacts.csv"))
    assert seen and all(mode == 0o600 for _, mode in seen), seen


# -- 12. inert on a terminal, exact elsewhere -----------------------------------------------------

HOSTILE = "Ann\x1b[2J\x1b]0;pwned\x07\u202egnaL\x9b31m\x85 Lee"
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _on_terminal(*args: str) -> str:
    """Run `tinycrm ARGS` with stdout on a pseudo-terminal; everything it printed."""
    return pty_output([str(TINYCRM), *args]).decode("utf-8")


def _store_hostile_text(store: str) -> None:
    """Text with escape sequences and bidi overrides, as an older version or a direct SQL
    write could have left it (the services clean what they store)."""
    from tinycrm.store.open import open_store

    db = open_store(store)
    with db.write():
        db.execute("UPDATE contacts SET name = :t, notes = :t", {"t": HOSTILE})
        db.execute("UPDATE reminders SET text = :t", {"t": HOSTILE})
        db.execute("UPDATE interactions SET body = :t", {"t": HOSTILE})
    db.close()


TERMINAL_EXPORTS = [
    ("export", "contacts"),
    ("export", "contacts", "-f", "json"),
    ("export", "contacts", "-f", "vcard"),
    ("export", "interactions"),
    ("export", "person", "1"),
    ("export", "ics"),
    ("export", "ics", "-o", "-"),
]


@pytest.mark.parametrize("args", TERMINAL_EXPORTS, ids=" ".join)
def test_an_export_on_a_terminal_cannot_drive_it(
    seeded: Path, sqlite_store: str, args: tuple[str, ...]
) -> None:
    _store_hostile_text(sqlite_store)
    shown = _on_terminal(*args)
    assert not CONTROLS.search(shown.replace("\r\n", "\n")), repr(shown)
    assert "pwned" in shown  # the text is shown, only inert


def test_a_piped_or_written_export_keeps_the_data_exact(
    seeded: Path, sqlite_store: str, tmp_path: Path
) -> None:
    _store_hostile_text(sqlite_store)
    piped = Runner().ok("export", "contacts").stdout
    assert next(csv.DictReader(io.StringIO(piped, newline="")))["name"] == HOSTILE
    Runner().ok("export", "contacts", "-o", str(tmp_path / "c.csv"))
    with open(tmp_path / "c.csv", encoding="utf-8", newline="") as f:
        assert next(csv.DictReader(f))["notes"] == HOSTILE
    person = json.loads(Runner().ok("export", "person", "1").stdout)
    assert person["contact"]["name"] == HOSTILE
    Runner().ok("export", "person", "1", "-o", str(tmp_path / "p.json"))
    assert json.loads((tmp_path / "p.json").read_text(encoding="utf-8")) == person


# -- 13. write failures are one line and leave nothing behind -------------------------------------


def _full(args: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    if not os.path.exists("/dev/full"):
        pytest.skip("needs /dev/full")
    with open("/dev/full", "w") as full:
        return subprocess.run(
            [str(TINYCRM), *args], stdout=full, stderr=subprocess.PIPE, text=True, **kw
        )


@pytest.mark.parametrize(
    "args",
    [
        ["export", "contacts"],
        ["export", "contacts", "-f", "vcard"],
        ["export", "person", "1"],
        ["export", "ics"],
        ["contact", "list"],
        ["contact", "show", "1"],
    ],
    ids=" ".join,
)
def test_a_full_disk_on_standard_output_is_one_line(seeded: Path, args: list[str]) -> None:
    done = _full(args)
    assert done.returncode == 1
    assert done.stderr == "Error: can't write the output: No space left on device\n"


def test_a_full_device_as_output_file_is_written_into_not_replaced(
    seeded: Path, tmp_path: Path
) -> None:
    """`-o` a device or a pipe (say /dev/stdout) writes into it: tinycrm used to rename its
    file over the device node itself."""
    if not os.path.exists("/dev/full"):
        pytest.skip("needs /dev/full")
    link = tmp_path / "full.csv"
    link.symlink_to("/dev/full")
    r = Runner()("export", "contacts", "-o", str(link), "--force")
    assert (r.exit_code, r.stderr) == (
        2,
        f"Error: can't write {link}: No space left on device\n",
    )
    assert link.is_symlink() and os.readlink(link) == "/dev/full"
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_device_is_replaced_by_nothing_without_force(seeded: Path, tmp_path: Path) -> None:
    link = tmp_path / "null.csv"
    link.symlink_to(os.devnull)
    r = Runner()("export", "contacts", "-o", str(link))
    assert r.exit_code == 2 and "already exists; pass --force" in _one_error_line(r)
    Runner().ok("export", "contacts", "-o", str(link), "--force")
    assert link.is_symlink()


def test_a_pipe_as_output_file_is_written_into(seeded: Path, tmp_path: Path) -> None:
    """Process substitution (`-o >(gzip > x)`) and /dev/stdout hand tinycrm a pipe."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    Runner().ok("export", "contacts", "-o", str(fifo))
    out, _ = reader.communicate(timeout=30)
    assert out.decode().startswith("name,company,")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_a_backup_is_never_written_into_a_device(seeded: Path, tmp_path: Path) -> None:
    link = tmp_path / "null.db"
    link.symlink_to(os.devnull)
    r = Runner()("backup", str(link), "--force")
    assert r.exit_code == 2
    assert f"{link} is not a regular file" in _one_error_line(r)
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def _limited(limit: int) -> Callable[[], None]:
    def set_limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    return set_limit


@pytest.mark.parametrize(
    "args",
    [
        ["export", "contacts", "-o", "{out}"],
        ["export", "person", "1", "-o", "{out}"],
        ["export", "ics", "-o", "{out}"],
        # --strict: the odd emails are rejects to write, not values kept as written
        ["import", "contacts", "{big}", "--skip-bad", "--strict", "--rejects", "{out}"],
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_a_file_size_limit_is_one_line_and_leaves_no_partial_file(
    seeded: Path, sqlite_store: str, tmp_path: Path, args: list[str]
) -> None:
    """As under `ulimit -f`: the write fails with EFBIG part-way through."""
    notes = "x" * 2000
    big = tmp_path / "big.csv"
    rows = [f"Person {i},not-an-email-{i},{notes}" for i in range(60)]
    big.write_text("name,email,notes\n" + "\n".join(rows) + "\n")
    from tinycrm.store.open import open_store

    db = open_store(sqlite_store)
    with db.write():
        db.execute("UPDATE contacts SET notes = :n", {"n": notes * 40})
        db.execute("UPDATE reminders SET text = :n", {"n": notes * 40})
    db.close()
    before = snapshot(sqlite_store)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "file.out"
    argv = [a.format(out=out, big=big) for a in args]
    done = subprocess.run(
        [str(TINYCRM), *argv], capture_output=True, text=True, preexec_fn=_limited(60_000)
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr == f"Error: can't write {out}: File too large\n"
    assert list(out_dir.iterdir()) == []
    assert snapshot(sqlite_store) == before


@pytest.mark.parametrize("kind", ["contacts", "interactions", "deals"])
@pytest.mark.parametrize("where", ["the array", "a value"])
def test_deeply_nested_json_is_a_one_line_error(
    cli: Runner, tmp_path: Path, kind: str, where: str
) -> None:
    path = tmp_path / f"{kind}.json"
    deep = "[" * 100_000 + "]" * 100_000
    if where == "the array":
        path.write_text("[" + deep + "]")
    else:
        path.write_text('[{"name": "A", "title": "T", "body": "b", "notes": ' + deep + "}]")
    for extra in ([], ["--skip-bad"]):
        r = cli("import", kind, str(path), *extra)
        assert (r.exit_code, r.stderr) == (2, f"Error: {path} line 1: nested too deeply to read\n")
    assert not list(tmp_path.glob("*.rejects*"))
    assert cli.ok("contact", "list").stdout == ""


# -- 14. tinycrm's CSV reads back exactly what was stored -----------------------------------------

#: Values that start like a formula, or like the guard against one.
TRICKY = [
    "=1+2",
    "+49 30 1234",
    "-x",
    "@SUM(A1)",
    "\tstarts with a tab",
    "\rstarts with a carriage return",
    "'=quoted",
    "''=twice",
    "'",
    "'plain",
    "-12.50",
    "'-12.50",
    "=",
    "x'=y",
]


def _rows(store: str, sql: str) -> list[tuple[Any, ...]]:
    from tinycrm.store.open import open_store

    db = open_store(store)
    try:
        return sorted(db.tuples(sql), key=repr)
    finally:
        db.close()


def _seed_tricky(cli: Runner, store: str) -> None:
    from tinycrm.store.open import open_store

    for i, _ in enumerate(TRICKY):
        cli.ok("contact", "add", f"Person {i}", "-e", f"p{i}@example.com", "-c", f"Co {i}")
        cli.ok("note", f"p{i}@example.com", "placeholder")
        cli.ok("deal", "add", f"p{i}@example.com", f"Deal {i}", "--value", "10")
        cli.ok("purchase", "add", f"p{i}@example.com", "5")
    cli.ok("contact", "add", "Nobody Yet")  # renamed below: no email, so named by name
    cli.ok("purchase", "add", "Nobody Yet", "7", "--note", "by name")
    db = open_store(store)
    with db.write():
        for i, value in enumerate(TRICKY):
            n = i + 1
            db.execute(
                "UPDATE contacts SET title = :v, notes = :v, source = :v, consent = :v"
                " WHERE id = :n",
                {"v": value, "n": n},
            )
            db.execute(
                "UPDATE companies SET name = :v WHERE name = :c", {"v": value, "c": f"Co {i}"}
            )
            db.execute(
                "UPDATE interactions SET body = :v WHERE contact_id = :n", {"v": value, "n": n}
            )
            db.execute("UPDATE deals SET title = :v WHERE contact_id = :n", {"v": value, "n": n})
            db.execute("UPDATE purchases SET note = :v WHERE contact_id = :n", {"v": value, "n": n})
        db.execute("UPDATE contacts SET name = :v WHERE name = 'Nobody Yet'", {"v": "=Nobody"})
    db.close()


_QUERIES = {
    "contacts": "SELECT c.name, c.title, c.notes, c.source, c.consent, co.name FROM contacts c"
    " LEFT JOIN companies co ON co.id = c.company_id",
    "interactions": "SELECT c.name, i.body FROM interactions i"
    " JOIN contacts c ON c.id = i.contact_id",
    "deals": "SELECT c.name, d.title FROM deals d JOIN contacts c ON c.id = d.contact_id",
    "purchases": "SELECT c.name, p.note FROM purchases p JOIN contacts c ON c.id = p.contact_id",
}


def test_csv_export_then_import_gives_back_what_was_stored(
    cli: Runner, store: str, tmp_path: Path
) -> None:
    from tinycrm.text import clean

    _seed_tricky(cli, store)
    files = {}
    for kind in _QUERIES:
        files[kind] = tmp_path / f"{kind}.csv"
        cli.ok("export", kind, "-o", str(files[kind]))
    target = str(tmp_path / "fresh.db")
    from tinycrm.store.open import open_store

    open_store(target).close()  # a new store (only `init` makes one away from the default)
    cli.ok("--db", target, "user", "list")  # with you in it
    for kind in _QUERIES:
        extra = ["--create-missing"] if kind == "purchases" else []
        cli.ok("--db", target, "import", kind, str(files[kind]), *extra)
    for kind, sql in _QUERIES.items():
        stored = _rows(store, sql)
        # what the services store for a value: leading tabs and CRs are not kept by anyone
        expected = sorted(
            (tuple(clean(v) if isinstance(v, str) else v for v in row) for row in stored), key=repr
        )
        assert _rows(target, sql) == expected, kind
        assert len(expected) >= len(TRICKY)
    # and what was stored exactly (no tab or CR at the start) reads back exactly
    notes = {r[0] for r in _rows(target, "SELECT notes FROM contacts WHERE notes IS NOT NULL")}
    assert {v for v in TRICKY if v == clean(v)} <= notes


def test_a_csv_cell_shows_in_a_spreadsheet_as_stored(cli: Runner, store: str) -> None:
    """The apostrophe that keeps a formula inert is the spreadsheet's escape: a value that
    starts with one gets another, so the sheet shows the value itself."""
    from tinycrm.text import inert, uninert

    for value in TRICKY + ["plain", "", "12", "-3", "'abc"]:
        assert uninert(inert(value)) == value, value
    assert inert("'=quoted") == "''=quoted" and inert("'") == "''"
    assert inert("=1+2") == "'=1+2" and inert("-12.50") == "-12.50"
    cli.ok("contact", "add", "Quote Person", "-e", "q@example.com")
    from tinycrm.store.open import open_store

    db = open_store(store)
    with db.write():
        db.execute("UPDATE contacts SET notes = :v", {"v": "'=quoted"})
    db.close()
    row = next(csv.DictReader(io.StringIO(cli.ok("export", "contacts").stdout, newline="")))
    assert row["notes"] == "''=quoted"


def test_report_csv_guards_cells_the_same_way(cli: Runner, store: str) -> None:
    cli.ok("contact", "add", "Quote Person", "-e", "q@example.com")
    cli.ok("purchase", "add", "q@example.com", "10", "--date", "2026-11-01")
    from tinycrm.store.open import open_store

    db = open_store(store)
    with db.write():
        db.execute("UPDATE contacts SET name = :v", {"v": "'=quoted"})
    db.close()
    rows = list(csv.reader(io.StringIO(cli.ok("rank", "--format", "csv").stdout, newline="")))
    assert rows[1][2] == "''=quoted"
