"""Goal progress in words, the same in the digest, the CLI and the app:

`62% of December's revenue goal: 3,100.00 of 5,000.00 EUR; 8 working days left,
237.50 EUR a day to go`. The percentage is rounded down to a whole percent, so 100% means
the goal is met.
"""

from __future__ import annotations

from tinycrm import periods
from tinycrm.money import display_money
from tinycrm.services.goals import GoalProgress
from tinycrm.text import plural

_UNITS = {"won-deals": "deal", "activities": "activity"}


def percent(p: GoalProgress) -> int:
    """The share achieved as a whole percent, rounded down (99.6% is 99%)."""
    return p.achieved * 100 // p.target if p.target > 0 else 0


def amount(p: GoalProgress, value: int | float) -> str:
    """A value in the goal's unit: money (cents) for revenue, else a count with its noun
    (a pace may have a tenth: `1.5 deals`)."""
    if p.amount is not None:
        return display_money(int(value), p.amount.currency)
    noun = _UNITS.get(p.metric, p.metric)
    if value != int(value):
        return f"{value} {plural(2, noun).split(' ', 1)[1]}"
    return plural(int(value), noun)


def period_name(p: GoalProgress) -> str:
    """`December`, `Q4` or `2026`: the period the goal is read in."""
    return periods.containing(p.first, p.per).short


def line(p: GoalProgress, *, who: bool = False) -> str:
    """One sentence: share, achieved of target, working days left and the pace."""
    head = f"{p.user}: " if who else ""
    if p.amount is not None:
        cur = p.amount.currency
        so_far = display_money(p.achieved, cur).removesuffix(f" {cur}")
        done = f"{so_far} of {display_money(p.target, cur)}"
    else:
        noun = _UNITS.get(p.metric, p.metric)
        done = f"{p.achieved:,} of {plural(p.target, noun)}"
    text = f"{head}{percent(p)}% of {period_name(p)}'s {p.metric} goal: {done}; "
    if p.remaining == 0:
        return text + "met"
    days = plural(p.working_days_left, "working day")
    per_day = pace(p)
    if per_day is None:
        return text + f"no working days left, {amount(p, p.remaining)} short"
    return text + f"{days} left, {per_day} a day to go"


def pace(p: GoalProgress) -> str | None:
    """The pace in the goal's unit (`237.50 EUR`, `1.5 deals`); None when no working day
    is left to do it in."""
    if p.pace_money is not None:
        return display_money(p.pace_money.cents, p.pace_money.currency)
    return None if p.pace is None else amount(p, p.pace)
