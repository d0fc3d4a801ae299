"""What every use case needs to know besides its arguments: the store, who, and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, tzinfo

from tinycrm.store.db import Db


@dataclass
class Ctx:
    db: Db
    user_name: str
    now: datetime  # aware UTC
    tz: tzinfo
    currency: str = "EUR"
    day_start: time = time(9, 0)
    big_deal_cents: int | None = None  # open deals worth at least this are "big"
    escalate_after: int = 3  # days overdue before a reminder escalates to the owner's lead
    clv_years: int = 3  # how long a customer keeps buying, for `rank`'s CLV
    phone_region: str | None = None  # for phone numbers written without a country code
    _user_id: int | None = None

    @property
    def user_id(self) -> int:
        """The current user's id. `startup.open_ctx` signs the user in when it opens the
        store (`users.sign_in`); reading this never creates a user: a name the store
        doesn't know (in team mode) is InvalidInput naming `tinycrm user add`."""
        if self._user_id is None:
            from tinycrm.services.users import known_user_id

            self._user_id = known_user_id(self.db, self.user_name)
        return self._user_id
