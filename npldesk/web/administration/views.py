"""``/admin/``: administration for admins — people, their roles, units and departments.

Every change is one service (``person_create``, ``person_update``) as the signed-in admin, so
it is checked against the admin's units and audited. A new person's first password is made
here, shown once on the page that answers the creation, and stored only hashed.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from npldesk.casework import selectors, services
from npldesk.casework.choices import (
    CASE_WORKING_ROLES,
    Ability,
    Role,
    Strategy,
    Tier,
    Willingness,
)
from npldesk.casework.errors import Conflict, InvalidAction
from npldesk.casework.models import Person
from npldesk.reports.labels import department_name, localise
from npldesk.web.administration.forms import (
    LegalDetailsForm,
    PersonCreateForm,
    PersonUpdateForm,
    TeamCreateForm,
    TeamMembersForm,
)
from npldesk.web.roles import for_page


def _choices(person: Person) -> dict[str, Any]:
    return {
        "units": [(u.code, f"{u.code} {u.name}") for u in selectors.units_visible(person)],
        "departments": [
            (d.code, department_name(d.code, d.name)) for d in selectors.departments_visible(person)
        ],
    }


def _people_page(request: HttpRequest, form: PersonCreateForm, **extra: Any) -> HttpResponse:
    person = request.person  # type: ignore[attr-defined]
    return render(
        request,
        "web/administration/people.html",
        {"people": selectors.people_list(person), "form": form, "Role": Role, **extra},
    )


@require_http_methods(["GET"])
@for_page("administration")
def people(request: HttpRequest) -> HttpResponse:
    return _people_page(request, PersonCreateForm(**_choices(request.person)))  # type: ignore[attr-defined]


@require_POST
@for_page("administration")
def person_create(request: HttpRequest) -> HttpResponse:
    actor = request.person  # type: ignore[attr-defined]
    form = PersonCreateForm(request.POST, **_choices(actor))
    if not form.is_valid():
        return _people_page(request, form)
    data = form.cleaned_data
    password = secrets.token_urlsafe(12)
    try:
        created = services.person_create(
            actor=actor,
            username=data["username"],
            name=data["name"],
            roles=data["roles"],
            unit_codes=data["units"],
            department_codes=data["departments"],
            password=password,
        )
    except InvalidAction as exc:
        messages.error(request, exc.message)
        return _people_page(request, form)
    # Shown once, on this answer only: it is not in the audit record nor anywhere else.
    return _people_page(
        request, PersonCreateForm(**_choices(actor)), created=created, password=password
    )


@require_http_methods(["GET", "POST"])
@for_page("administration")
def person(request: HttpRequest, username: str) -> HttpResponse:
    actor = request.person  # type: ignore[attr-defined]
    target = selectors.person_get(actor, username)
    if request.method == "POST":
        form = PersonUpdateForm(request.POST, **_choices(actor))
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.person_update(
                    actor=actor,
                    person=target,
                    version=data["version"],
                    roles=data["roles"],
                    unit_codes=data["units"],
                    department_codes=data["departments"],
                    active=data["active"],
                )
            except Conflict as exc:
                messages.error(request, _("Not saved: %(message)s") % {"message": exc.message})
            except InvalidAction as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("Saved."))
            return redirect("web:admin_person", username=username)
    else:
        form = PersonUpdateForm(
            initial={
                "version": target.version,
                "roles": target.roles,
                "units": [u.code for u in target.units.all()],
                "departments": [d.code for d in target.departments.all()],
                "active": target.active,
            },
            **_choices(actor),
        )
    return render(
        request, "web/administration/person.html", {"target": target, "form": form, "Role": Role}
    )


def _staff(person: Person) -> list[tuple[str, str]]:
    """Who may lead or join a team: the active people of the admin's units who work cases
    (the services check each against the team's area, ``access.require_team_member``)."""
    return [
        (p.user.get_username(), f"{p.name} ({p.user.get_username()})")
        for p in selectors.people_list(person)
        if p.active and p.has_role(*CASE_WORKING_ROLES)
    ]


def _teams_page(request: HttpRequest, form: TeamCreateForm) -> HttpResponse:
    return render(
        request,
        "web/administration/teams.html",
        {"teams": selectors.team_list(request.person), "form": form},  # type: ignore[attr-defined]
    )


@require_http_methods(["GET", "POST"])
@for_page("administration")
def teams(request: HttpRequest) -> HttpResponse:
    actor = request.person  # type: ignore[attr-defined]
    options = {"people": _staff(actor), "units": _choices(actor)["units"]}
    if request.method == "GET":
        return _teams_page(request, TeamCreateForm(**options))
    form = TeamCreateForm(request.POST, **options)
    if not form.is_valid():
        return _teams_page(request, form)
    data = form.cleaned_data
    try:
        services.team_create(
            actor=actor,
            code=data["code"],
            name=data["name"],
            kind=data["kind"],
            leader=selectors.person_get(actor, data["leader"]),
            unit_codes=data["units"],
            active_from=data["active_from"],
        )
    except InvalidAction as exc:
        messages.error(request, exc.message)
        return _teams_page(request, form)
    messages.success(request, _("Saved."))
    return redirect("web:admin_team", code=data["code"])


@require_http_methods(["GET", "POST"])
@for_page("administration")
def team(request: HttpRequest, code: str) -> HttpResponse:
    actor = request.person  # type: ignore[attr-defined]
    found = selectors.team_get(actor, code)
    people = _staff(actor)
    if request.method == "POST":
        form = TeamMembersForm(request.POST, people=people)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.team_set_members(
                    actor=actor,
                    team=found,
                    version=data["version"],
                    members=[selectors.person_get(actor, u) for u in data["members"]],
                )
            except Conflict as exc:
                messages.error(request, _("Not saved: %(message)s") % {"message": exc.message})
            except InvalidAction as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("Saved."))
            return redirect("web:admin_team", code=code)
    else:
        form = TeamMembersForm(
            initial={
                "version": found.version,
                "members": [m.user.get_username() for m in found.members.all()],
            },
            people=people,
        )
    return render(request, "web/administration/team.html", {"team": found, "form": form})


@require_http_methods(["GET"])
@for_page("administration")
def policy(request: HttpRequest) -> HttpResponse:
    """The policy table, read-only: it lives in the home's ``npldesk.toml`` (ADR 0016)."""
    return render(
        request,
        "web/administration/policy.html",
        {
            "rows": selectors.policy_table(request.person),  # type: ignore[attr-defined]
            "Ability": Ability,
            "Willingness": Willingness,
            "Strategy": Strategy,
            "Tier": Tier,
        },
    )


@require_http_methods(["GET"])
@for_page("administration")
def legal_details(request: HttpRequest) -> HttpResponse:
    """The units' legal details (name, address, legal representative) their documents state."""
    return render(
        request,
        "web/administration/legal_details.html",
        {"rows": selectors.unit_legal_details_list(request.person)},  # type: ignore[attr-defined]
    )


@require_http_methods(["GET", "POST"])
@for_page("administration")
def unit_legal_details(request: HttpRequest, code: str) -> HttpResponse:
    actor = request.person  # type: ignore[attr-defined]
    found = [(u, d) for u, d in selectors.unit_legal_details_list(actor) if u.code == code]
    if not found:
        raise Http404(code)
    unit, details = found[0]
    if request.method == "POST":
        form = LegalDetailsForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.unit_legal_details_set(
                    actor=actor,
                    unit=unit,
                    legal_name=data["legal_name"],
                    address=data["address"],
                    legal_representative=data["legal_representative"],
                    phone=data["phone"],
                    version=data["version"],
                )
            except Conflict as exc:
                messages.error(
                    request, _("Not saved: %(message)s") % {"message": localise(exc.message)}
                )
            except InvalidAction as exc:
                messages.error(request, localise(exc.message))
            else:
                messages.success(request, _("Saved."))
                return redirect("web:admin_legal_details")
    else:
        initial: dict[str, Any] = {}
        if details is not None:
            initial = {
                "version": details.version,
                "legal_name": details.legal_name,
                "address": details.address,
                "legal_representative": details.legal_representative,
                "phone": details.phone,
            }
        form = LegalDetailsForm(initial=initial)
    return render(
        request,
        "web/administration/unit_legal_details.html",
        {"unit": unit, "details": details, "form": form},
    )
