"""PostgreSQL store URLs, read once, with the password kept apart. Stdlib only.

A password never travels inside a URL: psycopg and SQLAlchemy get it as a connection
argument of its own, the client tools (pg_dump, pg_restore, psql) in PGPASSWORD, and
messages show `masked`. That way no driver or tool can echo it back in an error, and no
other user can read it in the process list.

The password may be given as `user:PASSWORD@host` (percent-encoded or as typed: '#', '?',
'@', ':', spaces and a '%' that starts no escape are all taken literally, up to the last
'@' before the path) or as `?password=...`. A '/' as typed can't be told from the start of
the path, so such a URL is refused (with the password masked). A libpq `key=value` string
is refused too: tinycrm takes URLs only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tinycrm.errors import InvalidInput
from tinycrm.text import mask_secrets, remember_secret

SCHEME = re.compile(r"^(?:postgresql|postgres)(?:\+psycopg)?://")
# a libpq connection string: `host=... dbname=...` (its first word is a known keyword)
_KEYWORDS = (
    "host|hostaddr|port|dbname|user|password|passfile|service|sslmode|sslpassword|"
    "application_name|options|connect_timeout"
)
_KEY_VALUE = re.compile(rf"^\s*(?:{_KEYWORDS})\s*=", re.IGNORECASE)
_KEYWORD = re.compile(rf"(?:^|\s)({_KEYWORDS})\s*=", re.IGNORECASE)
# a query string right after the host (no path): '?' then a parameter name and '='
_QUERY_START = re.compile(r"\?[A-Za-z_]+=")
#: query parameters that hold secrets: never passed on in a URL
SECRET_PARAMS = ("password", "sslpassword")


@dataclass(frozen=True)
class PgUrl:
    url: str  # postgresql://user@host:port/db?params: no password, safe to show or pass on
    masked: str  # what the user wrote, every password as ***
    password: str | None = field(default=None, repr=False)
    sslpassword: str | None = field(default=None, repr=False)

    def sqlalchemy_url(self) -> str:
        return "postgresql+psycopg://" + self.url.removeprefix("postgresql://")


def is_key_value(value: str) -> bool:
    return _KEY_VALUE.match(value) is not None


def parse(value: str) -> PgUrl:
    """Read a postgresql:// URL (any of its schemes); InvalidInput if it can't be read
    without guessing where the password ends."""
    if is_key_value(value):
        # its keywords only: where an unquoted password ends is anyone's guess
        keys = " ".join(f"{k}=…" for k in _KEYWORD.findall(value))
        raise InvalidInput(
            f"the store ({keys}) is a libpq key=value string; give a"
            " postgresql://USER@HOST:PORT/DATABASE URL (with the password in PGPASSWORD,"
            " ~/.pgpass or the URL)"
        )
    m = SCHEME.match(value)
    if m is None:
        raise InvalidInput(f"not a PostgreSQL URL: {mask_secrets(value)!r}")
    from urllib.parse import unquote  # leaves a '%' that starts no escape as it is

    head, rest = value[: m.end()], value[m.end() :]
    pieces: list[str] = []  # the password as typed, to mask
    slash = rest.find("/")
    authority = rest if slash < 0 else rest[:slash]
    query_at = _QUERY_START.search(authority)
    at = authority.rfind("@", 0, query_at.start() if query_at else len(authority))
    password, typed_password = None, False
    if at < 0:
        user, hostpart = None, rest
        tail = rest[slash:] if slash >= 0 else ""
        query_at = _QUERY_START.search(tail)
        path = tail[: query_at.start()] if query_at else tail
        if ":" in authority and "@" in path:
            # `user:pa/ss@host`: libpq would take `pa` for a port and show the rest
            cut = slash + path.rfind("@")
            masked = f"{head}{authority.split(':', 1)[0]}:***{rest[cut:]}"
            raise InvalidInput(
                f"the store URL {mask_secrets(masked)} has an '@' after a '/': write a '/'"
                " in the password as %2F (and an '@' in the database name as %40)"
            )
    else:
        userinfo, hostpart = rest[:at], rest[at + 1 :]
        user, colon, typed = userinfo.partition(":")
        if colon:
            password, typed_password = unquote(typed), True
            pieces.append(typed)
    base, question, query = hostpart.partition("?")
    kept, masked_params, sslpassword = [], [], None
    if question:
        for item in query.split("&"):
            key, equals, val = item.partition("=")
            if equals and key.lower() in SECRET_PARAMS:
                pieces.append(val)
                if key.lower() == "password":
                    password = unquote(val)
                else:
                    sslpassword = unquote(val)
                masked_params.append(f"{key}=***")
                continue
            kept.append(item)
            masked_params.append(item)
    for secret in (password, sslpassword, *pieces):
        remember_secret(secret)
    credentials = "" if user is None else f"{user}@"
    url = f"postgresql://{credentials}{base}" + (f"?{'&'.join(kept)}" if kept else "")
    shown = "" if user is None else f"{user}:***@" if typed_password else credentials
    masked = f"{head}{shown}{base}" + (f"?{'&'.join(masked_params)}" if question else "")
    return PgUrl(url=url, masked=masked, password=password, sslpassword=sslpassword)
