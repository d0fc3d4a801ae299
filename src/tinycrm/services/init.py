"""`tinycrm init`: set up (or upgrade) a store, its first user, and the settings that
point at it. Running it again with the same answers changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tinycrm import config
from tinycrm.errors import Conflict
from tinycrm.services import users
from tinycrm.store.backups import latest_auto_backup
from tinycrm.store.db import Location, locate
from tinycrm.store.open import SCHEMA_HEAD, open_store, peek_revision


@dataclass
class InitView:
    store: str  # password masked
    backend: str  # sqlite | postgresql
    revision: str
    status: str  # created | upgraded | ready
    upgraded_from: str | None
    backup: str | None  # the automatic backup taken before an upgrade
    user: str
    email: str | None
    timezone: str | None
    settings: str  # the settings file's path
    settings_changed: list[str]  # the keys written (empty when they already said so)


def _stored_value(location: Location, given: str) -> str:
    """What goes into the settings: an SQLite path made absolute, a URL as given."""
    if location.path is not None:
        return str(location.path.expanduser().resolve())
    return given


def init(
    store: str,
    *,
    user: str | None,
    email: str | None,
    timezone: str | None,
    now: datetime,
    force: bool = False,
) -> InitView:
    """Create or upgrade the store named by `store`, make sure `user` (default: the
    current user) exists with this email and time zone, and write `db` (and `user`,
    `timezone` when given) into the settings file. A settings file that already names a
    different store or user is changed only with `force` (Conflict otherwise), and before
    anything is created."""
    settings = config.load_settings()
    location = locate(store, config.store_settings(settings))
    value = _stored_value(location, store)
    wanted = {"db": value}
    if user is not None:
        wanted["user"] = users.check_user_name(user)
    if timezone is not None:
        wanted["timezone"] = users.check_zone(timezone)
    if email is not None:
        email = users.check_email(email)
    current = {"db": settings.db, "user": settings.user, "timezone": settings.timezone}
    for key in ("db", "user"):
        old = current[key]
        if key in wanted and old and old != wanted[key] and not force:
            shown = locate(old).describe() if key == "db" else old
            new = location.describe() if key == "db" else wanted[key]
            raise Conflict(
                f"{config.settings_path()} already says {key} = {shown!r}; pass --force to"
                f" change it to {new!r}"
            )
    before = peek_revision(location)
    db = open_store(store, settings=location.settings)
    try:
        name = wanted.get("user") or config.current_user_name(settings)
        view_user = users.setup_user(db, name, now, email=email, timezone=timezone)
        revision = str(db.value("SELECT version_num FROM alembic_version"))
    finally:
        db.close()
    changed = [k for k, v in wanted.items() if current.get(k) != v]
    path = config.set_settings({k: wanted[k] for k in changed}) if changed else None
    status = "created" if before is None else "upgraded" if before != SCHEMA_HEAD else "ready"
    backup = None
    if status == "upgraded":
        found = latest_auto_backup(location)
        backup = None if found is None else str(found)
    return InitView(
        store=location.describe(),
        backend=location.dialect,
        revision=revision,
        status=status,
        upgraded_from=before if status == "upgraded" else None,
        backup=backup,
        user=view_user.name,
        email=view_user.email,
        timezone=view_user.timezone,
        settings=str(path or config.settings_path()),
        settings_changed=changed,
    )
