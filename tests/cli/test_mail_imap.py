"""`tinycrm mail import imaps://…` against a real Dovecot (tests/imap_server.py), through
the real CLI on both backends: incremental runs, folders, STARTTLS, and every way of
failing as one line with nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_mail import emails, message, store_rows
from tests.conftest import Runner
from tests.imap_server import PASSWORD, Dovecot, dovecot  # noqa: F401 - the fixture


@pytest.fixture
def account(
    dovecot: Dovecot,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    cli: Runner,
) -> str:
    """A fresh mail user with Alice's mail, the server's certificate trusted, the password
    in the environment; returns the user's name."""
    user = dovecot.new_user()
    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot.cert))
    monkeypatch.setenv("TINYCRM_IMAP_PASSWORD", PASSWORD)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    cli.ok("contact", "add", "Alice Wong", "--email", "alice@acme.com")
    dovecot.deliver(user, message(message_id="<a1@acme.com>", subject="first"))
    return user


def imaps(dovecot: Dovecot, user: str, folder: str = "INBOX") -> str:  # noqa: F811
    return f"imaps://{user}@localhost:{dovecot.imaps_port}/{folder}"


def test_imap_runs_are_incremental(
    cli: Runner,
    store: str,
    dovecot: Dovecot,  # noqa: F811
    account: str,
) -> None:
    url = imaps(dovecot, account)
    first = cli.ok("mail", "import", url, "--json").json()
    assert (first["read"], first["logged"]) == (1, 1)
    assert first["folders"] == [f"imaps://{account}@localhost:{dovecot.imaps_port}/INBOX"]
    again = cli.ok("mail", "import", url, "--json").json()
    assert (again["read"], again["logged"], again["duplicates"]) == (0, 0, 0)  # nothing fetched
    dovecot.deliver(
        account,
        message(message_id="<a2@acme.com>", subject="second", date="Sat, 21 Nov 2026 08:00"),
    )
    more = cli.ok("mail", "import", url, "--json").json()
    assert (more["read"], more["logged"]) == (1, 1)
    assert [e["text"].splitlines()[0] for e in emails(cli)] == ["first", "second"]
    [position] = store_rows(store, "SELECT account, folder, last_uid FROM mail_folders")
    assert position == {
        "account": f"{account}@localhost:{dovecot.imaps_port}",
        "folder": "INBOX",
        "last_uid": 2,
    }
    # the server renumbered the folder (a new UIDVALIDITY): read all again, log nothing twice
    from tinycrm.store.open import open_store

    db = open_store(store)
    try:
        with db.write():
            db.execute("UPDATE mail_folders SET uidvalidity = uidvalidity + 1")
    finally:
        db.close()
    over = cli.ok("mail", "import", url, "--json").json()
    assert (over["read"], over["duplicates"], over["logged"]) == (2, 2, 0)


def test_folders_starttls_and_batches(
    cli: Runner,
    store: str,
    dovecot: Dovecot,  # noqa: F811
    account: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("tinycrm.io.imap.BATCH", 2)
    dovecot.deliver(
        account,
        *(
            message(frm="sam@mine.example", to="alice@acme.com", message_id=f"<s{n}@x>")
            for n in range(3)
        ),
        folder="Sent",
    )
    url = f"imap://{account}@localhost:{dovecot.imap_port}"
    out = cli.ok("mail", "import", url, "--folder", "INBOX", "--folder", "Sent", "--json").json()
    assert (out["read"], out["logged"]) == (4, 4)
    rows = store_rows(store, "SELECT folder, last_uid FROM mail_folders ORDER BY folder")
    assert rows == [{"folder": "INBOX", "last_uid": 1}, {"folder": "Sent", "last_uid": 3}]
    # one audit entry per committed batch: INBOX 1, Sent 2 + 1
    entries = store_rows(store, "SELECT changes FROM audit_log WHERE entity = 'import'")
    assert len(entries) == 3


def test_imap_failures_are_one_line_and_write_nothing(
    cli: Runner,
    store: str,
    dovecot: Dovecot,  # noqa: F811
    account: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    url = imaps(dovecot, account)
    port = dovecot.imaps_port
    monkeypatch.setenv("TINYCRM_IMAP_PASSWORD", "wrong")
    r = cli("mail", "import", url)
    assert (r.exit_code, r.stdout) == (1, "")
    assert r.stderr.startswith(
        f"Error: the IMAP server localhost:{port} refused the login of {account}: "
    )
    assert "wrong" not in r.stderr
    monkeypatch.setenv("TINYCRM_IMAP_PASSWORD", PASSWORD)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "no-such-ca.pem"))
    r = cli("mail", "import", url)
    assert r.exit_code == 1
    assert r.stderr.startswith(f"Error: TLS with localhost:{port} failed: ")
    assert "not trusted" in r.stderr and r.stderr.count("\n") == 1
    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot.cert))
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    r = cli("mail", "import", f"imaps://{account}@127.0.0.1:{closed}/INBOX")
    assert (r.exit_code, r.stderr) == (
        1,
        f"Error: can't reach the IMAP server 127.0.0.1:{closed}: connection refused\n",
    )
    r = cli("mail", "import", url.replace("INBOX", "Archive"))
    assert r.exit_code == 2
    assert r.stderr.startswith(f"Error: no folder 'Archive' on the IMAP server localhost:{port}")
    r = cli("mail", "import", f"imaps://{account}:{PASSWORD.replace(' ', '%20')}@localhost/INBOX")
    assert r.exit_code == 2 and "don't put the IMAP password in the URL" in r.stderr
    assert PASSWORD not in r.stderr
    monkeypatch.delenv("TINYCRM_IMAP_PASSWORD")
    r = cli("mail", "import", url)
    assert (r.exit_code, r.stderr) == (
        2,
        f"Error: no IMAP password for {account}@localhost: set TINYCRM_IMAP_PASSWORD, or store"
        f" it in the keyring (keyring set tinycrm-imap {account}@localhost)\n",
    )
    assert emails(cli) == []
    assert store_rows(store, "SELECT * FROM mail_folders") == []


def test_cron_line_names_no_password(
    cli: Runner,
    dovecot: Dovecot,  # noqa: F811
    account: str,
) -> None:
    url = imaps(dovecot, account)
    r = cli("mail", "import", url, "--folder", "INBOX", "--create-missing", "--cron-line")
    assert r.exit_code == 0
    line = r.stdout.strip()
    assert line.startswith("*/15 7-19 * * 1-5 TINYCRM_DB=")
    assert line.endswith(f"mail import {url} --folder INBOX --create-missing")
    assert PASSWORD.split()[0] not in line
    assert r.stderr == (
        "Warning: the crontab line leaves TINYCRM_IMAP_PASSWORD out: store the password in the"
        " keyring (service tinycrm-imap) or set it in cron's environment\n"
    )
