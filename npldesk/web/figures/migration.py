"""``/migration/``: the class matrix of a unit's loans between a base month (the start of the
year by default) and a month, with the regulatory migration rates, a heat map, drill-down to
the units below and downloads — the figures of ``npldesk migration`` for the same months."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from npldesk.analytics.org import units_below
from npldesk.analytics.session import Analytics
from npldesk.casework import selectors
from npldesk.casework.models import Unit
from npldesk.core.errors import UsageError
from npldesk.core.months import month_label, previous_december
from npldesk.reports import exports
from npldesk.reports.figures import MigrationReport, migration_report
from npldesk.reports.labels import RATE_LABELS, STATE_LABELS, TERMS, label, localise
from npldesk.tape.org import load_org
from npldesk.web.figures import source
from npldesk.web.figures.views import (
    _ancestors,
    _download,
    _is_chinese,
    _latest_month,
    _month,
    _person,
    _scope_unit,
)
from npldesk.web.roles import for_page

BASES = ("class", "dpd")
MIGRATION_COLUMNS = ("from", "to", "count", "balance", "share_of_row")


def unit_codes(analytics: Analytics, unit: Unit) -> list[str] | None:
    """The tape's codes of ``unit`` and the units below it; ``None`` for the root (the whole
    book, as the command line without ``--unit`` counts it)."""
    if unit.parent_id is None:
        return None
    return units_below(load_org(analytics.store), unit.code)


@dataclass(frozen=True)
class MatrixCell:
    target: str
    count: int
    balance: Decimal
    share: Decimal | None


@dataclass(frozen=True)
class MatrixRow:
    source: str
    label: str
    cells: list[MatrixCell]
    count: int
    balance: Decimal


def _rows(report: MigrationReport) -> list[MatrixRow]:
    rows = []
    for state in report.states:
        total = report.row_balance(state)
        cells = []
        for target in report.columns:
            cell = report.cell(state, target)
            share = cell.balance / total if total else None
            cells.append(MatrixCell(target, cell.count, cell.balance, share))
        rows.append(
            MatrixRow(
                state,
                label(STATE_LABELS, state),
                cells,
                sum(c.count for c in cells),
                total,
            )
        )
    return rows


def _heatmap(report: MigrationReport, rows: list[MatrixRow]) -> dict[str, Any]:
    """The matrix as the chart draws it: each cell's share of its row's balance, in percent."""
    data = []
    for y, row in enumerate(rows):
        for x, cell in enumerate(row.cells):
            share = None if cell.share is None else f"{cell.share * 100:.2f}"
            data.append([x, y, share, str(cell.balance), cell.count])
    return {
        "title": _("Share of the start balance, by class at the start and where it went"),
        "columns": [label(STATE_LABELS, c) for c in report.columns],
        "rows": [row.label for row in rows],
        "data": data,
        "wan": _is_chinese(),
        "loans": _("Loans"),
        "balance": _("Balance"),
    }


def _export(report: MigrationReport, rows: list[MatrixRow], unit: Unit) -> exports.ExportTable:
    data = [
        {
            "from": row.source,
            "to": cell.target,
            "count": cell.count,
            "balance": cell.balance,
            "share_of_row": cell.share,
        }
        for row in rows
        for cell in row.cells
    ]
    title = _("Migration of %(unit)s from %(start)s to %(end)s") % {
        "unit": unit.name,
        "start": month_label(report.start),
        "end": month_label(report.end),
    }
    return exports.ExportTable(
        name=f"migration-{unit.code}-{report.start:%Y-%m}-{report.end:%Y-%m}",
        title=title,
        columns=MIGRATION_COLUMNS,
        rows=data,
        money_columns=frozenset({"balance"}),
        lineage=[snapshot.as_json() for snapshot in report.snapshots],
        headers=(_("From"), _("To"), _("Loans"), _("Balance"), _("Share of the row")),
    )


@require_GET
@for_page("figures")
def migration(request: HttpRequest) -> HttpResponseBase:
    """The migration matrix and rates of a unit's loans from ``from`` (default: the previous
    December) to ``as_of``, on the class or days-past-due basis."""
    person = _person(request)
    unit = _scope_unit(person, request.GET.get("unit"))
    as_of = _month(request.GET.get("as_of")) or _latest_month()
    basis = request.GET.get("basis") or "class"
    if basis not in BASES:
        raise Http404(_("no such basis"))
    chosen_start = _month(request.GET.get("from"))
    start: date | None = chosen_start
    if start is None and as_of is not None:
        start = previous_december(as_of)
    context: dict[str, Any] = {
        "unit": unit,
        "as_of": as_of,
        "start": start,
        "chosen_start": chosen_start,
        "basis": basis,
    }
    if as_of is None or start is None:
        return render(request, "web/figures/migration.html", context)
    try:
        report = source.figure(
            "migration",
            (start, as_of, basis, unit.code),
            lambda a: migration_report(a, start, as_of, basis=basis, units=unit_codes(a, unit)),
        )
    except UsageError as error:
        context["error"] = localise(error.message)
        return render(request, "web/figures/migration.html", context, status=400)
    rows = _rows(report)
    fmt = request.GET.get("format")
    if fmt in ("csv", "xlsx"):
        return _download(_export(report, rows, unit), fmt)
    if fmt:
        raise Http404(_("no such download"))
    rates = None
    if report.rates is not None:
        rates = [
            (code, label(RATE_LABELS, code), found.rate) for code, found in report.rates.items()
        ]
    children = [
        (child, selectors.unit_children(person, child).exists())
        for child in selectors.unit_children(person, unit)
    ]
    context.update(
        {
            "report": report,
            "rows": rows,
            "heads": [label(STATE_LABELS, c) for c in report.columns],
            "targets": list(report.columns),
            "rates": rates,
            "children": children,
            "ancestors": _ancestors(person, unit),
            "total_word": localise(TERMS["total"]),
            "chart_data": {"heatmap": _heatmap(report, rows)},
            "query": request.GET.urlencode(),
        }
    )
    return render(request, "web/figures/migration.html", context)
