"""``/api/v1/``'s administration: people (create, change roles, units, departments, whether
active), the roles, the units, teams and their members — for administrators only (403 for the
others), through the services the web's administration pages call (``web/administration/``), so
every change is checked against the administrator's units, compared with its ``version`` and
audited. Units follow the imported organisation file: they are read here, never written.
"""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from npldesk.casework import selectors, services
from npldesk.casework.choices import Role, TeamKind
from npldesk.casework.errors import AccessDenied
from npldesk.casework.models import Person, Team
from npldesk.web.api.common import PROBLEMS, Problem, person
from npldesk.web.api.people import PersonOut, person_row
from npldesk.web.api.people import router as people_router

# ``/people`` is one path of two routers' operations: Django would serve only the first router's
# pattern, so the writes on people join the people router.
router = Router(tags=["administration"])

USERNAME = r"^[\w.@+-]+$"
CODE = r"^[A-Za-z0-9_.-]+$"


def _admin(request: HttpRequest) -> Person:
    acting = person(request)
    if not acting.has_role(Role.ADMIN):
        raise AccessDenied(_("Only an administrator may do this."))
    return acting


class PersonIn(Schema):
    username: str = Field(min_length=1, max_length=150, pattern=USERNAME)
    name: str = Field(min_length=1, max_length=200)
    roles: list[Role] = Field(min_length=1, max_length=10)
    units: list[str] = Field(min_length=1, max_length=50)
    departments: list[str] = Field(default_factory=list, max_length=50)


class PersonCreated(PersonOut):
    password: str = Field(description="The first password: shown once, stored only hashed")


class PersonChange(Schema):
    version: int = Field(ge=1, description="The person's version as read")
    roles: list[Role] | None = Field(None, max_length=10)
    units: list[str] | None = Field(None, max_length=50)
    departments: list[str] | None = Field(None, max_length=50)
    active: bool | None = None


@people_router.get(
    "/people/{username}", response={200: PersonOut, **PROBLEMS}, operation_id="person_show"
)
def person_show(request: HttpRequest, username: str) -> dict[str, Any]:
    """One member of staff of the administrator's units."""
    return person_row(selectors.person_get(_admin(request), username))


@people_router.post(
    "/people", response={201: PersonCreated, **PROBLEMS}, operation_id="person_create"
)
def person_create(request: HttpRequest, body: PersonIn) -> Status[dict[str, Any]]:
    """A new member of staff with a first password (in this answer only)."""
    acting = _admin(request)
    password = secrets.token_urlsafe(12)
    created = services.person_create(
        actor=acting,
        username=body.username,
        name=body.name,
        roles=[str(role) for role in body.roles],
        unit_codes=body.units,
        department_codes=body.departments,
        password=password,
    )
    return Status(201, person_row(created) | {"password": password})


@people_router.patch(
    "/people/{username}",
    response={200: PersonOut, 409: Problem, **PROBLEMS},
    operation_id="person_update",
)
def person_update(request: HttpRequest, username: str, body: PersonChange) -> dict[str, Any]:
    """Roles, units, departments or whether the person may sign in; a stale ``version`` is
    a 409."""
    acting = _admin(request)
    changed = services.person_update(
        actor=acting,
        person=selectors.person_get(acting, username),
        version=body.version,
        roles=None if body.roles is None else [str(role) for role in body.roles],
        unit_codes=body.units,
        department_codes=body.departments,
        active=body.active,
    )
    return person_row(changed)


class RoleOut(Schema):
    code: str
    label: str


class RolesOut(Schema):
    items: list[RoleOut]
    next: str | None = None


@router.get("/roles", response={200: RolesOut, **PROBLEMS}, operation_id="roles_list")
def roles_list(request: HttpRequest) -> dict[str, Any]:
    """The roles a person may hold, with their names in the caller's language."""
    _admin(request)
    return {"items": [{"code": c, "label": str(n)} for c, n in Role.choices], "next": None}


class UnitOut(Schema):
    code: str
    name: str
    parent: str | None
    level: str


class UnitsOut(Schema):
    items: list[UnitOut]
    next: str | None = None


@router.get("/units", response={200: UnitsOut, **PROBLEMS}, operation_id="units_list")
def units_list(request: HttpRequest) -> dict[str, Any]:
    """The units of the administrator's scope, in tree order."""
    units = selectors.units_visible(_admin(request)).order_by("path")
    return {
        "items": [
            {
                "code": u.code,
                "name": u.name,
                "parent": None if u.parent is None else u.parent.code,
                "level": u.level,
            }
            for u in units
        ],
        "next": None,
    }


class TeamOut(Schema):
    code: str
    name: str
    kind: str
    leader: str
    members: list[str]
    units: list[str]
    active_from: date
    active_to: date | None
    version: int


class TeamsOut(Schema):
    items: list[TeamOut]
    next: str | None = None


class TeamIn(Schema):
    code: str = Field(min_length=1, max_length=32, pattern=CODE)
    name: str = Field(min_length=1, max_length=200)
    kind: TeamKind
    leader: str = Field(min_length=1, max_length=150)
    units: list[str] = Field(default_factory=list, max_length=50)
    active_from: date


class MembersIn(Schema):
    version: int = Field(ge=1, description="The team's version as read")
    members: list[str] = Field(max_length=500, description="Usernames: the whole membership")


def team_row(team: Team) -> dict[str, Any]:
    return {
        "code": team.code,
        "name": team.name,
        "kind": team.kind,
        "leader": team.leader.user.get_username(),
        "members": sorted(m.user.get_username() for m in team.members.all()),
        "units": sorted(u.code for u in team.units.all()),
        "active_from": team.active_from,
        "active_to": team.active_to,
        "version": team.version,
    }


@router.get("/teams", response={200: TeamsOut, **PROBLEMS}, operation_id="teams_list")
def teams_list(request: HttpRequest) -> dict[str, Any]:
    """The teams of the administrator's units, with leader, members and units."""
    return {"items": [team_row(t) for t in selectors.team_list(_admin(request))], "next": None}


@router.post("/teams", response={201: TeamOut, **PROBLEMS}, operation_id="team_create")
def team_create(request: HttpRequest, body: TeamIn) -> Status[dict[str, Any]]:
    """A clearing team or task force: its leader and the units it covers."""
    acting = _admin(request)
    team = services.team_create(
        actor=acting,
        code=body.code,
        name=body.name,
        kind=str(body.kind),
        leader=selectors.person_get(acting, body.leader),
        unit_codes=body.units,
        active_from=body.active_from,
    )
    return Status(201, team_row(selectors.team_get(acting, team.code)))


@router.put(
    "/teams/{code}/members",
    response={200: TeamOut, 409: Problem, **PROBLEMS},
    operation_id="team_set_members",
)
def team_set_members(request: HttpRequest, code: str, body: MembersIn) -> dict[str, Any]:
    """The team's whole membership (people of its area who work cases); a stale ``version``
    is a 409."""
    acting = _admin(request)
    team = services.team_set_members(
        actor=acting,
        team=selectors.team_get(acting, code),
        version=body.version,
        members=[selectors.person_get(acting, username) for username in body.members],
    )
    return team_row(selectors.team_get(acting, team.code))
