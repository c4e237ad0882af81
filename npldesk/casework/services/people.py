"""Administration: units kept in step with the organisation file, people and their roles,
teams and task forces."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date

from django.contrib.auth import get_user_model

from npldesk.casework import audit
from npldesk.casework.access import (
    Action,
    is_system_actor,
    require,
    require_team,
    require_team_member,
    require_unit,
    team_area,
    unit_paths,
)
from npldesk.casework.choices import Role, TeamKind
from npldesk.casework.errors import InvalidAction
from npldesk.casework.models import Department, Person, Team, Unit
from npldesk.casework.services._common import compare_and_swap
from npldesk.core.i18n import translatable


@audit.service()
def units_sync(*, actor: Person, org_units: Iterable[Mapping[str, str | None]]) -> dict[str, int]:
    """Bring the unit table in step with the organisation file (``code, name, parent, level``).

    Units are added and renamed or moved, never deleted (cases and people refer to them).
    """
    require(actor, Action.ADMINISTER)
    rows = {str(row["code"]): row for row in org_units}
    existing = {unit.code: unit for unit in Unit.objects.all()}
    paths: dict[str, str] = {}

    def path_of(code: str, seen: tuple[str, ...] = ()) -> str:
        if code in paths:
            return paths[code]
        if code in seen:
            raise InvalidAction(
                translatable("organisation file: unit {code} is its own ancestor", code=code)
            )
        if code not in rows and code in existing:
            # A parent the file does not list keeps the path it has.
            return existing[code].path
        parent = rows[code].get("parent") if code in rows else None
        prefix = path_of(str(parent), (*seen, code)) if parent else "/"
        paths[code] = f"{prefix}{code}/"
        return paths[code]

    for code, row in rows.items():
        parent = row.get("parent")
        if parent and parent not in rows and parent not in existing:
            raise InvalidAction(
                translatable(
                    "organisation file: unit {code} has unknown parent {parent}",
                    code=code,
                    parent=parent,
                )
            )
    added = changed = 0
    for code in sorted(rows, key=lambda c: path_of(c).count("/")):
        row = rows[code]
        parent_code = row.get("parent") or None
        values = {
            "name": str(row.get("name") or code),
            "level": str(row.get("level") or ""),
            "path": path_of(code),
            "parent": existing.get(parent_code) if parent_code else None,
        }
        unit = existing.get(code)
        if unit is None:
            existing[code] = Unit.objects.create(code=code, **values)
            added += 1
        elif any(getattr(unit, k) != v for k, v in values.items()):
            for key, value in values.items():
                setattr(unit, key, value)
            unit.save()
            changed += 1
    counts = {"added": added, "changed": changed, "units": len(existing)}
    audit.record(actor=actor, action="units_sync", object_type="unit", object_id="*", after=counts)
    return counts


def _departments(codes: Sequence[str]) -> list[Department]:
    departments = list(Department.objects.filter(code__in=codes))
    missing = sorted(set(codes) - {d.code for d in departments})
    if missing:
        known = ", ".join(Department.objects.order_by("code").values_list("code", flat=True))
        raise InvalidAction(
            translatable(
                "unknown departments: {missing} (known: {known})",
                missing=", ".join(missing),
                known=known,
            )
        )
    return departments


def _check_roles(roles: Sequence[str]) -> list[str]:
    unknown = sorted(set(roles) - set(Role.values))
    if unknown:
        raise InvalidAction(
            translatable(
                "unknown roles {unknown}: choose from {choices}",
                unknown=unknown,
                choices=", ".join(Role.values),
            )
        )
    if not roles:
        raise InvalidAction(translatable("a person has at least one role"))
    return sorted(set(roles))


def _units(codes: Sequence[str]) -> list[Unit]:
    units = list(Unit.objects.filter(code__in=codes))
    missing = sorted(set(codes) - {u.code for u in units})
    if missing:
        raise InvalidAction(
            translatable(
                "unknown units: {missing} (import the organisation file)",
                missing=", ".join(missing),
            )
        )
    if not units:
        raise InvalidAction(translatable("a person belongs to at least one unit"))
    return units


@audit.service()
def person_create(
    *,
    actor: Person,
    username: str,
    name: str,
    roles: Sequence[str],
    unit_codes: Sequence[str],
    password: str,
    department_codes: Sequence[str] = (),
) -> Person:
    """A member of staff with a login, roles and units."""
    require(actor, Action.ADMINISTER)
    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        raise InvalidAction(translatable("user {username} exists", username=username))
    if len(password) < 10:
        raise InvalidAction(translatable("a password has at least 10 characters"))
    units = _units(unit_codes)
    for unit in units:
        require_unit(actor, unit)
    departments = _departments(department_codes)
    user = user_model.objects.create_user(username=username, password=password)
    person = Person.objects.create(user=user, name=name, roles=_check_roles(roles))
    person.units.set(units)
    person.departments.set(departments)
    audit.record(
        actor=actor,
        action="person_create",
        obj=person,
        after={
            "username": username,
            "roles": person.roles,
            "units": sorted(unit_codes),
            "departments": sorted(department_codes),
        },
    )
    return person


def _person_state(person: Person) -> dict[str, object]:
    return {
        "roles": person.roles,
        "units": sorted(person.units.values_list("code", flat=True)),
        "departments": sorted(person.departments.values_list("code", flat=True)),
        "active": person.active,
    }


@audit.service()
def person_update(
    *,
    actor: Person,
    person: Person,
    version: int,
    roles: Sequence[str] | None = None,
    unit_codes: Sequence[str] | None = None,
    department_codes: Sequence[str] | None = None,
    active: bool | None = None,
) -> Person:
    """Change a person's roles, units, or whether they may sign in."""
    require(actor, Action.ADMINISTER)
    if is_system_actor(person):
        raise InvalidAction(
            translatable("the system actor is no member of staff: it has no roles to change")
        )
    if roles is None and unit_codes is None and department_codes is None and active is None:
        raise InvalidAction(
            translatable(
                "nothing to change: give roles, units, departments or whether the person is active"
            )
        )
    before = _person_state(person)
    changes: dict[str, object] = {}
    if roles is not None:
        changes["roles"] = _check_roles(roles)
    if active is not None:
        changes["active"] = active
    compare_and_swap(
        person,
        version=version,
        what=translatable("user {username}", username=person.user.get_username()),
        **changes,
    )
    if unit_codes is not None:
        units = _units(unit_codes)
        for unit in units:
            require_unit(actor, unit)
        person.units.set(units)
    if department_codes is not None:
        person.departments.set(_departments(department_codes))
    if active is not None and person.user.is_active != active:
        type(person.user).objects.filter(pk=person.user.pk).update(is_active=active)
    audit.record(
        actor=actor,
        action="person_update",
        obj=person,
        before=before,
        after=_person_state(person),
    )
    return person


@audit.service()
def team_create(
    *,
    actor: Person,
    code: str,
    name: str,
    kind: str,
    leader: Person,
    members: Sequence[Person] = (),
    unit_codes: Sequence[str] = (),
    active_from: date,
    active_to: date | None = None,
) -> Team:
    """A clearing team covering units, or a task force for chosen hard cases."""
    require(actor, Action.ADMINISTER)
    if kind not in TeamKind.values:
        raise InvalidAction(
            translatable(
                "unknown team kind {kind!r}: one of {choices}",
                kind=kind,
                choices=", ".join(TeamKind.values),
            )
        )
    if Team.objects.filter(code=code).exists():
        raise InvalidAction(translatable("team {code} exists", code=code))
    if active_to is not None and active_to < active_from:
        raise InvalidAction(translatable("a team is active to a day after it starts"))
    units = _units(unit_codes) if unit_codes else []
    for unit in units:
        require_unit(actor, unit)
    area = [unit.path for unit in units] or unit_paths(leader)
    require_team_member(leader, area=area, team_code=code, role="the leader")
    for member in members:
        require_team_member(member, area=area, team_code=code)
    team = Team.objects.create(
        code=code, name=name, kind=kind, leader=leader, active_from=active_from, active_to=active_to
    )
    team.members.set(members)
    team.units.set(units)
    audit.record(
        actor=actor,
        action="team_create",
        obj=team,
        after={
            **audit.snapshot(team),
            "members": [m.pk for m in members],
            "units": sorted(unit_codes),
        },
    )
    return team


@audit.service()
def team_set_members(*, actor: Person, team: Team, version: int, members: Sequence[Person]) -> Team:
    """Set a team's members (an admin, or the team's own leader), each one who works cases in
    the team's area."""
    require_team(actor, team)
    area = team_area(team)
    for member in members:
        require_team_member(member, area=area, team_code=team.code)
    before = sorted(team.members.values_list("pk", flat=True))
    compare_and_swap(
        team, version=version, what=translatable("team {team_code}", team_code=team.code)
    )
    team.members.set(members)
    audit.record(
        actor=actor,
        action="team_set_members",
        obj=team,
        before={"members": before},
        after={"members": sorted(m.pk for m in members)},
    )
    return team
