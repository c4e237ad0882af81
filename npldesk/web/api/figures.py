"""``/api/v1/figures/``: asset quality, NPL movement, migration and the loan lists, as the CLI's
``--format json`` prints them.

Each operation calls one report builder of ``npldesk.reports`` (the lists: ``run_list``) on the
web's analytics session, through the web's figure cache (``web/figures/source.py``: computed
once per month-end), and answers the builder's own JSON document. The figures are for the
roles that read the figures pages (403 for the others); ``unit`` must be in the caller's scope
(404 otherwise) and defaults to the caller's highest unit. A caller whose unit is the top of
the tree reads exactly the CLI's document; anyone else reads their unit's rows, with their
unit's line as the total (grouping by anything but ``org_unit`` needs the whole book).

A list's rows are paginated (``limit``, ``cursor``); personal data is masked unless the caller
asks (``pii=true``) and works the loan's case, and a page that shows any is recorded first.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import replace
from datetime import date
from typing import Any, Literal

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.errors import ValidationError

from npldesk.analytics.lists import run_list
from npldesk.analytics.org import units_below
from npldesk.casework import selectors
from npldesk.casework.choices import Role
from npldesk.casework.errors import AccessDenied, NotFound
from npldesk.casework.models import Person, Unit
from npldesk.core.errors import UsageError
from npldesk.core.months import MonthError, parse_month
from npldesk.reports.exports import json_document, list_export
from npldesk.reports.figures import migration_report, movement_report, quality_report
from npldesk.reports.pii import MASKS, mask_rows, record_personal_data_export
from npldesk.tape.org import load_org
from npldesk.web.api.common import MAX_PAGE, PROBLEMS, person
from npldesk.web.figures import source

router = Router(tags=["figures"])

# The roles of the web's figures pages (web/figures/views.py).
FIGURE_ROLES = (Role.LEADER, Role.RISK_ANALYST, Role.TEAM_LEAD, Role.FINANCE)
MONTH = r"^\d{4}-\d{2}$"

GroupBy = Literal["org_unit", "product", "officer", "borrower_type"]
ListName = Literal["new-npl", "early-warning", "upgraded", "top-npl", "deviation"]


class QualityQuery(Schema):
    as_of: str = Field(pattern=MONTH, description="The month, YYYY-MM")
    by: GroupBy | None = None
    level: str | None = Field(None, max_length=40, description="With by=org_unit: one level")
    baseline: str | None = Field(None, pattern=MONTH, description="Default: previous December")
    unit: str | None = Field(None, max_length=32, description="Default: the caller's top unit")


class MovementQuery(Schema):
    as_of: str = Field(pattern=MONTH, description="The month, YYYY-MM")
    period: Literal["month", "ytd"] | None = None
    start: str | None = Field(None, alias="from", pattern=MONTH, description="Instead of period")
    by: GroupBy | None = None
    level: str | None = Field(None, max_length=40)
    unit: str | None = Field(None, max_length=32)


class MigrationQuery(Schema):
    start: str = Field(alias="from", pattern=MONTH, description="The earlier month")
    end: str = Field(alias="to", pattern=MONTH, description="The later month")
    basis: Literal["class", "dpd"] = "class"
    buckets: Literal["s71", "f18"] = "s71"
    unit: str | None = Field(None, max_length=32)


class ListQuery(Schema):
    as_of: str = Field(pattern=MONTH, description="The month of the list")
    start: str | None = Field(None, alias="from", pattern=MONTH, description="Compare with")
    top: int | None = Field(None, ge=1, le=10_000, description="top-npl: how many households")
    unit: str | None = Field(None, max_length=32)
    pii: bool = Field(False, description="Personal data of the cases the caller works")
    limit: int = Field(50, ge=1, le=MAX_PAGE)
    cursor: str | None = Field(None, max_length=500)


def _month(text: str | None, field: str) -> date | None:
    if text is None:
        return None
    try:
        return parse_month(text)
    except MonthError as exc:
        raise ValidationError([{"loc": ("query", field), "msg": str(exc)}]) from exc


def _required_month(text: str, field: str) -> date:
    month = _month(text, field)
    assert month is not None
    return month


def _reader(request: HttpRequest) -> Person:
    acting = person(request)
    if not acting.has_role(*FIGURE_ROLES):
        raise AccessDenied(_("Your role does not read the figures."))
    return acting


def _unit(acting: Person, code: str | None) -> Unit:
    """The unit asked for (in the caller's scope, else 404), or the caller's highest unit."""
    if code:
        return selectors.unit_in_scope(acting, code)
    found = selectors.home_unit(acting)
    if found is None:
        raise NotFound(_("No unit in your scope."))
    return found


def _whole_book(unit: Unit) -> bool:
    return unit.parent_id is None


def _subtree(acting: Person, unit: Unit) -> set[str]:
    return set(
        selectors.units_visible(acting)
        .filter(path__startswith=unit.path)
        .values_list("code", flat=True)
    )


def _narrowed(
    document: dict[str, Any], acting: Person, unit: Unit, whole: dict[str, Any], lines: Any
) -> dict[str, Any]:
    """``document`` (grouped by unit) for one unit: its subtree's rows, its own line as the
    total (``whole``: the same figures for every unit, where the unit's own row is)."""
    codes = _subtree(acting, unit)
    own = next((row for row in whole["rows"] if row["key"] == unit.code), None)
    if own is None:
        raise NotFound(_("No figures for unit %(unit)s.") % {"unit": unit.code})
    total = {k: v for k, v in own.items() if k not in ("key", "name")}
    if lines is not None:
        total = {k: total[k] for k in lines}
    rows = [row for row in document["rows"] if row["key"] in codes]
    return document | {"rows": rows, "total": total}


def _scope_grouping(unit: Unit, by: str | None) -> None:
    if not _whole_book(unit) and by not in (None, "org_unit"):
        raise AccessDenied(
            _("Grouping by %(by)s covers the whole book: ask by org_unit for your units.")
            % {"by": by}
        )


@router.get(
    "/figures/quality", response={200: dict[str, Any], **PROBLEMS}, operation_id="figures_quality"
)
def figures_quality(request: HttpRequest, query: Query[QualityQuery]) -> dict[str, Any]:
    """Asset quality (``npldesk quality --format json``)."""
    acting = _reader(request)
    as_of = _required_month(query.as_of, "as_of")
    baseline = _month(query.baseline, "baseline")
    unit = _unit(acting, query.unit)
    _scope_grouping(unit, query.by)
    by = query.by if _whole_book(unit) else "org_unit"
    report = source.figure(
        "quality",
        (as_of, by, query.level, baseline),
        lambda a: quality_report(a, as_of, by=by, level=query.level, baseline=baseline),
    )
    document = report.as_json()
    if _whole_book(unit):
        return document
    whole = source.figure(
        "quality",
        (as_of, "org_unit", None, baseline),
        lambda a: quality_report(a, as_of, by="org_unit", baseline=baseline),
    ).as_json()
    return _narrowed(document, acting, unit, whole, None)


@router.get(
    "/figures/movement",
    response={200: dict[str, Any], **PROBLEMS},
    operation_id="figures_movement",
)
def figures_movement(request: HttpRequest, query: Query[MovementQuery]) -> dict[str, Any]:
    """NPL movement (``npldesk movement --format json``), the identity checked per row."""
    acting = _reader(request)
    as_of = _required_month(query.as_of, "as_of")
    start = _month(query.start, "from")
    period = query.period if start is None and query.period else None
    if start is None and period is None:
        period = "month"
    unit = _unit(acting, query.unit)
    _scope_grouping(unit, query.by)
    by = query.by if _whole_book(unit) else "org_unit"

    def build(grouping: str | None, level: str | None) -> dict[str, Any]:
        report = source.figure(
            "movement",
            (as_of, period, start, grouping, level),
            lambda a: movement_report(
                a, as_of, period=period, start=start, by=grouping, level=level
            ),
        )
        return report.as_json()

    document = build(by, query.level)
    if _whole_book(unit):
        return document
    whole = build("org_unit", None)
    return _narrowed(document, acting, unit, whole, list(document["total"]))


@router.get(
    "/figures/migration",
    response={200: dict[str, Any], **PROBLEMS},
    operation_id="figures_migration",
)
def figures_migration(request: HttpRequest, query: Query[MigrationQuery]) -> dict[str, Any]:
    """The migration matrix and rates (``npldesk migration --format json``); for a unit, the
    cohort its units held at ``from``."""
    acting = _reader(request)
    start = _required_month(query.start, "from")
    end = _required_month(query.end, "to")
    unit = _unit(acting, query.unit)
    whole = _whole_book(unit)

    def build(analytics: Any) -> Any:
        units = None if whole else units_below(load_org(analytics.store), unit.code)
        return migration_report(
            analytics, start, end, basis=query.basis, buckets=query.buckets, units=units
        )

    key = (start, end, query.basis, query.buckets, None if whole else unit.code)
    document: dict[str, Any] = source.figure("migration", key, build).as_json()
    return document


class ListPage(Schema):
    name: str = Field(alias="list")
    as_of: str
    start: str | None = Field(None, alias="from")
    rule_set: str
    personal_data: str
    limit: int | None = None
    snapshots: list[dict[str, Any]]
    items: list[dict[str, Any]]
    next: str | None


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        offset = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
            raise ValueError(cursor)
    except (ValueError, binascii.Error, UnicodeDecodeError, TypeError) as exc:
        raise ValidationError(
            [{"loc": ("query", "cursor"), "msg": _("Not a cursor this API gave out.")}]
        ) from exc
    return offset


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps(offset).encode()).decode().rstrip("=")


@router.get(
    "/figures/lists/{name}",
    response={200: ListPage, **PROBLEMS},
    operation_id="figures_list",
    by_alias=True,
    exclude_unset=True,
)
def figures_list(request: HttpRequest, name: ListName, query: Query[ListQuery]) -> dict[str, Any]:
    """A loan list (``npldesk list NAME --format json``), a page at a time: the document's
    fields, its rows as ``items`` and the next page's ``cursor`` as ``next``."""
    acting = _reader(request)
    as_of = _required_month(query.as_of, "as_of")
    start = _month(query.start, "from")
    if start is not None and start >= as_of:
        raise UsageError(_("from must be a month before as_of."))
    unit = _unit(acting, query.unit)
    whole = _whole_book(unit)

    def build(analytics: Any) -> Any:
        units = None if whole else units_below(load_org(analytics.store), unit.code)
        return run_list(analytics, name, as_of, start=start, limit=query.top, units=units)

    key = (name, as_of, start, query.top, None if whole else unit.code)
    result = source.figure("list", key, build)
    offset = _offset(query.cursor)
    rows = list(result.rows[offset : offset + query.limit])
    more = offset + query.limit < len(result.rows)
    shown: set[str] = set()
    if query.pii:
        shown = selectors.loans_worked(acting, [str(row.get("loan_id")) for row in rows])
    export = list_export(result, pii=True)
    document = export.document | {"personal_data": "shown" if shown else "masked"}
    items = [row if str(row.get("loan_id")) in shown else mask_rows([row])[0] for row in rows]
    if shown:
        # Recorded before a byte of it is sent: the home's export log and the audit trail.
        record_personal_data_export(
            settings.HOME,
            actor=acting,
            what=f"list {result.name} {result.as_of.isoformat()}",
            rows=len(shown),
            list=result.name,
            as_of=result.as_of.isoformat(),
            start=result.start.isoformat() if result.start else None,
            format="api",
            rule_set=result.rule_set,
            personal_columns=sorted(set(MASKS) & set(export.columns)),
        )
    page = json_document(replace(export, rows=items, document=document))
    page["items"] = page.pop("rows")
    page["next"] = _cursor(offset + query.limit) if more else None
    return page
