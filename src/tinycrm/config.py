"""Where things live and who is working. Stdlib (and platformdirs) only: cheap to import.

Precedence for the store: `--db` > `TINYCRM_DB` > `db` in the settings file > the default
SQLite file in the user data directory. `TINYCRM_HOME`, when set, holds both the data and
the settings (tests and portable installs use it).
"""

from __future__ import annotations

import getpass
import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tinycrm.errors import InvalidInput

if TYPE_CHECKING:
    from tinycrm.store.db import StoreSettings

APP = "tinycrm"
#: The calendar tinycrm works in (dates.py refuses dates outside it too).
FIRST_YEAR, LAST_YEAR = 1900, 2200


# -- numbers from the environment and the settings file -----------------------------------
def env_seconds(name: str, default: float, low: float, high: float) -> float:
    """The number of seconds in environment variable `name` (unset or empty: `default`);
    InvalidInput naming the variable and its range for anything else (nan, inf, garbage)."""
    import math

    raw = os.environ.get(name, "")
    if not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not low <= value <= high:  # also false for nan
        raise InvalidInput(f"{name} must be a number of seconds from {low:g} to {high:g}: {raw!r}")
    return value


def tui_poll_seconds() -> float:
    """How often the app looks for changes by others (TINYCRM_TUI_POLL seconds)."""
    return env_seconds("TINYCRM_TUI_POLL", 0.5, 0.05, 60.0)


def whole_number(value: object, what: str, low: int, high: int, unit: str = "") -> int:
    """`value` (from a TOML file) as an int in [low, high]; InvalidInput naming `what` and
    the range otherwise (true/false, fractions, strings and huge numbers included)."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        of = f" of {unit}" if unit else ""
        raise InvalidInput(f"{what} must be a whole number{of} from {low} to {high}")
    return value


def data_dir() -> Path:
    home = os.environ.get("TINYCRM_HOME")
    if home:
        return Path(home)
    from platformdirs import user_data_path

    return user_data_path(APP, appauthor=False)


def config_dir() -> Path:
    home = os.environ.get("TINYCRM_HOME")
    if home:
        return Path(home)
    from platformdirs import user_config_path

    return user_config_path(APP, appauthor=False)


def settings_path() -> Path:
    return Path(os.environ.get("TINYCRM_SETTINGS") or config_dir() / "settings.toml")


@dataclass(frozen=True)
class Settings:
    """The settings file (TOML). Every key is optional."""

    db: str | None = None
    user: str | None = None
    timezone: str | None = None
    currency: str = "EUR"
    day_starts_at: str = "09:00"
    big_deal_threshold: str | None = None  # an amount in `currency`, e.g. "10000"
    escalate_after: int = 3  # days overdue before a reminder goes to the owner's lead
    clv_years: int = 3  # how long a customer keeps buying, for `rank`'s CLV
    next_step_grace: int = 1  # days a new deal has to get a next step before it is flagged
    keep_backups: int = 5  # automatic backups kept per store (before migrations, restores)
    # where phone numbers without a country code are ("GB", "US"); default: from the locale
    phone_region: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


def load_settings() -> Settings:
    path = settings_path()
    try:
        with path.open("rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError:
        return Settings()
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise InvalidInput(f"can't read settings file {path}: {e}") from None
    except UnicodeDecodeError as e:
        raise InvalidInput(
            f"can't read settings file {path}: not UTF-8 at byte {e.start + 1}"
        ) from None
    for key in ("db", "user", "timezone", "currency", "day_starts_at", "big_deal_threshold"):
        value = raw.get(key)
        if key == "big_deal_threshold" and isinstance(value, int | float):
            continue
        if value is not None and not isinstance(value, str):
            raise InvalidInput(f"{key} in {path} must be a string in quotes")
    cur = str(raw.get("currency", "EUR")).upper()
    escalate = whole_number(
        raw.get("escalate_after", 3), f"escalate_after in {path}", 0, 3650, "days"
    )
    big = raw.get("big_deal_threshold")
    clv_years = whole_number(raw.get("clv_years", 3), f"clv_years in {path}", 1, 50, "years")
    keep = whole_number(raw.get("keep_backups", 5), f"keep_backups in {path}", 1, 1000)
    grace = whole_number(
        raw.get("next_step_grace", 1), f"next_step_grace in {path}", 0, 3650, "days"
    )
    region = raw.get("phone_region")
    if region is not None and not (
        isinstance(region, str) and len(region) == 2 and region.isascii() and region.isalpha()
    ):
        raise InvalidInput(f"phone_region in {path} must be a two-letter country code like GB")
    return Settings(
        db=raw.get("db"),
        user=raw.get("user"),
        timezone=raw.get("timezone"),
        currency=cur,
        day_starts_at=str(raw.get("day_starts_at", "09:00")),
        big_deal_threshold=None if big is None else str(big),
        escalate_after=escalate,
        clv_years=clv_years,
        next_step_grace=grace,
        keep_backups=keep,
        phone_region=region.upper() if region else None,
        raw=raw,
    )


def phone_region(settings: Settings) -> str | None:
    """The settings' phone_region, else the country of the locale (LANG=en_GB.UTF-8: GB)."""
    if settings.phone_region:
        return settings.phone_region
    for var in ("LC_ALL", "LC_CTYPE", "LANG"):
        value = os.environ.get(var, "")
        if value:
            m = re.match(r"^[a-zA-Z]{2,3}_([a-zA-Z]{2})\b", value)
            return m.group(1).upper() if m else None
    return None


def store_settings(settings: Settings | None = None) -> StoreSettings:
    """What the store layer needs from the settings and the environment, read here once and
    handed down as plain values: the busy timeout (TINYCRM_BUSY_TIMEOUT seconds),
    keep_backups, and where backups of a PostgreSQL store go."""
    from tinycrm.store.db import DEFAULT_BUSY_TIMEOUT_S, MAX_BUSY_TIMEOUT_S, StoreSettings

    settings = settings or load_settings()
    return StoreSettings(
        busy_timeout=env_seconds(
            "TINYCRM_BUSY_TIMEOUT", DEFAULT_BUSY_TIMEOUT_S, 0.0, MAX_BUSY_TIMEOUT_S
        ),
        keep_backups=settings.keep_backups,
        pg_backups=data_dir() / "backups",
    )


def default_db_path() -> Path:
    return data_dir() / "tinycrm.db"


@dataclass(frozen=True)
class StoreChoice:
    """The store the user means, and who named it."""

    url: str  # a filesystem path or an SQLAlchemy-style URL
    source: str  # "--db", "TINYCRM_DB", "db in PATH", or "" for the default location

    @property
    def is_default(self) -> bool:
        """Whether this is the default location (platformdirs or TINYCRM_HOME), the only
        store a command other than `init` creates: zero set-up on first use, while a
        mistyped --db, TINYCRM_DB or settings `db` never leaves an empty store behind."""
        if not self.source:
            return True
        if "://" in self.url:
            return False
        return Path(self.url).expanduser().absolute() == default_db_path().absolute()


def store_choice(cli_value: str | None, settings: Settings) -> StoreChoice:
    """Precedence: `--db` > `TINYCRM_DB` > `db` in the settings file > the default."""
    if cli_value:
        return StoreChoice(cli_value, "--db")
    if os.environ.get("TINYCRM_DB"):
        return StoreChoice(os.environ["TINYCRM_DB"], "TINYCRM_DB")
    if settings.db:
        return StoreChoice(settings.db, f"db in {settings_path()}")
    return StoreChoice(str(default_db_path()), "")


def store_url(cli_value: str | None, settings: Settings) -> str:
    """The store the user means: a filesystem path or an SQLAlchemy-style URL."""
    return store_choice(cli_value, settings).url


def current_user_name(settings: Settings) -> str:
    name = os.environ.get("TINYCRM_USER") or settings.user
    if name:
        return name.strip()
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers, cron with odd uids)
        return "me"


def now() -> datetime:
    """The current time in UTC. `TINYCRM_NOW` (ISO 8601) freezes it for tests and demos."""
    frozen = os.environ.get("TINYCRM_NOW")
    if frozen:
        try:
            value = datetime.fromisoformat(frozen)
            value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
        except (ValueError, OverflowError):
            value = None
        if value is None or not FIRST_YEAR <= value.year <= LAST_YEAR:
            raise InvalidInput(
                f"TINYCRM_NOW must be an ISO 8601 time from {FIRST_YEAR} to {LAST_YEAR}: {frozen!r}"
            )
        return value
    return datetime.now(UTC)


# -- writing the settings file ------------------------------------------------------------
_TABLE_HEADER = re.compile(r"^\s*\[")


def _toml_string(value: str) -> str:
    """A TOML basic string: JSON's escapes (\\", \\\\, \\n, \\uXXXX) are TOML's too."""
    import json

    return json.dumps(value, ensure_ascii=False)


def set_settings(values: dict[str, str]) -> Path:
    """Set top-level string keys in the settings file, editing only their lines: other
    keys, tables and comments stay as the user wrote them. The file is written whole to a
    private temporary file beside it, checked, and renamed over it (0600, in a 0700 folder
    when tinycrm creates it). Returns the file's path."""
    import contextlib
    import tempfile

    path = settings_path()
    if path.is_symlink():  # a managed dotfile: edit what it points at, keep the link
        path = path.resolve()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    except (OSError, UnicodeDecodeError) as e:
        raise InvalidInput(f"can't read settings file {path}: {e}") from None
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    # the top-level part ends at the first [table] header
    top = next((i for i, line in enumerate(lines) if _TABLE_HEADER.match(line)), len(lines))
    for key, value in values.items():
        line = f"{key} = {_toml_string(value)}\n"
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
        found = next((i for i in range(top) if pattern.match(lines[i])), None)
        if found is not None:
            lines[found] = line
        else:
            # after the other top-level keys, before a blank line that leads into a table
            at = top
            while at > 0 and not lines[at - 1].strip():
                at -= 1
            lines.insert(at, line)
            top += 1
    new_text = "".join(lines)
    try:
        parsed = tomllib.loads(new_text)
    except tomllib.TOMLDecodeError as e:
        raise InvalidInput(f"can't update settings file {path} ({e}); edit it by hand") from None
    if any(parsed.get(k) != v for k, v in values.items()):
        raise InvalidInput(f"can't update settings file {path}; edit it by hand")
    try:
        if not path.parent.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(new_text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as e:
        raise InvalidInput(f"can't write settings file {path}: {e.strerror}") from None
    return path
