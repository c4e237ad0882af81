"""``npldesk report monthly``: the monthly asset-quality report as PDF, XLSX or HTML.

Thin: parse the options, open an analytics session on the home in its language, call the report
builder (``reports.monthly``) and hand its one typed result to a renderer. The file is written
beside the target and renamed into place, so a reader never sees half a report.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from npldesk.analytics.session import Analytics
from npldesk.bootstrap import casework
from npldesk.cli.language import say, use_language
from npldesk.cli.options import (
    AsOption,
    BackendOption,
    FormatOption,
    HomeOption,
    RuleSetOption,
    acting_person,
    month_option,
)
from npldesk.cli.output import OutputFormat, emit, err_console, print_warnings, progress_reporter
from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable
from npldesk.core.months import month_label
from npldesk.core.system import current_user
from npldesk.home import Home, load_home
from npldesk.reports.exports import check_target, replacing
from npldesk.reports.monthly import MonthlyReport, monthly_report
from npldesk.reports.monthly_render import write_html, write_pdf, write_xlsx

report_app = typer.Typer(
    help="Reports: the monthly asset-quality report and the risk reminders.", no_args_is_help=True
)


class ReportFormat(StrEnum):
    pdf = "pdf"
    xlsx = "xlsx"
    html = "html"


WRITERS: dict[ReportFormat, Callable[[MonthlyReport, Path], None]] = {
    ReportFormat.pdf: write_pdf,
    ReportFormat.xlsx: write_xlsx,
    ReportFormat.html: write_html,
}


def _format_of(out: Path | None) -> ReportFormat:
    """The format ``--out``'s suffix names; a PDF otherwise."""
    suffix = "" if out is None else out.suffix.lower().lstrip(".")
    return ReportFormat(suffix) if suffix in set(ReportFormat) else ReportFormat.pdf


def _casework_reader(home: Home, as_user: str | None) -> Any:
    """Who §8 reads the casework as: the system actor or ``--as``; none in a tape-only home
    (or one whose casework database is not set up), which has no §8."""
    if not home.has_casework_database:
        return None
    from django.db import DatabaseError

    from npldesk.bootstrap import setup_django
    from npldesk.casework.errors import NotFound

    setup_django(home)
    try:
        return acting_person(as_user)
    except (DatabaseError, NotFound) as exc:
        print_warnings([translatable("the casework database cannot be read ({exc})", exc=str(exc))])
        return None


def _plan(home: Home, session: Analytics, month: date, as_user: str | None) -> Any:
    """The month's plan by unit for §9 (``planner.plan.month_plan``): what the month-end run
    kept while it is still the month's, else ``npldesk plan --by org_unit``'s with the defaults;
    none where no plan can be made from the months imported."""
    from npldesk.cli.plan import _pipeline
    from npldesk.planner.plan import PlanRequest, month_plan

    try:
        return month_plan(
            session,
            PlanRequest(as_of=month, by="org_unit"),
            home=home.path,
            pipeline=lambda: _pipeline(home, month, as_user),
        )
    except UsageError as error:
        print_warnings([translatable("no year-end outlook: {reason}", reason=error.message)])
        return None


def register(app: typer.Typer) -> None:
    """Add ``npldesk report`` to ``app``."""
    app.add_typer(report_app, name="report")


@report_app.command("monthly")
def monthly(
    as_of: Annotated[str, typer.Option("--as-of", help="The month, YYYY-MM")],
    unit: Annotated[
        str | None, typer.Option("--unit", help="The unit's code (default: the bank)")
    ] = None,
    fmt: Annotated[
        ReportFormat | None,
        typer.Option("--format", help="pdf, xlsx or html (default: from --out's suffix, or pdf)"),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write here (default: report-UNIT-YYYY-MM.FORMAT)"),
    ] = None,
    home: HomeOption = None,
    backend: BackendOption = None,
    rule_set: RuleSetOption = None,
    as_user: AsOption = None,
) -> None:
    """The monthly asset-quality report of the bank or one unit."""
    month = month_option(as_of, "--as-of")
    chosen = fmt or _format_of(out)
    if out is not None:
        check_target(out)
    loaded = load_home(home)
    use_language(loaded)
    session = Analytics.for_home(loaded, backend=backend, rule_set=rule_set)
    with progress_reporter() as say_progress:
        session.progress = say_progress
        reader = _casework_reader(loaded, as_user)
        report = monthly_report(
            session,
            month,
            unit=unit,
            generated_by=current_user(),
            generated_at=datetime.now(UTC),
            casework_reader=reader,
            plan=_plan(loaded, session, month, as_user),
        )
    target = out or Path(f"report-{report.unit.code}-{month_label(month)}.{chosen.value}")
    check_target(target)
    with replacing(target) as partial:
        WRITERS[chosen](report, partial)
    err_console().print(
        say(translatable("wrote the report to {out}", out=str(target))), highlight=False
    )


@report_app.command("reminders")
def reminders(
    as_of: Annotated[str, typer.Option("--as-of", help="The month, YYYY-MM")],
    unit: Annotated[
        str | None, typer.Option("--unit", help="Only this unit's pack (default: every unit)")
    ] = None,
    today: Annotated[
        str | None,
        typer.Option("--today", help="Read the case alerts as of this day (default: today)"),
    ] = None,
    home: HomeOption = None,
    output: FormatOption = OutputFormat.table,
    as_user: AsOption = None,
) -> None:
    """Build each unit's risk-reminder pack and deliver it to the unit's people: the web app's
    inbox, and an e-mail notice through the `[mail]` SMTP server when one is configured.
    Delivering a month again delivers nothing twice."""
    month = month_option(as_of, "--as-of")
    if today is None:
        day = date.today()
    else:
        try:
            day = date.fromisoformat(today)
        except ValueError as exc:
            raise UsageError(
                translatable("--today: expected a day as YYYY-MM-DD, not {value}", value=today)
            ) from exc
    loaded = load_home(home)
    use_language(loaded)
    session = Analytics.for_home(loaded)
    with casework(loaded), progress_reporter() as say_progress:
        # Imported once Django is set up on the home (the builder reads casework).
        from npldesk.reports.reminders import SECTIONS, deliver_reminders, section_title

        session.progress = say_progress
        result = deliver_reminders(
            loaded,
            session,
            month,
            actor=acting_person(as_user),
            today=day,
            unit=unit,
            progress=say_progress,
        )
    rows = [
        {"unit": row["unit"], **row["counts"], "people": row["people"], "mailed": row["mailed"]}
        for row in result.units
    ]
    columns = ["unit", *SECTIONS, "people", "mailed"]
    emit(
        rows,
        columns,
        output,
        json_document={"as_of": month.isoformat(), "today": day.isoformat(), **result.as_json()},
        title=say(
            translatable(
                "reminders {month}: {packs} packs delivered to {people} people, "
                "{mailed} e-mails, {skipped} already delivered",
                month=month_label(month),
                packs=result.packs,
                people=result.delivered,
                mailed=result.mailed,
                skipped=result.skipped,
            )
        ),
        right=[*SECTIONS, "people", "mailed"],
        headers={
            "unit": say(translatable("Unit")),
            **{name: say(section_title(name)) for name in SECTIONS},
            "people": say(translatable("People")),
            "mailed": say(translatable("E-mails")),
        },
    )
