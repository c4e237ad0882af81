"""The run machinery: the step registry, and running the steps not done yet."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import transaction

from npldesk.analytics.session import Analytics
from npldesk.casework import selectors, services
from npldesk.casework.choices import RunKind, RunState
from npldesk.casework.models import Person, Run, RunStep
from npldesk.core.errors import DataError, NpldeskError
from npldesk.core.months import month_label
from npldesk.home import Home


@dataclass
class RunContext:
    """What every step is given: the home, the month, who acts, the run's parameters."""

    home: Home
    as_of: date
    actor: Person
    today: date
    early_warning: bool
    session: Analytics
    progress: Callable[[str], None]


@dataclass(frozen=True)
class Step:
    """One step: its name (the record's), and the work that returns what it counted.

    ``in_transaction``: the step writes casework only, so its writes and the record that it is
    done commit together (a run killed halfway redoes it whole, never twice). Other steps write
    files (the tape store's classification, the planner's document) that are written whole or
    not at all and the same each time, so a step redone after a kill ends the same."""

    name: str
    work: Callable[[RunContext], dict[str, Any]]
    in_transaction: bool = False


# The steps, in the order they run; ``npldesk.monthend.steps`` registers the built-in ones.
STEPS: list[Step] = []


def register_step(
    name: str,
    work: Callable[[RunContext], dict[str, Any]],
    *,
    in_transaction: bool = False,
    before: str | None = None,
) -> Step:
    """Add a step to the run, at the end or just before the step named ``before``."""
    if any(step.name == name for step in STEPS):
        raise ValueError(f"a month-end step named {name!r} is already registered")
    step = Step(name, work, in_transaction)
    names = [s.name for s in STEPS]
    if before is None:
        STEPS.append(step)
    else:
        STEPS.insert(names.index(before), step)
    return step


class StepFailed(DataError):
    """A step failed: the run stopped there, and the next run resumes from it."""


@dataclass
class MonthEndResult:
    """The run, the steps this call ran (none when the run was already done), and every
    step's record."""

    run: Run
    ran: list[str]
    steps: list[RunStep] = field(default_factory=list)

    @property
    def already_done(self) -> bool:
        return not self.ran


def run_month_end(
    home: Home,
    as_of: date,
    *,
    actor: Person,
    today: date,
    early_warning: bool = False,
    session: Analytics | None = None,
    progress: Callable[[str], None] | None = None,
) -> MonthEndResult:
    """Run the month-end of ``as_of``: every step of ``STEPS`` not done yet, in order.

    ``today`` (the judge's day) and ``early_warning`` are kept with the run: a resumed run
    uses those it started with. Raises ``StepFailed`` naming the step and its error when a step
    fails (its record says so); the steps before it stay done."""
    from npldesk.monthend import steps as _builtin  # noqa: F401  (registers the steps)

    analytics = session if session is not None else Analytics.for_home(home)
    analytics.require_month(as_of, what="--as-of")
    say = progress or (lambda _message: None)
    existing = selectors.run_find(actor, as_of)
    if existing is not None and existing.state == RunState.DONE:
        return MonthEndResult(existing, [], selectors.run_steps(actor, existing))
    run = services.run_start(
        actor=actor,
        as_of=as_of,
        kind=RunKind.MONTH_END,
        parameters={"today": today, "early_warning": early_warning},
    )
    context = RunContext(
        home=home,
        as_of=as_of,
        actor=actor,
        today=date.fromisoformat(run.parameters["today"]),
        early_warning=bool(run.parameters["early_warning"]),
        session=analytics,
        progress=say,
    )
    done = {s.name for s in selectors.run_steps(actor, run) if s.state == RunState.DONE}
    ran: list[str] = []
    for position, step in enumerate(STEPS):
        if step.name in done:
            continue
        say(f"month-end {month_label(as_of)}: {step.name}")
        record = services.run_step_start(actor=actor, run=run, name=step.name, position=position)
        try:
            if step.in_transaction:
                with transaction.atomic():
                    counts = step.work(context)
                    services.run_step_finish(actor=actor, step=record, counts=counts)
            else:
                counts = step.work(context)
                services.run_step_finish(actor=actor, step=record, counts=counts)
        except Exception as exc:
            message = (
                exc.message if isinstance(exc, NpldeskError) else f"{type(exc).__name__}: {exc}"
            )
            services.run_step_finish(actor=actor, step=record, error=message)
            stopped = (
                f"month-end {month_label(as_of)} stopped at step {step.name}: {message}; "
                f"the steps before it are done: fix this and run `npldesk month-end --as-of "
                f"{month_label(as_of)}` again to resume from {step.name}"
            )
            services.run_finish(actor=actor, run=run, error=stopped)
            raise StepFailed(stopped) from exc
        ran.append(step.name)
    run = services.run_finish(actor=actor, run=run)
    return MonthEndResult(run, ran, selectors.run_steps(actor, run))
