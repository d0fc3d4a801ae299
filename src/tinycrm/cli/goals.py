"""`tinycrm goal set|list|rm`: a salesperson's targets per month, quarter or year
(definitions in docs/reports.md#goals)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from tinycrm.cli import output
from tinycrm.cli.common import ID_MAX, JsonOpt, get_ctx

if TYPE_CHECKING:
    from tinycrm.services.goals import GoalView

goal_app = typer.Typer(
    help="Goals: a user's target per month, quarter or year.", no_args_is_help=True
)


def _target(g: GoalView) -> str:
    if g.amount is not None:
        return output.money(g.amount, g.amount.currency)
    from tinycrm.text import plural

    return plural(g.target, {"won-deals": "won deal", "activities": "activity"}[g.metric])


def _what(g: GoalView) -> str:
    """The target in a sentence: `5,000.00 EUR of revenue`, `10 won deals`."""
    return f"{_target(g)} of revenue" if g.amount is not None else _target(g)


def _span(g: GoalView) -> str:
    from tinycrm import periods

    first = periods.containing(g.starts, g.per).name
    if g.until is None:
        return f"from {first}"
    return f"{first} to {periods.containing(g.until, g.per).name}"


@goal_app.command("set")
def goal_set(
    user: Annotated[str, typer.Argument(help="Whose goal (a user name).")],
    amount: Annotated[
        str, typer.Argument(help="The target: money for revenue (5000, '€5,000'), else a count.")
    ],
    per: Annotated[
        str, typer.Option("--per", help="month, quarter or year.", show_default=False)
    ] = "",
    metric: Annotated[
        str, typer.Option("--metric", help="revenue, won-deals or activities.")
    ] = "revenue",
    start: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="First period it applies to: 2026-12, 2026-Q4, 2026 (default: this one).",
            show_default=False,
        ),
    ] = None,
    currency: Annotated[
        str | None,
        typer.Option(
            "--currency",
            help="A revenue goal's currency (default from settings).",
            show_default=False,
        ),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Set a user's goal per month, quarter or year.

    It applies from the period --from names until a later goal of the same user, metric
    and --per; setting one that starts in the same period replaces it.
    """
    from tinycrm.errors import InvalidInput
    from tinycrm.services import goals

    if not per:
        raise InvalidInput("say how often: --per month, --per quarter or --per year")
    ctx = get_ctx()
    g = goals.set_goal(ctx, user, amount, per=per, metric=metric, start=start, currency=currency)
    if json_:
        output.emit_json(g)
        return
    output.say(f"Goal #{g.id}: {g.user}, {_what(g)} a {g.per}, {_span(g)}")


@goal_app.command("list")
def goal_list(
    user: Annotated[
        str | None, typer.Option("--user", help="Only this user's goals.", show_default=False)
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Goals, by user, metric and period."""
    from tinycrm.services import goals

    ctx = get_ctx()
    found = goals.list_goals(ctx, user=user)
    if json_:
        output.emit_json(found)
        return
    output.table(
        ["id", "user", "metric", "per", "target", "applies"],
        [[f"#{g.id}", g.user, g.metric, g.per, _target(g), _span(g)] for g in found],
        empty="no goals yet (tinycrm goal set USER AMOUNT --per month)",
    )


@goal_app.command("rm")
def goal_rm(
    goal_id: Annotated[int, typer.Argument(min=1, max=ID_MAX, help="The goal's id (goal list).")],
    json_: JsonOpt = False,
) -> None:
    """Remove a goal (the one before it applies again)."""
    from tinycrm.services import goals

    ctx = get_ctx()
    g = goals.remove_goal(ctx, goal_id)
    if json_:
        output.emit_json(g)
        return
    output.say(f"Removed goal #{g.id}: {g.user}, {_what(g)} a {g.per}, {_span(g)}")
