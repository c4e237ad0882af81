"""``/lists/<name>/``: the loan lists of ``npldesk list`` (new NPL, early warning, upgraded,
the largest NPL households, reported-grade deviations) for a unit and month, with the command's
filters, pages, sorting and its downloads.

Personal data is masked. A person who works some of the listed loans' cases may ask to see it
(``pii=1``): the rows of the cases they work are then shown or exported unmasked, the others
stay masked, and the view or export is recorded (``reports.pii``) before any of it is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from npldesk.analytics.lists import (
    EXTRA_COLUMNS,
    LIST_NAMES,
    MONEY_COLUMNS,
    PERSONAL_COLUMNS,
    ListResult,
    run_list,
)
from npldesk.casework import selectors
from npldesk.casework.models import Person, Unit
from npldesk.core.errors import UsageError
from npldesk.reports import exports
from npldesk.reports.labels import (
    CLASS_LABELS,
    LIST_COLUMN_LABELS,
    LIST_TITLES,
    PRODUCT_LABELS,
    label,
    localise,
)
from npldesk.reports.pii import MASKS, mask_rows, record_personal_data_export
from npldesk.web.figures import source
from npldesk.web.figures.migration import unit_codes
from npldesk.web.figures.views import (
    _ancestors,
    _download,
    _latest_month,
    _month,
    _person,
    _scope_unit,
)
from npldesk.web.roles import for_page

PAGE_SIZE = 50
# What the page shows of every list (every column is in the downloads), then the list's own.
SCREEN_COLUMNS = (
    "loan_id",
    "borrower_id",
    "borrower_name",
    "org_unit",
    "product",
    "principal_balance",
    "days_past_due",
    "class",
    "previous_class",
)
CLASS_COLUMNS = frozenset({"class", "previous_class", "reported_class"})
NUMBER_COLUMNS = frozenset(
    {
        "principal_balance",
        "days_past_due",
        "days_to_npl",
        "household_rank",
        "household_npl_balance",
        "household_npl_loans",
    }
)


@dataclass(frozen=True)
class Cell:
    column: str
    head: str
    value: Any
    money: bool
    number: bool
    flag: bool


@dataclass(frozen=True)
class Row:
    loan_id: str
    case: str | None
    cells: list[Cell]


def _limit(text: str | None) -> int | None:
    if not text:
        return None
    try:
        return int(text)
    except ValueError as error:
        raise Http404(_("the limit is a whole number")) from error


def _sorted(rows: list[dict[str, Any]], sort: str, columns: tuple[str, ...]) -> list[Any]:
    """``rows`` by ``sort`` (a column, ``-`` first for largest first); the list's own order
    breaks ties and is kept without one. Missing values last either way."""
    if not sort:
        return rows
    column = sort.removeprefix("-")
    if column not in columns or column in PERSONAL_COLUMNS:
        raise Http404(_("no such column"))
    present = [row for row in rows if row.get(column) is not None]
    missing = [row for row in rows if row.get(column) is None]
    present.sort(key=lambda row: row[column], reverse=sort.startswith("-"))
    return present + missing


def _shown(
    person: Person, rows: list[dict[str, Any]], pii: bool
) -> tuple[list[dict[str, Any]], dict[str, selectors.LoanCase], int]:
    """The rows as this person may see them, each loan's case in their scope, and how many rows
    show personal data (only those of cases the person works, and only when asked)."""
    cases = selectors.loan_cases(person, [str(row["loan_id"]) for row in rows])
    if not pii:
        return mask_rows(rows), cases, 0
    shown, unmasked = [], 0
    for row in rows:
        found = cases.get(str(row["loan_id"]))
        if found is not None and found.works:
            shown.append(dict(row))
            unmasked += 1
        else:
            shown.extend(mask_rows([row]))
    return shown, cases, unmasked


def _record(
    person: Person, result: ListResult, unit: Unit, rows: int, fmt: str, page: int | None
) -> None:
    what = f"list {result.name} {result.as_of.isoformat()} {unit.code}"
    record_personal_data_export(
        settings.HOME,
        actor=person,
        what=what,
        rows=rows,
        list=result.name,
        as_of=result.as_of.isoformat(),
        start=result.start.isoformat() if result.start else None,
        unit=unit.code,
        format=fmt,
        page=page,
        rule_set=result.rule_set,
        personal_columns=sorted(set(MASKS) & set(result.columns)),
        web_user=person.user.username,
    )


@require_GET
@for_page("figures")
def loan_list(request: HttpRequest, name: str) -> HttpResponseBase:
    person = _person(request)
    if name not in LIST_NAMES:
        raise Http404(_("no such list"))
    unit = _scope_unit(person, request.GET.get("unit"))
    as_of = _month(request.GET.get("as_of")) or _latest_month()
    start: date | None = _month(request.GET.get("from"))
    limit = _limit(request.GET.get("limit")) if name == "top-npl" else None
    product = request.GET.get("product") or ""
    sort = request.GET.get("sort") or ""
    pii = request.GET.get("pii") == "1"
    context: dict[str, Any] = {
        "name": name,
        "title": label(LIST_TITLES, name),
        "lists": [(code, label(LIST_TITLES, code)) for code in LIST_NAMES],
        "unit": unit,
        "as_of": as_of,
        "start": start,
        "limit": limit,
        "product": product,
        "sort": sort,
        "pii": pii,
    }
    if as_of is None:
        return render(request, "web/figures/list.html", context)
    try:
        result = source.figure(
            "list",
            (name, as_of, start, limit, unit.code),
            lambda a: run_list(a, name, as_of, start=start, limit=limit, units=unit_codes(a, unit)),
        )
    except UsageError as error:
        context["error"] = localise(error.message)
        return render(request, "web/figures/list.html", context, status=400)
    products = sorted({str(row["product"]) for row in result.rows if row.get("product")})
    rows = [row for row in result.rows if not product or row.get("product") == product]
    rows = _sorted(rows, sort, result.columns)
    fmt = request.GET.get("format")
    if fmt in ("csv", "xlsx"):
        shown, _cases, unmasked = _shown(person, rows, pii)
        if unmasked:
            _record(person, result, unit, unmasked, fmt, None)
        export = exports.list_export(replace(result, rows=shown), pii=unmasked > 0)
        export = replace(export, name=f"{name}-{unit.code}-{as_of:%Y-%m}")
        return _download(export, fmt)
    if fmt:
        raise Http404(_("no such download"))
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    shown, cases, unmasked = _shown(person, list(page.object_list), pii)
    if unmasked:
        _record(person, result, unit, unmasked, "page", page.number)
    columns = [*SCREEN_COLUMNS, *EXTRA_COLUMNS[name]]
    table = [
        Row(
            str(row["loan_id"]),
            cases[str(row["loan_id"])].number if str(row["loan_id"]) in cases else None,
            [
                Cell(
                    column,
                    label(LIST_COLUMN_LABELS, column),
                    label(CLASS_LABELS, row.get(column))
                    if column in CLASS_COLUMNS and row.get(column)
                    else label(PRODUCT_LABELS, row.get(column))
                    if column == "product" and row.get(column)
                    else row.get(column),
                    column in MONEY_COLUMNS,
                    column in NUMBER_COLUMNS,
                    column == "becomes_npl_within_30_days",
                )
                for column in columns
            ],
        )
        for row in shown
    ]
    query = request.GET.copy()
    for key in ("page", "sort", "format", "pii"):
        query.pop(key, None)
    context.update(
        {
            "result": result,
            "rows": table,
            "page": page,
            "count": len(rows),
            "columns": [
                (
                    column,
                    label(LIST_COLUMN_LABELS, column),
                    column in NUMBER_COLUMNS,
                    column not in PERSONAL_COLUMNS,
                )
                for column in columns
            ],
            "products": [(code, label(PRODUCT_LABELS, code)) for code in products],
            "may_unmask": any(found.works for found in cases.values()),
            "unmasked": unmasked,
            "base_query": query.urlencode(),
            "ancestors": _ancestors(person, unit),
            "children": list(selectors.unit_children(person, unit)),
        }
    )
    return render(request, "web/figures/list.html", context)
