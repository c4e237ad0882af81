"""The one access helper: what a person may see and do, by role and unit scope.

Every selector filters through ``case_scope`` (and its siblings) and every service calls
``require`` before it writes, so the rules of ``docs/casework-rules.md`` ("Who may see and do
what") are written here once. A unit scope is the person's units and every unit below them.

Every check takes the person who acts; there is no anonymous caller. Month-end jobs and the
command line act as the system actor (``is_system_actor``): it reads every case and may
administer and sync, and nothing else. Who may own a case or join a team, and the four-eyes
rule on the recovery ledger, are here too, each written once.

Decisions an auditor asks about are in ``docs/adr/0004-casework-access-audit-locking.md`` and
``docs/adr/0008-system-actor-and-who-works-a-case.md``.
"""

from __future__ import annotations

from enum import StrEnum

from django.db.models import Exists, OuterRef, Q, QuerySet

from npldesk.casework.choices import CASE_WORKING_ROLES, LEGAL_STRATEGIES, SYSTEM_ROLE, Role
from npldesk.casework.errors import AccessDenied, InvalidAction, NoActor
from npldesk.casework.expressions import InSubquery
from npldesk.casework.models import Case, LegalCase, Person, Team, TransferPackage, Unit
from npldesk.core.i18n import translatable


class Action(StrEnum):
    """What a service does, as the access rules see it."""

    WORK_CASE = "work_case"  # investigations, activities, promises, plan proposals, recoveries
    MANAGE_CASE = "manage_case"  # assign, approve plans, set segment/strategy/tier/deadline
    CONFIRM_RECOVERY = "confirm_recovery"
    WORK_LEGAL = "work_legal"  # legal cases and their stages
    DRAFT_DOCUMENT = "draft_document"  # legal documents drafted from a case
    PREPARE_WRITEOFF = "prepare_writeoff"
    REVIEW_WRITEOFF = "review_writeoff"
    APPROVE_WRITEOFF = "approve_writeoff"
    PREPARE_TRANSFER = "prepare_transfer"
    APPROVE_TRANSFER = "approve_transfer"
    ADMINISTER = "administer"  # people, roles, teams, units
    SYNC = "sync"  # the month-end sync from the tape


# Which roles may take each action (on objects within what they may see).
ACTION_ROLES: dict[Action, frozenset[str]] = {
    Action.WORK_CASE: frozenset({Role.OFFICER, Role.TEAM_LEAD}),
    Action.MANAGE_CASE: frozenset({Role.TEAM_LEAD}),
    Action.CONFIRM_RECOVERY: frozenset({Role.TEAM_LEAD, Role.FINANCE}),
    Action.WORK_LEGAL: frozenset({Role.LEGAL}),
    Action.DRAFT_DOCUMENT: frozenset({Role.OFFICER, Role.LEGAL}),
    Action.PREPARE_WRITEOFF: frozenset({Role.FINANCE}),
    Action.REVIEW_WRITEOFF: frozenset({Role.FINANCE}),
    Action.APPROVE_WRITEOFF: frozenset({Role.LEADER}),
    Action.PREPARE_TRANSFER: frozenset({Role.FINANCE}),
    Action.APPROVE_TRANSFER: frozenset({Role.LEADER}),
    Action.ADMINISTER: frozenset({Role.ADMIN}),
    Action.SYNC: frozenset({Role.RISK_ANALYST, Role.ADMIN}),
}

# What the system actor may do: the month-end sync and the rules' run, and administration from
# the command line. Decisions that need four eyes or a person's judgement are not among them.
SYSTEM_ACTIONS = frozenset({Action.ADMINISTER, Action.SYNC})

# Roles that read every case in their unit scope (the others see a narrower set).
_UNIT_READERS = frozenset(
    {Role.OFFICER, Role.TEAM_LEAD, Role.FINANCE, Role.RISK_ANALYST, Role.LEADER}
)


def is_system_actor(person: Person) -> bool:
    """The person record month-end jobs and the command line act as (it cannot sign in)."""
    return SYSTEM_ROLE in person.roles


def unit_paths(person: Person) -> list[str]:
    cached: list[str] | None = getattr(person, "_unit_paths", None)
    if cached is None:
        # Through ``all()``: a list of people fetched with their units prefetched asks nothing.
        cached = [unit.path for unit in person.units.all()]
        person._unit_paths = cached  # type: ignore[attr-defined]
    return cached


def in_units(person: Person, field: str) -> Q:
    """Rows whose unit (``field`` names its path) lies in the person's unit scope."""
    scope = Q(pk__in=[])
    for path in unit_paths(person):
        scope |= Q(**{f"{field}__startswith": path})
    return scope


def _holds_legal_case(person: Person) -> Exists:
    return Exists(LegalCase.objects.filter(case=OuterRef("pk"), holder=person))


def case_scope(person: Person) -> Q:
    """The cases ``person`` may read."""
    if is_system_actor(person):
        return Q()
    if not person.active:
        return Q(pk__in=[])
    scope = Q(pk__in=[])
    # Every term filters the case's own columns (no join that fans out), so the scope needs no
    # ``DISTINCT`` and a count over it reads the cases once (docs/benchmarks.md, "Web and API").
    units = Q(InSubquery("unit", Unit.objects.filter(in_units(person, "path")).values("pk")))
    if person.has_role(*_UNIT_READERS):
        scope |= units
    if person.has_role(Role.OFFICER, Role.TEAM_LEAD):
        teams = Team.objects.filter(Q(members=person) | Q(leader=person)).values("pk")
        scope |= Q(owner=person) | Q(InSubquery("team", teams))
    if person.has_role(Role.LEGAL):
        has_legal = Exists(LegalCase.objects.filter(case=OuterRef("pk")))
        scope |= units & (Q(strategy__in=LEGAL_STRATEGIES) | Q(has_legal))
        scope |= Q(_holds_legal_case(person))
    return scope


def visible_cases(person: Person) -> QuerySet[Case]:
    """``Case.objects`` narrowed to what ``person`` may read (each case once: ``case_scope``
    joins nothing that fans out)."""
    if is_system_actor(person):
        return Case.objects.all()
    return Case.objects.filter(case_scope(person))


def reads_whole_unit(person: Person, unit: Unit) -> bool:
    """Whether ``person`` may read every case of ``unit`` and the units below it, answered
    without a query: a match here is a match of ``case_scope``'s unit term (its ``startswith``
    is no stricter than this one). ``False`` says nothing: the scope may still hold some."""
    if is_system_actor(person):
        return True
    return (
        person.active
        and person.has_role(*_UNIT_READERS)
        and unit.path.startswith(tuple(unit_paths(person)))
    )


def can_read_case(person: Person, case: Case) -> bool:
    # The usual answer needs no scope query: the case's unit lies in a unit reader's scope.
    # Anything else is left to the query.
    if reads_whole_unit(person, case.unit):
        return True
    return Case.objects.filter(case_scope(person), pk=case.pk).exists()


def leads_unit(person: Person, case: Case) -> bool:
    return person.has_role(Role.TEAM_LEAD) and any(
        case.unit.path.startswith(path) for path in unit_paths(person)
    )


def works_case(person: Person, case: Case) -> bool:
    """Owns it, belongs to its team, leads its unit or team, or holds its legal case.

    Only those who work a case see its household's personal data unmasked.
    """
    if not person.active:
        return False
    if case.owner_id == person.pk or leads_unit(person, case):
        return True
    if case.team_id is not None:
        team = case.team
        if team is not None and (
            team.leader_id == person.pk or team.members.filter(pk=person.pk).exists()
        ):
            return True
    return person.has_role(Role.LEGAL) and case.legal_cases.filter(holder=person).exists()


def works_scope(person: Person) -> Q:
    """The cases ``person`` works (``works_case`` as one filter, for many cases at once)."""
    if not person.active:
        return Q(pk__in=[])
    scope = Q(owner=person) | Q(team__leader=person) | Q(team__members=person)
    if person.has_role(Role.TEAM_LEAD):
        scope |= in_units(person, "unit__path")
    if person.has_role(Role.LEGAL):
        scope |= Q(_holds_legal_case(person))
    return scope


def cases_worked(person: Person, case_ids: list[int]) -> set[int]:
    """Which of the cases ``case_ids`` ``person`` works (``works_scope`` read for a list such
    as a reminder pack)."""
    if not case_ids:
        return set()
    return set(
        Case.objects.filter(works_scope(person), pk__in=case_ids)
        .values_list("pk", flat=True)
        .distinct()
    )


def may_see_personal_data(person: Person, case: Case) -> bool:
    """Who may ask for a household's personal data unmasked (the view is then recorded): those
    who work the case, and the system actor (the command line on the server, ``cases show
    --pii``, which reads the database it runs on anyway)."""
    return is_system_actor(person) or works_case(person, case)


def _may(person: Person, action: Action) -> bool:
    if is_system_actor(person):
        return action in SYSTEM_ACTIONS
    return person.active and person.has_role(*ACTION_ROLES[action])


def require_person(person: Person | None, what: str) -> Person:
    """``person``, or ``NoActor`` when there is none: nobody acts anonymously."""
    if person is None:
        raise NoActor(what)
    return person


def require(person: Person | None, action: Action, case: Case | None = None) -> None:
    """Raise ``AccessDenied`` unless ``person`` may take ``action`` (on ``case``); ``NoActor``
    when there is no person (month-end jobs and the command line act as the system actor)."""
    person = require_person(
        person, translatable("to {action}", action=action.value.replace("_", " "))
    )
    if not _may(person, action):
        raise AccessDenied(
            translatable(
                "{username} may not {action}",
                username=person.user.get_username(),
                action=action.value.replace("_", " "),
            )
        )
    if case is not None and not can_read_case(person, case):
        raise AccessDenied(
            translatable(
                "{username} may not {action} on case {case_number}: outside their units and teams",
                username=person.user.get_username(),
                action=action.value.replace("_", " "),
                case_number=case.number,
            )
        )
    if action is Action.WORK_LEGAL and case is not None:
        legal_case_or_strategy = case.strategy in LEGAL_STRATEGIES or case.legal_cases.exists()
        if not legal_case_or_strategy:
            raise AccessDenied(
                translatable(
                    "case {case_number} has no legal strategy or legal case",
                    case_number=case.number,
                )
            )


def transfer_scope(person: Person) -> Q:
    if is_system_actor(person):
        return Q()
    if not person.active or not person.has_role(Role.FINANCE, Role.LEADER, Role.RISK_ANALYST):
        return Q(pk__in=[])
    return in_units(person, "unit__path")


def require_transfer(person: Person | None, action: Action, package: TransferPackage) -> None:
    person = require_person(
        person, translatable("to {action}", action=action.value.replace("_", " "))
    )
    require(person, action)
    if not TransferPackage.objects.filter(transfer_scope(person), pk=package.pk).exists():
        raise AccessDenied(
            translatable(
                "transfer package {package_code} is outside {username}'s units",
                package_code=package.code,
                username=person.user,
            )
        )


def team_scope(person: Person) -> Q:
    """Teams a person may see: those covering a unit in their scope, led by or including them."""
    if is_system_actor(person):
        return Q()
    if not person.active:
        return Q(pk__in=[])
    return in_units(person, "units__path") | Q(leader=person) | Q(members=person)


def require_unit(person: Person | None, unit: Unit) -> None:
    """For administration: an admin administers the units in their scope."""
    person = require_person(person, translatable("to administer"))
    require(person, Action.ADMINISTER)
    if not is_system_actor(person) and not covers_unit(person, unit):
        raise AccessDenied(
            translatable(
                "unit {unit_code} is outside {username}'s units",
                unit_code=unit.code,
                username=person.user,
            )
        )


def require_team(person: Person | None, team: Team) -> None:
    """Admins administer the teams of their units; a team's own leader manages its members."""
    person = require_person(person, translatable("to manage a team"))
    if person.active and team.leader_id == person.pk:
        return
    require(person, Action.ADMINISTER)
    for unit in team.units.all():
        require_unit(person, unit)


# -- who may own a case or join a team (docs/casework-rules.md, "What casework accepts") ----


def covers_unit(person: Person, unit: Unit) -> bool:
    """Whether the unit lies in the person's unit scope (their units and those below)."""
    return any(unit.path.startswith(path) for path in unit_paths(person))


def team_area(team: Team) -> list[str]:
    """The unit paths a team works in: the units it covers, or, for a team that covers none
    (a task force for chosen cases), its leader's units."""
    paths = [unit.path for unit in team.units.all()]
    return paths or unit_paths(team.leader)


def _works_cases(person: Person, role: str, what: str) -> None:
    name = person.user.get_username()
    if not person.active:
        raise InvalidAction(
            translatable(
                "{name} is inactive and cannot be {role} of {what}", name=name, role=role, what=what
            )
        )
    if not person.has_role(*CASE_WORKING_ROLES):
        raise InvalidAction(
            translatable(
                "{name} cannot be {role} of {what}: only officers, team leads and legal staff "
                "work cases ({name} is {person_roles})",
                name=name,
                role=role,
                what=what,
                person_roles=", ".join(person.roles),
            )
        )


def may_own_case(person: Person, case: Case) -> bool:
    """Whether ``person`` may be made the owner of ``case`` (``require_case_owner`` says why
    not)."""
    return (
        person.active
        and person.has_role(*CASE_WORKING_ROLES)
        and not is_system_actor(person)
        and covers_unit(person, case.unit)
    )


def require_case_owner(owner: Person, case: Case) -> None:
    """A case's owner works cases (officer, team lead, legal) and their units cover the
    case's unit: nobody is made owner of a case they could not see."""
    what = f"case {case.number}"
    _works_cases(owner, "owner", what)
    if not covers_unit(owner, case.unit):
        raise InvalidAction(
            translatable(
                "{username} cannot be owner of {what}: its unit {unit_code} is outside their units",
                username=owner.user.get_username(),
                what=what,
                unit_code=case.unit.code,
            )
        )


def require_case_team(team: Team, case: Case) -> None:
    """A case joins only a team whose area covers the case's unit (its members were chosen
    from that area, ``require_team_member``)."""
    if not any(case.unit.path.startswith(path) for path in team_area(team)):
        raise InvalidAction(
            translatable(
                "team {team_code} does not work in unit {unit_code} of case {case_number}",
                team_code=team.code,
                unit_code=case.unit.code,
                case_number=case.number,
            )
        )


def require_team_member(
    person: Person, *, area: list[str], team_code: str, role: str = "a member"
) -> None:
    """A team's leader and members work cases, and each works in the team's area (one of
    their units lies in it, or covers a unit of it): membership shows them every case of the
    team, personal data included."""
    _works_cases(person, role, f"team {team_code}")
    if not any(
        own.startswith(path) or path.startswith(own) for own in unit_paths(person) for path in area
    ):
        raise InvalidAction(
            translatable(
                "{username} cannot be {role} of team {team_code}: their units are outside the "
                "units the team works in",
                username=person.user.get_username(),
                role=role,
                team_code=team_code,
            )
        )


# -- four eyes ------------------------------------------------------------------------------


def require_named_person(actor: Person, what: str) -> Person:
    """Four-eyes decisions name the person who took them: the system actor may not take them,
    nor be recorded as someone it is not."""
    if is_system_actor(actor):
        raise InvalidAction(
            translatable("{what} is a decision of a named person: take it as that user", what=what)
        )
    return actor


def require_second_person(actor: Person, entered_by_id: int | None, what: str) -> Person:
    """Nobody confirms or reverses an entry they made themselves (four eyes on the ledger)."""
    require_named_person(actor, what)
    if entered_by_id == actor.pk:
        raise InvalidAction(
            translatable("{what} is taken by someone other than who entered it", what=what)
        )
    return actor


def allowed_actions(person: Person, case: Case) -> frozenset[str]:
    """The actions ``person`` may take on ``case`` (a page shows only their forms).

    Reading the case is already established by the selector that fetched it; this names what
    the role allows, with the legal desk limited to cases with a legal strategy or legal case.
    """
    allowed = {action.value for action, roles in ACTION_ROLES.items() if person.has_role(*roles)}
    if Action.WORK_LEGAL.value in allowed and not (
        case.strategy in LEGAL_STRATEGIES or case.legal_cases.exists()
    ):
        allowed.discard(Action.WORK_LEGAL.value)
    return frozenset(allowed) if person.active else frozenset()
