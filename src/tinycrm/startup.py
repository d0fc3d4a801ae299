"""Opening the store and describing who and when: shared by the CLI and the TUI.

`open_ctx` reads the settings file and the environment (TINYCRM_DB, TINYCRM_NOW...), opens
the store (creating or upgrading it if needed) and returns a fresh `Ctx` whose clock is
read now. The CLI builds one per command; the TUI one per worker call, each with its own
connection (sqlite3 connections must not cross threads).
"""

from __future__ import annotations

import os
from datetime import time, tzinfo

from tinycrm.config import Settings
from tinycrm.services.context import Ctx


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
    describe who and when; `create=False` refuses a store that doesn't exist yet. The
    caller closes `ctx.db`."""
    from tinycrm import config
    from tinycrm.errors import InvalidInput
    from tinycrm.store.open import open_store

    settings = settings or config.load_settings()
    try:
        hh, mm = (int(x) for x in settings.day_starts_at.split(":"))
        day_start = time(hh, mm)
    except ValueError:
        raise InvalidInput(
            f"day_starts_at in settings must look like 09:00: {settings.day_starts_at!r}"
        ) from None
    big = None
    if settings.big_deal_threshold is not None:
        from tinycrm.money import parse_amount

        try:
            big = parse_amount(settings.big_deal_threshold)
        except InvalidInput:
            raise InvalidInput(
                "big_deal_threshold in settings must be an amount like 10000:"
                f" {settings.big_deal_threshold!r}"
            ) from None
    tz = user_zone(settings.timezone)
    db = open_store(
        config.store_url(db_option, settings),
        create=create,
        settings=config.store_settings(settings),
    )
    return Ctx(
        db=db,
        user_name=config.current_user_name(settings),
        now=config.now(),
        tz=tz,
        currency=settings.currency,
        day_start=day_start,
        big_deal_cents=big,
        escalate_after=settings.escalate_after,
        clv_years=settings.clv_years,
        phone_region=config.phone_region(settings),
    )
