"""The audit trail: one record per service call, written in the service's own transaction.

``service`` wraps a write: keyword-only arguments, the person who acts (``actor``, never
``None``: month-end jobs and the command line act as the system actor), one database
transaction, and a check that the call left exactly one audit record (or, for bulk services
such as the month-end sync, at least one per changed object). ``record`` writes the record;
``snapshot`` turns a model's fields into JSON for its ``before`` and ``after``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ParamSpec, TypeVar

from django.db import models, transaction
from django.utils import timezone

from npldesk.casework.access import is_system_actor
from npldesk.casework.errors import NoActor
from npldesk.casework.models import AuditRecord, Case, Person
from npldesk.core.i18n import translatable
from npldesk.core.system import current_user

P = ParamSpec("P")
R = TypeVar("R")

_written: ContextVar[list[int] | None] = ContextVar("audit_records_written", default=None)


@dataclass(frozen=True)
class ServiceInfo:
    name: str
    bulk: bool
    function: Callable[..., Any]


# Every service, by name: the audit test walks this list so a new service cannot escape it.
SERVICES: dict[str, ServiceInfo] = {}


def service(*, bulk: bool = False) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Mark a function as a service: keyword-only, an actor, one transaction, one audit record.

    A call without ``actor`` (or with ``actor=None``) is refused with ``NoActor`` before
    anything is read or written.

    ``bulk`` services (the sync, bulk reassignment) write one record per object they change
    plus one for the run, all in the one transaction.
    """

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            if args:
                raise TypeError(f"{function.__name__} takes keyword arguments only")
            if kwargs.get("actor") is None:
                raise NoActor(function.__name__)
            if _written.get() is not None:
                raise RuntimeError(f"{function.__name__}: a service never calls another service")
            counter = [0]
            token = _written.set(counter)
            try:
                with transaction.atomic():
                    result = function(*args, **kwargs)
                    if counter[0] == 0 or (not bulk and counter[0] != 1):
                        raise RuntimeError(
                            f"{function.__name__} wrote {counter[0]} audit records, not one"
                        )
            finally:
                _written.reset(token)
            return result

        SERVICES[function.__name__] = ServiceInfo(function.__name__, bulk, run)
        return run

    return decorate


def actor_name(actor: Person) -> str:
    """The name the record keeps: the person's username, or for the system actor
    ``system:<operating-system user>`` (who ran the job or the command on the server)."""
    if is_system_actor(actor):
        return f"system:{current_user()}"
    return actor.user.get_username()


def jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


def snapshot(obj: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The named fields of ``obj`` (all concrete fields by default) as JSON values."""
    names = (
        list(fields)
        if fields is not None
        else [f.attname for f in obj._meta.concrete_fields if f.attname != "id"]
    )
    return {name: jsonable(getattr(obj, name)) for name in names}


def build(
    *,
    actor: Person,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    case: Case | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
    at: datetime | None = None,
) -> AuditRecord:
    """An unsaved record, for bulk services that insert many at once (``record_many``)."""
    return AuditRecord(
        at=at or timezone.now(),
        actor=actor,
        actor_name=actor_name(actor),
        action=action,
        object_type=object_type or (obj._meta.model_name or "") if obj is not None else object_type,
        object_id=object_id or (_object_id(obj) if obj is not None else ""),
        case=case,
        reason=reason,
        before=jsonable(before) if before is not None else None,
        after=jsonable(after) if after is not None else None,
    )


def _object_id(obj: models.Model) -> str:
    # A case is known by its number; anything else by its primary key (an instalment's
    # ``number`` is its place in its plan, not an identifier).
    return obj.number if isinstance(obj, Case) else str(obj.pk)


def record(**kwargs: Any) -> AuditRecord:
    """Write one audit record (inside a service)."""
    entry = build(**kwargs)
    entry.save(force_insert=True)
    _count(1)
    return entry


def record_many(entries: list[AuditRecord]) -> None:
    AuditRecord.objects.bulk_create(entries, batch_size=2000)
    _count(len(entries))


def _count(n: int) -> None:
    counter = _written.get()
    if counter is None:
        raise RuntimeError("audit records are written by services only")
    counter[0] += n


def record_personal_data_access(
    *, actor: Person, what: str, case: Case | None, rows: int, reason: str = ""
) -> None:
    """Log an unmasked view or export of personal data (outside any service, in its own
    transaction: a read that shows personal data must leave its trace even if nothing else is
    written)."""
    if actor is None:
        raise NoActor(translatable("a personal-data view or export"))
    with transaction.atomic():
        AuditRecord(
            at=timezone.now(),
            actor=actor,
            actor_name=actor_name(actor),
            action="personal_data_view" if case is not None else "personal_data_export",
            object_type="case" if case is not None else "export",
            object_id=case.number if case is not None else what,
            case=case,
            reason=reason,
            after={"what": what, "rows": rows},
        ).save(force_insert=True)
