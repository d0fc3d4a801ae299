"""#14: no secret leaks, mail logins need TLS, the cron line runs what was asked, the digest
escapes what users typed, settings and the environment are checked, and a backup stopped by
a file-size limit leaves nothing behind.

Real things throughout: the PostgreSQL server and its client tools (through wrappers that
record what each call was given), an SMTP server on loopback, the crontab line handed to
/bin/sh the way cron does, and child processes under `ulimit -f`.
"""

from __future__ import annotations

import html.parser
import json
import os
import re
import resource
import shlex
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import NOW, TZ, Runner
from tests.test_digest_delivery import Inbox, smtp  # noqa: F401 - the fixture

TINYCRM = Path(sys.executable).parent / "tinycrm"

# A password is recognised in any output by either half: a half-masked password is a leak.
PIECES = ("Zq7x", "Wv9k")
# Every character that means something in a URL or a libpq string, between the halves.
AWKWARD = "Zq7x#? @%:'&/=Wv9k"
# The same typed into a URL as it is: all but '/' (which ends the host) and, in a query,
# '&' (which starts the next parameter) can stand there un-encoded.
RAW = "Zq7x#? @%:'=Wv9k"
SHAPES = ("#", "?", "@", "/", " ", "%", "%41", ":", "'", "&", "=", "\\")


def _leaks(text: str) -> list[str]:
    return [p for p in PIECES if p in text]


def _pg_url_forms(url: str, password_chars: str) -> dict[str, tuple[str, str]]:
    """{form: (URL, the password it carries)} for a URL like scheme://user@host/db."""
    scheme, rest = url.split("://", 1)
    user, _, hostpart = rest.partition("@")
    joiner = "&" if "?" in hostpart else "?"
    awkward = f"Zq7x{password_chars}Wv9k"
    forms = {
        "userinfo, percent-encoded": (
            f"{scheme}://{user}:{quote(awkward, safe='')}@{hostpart}",
            awkward,
        ),
        "query, percent-encoded": (
            f"{scheme}://{user}@{hostpart}{joiner}password={quote(awkward, safe='')}",
            awkward,
        ),
    }
    if "/" not in password_chars:
        forms["userinfo, as typed"] = (f"{scheme}://{user}:{awkward}@{hostpart}", awkward)
    if "&" not in password_chars:
        forms["query, as typed"] = (
            f"{scheme}://{user}@{hostpart}{joiner}password={awkward}",
            awkward,
        )
    return forms


# -- 5. passwords never reach a command line, stdout or stderr ----------------------------------


@dataclass
class ToolCall:
    tool: str
    argv: list[str]
    env: dict[str, str]


def _recording_tools(tmp_path: Path) -> tuple[Path, Path]:
    """Wrappers for pg_dump, pg_restore and psql that record their argv and environment,
    then exec the real tool: what `ps` and /proc would show. Returns (bin dir, log dir)."""
    bin_dir, log_dir = tmp_path / "bin", tmp_path / "calls"
    bin_dir.mkdir()
    log_dir.mkdir()
    for tool in ("pg_dump", "pg_restore", "psql"):
        real = shutil.which(tool)
        if real is None:
            pytest.skip(f"needs {tool} on PATH (postgresql-client)")
        script = bin_dir / tool
        script.write_text(
            "#!/bin/sh\n"
            f'd="{log_dir}/$(date +%s%N)-$$"\n'
            'mkdir "$d"\n'
            f'printf \'%s\\0\' {tool} "$@" > "$d/argv"\n'
            'env -0 > "$d/env"\n'
            f'exec "{real}" "$@"\n'
        )
        script.chmod(0o700)
    return bin_dir, log_dir


def _calls(log_dir: Path) -> list[ToolCall]:
    calls = []
    for d in sorted(log_dir.iterdir()):
        tool, *argv = (d / "argv").read_bytes().decode().rstrip("\0").split("\0")
        env = dict(
            item.split("=", 1) for item in (d / "env").read_bytes().decode().split("\0") if item
        )
        calls.append(ToolCall(tool, argv, env))
    return calls


@pytest.mark.parametrize(
    "form",
    [
        "userinfo, as typed",
        "userinfo, percent-encoded",
        "query, as typed",
        "query, percent-encoded",
    ],
)
def test_pg_client_tools_get_the_password_only_in_pgpassword(
    pg_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, form: str
) -> None:
    """A real backup and restore through a URL with an awkward password (trust auth accepts
    it): every pg_dump, pg_restore and psql call is recorded, and the password is in no
    argument, in no environment variable but PGPASSWORD, and in no output."""
    bin_dir, log_dir = _recording_tools(tmp_path)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("PGPASSWORD", raising=False)
    chars = (AWKWARD if "encoded" in form else RAW)[4:-4]
    url, password = _pg_url_forms(pg_store, chars)[form]
    cli = Runner()
    outputs = [cli.ok("--db", url, "contact", "add", "Alice Wong")]
    file = tmp_path / "b.dump"
    outputs.append(cli.ok("--db", url, "backup", str(file), "--json"))
    restored = cli.ok("--db", url, "restore", str(file), "--force", "--json")
    outputs.append(restored)
    assert restored.json()["contacts"] == 1
    calls = _calls(log_dir)
    assert {c.tool for c in calls} == {"pg_dump", "pg_restore", "psql"}
    for call in calls:
        assert not [a for a in call.argv if _leaks(a)], (call.tool, call.argv)
        holders = {k for k, v in call.env.items() if _leaks(v)}
        if call.tool in ("pg_dump", "psql") or "--list" not in call.argv:
            assert holders == {"PGPASSWORD"}, (call.tool, holders)
            assert call.env["PGPASSWORD"] == password
        else:
            assert holders <= {"PGPASSWORD"}
    for r in outputs:
        assert _leaks(r.stdout + r.stderr) == []
    assert "***" in restored.json()["store"]


CLOSED = "postgresql://sam@127.0.0.1:1/crm"


@pytest.mark.parametrize("shape", SHAPES)
def test_no_part_of_a_password_shows_when_the_server_is_unreachable(
    shape: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    backup = tmp_path / "x.dump"
    backup.write_bytes(b"PGDMP")
    forms = _pg_url_forms(CLOSED, shape)
    for form, (url, _) in forms.items():
        for args in (
            ("--db", url, "todo"),
            ("--db", url, "doctor"),
            ("--db", url, "backup"),
            ("--db", url, "restore", str(backup), "--force"),
            ("init", "--db", url),
        ):
            r = Runner()(*args)
            assert r.exit_code in (1, 2), (form, args, r.stdout)
            assert r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1, (form, r.stderr)
            assert _leaks(r.stdout + r.stderr) == [], (form, args, r.stderr)
    assert {p.name for p in tmp_path.iterdir()} <= {"home", "x.dump"}
    assert not (tmp_path / "home" / "settings.toml").exists()


def test_a_password_with_an_unencoded_slash_is_refused_without_showing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """libpq would end the host at the '/' and print the rest as a host or a port."""
    monkeypatch.chdir(tmp_path)
    for password in ("Zq7x/Wv9k", "Zq7x/a@b/Wv9k", "Zq7x#/?Wv9k"):
        r = Runner()("--db", f"postgresql://sam:{password}@127.0.0.1:1/crm", "todo")
        assert (r.exit_code, r.stderr) == (
            2,
            "Error: the store URL postgresql://sam:***@127.0.0.1:1/crm has an '@' after a '/':"
            " write a '/' in the password as %2F (and an '@' in the database name as %40)\n",
        )


def test_a_libpq_key_value_string_is_refused_not_made_into_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for value in (
        f"host=127.0.0.1 port=1 dbname=crm password={RAW}",
        "host=127.0.0.1 dbname=crm password='Zq7x \\' Wv9k'",
        "dbname=crm user=sam password=Zq7xWv9k",
    ):
        r = Runner()("--db", value, "todo")
        assert r.exit_code == 2, r.stderr
        assert r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1
        assert "postgresql://" in r.stderr and _leaks(r.stderr) == []
    assert not [p for p in tmp_path.iterdir() if p.name != "home"]


def test_the_client_tools_are_never_given_an_ssl_key_password(
    pg_store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """libpq reads `sslpassword` from no variable or file: refused before any tool runs
    (psycopg, in-process, still gets it as a parameter)."""
    bin_dir, log_dir = _recording_tools(tmp_path)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    url = f"{pg_store}?sslpassword={quote(AWKWARD, safe='')}"
    Runner().ok("--db", url, "contact", "add", "Alice Wong")
    r = Runner()("--db", url, "backup", str(tmp_path / "b.dump"))
    assert r.exit_code == 1 and r.stderr.count("\n") == 1
    assert "can't be given the sslpassword" in r.stderr and "sslpassword=***" in r.stderr
    assert _leaks(r.stdout + r.stderr) == []
    assert _calls(log_dir) == [] and not (tmp_path / "b.dump").exists()


def test_one_masking_function_knows_every_form(monkeypatch: pytest.MonkeyPatch) -> None:
    from tinycrm import text
    from tinycrm.text import mask_secrets

    # by its patterns alone: forget the passwords earlier tests' URLs taught it
    monkeypatch.setattr(text, "_KNOWN_SECRETS", set())

    for line in (
        "postgresql://u:Zq7x#Wv9k@h:5/db",
        "postgresql://u:Zq7x/Wv9k@h/db",
        "postgresql://u:Zq7x?Wv9k@h/db",
        "postgresql://u:Zq7x@Wv9k@h/db",
        "can't connect to postgresql://u:Zq7x Wv9k@h/db: refused",
        "postgres://u@h/db?sslmode=x&password=Zq7x%23Wv9k",
        "postgres://u@h/db?password=Zq7x#?@/Wv9k",
        "host=h password=Zq7x#Wv9k dbname=d",
        "host=h password='Zq7x \\' Wv9k' dbname=d",
        "host=h password = Zq7x@Wv9k",
        "PGPASSWORD=Zq7x?Wv9k pg_dump",
        "sslpassword=Zq7x:Wv9k",
        "TINYCRM_SMTP_PASSWORD='Zq7x Wv9k'",
    ):
        assert _leaks(mask_secrets(line)) == [], line
    # what is not a password stays as it was
    for line in (
        "postgresql://h:5432/db",
        "postgresql://u@h:5432/db?application_name=a@b",
        "no store at /home/sam/passwords.db",
    ):
        assert mask_secrets(line) == line
    assert mask_secrets("postgresql://u:p@ss:w@h:5/db") == "postgresql://u:***@h:5/db"


def test_the_store_is_described_without_its_password_in_every_form() -> None:
    from tinycrm.store.db import locate

    for shape in SHAPES:
        for form, (url, _) in _pg_url_forms(CLOSED, shape).items():
            described = locate(url).describe()
            assert _leaks(described) == [] and "***" in described, (form, described)
            assert described.startswith("postgresql://sam") and "127.0.0.1:1/crm" in described


# -- 6. an SMTP login needs TLS, unless the server is this machine and the settings say so -----


def _smtp_settings(home: Path, host: str, port: int, tls: str | None) -> None:
    tls_line = f'tls = "{tls}"\n' if tls is not None else ""
    (home / "settings.toml").write_text(
        f'[smtp]\nhost = "{host}"\nport = {port}\nuser = "crm"\n{tls_line}from = "crm@x.com"\n'
    )


def test_a_login_without_tls_is_refused_by_default(
    cli: Runner,
    smtp: tuple[Inbox, int],  # noqa: F811
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inbox, port = smtp
    _smtp_settings(home, "127.0.0.1", port, None)
    monkeypatch.setenv("TINYCRM_SMTP_PASSWORD", "s3cret-pw")
    cli.ok("remind", "-", "today 18:00", "call")
    r = cli("digest", "--mail-to", "sam@example.com")
    assert r.exit_code == 2
    assert r.stderr == (
        "Error: the SMTP login for 'crm' would go to 127.0.0.1:"
        f'{port} unencrypted: set tls = "starttls" or "ssl" under [smtp] in the settings, or'
        ' tls = "none" to allow it for a mail server on this machine\n'
    )
    assert inbox.logins == [] and inbox.messages == []
    assert "s3cret" not in r.stdout + r.stderr


@pytest.mark.parametrize("host", ["mail.example.invalid", "192.0.2.1"])
def test_a_login_without_tls_to_another_machine_is_refused_even_when_asked(
    cli: Runner, home: Path, monkeypatch: pytest.MonkeyPatch, host: str
) -> None:
    """Refused before any connection: the error is not a failure to connect."""
    home.mkdir(parents=True, exist_ok=True)
    _smtp_settings(home, host, 25, "none")
    monkeypatch.setenv("TINYCRM_SMTP_PASSWORD", "s3cret-pw")
    cli.ok("remind", "-", "today 18:00", "call")
    r = cli("digest", "--mail-to", "sam@example.com")
    assert (r.exit_code, r.stderr) == (
        2,
        f"Error: the SMTP login for 'crm' would cross the network to {host}:25 unencrypted:"
        ' set tls = "starttls" or "ssl" under [smtp] in the settings\n',
    )


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_login_without_tls_on_this_machine_goes_with_one_warning(
    cli: Runner,
    smtp: tuple[Inbox, int],  # noqa: F811
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    host: str,
) -> None:
    inbox, port = smtp
    _smtp_settings(home, host, port, "none")
    monkeypatch.setenv("TINYCRM_SMTP_PASSWORD", "s3cret-pw")
    cli.ok("remind", "-", "today 18:00", "call")
    r = cli("digest", "--mail-to", "sam@example.com")
    assert r.exit_code == 0
    assert r.stderr == (
        f"Warning: the SMTP login for 'crm' goes to {host}:{port} unencrypted"
        ' (tls = "none"; allowed for a mail server on this machine only)\n'
    )
    assert inbox.logins == [(b"crm", b"s3cret-pw")] and len(inbox.messages) == 1
    # no login, nothing to warn about
    (home / "settings.toml").write_text(f'[smtp]\nhost = "{host}"\nport = {port}\n')
    cli.ok("digest", "--mail-to", "sam@example.com", "--force")
    assert len(inbox.messages) == 2 and len(inbox.logins) == 1


# -- 7. the cron line: the store asked for, cron's '%', the shell's quoting, no password -------


def _cron_command(line: str) -> str:
    """What cron hands to /bin/sh for a crontab line: the command after the five time
    fields, up to the first '%' not escaped with a backslash, with '\\%' turned into '%'
    (crontab(5); cron's do_command)."""
    command = line.split(None, 5)[5]
    out, i = [], 0
    while i < len(command):
        if command.startswith("\\%", i):
            out.append("%")
            i += 2
            continue
        if command[i] == "%":
            break
        out.append(command[i])
        i += 1
    return "".join(out)


def _run_as_cron(line: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # cron's bare environment (plus the frozen clock the store's test data was made with)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "TINYCRM_NOW": NOW, "TINYCRM_TZ": TZ}
    return subprocess.run(
        ["/bin/sh", "-c", _cron_command(line)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def test_the_cron_line_runs_the_store_given_with_db_whatever_its_name(
    store: str, tmp_path: Path
) -> None:
    """--db wins over TINYCRM_DB, and a path full of %, quotes, $ and spaces survives cron
    and the shell."""
    folder = tmp_path / 'it\'s 100% "ours" $HOME `id`'
    folder.mkdir()
    other = folder / "crm 50%.db"
    from tinycrm.store.open import open_store

    open_store(str(other)).close()  # only `init` makes a store away from the default
    cli = Runner()
    cli.ok("--db", str(other), "contact", "add", "Percy Other")
    cli.ok("--db", str(other), "remind", "percy", "today 18:00", "ring 100% sure")
    cli.ok("contact", "add", "Tina Default")  # the store TINYCRM_DB names
    cli.ok("remind", "tina", "today 18:00", "wrong store")
    r = cli.ok("--db", str(other), "digest", "--cron-line")
    line = r.stdout.strip()
    assert r.stdout.count("\n") == 1 and line.startswith("0 7 * * 1-5 ")
    assert re.search(r"(?<!\\)%", line) is None  # every % escaped for cron
    done = _run_as_cron(line, tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    assert "ring 100% sure" in done.stdout and "wrong store" not in done.stdout


def test_the_cron_line_keeps_each_piece_one_word(store: str, tmp_path: Path) -> None:
    line = Runner().ok("digest", "--cron-line", "--mail-to", "sam+50%off@example.com").stdout
    words = shlex.split(_cron_command(line.strip()))
    assert words[words.index("--mail-to") + 1] == "sam+50%off@example.com"
    assert words[words.index("--user") + 1] == "sam"


def test_the_cron_line_refuses_what_a_crontab_cannot_hold(store: str) -> None:
    r = Runner()("digest", "--cron-line", "--user", "sam\n* * * * * rm -rf ~")
    assert r.exit_code == 2 and r.stderr.count("\n") == 1
    assert r.stderr.startswith("Error: --user can't go into a crontab line")
    r = Runner()("digest", "--cron-line", "--mail-to", "not an address")
    assert (r.exit_code, r.stderr) == (
        2,
        "Error: --mail-to must be an email address: 'not an address'\n",
    )


def test_the_cron_line_never_holds_the_store_password(
    pg_store: str, tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = _pg_url_forms(pg_store, "#@ %")["userinfo, as typed"]
    cli = Runner()
    cli.ok("--db", url, "remind", "-", "today 18:00", "from the server")
    r = cli("--db", url, "digest", "--cron-line")
    assert r.exit_code == 0
    assert _leaks(r.stdout + r.stderr) == []
    assert r.stderr == (
        "Note: the crontab line leaves the store's password out: cron's job reads it from"
        " ~/.pgpass (or the file PGPASSFILE names) as HOST:PORT:DATABASE:USER:PASSWORD\n"
    )
    assert "TINYCRM_DB=" in r.stdout
    done = _run_as_cron(r.stdout.strip(), tmp_path)  # trust auth: no password needed here
    assert (done.returncode, done.stderr) == (0, "")
    assert "from the server" in done.stdout
    # a PGPASSFILE in use goes into the line; a password in the settings stays there
    passfile = tmp_path / "pgpass"
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    monkeypatch.delenv("TINYCRM_DB")
    home.mkdir(parents=True, exist_ok=True)
    (home / "settings.toml").write_text(f"db = {json.dumps(url)}\n")
    r = cli.ok("digest", "--cron-line")
    assert _leaks(r.stdout) == [] and "TINYCRM_DB" not in r.stdout
    assert f"PGPASSFILE={passfile}" in r.stdout and f"TINYCRM_HOME={home}" in r.stdout
    done = _run_as_cron(r.stdout.strip(), tmp_path)
    assert (done.returncode, done.stderr) == (0, "")
    assert "from the server" in done.stdout


# -- 15. the Markdown and HTML digests show what users typed, as typed ---------------------------

NASTY = "*Bold* _it_ `code` [link](http://e.x) <b>x</b> &amp; ~~gone~~ | # \\ !"


class _Text(html.parser.HTMLParser):
    """The text of each h1 and li, and every tag used."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.blocks: list[tuple[str, str]] = []
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.tags.add(tag)
        if tag in ("h1", "li"):
            self._open = tag
            self.blocks.append((tag, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == self._open:
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            tag, text = self.blocks[-1]
            self.blocks[-1] = (tag, text + data)


def _blocks(rendered_html: str) -> tuple[list[tuple[str, str]], set[str]]:
    parser = _Text()
    parser.feed(rendered_html)
    return [(t, " ".join(x.split())) for t, x in parser.blocks], parser.tags


def test_markdown_and_html_digests_escape_every_user_string(
    cli: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rendered by a CommonMark parser (with GitHub's strikethrough and tables), the Markdown
    digest reads exactly as the text digest: heading, names, note text, deal titles and
    companies; and so does the HTML one in a browser's parser."""
    from markdown_it import MarkdownIt

    monkeypatch.setenv("TINYCRM_USER", f"Sam {NASTY}")
    cli.ok("contact", "add", "--company", f"+ Co {NASTY}", "--every", "1d", "--", f"- 1. {NASTY}")
    cli.ok("remind", "contact:1", "2026-11-20 10:00", f"call {NASTY}")
    cli.ok("deal", "add", "company:1", f"1) deal {NASTY}", "--value", "5000")
    as_of = ("--as-of", "2026-11-25")  # the stay-in-touch is due too
    text = cli.ok("digest", *as_of).stdout.splitlines()
    expected = [("h1", text[0])] + [("li", x.strip()) for x in text[1:] if x.startswith("  ")]
    assert len(expected) >= 4
    md = cli.ok("digest", "--format", "markdown", *as_of).stdout
    rendered = MarkdownIt("commonmark").enable(["strikethrough", "table"]).render(md)
    blocks, tags = _blocks(rendered)
    assert blocks == expected
    assert tags <= {"h1", "h2", "ul", "li", "p", "em"}, tags
    blocks, tags = _blocks(cli.ok("digest", "--format", "html", *as_of).stdout)
    assert blocks == expected
    assert tags <= {"html", "head", "meta", "title", "body", "h1", "h2", "ul", "li", "p", "em"}


# -- 13. the environment and the settings are checked, with the allowed range --------------------


@pytest.mark.parametrize("value", ["1e308", "nan", "inf", "-inf", "-1", "86401", "garbage", "1e"])
def test_busy_timeout_outside_its_range_is_a_usage_error(
    sqlite_store: str, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("TINYCRM_BUSY_TIMEOUT", value)
    r = Runner()("contact", "list")
    assert (r.exit_code, r.stdout, r.stderr) == (
        2,
        "",
        f"Error: TINYCRM_BUSY_TIMEOUT must be a number of seconds from 0 to 86400: {value!r}\n",
    )


def test_busy_timeout_within_its_range_is_taken(
    sqlite_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for value in ("0", "0.25", "86400", " 30 ", ""):
        monkeypatch.setenv("TINYCRM_BUSY_TIMEOUT", value)
        Runner().ok("contact", "list")


@pytest.mark.parametrize("value", ["x", "nan", "inf", "0", "-1", "1e308", "61"])
def test_tui_poll_outside_its_range_is_a_usage_error(
    sqlite_store: str, tmp_path: Path, value: str
) -> None:
    """Refused before the app starts (a real process: an app that started would wait)."""
    done = subprocess.run(
        [str(TINYCRM), "tui"],
        env={**os.environ, "TINYCRM_TUI_POLL": value},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        cwd=tmp_path,
        timeout=60,
    )
    assert (done.returncode, done.stderr) == (
        2,
        f"Error: TINYCRM_TUI_POLL must be a number of seconds from 0.05 to 60: {value!r}\n",
    )


@pytest.mark.parametrize(
    "value", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "1899-12-31", "2201-01-01"]
)
def test_a_frozen_clock_outside_the_calendar_tinycrm_knows_is_a_usage_error(
    sqlite_store: str, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("TINYCRM_NOW", value)
    r = Runner()("todo")
    assert (r.exit_code, r.stderr) == (
        2,
        f"Error: TINYCRM_NOW must be an ISO 8601 time from 1900 to 2200: {value!r}\n",
    )


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (
            "escalate_after = 99999999999999",
            "escalate_after must be a whole number of days from 0 to 3650",
        ),
        ("escalate_after = -1", "escalate_after must be a whole number of days from 0 to 3650"),
        ("escalate_after = 2.5", "escalate_after must be a whole number of days from 0 to 3650"),
        ("[smtp]\nport = 0", "smtp.port must be a whole number from 1 to 65535"),
        ("[smtp]\nport = 99999999", "smtp.port must be a whole number from 1 to 65535"),
        ("[smtp]\nport = true", "smtp.port must be a whole number from 1 to 65535"),
        ("[smtp]\nport = 2.5", "smtp.port must be a whole number from 1 to 65535"),
        ('[smtp]\nport = "x"', "smtp.port must be a whole number from 1 to 65535"),
        ("[smtp]\nhost = 5", "smtp.host must be a string in quotes"),
    ],
)
def test_numbers_in_the_settings_outside_their_range_are_usage_errors(
    sqlite_store: str, home: Path, line: str, error: str
) -> None:
    home.mkdir(parents=True, exist_ok=True)
    settings = home / "settings.toml"
    settings.write_text(line + "\n")
    r = Runner()("digest", "--mail-to", "sam@example.com")
    assert (r.exit_code, r.stderr) == (
        2,
        f"Error: {error.replace(' must', f' in {settings} must', 1)}\n",
    )


# -- 13. a backup stopped by the file-size limit -------------------------------------------------


def _limited(limit: int) -> Any:
    def preexec() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return preexec


def _tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def _run_limited(limit: int, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TINYCRM), *args],
        preexec_fn=_limited(limit),  # noqa: PLW1509 - no threads started in the parent here
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_a_backup_over_the_file_size_limit_is_one_line_and_leaves_nothing(
    sqlite_store: str, tmp_path: Path
) -> None:
    Runner().ok("contact", "add", "Alice Wong")
    store = Path(sqlite_store)
    size = store.stat().st_size
    before = _tree(tmp_path)
    for limit in (8192, 40_000, size - 4096):
        for args in (("backup", str(tmp_path / "out" / "b.db")), ("backup",)):
            done = _run_limited(limit, *args, cwd=tmp_path)
            assert done.returncode == 1, (limit, args, done.stderr)
            assert done.stderr.count("\n") == 1 and "internal error" not in done.stderr
            assert "ulimit -f" in done.stderr and f"{limit} bytes" in done.stderr, done.stderr
            assert _tree(tmp_path) == before, (limit, args, _tree(tmp_path) - before)
    # opening the store at all needs room for SQLite's index beside it
    done = _run_limited(8192, "todo", cwd=tmp_path)
    assert (done.returncode, done.stderr) == (
        1,
        f"Error: opening the store {store} needs to write files of up to 32768 bytes, but"
        " this process may not write files over 8192 bytes (ulimit -f)\n",
    )
    assert _tree(tmp_path) == before
    Runner().ok("backup", str(tmp_path / "fine.db"))  # the store is as good as before


def test_an_automatic_backup_over_the_file_size_limit_stops_the_upgrade_cleanly(
    tmp_path: Path,
) -> None:
    """The backup before a schema upgrade is the same copy: refused in one line, nothing
    left in backups/, and the store stays at its old revision."""
    from tests.test_store import _make_old_store

    path = tmp_path / "old" / "old.db"
    path.parent.mkdir()
    _make_old_store(path)
    before = _tree(tmp_path)
    done = _run_limited(path.stat().st_size - 4096, "--db", str(path), "todo", cwd=tmp_path)
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    assert "ulimit -f" in done.stderr and "internal error" not in done.stderr
    assert _tree(tmp_path) == before
    import sqlite3

    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)
    conn.close()


def test_a_pg_backup_over_the_file_size_limit_is_one_line_and_leaves_nothing(
    pg_store: str, tmp_path: Path
) -> None:
    for tool in ("pg_dump", "pg_restore"):
        if shutil.which(tool) is None:
            pytest.skip(f"needs {tool} on PATH (postgresql-client)")
    Runner().ok("contact", "add", "Alice Wong")
    out = tmp_path / "out"
    out.mkdir()
    done = _run_limited(2048, "backup", str(out / "b.dump"), cwd=tmp_path)
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    assert "internal error" not in done.stderr and "no message" not in done.stderr
    assert "SIGXFSZ" in done.stderr and "2048 bytes: ulimit -f" in done.stderr, done.stderr
    assert list(out.iterdir()) == []
