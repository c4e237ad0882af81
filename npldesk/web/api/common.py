"""What the API's routers share: the acting person, idempotent writes, problem schemas."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from ninja import Schema, Status

from npldesk.casework.accounts import request_fingerprint, run_once
from npldesk.casework.models import Person

MAX_PAGE = 200


class FieldError(Schema):
    field: str
    message: str


class Problem(Schema):
    """``application/problem+json``: what went wrong, and with which fields."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None
    current_version: int | None = None


# The errors every authenticated operation may answer with.
PROBLEMS: dict[int, type[Problem]] = {
    400: Problem,
    401: Problem,
    403: Problem,
    404: Problem,
    422: Problem,
    429: Problem,
}


def person(request: HttpRequest) -> Person:
    acting: Person = request.person  # type: ignore[attr-defined]
    return acting


def once(
    request: HttpRequest,
    key: str | None,
    payload: dict[str, Any],
    write: Callable[[], tuple[int, Any]],
) -> Status[Any]:
    """Run ``write``, once per ``Idempotency-Key`` when the request sends one."""
    if key is None:
        return Status(*write())
    fingerprint = request_fingerprint(request.method or "", request.path, payload)
    status, body, _ = run_once(
        person=person(request), key=key, fingerprint=fingerprint, write=write
    )
    return Status(status, body)
