"""Settings shared by the whole store (`tinycrm settings`): one value for the team.

Kept in `team_settings` (key, value as typed in canonical form): `working-hours`
(`Mon-Fri 09:00-17:00`, read in each case owner's time zone) and `holidays` (ISO days),
which the SLA clocks of service cases count in (tinycrm.worktime); `escalate-after` (days
overdue before a reminder or case goes up to the owner's lead) and `big-deal-threshold`
(open deals worth at least this are big: `next`, the digest); and the company's own
header and terms on quotes (`company-name`, `company-address`, `company-email`,
`quote-terms`, `quote-valid-for`).

`escalate-after` and `big-deal-threshold` were once read from each machine's settings
file, which can still set them (`escalate_after`, `big_deal_threshold`): `effective`
holds the rule of which value wins.
Escalation is the team's policy (a lead must see the same escalations as the owner's
colleagues), so the store's value wins and the file's is only used while the store has
none, as old set-ups had it. What counts as big is a personal filter on one's own `next`
and digest, so a settings file overrides the store for that user.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tinycrm.errors import InvalidInput
from tinycrm.services import audit
from tinycrm.services.context import Ctx
from tinycrm.store.db import Db, read_ts
from tinycrm.text import clean
from tinycrm.worktime import (
    DEFAULT_HOURS,
    Hours,
    describe_holidays,
    parse_holidays,
    parse_hours,
)


def _canonical_hours(text: str) -> str:
    return parse_hours(text).describe()


def _canonical_holidays(text: str) -> str:
    return describe_holidays(parse_holidays(text))


def _canonical_days(text: str) -> str:
    raw = text.strip().lower().removesuffix("days").removesuffix("d").strip()
    if not raw.isdigit() or not 0 <= int(raw) <= MAX_ESCALATE_AFTER:
        raise InvalidInput(
            f"escalate-after must be a whole number of days from 0 to {MAX_ESCALATE_AFTER}:"
            f" {text!r}"
        )
    return str(int(raw))


def _canonical_amount(text: str) -> str:
    if text.strip().lower() in ("", "none", "off"):
        return ""
    from tinycrm.money import format_cents, parse_money

    return format_cents(parse_money(text, field="big-deal-threshold", allow_zero=False).cents)


MAX_ESCALATE_AFTER = 3650
DEFAULT_ESCALATE_AFTER = 3


def _one_line(text: str) -> str:
    value = " ".join(clean(text).split())
    if len(value) > 200:
        raise InvalidInput("a name or address line is at most 200 characters")
    return value


def _lines(text: str) -> str:
    """Several lines: a newline, or ` / ` between them ('Hauptstr. 1 / 10115 Berlin')."""
    parts = [_one_line(p) for p in clean(text).replace(" / ", "\n").splitlines()]
    return "\n".join(p for p in parts if p)


def _terms(text: str) -> str:
    value = clean(text).strip()
    if len(value) > 5000:
        raise InvalidInput("quote-terms is at most 5000 characters")
    return value


def _days(text: str) -> str:
    from tinycrm.dates import parse_duration

    days = parse_duration(text).days
    if not 1 <= days <= 3650:
        raise InvalidInput(f"quote-valid-for is between 1d and 3650d: {text!r}")
    return f"{days}d"


#: key -> (what it is, its default, the check that turns what was typed into the stored form)
KEYS: dict[str, tuple[str, str, Callable[[str], str]]] = {
    "working-hours": ("days and hours SLA clocks count", DEFAULT_HOURS, _canonical_hours),
    "holidays": ("days SLA clocks skip (YYYY-MM-DD, comma separated)", "", _canonical_holidays),
    "escalate-after": (
        "days overdue before a reminder or case goes to the owner's lead",
        str(DEFAULT_ESCALATE_AFTER),
        _canonical_days,
    ),
    "big-deal-threshold": (
        "open deals worth at least this are big (empty: none)",
        "",
        _canonical_amount,
    ),
    "company-name": ("your company's name, at the head of quotes", "", _one_line),
    "company-address": ("its address on quotes (lines split by ' / ')", "", _lines),
    "company-email": ("the address quotes give for questions", "", _one_line),
    "quote-terms": ("payment and delivery terms printed on quotes", "", _terms),
    "quote-valid-for": ("how long a quote holds by default", "30d", _days),
}
#: shared keys a settings file can set too: key -> (the file's key, whether the file wins)
FILE_KEYS = {
    "escalate-after": ("escalate_after", False),
    "big-deal-threshold": ("big_deal_threshold", True),
}


@dataclass(frozen=True)
class Effective:
    """The value a setting has for this user, and where it comes from."""

    key: str
    value: str  # canonical ('' : none)
    source: str  # "store", "settings file" or "default"
    ignored: str | None = None  # a value set in the other place that lost (canonical)


def effective(db: Db, file: Mapping[str, Any]) -> list[Effective]:
    """escalate-after and big-deal-threshold for a user whose settings file holds `file`
    (its raw TOML keys): the store wins for escalate-after, the file for the threshold."""
    rows = db.all(
        "SELECT key, value FROM team_settings WHERE key IN (:a, :b)",
        {"a": "escalate-after", "b": "big-deal-threshold"},
    )
    stored = {r["key"]: str(r["value"]) for r in rows}
    out = []
    for key, (file_key, file_wins) in FILE_KEYS.items():
        raw = file.get(file_key)
        mine = None if raw is None else KEYS[key][2](str(raw))
        ours = stored.get(key)
        if mine is not None and (file_wins or ours is None):
            out.append(Effective(key, mine, "settings file", ours))
        elif ours is not None:
            out.append(Effective(key, ours, "store", mine))
        else:
            out.append(Effective(key, KEYS[key][1], "default"))
    return out


@dataclass
class Setting:
    key: str
    value: str
    about: str
    default: bool  # True: not set in the store, the built-in value
    updated_at: datetime | None = None


def _check_key(key: str) -> str:
    k = key.strip().lower()
    if k not in KEYS:
        raise InvalidInput(f"unknown setting {key!r} (settings: {', '.join(KEYS)})")
    return k


def list_settings(db: Db) -> list[Setting]:
    """Every shared setting, stored or default."""
    stored = {r["key"]: r for r in db.all("SELECT key, value, updated_at FROM team_settings")}
    out = []
    for key, (about, default, _check) in KEYS.items():
        row = stored.get(key)
        if row is None:
            out.append(Setting(key, default, about, True))
        else:
            out.append(Setting(key, row["value"], about, False, read_ts(row["updated_at"])))
    return out


def get_setting(db: Db, key: str) -> str:
    """One setting's value (stored, or the default)."""
    value = db.value("SELECT value FROM team_settings WHERE key = :k", {"k": key})
    return KEYS[key][1] if value is None else str(value)


def working_hours(db: Db) -> Hours:
    """The team's working hours with its holidays."""
    return parse_hours(
        get_setting(db, "working-hours"), parse_holidays(get_setting(db, "holidays"))
    )


def set_setting(ctx: Ctx, key: str, value: str) -> Setting:
    """Store one shared setting (checked and written in its canonical form)."""
    k = _check_key(key)
    about, _default, check = KEYS[k]
    stored = check(value)
    db = ctx.db
    with db.write():
        db.lock_key("team settings")
        old = db.value("SELECT value FROM team_settings WHERE key = :k", {"k": k})
        params = {"k": k, "v": stored, "now": db.ts(ctx.now)}
        if old is None:
            db.execute(
                "INSERT INTO team_settings (key, value, updated_at) VALUES (:k, :v, :now)",
                params,
            )
        else:
            db.execute(
                "UPDATE team_settings SET value = :v, updated_at = :now WHERE key = :k", params
            )
        audit.record(ctx, "setting", 0, "edit", {k: [old, stored]})
    return Setting(k, stored, about, False, ctx.now)
