"""`tinycrm mail import imaps://user@host/FOLDER`: reading mail from an IMAP server.

`imaps://` is TLS from the first byte (port 993), `imap://` must upgrade with STARTTLS
(port 143): a login never crosses the network in clear text. Certificates are checked
against the system's CAs (or `SSL_CERT_FILE`). The password comes from
`TINYCRM_IMAP_PASSWORD` or, with the `keyring` package, the keyring (service
`tinycrm-imap`, user `USER@HOST`); never from the command line or the settings file.

Runs are incremental: the store keeps each folder's UIDVALIDITY and the last UID read
(`mail_folders`, per account `user@host:port`), so the next run fetches only newer UIDs,
and starts over if the server renumbered the folder (a new UIDVALIDITY; the messages
already logged are then skipped as duplicates). Messages are fetched with BODY.PEEK (no
\\Seen flag set) in batches; each batch is one transaction together with its position,
so an interrupted run resumes after the last batch that was committed.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import re
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from tinycrm.errors import InvalidInput, MailboxError
from tinycrm.io.mail_read import email_from_bytes
from tinycrm.services.context import Ctx
from tinycrm.services.mail import Email, FolderMark, MailSummary, Options, folder_position
from tinycrm.services.mail import import_folder as log_folder

KEYRING_SERVICE = "tinycrm-imap"
#: UIDs fetched per round trip, and per transaction.
BATCH = 200


@dataclass(frozen=True)
class ImapUrl:
    tls: str  # "ssl" (imaps) or "starttls" (imap)
    user: str
    host: str
    port: int
    folder: str | None

    @property
    def account(self) -> str:
        return f"{self.user}@{self.host}:{self.port}"

    def shown(self, folder: str | None = None) -> str:
        scheme = "imaps" if self.tls == "ssl" else "imap"
        return f"{scheme}://{self.user}@{self.host}:{self.port}/{folder or self.folder or ''}"


def parse_url(text: str) -> ImapUrl:
    """`imaps://user@host[:port][/FOLDER]` or `imap://…`; a password in it is refused."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError as e:
        raise InvalidInput(f"not an IMAP URL ({e}): {text!r}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("imap", "imaps"):
        raise InvalidInput(f"an IMAP URL starts with imaps:// or imap://: {text!r}")
    if parts.password is not None:
        raise InvalidInput(
            "don't put the IMAP password in the URL (it would show in the process list and"
            " your shell's history): set TINYCRM_IMAP_PASSWORD or store it in the keyring"
            f" (service {KEYRING_SERVICE})"
        )
    if not parts.username or not parts.hostname:
        raise InvalidInput(
            f"an IMAP URL names the user and the server, imaps://USER@HOST/INBOX: {text!r}"
        )
    folder = unquote(parts.path.lstrip("/")) or None
    tls = "ssl" if scheme == "imaps" else "starttls"
    return ImapUrl(
        tls, unquote(parts.username), parts.hostname, port or (993 if tls == "ssl" else 143), folder
    )


def password(url: ImapUrl) -> str:
    secret = os.environ.get("TINYCRM_IMAP_PASSWORD")
    if secret:
        return secret
    try:
        import keyring  # type: ignore[import-not-found]
    except ImportError:
        keyring = None
    if keyring is not None:
        try:
            found = keyring.get_password(KEYRING_SERVICE, f"{url.user}@{url.host}")
        except Exception:  # no keyring backend (cron, headless): same as no password
            found = None
        if found:
            return str(found)
    raise InvalidInput(
        f"no IMAP password for {url.user}@{url.host}: set TINYCRM_IMAP_PASSWORD, or store it"
        f" in the keyring (keyring set {KEYRING_SERVICE} {url.user}@{url.host})"
    )


@contextlib.contextmanager
def connect(url: ImapUrl, secret: str, timeout: float = 30.0) -> Iterator[imaplib.IMAP4]:
    """A logged-in connection; every failure to get one is a one-line MailboxError."""
    where = f"{url.host}:{url.port}"
    context = ssl.create_default_context()
    conn: imaplib.IMAP4 | None = None
    try:
        if url.tls == "ssl":
            conn = imaplib.IMAP4_SSL(url.host, url.port, ssl_context=context, timeout=timeout)
        else:
            conn = imaplib.IMAP4(url.host, url.port, timeout=timeout)
            if "STARTTLS" not in conn.capabilities:
                raise MailboxError(
                    f"the IMAP server {where} offers no STARTTLS, so the password would go in"
                    " clear text: use imaps:// if it has TLS on another port"
                )
            conn.starttls(ssl_context=context)
        try:
            conn.login(url.user, secret)
        except imaplib.IMAP4.error as e:
            raise MailboxError(
                f"the IMAP server {where} refused the login of {url.user}: {_said(e)}"
            ) from None
        yield conn
    except ssl.SSLCertVerificationError as e:
        raise MailboxError(
            f"TLS with {where} failed: {e.verify_message or e.reason} (the server's certificate"
            " is not trusted here; SSL_CERT_FILE names extra CAs)"
        ) from None
    except ssl.SSLError as e:
        raise MailboxError(f"TLS with {where} failed: {e.reason or e}") from None
    except TimeoutError:
        raise MailboxError(f"the IMAP server {where} did not answer within {timeout:g} s") from None
    except ConnectionRefusedError:
        raise MailboxError(f"can't reach the IMAP server {where}: connection refused") from None
    except socket.gaierror as e:
        raise MailboxError(f"can't find the IMAP server {url.host}: {e.strerror}") from None
    except imaplib.IMAP4.abort as e:
        raise MailboxError(f"the IMAP server {where} closed the connection: {_said(e)}") from None
    except imaplib.IMAP4.error as e:
        raise MailboxError(f"the IMAP server {where} said: {_said(e)}") from None
    except OSError as e:
        raise MailboxError(f"can't reach the IMAP server {where}: {e.strerror or e}") from None
    finally:
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.logout()


def _said(e: Exception) -> str:
    text = str(e)
    if text.startswith("b'") or text.startswith('b"'):
        text = text[2:-1]
    return " ".join(text.split())[:200]


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def import_imap(ctx: Ctx, source: str, folders: list[str], options: Options) -> MailSummary:
    """Read each folder (the `--folder`s, else the URL's, else INBOX) after the last UID
    an earlier run read, and log it in batches."""
    url = parse_url(source)
    names = folders or [url.folder or "INBOX"]
    secret = password(url)
    total = MailSummary(dry_run=options.dry_run)
    with connect(url, secret) as conn:
        for name in names:
            total.add(_folder(ctx, conn, url, name, options))
    return total


def _folder(
    ctx: Ctx, conn: imaplib.IMAP4, url: ImapUrl, name: str, options: Options
) -> MailSummary:
    where = f"{url.host}:{url.port}"
    status, data = conn.select(_quote(name), readonly=True)
    if status != "OK":
        raise InvalidInput(
            f"no folder {name!r} on the IMAP server {where}: {_said(Exception(data))}"
        )
    validity = int((conn.response("UIDVALIDITY")[1] or [b"0"])[0] or 0)
    known = folder_position(ctx, url.account, name)
    last = known[1] if known is not None and known[0] == validity else 0
    criteria = f"UID {last + 1}:*"
    if options.since is not None:
        criteria += " SINCE " + options.since.strftime("%d-%b-%Y")
    status, data = conn.uid("SEARCH", criteria)
    if status != "OK":
        raise MailboxError(
            f"the IMAP server {where} can't search {name!r}: {_said(Exception(data))}"
        )
    uids = sorted(int(u) for u in (data[0] or b"").split() if int(u) > last)
    label = url.shown(name)
    summary = MailSummary(dry_run=options.dry_run, folders=[label])
    if not uids:
        return summary  # nothing new: nothing written, not even the audit log
    for start in range(0, len(uids), BATCH):
        batch = uids[start : start + BATCH]
        messages = list(_fetch(conn, where, name, batch))
        mark = FolderMark(url.account, name, validity, batch[-1])
        part = log_folder(ctx, label, messages, options, mark=mark)
        part.folders = []
        summary.add(part)
    return summary


_UID = re.compile(rb"UID (\d+)")


def _fetch(conn: imaplib.IMAP4, where: str, folder: str, uids: list[int]) -> Iterator[Email]:
    listed = ",".join(str(u) for u in uids)
    status, data = conn.uid("FETCH", listed, "(UID BODY.PEEK[])")
    if status != "OK":
        raise MailboxError(f"the IMAP server {where} can't fetch from {folder!r}")
    found: list[tuple[int, bytes]] = []
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            head, raw = item
            m = _UID.search(head)
            if m is not None:
                found.append((int(m.group(1)), raw))
    for uid, raw in sorted(found):
        yield email_from_bytes(raw, f"{folder} UID {uid}")
