"""Custom fields (#23): definitions, typed values, and `condition_sql` (the seam the filter
language calls for any attribute that is not built in), run as real SQL on both backends
and checked against the values read back in Python."""

from __future__ import annotations

import operator
import random
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tinycrm.errors import InvalidInput, NotFound
from tinycrm.money import Money
from tinycrm.services import companies, contacts, deals, fields
from tinycrm.services.context import Ctx

OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _company_fields(ctx: Ctx) -> None:
    fields.add_field(ctx, "company", "industry", "choice", choices="Retail,Banking,Health")
    fields.add_field(ctx, "company", "employees", "number")
    fields.add_field(ctx, "company", "renewal", "date")
    fields.add_field(ctx, "company", "arr", "money")
    fields.add_field(ctx, "company", "partner", "bool")
    fields.add_field(ctx, "company", "region", "text")


def test_values_are_read_by_type_and_come_back_typed(ctx: Ctx) -> None:
    _company_fields(ctx)
    acme = companies.add_company(
        ctx,
        name="Acme",
        custom={
            "industry": "retail",  # choices match whatever the case
            "Employees": "1,200",
            "renewal": "2027-03-01",
            "arr": "$12,000.50",
            "partner": "Yes",
            "region": "Île-de-France",
        },
    )
    got = {v.name: v.value for v in companies.get_company(ctx.db, acme).fields}
    assert got == {
        "industry": "Retail",
        "employees": Decimal(1200),
        "renewal": date(2027, 3, 1),
        "arr": Money(1200050, "USD"),
        "partner": True,
        "region": "Île-de-France",
    }
    # relative dates through the WHEN language, from the store's today (2026-11-23)
    companies.edit_company(ctx, acme, custom={"renewal": "in 3 months"}, unset=["region"])
    got = {v.name: v.value for v in companies.get_company(ctx.db, acme).fields}
    assert got["renewal"] == date(2027, 2, 23)
    assert "region" not in got


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("industry", "farming", "industry must be one of Retail, Banking, Health: 'farming'"),
        ("employees", "lots", "employees must be a number, e.g. 120 or 12.5: 'lots'"),
        ("renewal", "someday soon", "renewal must be a date"),
        ("arr", "1.2.3", "arr is not a number: '1.2.3'"),
        ("partner", "maybe", "partner must be yes or no (true/false): 'maybe'"),
        ("sector", "x", "no company field 'sector' (its fields: industry, employees,"),
    ],
)
def test_a_value_that_does_not_fit_is_refused_and_nothing_is_written(
    ctx: Ctx, name: str, value: str, message: str
) -> None:
    _company_fields(ctx)
    with pytest.raises(InvalidInput) as e:
        companies.add_company(ctx, name="Acme", custom={name: value})
    assert message in str(e.value)
    assert companies.list_companies(ctx.db) == []


def test_required_fields_on_add_and_unset(ctx: Ctx) -> None:
    fields.add_field(
        ctx, "contact", "segment", "choice", choices="smb,mid,enterprise", required=True
    )
    with pytest.raises(InvalidInput, match="every contact needs segment: give --set segment="):
        contacts.add_contact(ctx, name="Alice Wong")
    alice = contacts.add_contact(ctx, name="Alice Wong", custom={"segment": "SMB"})
    with pytest.raises(InvalidInput, match="segment is required on every contact"):
        contacts.edit_contact(ctx, alice, unset=["segment"])
    contacts.edit_contact(ctx, alice, custom={"segment": "mid"})
    detail = contacts.get_contact(ctx.db, alice)
    assert [(v.name, v.value) for v in detail.fields] == [("segment", "mid")]
    assert detail.version == 2  # a field change is a change of the record


def test_names_are_checked(ctx: Ctx) -> None:
    for bad, message in (
        ("email", "'email' is a built-in attribute"),
        ("Owner", "'Owner' is a built-in attribute"),
        ("and", "'and' is a built-in attribute"),
        ("9lives", "a field name starts with a letter"),
        ("two words", "a field name starts with a letter"),
    ):
        with pytest.raises(InvalidInput, match=message):
            fields.add_field(ctx, "contact", bad, "text")
    fields.add_field(ctx, "contact", "行业", "text")  # any letters
    with pytest.raises(InvalidInput, match="contacts already have a field called"):
        fields.add_field(ctx, "contact", "行业", "number")
    fields.add_field(ctx, "deal", "行业", "text")  # another kind of record: another field
    with pytest.raises(InvalidInput, match="--type must be one of text, number"):
        fields.add_field(ctx, "deal", "size", "integer")
    with pytest.raises(InvalidInput, match="a choice field needs its choices"):
        fields.add_field(ctx, "deal", "size", "choice")
    with pytest.raises(InvalidInput, match="not 'lead'"):
        fields.add_field(ctx, "lead", "size", "text")


def test_edit_keeps_choices_in_use_and_reorders(ctx: Ctx) -> None:
    fields.add_field(ctx, "deal", "size", "choice", choices="small,medium,large")
    d = deals.add_deal(ctx, "Fleet", custom={"size": "medium"})
    with pytest.raises(InvalidInput, match="'medium' is the size of 1 deal; keep it"):
        fields.edit_field(ctx, "deal", "size", choices="small,large")
    fields.edit_field(ctx, "deal", "size", choices="Large,Medium,Small", new_name="tier")
    assert fields.record_ids(ctx, "deal", "tier", "<", "small") == [d.id]
    assert fields.record_ids(ctx, "deal", "tier", "<", "medium") == []
    (shown,) = deals.get_deal(ctx.db, d.id).fields or []
    assert (shown.name, shown.value) == ("tier", "Medium")  # the new spelling


def test_removing_a_field_takes_its_values_and_undo_brings_both_back(ctx: Ctx) -> None:
    from tinycrm.services import undo

    _company_fields(ctx)
    acme = companies.add_company(ctx, name="Acme", custom={"industry": "health"})
    assert fields.field_usage(ctx.db, "company", "industry").values == 1
    gone = fields.remove_field(ctx, "company", "industry")
    assert gone.values == 1
    assert companies.get_company(ctx.db, acme).fields == []
    with pytest.raises(NotFound):
        fields.field_usage(ctx.db, "company", "industry")
    undo.undo(ctx)
    assert [v.value for v in companies.get_company(ctx.db, acme).fields] == ["Health"]
    assert fields.record_ids(ctx, "company", "industry", "=", "HEALTH") == [acme]


def test_deleting_a_record_deletes_its_values(ctx: Ctx) -> None:
    fields.add_field(ctx, "contact", "level", "number")
    alice = contacts.add_contact(ctx, name="Alice Wong", custom={"level": "3"})
    contacts.delete_contact(ctx, alice)
    assert ctx.db.value("SELECT count(*) FROM custom_values") == 0


def _evaluate(have: Any, op: str, want: Any) -> bool:
    """The naive meaning of a condition: `!=` holds for no value; the others need one."""
    if have is None:
        return op == "!="
    return OPS[op](have, want)


def test_condition_sql_matches_a_naive_evaluator_on_random_records(ctx: Ctx) -> None:
    """Every type and operator, as SQL on the real store, against Python over the values
    read back; with two conditions in one query (the prefixes keep them apart)."""
    _company_fields(ctx)
    rng = random.Random(23)
    industries = ["Retail", "Banking", "Health"]
    stored: dict[int, dict[str, Any]] = {}
    for i in range(40):
        custom: dict[str, str] = {}
        if rng.random() < 0.8:
            custom["industry"] = rng.choice(industries).lower()
        if rng.random() < 0.8:
            custom["employees"] = str(rng.choice([5, 50, 100, 101, 2500, Decimal("12.5")]))
        if rng.random() < 0.8:
            custom["renewal"] = f"2027-0{rng.randint(1, 4)}-0{rng.randint(1, 3)}"
        if rng.random() < 0.8:
            custom["arr"] = rng.choice(["100", "2000.50", "$100", "50 usd"])
        if rng.random() < 0.8:
            custom["partner"] = rng.choice(["yes", "no"])
        if rng.random() < 0.8:
            custom["region"] = rng.choice(["north", "North", "south", "Éast"])
        cid = companies.add_company(ctx, name=f"Company {i}", custom=custom)
        stored[cid] = {v.name: v.value for v in companies.get_company(ctx.db, cid).fields}
    cases: list[tuple[str, str, Any]] = [
        ("industry", "retail", "Retail"),
        ("industry", "Banking", "Banking"),
        ("employees", "100", Decimal(100)),
        ("employees", "12.5", Decimal("12.5")),
        ("renewal", "2027-03-01", date(2027, 3, 1)),
        ("arr", "100", Money(10000, "EUR")),
        ("arr", "$100", Money(10000, "USD")),
        ("partner", "YES", True),
        ("region", "NORTH", "north"),
        ("region", "east", "east"),
    ]
    order = {"Retail": 0, "Banking": 1, "Health": 2}
    for name, text, want in cases:
        ops = ["=", "!="] if name == "partner" else list(OPS)
        for op in ops:
            expected = []
            for cid, values in stored.items():
                have = values.get(name)
                w = want
                if name == "industry" and op not in ("=", "!="):  # by the list's order
                    have = None if have is None else order[have]
                    w = order[want]
                elif name == "region" and have is not None:
                    have = have.lower().replace("é", "e")  # folded
                elif name == "arr" and have is not None and op not in ("=", "!="):
                    # amounts in another currency are neither more nor less
                    have, w = (have.cents if have.currency == want.currency else None), want.cents
                if _evaluate(have, op, w):
                    expected.append(cid)
            assert fields.record_ids(ctx, "company", name, op, text) == sorted(expected), (
                name,
                op,
                text,
            )
    one = fields.condition_sql(ctx, "company", "co.id", "industry", "=", "retail", "a_")
    two = fields.condition_sql(ctx, "company", "co.id", "employees", ">", "100", "b_")
    assert one is not None and two is not None
    rows = ctx.db.all(
        f"SELECT co.id FROM companies co WHERE {one[0]} AND {two[0]} ORDER BY co.id",
        {**one[1], **two[1]},
    )
    assert [r["id"] for r in rows] == [
        cid
        for cid, v in sorted(stored.items())
        if v.get("industry") == "Retail" and v.get("employees", 0) > 100
    ]


def test_condition_sql_for_an_unknown_field_or_a_bad_value(ctx: Ctx) -> None:
    _company_fields(ctx)
    assert fields.condition_sql(ctx, "company", "co.id", "sector", "=", "x", "p") is None
    assert fields.condition_sql(ctx, "contact", "c.id", "industry", "=", "x", "p") is None
    with pytest.raises(InvalidInput, match="industry must be one of Retail, Banking, Health"):
        fields.condition_sql(ctx, "company", "co.id", "industry", "=", "farming", "p")
    with pytest.raises(InvalidInput, match="partner is yes or no: compare it with = or !="):
        fields.condition_sql(ctx, "company", "co.id", "partner", ">", "yes", "p")
    assert fields.field_names(ctx, "company") == [
        "industry",
        "employees",
        "renewal",
        "arr",
        "partner",
        "region",
    ]


def test_condition_sql_uses_the_field_index_on_sqlite(ctx: Ctx) -> None:
    """The filter reads the typed index led by the field, not every value."""
    if not ctx.db.is_sqlite:
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    _company_fields(ctx)
    for op, name, value, index in (
        ("=", "industry", "retail", "ix_custom_values_key"),
        (">", "employees", "100", "ix_custom_values_num"),
        ("<", "renewal", "2027-03-01", "ix_custom_values_date"),
        (">=", "arr", "100", "ix_custom_values_cents"),
    ):
        found = fields.condition_sql(ctx, "company", "co.id", name, op, value, "p_")
        assert found is not None
        plan = ctx.db.all(
            f"EXPLAIN QUERY PLAN SELECT co.id FROM companies co WHERE {found[0]}", found[1]
        )
        details = " | ".join(str(r["detail"]) for r in plan)
        assert index in details, details


def test_the_reserved_names_are_the_documented_ones() -> None:
    """docs/cli.md lists the names a field can't take; the list is the code's."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text(encoding="utf-8")
    start = doc.index("one of the built-in names")
    listed = doc[start : doc.index("`--choices` (a choice field's values", start)]
    assert set(re.findall(r"`(\w+)`", listed)) == fields.RESERVED
