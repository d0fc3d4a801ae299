"""When two spellings mean the same person: the keys duplicates are found by.

Pure helpers (stdlib, plus phonenumbers and rapidfuzz imported only when called):

- `email_match_key`: case- and width-folded, and for the big mail providers that ignore
  them, without plus-addressing tags ("ann+crm@gmail.com") and, at Gmail, without dots.
- `phone_match_key`: E.164 by libphonenumber ("+44 20 7946 0958", "020 7946 0958" with
  region GB, "0044 20 7946 0958" all give "+442079460958"); numbers it can't place
  (no country code and no default region) fall back to their digits.
- `name_match_key`: the folded name (case, accents, width, whitespace incl. NBSP), its
  words sorted, so "Wong, Alice" and "alice  WONG" meet; `name_similarity` scores the
  near misses ("Jon Smith" / "John Smith") with rapidfuzz.
"""

from __future__ import annotations

import re

from tinycrm.text import fold, normalize_email, phone_key

# Providers that deliver "local+anything@" to "local@" (plus-addressing).
PLUS_PROVIDERS = frozenset(
    {
        "gmail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "fastmail.com",
        "fastmail.fm",
        "protonmail.com",
        "proton.me",
        "pm.me",
        "yandex.ru",
        "yandex.com",
        "zoho.com",
    }
)
DOMAIN_ALIASES = {"googlemail.com": "gmail.com"}
DOTLESS_PROVIDERS = frozenset({"gmail.com"})  # "a.n.n@gmail.com" is "ann@gmail.com"

_PUNCT = re.compile(r"[^\w\s]+")


def email_match_key(email: str) -> str:
    """The key two addresses of one mailbox share. Raises ValueError if not an email."""
    address = normalize_email(email)
    local, _, domain = address.rpartition("@")
    domain = DOMAIN_ALIASES.get(domain, domain)
    if domain in PLUS_PROVIDERS:
        local = local.split("+", 1)[0] or local
    if domain in DOTLESS_PROVIDERS:
        local = local.replace(".", "") or local
    return f"{local}@{domain}"


def phone_match_key(phone: str, region: str | None = None) -> str:
    """E.164 form of `phone` if libphonenumber can place it, else its digits (with "+")."""
    digits = phone_key(phone)
    if len(digits.lstrip("+")) < 5:
        return digits
    import phonenumbers

    try:
        number = phonenumbers.parse(phone, (region or "").upper() or None)
    except phonenumbers.NumberParseException:
        return digits
    if not phonenumbers.is_possible_number(number):
        return digits
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def valid_region(region: str) -> bool:
    """Whether `region` is a two-letter region libphonenumber knows ("GB", "US", "DE")."""
    import phonenumbers

    return region.upper() in phonenumbers.SUPPORTED_REGIONS


def name_match_key(name: str) -> str:
    """Folded name without punctuation, words sorted: "Wong, Alice" -> "alice wong"."""
    return " ".join(sorted(_PUNCT.sub(" ", fold(name)).split()))


def name_similarity(a: str, b: str) -> float:
    """0-100: how alike two names are, word order and case aside (rapidfuzz)."""
    from rapidfuzz import fuzz

    return float(fuzz.token_sort_ratio(name_match_key(a), name_match_key(b)))
