"""What the API's routers share: the acting person, versioned and idempotent writes, problem
schemas."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar, overload

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Header, Schema, Status
from ninja.errors import ValidationError
from pydantic import field_validator
from pydantic_core import PydanticCustomError

from npldesk.casework.accounts import request_fingerprint, run_once
from npldesk.casework.errors import NotFound
from npldesk.casework.models import Person
from npldesk.reports.labels import localise

T = TypeVar("T")

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


class Input(Schema):
    """What a caller sends (a body or a query): text holding a NUL character is refused on its
    field (PostgreSQL cannot store it; SQLite would, and the two would differ)."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise PydanticCustomError("nul_character", _("Text may not hold a NUL character."))
        return value


class Versioned(Input):
    """The body of a write on an existing object: the version read, here or as ``If-Match``."""

    version: int | None = Field(
        None, ge=1, description='The version as read (or send it as If-Match: "<version>")'
    )


def if_match() -> Any:
    """The ``If-Match`` header of every write on an existing object."""
    return Header(
        None,
        alias="If-Match",
        max_length=40,
        description='The object\'s version as read, "<version>" (instead of "version" in the body)',
    )


def idempotency_key() -> Any:
    """The ``Idempotency-Key`` header of every write that creates money or an event."""
    return Header(
        None,
        alias="Idempotency-Key",
        max_length=200,
        description="The same key again returns the first response and writes nothing",
    )


# An entity tag of a version: "3" (as the API gives it), W/"3" or a bare 3.
_ETAG = re.compile(r'\s*(?:W/)?(?:"([0-9]{1,9})"|([0-9]{1,9}))\s*')


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError(
        [{"loc": ("header" if field == "If-Match" else "body", field), "msg": message}]
    )


def version_of(body: Versioned, header: str | None) -> int:
    """The version a write compares against: the body's ``version`` or ``If-Match``.

    Either may be sent, or both when they agree; neither is a 422 naming the field.
    """
    from_header = None
    if header is not None:
        match = _ETAG.fullmatch(header)
        number = None if match is None else match.group(1) or match.group(2)
        if number is None or int(number) < 1:
            raise _invalid("If-Match", _('If-Match is the version as read, e.g. "3".'))
        from_header = int(number)
    if body.version is not None and from_header is not None and body.version != from_header:
        raise _invalid("version", _("The version in the body and If-Match disagree."))
    version = body.version if body.version is not None else from_header
    if version is None:
        raise _invalid("version", _('Give the version you read: "version" or If-Match.'))
    return version


def referenced(field: str, lookup: Callable[[], T]) -> T:
    """A person or team the body names: one the caller may not see, or who may not take the
    case, is a 422 on that field, not a 404 of the operation (whose path names the object)."""
    try:
        return lookup()
    except NotFound as exc:
        raise _invalid(field, localise(exc.message)) from exc


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
    status, body, _replayed = run_once(
        person=person(request), key=key, fingerprint=fingerprint, write=write
    )
    return Status(status, body)


@overload
def api_write(
    request: HttpRequest,
    body: Versioned,
    change: Callable[[Person, int], Any],
    *,
    status: int,
    if_match: str | None,
    idempotency_key: str | None = None,
) -> Status[Any]: ...


@overload
def api_write(
    request: HttpRequest,
    body: Input,
    change: Callable[[Person], Any],
    *,
    status: int,
    idempotency_key: str | None = None,
) -> Status[Any]: ...


def api_write(
    request: HttpRequest,
    body: Input,
    change: Callable[..., Any],
    *,
    status: int,
    if_match: str | None = None,
    idempotency_key: str | None = None,
) -> Status[Any]:
    """A write as every write endpoint makes it: ``change`` (the selector, the service, the
    rendered answer) as the signed-in person, once per ``Idempotency-Key`` when one is sent.

    A write on an existing object (a ``Versioned`` body) is given the version the caller read,
    from the body or ``If-Match``. The version is input like the body's other fields, which are
    checked before the endpoint runs: a missing or unreadable one is a 422 before the object is
    looked up. It is part of the request a key is kept for, so the version sent as ``If-Match``
    the second time is the same request.
    """
    acting = person(request)
    payload = body.model_dump(mode="json")
    if isinstance(body, Versioned):
        version = version_of(body, if_match)
        payload["version"] = version
        return once(request, idempotency_key, payload, lambda: (status, change(acting, version)))
    return once(request, idempotency_key, payload, lambda: (status, change(acting)))
