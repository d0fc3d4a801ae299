"""`tinycrm forget REF`: erase a person (services/privacy.py says what goes)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from tinycrm.cli import output
from tinycrm.cli.common import JsonOpt, RefArg, YesOpt, confirm, get_ctx, resolve


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def forget(
    ref: RefArg,
    purchases: Annotated[
        str,
        typer.Option(
            "--purchases",
            help="anonymise (keep them, revenue stays right, nobody's) or delete.",
        ),
    ] = "anonymise",
    yes: YesOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Erase a person completely (GDPR).

    The contact, notes, reminders, audit trail and search entries go. Deals stay,
    unlinked. Purchases are kept anonymised (or deleted with --purchases delete). Only
    the fact of the erasure and its counts are recorded.
    """
    from tinycrm.errors import InvalidInput
    from tinycrm.services import privacy

    choice = purchases.strip().lower().replace("anonymize", "anonymise")
    if choice not in privacy.PURCHASE_CHOICES:
        raise InvalidInput(f"--purchases must be anonymise or delete: {purchases!r}")
    ctx = get_ctx()
    target = resolve(ctx, ref)
    p = privacy.plan(ctx.db, target.id)
    kept = "kept anonymised" if choice == "anonymise" else "deleted"
    parts = [
        _n(p.methods, "contact detail"),
        _n(p.tags, "tag"),
        _n(p.interactions, "interaction"),
        _n(p.reminders, "reminder"),
        *([_n(p.cases, "service case")] if p.cases else []),
        _n(p.merges, "merge record"),
        f"{p.audit_entries} audit {'entry' if p.audit_entries == 1 else 'entries'}",
    ]
    question = (
        f"Erase #{p.id} {p.name} for good: {', '.join(parts)};"
        f" {_n(p.purchases, 'purchase')} {kept}; {_n(p.deals, 'deal')} kept, unlinked."
        " This can't be undone. Go ahead?"
    )
    confirm(question, yes)
    erased = privacy.forget(ctx, p.id, purchases=choice)
    if erased.file_purged is False:  # said, not hidden: the old pages are still on disk
        sys.stderr.write(
            "Note: another program is reading the store, so the erased data stays in"
            f" {ctx.db.location.describe()} until it closes the store\n"
        )
    if json_:
        output.emit_json(erased)
        return
    output.say(
        f"Erased #{p.id} (erasure {erased.erasure_id}): {erased.counts['interactions']}"
        f" interaction(s), {erased.counts['reminders']} reminder(s),"
        f" {erased.counts['purchases_' + erased.purchases]} purchase(s) {erased.purchases}."
        " Backups and files exported earlier still hold them."
    )
