"""The errors casework raises to its callers (CLI, web, API render them the same way)."""

from __future__ import annotations

from npldesk.core.errors import NpldeskError, UsageError
from npldesk.core.i18n import translatable


class AccessDenied(NpldeskError):
    """The person may not see or do this (role or unit scope)."""

    exit_code = 3


class Conflict(NpldeskError):
    """Someone else changed the object since it was read: reload and try again."""

    exit_code = 4
    # The object's version now, when the service knows it (``compare_and_swap`` does).
    current_version: int | None = None


class InvalidAction(UsageError):
    """The action does not fit the object's state (a closed case, a stage that goes back…)."""


class NotFound(UsageError):
    """No such object, or none the person may see (the two are not told apart)."""


class NoActor(AccessDenied):
    """A service or selector was called without a person: nobody acts anonymously."""

    def __init__(self, what: str) -> None:
        super().__init__(
            translatable(
                "{what} needs the person who acts: act as a signed-in person, or as the system "
                "actor (selectors.system_actor()) for month-end jobs and the command line",
                what=what,
            )
        )
