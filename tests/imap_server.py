"""A real IMAP server for the tests: Dovecot (Debian's dovecot-imapd) on 127.0.0.1, with a
throwaway configuration, users and Maildirs in a temporary folder, IMAPS and STARTTLS on
a self-signed certificate made here. `.ci/run` installs Dovecot; without it the tests
that need it skip, saying so."""

from __future__ import annotations

import contextlib
import mailbox
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest

PASSWORD = "correct horse"
USERS = 200
SKIP = "IMAP tests need Dovecot (apt-get install dovecot-imapd; .ci/run installs it)"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_for(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dovecot exited: {log.read_text() if log.exists() else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("dovecot did not start listening within 20 s")


@dataclass
class Dovecot:
    root: Path
    imap_port: int
    imaps_port: int
    cert: Path
    uid: int
    gid: int
    users: list[str] = field(default_factory=list)

    def new_user(self) -> str:
        """A user no test had yet, with an empty Maildir and PASSWORD. The users are all
        made when the server starts: Dovecot rereads its passwd file at most once a
        second, so one added during the tests may not log in yet."""
        name = f"sam{len(self.users)}"
        (self.root / "home" / name).mkdir()
        mailbox.Maildir(self.root / "home" / name / "Maildir")
        self._own()
        self.users.append(name)
        return name

    def deliver(self, user: str, *messages: EmailMessage, folder: str | None = None) -> None:
        """Put messages in the user's INBOX (or a Maildir++ folder, as Dovecot keeps them)."""
        box = mailbox.Maildir(self.root / "home" / user / "Maildir")
        if folder is not None:
            box = (
                box.add_folder(folder)
                if folder not in box.list_folders()
                else box.get_folder(folder)
            )
        for m in messages:
            box.add(m)
        self._own()

    def _own(self) -> None:
        for base, dirs, files in os.walk(self.root / "home"):
            for name in dirs + files:
                os.chown(os.path.join(base, name), self.uid, self.gid)


def _config(root: Path, imap: int, imaps: int, users: tuple[str, str, str]) -> str:
    internal, login, mail = users
    return f"""
protocols = imap
listen = 127.0.0.1
first_valid_uid = 1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = yes
auth_mechanisms = plain
auth_failure_delay = 0
mail_location = maildir:~/Maildir
default_internal_user = {internal}
default_login_user = {login}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={mail} gid={mail} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
"""


def dovecot_binary() -> str | None:
    """Dovecot and openssl, or None when either is missing."""
    found = shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
    )
    return found if found and shutil.which("openssl") else None


@contextlib.contextmanager
def running_dovecot(binary: str) -> Iterator[Dovecot]:
    """Dovecot on two free ports of 127.0.0.1 in a temporary folder, stopped and removed
    afterwards (benchmarks/mail_import.py uses it too)."""
    root = Path(tempfile.mkdtemp(prefix="tinycrm-dovecot-"))
    root.chmod(0o755)  # the mail user reads its Maildir below it
    if os.geteuid() == 0:
        mail = pwd.getpwnam("dovecot")
        users = ("dovecot", "dovenull", "dovecot")
    else:
        mail = pwd.getpwuid(os.geteuid())
        users = (mail.pw_name, mail.pw_name, mail.pw_name)
    proc = None
    try:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-keyout", str(root / "key.pem"), "-out", str(root / "cert.pem"),
             "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
            check=True, capture_output=True,
        )  # fmt: skip
        for sub in ("run", "state", "home"):
            (root / sub).mkdir()
        (root / "passwd").write_text("".join(f"sam{n}:{{PLAIN}}{PASSWORD}\n" for n in range(USERS)))
        imap, imaps = _free_port(), _free_port()
        conf = root / "dovecot.conf"
        conf.write_text(_config(root, imap, imaps, users))
        proc = subprocess.Popen([binary, "-F", "-c", str(conf)], stderr=subprocess.PIPE)
        _wait_for(imaps, proc, root / "dovecot.log")
        _wait_for(imap, proc, root / "dovecot.log")
        yield Dovecot(root, imap, imaps, root / "cert.pem", mail.pw_uid, mail.pw_gid)
    finally:
        if proc is not None:
            if os.environ.get("TINYCRM_KEEP_DOVECOT_LOG"):
                shutil.copy(root / "dovecot.log", os.environ["TINYCRM_KEEP_DOVECOT_LOG"])
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    binary = dovecot_binary()
    if binary is None:
        pytest.skip(SKIP)
    with running_dovecot(binary) as server:
        yield server
