"""Text folding shared by name matching and full-text search. Stdlib only.

`fold` makes the comparisons a salesperson expects: case-, accent- and width-insensitive
("José" == "jose", "ＡＣＭＥ" == "acme"). `search_tokens` turns text into the tokens the
full-text index stores: folded words, and for Chinese/Japanese/Korean runs (which have no
spaces) every character and every pair of neighbours, so "王伟" and "明天" are findable
inside a longer sentence on both SQLite FTS5 and PostgreSQL.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
import weakref
from typing import Any

_WORD = re.compile(r"[^\W_]+")  # letters and digits; "_" separates, as in FTS5
# Han, Hiragana, Katakana, Hangul (syllables and jamo), CJK compatibility ideographs.
_CJK = re.compile(
    "[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002ffff]+"
)


def fold(text: str) -> str:
    """Case-, accent- and width-folded form of `text`, whitespace collapsed."""
    if text.isascii():  # the same result, 10x faster: ASCII has no accents, widths or ß
        return " ".join(text.lower().split())
    text = unicodedata.normalize("NFKC", text).casefold()
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(unicodedata.normalize("NFC", stripped).split())


def _cjk_grams(run: str) -> list[str]:
    grams = list(run)
    grams.extend(run[i : i + 2] for i in range(len(run) - 1))
    return grams


def search_tokens(text: str) -> list[str]:
    """The tokens stored in the search index for `text`."""
    tokens: list[str] = []
    for word in _WORD.findall(fold(text)):
        pos = 0
        for m in _CJK.finditer(word):
            if m.start() > pos:
                tokens.append(word[pos : m.start()])
            tokens.extend(_cjk_grams(m.group()))
            pos = m.end()
        if pos < len(word):
            tokens.append(word[pos:])
    return tokens


def search_document(*parts: str | None) -> str:
    """The text to index for a record made of `parts` (None parts are skipped)."""
    return " ".join(" ".join(search_tokens(p)) for p in parts if p)


def query_terms(text: str) -> list[str]:
    """Terms to AND together (each matched as a prefix) for a search query."""
    terms: list[str] = []
    for word in _WORD.findall(fold(text)):
        pos = 0
        for m in _CJK.finditer(word):
            if m.start() > pos:
                terms.append(word[pos : m.start()])
            run = m.group()
            terms.extend([run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)])
            pos = m.end()
        if pos < len(word):
            terms.append(word[pos:])
    return terms


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_email(email: str) -> str:
    """Lower-cased, trimmed email; raises ValueError if it does not look like one."""
    email = unicodedata.normalize("NFKC", email).strip().lower()
    if not _EMAIL.match(email):
        raise ValueError(email)
    return email


def phone_key(phone: str) -> str:
    """Digits of a phone number (with a leading + kept) for matching different spellings."""
    phone = unicodedata.normalize("NFKC", phone).strip()
    digits = "".join(c for c in phone if c.isdigit())
    return ("+" + digits) if phone.startswith("+") else digits


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def plural(n: int, word: str, many: str | None = None) -> str:
    """A count with its noun, for people: `1 customer`, `2 customers`, `1,200 companies`,
    `0 open deals`. `word` may be several words (the last one is made plural); `many` gives
    an irregular plural (`plural(n, "person", "people")`)."""
    if n == 1 or n == -1:
        return f"{n:,} {word}"
    if many is None:
        head, _, last = word.rpartition(" ")
        if last.endswith("y") and last[-2:-1] not in ("a", "e", "i", "o", "u"):
            last = last[:-1] + "ies"
        elif last.endswith(("s", "x", "ch", "sh")):
            last += "es"
        else:
            last += "s"
        many = f"{head} {last}" if head else last
    return f"{n:,} {many}"


def clean(text: str) -> str:
    """Text as stored: NUL and terminal control characters removed (newlines and tabs kept)."""
    return _CONTROL.sub("", text).strip()


def one_line(text: str, width: int | None = None) -> str:
    """Text safe to print in one table cell: control characters gone, whitespace folded."""
    text = " ".join(_CONTROL.sub("", text).split())
    if width is not None and len(text) > width:
        return text[: max(width - 1, 0)] + "…"
    return text


#: What makes a spreadsheet run a cell as a formula (Excel, LibreOffice, Google Sheets).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def inert(cell: str) -> str:
    """A CSV text cell a spreadsheet shows as it is and never runs: one that starts with
    `=`, `+`, `-`, `@`, tab or CR gets a leading apostrophe (OWASP's advice), and so does
    one that starts with an apostrophe itself, since a spreadsheet hides the first one;
    plain numbers such as `-12.50` stay numbers. `uninert` undoes it exactly."""
    first = cell[:1]
    if first == "'" or (first in FORMULA_STARTS and not _NUMBER.fullmatch(cell)):
        return "'" + cell
    return cell


def uninert(cell: str) -> str:
    """The text `inert` guarded, back: a leading apostrophe before a formula character or
    another apostrophe is dropped (also what a spreadsheet shows for such a cell)."""
    if cell[:1] == "'" and cell[1:2] in (*FORMULA_STARTS, "'"):
        return cell[1:]
    return cell


# user:PASSWORD@ in a URL. The password may hold '@', ':', '/', '?', '#' and even spaces
# when not percent-encoded, so it runs to the first '@' that is followed by a host (and
# maybe a port, then a path, a query, another host, a space or the end); a number followed
# by '/' or the end after `host:` is a port, not a password.
_URL_PASSWORD = re.compile(
    r"(?P<head>[A-Za-z][\w+.-]*://[^:/?#@\s]*):(?!\d+(?:[/?]|\s|$))"
    r".*?@(?=[\w.~%\[\]-]*(?::\d*)?(?:[/?,]|\s|$))"
)
# password=... (sslpassword=, PGPASSWORD=...) in a URL's query string, a libpq key=value
# string or an environment listing; a quoted value runs to its closing quote.
_QUERY_PASSWORD = re.compile(r"(?P<head>[?&]\w*password=)[^&\s]*", re.IGNORECASE)
_KEY_PASSWORD = re.compile(
    r"(?<![?&\w])(?P<head>\w*password\s*=\s*)(?:'(?:[^'\\]|\\.)*'?|\"[^\"]*\"?|(?!\*\*\*)\S+)",
    re.IGNORECASE,
)
_KNOWN_SECRETS: set[str] = set()


def remember_secret(secret: str | None) -> None:
    """Mask `secret` in every message from now on (a password read from a store URL)."""
    if secret and len(secret) >= 3:
        _KNOWN_SECRETS.add(secret)


def mask_secrets(text: str, *secrets: str | None) -> str:
    """`text` with every password in it replaced by ***: in a connection URL (as
    user:password@ or ?password=), in `password=` of a libpq string or an environment
    listing, each of `secrets` (say, the SMTP password) and each remembered one, wherever
    they appear. The one masking function: every message that may quote a URL, a server
    or a client tool goes through it."""
    known = {s for s in secrets if s and len(s) >= 3} | _KNOWN_SECRETS
    for secret in sorted(known, key=len, reverse=True):  # longest first: no half-masking
        text = text.replace(secret, "***")
    text = _URL_PASSWORD.sub(r"\g<head>:***@", text)
    text = _QUERY_PASSWORD.sub(r"\g<head>***", text)
    return _KEY_PASSWORD.sub(r"\g<head>***", text)


def _dirty(value: Any) -> bool:
    """Whether any string in `value` holds a control character (a quick walk)."""
    kind = type(value)
    if kind is str:
        return _CONTROL.search(value) is not None
    if kind is list or kind is tuple:
        return any(_dirty(v) for v in value)
    if kind is dict:
        return any(_dirty(k) or _dirty(v) for k, v in value.items())
    inner = getattr(value, "__dict__", None)
    if inner is not None and hasattr(value, "__dataclass_fields__"):
        return any(_dirty(v) for v in inner.values())
    return False


_SCRUBBED: weakref.WeakValueDictionary[int, Any] = weakref.WeakValueDictionary()


def scrub_once(value: Any) -> Any:
    """scrub(), remembering the result so that scrubbing it again costs nothing: for big
    results that are cached and shown many times (the TUI's rankings)."""
    out = scrub(value)
    with contextlib.suppress(TypeError):  # not weak-referenceable: nothing to remember
        _SCRUBBED[id(out)] = out
    return out


def scrub(value: Any) -> Any:
    """`value` with control characters and escape sequences removed from every string in
    it, through dataclasses, lists, tuples and dicts (newlines and tabs kept): for display
    paths that show stored text, which may have come in some other way than tinycrm's
    services (an older version, a direct SQL write). Clean values are returned as they
    are, not copied."""
    if _SCRUBBED.get(id(value)) is value or not _dirty(value):
        return value
    kind = type(value)
    if kind is str:
        return _CONTROL.sub("", value)
    if kind is list:
        return [scrub(v) for v in value]
    if kind is tuple:
        return tuple(scrub(v) for v in value)
    if kind is dict:
        return {scrub(k): scrub(v) for k, v in value.items()}
    import copy

    fresh = copy.copy(value)
    for name, old in value.__dict__.items():
        object.__setattr__(fresh, name, scrub(old))
    return fresh
