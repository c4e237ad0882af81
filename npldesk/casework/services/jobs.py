"""The job queue of ``npldesk worker``: enqueue a job, and the worker's claim, progress and
finish. Each call is one transaction with its one audit record; the worker throttles its
progress calls (``npldesk.monthend.worker``) so that the trail holds a line every few seconds,
not one per row.

One job of a kind runs at a time: a claim takes the kind's lock (an advisory lock on
PostgreSQL; SQLite lets one writer at a time write at all) and finds no other job of the kind
running under a live lease. A job whose lease ran out (its worker was killed) is claimable
again, and counts its attempts.
"""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from npldesk.casework import audit
from npldesk.casework.access import Action, is_system_actor, require, require_person
from npldesk.casework.choices import JobKind, JobState, Role
from npldesk.casework.errors import AccessDenied, Conflict, InvalidAction
from npldesk.casework.models import Job, Person
from npldesk.core.i18n import translatable

# How long a claim holds a job without news from its worker.
LEASE = timedelta(minutes=5)
# A job that failed to finish this many times (its worker killed each time) is not claimed again.
MAX_ATTEMPTS = 3
# Who may queue which work besides the system actor.
ENQUEUERS: dict[str, frozenset[str]] = {
    JobKind.TAPE_IMPORT: frozenset({Role.ADMIN, Role.RISK_ANALYST}),
    JobKind.MONTH_END: frozenset({Role.ADMIN, Role.RISK_ANALYST}),
    JobKind.JUDGE: frozenset({Role.ADMIN, Role.RISK_ANALYST}),
}
_FIELDS = ("kind", "state", "attempts", "worker", "progress_text", "progress_fraction", "error")


def claimable(now: datetime) -> Q:
    """Jobs a worker may take at ``now``: queued, or running under a lease that ran out."""
    expired = Q(state=JobState.RUNNING, lease_until__lt=now)
    return (Q(state=JobState.QUEUED) | expired) & Q(attempts__lt=MAX_ATTEMPTS)


def _lock_kind(kind: str) -> None:
    if connection.vendor == "postgresql":
        key = zlib.crc32(f"npldesk-job-{kind}".encode())
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


@audit.service()
def job_enqueue(*, actor: Person, kind: str, parameters: dict[str, Any]) -> Job:
    """Queue ``kind`` with ``parameters`` for the worker."""
    actor = require_person(actor, "to queue a job")
    if kind not in JobKind.values:
        raise InvalidAction(
            translatable(
                "unknown job kind {kind!r}: one of {names}",
                kind=kind,
                names=", ".join(JobKind.values),
            )
        )
    if not is_system_actor(actor) and not (actor.active and actor.has_role(*ENQUEUERS[kind])):
        raise AccessDenied(
            translatable(
                "{actor} may not queue {what}",
                actor=actor.user.get_username(),
                what=kind.replace("_", " "),
            )
        )
    job = Job.objects.create(
        kind=kind,
        parameters=audit.jsonable(parameters),
        created_by=actor,
        created_at=timezone.now(),
    )
    audit.record(actor=actor, action="job_enqueue", obj=job, after=audit.snapshot(job, _FIELDS))
    return job


@audit.service()
def job_claim(
    *,
    actor: Person,
    job: Job,
    worker: str,
    now: datetime | None = None,
    dead_worker: str | None = None,
) -> Job:
    """Take ``job`` for ``worker`` (the system actor) under a lease; ``Conflict`` when another
    worker took it first or a job of its kind is running. ``dead_worker``: a worker the caller
    knows is gone (a process of this machine that no longer exists), whose job is taken
    without waiting for its lease to run out."""
    require(actor, Action.SYNC)
    moment = now or timezone.now()
    _lock_kind(job.kind)
    takeable = claimable(moment)
    if dead_worker:
        takeable |= Q(state=JobState.RUNNING, worker=dead_worker, attempts__lt=MAX_ATTEMPTS)
    locked = Job.objects.select_for_update(skip_locked=True).filter(takeable, pk=job.pk).first()
    if locked is None:
        raise Conflict(translatable("job {pk} was taken by another worker", pk=job.pk))
    busy = Job.objects.filter(kind=job.kind, state=JobState.RUNNING, lease_until__gte=moment)
    if busy.exclude(pk=job.pk).exists():
        raise Conflict(
            translatable("a {what} job is running: one at a time", what=job.kind.replace("_", " "))
        )
    before = audit.snapshot(locked, _FIELDS)
    locked.state = JobState.RUNNING
    locked.attempts += 1
    locked.worker = worker
    locked.started_at = moment
    locked.lease_until = moment + LEASE
    locked.error = ""
    locked.save(update_fields=["state", "attempts", "worker", "started_at", "lease_until", "error"])
    audit.record(
        actor=actor,
        action="job_claim",
        obj=locked,
        before=before,
        after=audit.snapshot(locked, _FIELDS),
    )
    return locked


def _held(job: Job, worker: str) -> Job:
    held = Job.objects.select_for_update().get(pk=job.pk)
    if held.state != JobState.RUNNING or held.worker != worker:
        raise Conflict(
            translatable("job {pk} is no longer held by {worker}", pk=job.pk, worker=worker)
        )
    return held


@audit.service()
def job_progress(
    *,
    actor: Person,
    job: Job,
    worker: str,
    text: str,
    fraction: float | None = None,
    now: datetime | None = None,
) -> Job:
    """What ``job`` is doing now, and its lease renewed (the worker's heartbeat)."""
    require(actor, Action.SYNC)
    held = _held(job, worker)
    held.progress_text = text[:200]
    held.progress_fraction = fraction
    held.lease_until = (now or timezone.now()) + LEASE
    held.save(update_fields=["progress_text", "progress_fraction", "lease_until"])
    audit.record(
        actor=actor,
        action="job_progress",
        obj=held,
        after={"progress_text": held.progress_text, "progress_fraction": fraction},
    )
    return held


@audit.service()
def job_finish(
    *,
    actor: Person,
    job: Job,
    worker: str,
    result: dict[str, Any] | None = None,
    error: str = "",
) -> Job:
    """``job`` ended: done with ``result``, or failed with ``error`` (and what ``result`` says
    of it: an import's problems)."""
    require(actor, Action.SYNC)
    held = _held(job, worker)
    held.state = JobState.FAILED if error else JobState.DONE
    held.result = audit.jsonable(result) if result is not None else None
    held.error = error
    held.finished_at = timezone.now()
    held.lease_until = None
    if not error:
        held.progress_fraction = 1.0
    held.save(
        update_fields=[
            "state",
            "result",
            "error",
            "finished_at",
            "lease_until",
            "progress_fraction",
        ]
    )
    audit.record(actor=actor, action="job_finish", obj=held, after=audit.snapshot(held, _FIELDS))
    return held
