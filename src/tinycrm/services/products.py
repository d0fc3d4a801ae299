"""The product catalogue (#22): what the team sells, at what price and tax rate.

A product is named by its SKU (exact, ignoring case), its id (`#3`) or its name (exact,
else a unique prefix, ignoring case and accents). SKUs and names are unique, ignoring
case, so every name finds one product; both checks hold the `products` lock key. A
product that is on a deal or was bought is archived by `remove_product`, never deleted:
line items, quotes and purchases keep naming it. Archived products are left out of the
list and can't go on a deal until `edit_product(restore=True)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tinycrm.errors import Ambiguous, Conflict, InvalidInput, NotFound
from tinycrm.money import MAX_CENTS, Money
from tinycrm.pricing import BP
from tinycrm.services import audit
from tinycrm.services.contacts import check_name, check_text, check_version
from tinycrm.services.context import Ctx
from tinycrm.store.db import Db, read_ts
from tinycrm.text import clean, fold

MAX_SKU = 64


@dataclass
class ProductView:
    id: int
    sku: str | None
    name: str
    price: Money  # per unit
    unit: str | None  # "licence", "hour", "month"; None for a plain piece
    tax_bp: int  # the tax rate in basis points: 1900 is 19%
    archived_at: datetime | None
    created_at: datetime | None
    updated_at: datetime | None
    version: int  # moves on every edit; pass it back as expected_version
    deals: int = 0  # line items on deals that name it
    sold: int = 0  # purchases that name it

    @property
    def label(self) -> str:
        """The SKU and the name ('PRO-1 Pro licence'), or the name alone."""
        return f"{self.sku} {self.name}" if self.sku else self.name


@dataclass
class RemovedProduct:
    product: ProductView
    archived: bool  # True: it was on a deal or bought, so it stays, archived


_SELECT = (
    "SELECT p.*, (SELECT count(*) FROM deal_items i WHERE i.product_id = p.id) AS deals,"
    " (SELECT count(*) FROM purchases b WHERE b.product_id = p.id) AS sold FROM products p"
)


def _view(r: dict[str, Any]) -> ProductView:
    return ProductView(
        id=int(r["id"]),
        sku=r["sku"],
        name=r["name"],
        price=Money(int(r["price_cents"]), r["currency"]),
        unit=r["unit"],
        tax_bp=int(r["tax_bp"]),
        archived_at=read_ts(r["archived_at"]),
        created_at=read_ts(r["created_at"]),
        updated_at=read_ts(r["updated_at"]),
        version=int(r["version"]),
        deals=int(r["deals"]),
        sold=int(r["sold"]),
    )


def _check_sku(sku: str | None) -> str | None:
    if sku is None:
        return None
    text = clean(sku).strip()
    if not text:
        return None
    if len(text) > MAX_SKU or any(c.isspace() for c in text):
        raise InvalidInput(f"a SKU is one word of at most {MAX_SKU} characters: {sku!r}")
    if text.lstrip("#").isdigit():
        raise InvalidInput(f"a SKU needs a letter (a number names a product by id): {sku!r}")
    return text


def _check_price(cents: int) -> int:
    if cents < 0:
        raise InvalidInput("a product's price can't be negative")
    if cents >= MAX_CENTS:
        raise InvalidInput("a product's price is too large")
    return cents


def _check_tax(bp: int) -> int:
    if not 0 <= bp <= BP:
        raise InvalidInput(f"a tax rate is between 0% and 100%: {bp} basis points")
    return bp


def _refuse_taken(db: Db, *, sku: str | None, name: str | None, but: int | None) -> None:
    """Conflict if another product has this SKU or name (ignoring case)."""
    if sku is not None:
        other = db.one(
            "SELECT id, name FROM products WHERE lower(sku) = :sku AND id <> :but",
            {"sku": sku.lower(), "but": but or 0},
        )
        if other is not None:
            raise Conflict(f"SKU {sku!r} is taken by product #{other['id']} {other['name']}")
    if name is not None:
        other = db.one(
            "SELECT id, sku FROM products WHERE name_key = :key AND id <> :but",
            {"key": fold(name), "but": but or 0},
        )
        if other is not None:
            raise Conflict(f"a product named {name!r} already exists (#{other['id']})")


def add_product(
    ctx: Ctx,
    name: str,
    *,
    price_cents: int,
    currency: str | None = None,
    sku: str | None = None,
    unit: str | None = None,
    tax_bp: int = 0,
) -> ProductView:
    """Add a product to the catalogue; its SKU and name must be new (ignoring case)."""
    name = check_name(name, "product name")
    sku = _check_sku(sku)
    _check_price(price_cents)
    _check_tax(tax_bp)
    unit = check_text(unit, "unit")
    db = ctx.db
    with db.write():
        db.lock_key("products")
        _refuse_taken(db, sku=sku, name=name, but=None)
        now = db.ts(ctx.now)
        new_id = db.insert(
            "INSERT INTO products (sku, name, name_key, price_cents, currency, unit, tax_bp,"
            " created_at, updated_at, version) VALUES (:sku, :name, :key, :price, :cur, :unit,"
            " :tax, :now, :now, 1) RETURNING id",
            {
                "sku": sku,
                "name": name,
                "key": fold(name),
                "price": price_cents,
                "cur": currency or ctx.currency,
                "unit": unit,
                "tax": tax_bp,
                "now": now,
            },
        )
        view = get_product(db, new_id)
        audit.record(ctx, "product", new_id, "add", audit.added(_fields(view)))
        return view


def _fields(p: ProductView) -> dict[str, Any]:
    """A product as the audit log records it."""
    return {
        "sku": p.sku,
        "name": p.name,
        "price": p.price,
        "unit": p.unit,
        "tax_bp": p.tax_bp,
        "archived": p.archived_at is not None,
    }


def get_product(db: Db, product_id: int) -> ProductView:
    """One product by id, with how many deal items and purchases name it."""
    row = db.one(_SELECT + " WHERE p.id = :id", {"id": product_id})
    if row is None:
        raise NotFound(f"no product with id {product_id}")
    return _view(row)


def find_product(db: Db, ref: str) -> ProductView:
    """The product `ref` names: `#3` or `3` (an id), a SKU (ignoring case), a name
    (ignoring case and accents), else a unique prefix of a name or SKU. NotFound or
    Ambiguous (with the candidates) otherwise."""
    raw = clean(ref).strip()
    if not raw:
        raise InvalidInput("empty product: give a SKU, a name or an id like #3")
    if raw.lstrip("#").isdigit() and len(raw) <= 18:
        return get_product(db, int(raw.lstrip("#")))
    hit = db.one(_SELECT + " WHERE lower(p.sku) = :sku", {"sku": raw.lower()})
    if hit is None:
        hit = db.one(_SELECT + " WHERE p.name_key = :key", {"key": fold(raw)})
    if hit is not None:
        return _view(hit)
    key = fold(raw)
    rows = [
        r
        for r in db.all(_SELECT + " ORDER BY p.name_key, p.id")
        if r["name_key"].startswith(key) or (r["sku"] or "").lower().startswith(raw.lower())
    ]
    if len(rows) == 1:
        return _view(rows[0])
    if rows:
        names = ", ".join(_view(r).label for r in rows[:5]) + (", …" if len(rows) > 5 else "")
        raise Ambiguous(
            f"{raw!r} matches {len(rows)} products ({names}): give the SKU or more of the name",
            [("product", int(r["id"]), r["sku"] or r["name"]) for r in rows[:8]],
        )
    raise NotFound(f"no product matches {raw!r} (see tinycrm product list)")


def list_products(db: Db, *, archived: bool = False) -> list[ProductView]:
    """The catalogue by name; archived products only with `archived`."""
    where = "" if archived else " WHERE p.archived_at IS NULL"
    return [_view(r) for r in db.all(_SELECT + where + " ORDER BY p.name_key, p.id")]


def edit_product(
    ctx: Ctx,
    ref: str,
    *,
    name: str | None = None,
    sku: str | None = None,
    price_cents: int | None = None,
    currency: str | None = None,
    unit: str | None = None,
    tax_bp: int | None = None,
    restore: bool = False,
    expected_version: int | None = None,
) -> ProductView:
    """Change a product (`sku=''` or `unit=''` clears it; `restore` takes it out of the
    archive). Items already on deals keep the price and tax they were added with."""
    sets: dict[str, Any] = {}
    if name is not None:
        sets["name"] = check_name(name, "product name")
        sets["name_key"] = fold(sets["name"])
    if sku is not None:
        sets["sku"] = _check_sku(sku)
    if price_cents is not None:
        sets["price_cents"] = _check_price(price_cents)
    if currency is not None:
        sets["currency"] = currency
    if unit is not None:
        sets["unit"] = check_text(unit, "unit")
    if tax_bp is not None:
        sets["tax_bp"] = _check_tax(tax_bp)
    if restore:
        sets["archived_at"] = None
    if not sets:
        raise InvalidInput("nothing to change: give at least one option (see --help)")
    db = ctx.db
    with db.write():
        db.lock_key("products")
        old = find_product(db, ref)
        db.lock("products", old.id)
        old = get_product(db, old.id)
        check_version(ctx, "product", old.id, old.label, old.version, expected_version)
        if restore and old.archived_at is None:
            raise InvalidInput(f"product {old.label} is not archived")
        _refuse_taken(db, sku=sets.get("sku"), name=sets.get("name"), but=old.id)
        assigns = ", ".join(f"{k} = :{k}" for k in sets)
        db.execute(
            f"UPDATE products SET {assigns}, updated_at = :now, version = version + 1"
            " WHERE id = :id",
            {**sets, "now": db.ts(ctx.now), "id": old.id},
        )
        new = get_product(db, old.id)
        audit.record(ctx, "product", old.id, "edit", audit.diff(_fields(old), _fields(new)))
        return new


def remove_product(ctx: Ctx, ref: str, *, expected_version: int | None = None) -> RemovedProduct:
    """Delete a product nobody has on a deal or bought; one that is (or was) is archived
    instead, so its items, quotes and purchases keep naming it."""
    db = ctx.db
    with db.write():
        db.lock_key("products")
        found = find_product(db, ref)
        db.lock("products", found.id, "delete")
        old = get_product(db, found.id)
        check_version(ctx, "product", old.id, old.label, old.version, expected_version)
        if old.deals or old.sold:
            if old.archived_at is not None:
                raise InvalidInput(f"product {old.label} is archived already")
            db.execute(
                "UPDATE products SET archived_at = :now, updated_at = :now,"
                " version = version + 1 WHERE id = :id",
                {"now": db.ts(ctx.now), "id": old.id},
            )
            new = get_product(db, old.id)
            audit.record(ctx, "product", old.id, "archive", audit.diff(_fields(old), _fields(new)))
            return RemovedProduct(new, True)
        db.execute("DELETE FROM products WHERE id = :id", {"id": old.id})
        audit.record(ctx, "product", old.id, "delete", audit.removed(_fields(old)))
        return RemovedProduct(old, False)
