"""``/`` for leaders and risk analysts (their units' dashboard) and ``/quality/`` (asset quality
down the unit tree, with downloads).

Figures come from the report builders through ``source.figure`` (cached per month-end); the
person's scope comes from the casework selectors: a unit outside it is a 404, as is a figures page
for a role that never uses one.
"""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from npldesk.analytics.movement import GROUP_LINES
from npldesk.casework import selectors
from npldesk.casework.choices import CaseState
from npldesk.casework.models import Person, Unit
from npldesk.core.errors import UsageError
from npldesk.core.months import month_label, parse_month, previous_december
from npldesk.reports import exports
from npldesk.reports.figures import (
    MovementLines,
    MovementReport,
    QualityLine,
    QualityReport,
    movement_report,
    quality_report,
    quality_trend,
)
from npldesk.reports.labels import MOVEMENT_LABELS, QUALITY_LABELS, TERMS, label, localise
from npldesk.web.figures import source
from npldesk.web.roles import for_page, uses
from npldesk.web.worklist.views import worklist

QUALITY_COLUMNS = (
    "key",
    "name",
    "loans",
    "balance",
    "npl_balance",
    "npl_ratio",
    "baseline_npl_balance",
    "baseline_npl_ratio",
    "npl_balance_change",
    "npl_ratio_change",
    "double_reduction",
)
QUALITY_MONEY = frozenset({"balance", "npl_balance", "baseline_npl_balance", "npl_balance_change"})
# The movement lines in the waterfall's order: opening, inflows, outflows, closing.
WATERFALL_IN = ("inflow", "increase", "moved_in")
WATERFALL_OUT = (
    "cash",
    "upgrade",
    "write_off",
    "transfer",
    "foreclosure",
    "unexplained",
    "moved_out",
)


def _person(request: HttpRequest) -> Person:
    person: Person = request.person  # type: ignore[attr-defined]
    return person


def _scope_unit(person: Person, code: str | None) -> Unit:
    """The unit asked for (it must be in the person's scope), else their highest unit."""
    if code:
        return selectors.unit_in_scope(person, code)
    found = selectors.home_unit(person)
    if found is None:
        raise Http404(_("no unit in your scope"))
    return found


def _month(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return parse_month(text)
    except (UsageError, ValueError) as error:
        raise Http404(str(error)) from error


def _latest_month() -> date | None:
    months = source.figure("months", (), lambda analytics: analytics.months())
    return months[-1] if months else None


@require_GET
def home(request: HttpRequest) -> HttpResponseBase:
    """The person's home: the dashboard for leaders and risk analysts, else the worklist."""
    if uses(_person(request), "dashboard"):
        return dashboard(request)
    return worklist(request)


@dataclass(frozen=True)
class UnitVerdict:
    code: str
    name: str
    line: QualityLine
    plan: dict[str, Any] | None = None


def _waterfall(lines: MovementLines) -> list[dict[str, Any]]:
    """The movement as steps: each line's label, signed amount in yuan (exact, as a string)."""
    steps = [{"code": "opening", "amount": lines.opening, "kind": "total"}]
    steps += [{"code": c, "amount": lines.line(c), "kind": "in"} for c in WATERFALL_IN]
    steps += [{"code": c, "amount": -lines.line(c), "kind": "out"} for c in WATERFALL_OUT]
    steps.append({"code": "closing", "amount": lines.closing, "kind": "total"})
    return [
        step | {"label": label(MOVEMENT_LABELS, str(step["code"])), "amount": str(step["amount"])}
        for step in steps
        if step["kind"] == "total" or step["amount"] != 0
    ]


@require_GET
@for_page("dashboard")
def dashboard(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    unit = _scope_unit(person, request.GET.get("unit"))
    as_of = _month(request.GET.get("as_of")) or _latest_month()
    context: dict[str, Any] = {"unit": unit, "as_of": as_of}
    latest_run = selectors.latest_month_end_run(person)
    context["run_line"] = latest_run.summary() if latest_run is not None else None
    cases = selectors.case_counts_by_state(person, unit=unit)
    context["cases"] = [(label_of_state(state), count) for state, count in cases.items()]
    if as_of is None:
        return render(request, "web/figures/dashboard.html", context)
    quality = source.figure(
        "quality", (as_of, "org_unit"), lambda a: quality_report(a, as_of, by="org_unit")
    )
    children = list(selectors.unit_children(person, unit))
    rows = {row.key: row for row in quality.rows}
    own = rows.get(unit.code)
    plan = _plan_tracking(person, as_of)
    verdicts = [
        UnitVerdict(
            child.code,
            child.name,
            rows[child.code].line,
            None if plan is None else plan.get(child.code),
        )
        for child in children
        if child.code in rows
    ]
    trend_start = date(as_of.year - 1, 1, 31)
    trend = source.figure(
        "trend", (trend_start, as_of), lambda a: quality_trend(a, trend_start, as_of)
    )
    movement = None
    movement_error = None
    try:
        movement = source.figure(
            "movement-ytd",
            (as_of, "org_unit"),
            lambda a: movement_report(a, as_of, period="ytd", by="org_unit"),
        )
    except UsageError as error:
        movement_error = localise(error.message)
    early = source.figure("early-warning-count", (as_of,), lambda a: _early_warning_units(a, as_of))
    codes = {u.code for u in selectors.units_visible(person).filter(path__startswith=unit.path)}
    waterfall = None
    if movement is not None:
        found = {row.key: row.lines for row in movement.rows}
        if unit.code in found:
            waterfall = _waterfall(found[unit.code])
    points = trend.of(unit.code)
    chart_data = {
        "trend": {
            "title": _("NPL balance and ratio, month-end"),
            "months": [month_label(p.as_of) for p in points],
            "npl_balance": [str(p.npl_balance) for p in points],
            "npl_ratio": [None if p.npl_ratio is None else str(p.npl_ratio) for p in points],
            "balance_name": localise(TERMS["npl"]),
            "ratio_name": localise(TERMS["npl_ratio"]),
            "wan": _is_chinese(),
        },
        "waterfall": None
        if waterfall is None
        else {
            "title": _("NPL movement, year to date"),
            "steps": waterfall,
            "wan": _is_chinese(),
        },
    }
    context.update(
        {
            "quality": quality,
            "own": own,
            "verdicts": verdicts,
            "baseline": quality.baseline or previous_december(as_of),
            "early_warning": sum(count for code, count in early.items() if code in codes),
            "movement_error": movement_error,
            "chart_data": chart_data,
            "trend_points": points,
            "waterfall": waterfall,
            "plan": plan,
            "own_plan": None if plan is None else plan.get(unit.code),
        }
    )
    return render(request, "web/figures/dashboard.html", context)


def _plan_tracking(person: Person, as_of: date) -> dict[str, dict[str, Any]] | None:
    """Each unit's row of the month's plan (the month-end run's, or the planner's defaults),
    by code; ``None`` where no plan can be made from the imported months."""
    from npldesk.planner.plan import PlanRequest
    from npldesk.web.planner.views import plan_for

    try:
        document = plan_for(person, PlanRequest(as_of=as_of, by="org_unit"))
    except UsageError:
        return None
    return {row["key"]: row for row in document["rows"]}


def label_of_state(state: str) -> str:
    return str(dict(CaseState.choices).get(state, state))


def _is_chinese() -> bool:
    from django.utils.translation import get_language

    return (get_language() or "").startswith("zh")


def _early_warning_units(analytics: Any, as_of: date) -> dict[str, int]:
    """Early-warning loans at ``as_of`` per unit of the tape (the list's rows counted)."""
    from npldesk.analytics.lists import run_list

    result = run_list(analytics, "early-warning", as_of)
    counts: dict[str, int] = {}
    for row in result.rows:
        code = str(row.get("org_unit") or "")
        counts[code] = counts.get(code, 0) + 1
    return counts


# -- asset quality ----------------------------------------------------------------------------


@dataclass(frozen=True)
class QualityTableRow:
    code: str
    name: str
    line: QualityLine
    drill: bool


def _quality_table(
    person: Person, unit: Unit, report: QualityReport
) -> tuple[QualityTableRow | None, list[QualityTableRow]]:
    rows = {row.key: row for row in report.rows}
    own_row = rows.get(unit.code)
    own = None if own_row is None else QualityTableRow(unit.code, unit.name, own_row.line, False)
    children = []
    for child in selectors.unit_children(person, unit):
        found = rows.get(child.code)
        if found is not None:
            has_children = selectors.unit_children(person, child).exists()
            children.append(QualityTableRow(child.code, child.name, found.line, has_children))
    return own, children


def _export(report: QualityReport, rows: list[QualityTableRow], unit: Unit) -> exports.ExportTable:
    data = []
    for row in rows:
        line = row.line
        data.append(
            {
                "key": row.code,
                "name": row.name,
                "loans": line.loans,
                "balance": line.balance,
                "npl_balance": line.npl_balance,
                "npl_ratio": line.npl_ratio,
                "baseline_npl_balance": line.baseline_npl_balance,
                "baseline_npl_ratio": line.baseline_npl_ratio,
                "npl_balance_change": line.npl_balance_change,
                "npl_ratio_change": line.npl_ratio_change,
                "double_reduction": line.double_reduction,
            }
        )
    title = _("Asset quality of %(unit)s at %(month)s") % {
        "unit": unit.name,
        "month": month_label(report.as_of),
    }
    return exports.ExportTable(
        name=f"quality-{unit.code}-{report.as_of:%Y-%m}",
        title=title,
        columns=QUALITY_COLUMNS,
        rows=data,
        money_columns=QUALITY_MONEY,
        lineage=[snapshot.as_json() for snapshot in report.snapshots],
        headers=tuple(label(QUALITY_LABELS, column) for column in QUALITY_COLUMNS),
    )


def _download(table: exports.ExportTable, fmt: str) -> HttpResponseBase:
    filename = f"{table.name}.{fmt}"
    if fmt == "csv":
        stream = io.StringIO()
        exports.write_csv(table, stream)
        response = HttpResponse(stream.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / filename
        exports.write_xlsx(table, target)
        content = target.read_bytes()
    return FileResponse(
        io.BytesIO(content),
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@require_GET
@for_page("figures")
def quality(request: HttpRequest) -> HttpResponseBase:
    person = _person(request)
    by = request.GET.get("by") or "org_unit"
    if by != "org_unit":
        raise Http404(_("the figures pages group by organisation unit"))
    unit = _scope_unit(person, request.GET.get("unit"))
    as_of = _month(request.GET.get("as_of")) or _latest_month()
    baseline = _month(request.GET.get("baseline"))
    context: dict[str, Any] = {"unit": unit, "as_of": as_of, "by": by}
    if as_of is None:
        return render(request, "web/figures/quality.html", context)
    try:
        report = source.figure(
            "quality",
            (as_of, "org_unit") if baseline is None else (as_of, "org_unit", baseline),
            lambda a: quality_report(a, as_of, by="org_unit", baseline=baseline),
        )
    except UsageError as error:
        context["error"] = localise(error.message)
        return render(request, "web/figures/quality.html", context, status=400)
    own, children = _quality_table(person, unit, report)
    fmt = request.GET.get("format")
    if fmt in ("csv", "xlsx"):
        return _download(_export(report, [r for r in [own, *children] if r is not None], unit), fmt)
    if fmt:
        raise Http404(_("no such download"))
    context.update(
        {
            "report": report,
            "own": own,
            "children": children,
            "ancestors": _ancestors(person, unit),
            "warnings": [localise(w) for w in report.warnings],
            "query": request.GET.urlencode(),
        }
    )
    return render(request, "web/figures/quality.html", context)


def _ancestors(person: Person, unit: Unit) -> list[Unit]:
    """The units above ``unit`` within the person's scope, top first (the breadcrumb)."""
    visible = {u.pk: u for u in selectors.units_visible(person)}
    chain = []
    current = unit.parent
    while current is not None and current.pk in visible:
        chain.append(visible[current.pk])
        current = visible[current.pk].parent
    return list(reversed(chain))


# -- NPL movement ------------------------------------------------------------------------------

MOVEMENT_COLUMNS = ("key", "name", *GROUP_LINES)


@dataclass(frozen=True)
class MovementTableRow:
    code: str
    name: str
    lines: MovementLines
    drill: bool

    @property
    def cells(self) -> list[tuple[str, str, Any]]:
        """Each line's code, label (in the reader's language) and amount."""
        return [(line, label(MOVEMENT_LABELS, line), self.lines.line(line)) for line in GROUP_LINES]


def _movement_export(
    report: MovementReport, rows: list[MovementTableRow], unit: Unit
) -> exports.ExportTable:
    data = [
        {"key": row.code, "name": row.name} | {line: row.lines.line(line) for line in GROUP_LINES}
        for row in rows
    ]
    title = _("NPL movement of %(unit)s from %(start)s to %(end)s") % {
        "unit": unit.name,
        "start": month_label(report.start),
        "end": month_label(report.end),
    }
    return exports.ExportTable(
        name=f"movement-{unit.code}-{report.end:%Y-%m}",
        title=title,
        columns=MOVEMENT_COLUMNS,
        rows=data,
        money_columns=frozenset(GROUP_LINES),
        lineage=[snapshot.as_json() for snapshot in report.snapshots],
        headers=(
            label(QUALITY_LABELS, "key"),
            label(QUALITY_LABELS, "name"),
            *(label(MOVEMENT_LABELS, line) for line in GROUP_LINES),
        ),
    )


@require_GET
@for_page("figures")
def movement(request: HttpRequest) -> HttpResponseBase:
    """The NPL movement of a unit and the units below it over a month, the year to date or a
    range (``period``, ``from``), with the CLI's filters and its downloads."""
    person = _person(request)
    unit = _scope_unit(person, request.GET.get("unit"))
    as_of = _month(request.GET.get("as_of")) or _latest_month()
    start = _month(request.GET.get("from"))
    period = None if start is not None else (request.GET.get("period") or "month")
    context: dict[str, Any] = {"unit": unit, "as_of": as_of, "period": period, "start": start}
    if as_of is None:
        return render(request, "web/figures/movement.html", context)
    try:
        report = source.figure(
            "movement",
            (as_of, period, start, "org_unit"),
            lambda a: movement_report(a, as_of, period=period, start=start, by="org_unit"),
        )
    except UsageError as error:
        context["error"] = localise(error.message)
        return render(request, "web/figures/movement.html", context, status=400)
    found = {row.key: row.lines for row in report.rows}
    rows = []
    if unit.code in found:
        rows.append(MovementTableRow(unit.code, unit.name, found[unit.code], False))
    for child in selectors.unit_children(person, unit):
        if child.code in found:
            drill = selectors.unit_children(person, child).exists()
            rows.append(MovementTableRow(child.code, child.name, found[child.code], drill))
    fmt = request.GET.get("format")
    if fmt in ("csv", "xlsx"):
        return _download(_movement_export(report, rows, unit), fmt)
    if fmt:
        raise Http404(_("no such download"))
    context.update(
        {
            "report": report,
            "own": rows[0] if rows and rows[0].code == unit.code else None,
            "children": [row for row in rows if row.code != unit.code],
            "headers": [label(MOVEMENT_LABELS, line) for line in GROUP_LINES],
            "ancestors": _ancestors(person, unit),
            "query": request.GET.urlencode(),
        }
    )
    return render(request, "web/figures/movement.html", context)
