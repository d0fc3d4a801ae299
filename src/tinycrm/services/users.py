"""Users: the salespeople who own contacts, deals and reminders."""

from __future__ import annotations

from datetime import datetime

from tinycrm.db import Db


def ensure_user(db: Db, name: str, now: datetime) -> int:
    """The id of the user called `name`, created if new."""
    found = db.value("SELECT id FROM users WHERE name = :name", {"name": name})
    if found is not None:
        return int(found)
    with db.write():
        found = db.value("SELECT id FROM users WHERE name = :name", {"name": name})
        if found is not None:
            return int(found)
        return db.insert(
            "INSERT INTO users (name, created_at) VALUES (:name, :now) RETURNING id",
            {"name": name, "now": db.ts(now)},
        )


def user_names(db: Db) -> dict[int, str]:
    return {r["id"]: r["name"] for r in db.all("SELECT id, name FROM users")}
