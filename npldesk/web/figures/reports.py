"""``/reports/``: the monthly asset-quality report of ``npldesk report monthly`` in the app, for
a month and a unit of the person's scope, with its PDF and XLSX — the bytes the command writes
for the same month, unit and author.

The report's figures are built once per month-end and unit (``source.figure``); who generated
it and when (to the minute) are the person asking and now, as the command names its user.
"""

from __future__ import annotations

import io
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.http import FileResponse, Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from npldesk.core.errors import UsageError
from npldesk.core.months import month_label
from npldesk.reports.labels import localise
from npldesk.reports.monthly import MonthlyReport, monthly_report, report_title
from npldesk.reports.monthly_render import html_sections, write_pdf, write_xlsx
from npldesk.web.figures import source
from npldesk.web.figures.views import (
    _ancestors,
    _latest_month,
    _month,
    _person,
    _scope_unit,
)
from npldesk.web.roles import for_page

# Built once per month-end and unit; the author and the time are the request's.
UNSIGNED = datetime(1970, 1, 1, tzinfo=UTC)
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
WRITERS = {"pdf": write_pdf, "xlsx": write_xlsx}


def _file(report: MonthlyReport, fmt: str) -> HttpResponseBase:
    filename = f"report-{report.unit.code}-{month_label(report.as_of)}.{fmt}"
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / filename
        WRITERS[fmt](report, target)
        content = target.read_bytes()
    return FileResponse(
        io.BytesIO(content), as_attachment=True, filename=filename, content_type=CONTENT_TYPES[fmt]
    )


def _outlook(person: Any, as_of: Any) -> dict[str, Any] | None:
    """§9's plan: the planner page's with the defaults (the month-end run's once it ran), as
    ``npldesk report monthly`` takes it; none where no plan can be made."""
    from npldesk.planner.plan import PlanRequest
    from npldesk.web.planner.views import plan_for

    try:
        return plan_for(person, PlanRequest(as_of=as_of, by="org_unit"))
    except UsageError:
        return None


@require_GET
@for_page("reports")
def reports(request: HttpRequest) -> HttpResponseBase:
    """The monthly report of a unit (default: the person's highest) at a month (default: the
    latest imported), as a page, a PDF or a workbook."""
    person = _person(request)
    unit = _scope_unit(person, request.GET.get("unit"))
    as_of = _month(request.GET.get("as_of")) or _latest_month()
    fmt = request.GET.get("format")
    if fmt and fmt not in WRITERS:
        raise Http404(_("no such download"))
    context: dict[str, Any] = {"unit": unit, "as_of": as_of}
    if as_of is None:
        return render(request, "web/figures/reports.html", context)
    try:
        outlook = _outlook(person, as_of)
        # §8 is the casework as the person may see it: the report is theirs.
        built = source.figure(
            "monthly-report",
            (as_of, unit.code, person.pk, outlook),
            lambda a: monthly_report(
                a,
                as_of,
                unit=unit.code,
                generated_by="",
                generated_at=UNSIGNED,
                casework_reader=person,
                plan=outlook,
            ),
        )
    except UsageError as error:
        context["error"] = localise(error.message)
        return render(request, "web/figures/reports.html", context, status=400)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    report = replace(built, generated_by=person.user.username, generated_at=now)
    if fmt:
        return _file(report, fmt)
    context.update(
        {
            "report": report,
            "title": localise(report_title(report)),
            # Each table scrolls sideways on a phone: reachable from the keyboard too.
            "body": html_sections(report).replace("<table>", '<table tabindex="0">'),
            "ancestors": _ancestors(person, unit),
            "query": request.GET.urlencode(),
        }
    )
    return render(request, "web/figures/reports.html", context)
