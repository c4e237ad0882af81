"""``/api/v1/people``: the staff the caller may see (an administrator's or a lead's units)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from npldesk.casework import selectors
from npldesk.casework.models import Person
from npldesk.web.api.common import PROBLEMS, person

router = Router(tags=["people"])


class PersonOut(Schema):
    username: str
    name: str
    roles: list[str]
    units: list[str]
    departments: list[str]
    active: bool
    version: int


class PeopleOut(Schema):
    items: list[PersonOut]
    next: str | None = None


def person_row(p: Person) -> dict[str, Any]:
    """A person as ``npldesk users list --format json`` shows them (units, departments
    prefetched by the selector)."""
    return {
        "username": p.user.get_username(),
        "name": p.name,
        "roles": list(p.roles),
        "units": sorted(u.code for u in p.units.all()),
        "departments": sorted(d.code for d in p.departments.all()),
        "active": p.active,
        "version": p.version,
    }


@router.get("/people", response={200: PeopleOut, **PROBLEMS}, operation_id="people_list")
def people_list(request: HttpRequest) -> dict[str, Any]:
    """Staff with roles, units and departments (``npldesk users list --format json``)."""
    return {"items": [person_row(p) for p in selectors.people_list(person(request))], "next": None}
