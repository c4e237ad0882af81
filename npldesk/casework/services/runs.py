"""The record of a month-end run and its steps (``npldesk.monthend`` runs the steps).

Each call is one transaction with its audit record. A step whose work writes casework commits
its record in the same transaction as that work (``npldesk.monthend``), so that a run killed
halfway never holds a step done that did not happen, nor a change whose step is not done.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import timezone

from npldesk.casework import audit
from npldesk.casework.access import Action, require
from npldesk.casework.choices import RunKind, RunState
from npldesk.casework.errors import InvalidAction
from npldesk.casework.models import Person, Run, RunStep

_STEP_FIELDS = ("name", "position", "state", "counts", "error", "attempts")
_RUN_FIELDS = ("kind", "as_of", "state", "parameters", "attempts", "error")


@audit.service()
def run_start(
    *,
    actor: Person,
    as_of: date,
    parameters: dict[str, Any],
    kind: str = RunKind.MONTH_END,
) -> Run:
    """The run of ``kind`` for ``as_of``: a new one with ``parameters``, or the one that
    failed or was interrupted, resumed with the parameters it started with. A run that is done
    is not started again."""
    require(actor, Action.SYNC)
    now = timezone.now()
    run = Run.objects.select_for_update().filter(kind=kind, as_of=as_of).first()
    if run is None:
        run = Run.objects.create(
            kind=kind,
            as_of=as_of,
            parameters=audit.jsonable(parameters),
            started_at=now,
            started_by=actor,
        )
        audit.record(actor=actor, action="run_start", obj=run, after=audit.snapshot(run))
        return run
    if run.state == RunState.DONE:
        raise InvalidAction(f"the {run.kind} run of {as_of:%Y-%m} is already done")
    before = audit.snapshot(run, _RUN_FIELDS)
    run.state = RunState.RUNNING
    run.attempts += 1
    run.error = ""
    run.finished_at = None
    run.save(update_fields=["state", "attempts", "error", "finished_at"])
    audit.record(
        actor=actor,
        action="run_start",
        obj=run,
        before=before,
        after=audit.snapshot(run, _RUN_FIELDS),
    )
    return run


@audit.service()
def run_step_start(*, actor: Person, run: Run, name: str, position: int) -> RunStep:
    """Record that step ``name`` of ``run`` starts (again, after a failure or a kill)."""
    require(actor, Action.SYNC)
    now = timezone.now()
    step = RunStep.objects.select_for_update().filter(run=run, name=name).first()
    if step is None:
        step = RunStep.objects.create(run=run, name=name, position=position, started_at=now)
        audit.record(
            actor=actor,
            action="run_step_start",
            obj=step,
            after=audit.snapshot(step, _STEP_FIELDS),
        )
        return step
    if step.state == RunState.DONE:
        raise InvalidAction(f"step {name} of the {run} run is already done")
    before = audit.snapshot(step, _STEP_FIELDS)
    step.state = RunState.RUNNING
    step.started_at = now
    step.finished_at = None
    step.error = ""
    step.counts = {}
    step.attempts += 1
    step.save(update_fields=["state", "started_at", "finished_at", "error", "counts", "attempts"])
    audit.record(
        actor=actor,
        action="run_step_start",
        obj=step,
        before=before,
        after=audit.snapshot(step, _STEP_FIELDS),
    )
    return step


@audit.service()
def run_step_finish(
    *, actor: Person, step: RunStep, counts: dict[str, Any] | None = None, error: str = ""
) -> RunStep:
    """Record that ``step`` finished: done with what it counted, or failed with ``error``."""
    require(actor, Action.SYNC)
    step.state = RunState.FAILED if error else RunState.DONE
    step.finished_at = timezone.now()
    step.counts = audit.jsonable(counts or {})
    step.error = error
    step.save(update_fields=["state", "finished_at", "counts", "error"])
    audit.record(
        actor=actor,
        action="run_step_finish",
        obj=step,
        after=audit.snapshot(step, _STEP_FIELDS),
    )
    return step


@audit.service()
def run_finish(*, actor: Person, run: Run, error: str = "") -> Run:
    """Record that ``run`` ended: done, or stopped at a failed step with ``error``."""
    require(actor, Action.SYNC)
    run.state = RunState.FAILED if error else RunState.DONE
    run.finished_at = timezone.now()
    run.error = error
    run.save(update_fields=["state", "finished_at", "error"])
    audit.record(actor=actor, action="run_finish", obj=run, after=audit.snapshot(run, _RUN_FIELDS))
    return run
