"""products, line items on deals, quotes, and purchases of products (#22)

New tables: `products` (the catalogue: SKU unique, price in integer cents with its
currency, unit, tax rate in basis points, `archived_at` for a product that was sold and so
is never deleted), `deal_items` (a deal's line items: quantity, price, discount as a
percentage in basis points or an amount, tax rate), `quotes` (each quote issued: its
number, deal, date, validity, total and the JSON it renders from, so it renders the same
later) and `quote_counters` (the last number handed out per year). `purchases` gains
`product_id`, `quantity` and `deal_id` (the won deal it came from), added in place
(nullable, no default), with partial indexes of who bought each product
(`ix_purchases_product`: `recommend` reads it whole) and of a deal's purchases
(`ix_purchases_deal_id`). Every new table but the counters is
in the change journal (0009's triggers), and on SQLite purchases' triggers are written
again to name the new columns; the counters
are left out of it on purpose (tinycrm.store.journal.NOT_JOURNALED): a quote number handed
out stays handed out, even when `undo` takes its quote back.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tinycrm.store import journal

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_PRODUCT = sa.text("product_id IS NOT NULL")
_DEAL = sa.text("deal_id IS NOT NULL")


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(), nullable=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("name_key", sa.String(), nullable=False),
        sa.Column("price_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("unit", sa.String(), nullable=True),
        sa.Column("tax_bp", sa.Integer(), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sku"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_products_name_key", "products", ["name_key"], unique=False)
    op.create_table(
        "deal_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("price_cents", sa.BigInteger(), nullable=False),
        sa.Column("discount_bp", sa.Integer(), nullable=True),
        sa.Column("discount_cents", sa.BigInteger(), nullable=True),
        sa.Column("tax_bp", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["deal_id"], ["deals.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_deal_items_deal_id", "deal_items", ["deal_id"], unique=False)
    op.create_index("ix_deal_items_product_id", "deal_items", ["product_id"], unique=False)
    op.create_table(
        "quotes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(), nullable=False),
        sa.Column("deal_id", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["deal_id"], ["deals.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_quotes_deal_id", "quotes", ["deal_id"], unique=False)
    op.create_table(
        "quote_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year"),
    )
    _add_purchase_columns()
    op.create_index(
        "ix_purchases_product",
        "purchases",
        ["product_id", "contact_id"],
        unique=False,
        sqlite_where=_PRODUCT,
        postgresql_where=_PRODUCT,
    )
    op.create_index(
        "ix_purchases_deal_id",
        "purchases",
        ["deal_id"],
        unique=False,
        sqlite_where=_DEAL,
        postgresql_where=_DEAL,
    )
    journal.install(op.get_bind(), ("products", "deal_items", "quotes", "purchases"))


def _add_purchase_columns() -> None:
    """In place, nullable with no default: SQLite takes a REFERENCES clause in ADD COLUMN
    (so the table is not rebuilt and keeps its AUTOINCREMENT counter and triggers);
    PostgreSQL gets the foreign keys as constraints. Both are NO ACTION (SQLite's
    reflection reads no ON DELETE of a column's own REFERENCES clause): a sold product is
    archived, never deleted, and `deal rm` takes a deal's purchases off it first."""
    if op.get_bind().dialect.name == "sqlite":
        for sql in (
            "ALTER TABLE purchases ADD COLUMN product_id INTEGER REFERENCES products (id)",
            "ALTER TABLE purchases ADD COLUMN quantity INTEGER",
            "ALTER TABLE purchases ADD COLUMN deal_id INTEGER REFERENCES deals (id)",
        ):
            op.execute(sql)
        return
    op.add_column("purchases", sa.Column("product_id", sa.Integer(), nullable=True))
    op.add_column("purchases", sa.Column("quantity", sa.Integer(), nullable=True))
    op.add_column("purchases", sa.Column("deal_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        "purchases_product_id_fkey", "purchases", "products", ["product_id"], ["id"]
    )
    op.create_foreign_key("purchases_deal_id_fkey", "purchases", "deals", ["deal_id"], ["id"])


def downgrade() -> None:
    op.drop_index("ix_purchases_deal_id", table_name="purchases")
    op.drop_index("ix_purchases_product", table_name="purchases")
    with op.batch_alter_table("purchases") as batch:
        batch.drop_column("deal_id")
        batch.drop_column("quantity")
        batch.drop_column("product_id")
    journal.install(op.get_bind(), ("purchases",))  # batch mode rebuilt it without triggers
    op.drop_table("quote_counters")
    op.drop_index("ix_quotes_deal_id", table_name="quotes")
    op.drop_table("quotes")
    op.drop_index("ix_deal_items_product_id", table_name="deal_items")
    op.drop_index("ix_deal_items_deal_id", table_name="deal_items")
    op.drop_table("deal_items")
    op.drop_index("ix_products_name_key", table_name="products")
    op.drop_table("products")
