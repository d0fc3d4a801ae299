"""Domain exceptions. Services raise these; the CLI maps them to one line and an exit code.

Every message is one line that names what was wrong (and where, for files).
"""

from __future__ import annotations


class TinyCRMError(Exception):
    """Base class; `exit_code` is what the CLI exits with."""

    exit_code = 1


class InvalidInput(TinyCRMError):
    """The user typed something we cannot use (a bad date, a negative amount...)."""

    exit_code = 2


class NotFound(TinyCRMError):
    """A reference matched nothing."""

    exit_code = 1


class UnknownId(NotFound):
    """An id typed for a command that changes one record (`interaction edit 99`) names no
    such record: a usage error (exit 2) whose message names the kind and the id."""

    exit_code = 2


class Ambiguous(TinyCRMError):
    """A reference matched several records; `candidates` lists them as (kind, id, label)."""

    exit_code = 2

    def __init__(self, message: str, candidates: list[tuple[str, int, str]] | None = None) -> None:
        super().__init__(message)
        self.candidates = candidates or []


class Conflict(TinyCRMError):
    """The change clashes with existing data (a duplicate name, a record changed meanwhile)."""

    exit_code = 1


class StoreError(TinyCRMError):
    """The store cannot be used: unreadable, locked too long, or written by a newer tinycrm."""

    exit_code = 1


class MissingStore(StoreError):
    """There is no tinycrm store where the command looked (only `tinycrm init`, and first
    use of the default location, create one)."""


class DeliveryError(TinyCRMError):
    """Mail could not be sent (SMTP refused, unreachable, bad credentials)."""

    exit_code = 1


class MailboxError(TinyCRMError):
    """Mail could not be read from a server (unreachable, login refused, TLS failed)."""

    exit_code = 1
