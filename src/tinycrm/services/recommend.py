"""Product recommendations (#22): what customers who bought what this one bought also
bought, that this one hasn't (docs/products.md, "Recommendations").

Item-to-item co-occurrence with cosine similarity over sets of customers. B(p) is the
set of customers with a purchase line naming product p (the erased-customers placeholder
is nobody). For the customer R, who bought the products P, every other product x that is
not archived scores

    score(x) = Σ over p in P of |B(p) ∩ B(x)| / √(|B(p)| · |B(x)|)

each term the cosine of the two products' customer sets: 1 when the same people buy
both, small when x is bought by many who never bought p (a best-seller is not pushed on
everyone). `customers` counts the other customers who bought x and at least one product
of P; `because` lists the products of P it was bought with, most shared first. Ranked
by score, then customers, then name; products scoring 0 are left out. Read in one pass
over `ix_purchases_product` (each product with each of its customers, once) and counted
in Python: a join of purchases with themselves per customer costs the square of what
each customer bought, and took seconds on the benchmark store.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from tinycrm.errors import NotFound
from tinycrm.money import Money
from tinycrm.store.db import Db


@dataclass
class Suggestion:
    product_id: int
    sku: str | None
    name: str
    label: str  # SKU and name, as lists show it
    price: Money
    tax_bp: int
    score: float  # see the module docstring
    customers: int  # others who bought it and something this customer bought
    because: list[str] = field(default_factory=list)  # what of theirs it was bought with


@dataclass
class Recommendations:
    contact_id: int
    contact: str
    bought: list[str]  # the products this customer bought (labels), by name
    products: list[Suggestion]


def _label(sku: str | None, name: str) -> str:
    return f"{sku} {name}" if sku else name


def recommend(db: Db, contact_id: int, *, top: int = 5) -> Recommendations:
    """The `top` products to offer a contact, by co-occurrence (see the module docstring)."""
    name = db.value("SELECT name FROM contacts WHERE id = :id", {"id": contact_id})
    if name is None:
        raise NotFound(f"no contact with id {contact_id}")
    with db.read():
        nobody = db.value("SELECT id FROM contacts WHERE name_key = '' ORDER BY id LIMIT 1")
        # who bought what: one pass over the (product, customer) index, each pair once
        pairs = db.tuples(
            "SELECT DISTINCT product_id, contact_id FROM purchases WHERE product_id IS NOT NULL"
        )
        products = {
            int(r["id"]): r
            for r in db.all(
                "SELECT id, sku, name, price_cents, currency, tax_bp, archived_at FROM products"
            )
        }
    skip = -1 if nobody is None else int(nobody)
    mine = {int(p) for p, c in pairs if c == contact_id}
    bought = sorted(
        (_label(products[p]["sku"], products[p]["name"]) for p in mine), key=str.casefold
    )
    if not mine:
        return Recommendations(contact_id, str(name), bought, [])
    sizes: Counter[int] = Counter()  # |B(p)|
    theirs: dict[int, list[int]] = {}  # each other customer's products among mine
    for p, c in pairs:
        if c == skip:
            continue
        sizes[p] += 1
        if p in mine and c != contact_id:
            theirs.setdefault(c, []).append(p)
    shared: Counter[tuple[int, int]] = Counter()  # |B(p) ∩ B(x)| for p of mine, x not
    reach: Counter[int] = Counter()  # customers who bought x and something of mine
    for x, c in pairs:
        if x in mine or c not in theirs:
            continue
        reach[x] += 1
        for p in theirs[c]:
            shared[p, x] += 1
    scores: dict[int, float] = {}
    with_: dict[int, list[tuple[int, int]]] = {}
    for (p, x), n in shared.items():
        if x not in products or products[x]["archived_at"] is not None:
            continue
        scores[x] = scores.get(x, 0.0) + n / math.sqrt(sizes[p] * sizes[x])
        with_.setdefault(x, []).append((n, p))
    out = []
    for x, score in scores.items():
        row = products[x]
        best = sorted(with_[x], key=lambda t: (-t[0], products[t[1]]["name"].casefold()))
        out.append(
            Suggestion(
                product_id=x,
                sku=row["sku"],
                name=row["name"],
                label=_label(row["sku"], row["name"]),
                price=Money(int(row["price_cents"]), row["currency"]),
                tax_bp=int(row["tax_bp"]),
                score=round(score, 6),
                customers=reach[x],
                because=[_label(products[p]["sku"], products[p]["name"]) for _, p in best],
            )
        )
    out.sort(key=lambda s: (-s.score, -s.customers, s.name.casefold(), s.product_id))
    return Recommendations(contact_id, str(name), bought, out[:top])
