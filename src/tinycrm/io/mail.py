"""Mailing the digest over SMTP: a multipart text + HTML message.

Settings (`[smtp]` in settings.toml): host, port, user, tls ("starttls", "ssl" or "none"),
from. The password is never in the settings file: it comes from `TINYCRM_SMTP_PASSWORD`
or, when the `keyring` package is installed, the system keyring (service "tinycrm",
the SMTP user as the account). It never appears in output, logs or error messages, and
never crosses the network in clear text: a login (`user`) needs tls = "starttls" or "ssl",
except to a server on this machine with tls = "none" written out (login_warning).
"""

from __future__ import annotations

import ipaddress
import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from tinycrm.errors import DeliveryError, InvalidInput

TLS_MODES = ("starttls", "ssl", "none")


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "localhost"
    port: int = 25
    user: str | None = None
    tls: str = "none"
    sender: str | None = None
    timeout: float = 30.0
    tls_chosen: bool = False  # tls is written in the settings (not the default)

    def __repr__(self) -> str:  # no secrets here, but keep it short in errors
        return f"SmtpSettings({self.host}:{self.port}, tls={self.tls}, user={self.user!r})"


def smtp_settings(raw: dict[str, Any], where: Path | str = "the settings") -> SmtpSettings:
    """The [smtp] table of the settings file at `where`, checked."""
    from tinycrm.config import whole_number

    section = raw.get("smtp", {})
    if not isinstance(section, dict):
        raise InvalidInput(f"[smtp] in {where} must be a table")
    if "password" in section:
        raise InvalidInput(
            "don't put the SMTP password in the settings file: set TINYCRM_SMTP_PASSWORD"
            " or store it in the system keyring"
        )
    for key in ("host", "user", "tls", "from"):
        if key in section and not isinstance(section[key], str):
            raise InvalidInput(f"smtp.{key} in {where} must be a string in quotes")
    tls = section.get("tls", "none").lower()
    if tls not in TLS_MODES:
        raise InvalidInput(f"smtp.tls in {where} must be one of {', '.join(TLS_MODES)}: {tls!r}")
    default_port = {"ssl": 465, "starttls": 587, "none": 25}[tls]
    port = whole_number(section.get("port", default_port), f"smtp.port in {where}", 1, 65535)
    return SmtpSettings(
        host=section.get("host", "localhost"),
        port=port,
        user=section.get("user"),
        tls=tls,
        sender=section.get("from"),
        tls_chosen="tls" in section,
    )


def is_loopback(host: str) -> bool:
    """Whether `host` is this machine (localhost, 127.0.0.0/8, ::1)."""
    name = host.strip().strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def login_warning(settings: SmtpSettings) -> str | None:
    """Whether the login may go as configured: None (TLS, or no login), a warning to show
    once (no TLS to a server on this machine, as the settings ask), or InvalidInput (the
    password would cross the network, or no TLS by default)."""
    if settings.user is None or settings.tls != "none":
        return None
    where = f"{settings.host}:{settings.port}"
    login = f"the SMTP login for {settings.user!r}"
    fix = 'set tls = "starttls" or "ssl" under [smtp] in the settings'
    if not is_loopback(settings.host):
        raise InvalidInput(f"{login} would cross the network to {where} unencrypted: {fix}")
    if not settings.tls_chosen:
        raise InvalidInput(
            f'{login} would go to {where} unencrypted: {fix}, or tls = "none" to allow it'
            " for a mail server on this machine"
        )
    return (
        f'{login} goes to {where} unencrypted (tls = "none"; allowed for a mail server on'
        " this machine only)"
    )


def _password(settings: SmtpSettings) -> str | None:
    secret = os.environ.get("TINYCRM_SMTP_PASSWORD")
    if secret:
        return secret
    if settings.user is None:
        return None
    try:
        import keyring  # type: ignore[import-not-found]
    except ImportError:
        return None
    try:
        found = keyring.get_password("tinycrm", settings.user)
    except Exception:  # no keyring backend (cron, headless): same as no password
        return None
    return str(found) if found else None


def build_message(*, sender: str, to: str, subject: str, text: str, html: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = to
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "tinycrm")
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg


def send(settings: SmtpSettings, msg: EmailMessage) -> None:
    """Deliver `msg`; any failure is one DeliveryError line without the password. A login
    that login_warning() refuses is refused here too, before connecting."""
    login_warning(settings)
    where = f"{settings.host}:{settings.port}"
    try:
        if settings.tls == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host,
                settings.port,
                timeout=settings.timeout,
                context=ssl.create_default_context(),
            )
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with client:
            if settings.tls == "starttls":
                client.starttls(context=ssl.create_default_context())
            password = _password(settings)
            if settings.user and password:
                client.login(settings.user, password)
            client.send_message(msg)
    except smtplib.SMTPAuthenticationError:
        raise DeliveryError(
            f"the mail server {where} refused the login for {settings.user!r}"
        ) from None
    except smtplib.SMTPRecipientsRefused as e:
        refused = ", ".join(sorted(e.recipients))
        raise DeliveryError(f"the mail server {where} refused the recipient {refused}") from None
    except (smtplib.SMTPException, OSError) as e:
        reason = getattr(e, "strerror", None) or str(e) or type(e).__name__
        raise DeliveryError(f"can't send mail through {where}: {reason}") from None
