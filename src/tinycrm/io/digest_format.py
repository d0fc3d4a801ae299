"""The digest as text, Markdown, HTML or JSON. Plain stdlib, no colour, no clock: the same
digest renders to the same bytes every time (safe to diff, to mail, to test).

JSON keys are exactly `as_of`, `user`, the sections and `goals` (docs/digest.md); items carry
ids, names, dates as `YYYY-MM-DD` or ISO 8601 local times, and amounts as strings.

Markdown and HTML show what users typed (their names, note text, deal titles, company
names) as typed: each line is built as plain text, then escaped whole, heading included
(`_md_escape`, `html.escape`), so a name can't become a link, an emphasis or a tag.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any

from tinycrm.dates import important_day_text
from tinycrm.io import goal_text
from tinycrm.money import display_money, format_cents
from tinycrm.services.agenda import DateItem, DealItem, ReminderItem, TouchItem
from tinycrm.services.cases import CaseView
from tinycrm.services.digest import SECTIONS, Digest
from tinycrm.services.goals import GoalProgress
from tinycrm.text import one_line

#: Items shown per section in text, Markdown and HTML ("… and N more" after them); JSON
#: has every item.
ITEMS_PER_SECTION = 50

TITLES = {
    "overdue": "Overdue",
    "today": "Due today",
    "upcoming": "Coming up",
    "stay_in_touch": "Stay in touch",
    "rotting_deals": "Rotting deals",
    "no_next_step": "Deals with no next step",
    "big_deals": "Big deals",
    "escalated": "Escalated to you",
    "birthdays": "Birthdays",
    "cases": "Escalated cases",
    "goals": "Goals",
}


def _zone(d: Digest) -> tzinfo:
    from zoneinfo import ZoneInfo

    try:
        return ZoneInfo(d.tz_name)
    except (KeyError, ValueError):
        from datetime import UTC

        return UTC


def _days_between(d: Digest, earlier: datetime | None, tz: tzinfo) -> int:
    if earlier is None:
        return 0
    return max(0, (d.as_of - earlier.astimezone(tz).date()).days)


# -- JSON -----------------------------------------------------------------------------------


def to_json(d: Digest) -> str:
    tz = _zone(d)
    doc: dict[str, Any] = {"as_of": d.as_of.isoformat(), "user": d.user}
    for s in SECTIONS:
        doc[s] = [_json_item(d, item, tz) for item in getattr(d, s)]
    doc["goals"] = [_json_goal(d, g) for g in d.goals]
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def _json_goal(d: Digest, g: GoalProgress) -> dict[str, Any]:
    """A goal's progress at the start of the digest's day: amounts as strings (revenue)
    or counts, the pace per working day left."""
    cur = g.amount.currency if g.amount is not None else None

    def value(n: int) -> str | int:
        return format_cents(n) if cur else n

    return {
        "user": g.user,
        "metric": g.metric,
        "per": g.per,
        "period": g.period,
        "target": value(g.target),
        "achieved": value(g.achieved),
        "currency": cur,
        "share": g.share,
        "working_days_left": g.working_days_left,
        "pace": (format_cents(g.pace_money.cents) if g.pace_money is not None else g.pace),
        "text": goal_text.line(g, who=d.user is None),
    }


def _json_item(d: Digest, item: object, tz: tzinfo) -> dict[str, Any]:
    if isinstance(item, CaseView):
        assert item.sla_due_at is not None
        return {
            "id": item.id,
            "title": item.title,
            "contact": item.contact,
            "contact_id": item.contact_id,
            "priority": item.priority,
            "owner": item.owner,
            "sla_due": item.sla_due_at.astimezone(tz).isoformat(),
            "days_overdue": _days_between(d, item.sla_due_at, tz),
            "escalation": item.escalation,
            "escalated_to": item.escalated_to,
        }
    if isinstance(item, ReminderItem):
        return {
            "id": item.id,
            "text": item.text,
            "about": item.about,
            "contact_id": item.contact_id,
            "deal_id": item.deal_id,
            "owner": item.owner,
            "due": item.due_at.astimezone(tz).isoformat(),
            "due_date": item.due_at.astimezone(tz).date().isoformat(),
            "days_overdue": _days_between(d, item.due_at, tz),
            "recurrence": item.recurrence,
            "escalated": item.escalated,
            "lead": item.lead,
        }
    if isinstance(item, TouchItem):
        return {
            "contact_id": item.contact_id,
            "name": item.name,
            "owner": item.owner,
            "last_touch": _day(item.last_touch_at, tz),
            "due_date": _day(item.due_at, tz),
            "days_overdue": _days_between(d, item.due_at, tz),
            "cadence_days": item.cadence_days,
            "cadence_from": item.cadence_from,
        }
    if isinstance(item, DateItem):
        return {
            "contact_id": item.contact_id,
            "name": item.name,
            "owner": item.owner,
            "kind": item.kind,
            "date": important_day_text(item.day),
            "on": item.on.isoformat(),
            "years": item.years,
        }
    assert isinstance(item, DealItem)
    return {
        "id": item.id,
        "title": item.title,
        "with": item.with_name,
        "contact_id": item.contact_id,
        "stage": item.stage,
        "amount": format_cents(item.value_cents),
        "currency": item.currency,
        "probability": item.probability,
        "weighted": format_cents(item.weighted_cents),
        "owner": item.owner,
        "last_activity": _day(item.activity_at, tz),
        "rots_on": _day(item.rots_at, tz),
        "days_idle": _days_between(d, item.activity_at, tz),
        "big": item.big,
    }


def _day(when: datetime | None, tz: tzinfo) -> str | None:
    return None if when is None else when.astimezone(tz).date().isoformat()


# -- lines for people -----------------------------------------------------------------------


def _plural(n: int, word: str) -> str:
    from tinycrm.text import plural

    return plural(n, word)


def _line(d: Digest, section: str, item: object, tz: tzinfo) -> str:
    """One item as a line of plain text (escaped later for HTML)."""
    if isinstance(item, CaseView):
        assert item.sla_due_at is not None
        overdue = _plural(_days_between(d, item.sla_due_at, tz), "day")
        to = f", escalated to {item.escalated_to}" if d.user is None else ""
        return (
            f"case #{item.id} {item.title} — {item.contact}, {item.priority},"
            f" {overdue} overdue, owner {item.owner}, level {item.escalation}{to}"
        )
    if isinstance(item, ReminderItem):
        local = item.due_at.astimezone(tz)
        when = local.strftime("%a %d %b %H:%M")
        about = f"{item.about}: " if item.about else ""
        extra = []
        if section in ("overdue", "escalated"):
            extra.append(f"{_plural(_days_between(d, item.due_at, tz), 'day')} overdue")
        if section == "escalated" and item.owner:
            extra.append(f"owner {item.owner}")
        elif item.escalated:
            extra.append(f"escalated to {item.lead}")
        if item.recurrence:
            extra.append(f"repeats {item.recurrence}")
        if d.user is None and item.owner and section != "escalated":
            extra.append(item.owner)
        tail = f" ({', '.join(extra)})" if extra else ""
        return f"#{item.id} {when} — {about}{item.text}{tail}"
    if isinstance(item, TouchItem):
        last = (
            f"last touch {item.last_touch_at.astimezone(tz).strftime('%d %b %Y')}"
            if item.last_touch_at
            else "never contacted"
        )
        cadence = f"every {_plural(item.cadence_days, 'day')}" + (
            f" ({item.cadence_from})" if item.cadence_from != "contact" else ""
        )
        owner = f", {item.owner}" if d.user is None and item.owner else ""
        return f"{item.name} (#{item.contact_id}) — {last}, {cadence}{owner}"
    if isinstance(item, DateItem):
        when = "today" if item.on == d.as_of else item.on.strftime("%a %d %b")
        what = "birthday" if item.kind == "birthday" else "anniversary"
        years = f", {item.years}" if item.years else ""
        owner = f", {item.owner}" if d.user is None and item.owner else ""
        return f"{when} — {item.name} (#{item.contact_id}): {what}{years}{owner}"
    assert isinstance(item, DealItem)
    money = display_money(item.value_cents, item.currency)
    parts = [f"{item.stage}", money]
    if section == "rotting_deals":
        parts.append(f"quiet for {_plural(_days_between(d, item.activity_at, tz), 'day')}")
    if item.big and section != "big_deals":
        parts.append("BIG")
    if d.user is None and item.owner:
        parts.append(item.owner)
    with_ = f" with {item.with_name}" if item.with_name else ""
    return f"deal #{item.id} {item.title}{with_} — {', '.join(parts)}"


def _sections(d: Digest, limit: int) -> list[tuple[str, list[str], int]]:
    """(section, lines, how many more) for the non-empty sections."""
    tz = _zone(d)
    counts = d.counts()
    out = []
    if d.goals:  # first: where the month stands, then what to do about it
        out.append(("goals", [one_line(goal_text.line(g, who=d.user is None)) for g in d.goals], 0))
    for s in SECTIONS:
        items = getattr(d, s)
        if items:
            lines = [one_line(_line(d, s, i, tz)) for i in items[:limit]]
            out.append((s, lines, counts[s] - len(lines)))
    return out


def heading(d: Digest) -> str:
    who = d.user if d.user is not None else "the team"
    return f"tinycrm digest for {who} — {d.as_of.strftime('%A %d %B %Y')}"


def subject(d: Digest) -> str:
    c = d.counts()
    bits = [
        f"{c[s]} {label}" for s, label in (("overdue", "overdue"), ("today", "due today")) if c[s]
    ]
    for s, label in (("stay_in_touch", "to get in touch with"), ("rotting_deals", "rotting")):
        if c[s]:
            bits.append(f"{c[s]} {label}")
    summary = ", ".join(bits) if bits else "nothing due"
    return f"{heading(d)}: {summary}"


def _catch_up(d: Digest) -> str | None:
    if d.last_sent is None:
        return None
    return (
        f"Catching up: the last digest was for {d.last_sent.strftime('%a %d %b')};"
        " everything that came due since is below."
    )


def to_text(d: Digest, *, limit: int = ITEMS_PER_SECTION) -> str:
    lines = [heading(d), ""]
    note = _catch_up(d)
    if note:
        lines += [note, ""]
    sections = _sections(d, limit)
    for s, items, more in sections:
        lines.append(f"{TITLES[s]} ({len(items) + more})")
        lines += [f"  {x}" for x in items]
        if more:
            lines.append(f"  … and {more} more")
        lines.append("")
    if d.empty:  # after the goals, if any
        lines.append("Nothing is due. Nothing is slipping.")
    return "\n".join(lines).rstrip("\n") + "\n"


def to_markdown(d: Digest, *, limit: int = ITEMS_PER_SECTION) -> str:
    lines = [f"# {_md_escape(heading(d))}", ""]
    note = _catch_up(d)
    if note:
        lines += [f"_{_md_escape(note)}_", ""]
    sections = _sections(d, limit)
    for s, items, more in sections:
        lines += [f"## {TITLES[s]} ({len(items) + more})", ""]
        lines += [f"- {_md_escape(x)}" for x in items]
        if more:
            lines.append(f"- … and {more} more")
        lines.append("")
    if d.empty:  # after the goals, if any
        lines.append("Nothing is due. Nothing is slipping.")
    return "\n".join(lines).rstrip("\n") + "\n"


# Inline Markdown (CommonMark and GitHub's): code, emphasis, links and images, autolinks
# and HTML, entities, headings, tables, strikethrough. A backslash makes each literal.
_MD_INLINE = re.compile(r"([\\`*_\[\]<>#|~&!])")
# What makes a line's start a block: a list item, a numbered item, a setext underline.
_MD_BLOCK = re.compile(r"^(?:[-+=]|\d+(?=[.)]))")


def _md_escape(text: str) -> str:
    """Plain text as Markdown that renders to exactly that text (one line)."""
    text = _MD_INLINE.sub(r"\\\1", text)
    m = _MD_BLOCK.match(text)
    if m:
        end = m.end()
        text = text[:end] + "\\" + text[end:] if text[:end].isdigit() else "\\" + text
    return text


def to_html(d: Digest, *, limit: int = ITEMS_PER_SECTION) -> str:
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8">',
        f"<title>{e(heading(d))}</title></head>",
        '<body style="font-family: sans-serif; line-height: 1.4">',
        f'<h1 style="font-size: 1.3em">{e(heading(d))}</h1>',
    ]
    note = _catch_up(d)
    if note:
        parts.append(f"<p><em>{e(note)}</em></p>")
    sections = _sections(d, limit)
    for s, items, more in sections:
        colour = ' style="color: #b00020"' if s in ("overdue", "escalated") else ""
        parts.append(
            f'<h2 style="font-size: 1.1em"{colour}>{e(TITLES[s])} ({len(items) + more})</h2>'
        )
        parts.append("<ul>")
        parts += [f"<li>{e(x)}</li>" for x in items]
        if more:
            parts.append(f"<li>… and {more} more</li>")
        parts.append("</ul>")
    if d.empty:  # after the goals, if any
        parts.append("<p>Nothing is due. Nothing is slipping.</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


RENDERERS: dict[str, Callable[[Digest], str]] = {
    "text": to_text,
    "markdown": to_markdown,
    "html": to_html,
    "json": to_json,
}


def items_per_section(fmt: str) -> int | None:
    """How many items of each section a format shows (JSON: all of them)."""
    return None if fmt == "json" else ITEMS_PER_SECTION


def render(d: Digest, fmt: str) -> str:
    return RENDERERS[fmt](d)
