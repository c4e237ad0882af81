"""``/teams/`` and ``/teams/<code>/``: the lead's teams, each team's board, bulk reassignment.

The board reads one selector (``team_board``); the reassignment is one ``case_reassign_bulk``
call as the signed-in lead, over the cases at the versions the board showed them.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from npldesk.casework import selectors, services
from npldesk.casework.choices import CaseState, Strategy
from npldesk.casework.errors import Conflict, InvalidAction
from npldesk.web.roles import for_page
from npldesk.web.teams.forms import ReassignForm


@require_GET
@for_page("teams")
def team_list(request: HttpRequest) -> HttpResponse:
    person = request.person  # type: ignore[attr-defined]
    return render(
        request,
        "web/teams/list.html",
        {
            "teams": selectors.team_list(person),
            "plans": selectors.plans_waiting(person),
            "Strategy": Strategy,
        },
    )


@require_GET
@for_page("teams")
def team_board(request: HttpRequest, code: str) -> HttpResponse:
    today = timezone.localdate()
    board = selectors.team_board(request.person, code, today=today)  # type: ignore[attr-defined]
    return render(
        request,
        "web/teams/board.html",
        {"board": board, "today": today, "CaseState": CaseState, "Strategy": Strategy},
    )


@require_POST
@for_page("teams")
def reassign(request: HttpRequest, code: str) -> HttpResponse:
    person = request.person  # type: ignore[attr-defined]
    board = selectors.team_board(person, code, today=timezone.localdate())
    owners = {p.user.get_username(): p for p in board.owners}
    teams = {t.code: t for t in board.teams}
    form = ReassignForm(
        request.POST,
        cases=request.POST.getlist("cases"),
        owners=[(u, p.name) for u, p in owners.items()],
        teams=[(c, t.name) for c, t in teams.items()],
    )
    if not form.is_valid():
        for field, errors in form.errors.items():
            for error in errors:
                messages.error(request, f"{form.fields[field].label}: {error}")
        return redirect("web:team", code=code)
    data = form.cleaned_data
    chosen: dict[str, int] = data["cases"]
    cases = selectors.team_cases_for_reassignment(person, list(chosen))
    for case in cases:
        # The batch is compared against what the lead saw, not what the database holds now.
        case.version = chosen[case.number]
    try:
        changed = services.case_reassign_bulk(
            actor=person,
            cases=cases,
            owner=owners.get(data["owner"]) if data["owner"] else None,
            team=teams.get(data["team"]) if data["team"] else None,
            reason=data["reason"],
        )
    except Conflict as exc:
        messages.error(request, _("Not saved: %(message)s") % {"message": exc.message})
    except InvalidAction as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Cases reassigned: %(count)s.") % {"count": changed})
    return redirect("web:team", code=code)
