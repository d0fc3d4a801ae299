"""Contacts: the people we sell to, with emails, phones, tags and a company.

The one name the shells (cli/, tui/, io/) and other domains use for contacts; the work is
split by concern: `validation` (what may be typed), `contact_queries` (lists, paging, the
360 view) and `contact_writes` (add, edit, tag, delete). Services below those modules
import them directly, so no service imports this one back (import-linter keeps the
services acyclic)."""

from __future__ import annotations

from tinycrm.services.contact_queries import (
    ORDERS,
    REAL,
    ContactDetail,
    ContactSummary,
    DealLine,
    DeleteImpact,
    TimelineEntry,
    contact_timeline,
    count_contacts,
    delete_impact,
    get_contact,
    list_contacts,
    methods,
    page_key,
    sorted_ids,
    summaries_by_id,
)
from tinycrm.services.contact_writes import (
    ON_DUPLICATE,
    AddOutcome,
    Choose,
    add_contact,
    add_details,
    add_or_match,
    check_version,
    delete_contact,
    edit_contact,
    reindex,
    save_contact,
    tag_contact,
    touch,
)
from tinycrm.services.validation import (
    MAX_NAME,
    MAX_TEXT,
    check_emails,
    check_methods,
    check_name,
    check_phones,
    check_text,
    normalize_tags,
)

__all__ = [
    "ON_DUPLICATE",
    "AddOutcome",
    "Choose",
    "ContactDetail",
    "ContactSummary",
    "DealLine",
    "DeleteImpact",
    "MAX_NAME",
    "MAX_TEXT",
    "ORDERS",
    "REAL",
    "TimelineEntry",
    "add_contact",
    "add_details",
    "add_or_match",
    "check_emails",
    "check_methods",
    "check_name",
    "check_phones",
    "check_text",
    "check_version",
    "contact_timeline",
    "count_contacts",
    "delete_contact",
    "delete_impact",
    "edit_contact",
    "get_contact",
    "list_contacts",
    "methods",
    "normalize_tags",
    "page_key",
    "reindex",
    "save_contact",
    "sorted_ids",
    "summaries_by_id",
    "tag_contact",
    "touch",
]
