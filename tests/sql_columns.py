"""Checks every column that SQL in the source names against the schema, without running it.

The services write SQL by hand (no ORM on the quick paths), so a misspelled column used to
surface only when a test happened to run that query. This reads the source instead: every
string literal (f-strings with their `{...}` parts left blank) in a function that holds SQL,
and checks

- `alias.column` and `table.column`, the aliases taken from the FROM / JOIN / UPDATE /
  INSERT INTO clauses anywhere in the same function (queries are often built from pieces);
- the column list of `INSERT INTO table (a, b, ...)`;
- the assignments of `UPDATE table SET a = ..., b = ...`;

against `schema` (table name -> its columns). Tables the schema does not know (system
catalogs; not the WITH queries' names) are returned apart, not checked; names built at run
time (`{kind}_fts`) are skipped.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping, Set
from dataclasses import dataclass
from pathlib import Path

HOLE = "\x00"  # stands for an f-string's `{...}`: a name holding it is built at run time

_STARTS_SQL = re.compile(r"^\s*\(?\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b")
_SQLISH = re.compile(r"\b(SELECT|FROM|WHERE|JOIN|AND|OR|SET|ORDER BY|GROUP BY|VALUES|ON)\b|:\w")
_NAME = r"[A-Za-z_\x00][A-Za-z0-9_\x00]*"
_KEYWORDS = {
    "on", "where", "join", "left", "right", "inner", "outer", "cross", "using", "group",
    "order", "limit", "set", "values", "select", "as", "natural", "union", "returning",
    "having", "and", "or", "not", "in", "is", "full", "default", "window", "offset", "except",
}  # fmt: skip
_CTE = re.compile(rf"\b({_NAME})\s+AS\s*(?:NOT\s+)?(?:MATERIALIZED\s+)?\(", re.IGNORECASE)
_SOURCE = re.compile(
    rf"\b(?:FROM|JOIN|(?<!DO )UPDATE|INTO)\s+(?P<table>{_NAME})"
    rf"(?:\s+(?:AS\s+)?(?P<alias>{_NAME}))?",
    re.IGNORECASE,
)
_QUALIFIED = re.compile(rf"(?<![\w.\x00])(?P<q>{_NAME})\.(?P<col>{_NAME})\b")
_INSERT = re.compile(rf"\bINSERT\s+INTO\s+(?P<table>{_NAME})\s*\((?P<cols>[^)]*)\)", re.I)
_UPDATE = re.compile(
    rf"\bUPDATE\s+(?P<table>{_NAME})\s+SET\s+(?P<sets>.*?)(?=\bWHERE\b|\bRETURNING\b|\bFROM\b|$)",
    re.IGNORECASE | re.DOTALL,
)


@dataclass(frozen=True)
class Problem:
    """A column that SQL in `where` names and the schema does not have."""

    where: str  # file:line
    table: str
    column: str
    sql: str

    def __str__(self) -> str:
        return f"{self.where}: {self.table}.{self.column} does not exist in: {self.sql.strip()}"


def sql_strings(source: str) -> Iterator[tuple[int, list[tuple[int, str]]]]:
    """For each function (and the module body), its string literals: (line, text)."""
    tree = ast.parse(source)
    scopes: list[ast.AST] = [tree]
    scopes += [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    for scope in scopes:
        found: list[tuple[int, str]] = []
        for node in _own_nodes(scope):
            if isinstance(node, ast.JoinedStr):
                text = "".join(
                    v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else HOLE
                    for v in node.values
                )
                found.append((node.lineno, text))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.append((node.lineno, node.value))
        if any(_STARTS_SQL.match(text) for _, text in found):
            yield getattr(scope, "lineno", 1), found


def _own_nodes(scope: ast.AST) -> Iterator[ast.AST]:
    """The nodes of `scope`, not descending into nested functions (their own scopes)."""
    for child in ast.iter_child_nodes(scope):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        yield child
        if not isinstance(child, ast.JoinedStr):
            yield from _own_nodes(child)


def _split_top(text: str) -> list[str]:
    """`text` split at the commas outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def check_source(
    source: str, where: str, schema: Mapping[str, Set[str]]
) -> tuple[list[Problem], set[str]]:
    """(the columns SQL in `source` names that `schema` lacks, the tables it names that
    `schema` does not know)."""
    problems: list[Problem] = []
    unknown: set[str] = set()
    lower = {t.lower(): {c.lower() for c in cols} for t, cols in schema.items()}
    for _, strings in sql_strings(source):
        sql_texts = [(line, t) for line, t in strings if _STARTS_SQL.match(t) or _SQLISH.search(t)]
        aliases: dict[str, set[str]] = {}
        ctes = {m[1].lower() for _, text in sql_texts for m in _CTE.finditer(text)}
        for _, text in sql_texts:
            for m in _SOURCE.finditer(text):
                table = m["table"].lower()
                if HOLE in table:
                    continue
                if table not in lower:
                    if _STARTS_SQL.match(text) and table not in ctes:
                        unknown.add(table)
                    continue
                aliases.setdefault(table, set()).add(table)
                alias = (m["alias"] or "").lower()
                if alias and alias not in _KEYWORDS and HOLE not in alias:
                    aliases.setdefault(alias, set()).add(table)

        def missing(tables: Set[str], column: str) -> bool:
            return not any(column in lower[t] for t in tables)

        for line, text in sql_texts:
            spot = f"{where}:{line}"
            for m in _QUALIFIED.finditer(text):
                q, col = m["q"].lower(), m["col"].lower()
                if HOLE in q or HOLE in col or col == "*" or q not in aliases:
                    continue
                if missing(aliases[q], col):
                    problems.append(Problem(spot, "|".join(sorted(aliases[q])), col, text))
            for m in _INSERT.finditer(text):
                table = m["table"].lower()
                if table not in lower:
                    continue
                for part in _split_top(m["cols"]):
                    col = part.strip().lower()
                    if col and HOLE not in col and col not in lower[table]:
                        problems.append(Problem(spot, table, col, text))
            for m in _UPDATE.finditer(text):
                table = m["table"].lower()
                if table not in lower:
                    continue
                for part in _split_top(m["sets"]):
                    assign = re.match(rf"\s*({_NAME})\s*=", part)
                    if assign is None:
                        continue
                    col = assign[1].lower()
                    if HOLE not in col and col not in lower[table]:
                        problems.append(Problem(spot, table, col, text))
    return problems, unknown


def check_tree(root: Path, schema: Mapping[str, Set[str]]) -> tuple[list[Problem], set[str]]:
    """check_source() over every .py file under `root`."""
    problems: list[Problem] = []
    unknown: set[str] = set()
    for path in sorted(root.rglob("*.py")):
        found, tables = check_source(path.read_text(encoding="utf-8"), str(path), schema)
        problems += found
        unknown |= tables
    return problems, unknown
