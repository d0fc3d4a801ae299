"""Files are private to the user (0600, folders 0700) whatever the umask, and secrets never
reach output or errors."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Runner
from tests.test_digest_delivery import Inbox, smtp  # noqa: F401 - the fixture

TINYCRM = Path(sys.executable).parent / "tinycrm"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def run_with_umask_0(*args: str) -> subprocess.CompletedProcess[str]:
    """A real tinycrm process under the loosest umask, so only tinycrm's own care counts."""
    return subprocess.run(
        [TINYCRM, *args],
        capture_output=True,
        text=True,
        preexec_fn=lambda: os.umask(0),  # noqa: PLW1509 - no threads in the parent here
    )


def test_store_wal_shm_backups_and_settings_are_private(home: Path, tmp_path: Path) -> None:
    store = tmp_path / "data" / "crm.db"
    done = run_with_umask_0("init", "--db", str(store), "--user", "sam")
    assert done.returncode == 0, done.stderr
    assert mode(store) == 0o600 and mode(store.parent) == 0o700
    assert mode(home / "settings.toml") == 0o600 and mode(home) == 0o700
    # WAL and shared-memory files exist while a connection is open
    from tinycrm.store.open import open_store

    db = open_store(str(store))
    with db.write():
        db.execute("INSERT INTO tag_cadences (tag, days) VALUES ('vip', 30)")
    for sidecar in ("crm.db-wal", "crm.db-shm"):
        assert mode(store.parent / sidecar) == 0o600, sidecar
    done = run_with_umask_0("backup")
    assert done.returncode == 0, done.stderr
    [copy] = (store.parent / "backups").iterdir()
    assert mode(copy) == 0o600 and mode(copy.parent) == 0o700
    done = run_with_umask_0("doctor", "--repair")
    assert done.returncode == 0, done.stderr
    assert all(mode(p) == 0o600 for p in (store.parent / "backups").iterdir())
    db.close()


def test_an_explicit_backup_file_is_private(sqlite_store: str, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "copy.db"
    done = run_with_umask_0("backup", str(target))
    assert done.returncode == 0, done.stderr
    assert mode(target) == 0o600


def test_a_failed_smtp_login_never_shows_the_password(
    store: str,
    smtp: tuple[Inbox, int],  # noqa: F811
    home: Path,
) -> None:
    inbox, port = smtp
    (home / "settings.toml").write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nuser = "crm"\ntls = "none"\n'
        'from = "crm@x.com"\n'
    )
    Runner().ok("remind", "-", "today 18:00", "call")
    env = {**os.environ, "TINYCRM_SMTP_PASSWORD": "hunter2-secret"}
    done = subprocess.run(
        [TINYCRM, "digest", "--mail-to", "sam@x.com"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 1
    assert done.stderr == (
        f"Warning: the SMTP login for 'crm' goes to 127.0.0.1:{port} unencrypted"
        ' (tls = "none"; allowed for a mail server on this machine only)\n'
        f"Error: the mail server 127.0.0.1:{port} refused the login for 'crm'\n"
    )
    assert "hunter2" not in done.stdout + done.stderr
    assert set(inbox.logins) == {(b"crm", b"hunter2-secret")} and inbox.messages == []


def test_the_last_line_of_defence_masks_known_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    from tinycrm.text import mask_secrets

    assert mask_secrets("postgresql://u:p@ss:w@h:5/db") == "postgresql://u:***@h:5/db"
    assert mask_secrets("postgresql://:pw@h/db") == "postgresql://:***@h/db"
    assert mask_secrets("postgres://u@h/db?sslmode=x&password=zz") == (
        "postgres://u@h/db?sslmode=x&password=***"
    )
    assert mask_secrets("postgresql://h:5432/db") == "postgresql://h:5432/db"
    assert mask_secrets("login failed for hunter2", "hunter2") == "login failed for ***"
    from tinycrm.cli import entry

    monkeypatch.setenv("TINYCRM_SMTP_PASSWORD", "hunter2")
    err = subprocess.run(
        [sys.executable, "-c", "from tinycrm.cli.entry import _fail; _fail('x hunter2 y', 1)"],
        capture_output=True,
        text=True,
    ).stderr
    assert err == "Error: x *** y\n"
    assert entry is not None
