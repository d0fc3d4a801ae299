"""Users: the salespeople who own contacts, deals and reminders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tinycrm.errors import Conflict, InvalidInput, NotFound
from tinycrm.services import audit
from tinycrm.services.context import Ctx, unknown_user
from tinycrm.services.validation import check_emails, check_name
from tinycrm.store.db import Db


def ensure_user(db: Db, name: str, now: datetime) -> int:
    """The id of the user called `name`, created if new."""
    found = db.value("SELECT id FROM users WHERE name = :name", {"name": name})
    if found is not None:
        return int(found)
    with db.write():
        db.lock_key("users")
        found = db.value("SELECT id FROM users WHERE name = :name", {"name": name})
        if found is not None:
            return int(found)
        return db.insert(
            "INSERT INTO users (name, created_at) VALUES (:name, :now) RETURNING id",
            {"name": name, "now": db.ts(now)},
        )


def sign_in(db: Db, name: str, now: datetime) -> int | None:
    """The id of the user running a command, settled once when the store is opened
    (`startup.open_ctx`), never as a side effect of reading `Ctx.user_id`.

    A local SQLite store is one person's: a name it doesn't know is created (one user per
    OS login or TINYCRM_USER, zero set-up). A PostgreSQL store is team mode: users are
    added by a user (`tinycrm user add NAME`), so an unknown name gets None here, may read,
    and is refused by `Ctx.user_id` as soon as it writes; only a store with no users at
    all makes its first user, as `tinycrm init` does."""
    found = db.value("SELECT id FROM users WHERE name = :name", {"name": name})
    if found is not None:
        return int(found)
    if db.is_sqlite:
        return ensure_user(db, name, now)
    with db.write():
        db.lock_key("users")  # two first commands at once must not both be the first user
        found = db.value("SELECT id FROM users WHERE name = :name", {"name": name})
        if found is not None:  # made meanwhile, by a first command racing this one as `name`
            return int(found)
        if db.value("SELECT count(*) AS n FROM users"):
            return None
        return ensure_user(db, name, now)


def known_user_id(db: Db, name: str) -> int:
    """The id of the user called `name`; a name the store doesn't know is an error that
    says how to become a user (it is never created here)."""
    found = db.value("SELECT id FROM users WHERE name = :name", {"name": name})
    if found is not None:
        return int(found)
    raise unknown_user(db, name)


def user_names(db: Db) -> dict[int, str]:
    """Every user's name, by id."""
    return {r["id"]: r["name"] for r in db.all("SELECT id, name FROM users")}


@dataclass
class UserView:
    id: int
    name: str
    email: str | None
    timezone: str | None
    lead: str | None


def removed_ids(db: Db) -> set[int]:
    """Users taken off the team (`user rm`): their row stays, so the history keeps their
    name; what marks them is their newest add or delete entry in the audit log being a
    delete (`user add` with their name puts them back)."""
    latest: dict[int, str] = {}
    for r in db.all(
        "SELECT entity_id, action FROM audit_log WHERE entity = 'user'"
        " AND action IN ('add', 'delete') ORDER BY id"
    ):
        latest[int(r["entity_id"])] = r["action"]
    return {i for i, action in latest.items() if action == "delete"}


def list_users(db: Db, *, removed: bool = False) -> list[UserView]:
    """The team, with email, time zone and lead, by name (with `removed`, also those
    `user rm` took off it)."""
    rows = db.all(
        "SELECT u.id, u.name, u.email, u.timezone, l.name AS lead FROM users u"
        " LEFT JOIN users l ON l.id = u.lead_id ORDER BY u.name"
    )
    gone = set() if removed else removed_ids(db)
    return [
        UserView(r["id"], r["name"], r["email"], r["timezone"], r["lead"])
        for r in rows
        if r["id"] not in gone
    ]


def get_user(db: Db, name: str) -> UserView:
    """The user called `name` (on the team or not); NotFound otherwise."""
    for u in list_users(db, removed=True):
        if u.name == name.strip():
            return u
    raise NotFound(f"no user called {name!r}; see tinycrm user list")


def timezone_of(db: Db, user_id: int) -> str | None:
    """The user's own time zone (a name like Europe/Berlin), if the store knows it."""
    zone = db.value("SELECT timezone FROM users WHERE id = :id", {"id": user_id})
    return str(zone) if zone else None


def check_zone(tz: str) -> str:
    """A time zone name, checked (InvalidInput unless the system knows it)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown timezone {tz!r}; use a name like Europe/Berlin") from None
    return tz


def check_email(email: str) -> str:
    """A user's email address, normalized as a contact's is; InvalidInput if it isn't one."""
    return check_emails([email])[0]


def check_user_name(name: str) -> str:
    """A user's name, checked and cleaned as a contact's is."""
    return check_name(name, "user name")


def setup_user(
    db: Db, name: str, now: datetime, *, email: str | None = None, timezone: str | None = None
) -> UserView:
    """The user called `name`, signed in as for any command (`sign_in`: created if new on
    SQLite, or as a team store's first user; else it must exist), with this email and time
    zone (when given): what `tinycrm init` leaves behind, however often it runs."""
    name = check_user_name(name)
    with db.write():
        db.lock_key("users")
        if sign_in(db, name, now) is None:
            known_user_id(db, name)  # raises, naming `tinycrm user add`
        if email is not None or timezone is not None:
            return edit_user(db, name, email=email, timezone=timezone)
        return get_user(db, name)


def add_user(
    db: Db,
    name: str,
    now: datetime,
    *,
    email: str | None = None,
    timezone: str | None = None,
    lead: str | None = None,
    by: Ctx | None = None,
) -> UserView:
    """Add a user; `by` (the context of whoever adds them) signs the audit log entry."""
    name = check_user_name(name)
    with db.write():
        db.lock_key("users")
        found = db.value("SELECT id FROM users WHERE name = :n", {"n": name})
        if found is not None and int(found) in removed_ids(db):  # back on the team
            user = get_user(db, name)
            if by is not None:
                audit.record(by, "user", user.id, "add", {"name": [None, name]}, user_id=_actor(by))
            return user
        if found is not None:
            import shlex

            raise Conflict(
                f"there is already a user called {name!r}; change them with tinycrm user edit"
                f" {shlex.quote(name)}"
            )
        db.insert(
            "INSERT INTO users (name, email, timezone, lead_id, created_at)"
            " VALUES (:n, :e, :tz, :lead, :now) RETURNING id",
            {
                "n": name,
                "e": check_email(email) if email else None,
                "tz": check_zone(timezone) if timezone else None,
                "lead": get_user(db, lead).id if lead else None,
                "now": db.ts(now),
            },
        )
        user = get_user(db, name)
        if by is not None:
            fields = {"name": user.name, "email": user.email, "timezone": user.timezone}
            changes = audit.added({**fields, "lead": user.lead})
            audit.record(by, "user", user.id, "add", changes, user_id=_actor(by))
        return user


def edit_user(
    db: Db,
    name: str,
    *,
    email: str | None = None,
    timezone: str | None = None,
    lead: str | None = None,
    by: Ctx | None = None,
) -> UserView:
    """Change a user's email, timezone or lead; an empty string clears it. `by` signs the
    audit log entry."""
    with db.write():
        db.lock_key("users")  # two leads set at once could close a loop neither saw
        user = get_user(db, name)
        sets: dict[str, Any] = {}
        if email is not None:
            sets["email"] = check_email(email) if email.strip() else None
        if timezone is not None:
            sets["timezone"] = check_zone(timezone) if timezone.strip() else None
        if lead is not None:
            lead_id = get_user(db, lead).id if lead.strip() else None
            if lead_id is not None and _leads_back(db, lead_id, user.id):
                raise InvalidInput(f"{lead} can't lead {user.name}: that would make a loop")
            sets["lead_id"] = lead_id
        if not sets:
            raise InvalidInput("nothing to change: give --email, --timezone or --lead")
        assigns = ", ".join(f"{k} = :{k}" for k in sets)
        db.execute(f"UPDATE users SET {assigns} WHERE id = :id", {**sets, "id": user.id})
        changed = get_user(db, user.name)
        if by is not None:
            changes = audit.diff(_fields(user), _fields(changed))
            audit.record(by, "user", user.id, "edit", changes, user_id=_actor(by))
        return changed


def _actor(by: Ctx) -> int:
    """Who is adding or changing users: a user of the store (in team mode, an unknown
    name is refused rather than signing the entry)."""
    return by.user_id


def _fields(u: UserView) -> dict[str, Any]:
    return {"email": u.email, "timezone": u.timezone, "lead": u.lead}


def user_id(db: Db, name: str) -> int:
    """The id of the user called `name`; InvalidInput listing the users when there is none
    (for options like --owner and --user, and `assign`)."""
    found = db.value("SELECT id FROM users WHERE name = :n", {"n": name.strip()})
    if found is not None and int(found) not in removed_ids(db):
        return int(found)
    if found is not None:
        raise InvalidInput(f"{name.strip()!r} was removed from the team (tinycrm user rm)")
    names = ", ".join(u.name for u in list_users(db))
    raise InvalidInput(f"no user called {name.strip()!r} (users: {names or 'none yet'})")


def _leads_back(db: Db, lead_id: int, user_id: int) -> bool:
    """Would `lead_id` leading `user_id` close a loop (the user already leads them)?"""
    seen = set()
    current: int | None = lead_id
    while current is not None and current not in seen:
        if current == user_id:
            return True
        seen.add(current)
        current = db.value("SELECT lead_id FROM users WHERE id = :id", {"id": current})
    return False
