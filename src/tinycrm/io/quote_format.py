"""A quote as HTML (one page that prints well from a browser) or Markdown.

Both render a stored `QuoteContent` alone, so a quote reads the same whenever it is
rendered again (`tinycrm quote show NUMBER`). Everything that came from people (the
company header, the customer, product names, terms) is escaped: in HTML with
`html.escape` (a customer called `<script>` is text), in Markdown with a backslash before
every character Markdown or a table would read (and HTML's `<`, `&`). Money is written
as `1,234.50` with the currency in the totals' heading, percentages as `19%`.
"""

from __future__ import annotations

import html
import re

from tinycrm.money import display_amount
from tinycrm.pricing import format_percent
from tinycrm.services.quotes import QuoteContent

_CSS = """
* { box-sizing: border-box; }
body { font: 11pt/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #111; margin: 2rem auto; max-width: 52rem; padding: 0 1rem; }
header { display: flex; justify-content: space-between; gap: 2rem; align-items: flex-start; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
.meta { text-align: right; }
.meta dl { display: grid; grid-template-columns: auto auto; gap: .1rem 1rem; margin: 0; }
.meta dt { color: #555; } .meta dd { margin: 0; }
.parties { display: flex; gap: 3rem; margin: 2rem 0 1.5rem; }
.parties h2 { font-size: .8rem; text-transform: uppercase; letter-spacing: .06em;
  color: #555; margin: 0 0 .25rem; }
.parties p { margin: 0; }
table { width: 100%; border-collapse: collapse; }
th, td { padding: .35rem .5rem; border-bottom: 1px solid #ddd; vertical-align: top; }
th { text-align: left; font-size: .85rem; color: #444; border-bottom: 2px solid #999; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tfoot td { border-bottom: none; }
tfoot tr.total td { font-weight: bold; border-top: 2px solid #999; }
.terms { margin-top: 2rem; white-space: pre-line; }
.terms h2 { font-size: .9rem; margin: 0 0 .25rem; }
footer { margin-top: 2rem; color: #555; font-size: .85rem; }
@page { size: A4; margin: 18mm 16mm; }
@media print {
  body { margin: 0; max-width: none; padding: 0; font-size: 10pt; }
  thead { display: table-header-group; }
  tr, .totals, .terms { break-inside: avoid; page-break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _money(cents: int) -> str:
    return display_amount(cents)


def html_quote(q: QuoteContent) -> str:
    """The quote as a complete HTML document (UTF-8, print styles inline)."""
    cur = _e(q.currency)
    seller = [f"<h1>{_e(q.seller_name or 'Quote')}</h1>"]
    seller += [f"<div>{_e(line)}</div>" for line in q.seller_address]
    if q.seller_email:
        seller.append(f"<div>{_e(q.seller_email)}</div>")
    meta = (
        '<div class="meta"><dl>'
        f"<dt>Quote</dt><dd>{_e(q.number)}</dd>"
        f'<dt>Date</dt><dd><time datetime="{q.issued_on.isoformat()}">'
        f"{q.issued_on.isoformat()}</time></dd>"
        f'<dt>Valid until</dt><dd><time datetime="{q.valid_until.isoformat()}">'
        f"{q.valid_until.isoformat()}</time></dd>"
        f"<dt>Deal</dt><dd>#{q.deal_id} {_e(q.deal_title)}</dd>"
        "</dl></div>"
    )
    customer = [x for x in (q.customer, q.customer_company) if x]
    customer += q.customer_address
    if q.customer_email:
        customer.append(q.customer_email)
    to = "".join(f"<p>{_e(x)}</p>" for x in customer) or "<p>—</p>"
    rows = []
    for x in q.lines:
        what = _e(x.product) + (f' <span class="sku">({_e(x.sku)})</span>' if x.sku else "")
        qty = f"{x.quantity:,}" + (f" {_e(x.unit)}" if x.unit else "")
        off = ""
        if x.discount_cents:
            off = _money(x.discount_cents)
            if x.discount_bp is not None:
                off += f" ({format_percent(x.discount_bp)})"
        rows.append(
            "<tr>"
            f'<td class="num">{x.line}</td><td>{what}</td><td class="num">{qty}</td>'
            f'<td class="num">{_money(x.price_cents)}</td><td class="num">{off}</td>'
            f'<td class="num">{format_percent(x.tax_bp)}</td>'
            f'<td class="num">{_money(x.net_cents)}</td>'
            "</tr>"
        )
    foot = []
    if q.discount_cents:
        foot.append(("Before discounts", q.gross_cents, ""))
        foot.append(("Discounts", -q.discount_cents, ""))
    foot.append(("Net", q.net_cents, ""))
    for t in q.taxes:
        foot.append((f"Tax {format_percent(t.rate_bp)} on {_money(t.base_cents)}", t.tax_cents, ""))
    foot.append((f"Total {q.currency}", q.total_cents, "total"))
    tfoot = "".join(
        f'<tr class="{cls}"><td colspan="6" class="num">{_e(label)}</td>'
        f'<td class="num">{_money(cents)}</td></tr>'
        for label, cents, cls in foot
    )
    terms = f'<section class="terms"><h2>Terms</h2>{_e(q.terms)}</section>' if q.terms else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>Quote {_e(q.number)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f'<header><div class="seller">{"".join(seller)}</div>{meta}</header>\n'
        '<section class="parties"><div class="to"><h2>For</h2>'
        f"{to}</div></section>\n"
        '<table class="items">\n<thead><tr><th class="num">#</th><th>Item</th>'
        '<th class="num">Qty</th>'
        f'<th class="num">Price ({cur})</th><th class="num">Discount</th>'
        f'<th class="num">Tax</th><th class="num">Net ({cur})</th></tr></thead>\n'
        f"<tbody>\n{chr(10).join(rows)}\n</tbody>\n"
        f'<tfoot class="totals">{tfoot}</tfoot>\n</table>\n'
        f"{terms}\n"
        f"<footer>Quote {_e(q.number)}, valid until {q.valid_until.isoformat()}.</footer>\n"
        "</body>\n</html>\n"
    )


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>&|~])")
_MD_LEADING = re.compile(r"^(\d*)([#+=.)-])")


def _m(text: object) -> str:
    """Text for a Markdown line or table cell: every character Markdown would read inline
    (emphasis, code, links, HTML, table pipes) is backslash-escaped, and so is a start
    that would make a heading or a list; line breaks become spaces."""
    flat = _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))
    return _MD_LEADING.sub(r"\1\\\2", flat)


def markdown_quote(q: QuoteContent) -> str:
    """The quote as Markdown (GitHub-flavoured tables)."""
    out = [f"# Quote {_m(q.number)}", ""]
    if q.seller_name:
        out.append(f"**{_m(q.seller_name)}**  ")
    out += [f"{_m(line)}  " for line in q.seller_address]
    if q.seller_email:
        out.append(f"{_m(q.seller_email)}  ")
    out += [
        "",
        f"Date: {q.issued_on.isoformat()}  ",
        f"Valid until: {q.valid_until.isoformat()}  ",
        f"Deal: \\#{q.deal_id} {_m(q.deal_title)}",
        "",
        "## For",
        "",
    ]
    customer = [x for x in (q.customer, q.customer_company) if x] + q.customer_address
    if q.customer_email:
        customer.append(q.customer_email)
    out += [f"{_m(x)}  " for x in customer] or ["—"]
    out += [
        "",
        f"| \\# | Item | Qty | Price ({q.currency}) | Discount | Tax | Net ({q.currency}) |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for x in q.lines:
        what = _m(x.product) + (f" ({_m(x.sku)})" if x.sku else "")
        qty = f"{x.quantity:,}" + (f" {_m(x.unit)}" if x.unit else "")
        off = ""
        if x.discount_cents:
            off = _money(x.discount_cents)
            if x.discount_bp is not None:
                off += f" ({format_percent(x.discount_bp)})"
        out.append(
            f"| {x.line} | {what} | {qty} | {_money(x.price_cents)} | {off} |"
            f" {format_percent(x.tax_bp)} | {_money(x.net_cents)} |"
        )
    out.append("")
    if q.discount_cents:
        out.append(f"Before discounts: {_money(q.gross_cents)}  ")
        out.append(f"Discounts: {_money(-q.discount_cents)}  ")
    out.append(f"Net: {_money(q.net_cents)}  ")
    for t in q.taxes:
        out.append(
            f"Tax {format_percent(t.rate_bp)} on {_money(t.base_cents)}: {_money(t.tax_cents)}  "
        )
    out.append(f"**Total: {_money(q.total_cents)} {q.currency}**")
    if q.terms:
        out += ["", "## Terms", ""] + [_m(line) for line in q.terms.splitlines()]
    out.append("")
    return "\n".join(out)
