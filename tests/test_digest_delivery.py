"""The digest as cron runs it: a bare environment, a real process, a real SMTP server."""

from __future__ import annotations

import email
import email.policy
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Runner

TINYCRM = Path(sys.executable).parent / "tinycrm"


def test_digest_runs_under_env_i_as_cron_would(cli: Runner, store: str, tmp_path: Path) -> None:
    """`env -i PATH=/usr/bin:/bin tinycrm digest ...`: no HOME, no TERM, no tty."""
    cli.ok("contact", "add", "Alice Wong")

    def cron(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["env", "-i", "PATH=/usr/bin:/bin", str(TINYCRM), "--db", store, "digest", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            timeout=120,
        )

    quiet = cron("--user", "sam", "--as-of", "2026-11-23", "--quiet-if-empty")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    cli.ok("remind", "alice", "2026-11-23 15:00", "call back")
    full = cron("--user", "sam", "--as-of", "2026-11-23", "--quiet-if-empty")
    assert full.returncode == 0, full.stderr
    assert full.stderr == ""
    assert "Due today (1)" in full.stdout and "\x1b" not in full.stdout
    # the same again, byte for byte
    assert cron("--user", "sam", "--as-of", "2026-11-23", "--quiet-if-empty").stdout == full.stdout
    bad = cron("--user", "nobody")
    assert bad.returncode == 2
    assert bad.stderr.startswith("Error: no user called 'nobody'") and bad.stderr.count("\n") == 1


# -- SMTP on loopback -----------------------------------------------------------------------------


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.logins: list[tuple[bytes, bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(msg)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp(home: Path) -> Iterator[tuple[Inbox, int]]:
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = _free_port()

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult

        inbox.logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"s3cret-pw", handled=False)

    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticate,
        auth_require_tls=False,
    )
    controller.start()
    home.mkdir(parents=True, exist_ok=True)
    (home / "settings.toml").write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\ntls = "none"\nfrom = "crm@example.com"\n'
    )
    try:
        yield inbox, port
    finally:
        controller.stop()


def _parts(msg: email.message.EmailMessage) -> dict[str, str]:
    return {
        part.get_content_type(): part.get_content()
        for part in msg.walk()
        if not part.is_multipart()
    }


def test_mail_is_multipart_and_goes_out_once_a_day(cli: Runner, smtp: tuple[Inbox, int]) -> None:
    inbox, _ = smtp
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("remind", "alice", "2026-11-20 10:00", "send the <quote>")
    r = cli.ok("digest", "--mail-to", "sam@example.com")
    assert r.stdout == ""  # cron mails stdout: a successful send says nothing
    [msg] = inbox.messages
    assert msg["To"] == "sam@example.com" and msg["From"] == "crm@example.com"
    assert msg["Subject"] == "tinycrm digest for sam — Monday 23 November 2026: 1 overdue"
    assert msg.get_content_type() == "multipart/alternative"
    parts = _parts(msg)
    assert "Alice Wong: send the <quote>" in parts["text/plain"]
    assert "send the &lt;quote&gt;" in parts["text/html"]
    # never twice for the same day ...
    cli.ok("digest", "--mail-to", "sam@example.com")
    assert len(inbox.messages) == 1
    # ... unless forced
    cli.ok("digest", "--mail-to", "sam@example.com", "--force")
    assert len(inbox.messages) == 2


def test_a_missed_day_is_caught_up_in_the_next_run(cli: Runner, smtp: tuple[Inbox, int]) -> None:
    inbox, _ = smtp
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("remind", "alice", "2026-11-24 10:00", "due on the missed day")
    cli.ok("digest", "--mail-to", "sam@example.com", "--as-of", "2026-11-23")
    # Tuesday the 24th: the machine was off. Wednesday's run catches up.
    cli.ok("digest", "--mail-to", "sam@example.com", "--as-of", "2026-11-25")
    assert len(inbox.messages) == 2
    text = _parts(inbox.messages[1])["text/plain"]
    assert "Catching up: the last digest was for Mon 23 Nov" in text
    assert "due on the missed day (1 day overdue)" in text
    # the next day is an ordinary one again
    cli.ok("digest", "--mail-to", "sam@example.com", "--as-of", "2026-11-26")
    assert "Catching up" not in _parts(inbox.messages[2])["text/plain"]


def test_quiet_if_empty_sends_nothing_and_logs_nothing(
    cli: Runner, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    cli.ok("digest", "--mail-to", "sam@example.com", "--quiet-if-empty")
    assert inbox.messages == []
    cli.ok("remind", "-", "today 18:00", "now there is something")
    cli.ok("digest", "--mail-to", "sam@example.com", "--quiet-if-empty")
    assert len(inbox.messages) == 1


def test_login_uses_the_password_from_the_environment_only(
    cli: Runner, smtp: tuple[Inbox, int], home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, port = smtp
    (home / "settings.toml").write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nuser = "crm"\ntls = "none"\n'
    )
    warning = (
        f"Warning: the SMTP login for 'crm' goes to 127.0.0.1:{port} unencrypted"
        ' (tls = "none"; allowed for a mail server on this machine only)\n'
    )
    cli.ok("remind", "-", "today 18:00", "call")
    monkeypatch.setenv("TINYCRM_SMTP_PASSWORD", "wrong-pw")
    r = cli("digest", "--mail-to", "sam@example.com")
    assert r.exit_code == 1
    assert r.stderr == (
        f"{warning}Error: the mail server 127.0.0.1:{port} refused the login for 'crm'\n"
    )
    assert "wrong-pw" not in r.stdout + r.stderr
    assert inbox.messages == []
    monkeypatch.setenv("TINYCRM_SMTP_PASSWORD", "s3cret-pw")
    r = cli("digest", "--mail-to", "sam@example.com")
    assert (r.exit_code, r.stderr) == (0, warning)
    assert len(inbox.messages) == 1 and inbox.logins[-1] == (b"crm", b"s3cret-pw")
    # a password in the settings file is refused, not used
    (home / "settings.toml").write_text('[smtp]\nhost = "127.0.0.1"\npassword = "oops"\n')
    r = cli("digest", "--mail-to", "sam@example.com", "--force")
    assert r.exit_code == 2 and "don't put the SMTP password in the settings file" in r.stderr
    assert "oops" not in r.stderr


def test_an_unreachable_server_fails_cleanly_and_retries_later(
    cli: Runner, home: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    cli.ok("remind", "-", "today 18:00", "call")
    (home / "settings.toml").write_text(f'[smtp]\nhost = "127.0.0.1"\nport = {_free_port()}\n')
    r = cli("digest", "--mail-to", "sam@example.com")
    assert r.exit_code == 1
    assert r.stderr.startswith("Error: can't send mail through 127.0.0.1:")
    assert r.stderr.count("\n") == 1
    # nothing was logged as sent, so the next hourly run delivers it
    (home / "settings.toml").write_text(f'[smtp]\nhost = "127.0.0.1"\nport = {port}\n')
    cli.ok("digest", "--mail-to", "sam@example.com")
    assert len(inbox.messages) == 1
