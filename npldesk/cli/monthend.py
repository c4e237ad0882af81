"""``npldesk month-end`` and ``npldesk runs``: the month-end run after an import, and the
record of the runs (``docs/month-end.md``).

Thin: set Django up on the home, call ``npldesk.monthend.run_month_end`` or a selector, print.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

import typer

from npldesk.bootstrap import casework
from npldesk.cli.language import say, use_language
from npldesk.cli.options import AsOption, FormatOption, HomeOption, acting_person, month_option
from npldesk.cli.output import OutputFormat, console, emit, progress_reporter
from npldesk.core import numbers
from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable
from npldesk.home import load_home
from npldesk.reports.labels import MONTH_END_STEP_LABELS, TRACKING_LABELS, choice_label, label


def _(message: str) -> str:
    """Marks a message for the catalogues; ``say`` translates it when it is printed."""
    return message


runs_app = typer.Typer(help="The month-end runs: what ran, when, what each step did.")
STEP_COLUMNS = ("step", "state", "started", "finished", "attempts", "counts", "error")
RUN_COLUMNS = ("as_of", "state", "started", "finished", "attempts", "started_by", "summary")


def register(app: typer.Typer) -> None:
    """Add ``month-end`` and ``runs`` to the ``npldesk`` command."""
    app.command("month-end")(month_end)
    app.command("worker")(worker)
    app.add_typer(runs_app, name="runs")


def _day(text: str | None) -> date:
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(
            translatable("--today: expected a day as YYYY-MM-DD, not {text!r}", text=text)
        ) from exc


def _time(value: Any) -> str:
    return "" if value is None else f"{value:%Y-%m-%d %H:%M:%S}"


def _step_row(step: Any) -> dict[str, Any]:
    return {
        "step": step.name,
        "state": step.state,
        "started": _time(step.started_at),
        "finished": _time(step.finished_at),
        "attempts": step.attempts,
        "counts": step.counts,
        "error": step.error,
    }


def _run_document(run: Any, steps: list[Any]) -> dict[str, Any]:
    return {
        "kind": run.kind,
        "as_of": run.as_of.isoformat(),
        "state": run.state,
        "parameters": run.parameters,
        "started": _time(run.started_at),
        "finished": _time(run.finished_at),
        "attempts": run.attempts,
        "started_by": run.started_by.user.get_username(),
        "error": run.error,
        "summary": run.summary(),
        "steps": [_step_row(step) for step in steps],
    }


def _print_steps(document: dict[str, Any], output: OutputFormat) -> None:
    if output is OutputFormat.json:
        sys.stdout.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        return
    if output is OutputFormat.csv:
        rows = [
            dict(row, counts=json.dumps(row["counts"], ensure_ascii=False)[:120])
            for row in document["steps"]
        ]
        emit(rows, STEP_COLUMNS, output)
        return
    emit(
        [
            dict(
                row,
                step=label(MONTH_END_STEP_LABELS, row["step"]),
                state=_state(row["state"]),
                counts=_counts(row["counts"]),
                error=say(row["error"]) if row["error"] else "",
            )
            for row in document["steps"]
        ],
        STEP_COLUMNS,
        output,
        title=document["summary"],
        headers={column: say(STEP_HEADS[column]) for column in STEP_COLUMNS},
        right=("attempts",),
    )


STEP_HEADS = {
    "step": _("Step"),
    "state": _("State"),
    "started": _("Started"),
    "finished": _("Finished"),
    "attempts": _("Attempts"),
    "counts": _("Counts"),
    "error": _("Error"),
    "as_of": _("Month"),
    "started_by": _("Started by"),
    "summary": _("Summary"),
}


def _state(code: str) -> str:
    from npldesk.casework.choices import RunState

    return choice_label(RunState, code)


def _counts(counts: dict[str, Any] | None) -> str:
    """What a step counted, each count named in the active language (a code not named here as
    it is); a path or a list is left out (``--format json`` has them)."""
    shown = []
    for key, value in (counts or {}).items():
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            continue
        if key == "tracking":
            value = label(TRACKING_LABELS, str(value))
        elif key == "probability_double_reduction":
            value = numbers.percent(Decimal(str(value)))
        elif isinstance(value, int):
            value = f"{value:,}"
        elif "/" in str(value):
            continue
        shown.append(f"{say(COUNT_LABELS[key]) if key in COUNT_LABELS else key} {value}")
    return say(_(", ")).join(shown)


# What the month-end steps count (``npldesk.monthend.steps``), for people.
COUNT_LABELS = {
    "months": _("months"),
    "opened": _("opened"),
    "opened_early_warning": _("opened for early warning"),
    "updated": _("updated"),
    "kind_changed": _("became NPL"),
    "unchanged": _("unchanged"),
    "closed_total": _("closed"),
    "kept_open_for_recovery": _("kept open for recovery"),
    "households": _("households"),
    "loans": _("loans"),
    "changed": _("changed by the rules"),
    "units": _("units"),
    "tracking": _("tracking"),
    "probability_double_reduction": _("probability of double reduction"),
    "reports": _("reports"),
    "packs": _("packs"),
    "delivered": _("people reached"),
    "mailed": _("e-mails"),
    "skipped": _("already delivered"),
}


def month_end(
    as_of: Annotated[str, typer.Option("--as-of", help="The month just imported, YYYY-MM")],
    today: Annotated[
        str | None,
        typer.Option("--today", help="The judge's day, YYYY-MM-DD (default: today)"),
    ] = None,
    early_warning: Annotated[
        bool,
        typer.Option("--early-warning", help="Also open cases for loans 61-90 days past due"),
    ] = False,
    queue: Annotated[
        bool, typer.Option("--queue", help="Queue the run for `npldesk worker` instead")
    ] = False,
    home: HomeOption = None,
    output: FormatOption = OutputFormat.table,
    as_user: AsOption = None,
) -> None:
    """The month-end run after an import: classify, sync cases, judge, re-run the planner.
    A failed step stops the run; running again resumes from it; a run done is not run again."""
    from npldesk.analytics.session import Analytics

    month = month_option(as_of, "--as-of")
    day = _day(today)
    loaded = load_home(home)
    use_language(loaded)
    if queue:
        with casework(loaded):
            from npldesk.casework import services

            job = services.job_enqueue(
                actor=acting_person(as_user),
                kind="month_end",
                parameters={
                    "as_of": month.isoformat(),
                    "today": day.isoformat(),
                    "early_warning": early_warning,
                },
            )
        queued = translatable(
            "month-end {month} queued as job {job}", month=f"{month:%Y-%m}", job=job.pk
        )
        console().print(say(queued))
        return
    session = Analytics.for_home(loaded)
    with casework(loaded), progress_reporter() as say_progress:
        from npldesk.casework import selectors
        from npldesk.monthend import run_month_end

        actor = acting_person(as_user)
        session.progress = say_progress
        result = run_month_end(
            loaded, month, actor=actor, today=day, early_warning=early_warning,
            session=session, progress=say_progress,
        )  # fmt: skip
        document = _run_document(result.run, selectors.run_steps(actor, result.run))
    document["ran"] = result.ran
    if result.already_done and output is OutputFormat.table:
        done = translatable(
            "month-end {month} is already done: nothing to run", month=f"{month:%Y-%m}"
        )
        console().print(say(done))
    _print_steps(document, output)


@runs_app.command("list")
def runs_list(
    home: HomeOption = None,
    output: FormatOption = OutputFormat.table,
    as_user: AsOption = None,
) -> None:
    """Every month-end run, latest month first."""
    loaded = load_home(home)
    use_language(loaded)
    with casework(loaded):
        from npldesk.casework import selectors

        runs = selectors.runs_visible(acting_person(as_user))
        rows = [
            {
                "as_of": run.as_of.isoformat()[:7],
                "state": run.state,
                "started": _time(run.started_at),
                "finished": _time(run.finished_at),
                "attempts": run.attempts,
                "started_by": run.started_by.user.get_username(),
                "summary": run.summary(),
            }
            for run in runs
        ]
    if output is not OutputFormat.table:
        emit(rows, RUN_COLUMNS, output, json_document={"runs": rows})
        return
    emit(
        [dict(row, state=_state(str(row["state"]))) for row in rows],
        RUN_COLUMNS,
        output,
        title=say(translatable("Month-end runs ({count})", count=len(rows))),
        headers={column: say(STEP_HEADS[column]) for column in RUN_COLUMNS},
        right=("attempts",),
    )


@runs_app.command("show")
def runs_show(
    as_of: Annotated[str, typer.Argument(metavar="YYYY-MM", help="The run's month")],
    home: HomeOption = None,
    output: FormatOption = OutputFormat.table,
    as_user: AsOption = None,
) -> None:
    """One run: its parameters and each step's start, end, counts and error."""
    month = month_option(as_of, "YYYY-MM")
    loaded = load_home(home)
    use_language(loaded)
    with casework(loaded):
        from npldesk.casework import selectors

        actor = acting_person(as_user)
        run = selectors.run_get(actor, month)
        document = _run_document(run, selectors.run_steps(actor, run))
    _print_steps(document, output)
    if output is OutputFormat.table and document["error"]:
        console().print(say(document["error"]), markup=False)


def worker(
    home: HomeOption = None,
    once: Annotated[
        bool,
        typer.Option("--once", help="Run the jobs queued (and the schedule's due) and stop"),
    ] = False,
    poll: Annotated[
        float, typer.Option("--poll", help="Seconds between looks at the queue when idle")
    ] = 5.0,
) -> None:
    """Run queued jobs (uploads, month-end runs, the daily judgement) one at a time per kind,
    and the schedule of npldesk.toml ([schedule]: judge_at, month_end_on_import)."""
    if poll <= 0:
        raise UsageError(translatable("--poll {poll}: a number of seconds above 0", poll=poll))
    loaded = load_home(home)
    use_language(loaded)
    with casework(loaded):
        from npldesk.monthend.worker import work

        out = console()
        ran = work(
            loaded,
            actor=acting_person(None),
            once=once,
            poll=poll,
            say=lambda message: out.print(say(message), markup=False),
        )
    console().print(say(translatable("worker stopped: {ran} job(s) run", ran=ran)))
