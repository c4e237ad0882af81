"""The errors casework raises to its callers (CLI, web, API render them the same way)."""

from __future__ import annotations

from npldesk.core.errors import NpldeskError, UsageError


class AccessDenied(NpldeskError):
    """The person may not see or do this (role or unit scope)."""

    exit_code = 3


class Conflict(NpldeskError):
    """Someone else changed the object since it was read: reload and try again."""

    exit_code = 4


class InvalidAction(UsageError):
    """The action does not fit the object's state (a closed case, a stage that goes back…)."""


class NotFound(UsageError):
    """No such object, or none the person may see (the two are not told apart)."""
