"""The filter language: syntax errors point at their column; compiled SQL agrees with a
naive Python evaluator on random stores and random expressions (hypothesis), on SQLite
and PostgreSQL; custom fields go through the resolver it is given."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinycrm.dates import parse_date
from tinycrm.errors import InvalidInput
from tinycrm.services import filters
from tinycrm.services.context import Ctx
from tinycrm.services.filters import FilterSyntaxError, compile_filter
from tinycrm.text import fold


@pytest.mark.parametrize(
    ("text", "column", "problem"),
    [
        ("a = ", 4, "expected a value"),
        ("tag:", 5, "expected a value"),
        ("", 1, "expected a condition such as tag:vip"),
        ("(tag:vip", 9, "expected ')' to close the '(' at column 1"),
        ("tag:vip)", 8, "unexpected ')': no '(' is open"),
        ("tag:vip or", 11, "expected a condition"),
        ("not", 4, "expected a condition"),
        ("name ~ x", 6, "expected an operator (= != < <= > >= :) after 'name'"),
        ("name =< x", 6, "'=<' is not an operator (= != < <= > >= :)"),
        ("tag:vip bob", 12, "expected an operator (= != < <= > >= :) after 'bob'"),
        ('name="Ann', 10, "the quote at column 6 is never closed"),
        ("=3", 1, "expected an attribute name, not '='"),
        ("nope=3", 1, "unknown attribute 'nope' (known: name, title, company"),
        ("name<3", 5, "name is not a number, amount or date: use = != or :"),
        ("orders>many", 8, "expected a whole number, not 'many'"),
        ("created>someday", 9, "expected a day"),
        ("owner:nobody", 7, "no user called 'nobody' (users: sam)"),
        ("opted-out=maybe", 11, "opted-out is yes or no, not 'maybe'"),
    ],
)
def test_a_bad_filter_names_its_column(ctx: Ctx, text: str, column: int, problem: str) -> None:
    with pytest.raises(FilterSyntaxError) as e:
        compile_filter(ctx, "contacts", text)
    assert e.value.column == column
    assert e.value.problem.startswith(problem), e.value.problem
    if not problem.startswith("unknown attribute"):
        assert str(e.value).startswith(f"filter {text!r} at column {column}: ")


def test_a_stage_or_status_that_does_not_exist_is_named(ctx: Ctx) -> None:
    with pytest.raises(FilterSyntaxError, match=r"column 7: no stage called 'Nope' \(stages: Lead"):
        compile_filter(ctx, "deals", "stage:Nope")
    with pytest.raises(FilterSyntaxError, match="status is open, won or lost, not 'done'"):
        compile_filter(ctx, "deals", "status=done")


def test_keywords_are_words_not_prefixes(ctx: Ctx) -> None:
    tree = filters.parse("notes:x orders>1 OR NOT(tag:vip)")
    assert tree == filters.Any_(
        (
            filters.All(
                (
                    filters.Condition("notes", ":", "x", 1, 7),
                    filters.Condition("orders", ">", "1", 9, 16),
                )
            ),
            filters.Not(filters.Condition("tag", ":", "vip", 25, 29)),
        )
    )
    assert filters.parse("name = 'O\\'Brien (UK)'") == filters.Condition(
        "name", "=", "O'Brien (UK)", 1, 8
    )


def test_too_long_a_filter_is_refused(ctx: Ctx) -> None:
    with pytest.raises(InvalidInput, match="at most 2000 characters"):
        compile_filter(ctx, "contacts", "tag:a " * 400)


# -- custom fields through the resolver ---------------------------------------------------------
def test_an_unknown_attribute_goes_to_the_resolver(ctx: Ctx) -> None:
    """A small real resolver over a table made here: the compiler hands it the entity, the
    id column, the name, the operator (':' as '='), the value and a parameter prefix."""
    db = ctx.db
    with db.write():
        db.execute("CREATE TABLE test_field_values (entity_id INTEGER, name TEXT, num INTEGER)")
    try:
        from tinycrm.services import contacts

        ids = [contacts.add_contact(ctx, name=n) for n in ("Ann", "Bob", "Cy")]
        with db.write():
            for cid, n in zip(ids, (50, 150, 300), strict=True):
                db.execute(
                    "INSERT INTO test_field_values VALUES (:c, 'employees', :n)",
                    {"c": cid, "n": n},
                )
        calls: list[tuple[str, str, str, str, str]] = []

        def resolver(
            ctx: Ctx, entity: str, id_column: str, name: str, op: str, value: str, prefix: str
        ) -> tuple[str, dict[str, object]] | None:
            calls.append((entity, id_column, name, op, value))
            if entity != "contact" or name != "employees":
                return None
            return (
                f"{id_column} IN (SELECT entity_id FROM test_field_values"
                f" WHERE name = :{prefix}n AND num {op} :{prefix}v)",
                {f"{prefix}n": name, f"{prefix}v": int(value)},
            )

        def ids_of(text: str) -> list[int]:
            f = compile_filter(ctx, "contacts", text, resolver=resolver)
            rows = db.all(f"SELECT c.id FROM contacts c WHERE {f.sql} ORDER BY c.id", f.params)
            return [r["id"] for r in rows]

        assert ids_of("employees>100") == ids[1:]
        assert ids_of("employees:50 or (employees>=300 and name:cy)") == [ids[0], ids[2]]
        assert ids_of("not employees>100") == ids[:1]
        assert calls[0] == ("contact", "c.id", "employees", ">", "100")
        assert calls[1][3] == "="  # ':' reaches a custom field as '='
        with pytest.raises(
            FilterSyntaxError, match="^unknown attribute 'industry' at column 1 .known: name,"
        ):
            compile_filter(ctx, "contacts", "industry=retail", resolver=resolver)
        with pytest.raises(FilterSyntaxError, match="^unknown attribute 'industry' at column 1 "):
            compile_filter(ctx, "contacts", "industry=retail")  # no resolver at all
    finally:
        with db.write():
            db.execute("DROP TABLE test_field_values")


# -- random stores against a naive evaluator ----------------------------------------------------
NAMES = ["Ann Lee", "ann  lee", "Bob", "Bo", "Émile Zoé", "Chen Wei", "O'Brien"]
TITLES = [None, "", "CEO", "ceo", "Buyer", "Head of Buying"]
FIRMS = [None, "Acme", "Acme GmbH", "Beta"]
TAGS = ["vip", "gold", "new"]
EMAILS = ["ann@x.com", "Bob@Y.org", "zoe@x.com"]
OWNERS = [None, "sam", "ann"]
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TZ = ZoneInfo("Europe/Berlin")


@dataclass
class FakeContact:
    name: str
    title: str | None
    firm: str | None
    owner: str | None
    tags: set[str]
    emails: list[str]
    created: datetime
    touched: datetime | None
    purchases: list[tuple[int, str]] = field(default_factory=list)  # cents, currency


@dataclass
class FakeDeal:
    title: str
    stage: str
    status: str
    cents: int
    currency: str
    owner: str | None
    close: date | None
    contact: int | None  # index into the contacts


# near the days the filters name, and late in the UTC day (already the next day in Berlin)
moments = st.builds(
    lambda d, h: (
        datetime.combine(NOW.date() + timedelta(days=d), datetime.min.time(), UTC)
        + timedelta(hours=h)
    ),
    st.sampled_from([-54, -53, -32, -31, -4, -3, -2, -1, 0]),
    st.sampled_from([0, 8, 22, 23]),
)
contacts_st = st.builds(
    FakeContact,
    name=st.sampled_from(NAMES),
    title=st.sampled_from(TITLES),
    firm=st.sampled_from(FIRMS),
    owner=st.sampled_from(OWNERS),
    tags=st.sets(st.sampled_from(TAGS)),
    emails=st.lists(st.sampled_from(EMAILS), max_size=2, unique=True),
    created=moments,
    touched=st.none() | moments,
    purchases=st.lists(
        st.tuples(st.integers(-3000, 9000), st.sampled_from(["EUR", "USD"])), max_size=3
    ),
)
STAGES = ["Lead", "Qualified", "Proposal"]
deals_st = st.builds(
    FakeDeal,
    title=st.sampled_from(["50 licences", "Renewal", "renewal 2027", "Pilot"]),
    stage=st.sampled_from(STAGES),
    status=st.sampled_from(["open", "won", "lost"]),
    cents=st.integers(0, 2_000_000),
    currency=st.sampled_from(["EUR", "USD"]),
    owner=st.sampled_from(OWNERS),
    close=st.none()
    | st.sampled_from([-54, -31, -3, -1, 0, 1, 39]).map(lambda d: NOW.date() + timedelta(days=d)),
    contact=st.none() | st.integers(0, 5),
)

DAY_WORDS = ["2026-11-20", "2026-10-01", "yesterday", "last month", "2026-11-23", "3d ago"]


def _value(choices: list[str]) -> st.SearchStrategy[str]:
    return st.sampled_from(choices)


# attribute -> (operators, values)
CONTACT_ATTRS: dict[str, tuple[list[str], list[str]]] = {
    "name": (["=", "!=", ":"], ["ann lee", "ANN LEE", "bo", "emile zoe", "Chen", "o'brien", "x"]),
    "title": (["=", "!=", ":"], ["ceo", "Buying", "", "head of"]),
    "company": (["=", "!=", ":"], ["acme", "Acme GmbH", "beta", "", "gmbh"]),
    "owner": (["=", "!=", ":"], ["sam", "ann", "me", ""]),
    "tag": ([":", "=", "!="], ["vip", "gold", "#NEW", ""]),
    "email": (["=", "!=", ":"], ["ann@x.com", "bob@y.org", "x.com", ""]),
    "created": (["=", "!=", "<", "<=", ">", ">="], DAY_WORDS),
    "last-contact": (["=", "<", ">=", ">", "!="], DAY_WORDS + [""]),
    "spent": (["=", ">", "<", ">=", "<="], ["0", "10", "-5", "$20", "50.5 usd", "€0"]),
    "orders": (["=", ">", "<="], ["0", "1", "2"]),
}
DEAL_ATTRS: dict[str, tuple[list[str], list[str]]] = {
    "title": (["=", "!=", ":"], ["renewal", "50 LICENCES", "2027", "pilot"]),
    "stage": ([":", "=", "!="], ["lead", "Proposal", "QUALIFIED"]),
    "status": ([":", "=", "!="], ["open", "won", "Lost"]),
    "value": (["=", ">", "<", ">=", "<="], ["5000", "$5,000", "0", "12000.50 eur"]),
    "close": (["=", "<", ">", ">=", "<=", "!="], DAY_WORDS + ["2027-01-01", ""]),
    "owner": ([":", "!="], ["sam", "ann", ""]),
    "contact": ([":", "="], ["ann lee", "bo", ""]),
    "tag": ([":", "!="], ["vip", "gold"]),
}


def _render(value: str, quote: bool) -> str:
    if quote or not value or any(ch in value for ch in " ()\"'"):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return value


def expressions(attrs: dict[str, tuple[list[str], list[str]]]) -> st.SearchStrategy[str]:
    @st.composite
    def condition(draw: st.DrawFn) -> str:
        name = draw(st.sampled_from(sorted(attrs)))
        ops, values = attrs[name]
        op = draw(st.sampled_from(ops))
        space = draw(st.sampled_from(["", " "]))
        return f"{name}{space}{op}{space}{_render(draw(_value(values)), draw(st.booleans()))}"

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        joined = st.tuples(
            inner, st.sampled_from([" and ", " or ", " ", " OR ", " AND "]), inner
        ).map(lambda t: f"({t[0]}{t[1]}{t[2]})")
        return joined | joined | inner.map(lambda e: f"not {e}") | inner.map(lambda e: f"NOT ({e})")

    return st.recursive(condition(), extend, max_leaves=6)


def _cmp(op: str, a: Any, b: Any) -> bool:
    return bool(
        {
            "=": a == b,
            ":": a == b,
            "<": a < b,
            "<=": a <= b,
            ">": a > b,
            ">=": a >= b,
        }[op]
    )


def _text(op: str, have: str | None, v: str) -> bool:
    if v == "":
        return not have
    if have is None:
        return False
    return v.lower() in have.lower() if op == ":" else have.lower() == v.lower()


def _key(op: str, have: str | None, v: str) -> bool:
    if v == "":
        return have is None
    if have is None:
        return False
    return fold(v) in fold(have) if op == ":" else fold(have) == fold(v)


def _day(v: str) -> date:
    return parse_date(v, today=NOW.astimezone(TZ).date(), past=True)


def _when(op: str, have: datetime | date | None, v: str) -> bool:
    if v == "":
        return have is None
    if have is None:
        return False
    day = have.astimezone(TZ).date() if isinstance(have, datetime) else have
    return _cmp(op, day, _day(v))


def _money(v: str) -> tuple[int, str | None]:
    from tinycrm.money import parse_money

    typed = parse_money(v, allow_negative=True)
    return typed.cents, typed.currency


def _owner(op: str, have: str | None, v: str) -> bool:
    if v == "":
        return have is None
    return have == ("sam" if v == "me" else v)


def eval_contact(c: FakeContact, attr: str, op: str, v: str) -> bool:
    if op == "!=":
        return not eval_contact(c, attr, "=", v)
    match attr:
        case "name":
            return _key(op, c.name, v)
        case "title":
            return _text(op, c.title, v)
        case "company":
            return _key(op, c.firm, v)
        case "owner":
            return _owner(op, c.owner, v)
        case "tag":
            return not c.tags if v == "" else fold(v).lstrip("#") in c.tags
        case "email":
            if v == "":
                return not c.emails
            return any(_text(op, e, v) for e in c.emails)
        case "created":
            return _when(op, c.created, v)
        case "last-contact":
            return _when(op, c.touched, v)
        case "spent":
            cents, cur = _money(v)
            return _cmp(op, sum(a for a, k in c.purchases if k == (cur or "EUR")), cents)
        case "orders":
            return _cmp(op, sum(1 for a, _k in c.purchases if a >= 0), int(v))
    raise AssertionError(attr)


def eval_deal(d: FakeDeal, people: list[FakeContact], attr: str, op: str, v: str) -> bool:
    if op == "!=":
        return not eval_deal(d, people, attr, "=", v)
    person = people[d.contact] if d.contact is not None and d.contact < len(people) else None
    match attr:
        case "title":
            return _key(op, d.title, v)
        case "stage":
            return fold(d.stage) == fold(v)
        case "status":
            return d.status == v.lower()
        case "value":
            cents, cur = _money(v)
            return _cmp(op, d.cents, cents) and (cur is None or cur == d.currency)
        case "close":
            return _when(op, d.close, v)
        case "owner":
            return _owner(op, d.owner, v)
        case "contact":
            return _key(op, person.name if person else None, v)
        case "tag":
            return person is not None and v in person.tags
    raise AssertionError(attr)


def evaluate(node: filters.Node, leaf: Any) -> bool:
    if isinstance(node, filters.Condition):
        return bool(leaf(node.attribute, node.op, node.value))
    if isinstance(node, filters.Not):
        return not evaluate(node.inner, leaf)
    results = [evaluate(p, leaf) for p in node.parts]
    return all(results) if isinstance(node, filters.All) else any(results)


def _fill(
    ctx: Ctx, people: list[FakeContact], deals: list[FakeDeal]
) -> tuple[list[int], list[int]]:
    """Write the random store with plain SQL (the filter reads columns, not services)."""
    db = ctx.db
    with db.write():
        for table in (
            "purchases",
            "deals",
            "contact_tags",
            "contact_methods",
            "contacts",
            "companies",
        ):
            db.execute(f"DELETE FROM {table}")
        db.execute("DELETE FROM users WHERE name <> 'sam'")
        users = {"sam": ctx.user_id}
        users["ann"] = db.insert(
            "INSERT INTO users (name, created_at) VALUES ('ann', :t) RETURNING id",
            {"t": db.ts(NOW)},
        )
        firms = {
            n: db.insert(
                "INSERT INTO companies (name, name_key, created_at, updated_at, version)"
                " VALUES (:n, :k, :t, :t, 1) RETURNING id",
                {"n": n, "k": fold(n), "t": db.ts(NOW)},
            )
            for n in FIRMS
            if n
        }
        ids = []
        for p in people:
            cid = db.insert(
                "INSERT INTO contacts (name, name_key, title, company_id, owner_id, created_at,"
                " updated_at, last_touch_at, version)"
                " VALUES (:n, :k, :title, :co, :o, :c, :c, :t, 1) RETURNING id",
                {
                    "n": p.name,
                    "k": fold(p.name),
                    "title": p.title,
                    "co": firms.get(p.firm or ""),
                    "o": users.get(p.owner or ""),
                    "c": db.ts(p.created),
                    "t": db.ts(p.touched),
                },
            )
            ids.append(cid)
            for t in p.tags:
                db.execute("INSERT INTO contact_tags VALUES (:c, :t)", {"c": cid, "t": t})
            for i, e in enumerate(p.emails):
                db.execute(
                    "INSERT INTO contact_methods (contact_id, kind, value, value_key, position)"
                    " VALUES (:c, 'email', :v, :k, :i)",
                    {"c": cid, "v": e, "k": e.lower(), "i": i},
                )
            for cents, cur in p.purchases:
                db.execute(
                    "INSERT INTO purchases (contact_id, purchased_on, amount_cents, currency,"
                    " created_at, version) VALUES (:c, :d, :a, :cur, :t, 1)",
                    {"c": cid, "d": db.day(NOW.date()), "a": cents, "cur": cur, "t": db.ts(NOW)},
                )
        stages = {r["name"]: r["id"] for r in db.all("SELECT id, name FROM stages")}
        deal_ids = []
        for d in deals:
            person = ids[d.contact] if d.contact is not None and d.contact < len(ids) else None
            deal_ids.append(
                db.insert(
                    "INSERT INTO deals (title, title_key, contact_id, value_cents, currency,"
                    " stage_id, owner_id, expected_close, status, stage_entered_at, created_at,"
                    " updated_at, version)"
                    " VALUES (:ti, :k, :c, :v, :cur, :s, :o, :close, :st, :t, :t, :t, 1)"
                    " RETURNING id",
                    {
                        "ti": d.title,
                        "k": fold(d.title),
                        "c": person,
                        "v": d.cents,
                        "cur": d.currency,
                        "s": stages[d.stage],
                        "o": users.get(d.owner or ""),
                        "close": db.day(d.close),
                        "st": d.status,
                        "t": db.ts(NOW),
                    },
                )
            )
    return ids, deal_ids


_PROPERTY = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@_PROPERTY
@given(
    people=st.lists(contacts_st, min_size=1, max_size=10),
    deals=st.lists(deals_st, max_size=8),
    contact_filters=st.lists(expressions(CONTACT_ATTRS), min_size=1, max_size=10),
    deal_filters=st.lists(expressions(DEAL_ATTRS), min_size=1, max_size=8),
)
def test_compiled_filters_agree_with_a_naive_evaluator(
    ctx: Ctx,
    people: list[FakeContact],
    deals: list[FakeDeal],
    contact_filters: list[str],
    deal_filters: list[str],
) -> None:
    assert ctx.now == NOW and str(ctx.tz) == str(TZ)
    ids, deal_ids = _fill(ctx, people, deals)
    _agree(ctx, people, deals, ids, deal_ids, contact_filters, deal_filters)


def _agree(
    ctx: Ctx,
    people: list[FakeContact],
    deals: list[FakeDeal],
    ids: list[int],
    deal_ids: list[int],
    contact_filters: list[str],
    deal_filters: list[str],
) -> None:
    for text in contact_filters:
        f = compile_filter(ctx, "contacts", text)
        got = {r["id"] for r in ctx.db.all(f"SELECT c.id FROM contacts c WHERE {f.sql}", f.params)}
        tree = filters.parse(text)
        want = {
            cid
            for cid, p in zip(ids, people, strict=True)
            if evaluate(tree, lambda a, o, v, p=p: eval_contact(p, a, o, v))
        }
        assert got == want, (text, f.sql, f.params)
    for text in deal_filters:
        f = compile_filter(ctx, "deals", text)
        got = {r["id"] for r in ctx.db.all(f"SELECT d.id FROM deals d WHERE {f.sql}", f.params)}
        tree = filters.parse(text)
        want = {
            did
            for did, d in zip(deal_ids, deals, strict=True)
            if evaluate(tree, lambda a, o, v, d=d: eval_deal(d, people, a, o, v))
        }
        assert got == want, (text, f.sql, f.params)


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=" ()\"'=!<>:abnotrdg-_.1\\", max_size=30))
def test_any_text_parses_or_fails_with_a_column_inside_it(text: str) -> None:
    """The parser never crashes on odd input: a tree, or an error pointing into the text."""
    try:
        filters.parse(text)
    except FilterSyntaxError as e:
        assert 1 <= e.column <= len(text) + 1


def test_every_condition_agrees_on_a_varied_store(ctx: Ctx) -> None:
    """Each single condition the strategies know (every attribute, operator and value),
    on one store drawn at random with a fixed seed: the leaves, every time, on both
    backends; the random test above combines them."""
    import random

    pick = random.Random(23)
    people = [
        FakeContact(
            name=pick.choice(NAMES),
            title=pick.choice(TITLES),
            firm=pick.choice(FIRMS),
            owner=pick.choice(OWNERS),
            tags={t for t in TAGS if pick.random() < 0.4},
            emails=pick.sample(EMAILS, pick.randint(0, 2)),
            created=NOW
            + timedelta(days=pick.choice([-54, -31, -3, -1, 0]), hours=-pick.choice([0, 9, 23])),
            touched=None
            if pick.random() < 0.3
            else NOW
            + timedelta(days=pick.choice([-53, -32, -4, -2, 0]), hours=-pick.choice([0, 11, 22])),
            purchases=[
                (pick.randint(-3000, 9000), pick.choice(["EUR", "USD"]))
                for _ in range(pick.randint(0, 3))
            ],
        )
        for _ in range(30)
    ]
    deals = [
        FakeDeal(
            title=pick.choice(["50 licences", "Renewal", "renewal 2027", "Pilot"]),
            stage=pick.choice(STAGES),
            status=pick.choice(["open", "won", "lost"]),
            cents=pick.choice([0, 500_000, 500_001, 1_200_050, 2_000_000]),
            currency=pick.choice(["EUR", "USD"]),
            owner=pick.choice(OWNERS),
            close=None
            if pick.random() < 0.3
            else NOW.date() + timedelta(days=pick.choice([-54, -31, -3, -1, 0, 1, 39])),
            contact=pick.choice([None, *range(30)]),
        )
        for _ in range(25)
    ]
    ids, deal_ids = _fill(ctx, people, deals)

    def leaves(attrs: dict[str, tuple[list[str], list[str]]]) -> list[str]:
        return [
            f"{name}{op}{_render(value, False)}"
            for name, (ops, values) in attrs.items()
            for op in ops
            for value in values
        ]

    _agree(ctx, people, deals, ids, deal_ids, leaves(CONTACT_ATTRS), leaves(DEAL_ATTRS))


def test_no_custom_field_can_take_a_built_in_attributes_name() -> None:
    """A field named like a built-in attribute could never be filtered on: the built-in
    wins. So every attribute and alias is one of the fields' reserved names."""
    from tinycrm.services.fields import RESERVED

    names = {n for attrs in filters.ATTRIBUTES.values() for n in attrs} | set(filters.ALIASES)
    assert {n.replace("-", "_") for n in names} - RESERVED == set()
