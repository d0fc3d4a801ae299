"""Opening the store and describing who and when: shared by the CLI and the TUI.

`open_ctx` reads the settings file and the environment (TINYCRM_DB, TINYCRM_NOW...), opens
the store (creating or upgrading it if needed) and returns a fresh `Ctx` whose clock is
read now. The CLI builds one per command; the TUI one per worker call, each with its own
connection (sqlite3 connections must not cross threads).
"""

from __future__ import annotations

import os
from datetime import time, tzinfo
from decimal import Decimal

from tinycrm.config import Settings, StoreChoice
from tinycrm.services.context import Ctx
from tinycrm.store.db import Db, StoreSettings
from tinycrm.store.db import Location as Location  # for the shells, which import no store


def user_zone(configured: str | None) -> tzinfo:
    from tinycrm.dates import local_zone

    if configured and not os.environ.get("TINYCRM_TZ"):
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        from tinycrm.errors import InvalidInput

        try:
            return ZoneInfo(configured)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInput(f"unknown timezone in settings: {configured!r}") from None
    return local_zone()


def open_ctx(
    db_option: str | None = None, settings: Settings | None = None, *, create: bool = True
) -> Ctx:
    """Open the store named by `db_option` (or the environment, or the settings) and
    describe who and when, signing the user in (`users.sign_in`: created on a local
    store, or as a team store's first user). Only the default location is created when
    missing (and not even that with `create=False`); elsewhere a missing store is
    `MissingStore`, naming where it was looked for and `tinycrm init`. The caller closes
    `ctx.db`."""
    from tinycrm import config
    from tinycrm.errors import InvalidInput

    settings = settings or config.load_settings()
    try:
        hh, mm = (int(x) for x in settings.day_starts_at.split(":"))
        day_start = time(hh, mm)
    except ValueError:
        raise InvalidInput(
            f"day_starts_at in settings must look like 09:00: {settings.day_starts_at!r}"
        ) from None
    currency = settings.currency
    if currency != "EUR" or settings.big_deal_threshold is not None:  # EUR: the default
        from tinycrm.money import parse_currency, parse_money

        currency = parse_currency(settings.currency, field="currency in settings")
        if settings.big_deal_threshold is not None:
            try:
                parse_money(
                    settings.big_deal_threshold,
                    currency=currency,
                    given_as="the settings' currency",
                )
            except InvalidInput as e:
                raise InvalidInput(
                    f"big_deal_threshold in settings must be an amount like 10000: {e}"
                ) from None
    tz = user_zone(settings.timezone)
    now = config.now()
    user = config.current_user_name(settings)
    db = _open(
        config.store_choice(db_option, settings), config.store_settings(settings), create=create
    )
    try:
        from tinycrm.services.users import sign_in

        user_id = sign_in(db, user, now)
        big, escalate_after = _shared(db, settings)
    except BaseException:
        db.close()
        raise
    return Ctx(
        db=db,
        user_name=user,
        now=now,
        tz=tz,
        currency=currency,
        day_start=day_start,
        big_deal_cents=big,
        escalate_after=escalate_after,
        clv_years=settings.clv_years,
        next_step_grace=settings.next_step_grace,
        phone_region=config.phone_region(settings),
        _user_id=user_id,
    )


def _shared(db: Db, settings: Settings) -> tuple[int | None, int]:
    """The big-deal threshold (cents) and escalate-after (days) this user works with: the
    store's shared values, with the settings file's where it may override
    (services.team_settings.effective holds the rule)."""
    from tinycrm.services.team_settings import effective

    values = {e.key: e.value for e in effective(db, file_shared(settings))}
    big = values["big-deal-threshold"]
    return (round(Decimal(big) * 100) if big else None), int(values["escalate-after"])


def file_shared(settings: Settings) -> dict[str, object]:
    """The settings file's keys that the store shares too (`escalate_after`,
    `big_deal_threshold`), as checked when it was read; None: not in the file."""
    return {
        "escalate_after": settings.escalate_after if "escalate_after" in settings.raw else None,
        "big_deal_threshold": settings.big_deal_threshold,
    }


def locate_store(db_option: str | None = None, settings: Settings | None = None) -> Location:
    """Where the store named by `db_option` (or the environment, or the settings) is,
    without opening it: for backup, restore and the digest's crontab line."""
    from tinycrm import config
    from tinycrm.store.db import locate

    settings = settings or config.load_settings()
    return locate(config.store_url(db_option, settings), config.store_settings(settings))


def schema_head() -> str:
    """The schema revision this tinycrm writes (the newest migration)."""
    from tinycrm.store.open import SCHEMA_HEAD

    return SCHEMA_HEAD


def _open(choice: StoreChoice, settings: StoreSettings, *, create: bool) -> Db:
    import shlex

    from tinycrm.errors import MissingStore
    from tinycrm.store.db import locate
    from tinycrm.store.open import open_store

    try:
        return open_store(choice.url, create=False, settings=settings)
    except MissingStore:
        if create and choice.is_default:  # first use: zero set-up
            return open_store(choice.url, create=True, settings=settings)
        where = locate(choice.url, settings).describe()
        named = f" ({choice.source})" if choice.source else ""
        init = f"tinycrm init --db {shlex.quote(where)}" if choice.source else "tinycrm init"
        raise MissingStore(f"no tinycrm store at {where}{named}; create one with {init}") from None
