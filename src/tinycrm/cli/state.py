"""Per-process CLI state: the store chosen by `--db` and the context opened on demand."""

from __future__ import annotations

from dataclasses import dataclass

from tinycrm.services.context import Ctx


@dataclass
class _State:
    db_option: str | None = None
    ctx: Ctx | None = None


state = _State()


def get_ctx() -> Ctx:
    """Open the store (creating or upgrading it if needed) and describe who/when."""
    if state.ctx is None:
        from tinycrm.startup import open_ctx

        state.ctx = open_ctx(state.db_option)
    return state.ctx


def close() -> None:
    if state.ctx is not None:
        state.ctx.db.close()
        state.ctx = None
