"""What every use case needs to know besides its arguments: the store, who, and when."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import datetime, time, tzinfo

from tinycrm.errors import InvalidInput
from tinycrm.store.db import Db


@dataclass(frozen=True)
class Ctx:
    """Settled once when the store is opened (`startup.open_ctx`) and never changed: a
    use case that needs another clock or zone gets a copy (`dataclasses.replace`)."""

    db: Db
    user_name: str
    now: datetime  # aware UTC
    tz: tzinfo
    currency: str = "EUR"
    day_start: time = time(9, 0)
    big_deal_cents: int | None = None  # open deals worth at least this are "big"
    escalate_after: int = 3  # days overdue before a reminder escalates to the owner's lead
    clv_years: int = 3  # how long a customer keeps buying, for `rank`'s CLV
    next_step_grace: int = 1  # days a new deal has to get a next step before it is flagged
    phone_region: str | None = None  # for phone numbers written without a country code
    _user_id: int | None = None  # from `users.sign_in`; None: a name the store doesn't know

    @property
    def user_id(self) -> int:
        """The signed-in user's id, as `users.sign_in` settled it at open; a name the store
        doesn't know (in team mode) is InvalidInput naming `tinycrm user add`. Reading it
        never touches the store."""
        if self._user_id is None:
            raise unknown_user(self.db, self.user_name)
        return self._user_id

    @property
    def signed_in(self) -> bool:
        """Whether the user is one the store knows (always, on a local SQLite store)."""
        return self._user_id is not None


def unknown_user(db: Db, name: str) -> InvalidInput:
    """The error for a user name the store doesn't know, saying how to become a user."""
    where = "" if db.is_sqlite else " in this team store"
    return InvalidInput(
        f"no user called {name!r}{where}; someone who is one can add you with"
        f" tinycrm user add {shlex.quote(name)}"
    )
