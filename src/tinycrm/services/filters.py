"""The filter language of `--where`, saved views and the app's filter bar: one hand-written
parser (recursive descent) to a small AST, compiled to a portable SQL condition with named
parameters. The grammar and every attribute are documented in docs/cli.md ("Filters").

    filter    = or-expr
    or-expr   = and-expr { "or" and-expr }
    and-expr  = unary { [ "and" ] unary }
    unary     = "not" unary | "(" or-expr ")" | condition
    condition = attribute operator value
    operator  = "=" | "!=" | "<" | "<=" | ">" | ">=" | ":"

A condition is never NULL in SQL (each guards its column), so `not` means exactly "the
rest". Attributes that are not built in go to a custom-field resolver (`FieldResolver`),
by default `custom_fields` below."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Protocol

from tinycrm.errors import InvalidInput
from tinycrm.services.context import Ctx
from tinycrm.services.fields import condition_sql, field_names
from tinycrm.services.validation import normalize_tags
from tinycrm.text import fold, phone_key

ENTITIES = ("contacts", "deals", "companies")
OPERATORS = ("=", "!=", "<", "<=", ">", ">=", ":")
KEYWORDS = ("and", "or", "not")
MAX_LENGTH = 2000  # characters of one filter


class FieldResolver(Protocol):
    """Custom fields: a SQL condition true for the rows of `entity` (contact, company or
    deal) whose id is the SQL expression `id_column` and whose field `name` satisfies `op`
    against the typed `value`, with parameters named with `prefix`; None for no such field."""

    def __call__(
        self, ctx: Ctx, entity: str, id_column: str, name: str, op: str, value: str, prefix: str
    ) -> tuple[str, dict[str, object]] | None: ...


#: The custom-field resolver `compile_filter` uses when it is given none, and the names it
#: lists in "unknown attribute" errors: the one place custom fields are wired in.
custom_fields: FieldResolver | None = condition_sql
custom_field_names: Callable[[Ctx, str], list[str]] | None = field_names


class FilterSyntaxError(InvalidInput):
    """A filter that can't be read or compiled, with the 1-based column where it went
    wrong (the app's filter bar points at it)."""

    def __init__(self, text: str, column: int, problem: str, message: str | None = None) -> None:
        super().__init__(message or f"filter {text!r} at column {column}: {problem}")
        self.column = column
        self.problem = problem


# -- the AST ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Condition:
    attribute: str  # as typed
    op: str
    value: str  # unquoted
    column: int  # 1-based, where the attribute starts
    value_column: int


@dataclass(frozen=True)
class Not:
    inner: Node


@dataclass(frozen=True)
class All:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Any_:
    parts: tuple[Node, ...]


Node = Condition | Not | All | Any_


# -- parsing ---------------------------------------------------------------------------------
_STOP = set(" \t\r\n()\"'")
_OP_CHARS = set("=!<>:")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0

    def fail(self, problem: str, at: int | None = None) -> FilterSyntaxError:
        return FilterSyntaxError(self.text, (self.i if at is None else at) + 1, problem)

    def end_column(self) -> int:
        return len(self.text.rstrip())

    def skip(self) -> None:
        while self.i < len(self.text) and self.text[self.i].isspace():
            self.i += 1

    def at_end(self) -> bool:
        self.skip()
        return self.i >= len(self.text)

    def keyword(self, word: str) -> bool:
        """Whether `word` (a whole word, any case) comes next; consumes it if so."""
        self.skip()
        end = self.i + len(word)
        if self.text[self.i : end].lower() != word:
            return False
        if end < len(self.text) and not (self.text[end].isspace() or self.text[end] in "()"):
            return False
        self.i = end
        return True

    def parse(self) -> Node:
        if self.at_end():
            raise self.fail("expected a condition such as tag:vip", 0)
        node = self.or_expr()
        if not self.at_end():
            if self.text[self.i] == ")":
                raise self.fail("unexpected ')': no '(' is open")
            raise self.fail(f"unexpected {self.text[self.i]!r}")
        return node

    def or_expr(self) -> Node:
        parts = [self.and_expr()]
        while self.keyword("or"):
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else Any_(tuple(parts))

    def and_expr(self) -> Node:
        parts = [self.unary()]
        while True:
            if self.at_end() or self.text[self.i] == ")":
                break
            save = self.i
            if self.keyword("or"):
                self.i = save
                break
            self.keyword("and")
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else All(tuple(parts))

    def unary(self) -> Node:
        if self.keyword("not"):
            return Not(self.unary())
        if self.at_end():
            raise self.fail("expected a condition", self.end_column())
        if self.text[self.i] == "(":
            opened = self.i
            self.i += 1
            if self.at_end():
                raise self.fail("expected a condition", self.end_column())
            node = self.or_expr()
            if self.at_end():
                raise self.fail(
                    f"expected ')' to close the '(' at column {opened + 1}", self.end_column()
                )
            if self.text[self.i] != ")":
                raise self.fail(f"unexpected {self.text[self.i]!r}")
            self.i += 1
            return node
        return self.condition()

    def condition(self) -> Condition:
        start = self.i
        while self.i < len(self.text) and (
            self.text[self.i].isalnum() or self.text[self.i] in "_-."
        ):
            self.i += 1
        if self.i == start:
            raise self.fail(f"expected an attribute name, not {self.text[self.i]!r}")
        attribute = self.text[start : self.i]
        self.skip()
        op_at = self.i
        op = ""
        while self.i < len(self.text) and self.text[self.i] in _OP_CHARS and len(op) < 2:
            op += self.text[self.i]
            self.i += 1
        if op not in OPERATORS:
            if not op:
                raise self.fail(
                    f"expected an operator (= != < <= > >= :) after {attribute!r}",
                    op_at if op_at < len(self.text) else self.end_column(),
                )
            raise self.fail(f"{op!r} is not an operator (= != < <= > >= :)", op_at)
        self.skip()
        if self.i >= len(self.text):
            raise self.fail("expected a value", self.end_column())
        value_at = self.i
        quote = self.text[self.i]
        if quote in "\"'":
            value = self.quoted(quote)
        else:
            while self.i < len(self.text) and self.text[self.i] not in _STOP:
                self.i += 1
            value = self.text[value_at : self.i]
            if not value:
                raise self.fail("expected a value")
        return Condition(attribute, op, value, start + 1, value_at + 1)

    def quoted(self, quote: str) -> str:
        opened = self.i
        self.i += 1
        out: list[str] = []
        while self.i < len(self.text):
            ch = self.text[self.i]
            if ch == "\\" and self.i + 1 < len(self.text):
                out.append(self.text[self.i + 1])
                self.i += 2
                continue
            if ch == quote:
                self.i += 1
                return "".join(out)
            out.append(ch)
            self.i += 1
        raise self.fail(f"the quote at column {opened + 1} is never closed", self.end_column())


def parse(text: str) -> Node:
    """The AST of a filter; FilterSyntaxError (InvalidInput) naming the column otherwise."""
    if len(text) > MAX_LENGTH:
        raise InvalidInput(f"a filter is at most {MAX_LENGTH} characters, not {len(text):,}")
    return _Parser(text).parse()


# -- attributes ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Attribute:
    """A built-in attribute: its kind (how values are read and compared) and its SQL: a
    column expression, or for `method`/`tag`/`ref` kinds what they look in."""

    name: str
    # key | text | method | ref | owner | stage | tag | time | day | number | money | bool
    # | status
    kind: str
    sql: str
    help: str


def _a(name: str, kind: str, sql: str, help: str) -> Attribute:
    return Attribute(name, kind, sql, help)


_PURCHASE_SUM = "(SELECT coalesce(sum(p.amount_cents), 0) FROM purchases p WHERE p.contact_id = c.id AND p.currency = :{cur})"  # noqa: E501

ATTRIBUTES: dict[str, dict[str, Attribute]] = {
    "contacts": {
        a.name: a
        for a in (
            _a("name", "key", "c.name_key", "the contact's name"),
            _a("title", "text", "c.title", "job title"),
            _a("company", "ref", "companies:c.company_id", "the company's name"),
            _a("email", "method", "email", "any of the contact's emails"),
            _a("phone", "method", "phone", "any of the contact's phones (digits compared)"),
            _a("address", "method", "address", "any of the contact's addresses"),
            _a("source", "text", "c.source", "where the contact came from"),
            _a("notes", "text", "c.notes", "the contact's notes"),
            _a("consent", "text", "c.consent", "the consent recorded"),
            _a("owner", "owner", "c.owner_id", "the owning user (me: you)"),
            _a("tag", "tag", "c.id", "has this tag"),
            _a("created", "time", "c.created_at", "when the contact was added"),
            _a("updated", "time", "c.updated_at", "when the contact was last changed"),
            _a("last-contact", "time", "c.last_touch_at", "the last note, call, email or meeting"),
            _a("touch-due", "time", "c.touch_due_at", "when staying in touch falls due"),
            _a("cadence", "number", "c.cadence_days", "stay-in-touch days of its own"),
            _a("opted-out", "bool", "c.opted_out_at", "asked not to be contacted (yes/no)"),
            _a("spent", "money", _PURCHASE_SUM, "purchases less refunds, in one currency"),
            _a(
                "orders",
                "number",
                "(SELECT count(*) FROM purchases p WHERE p.contact_id = c.id"
                " AND p.amount_cents >= 0)",
                "how many orders (refunds not counted)",
            ),
            _a(
                "last-purchase",
                "day",
                "(SELECT max(p.purchased_on) FROM purchases p WHERE p.contact_id = c.id"
                " AND p.amount_cents >= 0)",
                "the day of the latest order",
            ),
            _a(
                "open-deals",
                "number",
                "(SELECT count(*) FROM deals d WHERE d.contact_id = c.id AND d.status = 'open')",
                "how many open deals",
            ),
            _a("id", "number", "c.id", "the contact's id"),
        )
    },
    "deals": {
        a.name: a
        for a in (
            _a("title", "key", "d.title_key", "the deal's title"),
            _a("stage", "stage", "d.stage_id", "the stage's name"),
            _a("status", "status", "d.status", "open, won or lost"),
            _a("value", "money", "d.value_cents", "the deal's value (with a currency: only it)"),
            _a(
                "probability",
                "number",
                "coalesce(d.probability, (SELECT s.probability FROM stages s"
                " WHERE s.id = d.stage_id))",
                "percent: the deal's own, else its stage's",
            ),
            _a("close", "day", "d.expected_close", "the expected close day"),
            _a("closed", "time", "d.closed_at", "when it was won or lost"),
            _a("owner", "owner", "d.owner_id", "the owning user (me: you)"),
            _a("contact", "ref", "contacts:d.contact_id", "the contact's name"),
            _a("company", "ref", "companies:d.company_id", "the company's name"),
            _a("tag", "tag", "d.contact_id", "the deal's contact has this tag"),
            _a("lost-reason", "text", "d.lost_reason", "why it was lost"),
            _a("created", "time", "d.created_at", "when the deal was added"),
            _a("updated", "time", "d.updated_at", "when the deal was last changed"),
            _a("activity", "time", "d.activity_at", "the latest activity on it"),
            _a("rots", "time", "d.rots_at", "when it goes stale without activity"),
            _a("id", "number", "d.id", "the deal's id"),
        )
    },
    "companies": {
        a.name: a
        for a in (
            _a("name", "key", "co.name_key", "the company's name"),
            _a("domain", "text", "co.domain", "web domain"),
            _a("phone", "text", "co.phone", "phone"),
            _a("website", "text", "co.website", "website"),
            _a("notes", "text", "co.notes", "notes"),
            _a("owner", "owner", "co.owner_id", "the owning user (me: you)"),
            _a(
                "tag",
                "tag",
                "SELECT c.company_id FROM contacts c JOIN contact_tags t ON t.contact_id = c.id",
                "one of its people has this tag",
            ),
            _a(
                "contacts",
                "number",
                "(SELECT count(*) FROM contacts c WHERE c.company_id = co.id)",
                "how many people work there",
            ),
            _a(
                "open-deals",
                "number",
                "(SELECT count(*) FROM deals d WHERE d.company_id = co.id AND d.status = 'open')",
                "how many open deals it has",
            ),
            _a("created", "time", "co.created_at", "when the company was added"),
            _a("updated", "time", "co.updated_at", "when the company was last changed"),
            _a("id", "number", "co.id", "the company's id"),
        )
    },
}
#: Other spellings of built-in attributes.
ALIASES = {
    "last-touch": "last-contact",
    "touched": "last-contact",
    "tags": "tag",
    "expected-close": "close",
    "amount": "value",
}
#: The SQL expression of each entity's id (what custom fields are joined on).
ID_COLUMN = {"contacts": "c.id", "deals": "d.id", "companies": "co.id"}
_SINGULAR = {"contacts": "contact", "deals": "deal", "companies": "company"}


@dataclass(frozen=True)
class Filter:
    """A compiled filter: `sql` is a condition over the entity's rows (aliases `c`, `d`,
    `co` as `ID_COLUMN` says) using `params`, all named `wf…`."""

    entity: str
    text: str
    sql: str
    params: dict[str, Any]


def attribute_names(ctx: Ctx | None, entity: str) -> list[str]:
    """The attributes a filter of `entity` can name: built-ins, then custom fields."""
    names = list(ATTRIBUTES[entity])
    if ctx is not None and custom_field_names is not None:
        names += [n for n in custom_field_names(ctx, _SINGULAR[entity]) if n not in names]
    return names


def compile_filter(
    ctx: Ctx, entity: str, text: str, *, resolver: FieldResolver | None = None
) -> Filter:
    """Read `text` (the filter language) into a SQL condition over `entity` (contacts,
    deals or companies). Errors name the column: FilterSyntaxError (InvalidInput)."""
    if entity not in ENTITIES:
        raise InvalidInput(f"filters are of {', '.join(ENTITIES)}, not {entity!r}")
    tree = parse(text)
    compiler = _Compiler(ctx, entity, text, resolver or custom_fields)
    sql = compiler.node(tree)
    return Filter(entity, text, sql, compiler.params)


_TABLE = {"contacts": "contacts c", "deals": "deals d", "companies": "companies co"}


def within(compiled: Filter, id_expr: str) -> str:
    """SQL true when the id `id_expr` (of the filter's entity, in any query) matches it."""
    return (
        f"{id_expr} IN (SELECT {ID_COLUMN[compiled.entity]} FROM {_TABLE[compiled.entity]}"
        f" WHERE {compiled.sql})"
    )


def matching_ids(ctx: Ctx, compiled: Filter) -> set[int]:
    """The ids of every row the filter matches."""
    rows = ctx.db.all(
        f"SELECT {ID_COLUMN[compiled.entity]} AS id FROM {_TABLE[compiled.entity]}"
        f" WHERE {compiled.sql}",
        compiled.params,
    )
    return {int(r["id"]) for r in rows}


def mentions(compiled: Filter, names: tuple[str, ...]) -> bool:
    """Whether the filter names any of these built-in attributes (or their aliases)."""

    def walk(node: Node) -> bool:
        if isinstance(node, Condition):
            key = node.attribute.lower().replace("_", "-")
            return ALIASES.get(key, key) in names
        if isinstance(node, Not):
            return walk(node.inner)
        return any(walk(p) for p in node.parts)

    return walk(parse(compiled.text))


def _like(value: str) -> str:
    escaped = value.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return f"%{escaped}%"


def _ascii_lower(value: str) -> str:
    return "".join(ch.lower() if ch.isascii() else ch for ch in value)


_YES = {
    "yes": True,
    "y": True,
    "true": True,
    "1": True,
    "no": False,
    "n": False,
    "false": False,
    "0": False,
}


class _Compiler:
    def __init__(self, ctx: Ctx, entity: str, text: str, resolver: FieldResolver | None):
        self.ctx = ctx
        self.db = ctx.db
        self.entity = entity
        self.text = text
        self.resolver = resolver
        self.params: dict[str, Any] = {}

    def fail(self, column: int, problem: str) -> FilterSyntaxError:
        return FilterSyntaxError(self.text, column, problem)

    def param(self, value: Any) -> str:
        name = f"wf{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def node(self, node: Node) -> str:
        if isinstance(node, Condition):
            return f"({self.condition(node)})"
        if isinstance(node, Not):
            return f"(NOT {self.node(node.inner)})"
        joiner = " AND " if isinstance(node, All) else " OR "
        return "(" + joiner.join(self.node(p) for p in node.parts) + ")"

    def condition(self, c: Condition) -> str:
        key = c.attribute.lower().replace("_", "-")
        key = ALIASES.get(key, key)
        attr = ATTRIBUTES[self.entity].get(key)
        if attr is None:
            return self.custom(c)
        positive = self.compare(attr, c, "=" if c.op == "!=" else c.op)
        return f"NOT ({positive})" if c.op == "!=" else positive

    def custom(self, c: Condition) -> str:
        if self.resolver is not None:
            prefix = f"wf{len(self.params)}_"
            op = "=" if c.op == ":" else c.op
            try:
                found = self.resolver(
                    self.ctx,
                    _SINGULAR[self.entity],
                    ID_COLUMN[self.entity],
                    c.attribute,
                    op,
                    c.value,
                    prefix,
                )
            except FilterSyntaxError:
                raise
            except InvalidInput as e:  # a value the field's type can't take
                raise self.fail(c.value_column, str(e)) from None
            if found is not None:
                sql, params = found
                self.params.update(params)
                return f"({sql})"
        known = ", ".join(attribute_names(self.ctx, self.entity))
        raise FilterSyntaxError(
            self.text,
            c.column,
            f"unknown attribute {c.attribute!r} (known: {known})",
            f"unknown attribute {c.attribute!r} at column {c.column} (known: {known})",
        )

    # each returns a condition that is never NULL, for op in = < <= > >= :
    def compare(self, attr: Attribute, c: Condition, op: str) -> str:
        kind, col, v = attr.kind, attr.sql, c.value
        if op in ("<", "<=", ">", ">=") and kind not in ("time", "day", "number", "money"):
            raise self.fail(
                c.column + len(c.attribute),
                f"{attr.name} is not a number, amount or date: use = != or :",
            )
        empty = v.strip() == ""
        if kind in ("key", "text"):
            if empty:
                return f"{col} IS NULL OR {col} = ''"
            if kind == "key":
                needle = fold(v)
                if op == ":":
                    return f"{col} LIKE {self.param(_like(needle))} ESCAPE '!'"
                return f"{col} = {self.param(needle)}"
            if op == ":":
                return f"{col} IS NOT NULL AND " + self.db.like_any_case(
                    col, self.param(_like(_ascii_lower(v)))[1:]
                )
            return f"{col} IS NOT NULL AND lower({col}) = {self.param(_ascii_lower(v))}"
        if kind == "method":
            # one pass over the methods, not a lookup per contact: a contains match
            # (LIKE '%…%') can't use an index either way. `kind || ''`: not through the
            # (kind, match_key) index, which reads every email of the store a row at a time
            methods = (
                "SELECT m.contact_id FROM contact_methods m WHERE m.kind || '' = " + self.param(col)
            )
            if empty:
                return f"c.id NOT IN ({methods})"
            if col == "phone":
                digits = phone_key(v).lstrip("+")
                if not digits:
                    raise self.fail(c.value_column, f"a phone needs digits: {v!r}")
                match = (
                    f"m.value_key LIKE {self.param(_like(digits))} ESCAPE '!'"
                    if op == ":"
                    else f"(m.value_key = {self.param(digits)} OR m.value_key = "
                    f"{self.param('+' + digits)})"
                )
            elif op == ":":
                match = self.db.like_any_case("m.value", self.param(_like(_ascii_lower(v)))[1:])
            else:
                match = f"lower(m.value) = {self.param(_ascii_lower(v))}"
            return f"c.id IN ({methods} AND {match})"
        if kind == "ref":
            table, _, column = col.partition(":")
            if empty:
                return f"{column} IS NULL"
            needle = fold(v)
            match = (
                f"name_key LIKE {self.param(_like(needle))} ESCAPE '!'"
                if op == ":"
                else f"name_key = {self.param(needle)}"
            )
            where = f"{column} IN (SELECT id FROM {table} WHERE {match})"
            if table == "companies" and self.entity == "deals":
                # a deal is with a company directly or through its contact
                where = (
                    f"({where} OR d.contact_id IN (SELECT id FROM contacts WHERE company_id IN"
                    f" (SELECT id FROM companies WHERE {match})))"
                )
            return f"{column} IS NOT NULL AND {where}"
        if kind in ("owner", "stage"):
            if empty:
                return f"{col} IS NULL"
            ids = self.named_ids(kind, c)
            return f"{col} IS NOT NULL AND {col} IN ({', '.join(self.param(i) for i in ids)})"
        if kind == "tag":
            # `col` is what carries the tags: the contact's id, the deal's contact, or for a
            # company the ids of companies whose people are tagged (a SELECT)
            if col.startswith("SELECT"):
                tagged = f"{col} WHERE c.company_id IS NOT NULL"
                holder = "co.id"
            else:
                tagged = "SELECT contact_id FROM contact_tags t WHERE 1 = 1"
                holder = col
            if empty:
                return f"{holder} IS NULL OR {holder} NOT IN ({tagged})"
            tags = normalize_tags([v])
            if len(tags) != 1:
                raise self.fail(c.value_column, f"one tag at a time, not {v!r}")
            return (
                f"{holder} IS NOT NULL AND {holder} IN ({tagged} AND t.tag = {self.param(tags[0])})"
            )
        if kind == "status":
            word = v.strip().lower()
            if word not in ("open", "won", "lost"):
                raise self.fail(c.value_column, f"status is open, won or lost, not {v!r}")
            return f"{col} = {self.param(word)}"
        if kind == "bool":
            if v.strip().lower() not in _YES:
                raise self.fail(c.value_column, f"{attr.name} is yes or no, not {v!r}")
            return f"{col} IS {'NOT ' if _YES[v.strip().lower()] else ''}NULL"
        if kind in ("number", "money"):
            if empty:
                if kind == "number" and not col.startswith("("):
                    return f"{col} IS NULL"
                raise self.fail(c.value_column, f"expected a number for {attr.name}")
            if kind == "number":
                try:
                    n: int = int(v.replace(",", "").replace("_", ""))
                except ValueError:
                    raise self.fail(c.value_column, f"expected a whole number, not {v!r}") from None
                currency = None
            else:
                from tinycrm.money import parse_money

                try:
                    typed = parse_money(v, field=attr.name, allow_negative=True)
                except InvalidInput as e:
                    raise self.fail(c.value_column, str(e)) from None
                n, currency = typed.cents, typed.currency
            sql_op = "=" if op == ":" else op
            if "{cur}" in col:
                name = self.param(currency or self.ctx.currency)[1:]
                return f"{col.format(cur=name)} {sql_op} {self.param(n)}"
            out = f"{col} IS NOT NULL AND {col} {sql_op} {self.param(n)}"
            if currency is not None and self.entity == "deals":
                out += f" AND d.currency = {self.param(currency)}"
            return out
        # time and day: the value is a day (local); compared with its bounds
        if empty:
            return f"{col} IS NULL"
        day = self.day(c)
        if kind == "day":
            lo, hi = self.db.day(day), self.db.day(day + timedelta(days=1))
        else:
            lo, hi = self.db.ts(self.midnight(day)), self.db.ts(self.midnight(day + timedelta(1)))
        if op in ("=", ":"):
            return f"{col} IS NOT NULL AND {col} >= {self.param(lo)} AND {col} < {self.param(hi)}"
        bound, sql_op = {"<": (lo, "<"), "<=": (hi, "<"), ">": (hi, ">="), ">=": (lo, ">=")}[op]
        return f"{col} IS NOT NULL AND {col} {sql_op} {self.param(bound)}"

    def midnight(self, day: date) -> datetime:
        from datetime import UTC

        return datetime.combine(day, time(0), tzinfo=self.ctx.tz).astimezone(UTC)

    def day(self, c: Condition) -> date:
        from tinycrm.dates import parse_date

        today = self.ctx.now.astimezone(self.ctx.tz).date()
        try:
            return parse_date(c.value, today=today, past=True)
        except InvalidInput:
            raise self.fail(
                c.value_column, f'expected a day (2027-03-01, "last month"), not {c.value!r}'
            ) from None

    def named_ids(self, kind: str, c: Condition) -> list[int]:
        table = "users" if kind == "owner" else "stages"
        rows = self.db.all(f"SELECT id, name FROM {table} ORDER BY id")
        wanted = self.ctx.user_name if kind == "owner" and c.value.lower() == "me" else c.value
        ids = [int(r["id"]) for r in rows if fold(r["name"]) == fold(wanted)]
        if not ids:
            what = "user" if kind == "owner" else "stage"
            names = ", ".join(str(r["name"]) for r in rows) or "none yet"
            raise self.fail(
                c.value_column,
                f"no {what} called {wanted!r} ({'users' if kind == 'owner' else 'stages'}:"
                f" {names})",
            )
        return ids
