"""`tinycrm product ...`: the catalogue."""

from __future__ import annotations

from typing import Annotated

import typer

from tinycrm.cli import output
from tinycrm.cli.common import IfVersionOpt, JsonOpt, get_ctx

product_app = typer.Typer(help="The products and services you sell.", no_args_is_help=True)

ProductArg = Annotated[str, typer.Argument(help="SKU, name (a unique prefix is enough) or #id.")]
TaxOpt = Annotated[
    str | None,
    typer.Option("--tax-rate", help="Tax rate, e.g. 19% or 7.5% (default 0%).", show_default=False),
]
UnitOpt = Annotated[str | None, typer.Option("--unit", help="What one is: licence, hour, month...")]


def _show(p: object, json_: bool, said: str | None = None) -> None:
    from tinycrm.money import show
    from tinycrm.pricing import format_percent
    from tinycrm.services.products import ProductView

    assert isinstance(p, ProductView)
    if json_:
        output.emit_json(p)
        return
    if said is not None:
        output.say(said)
        return
    output.fields(
        [
            ("id", f"#{p.id}"),
            ("SKU", p.sku),
            ("price", show(p.price) + (f" per {p.unit}" if p.unit else "")),
            ("tax rate", format_percent(p.tax_bp)),
            ("on deals", p.deals),
            ("bought", p.sold),
            ("archived", "yes" if p.archived_at else None),
            ("version", p.version),
        ],
        title=p.name,
    )


def _price(text: str, currency: str | None, usual: list[str]) -> tuple[int, str | None]:
    from tinycrm.money import parse_currency, parse_money

    given = parse_currency(currency, field="--currency", usual=usual) if currency else None
    money = parse_money(text, field="--price", currency=given, usual=usual)
    return money.cents, money.currency or given


@product_app.command("add")
def product_add(
    name: Annotated[str, typer.Argument(help="The product's name, e.g. 'Pro licence'.")],
    price: Annotated[
        str, typer.Option("--price", "-p", help="Price per unit, e.g. 120, 1,200.50 or €120.")
    ],
    sku: Annotated[
        str | None, typer.Option("--sku", help="Your code for it, unique (e.g. PRO-1).")
    ] = None,
    currency: Annotated[
        str | None, typer.Option("--currency", help="ISO code (default from settings).")
    ] = None,
    unit: UnitOpt = None,
    tax_rate: TaxOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Add a product or service to the catalogue."""
    from tinycrm.money import show
    from tinycrm.pricing import parse_percent
    from tinycrm.services.products import add_product

    ctx = get_ctx()
    cents, cur = _price(price, currency, [ctx.currency])
    tax = parse_percent(tax_rate, field="--tax-rate") if tax_rate is not None else 0
    p = add_product(ctx, name, price_cents=cents, currency=cur, sku=sku, unit=unit, tax_bp=tax)
    _show(p, json_, f"Added product #{p.id} {p.label} at {show(p.price)}")


@product_app.command("list")
def product_list(
    all_: Annotated[bool, typer.Option("--all", help="Archived products too.")] = False,
    json_: JsonOpt = False,
) -> None:
    """The catalogue, by name."""
    from tinycrm.money import show
    from tinycrm.pricing import format_percent
    from tinycrm.services.products import list_products

    rows = list_products(get_ctx().db, archived=all_)
    if json_:
        output.emit_json(rows)
        return
    output.table(
        ["id", "SKU", "name", "price", "unit", "tax", "on deals", "bought"]
        + (["archived"] if all_ else []),
        [
            [
                p.id,
                p.sku or "",
                p.name,
                show(p.price),
                p.unit or "",
                format_percent(p.tax_bp),
                p.deals,
                p.sold,
            ]
            + (["yes" if p.archived_at else ""] if all_ else [])
            for p in rows
        ],
        empty="no products: tinycrm product add 'Pro licence' --price 120 --sku PRO-1",
    )


@product_app.command("show")
def product_show(ref: ProductArg, json_: JsonOpt = False) -> None:
    """One product: price, tax rate, how often it is on deals and bought."""
    from tinycrm.services.products import find_product

    _show(find_product(get_ctx().db, ref), json_)


@product_app.command("edit")
def product_edit(
    ref: ProductArg,
    name: Annotated[str | None, typer.Option("--name", help="New name.")] = None,
    sku: Annotated[str | None, typer.Option("--sku", help="New SKU ('' clears it).")] = None,
    price: Annotated[
        str | None, typer.Option("--price", "-p", help="New price (deals keep theirs).")
    ] = None,
    currency: Annotated[str | None, typer.Option("--currency", help="ISO code.")] = None,
    unit: UnitOpt = None,
    tax_rate: TaxOpt = None,
    restore: Annotated[bool, typer.Option("--restore", help="Take it out of the archive.")] = False,
    if_version: IfVersionOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Change a product's name, SKU, price, unit or tax rate.

    Items already on deals keep the price and tax they were added with.
    """
    from tinycrm.money import parse_currency
    from tinycrm.pricing import parse_percent
    from tinycrm.services.products import edit_product, find_product

    ctx = get_ctx()
    cents, cur = None, None
    if price is not None:
        usual = [find_product(ctx.db, ref).price.currency, ctx.currency]
        cents, cur = _price(price, currency, usual)
    elif currency is not None:
        cur = parse_currency(currency, field="--currency", usual=[ctx.currency])
    p = edit_product(
        ctx,
        ref,
        name=name,
        sku=sku,
        price_cents=cents,
        currency=cur,
        unit=unit,
        tax_bp=parse_percent(tax_rate, field="--tax-rate") if tax_rate is not None else None,
        restore=restore,
        expected_version=if_version,
    )
    _show(p, json_, f"Updated product #{p.id} {p.label}")


@product_app.command("rm")
def product_rm(ref: ProductArg, if_version: IfVersionOpt = None, json_: JsonOpt = False) -> None:
    """Delete a product; one on a deal or bought is archived instead."""
    from tinycrm.services.products import remove_product

    done = remove_product(get_ctx(), ref, expected_version=if_version)
    p = done.product
    if json_:
        output.emit_json({"archived" if done.archived else "deleted": p})
    elif done.archived:
        output.say(
            f"Archived product #{p.id} {p.label}: it is on deals or was bought, so it stays"
            " for them (product list --all shows it)"
        )
    else:
        output.say(f"Deleted product #{p.id} {p.label}")
