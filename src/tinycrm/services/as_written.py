"""Values kept as written: what an import could not read (a phone `1`, an email without
an `@`, a birthday `circa 1800`), kept on the contact instead of dropping the person or
the value (#17). Stored in `contacts.as_written` as a JSON list of `{"field", "value",
"why"}`; `contact show`, `export person` and the exports carry it."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

#: The fields whose odd values are kept rather than refused (unless `--strict`).
LENIENT = ("email", "phone", "url", "address", "birthday", "anniversary")


@dataclass(frozen=True, slots=True)
class AsWritten:
    field: str  # email | phone | url | address | birthday | anniversary
    value: str  # as the file wrote it
    why: str  # what was wrong with it: "not a phone number: '1'"


def dump(items: Iterable[AsWritten]) -> str | None:
    """The column's text: a JSON list, or NULL for none."""
    out = [{"field": a.field, "value": a.value, "why": a.why} for a in items]
    return json.dumps(out, ensure_ascii=False) if out else None


def load(text: str | None) -> list[AsWritten]:
    """The column read back (an unreadable cell is kept whole rather than lost)."""
    if not text:
        return []
    try:
        items = json.loads(text)
    except ValueError:
        return [AsWritten("unknown", text, "unreadable")]
    if not isinstance(items, list):
        return [AsWritten("unknown", text, "unreadable")]
    return [
        AsWritten(str(i.get("field", "")), str(i.get("value", "")), str(i.get("why", "")))
        for i in items
        if isinstance(i, dict)
    ]


def combined(old: list[AsWritten], new: Iterable[AsWritten]) -> list[AsWritten]:
    """`old` and then those of `new` it lacks (a merge, an import run twice)."""
    out = list(old)
    seen = {(a.field, a.value) for a in out}
    for a in new:
        if (a.field, a.value) not in seen:
            seen.add((a.field, a.value))
            out.append(a)
    return out


def shown(a: AsWritten) -> str:
    """One line for people: "phone: 1 (not a phone number: '1')"."""
    return f"{a.field}: {a.value} ({a.why})"
