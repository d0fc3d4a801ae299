"""Per-process CLI state: the store chosen by `--db` and the context opened on demand."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import time, tzinfo

from tinycrm.services.context import Ctx


@dataclass
class _State:
    db_option: str | None = None
    ctx: Ctx | None = None


state = _State()


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


def get_ctx() -> Ctx:
    """Open the store (creating or upgrading it if needed) and describe who/when."""
    if state.ctx is None:
        from tinycrm import config
        from tinycrm.db import open_store
        from tinycrm.errors import InvalidInput

        settings = config.load_settings()
        db = open_store(config.store_url(state.db_option, settings))
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
        state.ctx = Ctx(
            db=db,
            user_name=config.current_user_name(settings),
            now=config.now(),
            tz=user_zone(settings.timezone),
            currency=settings.currency,
            day_start=day_start,
            big_deal_cents=big,
            escalate_after=settings.escalate_after,
        )
    return state.ctx


def close() -> None:
    if state.ctx is not None:
        state.ctx.db.close()
        state.ctx = None
