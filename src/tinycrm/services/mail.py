"""Email as interactions: `tinycrm mail import` logs each message that From, To or Cc
ties to a contact as one `email` interaction per matched contact.

The readers (tinycrm.io.mail_read, tinycrm.io.imap) turn mbox files, Maildir folders,
stdin and IMAP folders into `Email` values; `import_folder` logs one folder in one
transaction through `interactions.log_interaction` (so the stay-in-touch and rot clocks,
the search index and the audit log move as for any note), records each message's key in
`mail_messages` (re-importing skips it) with its thread, and, for IMAP, where the folder
was read up to (`mail_folders`), in the same transaction: an interrupted run resumes
where the last committed folder stopped.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from tinycrm.identity import email_match_key
from tinycrm.refs import Target
from tinycrm.services import audit
from tinycrm.services.context import Ctx
from tinycrm.services.interactions import log_interaction
from tinycrm.store.db import Db

SENT, RECEIVED = "sent", "received"


@dataclass(frozen=True)
class Email:
    """One message as the readers parse it. `key` is the Message-ID without angle
    brackets, or "sha256:…" of the headers; `references` the keys it replies to, the
    thread's first message first (References, then In-Reply-To); `sent_at` the Date in
    UTC (None when missing or unreadable); `where` names it in messages."""

    key: str
    subject: str
    sent_at: datetime | None
    sender: tuple[str, str] | None  # (display name, address)
    to: list[tuple[str, str]]
    cc: list[tuple[str, str]]
    references: list[str]
    body: str
    attachments: list[str]
    where: str = ""


@dataclass(frozen=True)
class MailEntry:
    """What one message became (or would become, in a dry run)."""

    subject: str
    sent_at: datetime
    direction: str
    logged_for: list[str]  # "contact #3 Alice Wong", "company #2 Acme GmbH"
    created: list[str]  # contacts made for it (--create-missing)
    thread: str
    key: str


@dataclass
class MailSummary:
    """Counts for one or more folders: messages read, matched (tied to at least one
    contact or company), interactions logged, duplicates (imported before), unknown (no
    contact matched), older than --since; contacts created."""

    read: int = 0
    matched: int = 0
    logged: int = 0
    duplicates: int = 0
    unknown: int = 0
    older: int = 0
    created: int = 0
    dry_run: bool = False
    folders: list[str] = field(default_factory=list)
    entries: list[MailEntry] = field(default_factory=list)

    def add(self, other: MailSummary) -> None:
        """Count `other` (another folder or batch) in this summary."""
        for name in ("read", "matched", "logged", "duplicates", "unknown", "older", "created"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.folders.extend(other.folders)
        self.entries.extend(other.entries)


@dataclass(frozen=True)
class Options:
    """How to import: the user's other addresses (`aliases` setting), --create-missing,
    --match-domains, --since, --dry-run, and whether to keep an entry per message."""

    aliases: tuple[str, ...] = ()
    create_missing: bool = False
    match_domains: bool = False
    since: datetime | None = None
    dry_run: bool = False
    keep_entries: bool = False


@dataclass(frozen=True)
class FolderMark:
    """Where an IMAP folder was read up to, stored with the folder's messages."""

    account: str
    folder: str
    uidvalidity: int
    last_uid: int


def own_addresses(ctx: Ctx, aliases: Iterable[str]) -> frozenset[str]:
    """The match keys of the user's own addresses: `user edit --email`, plus `aliases`."""
    mine = [a for a in aliases if a.strip()]
    email = ctx.db.value("SELECT email FROM users WHERE name = :n", {"n": ctx.user_name})
    if email:
        mine.append(email)
    keys = set()
    for address in mine:
        key = _key(address)
        if key:
            keys.add(key)
    return frozenset(keys)


def _key(address: str) -> str | None:
    try:
        return email_match_key(address)
    except ValueError:
        return None


def folder_position(ctx: Ctx, account: str, folder: str) -> tuple[int, int] | None:
    """(UIDVALIDITY, last UID) an earlier IMAP run stored for this folder, if any."""
    row = ctx.db.one(
        "SELECT uidvalidity, last_uid FROM mail_folders WHERE account = :a AND folder = :f",
        {"a": account, "f": folder},
    )
    return None if row is None else (int(row["uidvalidity"]), int(row["last_uid"]))


def import_folder(
    ctx: Ctx,
    name: str,
    messages: Iterable[Email],
    options: Options,
    *,
    mark: FolderMark | None = None,
) -> MailSummary:
    """Log one folder's messages, all or nothing. A dry run reads only."""
    summary = MailSummary(dry_run=options.dry_run, folders=[name])
    db = ctx.db
    own = own_addresses(ctx, options.aliases)
    transaction = db.read() if options.dry_run else db.write()
    with transaction:
        if not options.dry_run:
            db.lock_key("mail imports")  # two runs over one mailbox log each message once
            if options.create_missing:
                db.lock_key("contact identities")  # as contact add does
        seen: set[str] = set()
        domains = _company_domains(db) if options.match_domains else {}
        for email in messages:
            summary.read += 1
            _import_one(ctx, email, options, own, domains, seen, summary)
        if not options.dry_run:
            if mark is not None:
                _store_mark(ctx, mark)
            counts = {
                k: getattr(summary, k)
                for k in ("read", "matched", "logged", "duplicates", "unknown", "created")
            }
            audit.record(
                ctx, "import", 0, "import", audit.added({"what": "mail", "file": name, **counts})
            )
    return summary


def _import_one(
    ctx: Ctx,
    email: Email,
    options: Options,
    own: Collection[str],
    domains: dict[str, Target],
    seen: set[str],
    summary: MailSummary,
) -> None:
    db = ctx.db
    if email.key in seen or db.value(
        "SELECT id FROM mail_messages WHERE message_key = :k", {"k": email.key}
    ):
        summary.duplicates += 1
        return
    seen.add(email.key)
    sent_at = _sent_at(ctx, email.sent_at)
    if options.since is not None and sent_at < options.since:
        summary.older += 1
        return
    sender_key = _key(email.sender[1]) if email.sender else None
    direction = SENT if sender_key is not None and sender_key in own else RECEIVED
    people = ([] if direction == SENT or email.sender is None else [email.sender]) + [
        *email.to,
        *email.cc,
    ]
    # the correspondents --create-missing makes contacts for: whom I wrote to, who wrote
    correspondents: list[tuple[str, str]] = list(email.to) if direction == SENT else []
    if direction == RECEIVED and email.sender is not None:
        correspondents = [email.sender]
    keyed = {}
    for display, address in people:
        key = _key(address)
        if key is not None and key not in own and key not in keyed:
            keyed[key] = (display, address)
    targets = _contacts_by_key(db, list(keyed))
    matched_keys = {key for key, _ in targets}
    created: list[str] = []
    for display, address in correspondents:
        key = _key(address)
        if key is None or key in own or key in matched_keys or not options.create_missing:
            continue
        name = display or address.split("@", 1)[0]
        label = f"{name} <{address}>"
        if not options.dry_run:
            target = _create_contact(ctx, name, address)
            if target is None:
                continue
            targets.append((key, target))
        created.append(label)
        matched_keys.add(key)
    if options.match_domains:
        for key in keyed:
            if key in matched_keys:
                continue
            company = domains.get(key.rsplit("@", 1)[1])
            if company is not None and all(t != company for _, t in targets):
                targets.append((key, company))
                matched_keys.add(key)
    unique: list[Target] = []
    for _, target in targets:
        if target not in unique:
            unique.append(target)
    if not unique and not (options.dry_run and created):
        summary.unknown += 1
        return
    summary.matched += 1
    summary.created += len(created)
    thread = _thread(db, email)
    if not options.dry_run:
        body = _body(email, direction)
        message_id = db.insert(
            "INSERT INTO mail_messages (message_key, thread_key, direction, sent_at,"
            " imported_at, user_id) VALUES (:key, :thread, :direction, :sent, :now, :user)"
            " RETURNING id",
            {
                "key": email.key,
                "thread": thread,
                "direction": direction,
                "sent": db.ts(sent_at),
                "now": db.ts(ctx.now),
                "user": ctx.user_id,
            },
        )
        for target in unique:
            logged = log_interaction(ctx, target, body, kind="email", when=sent_at)
            db.execute(
                "INSERT INTO mail_links (message_id, interaction_id) VALUES (:m, :i)",
                {"m": message_id, "i": logged.id},
            )
    summary.logged += len(unique) if not options.dry_run else len(unique) + len(created)
    if options.keep_entries:
        summary.entries.append(
            MailEntry(
                email.subject,
                sent_at,
                direction,
                [t.describe() for t in unique],
                created,
                thread,
                email.key,
            )
        )


def _sent_at(ctx: Ctx, sent_at: datetime | None) -> datetime:
    """The Date header in UTC; a missing one, or one in the future (a wrong clock), is now."""
    if sent_at is None or sent_at > ctx.now:
        return ctx.now
    return sent_at


def _contacts_by_key(db: Db, keys: list[str]) -> list[tuple[str, Target]]:
    """Contacts whose email has one of these match keys (tinycrm.identity), by key."""
    if not keys:
        return []
    names = {f"k{n}": k for n, k in enumerate(keys)}
    rows = db.all(
        "SELECT DISTINCT m.match_key, c.id, c.name FROM contact_methods m"
        " JOIN contacts c ON c.id = m.contact_id"
        f" WHERE m.kind = 'email' AND m.match_key IN ({', '.join(':' + n for n in names)})"
        " AND c.name_key <> '' ORDER BY c.id",
        names,
    )
    order = {k: n for n, k in enumerate(keys)}
    found = [(r["match_key"], Target("contact", r["id"], r["name"])) for r in rows]
    return sorted(found, key=lambda kt: (order[kt[0]], kt[1].id))


def _company_domains(db: Db) -> dict[str, Target]:
    out: dict[str, Target] = {}
    for r in db.all("SELECT id, name, domain FROM companies WHERE domain IS NOT NULL ORDER BY id"):
        domain = str(r["domain"]).strip().lower().removeprefix("www.").lstrip("@")
        if domain and domain not in out:
            out[domain] = Target("company", r["id"], r["name"])
    return out


def _create_contact(ctx: Ctx, name: str, address: str) -> Target | None:
    from tinycrm.errors import InvalidInput
    from tinycrm.services.contact_writes import add_contact

    try:
        new_id = add_contact(ctx, name=name, emails=[address], allow_duplicate=True)
    except InvalidInput:  # a display name that isn't a name: use the address's mailbox
        try:
            name = address.split("@", 1)[0]
            new_id = add_contact(ctx, name=name, emails=[address], allow_duplicate=True)
        except InvalidInput:
            return None
    return Target("contact", new_id, " ".join(name.split()))


def _thread(db: Db, email: Email) -> str:
    """The key of the thread's first message: the thread of the message it replies to if
    that was imported, else the first message References names, else its own key."""
    if email.references:
        parent = email.references[-1]
        known = db.value(
            "SELECT thread_key FROM mail_messages WHERE message_key = :k", {"k": parent}
        )
        return str(known) if known else email.references[0]
    return email.key


def _body(email: Email, direction: str) -> str:
    subject = email.subject or "(no subject)"
    if direction == SENT:
        recipients = ", ".join(a for _, a in [*email.to, *email.cc])
        who = f"sent to {recipients}" if recipients else "sent"
    else:
        who = f"received from {email.sender[1]}" if email.sender else "received"
    parts = [subject, who]
    if email.body:
        parts.append("")
        parts.append(email.body)
    if email.attachments:
        parts.append("")
        parts.append("Attachments: " + ", ".join(email.attachments))
    return "\n".join(parts)


def _store_mark(ctx: Ctx, mark: FolderMark) -> None:
    db = ctx.db
    params = {
        "a": mark.account,
        "f": mark.folder,
        "v": mark.uidvalidity,
        "u": mark.last_uid,
        "now": db.ts(ctx.now),
    }
    moved = db.execute(
        "UPDATE mail_folders SET uidvalidity = :v, last_uid = :u, updated_at = :now"
        " WHERE account = :a AND folder = :f",
        params,
    )
    if not moved.rowcount:
        db.execute(
            "INSERT INTO mail_folders (account, folder, uidvalidity, last_uid, updated_at)"
            " VALUES (:a, :f, :v, :u, :now)",
            params,
        )
