"""Checks on what people type about a person (names, free text, emails, phones, tags):
shared by contacts, users and the imports, so every way in applies the same rules."""

from __future__ import annotations

from tinycrm.errors import InvalidInput
from tinycrm.text import clean, fold, normalize_email, phone_key

MAX_NAME = 200
MAX_TEXT = 100_000


def check_name(name: str, what: str = "name") -> str:
    """A person's name (a contact's or a user's) cleaned of control characters and runs of
    spaces; InvalidInput if it is empty or longer than MAX_NAME."""
    name = " ".join(clean(name).split())
    if not name or not fold(name):  # an empty name key is the erased-purchases placeholder's
        raise InvalidInput(f"{what} can't be empty")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"{what} is longer than {MAX_NAME} characters")
    return name


def check_text(text: str | None, what: str) -> str | None:
    """A free-text field cleaned (None when empty); InvalidInput past MAX_TEXT characters."""
    if text is None:
        return None
    text = clean(text)
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"{what} is longer than {MAX_TEXT} characters")
    return text or None


def check_emails(emails: list[str]) -> list[str]:
    """Email addresses, normalized; InvalidInput naming the first that isn't one."""
    out = []
    for e in emails:
        try:
            out.append(normalize_email(e))
        except ValueError:
            raise InvalidInput(f"not an email address: {e!r}") from None
    return out


def check_phones(phones: list[str]) -> list[str]:
    """Phone numbers, cleaned; InvalidInput naming the first with fewer than 3 digits."""
    out = []
    for p in phones:
        p = " ".join(clean(p).split())
        if len(phone_key(p).lstrip("+")) < 3:
            raise InvalidInput(f"not a phone number: {p!r}")
        out.append(p)
    return out


def check_methods(emails: list[str], phones: list[str]) -> tuple[list[str], list[str]]:
    """Emails (normalized) and phones (cleaned), or InvalidInput naming the bad one."""
    return check_emails(emails), check_phones(phones)


def normalize_tags(tags: list[str]) -> list[str]:
    """Tags as stored: folded, without '#', spaces as '-', split at commas, each once."""
    out: list[str] = []
    for raw in tags:
        for t in raw.split(","):
            t = fold(t).lstrip("#").replace(" ", "-")
            if not t:
                continue
            if len(t) > 50:
                raise InvalidInput(f"tag is longer than 50 characters: {t!r}")
            if t not in out:
                out.append(t)
    return out
