"""Reading a CSV file that a shop, an ERP or a spreadsheet exported, without being told how.

`open_csv` works out, unless told:

- the encoding: UTF-8 (a BOM is dropped), UTF-16 when the file starts with its BOM (Excel's
  "Unicode text") or is plainly UTF-16 without one (every other byte zero), else a guess:
  a Chinese, Japanese or Korean encoding (GB18030/GBK, Big5, Shift_JIS, EUC-KR...) when
  charset-normalizer finds one, else cp1252 (Excel on Windows). A file that is UTF-8 in
  some lines and not in others is refused, naming the first line that isn't: any one
  reading of it would garble part of the names.
- the delimiter: Excel's `sep=;` first line, else `csv.Sniffer` on the first lines, checked
  against the header: the first of `;`, `,`, tab and `|` under which the header names
  every required column wins.
- the columns: each wanted `Column` is found by an explicit `COLUMN=field` mapping, else
  by its name or a synonym, compared case-, accent- and spacing-insensitively. Other
  columns are ignored and reported.

Rows come back with the line they start on (the header is line 1 of a plain file), so every
message can point into the file. The file is read whole (a 500k-row export is ~20 MB) so
that callers can make several passes, e.g. to detect a date format before parsing.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from tinycrm.errors import InvalidInput
from tinycrm.io.outputs import Output, opened, write_text
from tinycrm.services.imports.bulk import RowError
from tinycrm.services.imports.contacts import ContactImportSource
from tinycrm.text import fold

DELIMITERS = (";", ",", "\t", "|")
DELIMITER_NAMES = {";": ";", ",": ",", "\t": "tab", "|": "|"}
SNIFF_LINES = 50
R = TypeVar("R")
FALLBACK_ENCODING = "cp1252"
# What charset-normalizer may pick over cp1252 for a file that is not UTF-8: the encodings
# of Chinese, Japanese and Korean spreadsheets. Western files keep the cp1252 guess (its
# picks among the Latin code pages are a coin toss on short files).
CJK_ENCODINGS = frozenset(
    {
        "gb18030",
        "gbk",
        "gb2312",
        "hz",
        "big5",
        "big5hkscs",
        "cp950",
        "shift_jis",
        "cp932",
        "shift_jis_2004",
        "shift_jisx0213",
        "euc_jp",
        "euc_jis_2004",
        "iso2022_jp",
        "euc_kr",
        "cp949",
        "johab",
        "iso2022_kr",
    }
)


@dataclass(frozen=True)
class Column:
    """A field a file must (or may) have, and the header names that mean it, best first."""

    name: str
    required: bool
    synonyms: tuple[str, ...] = ()


#: header -> (field -> column index, ignored column names); raises InvalidInput if unfit
Fit = Callable[[list[str]], tuple[dict[str, int], list[str]]]


@dataclass
class CsvFile:
    label: str  # the path as the user gave it, for messages
    text: str
    encoding: str  # as read, e.g. "utf-8", "cp1252"
    encoding_guessed: bool
    write_encoding: str  # to write a file that reads back the same (keeps a BOM)
    delimiter: str
    header: list[str]
    header_line: int
    columns: dict[str, int]  # field -> column index
    ignored: list[str]

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line, fields) of every data row; blank rows are skipped."""
        for line, fields in _records(self.text, self.delimiter, self.label):
            if line > self.header_line:
                yield line, fields

    def originals(self, lines: set[int]) -> dict[int, list[str]]:
        """The fields of the rows that start on `lines`, exactly as read."""
        return {line: fields for line, fields in self.rows() if line in lines}

    def line_count(self) -> int:
        return self.text.count("\n") + 1


def open_csv(
    path: Path,
    label: str,
    columns: Sequence[Column],
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    mapping: dict[str, str] | None = None,
    fit: Fit | None = None,
) -> CsvFile:
    """Read `path` and find `columns` in its header (see the module docstring). `fit`
    replaces the column matching for readers whose fields span several columns (contacts:
    `E-mail 1 - Value`, `E-mail 2 - Value`...): it takes the header and returns what
    `map_columns` does, raising InvalidInput when the header does not fit."""
    data = _read_bytes(path, label)
    text, used, guessed, write_as = decode(data, label, encoding)
    text, sep_line = _excel_sep_line(text)
    delimiter = delimiter or sep_line
    candidates = [delimiter] if delimiter else _delimiter_candidates(text)

    def match(header: list[str]) -> tuple[dict[str, int], list[str]]:
        if fit is not None:
            return fit(header)
        return map_columns(header, columns, mapping or {}, label)

    for cand in candidates:
        header_line, header = _header(text, cand, label)
        try:
            found, ignored = match(header)
        except InvalidInput:
            continue
        delimiter = cand
        break
    else:  # nothing fits: report the columns under the likeliest delimiter
        delimiter = candidates[0]
        header_line, header = _header(text, delimiter, label)
        found, ignored = match(header)
    return CsvFile(
        label=label,
        text=text,
        encoding=used,
        encoding_guessed=guessed,
        write_encoding=write_as,
        delimiter=delimiter,
        header=header,
        header_line=header_line,
        columns=found,
        ignored=ignored,
    )


def _read_bytes(path: Path, label: str) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InvalidInput(f"no such file: {label}") from None
    except IsADirectoryError:
        raise InvalidInput(f"{label} is a folder, not a CSV file") from None
    except OSError as e:
        raise InvalidInput(f"can't read {label}: {e.strerror}") from None
    if data.startswith(b"PK\x03\x04"):
        raise InvalidInput(f"{label} is a spreadsheet workbook, not CSV: save it as CSV first")
    if not data.strip():
        raise InvalidInput(f"{label} is empty")
    return data


# -- encoding -------------------------------------------------------------------------------


def decode(data: bytes, label: str, encoding: str | None = None) -> tuple[str, str, bool, str]:
    """(text, encoding used, whether it was a guess, encoding to write back with)."""
    if encoding:
        return _decode_as(data, label, encoding)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode_as(data, label, "utf-16")
    bomless = _utf16_without_bom(data)
    if bomless:
        text, _, _, write_as = _decode_as(data, label, bomless)
        return text, bomless, True, write_as
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        bad = _line_of(data, e.start)
        good = _first_utf8_line(data)
        if good is not None:
            raise InvalidInput(
                f"{label} line {bad}: not UTF-8, though line {good} is: the file mixes"
                " encodings; save it as UTF-8, or pass --encoding to read all of it one way"
            ) from None
        guess = _cjk_encoding(data) or FALLBACK_ENCODING
        text, _, _, write_as = _decode_as(data, label, guess)
        return text, guess, True, write_as
    bom = data.startswith(codecs.BOM_UTF8)
    return text, "utf-8", False, "utf-8-sig" if bom else "utf-8"


def _decode_as(data: bytes, label: str, encoding: str) -> tuple[str, str, bool, str]:
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise InvalidInput(f"unknown encoding {encoding!r}: try utf-8, cp1252 or latin-1") from None
    if name == "utf-8" and data.startswith(codecs.BOM_UTF8):
        name = "utf-8-sig"
    try:
        text = data.decode(name)
    except UnicodeDecodeError as e:
        raise InvalidInput(
            f"{label} line {_line_of(data, e.start)}: not valid {encoding}"
            f" (byte 0x{data[e.start]:02x}); pass --encoding with the file's encoding"
        ) from None
    shown = "utf-8" if name == "utf-8-sig" else encoding
    return text, shown, False, name


def _utf16_without_bom(data: bytes) -> str | None:
    """ "utf-16-le"/"utf-16-be" for text that is plainly UTF-16 without a BOM: mostly
    ASCII, so every other byte is zero (and no zero elsewhere)."""
    sample = data[:4000]
    if len(sample) < 4 or len(sample) % 2:
        return None
    even, odd = sample[0::2], sample[1::2]
    half = len(sample) // 2
    if odd.count(0) > half * 0.6 and even.count(0) == 0:
        return "utf-16-le"
    if even.count(0) > half * 0.6 and odd.count(0) == 0:
        return "utf-16-be"
    return None


def _cjk_encoding(data: bytes) -> str | None:
    """The CJK encoding charset-normalizer reads `data` in, if that is what it finds."""
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000]).best()
    if best is None:
        return None
    name = codecs.lookup(best.encoding).name
    if name not in CJK_ENCODINGS:
        return None
    try:
        data.decode(name)
    except UnicodeDecodeError:
        return None
    return name


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _first_utf8_line(data: bytes) -> int | None:
    """The first line with characters beyond ASCII that reads as UTF-8, if any."""
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            continue
        return number
    return None


# -- delimiter and header -------------------------------------------------------------------


def _excel_sep_line(text: str) -> tuple[str, str | None]:
    """Excel's `sep=;` hint line: the text without it, and the delimiter it names. The line
    stays as a blank line so that line numbers still match the file."""
    m = re.match(r"sep=(.)[ \t]*(\r\n|\n|\r)", text)
    if not m:
        return text, None
    return m.group(2) + text[m.end() :], m.group(1)


def _records(text: str, delimiter: str, label: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True)
    start = line = 1
    try:
        for fields in reader:
            line, start = start, reader.line_num + 1
            if fields and (fields[0].strip() or any(f.strip() for f in fields)):
                yield line, fields
    except csv.Error as e:
        raise InvalidInput(f"{label} line {reader.line_num}: {e}") from None
    _check_last_record(text, delimiter, label, line)


def _check_last_record(text: str, delimiter: str, label: str, line: int) -> None:
    """A quote that never closes makes the csv module read the rest of the file as one
    field, silently: the last record, read again strictly, must end before the file does."""
    if '"' not in text:
        return
    tail = "".join(io.StringIO(text, newline="").readlines()[line - 1 :])
    strict = csv.reader(
        io.StringIO(tail, newline=""), delimiter=delimiter, skipinitialspace=True, strict=True
    )
    try:
        for _ in strict:
            pass
    except csv.Error as e:
        if "unexpected end of data" in str(e):
            raise InvalidInput(
                f'{label} line {line}: a quoted field never ends (a closing " is missing)'
            ) from None


def _header(text: str, delimiter: str, label: str) -> tuple[int, list[str]]:
    """The first non-blank row and its line."""
    for line, fields in _records(text, delimiter, label):
        return line, fields
    raise InvalidInput(f"{label} is empty")


def _delimiter_candidates(text: str) -> list[str]:
    """The delimiters to try, likeliest first: the Sniffer's pick over the first lines,
    then the others by how often they occur in the first line."""
    lines = [line for line in itertools.islice(io.StringIO(text, newline=""), SNIFF_LINES)]
    first = next((line for line in lines if line.strip()), "")
    ranked = sorted(DELIMITERS, key=lambda d: -first.count(d))
    try:
        sniffed = csv.Sniffer().sniff("".join(lines), delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        return ranked
    return [sniffed, *(d for d in ranked if d != sniffed)]


def normalize_header(name: str) -> str:
    """'Order_Date ', 'order-date', 'ORDER DATE' -> 'order date'; 'Währung' -> 'wahrung'."""
    return " ".join(re.sub(r"[_\-./:#]+", " ", fold(name)).split())


def map_pairs(specs: Iterable[str], example: str) -> Iterator[tuple[str, str]]:
    """The `COLUMN=field` pairs of `--map` options (repeatable, comma-separated), as
    (normalized header, lower-case field); `example` shows the form in the error."""
    for spec in specs:
        for pair in spec.split(","):
            if not pair.strip():
                continue
            header, sep, target = pair.rpartition("=")
            if not sep or not header.strip():
                raise InvalidInput(f"--map wants COLUMN=field pairs, e.g. {example}: {pair!r}")
            yield normalize_header(header), target.strip().lower()


def parse_mapping(specs: Iterable[str], columns: Sequence[Column]) -> dict[str, str]:
    """`--map Kunde=contact,Datum=date` (repeatable) -> {normalized header: field}."""
    fields = [c.name for c in columns]
    out: dict[str, str] = {}
    for header, target in map_pairs(specs, "Kunde=contact"):
        if target not in fields:
            raise InvalidInput(
                f"--map: {target!r} is not a field; the fields are {', '.join(fields)}"
            )
        if target in out.values():
            raise InvalidInput(f"--map names two columns for {target}")
        out[header] = target
    return out


def map_columns(
    header: list[str], columns: Sequence[Column], mapping: dict[str, str], label: str
) -> tuple[dict[str, int], list[str]]:
    """Each field's column index, and the names of the columns no field uses."""
    keys = [normalize_header(h) for h in header]
    shown = ", ".join(h.strip() for h in header if h.strip()) or "none"
    found: dict[str, int] = {}
    for key, target in mapping.items():
        if key not in keys:
            raise InvalidInput(f"{label} has no column {key!r} to --map (columns: {shown})")
        found[target] = keys.index(key)
    for col in columns:
        if col.name in found:
            continue
        for name in (col.name, *col.synonyms):
            hits = [i for i, k in enumerate(keys) if k == name and i not in found.values()]
            if hits:
                found[col.name] = hits[0]
                break
    missing = [c.name for c in columns if c.required and c.name not in found]
    if missing:
        what = missing[0] if len(missing) == 1 else f"{', '.join(missing[:-1])} or {missing[-1]}"
        raise InvalidInput(
            f"{label} has no {what} column (columns: {shown});"
            f" name {'it' if len(missing) == 1 else 'them'} with --map COLUMN={missing[0]}"
        )
    used = set(found.values())
    ignored = [h.strip() for i, h in enumerate(header) if i not in used and h.strip()]
    return found, ignored


class Unreadable(Exception):
    """A value a reader can't read; the reader makes it the row's `RowError`."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# -- writing rows back ----------------------------------------------------------------------


@dataclass
class ImportFile(Generic[R]):
    """A file read for an import: its rows, the rows it could not read, how it was read,
    and how to write the bad rows back in its own format (`rejects_suffix`)."""

    source: ContactImportSource
    rows: list[R]
    errors: list[RowError]
    write_rejects: Callable[[Output, list[RowError]], None]
    rejects_suffix: str  # ".csv", ".vcf", ".json"


def write_rejects(source: CsvFile, target: Output, errors: Sequence[RowError]) -> None:
    """The rejected rows as a CSV the user can fix and import again: `line` and `error`,
    then the original columns, in the file's own delimiter and encoding. Written whole,
    private and never over the store (`io.outputs`)."""
    originals = source.originals({e.line for e in errors})
    with opened(target, encoding=source.write_encoding, errors="replace") as f:
        out = csv.writer(f, delimiter=source.delimiter)
        out.writerow(["line", "error", *source.header])
        for e in errors:
            out.writerow([e.line, e.reason(), *originals.get(e.line, [])])


def write_json_rejects(
    originals: dict[int, Any], target: Output, errors: Sequence[RowError]
) -> None:
    """The rejected items of a JSON file as a JSON list to fix and import again: each
    object with its `line` and `error` first (an item that is no object as its `value`)."""
    out = []
    for e in errors:
        line, message, item = e.line, e.reason(), originals.get(e.line)
        out.append(
            {
                "line": line,
                "error": message,
                **(item if isinstance(item, dict) else {"value": item}),
            }
        )
    write_text(target, json.dumps(out, ensure_ascii=False, indent=2) + "\n", errors="replace")
