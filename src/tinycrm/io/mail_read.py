"""Reading email for `tinycrm mail import`: mbox files, Maildir folders, one message on
stdin, each parsed into the `Email` the mail service logs (stdlib `mailbox` and `email`).

What a message becomes: the subject and display names RFC 2047-decoded, the Date in UTC,
From, To and Cc addresses, the Message-ID (or a hash of the headers when there is none),
the keys of the messages it replies to, a plain-text body (the text/plain part, else the
HTML part as text) with quoted replies and the signature trimmed, and attachment names.
Files that are not mail and truncated mboxes are one-line `InvalidInput`s.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from html.parser import HTMLParser
from pathlib import Path

from tinycrm.errors import InvalidInput
from tinycrm.services.mail import Email

#: Body text kept per message; the rest is cut with a note (a note holds 100,000 chars).
MAX_BODY = 20_000


@dataclass(frozen=True)
class Folder:
    """One folder of a source: its name and how to read its messages (lazily)."""

    name: str
    messages: Callable[[], Iterator[Email]]
    count: int | None = None


# -- sources ------------------------------------------------------------------------------------
def open_source(source: str, folders: list[str], stdin: bytes | None = None) -> list[Folder]:
    """The folders of an mbox file, a Maildir (its INBOX, or each `--folder`), or '-' (one
    message from `stdin`)."""
    if source == "-":
        if folders:
            raise InvalidInput("--folder is for Maildir and IMAP sources, not stdin")
        raw = stdin or b""
        return [Folder("stdin", lambda: iter([_one_message(raw, "stdin")]), 1)]
    path = Path(source).expanduser()
    if not path.exists():
        raise InvalidInput(f"no such file or folder: {source}")
    if path.is_dir():
        return _maildir(path, folders)
    if folders:
        raise InvalidInput(f"--folder is for Maildir and IMAP sources; {source} is a file")
    return [_mbox(path)]


def _one_message(raw: bytes, where: str) -> Email:
    if raw.startswith(b"From "):  # an mbox "From " line: mutt's pipe can send one
        raw = raw.split(b"\n", 1)[1] if b"\n" in raw else b""
    if not raw.strip():
        raise InvalidInput(f"{where} is empty: expected one email message")
    message = _parse(raw)
    if not _looks_like_mail(message):
        raise InvalidInput(f"{where} is not an email message (no From, To or Date header)")
    return to_email(message, raw, where)


def _looks_like_mail(message: Message) -> bool:
    return any(message.get(h) is not None for h in ("from", "to", "date", "message-id"))


def _mbox(path: Path) -> Folder:
    try:
        with path.open("rb") as f:
            head = f.read(5)
            f.seek(0, 2)
            size = f.tell()
            if size:
                f.seek(size - 1)
                last = f.read(1)
    except OSError as e:
        raise InvalidInput(f"can't read {path}: {e.strerror}") from None
    if size == 0:
        return Folder(path.name, lambda: iter([]), 0)
    if head != b"From ":
        with path.open("rb") as f:
            start = f.read(4096)
        if re.match(rb"[!-9;-~]+:[ \t]", start) and b"\n\n" in start.replace(b"\r\n", b"\n"):
            return Folder(path.name, lambda: iter([_one_message(path.read_bytes(), str(path))]), 1)
        raise InvalidInput(
            f"{path} is not mail: an mbox file starts with a 'From ' line (line 1 doesn't)"
        )
    if last != b"\n":
        raise InvalidInput(f"{path} is truncated: its last message ends mid-line (byte {size})")
    import mailbox

    box = mailbox.mbox(path, create=False)
    try:
        keys = box.keys()
    except OSError as e:
        raise InvalidInput(f"can't read {path}: {e.strerror}") from None

    def read() -> Iterator[Email]:
        for n, key in enumerate(keys, start=1):
            raw = box.get_bytes(key)
            where = f"{path}, message {n}"
            message = _parse(raw)
            if n == len(keys) and not _has_body_separator(raw):
                raise InvalidInput(f"{path} is truncated: message {n} ends inside its headers")
            yield to_email(message, raw, where)

    return Folder(path.name, read, len(keys))


def _has_body_separator(raw: bytes) -> bool:
    return b"\n\n" in raw.replace(b"\r\n", b"\n")


def _maildir(path: Path, folders: list[str]) -> list[Folder]:
    import mailbox

    if not ((path / "cur").is_dir() and (path / "new").is_dir()):
        raise InvalidInput(f"{path} is a folder but not a Maildir (it has no cur/ and new/)")
    inbox = mailbox.Maildir(path, factory=None, create=False)
    boxes: list[tuple[str, mailbox.Maildir]] = []
    if not folders:
        boxes.append(("INBOX", inbox))
    for name in folders:
        if name.upper() == "INBOX":
            boxes.append(("INBOX", inbox))
            continue
        try:
            boxes.append((name, inbox.get_folder(name)))
        except mailbox.NoSuchMailboxError:
            known = ", ".join(sorted(inbox.list_folders())) or "none"
            raise InvalidInput(
                f"no folder {name!r} in the Maildir {path} (folders: {known})"
            ) from None
    return [_maildir_folder(path, name, box) for name, box in boxes]


def _maildir_folder(path: Path, name: str, box: object) -> Folder:
    import mailbox

    assert isinstance(box, mailbox.Maildir)
    keys = sorted(box.keys())

    def read() -> Iterator[Email]:
        for key in keys:
            try:
                raw = box.get_bytes(key)
            except KeyError:  # gone since listing (another client moved it)
                continue
            yield to_email(_parse(raw), raw, f"{path} {name} message {key}")

    return Folder(name, read, len(keys))


# -- one message --------------------------------------------------------------------------------
def _parse(raw: bytes) -> Message:
    """The message, parsed with the compat32 policy: headers stay as they came and are
    decoded here only where used (the modern policy models every header on access, which
    costs 4x the whole import)."""
    from email import message_from_bytes

    return message_from_bytes(raw)


def decode(value: str) -> str:
    """A header value with RFC 2047 encoded words decoded, on one line."""
    text = str(value)
    if "=?" in text:
        from email.header import decode_header, make_header

        try:
            text = str(make_header(decode_header(text)))
        except (LookupError, UnicodeError, ValueError, AssertionError):
            pass
    return " ".join(text.split())


def _header(message: Message, name: str) -> str:
    """A header's decoded text ('' when missing), on one line."""
    value = message.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):  # an undecodable header (email.header.Header)
        value = str(value)
    return decode(value)


def _addresses(message: Message, *names: str) -> list[tuple[str, str]]:
    from email.utils import getaddresses

    values: list[str] = []
    for name in names:
        values.extend(str(v) for v in message.get_all(name, []) or [])
    out = []
    for display, address in getaddresses(values):
        address = address.strip()
        if "@" in address and " " not in address:
            out.append((decode(display), address))
    return out


def message_key(message_id: str) -> str:
    """The Message-ID's key: what is between its angle brackets."""
    text = message_id.strip()
    m = re.search(r"<([^<>\s]+)>", text)
    return m.group(1) if m else text.strip("<> \t")


def _ids(text: str) -> list[str]:
    return re.findall(r"<([^<>\s]+)>", text)


def email_from_bytes(raw: bytes, where: str) -> Email:
    """One message's bytes (RFC 5322) as the `Email` the mail service logs."""
    return to_email(_parse(raw), raw, where)


def to_email(message: Message, raw: bytes, where: str) -> Email:
    message_id = _header(message, "message-id")
    if message_id and message_key(message_id):
        key = message_key(message_id)
    else:
        headers = "\n".join(
            _header(message, h) for h in ("from", "to", "cc", "date", "subject")
        ).encode("utf-8", "surrogateescape")
        key = "sha256:" + hashlib.sha256(headers or raw[:4096]).hexdigest()
    refs = _ids(_header(message, "references"))
    for parent in _ids(_header(message, "in-reply-to")):
        if parent not in refs:
            refs.append(parent)
    senders = _addresses(message, "from")
    text, attachments = _body(message)
    return Email(
        key=key,
        subject=_header(message, "subject"),
        sent_at=_date(_header(message, "date")),
        sender=senders[0] if senders else None,
        to=_addresses(message, "to"),
        cc=_addresses(message, "cc"),
        references=refs,
        body=text,
        attachments=attachments,
        where=where,
    )


def _date(text: str) -> datetime | None:
    from email.utils import parsedate_to_datetime

    if not text:
        return None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000": UTC, origin unknown
        when = when.replace(tzinfo=UTC)
    try:
        return when.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _body(message: Message) -> tuple[str, list[str]]:
    """(the plain-text body, trimmed; the attachment names)."""
    attachments: list[str] = []
    plain: str | None = None
    html: str | None = None
    for part in message.walk():
        if part.is_multipart():
            continue
        filename = part.get_filename()
        disposition = part.get_content_disposition()
        if filename or disposition == "attachment":
            attachments.append(decode(filename or "unnamed"))
            continue
        ctype = part.get_content_type()
        if ctype == "text/plain" and plain is None:
            plain = _text(part)
        elif ctype == "text/html" and html is None:
            html = _text(part)
    if plain is None and html is not None:
        plain = html_to_text(html)
    return trim(plain or ""), attachments


def _text(part: Message) -> str:
    """A text part's content: transfer encoding undone, then its charset (UTF-8 when it
    names none, or one Python doesn't know)."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, "replace")
    except LookupError:
        return payload.decode("utf-8", "replace")


# -- text ---------------------------------------------------------------------------------------
_BLOCKS = frozenset(
    "p div br tr li ul ol h1 h2 h3 h4 h5 h6 blockquote pre table section article header"
    " footer hr dt dd".split()
)
_SKIP = frozenset({"script", "style", "head", "title"})


class _HtmlText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skipping = 0
        self.quoting = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skipping += 1
        elif tag == "blockquote":
            self.quoting += 1
            self.out.append("\n")
        elif tag == "li":
            self.out.append("\n- ")
        elif tag in _BLOCKS:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag == "blockquote":
            self.quoting = max(0, self.quoting - 1)
            self.out.append("\n")
        elif tag in _BLOCKS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        text = re.sub(r"\s+", " ", data)
        if self.quoting:  # quoted replies in HTML mail: marked as quotes, trimmed later
            text = text.replace("\n", "\n> ")
            if not self.out or self.out[-1].endswith("\n"):
                text = "> " + text.lstrip()
        self.out.append(text)


def html_to_text(html: str) -> str:
    """The readable text of an HTML mail part: paragraphs and line breaks kept, scripts,
    styles and tags dropped, entities decoded, block quotes marked with '> '."""
    parser = _HtmlText()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):
        pass
    lines = [" ".join(line.split()) for line in "".join(parser.out).splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


_ATTRIBUTION = re.compile(
    r"^(on\b.{0,200}\bwrote:?|am\b.{0,200}\bschrieb.{0,100}:|le\b.{0,200}\ba écrit\s*:"
    r"|-{2,}\s*original message\s*-{2,}|-{2,}\s*ursprüngliche nachricht\s*-{2,}"
    r"|_{10,}|begin forwarded message:?)$",
    re.IGNORECASE,
)
_OUTLOOK_HEADER = re.compile(r"^(from|von|de):\s.+$", re.IGNORECASE)


def trim(text: str) -> str:
    """The new part of a message: quoted lines, the quoted reply after an attribution line
    ("On Mon, Alice wrote:", "-----Original Message-----") and the signature (after
    "-- ") dropped; blank runs squeezed; cut at MAX_BODY characters."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for n, line in enumerate(lines):
        stripped = line.strip()
        if line.rstrip("\n") in ("-- ", "--") or stripped == "-- ":
            break
        if _ATTRIBUTION.match(stripped):
            break
        if _OUTLOOK_HEADER.match(stripped) and _outlook_block(lines, n):
            break
        # "On Mon, 1 Dec 2026 at 10:00, Alice <alice@acme.com>" / "wrote:" on two lines
        if stripped.lower().startswith("on ") and n + 1 < len(lines):
            joined = f"{stripped} {lines[n + 1].strip()}"
            if _ATTRIBUTION.match(joined):
                break
        if stripped.startswith(">"):
            continue
        kept.append(line.rstrip())
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
    if len(body) > MAX_BODY:
        body = body[:MAX_BODY].rstrip() + "\n[… cut: the message goes on]"
    return body


def _outlook_block(lines: list[str], n: int) -> bool:
    """Whether line `n` starts an Outlook-style quoted header block (From:, then Sent: or
    Date:, To: or Subject: within the next lines)."""
    following = " ".join(line.strip().lower() for line in lines[n + 1 : n + 4])
    return any(k in following for k in ("sent:", "date:", "gesendet:", "subject:", "betreff:"))
