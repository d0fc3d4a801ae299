"""`tinycrm mail import`: mbox files, Maildir folders and stdin, through the real CLI on
both backends, with real files written by the stdlib's own mail classes."""

from __future__ import annotations

import mailbox
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Runner


def message(
    *,
    frm: str = "Alice Wong <alice@acme.com>",
    to: str = "Sam <sam@mine.example>",
    cc: str | None = None,
    subject: str = "Quote for 50 licences",
    date: str = "Fri, 20 Nov 2026 16:30:00 +0100",
    message_id: str | None = "<q1@acme.com>",
    body: str = "Can you send the quote?\n",
    html: str | None = None,
    attachment: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
) -> EmailMessage:
    m = EmailMessage()
    m["From"] = frm
    m["To"] = to
    if cc:
        m["Cc"] = cc
    m["Subject"] = subject
    m["Date"] = date
    if message_id:
        m["Message-ID"] = message_id
    if in_reply_to:
        m["In-Reply-To"] = in_reply_to
    if references:
        m["References"] = references
    if html is not None and not body:
        m.set_content(html, subtype="html")
    else:
        m.set_content(body)
        if html is not None:
            m.add_alternative(html, subtype="html")
    if attachment:
        m.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename=attachment)
    return m


def write_mbox(path: Path, *messages: EmailMessage) -> Path:
    box = mailbox.mbox(path)
    for m in messages:
        box.add(m)
    box.flush()
    box.close()
    return path


def emails(cli: Runner, ref: str = "alice") -> list[dict[str, Any]]:
    """The contact's email interactions, oldest first, as the timeline has them."""
    shown = cli.ok("contact", "show", ref, "--json").json()
    return sorted((e for e in shown["timeline"] if e["kind"] == "email"), key=lambda e: e["when"])


def store_rows(store: str, sql: str) -> list[dict[str, Any]]:
    from tinycrm.store.open import open_store

    db = open_store(store)
    try:
        return db.all(sql)
    finally:
        db.close()


def test_mbox_import_logs_one_email_per_matched_contact(
    cli: Runner, store: str, tmp_path: Path
) -> None:
    cli.ok("contact", "add", "Alice Wong", "--email", "Alice@Acme.com")
    cli.ok("contact", "add", "Bob Stone", "--email", "bob+crm@gmail.com")
    cli.ok("user", "edit", "sam", "--email", "sam@mine.example")
    mbox = write_mbox(
        tmp_path / "in.mbox",
        message(
            subject="=?utf-8?q?Angebot_f=C3=BCr_50_Lizenzen?=",
            cc="b.o.b@googlemail.com, Stranger <who@else.org>",
            body="Can you send the quote?\n\nOn Thu, Sam wrote:\n> old text\n\n-- \nAlice\nCEO\n",
            attachment="brief.pdf",
        ),
    )
    out = cli.ok("mail", "import", str(mbox), "--json").json()
    assert out == {
        "read": 1,
        "matched": 1,
        "logged": 2,
        "duplicates": 0,
        "unknown": 0,
        "older": 0,
        "created": 0,
        "dry_run": False,
        "folders": [str(mbox)],
        "entries": [],
    }
    [mail] = emails(cli, "alice")
    assert mail["when"] == "2026-11-20T15:30:00Z"  # the sender's Date, in UTC
    assert mail["text"].splitlines() == [
        "Angebot für 50 Lizenzen",
        "received from alice@acme.com",
        "",
        "Can you send the quote?",
        "",
        "Attachments: brief.pdf",
    ]
    assert [e["when"] for e in emails(cli, "bob")] == ["2026-11-20T15:30:00Z"]
    # like any interaction: the last touch moves, and search finds it
    assert cli.ok("contact", "show", "alice", "--json").json()["last_touch_at"] == (
        "2026-11-20T15:30:00Z"
    )
    hits = cli.ok("search", "Lizenzen", "--json").json()
    assert sorted(h["title"] for h in hits) == ["Alice Wong", "Bob Stone"]


def test_reimporting_is_harmless(cli: Runner, tmp_path: Path) -> None:
    cli.ok("contact", "add", "Alice Wong", "--email", "alice@acme.com")
    no_id = message(message_id=None, subject="no id here")
    mbox = write_mbox(tmp_path / "in.mbox", message(), no_id)
    first = cli.ok("mail", "import", str(mbox), "--json").json()
    assert (first["logged"], first["duplicates"]) == (2, 0)
    again = cli.ok("mail", "import", str(mbox)).stdout
    assert again == (
        "Mail: 2 messages read, 0 matched, logged 0 email interactions, 2 already imported,"
        " 0 from unknown people\n"
    )
    assert len(emails(cli)) == 2


def test_sent_mail_and_aliases(cli: Runner, tmp_path: Path, home: Path) -> None:
    cli.ok("contact", "add", "Alice Wong", "--email", "alice@acme.com")
    home.mkdir(parents=True, exist_ok=True)
    (home / "settings.toml").write_text('aliases = ["sam.private@example.org"]\n')
    mbox = write_mbox(
        tmp_path / "sent.mbox",
        message(frm="Sam <Sam.Private@example.org>", to="alice@acme.com", message_id="<s1@x>"),
    )
    cli.ok("mail", "import", str(mbox))
    [mail] = emails(cli)
    assert mail["text"].splitlines()[1] == "sent to alice@acme.com"


def test_unknown_people_are_counted_or_created(cli: Runner, store: str, tmp_path: Path) -> None:
    cli.ok("company", "add", "Acme GmbH", "--domain", "acme.com")
    mbox = write_mbox(
        tmp_path / "in.mbox",
        message(frm="Carol Diaz <carol@acme.com>", message_id="<c1@acme.com>"),
        message(frm="Dan <dan@nowhere.net>", message_id="<d1@nowhere.net>"),
    )
    dry = cli.ok("mail", "import", str(mbox), "--dry-run", "--json").json()
    assert (dry["unknown"], dry["logged"]) == (2, 0)
    assert cli.ok("contact", "list", "--json").json() == []
    domains = cli.ok("mail", "import", str(mbox), "--match-domains", "--json").json()
    assert (domains["matched"], domains["unknown"]) == (1, 1)
    logged = store_rows(store, "SELECT kind, contact_id, company_id FROM interactions")
    assert logged == [{"kind": "email", "contact_id": None, "company_id": 1}]
    created = cli.ok("mail", "import", str(mbox), "--create-missing", "--json").json()
    assert (created["created"], created["duplicates"], created["logged"]) == (1, 1, 1)
    [dan] = cli.ok("contact", "list", "--json").json()
    assert (dan["name"], dan["email"]) == ("Dan", "dan@nowhere.net")


def test_dry_run_says_who_would_get_what_and_writes_nothing(
    cli: Runner, store: str, tmp_path: Path
) -> None:
    cli.ok("contact", "add", "Alice Wong", "--email", "alice@acme.com")
    mbox = write_mbox(
        tmp_path / "in.mbox", message(), message(frm="new@person.io", message_id="<n@p>")
    )
    out = cli.ok("mail", "import", str(mbox), "--dry-run", "--create-missing").stdout
    assert "contact #1 Alice Wong" in out
    assert "new <new@person.io>" in out
    assert out.splitlines()[-1] == (
        "Mail: 2 messages read, 2 matched, would log 2 email interactions, 0 already imported,"
        " 0 from unknown people, would create 1 contact"
    )
    assert emails(cli) == []
    assert store_rows(store, "SELECT * FROM mail_messages") == []
    assert len(cli.ok("contact", "list", "--json").json()) == 1


def test_since_html_and_threads(cli: Runner, store: str, tmp_path: Path) -> None:
    cli.ok("contact", "add", "Alice Wong", "--email", "alice@acme.com")
    mbox = write_mbox(
        tmp_path / "in.mbox",
        message(date="Mon, 02 Nov 2026 09:00:00 +0000", message_id="<old@acme.com>"),
        message(
            body="",
            html="<html><style>p{}</style><p>Hello&nbsp;Sam,</p><p>see <b>below</b></p>"
            "<blockquote>earlier text</blockquote></html>",
            message_id="<r1@acme.com>",
            in_reply_to="<q0@mine.example>",
            references="<root@acme.com> <q0@mine.example>",
        ),
        message(
            message_id="<r2@acme.com>", in_reply_to="<r1@acme.com>", date="Sat, 21 Nov 2026 08:00"
        ),
    )
    out = cli.ok("mail", "import", str(mbox), "--since", "2026-11-10", "--json").json()
    assert (out["read"], out["older"], out["logged"]) == (3, 1, 2)
    texts = [e["text"] for e in emails(cli)]
    assert texts[0].splitlines()[2:] == ["", "Hello Sam,", "", "see below"]
    threads = store_rows(store, "SELECT message_key, thread_key FROM mail_messages ORDER BY id")
    assert threads == [
        {"message_key": "r1@acme.com", "thread_key": "root@acme.com"},
        {"message_key": "r2@acme.com", "thread_key": "root@acme.com"},
    ]


def test_maildir_folders_and_stdin(cli: Runner, tmp_path: Path) -> None:
    cli.ok("contact", "add", "Alice Wong", "--email", "alice@acme.com")
    md = mailbox.Maildir(tmp_path / "Mail")
    md.add(message(message_id="<in@acme.com>"))
    sent = md.add_folder("Sent")
    sent.add(message(frm="sam@mine.example", to="alice@acme.com", message_id="<out@x>"))
    inbox = cli.ok("mail", "import", str(tmp_path / "Mail"), "--json").json()
    assert (inbox["read"], inbox["logged"], inbox["folders"]) == (1, 1, [str(tmp_path / "Mail")])
    both = cli.ok(
        "mail", "import", str(tmp_path / "Mail"), "--folder", "INBOX", "--folder", "Sent", "--json"
    ).json()
    assert (both["read"], both["logged"], both["duplicates"]) == (2, 1, 1)
    raw = message(
        message_id="<piped@acme.com>", subject="from mutt", date="Sun, 22 Nov 2026 10:00 +0000"
    ).as_string()
    cli.ok("mail", "import", "-", stdin="From alice@acme.com Sun Nov 22 10:00:00 2026\n" + raw)
    assert [e["text"].splitlines()[0] for e in emails(cli)][-1] == "from mutt"
    r = cli("mail", "import", str(tmp_path / "Mail"), "--folder", "Archive")
    assert r.exit_code == 2
    assert r.stderr == (
        f"Error: no folder 'Archive' in the Maildir {tmp_path / 'Mail'} (folders: Sent)\n"
    )


def test_bad_sources_are_one_line_and_write_nothing(
    cli: Runner, store: str, tmp_path: Path
) -> None:
    cli.ok("contact", "add", "Alice Wong", "--email", "alice@acme.com")
    good = write_mbox(tmp_path / "good.mbox", message(), message(message_id="<q2@acme.com>"))
    data = good.read_bytes()
    cut = tmp_path / "cut.mbox"
    cut.write_bytes(data[: data.rindex(b"Subject:") + 5])
    picture = tmp_path / "photo.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    folder = tmp_path / "notes"
    folder.mkdir()
    cases = {
        str(cut): f"Error: {cut} is truncated: its last message ends mid-line (byte"
        f" {data.rindex(b'Subject:') + 5})\n",
        str(picture): f"Error: {picture} is not mail: an mbox file starts with a 'From ' line"
        " (line 1 doesn't)\n",
        str(folder): f"Error: {folder} is a folder but not a Maildir (it has no cur/ and new/)\n",
        str(tmp_path / "nope"): f"Error: no such file or folder: {tmp_path / 'nope'}\n",
    }
    for source, error in cases.items():
        r = cli("mail", "import", source)
        assert (r.exit_code, r.stderr, r.stdout) == (2, error, ""), source
    cut_headers = tmp_path / "cut2.mbox"
    cut_headers.write_bytes(data[: data.rindex(b"Subject:")])  # ends at a header line's end
    r = cli("mail", "import", str(cut_headers))
    assert (r.exit_code, r.stderr) == (
        2,
        f"Error: {cut_headers} is truncated: message 2 ends inside its headers\n",
    )
    r = cli("mail", "import", "-", stdin="just some words\n")
    assert (r.exit_code, r.stderr) == (
        2,
        "Error: stdin is not an email message (no From, To or Date header)\n",
    )
    assert emails(cli) == []
    assert store_rows(store, "SELECT * FROM mail_messages") == []


@pytest.mark.parametrize("setting", ["aliases = 3", 'aliases = [1, "a@b.c"]'])
def test_bad_aliases_setting(cli: Runner, tmp_path: Path, home: Path, setting: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "settings.toml").write_text(setting + "\n")
    mbox = write_mbox(tmp_path / "in.mbox", message())
    r = cli("mail", "import", str(mbox))
    assert r.exit_code == 2
    assert r.stderr == (
        f"Error: aliases in {home / 'settings.toml'} must be a list of addresses like"
        ' ["me@work.com"]\n'
    )


def test_a_saved_message_file_is_one_message(cli: Runner, tmp_path: Path) -> None:
    cli.ok("contact", "add", "Alice Wong", "--email", "alice@acme.com")
    saved = tmp_path / "offer.eml"
    saved.write_bytes(message(subject="=?iso-8859-1?q?R=E9ponse?=").as_bytes())
    out = cli.ok("mail", "import", str(saved), "--json").json()
    assert (out["read"], out["logged"]) == (1, 1)
    assert emails(cli)[0]["text"].splitlines()[0] == "Réponse"
