"""A purchases CSV file read into `PurchaseRow`s, for `services.imports.purchases`.

Columns: `contact` (a REF: id, email or name), `date`, `amount`, and optionally `currency`,
`note`, `sku` (the product bought: its SKU, name or #id in the catalogue) and `quantity`
(how many of it, a whole number; 1 when empty), found by name or synonym (see COLUMNS)
or by `--map` (`--map sku=Product` reads a product column as the product rather than a
note). The file is read twice in
memory: once to work out the date format and decimal mark over all its distinct values, once
to parse the rows. A row that can't be read becomes a `RowError` naming its line and field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tinycrm.errors import InvalidInput
from tinycrm.io.csv_import import DELIMITER_NAMES, Column, CsvFile, open_csv, write_rejects
from tinycrm.io.csv_values import AmountReader, DateReader
from tinycrm.io.outputs import Output
from tinycrm.money import currency_of, parse_currency
from tinycrm.pricing import MAX_QUANTITY
from tinycrm.services.contacts import check_text
from tinycrm.services.imports.bulk import RowError, quoted
from tinycrm.services.imports.purchases import ImportSource, PurchaseRow
from tinycrm.text import clean, uninert

# Synonyms are compared after csv_import.normalize_header (folded, `_-./` as spaces). Email
# columns come before name columns: when a file has both, the email is the surer match. A
# shop's own customer number is deliberately not a synonym: read as a tinycrm id, it would
# match the wrong people.
COLUMNS = (
    Column(
        "contact",
        True,
        (
            "contact name",
            "contact email",
            "email",
            "e mail",
            "email address",
            "e mail address",
            "customer email",
            "client email",
            "mail",
            "e mail adresse",
            "email adresse",
            "customer",
            "customer name",
            "client",
            "client name",
            "buyer",
            "name",
            "full name",
            "kunde",
            "kundin",
            "kundenname",
            "kontakt",
        ),
    ),
    Column(
        "date",
        True,
        (
            "purchased on",
            "purchase date",
            "order date",
            "ordered on",
            "date of purchase",
            "sale date",
            "invoice date",
            "transaction date",
            "day",
            "datum",
            "bestelldatum",
            "kaufdatum",
            "rechnungsdatum",
            "belegdatum",
        ),
    ),
    Column(
        "amount",
        True,
        (
            "total",
            "value",
            "price",
            "sum",
            "amount paid",
            "total amount",
            "order total",
            "grand total",
            "revenue",
            "betrag",
            "summe",
            "gesamt",
            "gesamtbetrag",
            "endbetrag",
            "preis",
            "wert",
            "umsatz",
        ),
    ),
    Column("currency", False, ("currency code", "ccy", "cur", "curr", "wahrung", "waehrung")),
    Column(
        "note",
        False,
        (
            "notes",
            "description",
            "item",
            "items",
            "product",
            "comment",
            "memo",
            "details",
            "notiz",
            "bemerkung",
            "beschreibung",
            "artikel",
            "produkt",
            "kommentar",
        ),
    ),
    Column(
        "sku",
        False,
        (
            "product sku",
            "product code",
            "item sku",
            "item code",
            "article number",
            "part number",
            "artikelnummer",
            "artikel nr",
        ),
    ),
    Column("quantity", False, ("qty", "quantity ordered", "units", "menge", "anzahl")),
)

PROGRESS_EVERY = 10_000


@dataclass
class PurchaseFile:
    """A purchases file read: its rows, the rows it could not read, and how it was read."""

    csv: CsvFile
    source: ImportSource
    rows: list[PurchaseRow]
    errors: list[RowError]
    rejects_suffix: str = ".csv"

    def write_rejects(self, target: Output, errors: list[RowError]) -> None:
        """The bad rows as a CSV in the file's own dialect, to fix and import again."""
        write_rejects(self.csv, target, errors)


def read_purchases(
    path: Path,
    label: str,
    *,
    default_currency: str,
    encoding: str | None = None,
    delimiter: str | None = None,
    mapping: dict[str, str] | None = None,
    date_format: str | None = None,
    decimal: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> PurchaseFile:
    """Read and parse `path`; file-level problems raise InvalidInput, row-level ones are
    returned as errors (the service decides whether they stop the import)."""
    f = open_csv(path, label, COLUMNS, encoding=encoding, delimiter=delimiter, mapping=mapping)
    dates_seen: dict[str, int] = {}
    amounts_seen: dict[str, int] = {}
    di, ai = f.columns["date"], f.columns["amount"]
    for line, fields in f.rows():
        if di < len(fields):
            dates_seen.setdefault(fields[di], line)
        if ai < len(fields):
            amounts_seen.setdefault(fields[ai], line)
    dates = DateReader.detect(dates_seen, label, date_format)
    amounts = AmountReader.detect(amounts_seen, label, decimal)
    rows, errors = _parse_rows(f, dates, amounts, default_currency, progress)
    source = ImportSource(
        file=label,
        encoding=f.encoding,
        encoding_guessed=f.encoding_guessed,
        delimiter=DELIMITER_NAMES.get(f.delimiter, f.delimiter),
        decimal_mark=amounts.mark,
        date_formats=list(dates.seen),
        columns={name: f.header[i].strip() for name, i in f.columns.items()},
        ignored_columns=f.ignored,
    )
    return PurchaseFile(f, source, rows, errors)


def _parse_rows(
    f: CsvFile,
    dates: DateReader,
    amounts: AmountReader,
    default_currency: str,
    progress: Callable[[str, int, int], None] | None,
) -> tuple[list[PurchaseRow], list[RowError]]:
    cols = f.columns
    ci, di, ai = cols["contact"], cols["date"], cols["amount"]
    cur_i, note_i = cols.get("currency", -1), cols.get("note", -1)
    sku_i, qty_i = cols.get("sku", -1), cols.get("quantity", -1)
    width = len(f.header)
    total = f.line_count()
    refs: dict[
        str, str
    ] = {}  # as written -> cleaned, one string per person: 500k rows, fewer people
    currencies: dict[str, str | None] = {"": None}
    rows: list[PurchaseRow] = []
    errors: list[RowError] = []
    for n, (line, fields) in enumerate(f.rows()):
        if progress and n % PROGRESS_EVERY == 0:
            progress("read", line, total)
        if len(fields) > width and any(x.strip() for x in fields[width:]):
            errors.append(RowError(line, None, _too_many(len(fields), width, f.delimiter)))
            continue
        fields += [""] * (width - len(fields))
        contact = refs.get(fields[ci])
        if contact is None:  # a name tinycrm's export guarded ('=...) reads back as it was
            contact = refs[fields[ci]] = clean(uninert(fields[ci]))
        if not contact:
            errors.append(RowError(line, "contact", "empty"))
            continue
        day = dates.parse(fields[di])
        if not isinstance(day, date):
            errors.append(RowError(line, "date", day))
            continue
        amount = amounts.parse(fields[ai])
        if isinstance(amount, str):
            errors.append(RowError(line, "amount", amount))
            continue
        cents, mark = amount
        raw_cur = fields[cur_i].strip() if cur_i >= 0 else ""
        if raw_cur not in currencies:
            try:
                currencies[raw_cur] = (
                    parse_currency(raw_cur, usual=[default_currency]) if raw_cur else None
                )
            except InvalidInput:
                currencies[raw_cur] = None
        currency = currencies[raw_cur]
        if raw_cur and currency is None:
            errors.append(RowError(line, "currency", f"not a currency code: {quoted(raw_cur)}"))
            continue
        written = None
        if mark is not None:
            try:
                written = currency_of(
                    mark, fields[ai].strip(), usual=[c for c in (currency, default_currency) if c]
                )
            except InvalidInput as e:
                errors.append(RowError(line, "amount", str(e).removeprefix("amount ")))
                continue
        if currency and written and currency != written:
            errors.append(RowError(line, "currency", f"{currency}, but the amount says {written}"))
            continue
        try:
            # a note tinycrm's export guarded against spreadsheets ('=...) reads back as it was
            note = check_text(uninert(fields[note_i]), "note") if note_i >= 0 else None
        except InvalidInput as e:
            errors.append(RowError(line, "note", str(e)))
            continue
        sku = clean(uninert(fields[sku_i])).strip() or None if sku_i >= 0 else None
        quantity = None
        raw_qty = fields[qty_i].strip() if qty_i >= 0 else ""
        if sku is not None:
            if raw_qty and not (raw_qty.isdigit() and 1 <= int(raw_qty) <= MAX_QUANTITY):
                errors.append(
                    RowError(line, "quantity", f"not a whole number from 1: {quoted(raw_qty)}")
                )
                continue
            quantity = int(raw_qty) if raw_qty else 1
        rows.append(
            PurchaseRow(
                line,
                contact,
                day,
                cents,
                currency or written or default_currency,
                note,
                sku,
                quantity,
            )
        )
    if progress:
        progress("read", total, total)
    return rows, errors


def _too_many(count: int, width: int, delimiter: str) -> str:
    hint = " (an amount with a decimal comma must be quoted)" if delimiter == "," else ""
    return f"{count} fields, but the header has {width}{hint}"
