"""The columns `contact list`, `deal list` and `company list` can show (`--columns`, a
view's columns): a header and a cell for each name in services.views.COLUMNS."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from tinycrm.cli import output
from tinycrm.services.context import Ctx

Cell = Callable[[Any, Ctx], object]


def _money(d: Any, _ctx: Ctx) -> str:
    from tinycrm.money import display_money

    return display_money(d.value_cents, d.currency)


CELLS: dict[str, dict[str, tuple[str, Cell]]] = {
    "contacts": {
        "id": ("id", lambda r, _c: r.id),
        "name": ("name", lambda r, _c: r.name),
        "company": ("company", lambda r, _c: r.company),
        "email": ("email", lambda r, _c: r.email),
        "phone": ("phone", lambda r, _c: r.phone),
        "tags": ("tags", lambda r, _c: ",".join(r.tags)),
        "last-touch": ("last touch", lambda r, c: output.local(r.last_touch_at, c.tz)[:10]),
        "title": ("title", lambda r, _c: r.title),
        "owner": ("owner", lambda r, _c: r.owner),
    },
    "deals": {
        "id": ("id", lambda d, _c: d.id),
        "stage": ("stage", lambda d, _c: d.stage),
        "title": ("title", lambda d, _c: d.title),
        "with": ("with", lambda d, _c: d.contact or d.company or ""),
        "value": ("value", _money),
        "probability": ("%", lambda d, _c: d.probability),
        "close": ("close", lambda d, _c: d.expected_close.isoformat() if d.expected_close else ""),
        "owner": ("owner", lambda d, _c: d.owner or ""),
        "status": ("status", lambda d, _c: d.status),
    },
    "companies": {
        "id": ("id", lambda r, _c: r.id),
        "name": ("name", lambda r, _c: r.name),
        "domain": ("domain", lambda r, _c: r.domain),
        "contacts": ("contacts", lambda r, _c: r.contacts),
        "open-deals": ("open deals", lambda r, _c: r.open_deals),
    },
}


def show(ctx: Ctx, entity: str, columns: Sequence[str], rows: Sequence[Any], *, empty: str) -> None:
    """Print `rows` as a table of `columns`: names from services.views.COLUMNS, and custom
    fields (their values as the exports write them)."""
    custom = [c for c in columns if c not in CELLS[entity]]
    values: dict[int, dict[str, str]] = {}
    if custom and rows:
        from tinycrm.services import fields

        kind = {"contacts": "contact", "deals": "deal", "companies": "company"}[entity]
        values = fields.export_values(ctx.db, kind, [r.id for r in rows])

    def field_cell(name: str) -> tuple[str, Cell]:
        return name, lambda r, _c: values.get(r.id, {}).get(name, "")

    cells = [CELLS[entity][c] if c in CELLS[entity] else field_cell(c) for c in columns]
    output.table(
        [header for header, _ in cells],
        [[cell(r, ctx) for _, cell in cells] for r in rows],
        empty=empty,
    )
