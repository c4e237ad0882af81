"""``/admin/``: administration for admins — people, their roles, units and departments.

Every change is one service (``person_create``, ``person_update``) as the signed-in admin, so
it is checked against the admin's units and audited. A new person's first password is made
here, shown once on the page that answers the creation, and stored only hashed.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from npldesk.casework import selectors, services
from npldesk.casework.choices import Role
from npldesk.casework.errors import Conflict, InvalidAction
from npldesk.casework.models import Person
from npldesk.web.administration.forms import PersonCreateForm, PersonUpdateForm
from npldesk.web.roles import for_page


def _choices(person: Person) -> dict[str, Any]:
    return {
        "units": [(u.code, f"{u.code} {u.name}") for u in selectors.units_visible(person)],
        "departments": [(d.code, d.name) for d in selectors.departments_visible(person)],
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
