"""The one access helper: what a person may see and do, by role and unit scope.

Every selector filters through ``case_scope`` (and its siblings) and every service calls
``require`` before it writes, so the rules of ``docs/casework-rules.md`` ("Who may see and do
what") are written here once. A unit scope is the person's units and every unit below them.

Decisions an auditor asks about are in ``docs/adr/0004-casework-access-audit-locking.md``.
"""

from __future__ import annotations

from enum import StrEnum

from django.db.models import Exists, OuterRef, Q, QuerySet

from npldesk.casework.choices import LEGAL_STRATEGIES, Role
from npldesk.casework.errors import AccessDenied
from npldesk.casework.models import Case, LegalCase, Person, Team, TransferPackage, Unit


class Action(StrEnum):
    """What a service does, as the access rules see it."""

    WORK_CASE = "work_case"  # investigations, activities, promises, plan proposals, recoveries
    MANAGE_CASE = "manage_case"  # assign, approve plans, set segment/strategy/tier/deadline
    CONFIRM_RECOVERY = "confirm_recovery"
    WORK_LEGAL = "work_legal"  # legal cases and their stages
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
    Action.PREPARE_WRITEOFF: frozenset({Role.FINANCE}),
    Action.REVIEW_WRITEOFF: frozenset({Role.FINANCE}),
    Action.APPROVE_WRITEOFF: frozenset({Role.LEADER}),
    Action.PREPARE_TRANSFER: frozenset({Role.FINANCE}),
    Action.APPROVE_TRANSFER: frozenset({Role.LEADER}),
    Action.ADMINISTER: frozenset({Role.ADMIN}),
    Action.SYNC: frozenset({Role.RISK_ANALYST, Role.ADMIN}),
}

# Roles that read every case in their unit scope (the others see a narrower set).
_UNIT_READERS = frozenset(
    {Role.OFFICER, Role.TEAM_LEAD, Role.FINANCE, Role.RISK_ANALYST, Role.LEADER}
)


def unit_paths(person: Person) -> list[str]:
    cached: list[str] | None = getattr(person, "_unit_paths", None)
    if cached is None:
        cached = list(person.units.values_list("path", flat=True))
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
    if not person.active:
        return Q(pk__in=[])
    scope = Q(pk__in=[])
    units = in_units(person, "unit__path")
    if person.has_role(*_UNIT_READERS):
        scope |= units
    if person.has_role(Role.OFFICER, Role.TEAM_LEAD):
        scope |= Q(owner=person) | Q(team__members=person) | Q(team__leader=person)
    if person.has_role(Role.LEGAL):
        has_legal = Exists(LegalCase.objects.filter(case=OuterRef("pk")))
        scope |= units & (Q(strategy__in=LEGAL_STRATEGIES) | Q(has_legal))
        scope |= Q(_holds_legal_case(person))
    return scope


def visible_cases(person: Person) -> QuerySet[Case]:
    """``Case.objects`` narrowed to what ``person`` may read (distinct: the team join fans out)."""
    return Case.objects.filter(pk__in=Case.objects.filter(case_scope(person)).values("pk"))


def can_read_case(person: Person, case: Case) -> bool:
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


def _may(person: Person | None, action: Action) -> bool:
    return person is None or (person.active and person.has_role(*ACTION_ROLES[action]))


def require(person: Person | None, action: Action, case: Case | None = None) -> None:
    """Raise ``AccessDenied`` unless ``person`` may take ``action`` (on ``case``).

    ``person`` is ``None`` only for the trusted command line and scheduled jobs running on
    the server itself (they act as the operating-system user, named in the audit record).
    """
    if person is None:
        return
    if not _may(person, action):
        raise AccessDenied(f"{person.user.get_username()} may not {action.value.replace('_', ' ')}")
    if case is not None and not can_read_case(person, case):
        raise AccessDenied(
            f"{person.user.get_username()} may not {action.value.replace('_', ' ')} "
            f"on case {case.number}: outside their units and teams"
        )
    if action is Action.WORK_LEGAL and case is not None:
        legal_case_or_strategy = case.strategy in LEGAL_STRATEGIES or case.legal_cases.exists()
        if not legal_case_or_strategy:
            raise AccessDenied(f"case {case.number} has no legal strategy or legal case")


def transfer_scope(person: Person) -> Q:
    if not person.active or not person.has_role(Role.FINANCE, Role.LEADER, Role.RISK_ANALYST):
        return Q(pk__in=[])
    return in_units(person, "unit__path")


def require_transfer(person: Person | None, action: Action, package: TransferPackage) -> None:
    require(person, action)
    if (
        person is not None
        and not TransferPackage.objects.filter(transfer_scope(person), pk=package.pk).exists()
    ):
        raise AccessDenied(f"transfer package {package.code} is outside {person.user}'s units")


def team_scope(person: Person) -> Q:
    """Teams a person may see: those covering a unit in their scope, led by or including them."""
    if not person.active:
        return Q(pk__in=[])
    return in_units(person, "units__path") | Q(leader=person) | Q(members=person)


def require_unit(person: Person | None, unit: Unit) -> None:
    """For administration: an admin administers the units in their scope."""
    require(person, Action.ADMINISTER)
    if person is not None and not any(unit.path.startswith(p) for p in unit_paths(person)):
        raise AccessDenied(f"unit {unit.code} is outside {person.user}'s units")


def require_team(person: Person | None, team: Team) -> None:
    """Admins administer the teams of their units; a team's own leader manages its members."""
    if person is None or (person.active and team.leader_id == person.pk):
        return
    require(person, Action.ADMINISTER)
    for unit in team.units.all():
        require_unit(person, unit)
