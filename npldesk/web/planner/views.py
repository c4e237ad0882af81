"""``/planner/``: where each unit ends the year, how sure that is, what closes the gap
(``docs/planner.md``), down the unit tree, with the command line's options as a what-if form.

The figures are ``npldesk plan --by org_unit --format json``'s: the planner's one builder
(``planner.plan.plan_report``) on the worker's analytics session and the casework pipeline as the
signed-in person may see it, through the figures' cache (``web.figures.source``) keyed by the
snapshots, the rule set, the options and the pipeline, so a plan is computed once per month-end
and set of options, not per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from npldesk.analytics.forecast import year_end_of
from npldesk.analytics.session import Analytics
from npldesk.casework import selectors
from npldesk.casework.models import Person, Unit
from npldesk.core.errors import UsageError
from npldesk.planner.levers import LEVERS
from npldesk.planner.pipeline import Pipeline, read_pipeline
from npldesk.planner.plan import PlanRequest, month_plan, plan_report
from npldesk.reports.labels import LEVER_LABELS, label, localise
from npldesk.web.figures import source
from npldesk.web.roles import for_page

OPTION_FIELDS = ("growth", "window", "draws", "seed", "price_ratio")


@dataclass(frozen=True)
class PlanRow:
    """One unit's row of the plan document as the page shows it."""

    code: str
    name: str
    figures: dict[str, Any]
    drill: bool = False
    own_book: bool = False

    @property
    def levers(self) -> list[tuple[str, str, dict[str, str]]]:
        """Each lever's code, label and figures (capacity, proposed, expected loss)."""
        return [
            (lever, label(LEVER_LABELS, lever), self.figures["levers"][lever]) for lever in LEVERS
        ]

    @property
    def expected_loss(self) -> Decimal:
        """The proposed mix's expected loss to the bank, all levers (the CLI's column)."""
        return sum(
            (Decimal(self.figures["levers"][lever]["expected_loss"]) for lever in LEVERS),
            Decimal(0),
        )


def _person(request: HttpRequest) -> Person:
    person: Person = request.person  # type: ignore[attr-defined]
    return person


def _scope_unit(person: Person, code: str | None) -> Unit:
    if code:
        return selectors.unit_in_scope(person, code)
    found = selectors.home_unit(person)
    if found is None:
        raise Http404(_("no unit in your scope"))
    return found


def plan_for(person: Person, plan_request: PlanRequest) -> dict[str, Any]:
    """The plan document for ``plan_request`` (``planner.plan.month_plan``): with the defaults,
    the month-end run's (the plan the bank tracks, ``docs/planner.md``) while it is still the
    month's; otherwise computed with ``person``'s pipeline, from the cache when neither the
    snapshots, the rule set, the options nor the pipeline changed."""
    until = year_end_of(plan_request.as_of)
    return month_plan(
        source.session(),
        plan_request,
        home=settings.HOME.path,
        pipeline=lambda: read_pipeline(person, as_of=plan_request.as_of, until=until),
        build=_cached_plan,
    )


def _cached_plan(
    analytics: Analytics, plan_request: PlanRequest, pipeline: Pipeline
) -> dict[str, Any]:
    """``plan_report`` through the figures' cache (on the worker's session, which ``analytics``
    is), keyed by the options and the pipeline as well as the snapshots and the rule set."""
    found: dict[str, Any] = source.figure(
        "plan", (plan_request, pipeline), lambda a: plan_report(a, plan_request, pipeline)
    )
    return found


def _books_loans(row: dict[str, Any]) -> bool:
    return any(Decimal(row[name] or 0) != 0 for name in ("current_balance", "baseline_balance"))


def _rows(person: Person, unit: Unit, document: dict[str, Any]) -> tuple[PlanRow | None, list]:
    by_key = {row["key"]: row for row in document["rows"]}
    own = by_key.get(unit.code)
    shown = None if own is None else PlanRow(unit.code, unit.name, own)
    rows = []
    own_book = by_key.get(f"{unit.code} own book")
    # A parent that books no loans itself has an empty own book: nothing to show.
    if own_book is not None and _books_loans(own_book):
        rows.append(PlanRow(own_book["key"], own_book["name"], own_book, own_book=True))
    for child in selectors.unit_children(person, unit):
        found = by_key.get(child.code)
        if found is not None:
            drill = selectors.unit_children(person, child).exists()
            rows.append(PlanRow(child.code, child.name, found, drill=drill))
    return shown, rows


def _ancestors(person: Person, unit: Unit) -> list[Unit]:
    visible = {u.pk: u for u in selectors.units_visible(person)}
    chain = []
    current = unit.parent
    while current is not None and current.pk in visible:
        chain.append(visible[current.pk])
        current = visible[current.pk].parent
    return list(reversed(chain))


def _latest_month() -> date | None:
    months = source.figure("months", (), lambda analytics: analytics.months())
    return months[-1] if months else None


@require_GET
@for_page("planner")
def planner(request: HttpRequest) -> HttpResponse:
    """The plan of a unit and the units below it, with the options as a what-if."""
    from npldesk.web.planner.forms import PlanForm

    person = _person(request)
    unit = _scope_unit(person, request.GET.get("unit"))
    form = PlanForm(request.GET)
    context: dict[str, Any] = {
        "unit": unit,
        "form": form,
        "ancestors": _ancestors(person, unit),
        "levers": [(lever, label(LEVER_LABELS, lever)) for lever in LEVERS],
        "option_fields": [form[name] for name in OPTION_FIELDS],
        "lever_fields": [form[name] for name in (*LEVERS, "quota")],
    }
    if not form.is_valid():
        context["as_of"] = None
        return render(request, "web/planner/planner.html", context, status=400)
    as_of = form.month() or _latest_month()
    context["as_of"] = as_of
    if as_of is None:
        return render(request, "web/planner/planner.html", context)
    try:
        document = plan_for(person, form.plan_request(as_of, unit.code))
    except UsageError as error:
        context["error"] = localise(error.message)
        return render(request, "web/planner/planner.html", context, status=400)
    own, rows = _rows(person, unit, document)
    query = request.GET.copy()
    query.pop("unit", None)
    context.update(
        {
            "document": document,
            "own": own,
            "rows": rows,
            "warnings": [localise(w) for w in document["warnings"]],
            "query": query.urlencode(),
        }
    )
    return render(request, "web/planner/planner.html", context)
