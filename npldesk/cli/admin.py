"""Administration from the command line: ``npldesk users``, ``npldesk teams``, ``npldesk units``.

Every read goes through ``npldesk.casework.selectors`` and every write through
``npldesk.casework.services``, as the system actor (the audit record names the operating-system
user who ran the command) or, with ``--as USERNAME``, as that person, whose roles and units
apply. A mistake (unknown role, unit or user, a duplicate) is the service's ``InvalidAction``
or the selector's ``NotFound``, which the CLI prints as a message with a non-zero exit code.
"""

from __future__ import annotations

import secrets
import sys
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from npldesk.bootstrap import casework
from npldesk.cli.language import say, use_language
from npldesk.cli.options import AsOption, FormatOption, HomeOption, acting_person
from npldesk.cli.output import OutputFormat, console, emit, yes_no
from npldesk.core.errors import UsageError
from npldesk.core.i18n import translatable
from npldesk.home import load_home
from npldesk.reports.labels import TERMS, choice_label, department_name

if TYPE_CHECKING:
    from npldesk.casework.models import Person, Team

users_app = typer.Typer(help="Staff who sign in: their roles and units.", no_args_is_help=True)
teams_app = typer.Typer(
    help="Clearing teams and task forces: leader, members, units covered.", no_args_is_help=True
)
units_app = typer.Typer(
    help="The casework unit table, kept in step with the organisation file.", no_args_is_help=True
)

RoleOption = Annotated[
    list[str] | None,
    typer.Option(
        "--role",
        help="officer, team_lead, legal, finance, risk_analyst, leader or admin (repeatable)",
    ),
]
UnitOption = Annotated[
    list[str] | None, typer.Option("--unit", help="A unit code of the organisation (repeatable)")
]
DepartmentOption = Annotated[
    list[str] | None,
    typer.Option(
        "--department",
        help="A department code: risk, retail, agriculture, small_business, legal, finance, hr, "
        "office or one the bank added (repeatable)",
    ),
]
MemberOption = Annotated[
    list[str] | None, typer.Option("--member", help="A member's username (repeatable)")
]

# Generated passwords: 16 URL-safe characters (96 bits), shown once and never stored in clear.
_PASSWORD_BYTES = 12


def register(app: typer.Typer) -> None:
    """Add ``users``, ``teams`` and ``units`` to the ``npldesk`` command."""
    app.add_typer(users_app, name="users")
    app.add_typer(teams_app, name="teams")
    app.add_typer(units_app, name="units")


def generate_password() -> str:
    return secrets.token_urlsafe(_PASSWORD_BYTES)


def _person(actor: Person, username: str) -> Person:
    from npldesk.casework import selectors
    from npldesk.casework.errors import NotFound

    try:
        return selectors.person_get(actor, username)
    except NotFound as exc:
        raise NotFound(
            translatable("{message} (see `npldesk users list`)", message=exc.message)
        ) from exc


def _people(actor: Person, usernames: list[str]) -> list[Person]:
    return [_person(actor, name) for name in dict.fromkeys(usernames)]


def _team(actor: Person, code: str) -> Team:
    from npldesk.casework import selectors
    from npldesk.casework.errors import NotFound

    try:
        return selectors.team_get(actor, code)
    except NotFound as exc:
        raise NotFound(
            translatable("{message} (see `npldesk teams list`)", message=exc.message)
        ) from exc


def _day(text: str | None, option: str) -> date:
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(
            translatable(
                "{option}: expected a day as YYYY-MM-DD, not {text!r}", option=option, text=text
            )
        ) from exc


def _read_password() -> str:
    line = sys.stdin.readline()
    password = line.rstrip("\r\n")
    if not password:
        raise UsageError(translatable("--password-stdin: no password on standard input"))
    return password


# -- users ----------------------------------------------------------------------------------


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="The login name")],
    name: Annotated[str, typer.Option("--name", help="The person's name")],
    role: RoleOption = None,
    unit: UnitOption = None,
    department: DepartmentOption = None,
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin", help="Read the password from standard input (else one is made)"
        ),
    ] = False,
    home: HomeOption = None,
    as_user: AsOption = None,
) -> None:
    """Add a member of staff with roles and units.

    Without --password-stdin a password is generated and printed once.
    """
    if not role:
        raise UsageError(translatable("give at least one --role"))
    if not unit:
        raise UsageError(translatable("give at least one --unit"))
    password = _read_password() if password_stdin else generate_password()
    loaded = load_home(home)
    use_language(loaded)
    with casework(loaded):
        from npldesk.casework import services

        person = services.person_create(
            actor=acting_person(as_user),
            username=username,
            name=name,
            roles=role,
            unit_codes=unit,
            password=password,
            department_codes=department or (),
        )
    out = console()
    said = translatable(
        "user {username} ({name}) added: roles {roles}; units {units}",
        username=username,
        name=person.name,
        roles=_roles(person.roles),
        units=_listed(sorted(set(unit))),
    )
    out.print(say(said))
    if not password_stdin:
        shown_once = translatable(
            "password (shown once, not stored in clear): {password}", password=password
        )
        out.print(say(shown_once))


def _user_row(person: Person) -> dict[str, Any]:
    return {
        "username": person.user.get_username(),
        "name": person.name,
        "roles": list(person.roles),
        "units": sorted(u.code for u in person.units.all()),
        "departments": sorted(d.code for d in person.departments.all()),
        "active": person.active,
    }


@users_app.command("list")
def users_list(
    home: HomeOption = None,
    output: FormatOption = OutputFormat.table,
    as_user: AsOption = None,
) -> None:
    """Every member of staff with roles, units and whether they may sign in."""
    loaded = load_home(home)
    columns = ["username", "name", "roles", "units", "departments", "active"]
    with casework(loaded):
        from npldesk.casework.selectors import people_list

        people = list(people_list(acting_person(as_user)))
        rows = [_user_row(p) for p in people]
        if output is not OutputFormat.table:
            shown = rows
            if output is OutputFormat.csv:
                shown = [
                    dict(
                        r,
                        roles=" ".join(r["roles"]),
                        units=" ".join(r["units"]),
                        departments=" ".join(r["departments"]),
                    )
                    for r in rows
                ]
            emit(shown, columns, output, json_document={"users": rows})
            return
        use_language(loaded)
        shown = [
            dict(
                row,
                roles=_roles(row["roles"]),
                units=" ".join(row["units"]),
                departments=_listed(
                    sorted(department_name(d.code, d.name) for d in person.departments.all())
                ),
                active=yes_no(row["active"]),
            )
            for person, row in zip(people, rows, strict=True)
        ]
    emit(
        shown,
        columns,
        output,
        title=say(translatable("Users ({count})", count=len(rows))),
        headers={
            "username": say(_("Username")),
            "name": say(_("Name")),
            "roles": say(_("Roles")),
            "units": say(_("Units")),
            "departments": say(_("Departments")),
            "active": say(_("May sign in")),
        },
    )


@users_app.command("update")
def users_update(
    username: Annotated[str, typer.Argument(help="The login name")],
    role: RoleOption = None,
    unit: UnitOption = None,
    department: DepartmentOption = None,
    active: Annotated[
        bool | None,
        typer.Option("--active/--inactive", help="Whether the person may sign in"),
    ] = None,
    home: HomeOption = None,
    as_user: AsOption = None,
) -> None:
    """Replace a person's roles or units, or let them sign in or not."""
    if not role and not unit and not department and active is None:
        raise UsageError(
            "nothing to change: give --role, --unit, --department, --active or --inactive"
        )
    loaded = load_home(home)
    use_language(loaded)
    with casework(loaded):
        from npldesk.casework import services

        actor = acting_person(as_user)
        person = _person(actor, username)
        person = services.person_update(
            actor=actor,
            person=person,
            version=person.version,
            roles=role or None,
            unit_codes=unit or None,
            department_codes=department or None,
            active=active,
        )
        row = _user_row(person)
    said = translatable(
        "user {username}: roles {roles}; units {units}; {active}",
        username=username,
        roles=_roles(row["roles"]),
        units=_listed(row["units"]),
        active=translatable("active") if row["active"] else translatable("inactive"),
    )
    console().print(say(said))


# -- teams ----------------------------------------------------------------------------------


def _team_row(team: Team) -> dict[str, Any]:
    return {
        "code": team.code,
        "name": team.name,
        "kind": team.kind,
        "leader": team.leader.user.get_username(),
        "members": sorted(m.user.get_username() for m in team.members.all()),
        "units": sorted(u.code for u in team.units.all()),
        "active_from": team.active_from.isoformat(),
        "active_to": team.active_to.isoformat() if team.active_to else None,
    }


@teams_app.command("add")
def teams_add(
    code: Annotated[str, typer.Argument(help="The team's code")],
    name: Annotated[str, typer.Option("--name", help="The team's name")],
    kind: Annotated[str, typer.Option("--kind", help="clearing_team or task_force")],
    leader: Annotated[str, typer.Option("--leader", help="The leader's username")],
    member: MemberOption = None,
    unit: UnitOption = None,
    active_from: Annotated[
        str | None, typer.Option("--from", help="Active from, YYYY-MM-DD (default: today)")
    ] = None,
    home: HomeOption = None,
    as_user: AsOption = None,
) -> None:
    """Add a clearing team covering units, or a task force for chosen hard cases."""
    start = _day(active_from, "--from")
    loaded = load_home(home)
    use_language(loaded)
    with casework(loaded):
        from npldesk.casework import services

        actor = acting_person(as_user)
        team = services.team_create(
            actor=actor,
            code=code,
            name=name,
            kind=kind,
            leader=_person(actor, leader),
            members=_people(actor, member or []),
            unit_codes=sorted(set(unit or [])),
            active_from=start,
        )
        row = _team_row(team)
    said = translatable(
        "team {code} ({kind}) added: leader {leader}; members {members}; units {units}",
        code=code,
        kind=_team_kind(row["kind"]),
        leader=row["leader"],
        members=_listed(row["members"]),
        units=_listed(row["units"]),
    )
    console().print(say(said))


@teams_app.command("list")
def teams_list(
    home: HomeOption = None,
    output: FormatOption = OutputFormat.table,
    as_user: AsOption = None,
) -> None:
    """Every team with its leader, members and the units it covers."""
    loaded = load_home(home)
    with casework(loaded):
        from npldesk.casework.selectors import team_list

        rows = [_team_row(t) for t in team_list(acting_person(as_user))]
    columns = ["code", "name", "kind", "leader", "members", "units", "active_from", "active_to"]
    shown = (
        rows
        if output is OutputFormat.json
        else [dict(r, members=" ".join(r["members"]), units=" ".join(r["units"])) for r in rows]
    )
    if output is not OutputFormat.table:
        emit(shown, columns, output, json_document={"teams": rows})
        return
    use_language(loaded)
    emit(
        [dict(row, kind=_team_kind(row["kind"])) for row in shown],
        columns,
        output,
        title=say(translatable("Teams ({count})", count=len(rows))),
        headers={
            "code": say(_("Code")),
            "name": say(_("Name")),
            "kind": say(_("Kind")),
            "leader": say(_("Team leader")),
            "members": say(_("Members")),
            "units": say(_("Units")),
            "active_from": say(_("Active from")),
            "active_to": say(_("Active to")),
        },
    )


@teams_app.command("members")
def teams_members(
    code: Annotated[str, typer.Argument(help="The team's code")],
    member: MemberOption = None,
    home: HomeOption = None,
    as_user: AsOption = None,
) -> None:
    """Set a team's members (the list given replaces the one before)."""
    if not member:
        raise UsageError(translatable("give the members with --member USERNAME (repeatable)"))
    loaded = load_home(home)
    use_language(loaded)
    with casework(loaded):
        from npldesk.casework import services

        actor = acting_person(as_user)
        team = _team(actor, code)
        team = services.team_set_members(
            actor=actor, team=team, version=team.version, members=_people(actor, member)
        )
        row = _team_row(team)
    said = translatable(
        "team {code}: members {members}", code=code, members=_listed(row["members"])
    )
    console().print(say(said))


# -- units ----------------------------------------------------------------------------------


@units_app.command("sync")
def units_sync(home: HomeOption = None, as_user: AsOption = None) -> None:
    """Add and update units from the imported organisation file (units are never deleted)."""
    loaded = load_home(home)
    use_language(loaded)
    with casework(loaded):
        from npldesk.casework.sync import units_from_store

        counts = units_from_store(loaded.store_path, actor=acting_person(as_user))
        assert counts is not None  # always written without only_when_new
    said = translatable(
        "units: {added} added, {changed} changed, {units} in all",
        added=counts["added"],
        changed=counts["changed"],
        units=counts["units"],
    )
    console().print(say(said))


def _listed(items: list[str]) -> str:
    """Codes or names listed as the active language lists them; "none" for none."""
    return say(_(", ")).join(items) or say(TERMS["none"])


def _roles(roles: list[str]) -> str:
    from npldesk.casework.choices import Role

    return _listed([choice_label(Role, role) for role in roles])


def _team_kind(kind: str) -> str:
    from npldesk.casework.choices import TeamKind

    return choice_label(TeamKind, kind)


def _(message: str) -> str:
    """Marks a message for the catalogues; ``say`` translates it when it is printed."""
    return message
