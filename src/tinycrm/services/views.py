"""Saved views: a filter (services.filters) with a sort and columns, under a name, shared
by everyone using the store. `view save` / ctrl+s in the app, `view list`, `view rm`, and
`--view NAME` wherever `--where` is taken."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tinycrm.errors import InvalidInput, NotFound
from tinycrm.services import audit
from tinycrm.services.contact_queries import ORDERS
from tinycrm.services.context import Ctx
from tinycrm.services.deals import DEAL_ORDERS
from tinycrm.services.filters import Filter, compile_filter
from tinycrm.services.validation import check_text
from tinycrm.store.db import Db, read_ts
from tinycrm.text import fold

#: What each kind of view can be sorted by (the first is the default) and the columns it
#: can show (in the order `list` commands show them by default).
SORTS: dict[str, tuple[str, ...]] = {
    "contacts": tuple(ORDERS),
    "deals": tuple(DEAL_ORDERS),
    "companies": ("name", "newest"),
}
COLUMNS: dict[str, tuple[str, ...]] = {
    "contacts": (
        "id",
        "name",
        "company",
        "email",
        "phone",
        "tags",
        "last-touch",
        "title",
        "owner",
    ),
    "deals": ("id", "stage", "title", "with", "value", "probability", "close", "owner", "status"),
    "companies": ("id", "name", "domain", "contacts", "open-deals"),
}
#: The columns shown when a view names none (what the list commands always showed).
DEFAULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "contacts": ("id", "name", "company", "email", "phone", "tags", "last-touch"),
    "deals": ("id", "stage", "title", "with", "value", "probability", "close", "owner"),
    "companies": ("id", "name", "domain", "contacts", "open-deals"),
}
MAX_NAME = 60


@dataclass(frozen=True)
class View:
    id: int
    name: str
    entity: str  # contacts | deals | companies
    filter: str
    sort: str | None
    columns: tuple[str, ...] | None
    saved_by: str | None
    updated_at: datetime | None


@dataclass(frozen=True)
class Saved:
    view: View
    replaced: bool  # a view of that name was there and now holds this


def check_entity(entity: str) -> str:
    """`contacts`, `deals` or `companies` (also in the singular)."""
    key = fold(entity).strip()
    key = {"contact": "contacts", "deal": "deals", "company": "companies"}.get(key, key)
    if key not in SORTS:
        raise InvalidInput(f"a view is of contacts, deals or companies, not {entity!r}")
    return key


def check_sort(entity: str, sort: str | None) -> str | None:
    """A sort `entity` lists can have; InvalidInput naming them otherwise."""
    if sort is None or not sort.strip():
        return None
    key = sort.strip().lower()
    if key not in SORTS[entity]:
        raise InvalidInput(f"{entity} sort by {', '.join(SORTS[entity])}, not {sort!r}")
    return key


def check_columns(
    entity: str,
    columns: str | list[str] | tuple[str, ...] | None,
    custom: Sequence[str] = (),
) -> tuple[str, ...] | None:
    """Columns (comma-separated or a list) `entity` lists can show, each once: the built-in
    ones, and the custom fields named in `custom` (written as the field is named)."""
    if columns is None:
        return None
    parts = columns.split(",") if isinstance(columns, str) else list(columns)
    fields_by_key = {fold(f): f for f in custom}
    out: list[str] = []
    for raw in parts:
        key = raw.strip().lower().replace("_", "-").replace(" ", "-")
        if not key:
            continue
        if key not in COLUMNS[entity]:
            field = fields_by_key.get(fold(raw.strip()))
            if field is None:
                known = ", ".join([*COLUMNS[entity], *custom])
                raise InvalidInput(f"{entity} columns are {known}, not {raw.strip()!r}")
            key = field
        if key not in out:
            out.append(key)
    return tuple(out) or None


def _custom(ctx: Ctx, entity: str, columns: object) -> list[str]:
    """The custom field names of `entity`, read only when columns were asked for."""
    if columns is None:
        return []
    from tinycrm.services import fields

    return fields.field_names(ctx, entity.removesuffix("s").replace("companie", "company"))


def save_view(
    ctx: Ctx,
    name: str,
    *,
    entity: str,
    where: str,
    sort: str | None = None,
    columns: str | list[str] | tuple[str, ...] | None = None,
) -> Saved:
    """Save a filter with its sort and columns as view `name` (replacing the view of that
    name, ignoring case). The filter is compiled first: a view never holds a broken one.
    An empty filter is every record (a view of a sort and columns alone)."""
    clean = check_text(name, "view name")
    if not clean:
        raise InvalidInput("a view needs a name")
    if len(clean) > MAX_NAME:
        raise InvalidInput(f"a view name is at most {MAX_NAME} characters")
    entity = check_entity(entity)
    text = where.strip()
    if text:
        compile_filter(ctx, entity, text)
    sort = check_sort(entity, sort)
    cols = check_columns(entity, columns, _custom(ctx, entity, columns))
    db = ctx.db
    with db.write():
        db.lock_key("saved views")
        old = _find(db, clean)
        values = {
            "name": clean,
            "entity": entity,
            "filter": text,
            "sort": sort,
            "columns": ",".join(cols) if cols else None,
            "u": ctx.user_id,
            "t": db.ts(ctx.now),
        }
        if old is None:
            view_id = db.insert(
                "INSERT INTO saved_views (name, entity, filter, sort, columns, user_id,"
                " created_at, updated_at, version)"
                " VALUES (:name, :entity, :filter, :sort, :columns, :u, :t, :t, 1) RETURNING id",
                values,
            )
            audit.record(ctx, "view", view_id, "add", audit.added(_plain(values)))
        else:
            view_id = int(old["id"])
            db.execute(
                "UPDATE saved_views SET name = :name, entity = :entity, filter = :filter,"
                " sort = :sort, columns = :columns, user_id = :u, updated_at = :t,"
                " version = version + 1 WHERE id = :id",
                {**values, "id": view_id},
            )
            audit.record(ctx, "view", view_id, "edit", audit.diff(_plain(old), _plain(values)))
        view = _view(db, _find(db, clean))
    return Saved(view, old is not None)


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row.get(k) for k in ("name", "entity", "filter", "sort", "columns")}


def _find(db: Db, name: str) -> dict[str, Any] | None:
    key = fold(name)
    rows = [
        r for r in db.all("SELECT * FROM saved_views ORDER BY id DESC") if fold(r["name"]) == key
    ]
    return rows[0] if rows else None


def _view(db: Db, row: dict[str, Any] | None) -> View:
    assert row is not None
    who = (
        db.value("SELECT name FROM users WHERE id = :id", {"id": row["user_id"]})
        if row["user_id"] is not None
        else None
    )
    return View(
        id=int(row["id"]),
        name=row["name"],
        entity=row["entity"],
        filter=row["filter"],
        sort=row["sort"],
        columns=tuple(row["columns"].split(",")) if row["columns"] else None,
        saved_by=who,
        updated_at=read_ts(row["updated_at"]),
    )


def list_views(db: Db, entity: str | None = None) -> list[View]:
    """The store's views by name (those of one kind when `entity` is given)."""
    rows = db.all("SELECT * FROM saved_views ORDER BY id")
    kind = check_entity(entity) if entity else None
    views = [_view(db, r) for r in rows if kind is None or r["entity"] == kind]
    return sorted(views, key=lambda v: (fold(v.name), v.id))


def get_view(db: Db, name: str, entity: str | None = None) -> View:
    """The view called `name` (ignoring case); with `entity`, it must be a view of that.
    NotFound lists the views there are."""
    row = _find(db, name)
    if row is None:
        there = [v.name for v in list_views(db, entity)]
        kinds = f"{entity} " if entity else ""
        listed = ", ".join(there) if there else "none yet: tinycrm view save NAME --where …"
        raise NotFound(f"no view called {name!r} (saved {kinds}views: {listed})")
    view = _view(db, row)
    if entity is not None and view.entity != check_entity(entity):
        raise InvalidInput(f"view {view.name!r} lists {view.entity}, not {check_entity(entity)}")
    return view


def remove_view(ctx: Ctx, name: str) -> View:
    """Delete the view called `name` (undo brings it back)."""
    with ctx.db.write():
        ctx.db.lock_key("saved views")
        view = get_view(ctx.db, name)
        ctx.db.execute("DELETE FROM saved_views WHERE id = :id", {"id": view.id})
        audit.record(
            ctx,
            "view",
            view.id,
            "delete",
            audit.removed(
                {
                    "name": view.name,
                    "entity": view.entity,
                    "filter": view.filter,
                    "sort": view.sort,
                    "columns": ",".join(view.columns or ()) or None,
                }
            ),
        )
    return view


@dataclass(frozen=True)
class Listing:
    """What a list command shows: the filter (None: everything), sort and columns, from
    `--where` and `--view` together (both: rows that match both)."""

    filter: Filter | None
    sort: str | None
    columns: tuple[str, ...]
    view: View | None


def listing(
    ctx: Ctx,
    entity: str,
    *,
    where: str | None = None,
    view: str | None = None,
    sort: str | None = None,
    columns: str | None = None,
) -> Listing:
    """Put `--where`, `--view`, `--sort` and `--columns` together for a list of `entity`:
    options given on the command line win over the view's sort and columns."""
    saved = get_view(ctx.db, view, entity) if view else None
    texts = [t for t in (saved.filter if saved else None, where) if t and t.strip()]
    if len(texts) == 2:
        compile_filter(ctx, entity, texts[1])  # its errors name its own columns
        text = f"({texts[0]}) and ({texts[1]})"
    else:
        text = texts[0] if texts else ""
    compiled = compile_filter(ctx, entity, text) if text else None
    chosen_sort = check_sort(entity, sort) or (saved.sort if saved else None)
    chosen_cols = check_columns(entity, columns, _custom(ctx, entity, columns)) or (
        saved.columns if saved else None
    )
    return Listing(compiled, chosen_sort, chosen_cols or DEFAULT_COLUMNS[entity], saved)
