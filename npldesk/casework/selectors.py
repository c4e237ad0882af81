"""Every read of casework: querysets and views already narrowed to what a person may see.

The web views, the API, the CLI, the admin and the reports read through these functions only;
each one applies the person's role and unit scope through ``access``. Every selector is
registered (``@selector``, in ``SELECTORS``) and refuses a call without a person: a face acts as
the signed-in person, and month-end jobs and the command line as the system actor
(``system_actor``), which reads every case, personal data still masked unless it asks (and that
is recorded). List selectors fetch what their rows show in a fixed number of queries
(``tests/casework/query_counts.json`` holds the baselines).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, ParamSpec, TypeVar

from django.db.models import Case as When_
from django.db.models import F, IntegerField, Prefetch, Q, QuerySet, Value, When

from npldesk.casework import access
from npldesk.casework.audit import record_personal_data_access
from npldesk.casework.choices import SYSTEM_USERNAME, CaseState, Role
from npldesk.casework.config import casework_settings
from npldesk.casework.errors import AccessDenied, NoActor, NotFound
from npldesk.casework.models import (
    Activity,
    AuditRecord,
    Case,
    Department,
    Household,
    Instalment,
    LegalCase,
    Person,
    Plan,
    Recovery,
    RepaymentPlan,
    Team,
    TransferPackage,
    Unit,
    WriteOff,
)
from npldesk.core.masking import mask_address, mask_id_number, mask_name, mask_phone

P = ParamSpec("P")
R = TypeVar("R")

# Every selector, by name: a test calls each without a person and expects the refusal.
SELECTORS: dict[str, Callable[..., Any]] = {}


def selector(function: Callable[P, R]) -> Callable[P, R]:
    """Mark a function as a selector: its first argument (``person``) is who reads, and a
    call without one is refused with ``NoActor`` before anything is read."""

    @functools.wraps(function)
    def read(*args: P.args, **kwargs: P.kwargs) -> R:
        person = args[0] if args else kwargs.get("person")
        if person is None:
            raise NoActor(function.__name__)
        return function(*args, **kwargs)

    SELECTORS[function.__name__] = read
    return read


# -- who acts ------------------------------------------------------------------------------


def system_actor() -> Person:
    """The person record month-end jobs and the command line act as (created with the
    database; it cannot sign in)."""
    person = Person.objects.select_related("user").filter(user__username=SYSTEM_USERNAME).first()
    if person is None or not access.is_system_actor(person):
        raise NotFound(
            "the casework database has no system actor: run `npldesk init` to bring it up to date"
        )
    return person


def person_signed_in(user: Any) -> Person | None:
    """The active person behind a signed-in login, or ``None`` (an anonymous visitor, or a
    login that is no member of staff). The system actor never signs in."""
    if user is None or not user.is_authenticated:
        return None
    person = Person.objects.select_related("user").filter(user_id=user.pk, active=True).first()
    if person is None or access.is_system_actor(person):
        return None
    return person


# -- cases ---------------------------------------------------------------------------------


@selector
def cases_visible(person: Person) -> QuerySet[Case]:
    """The cases ``person`` may read (every case for the system actor)."""
    return access.visible_cases(person)


@selector
def case_list(
    person: Person,
    *,
    state: str | None = None,
    unit: str | None = None,
    owner: str | None = None,
    team: str | None = None,
    open_only: bool = False,
) -> QuerySet[Case]:
    """Cases for a list page or ``npldesk cases list``: the row's related objects joined in.

    ``unit`` takes a unit code and includes the units below it; ``owner`` a username.
    """
    cases = cases_visible(person).select_related("household", "unit", "owner__user", "team")
    if state:
        cases = cases.filter(state=state)
    if unit:
        cases = cases.filter(unit__path__contains=f"/{unit}/")
    if owner:
        cases = cases.filter(owner__user__username=owner)
    if team:
        cases = cases.filter(team__code=team)
    if open_only:
        cases = cases.filter(closed_on__isnull=True)
    return cases.order_by("number")


@selector
def case_get(person: Person, number: str) -> Case:
    """One case by number, or ``NotFound`` (also when it exists but is out of scope)."""
    case = (
        cases_visible(person)
        .select_related("household", "unit", "owner__user", "team")
        .filter(number=number)
        .first()
    )
    if case is None:
        scoped = not access.is_system_actor(person)
        raise NotFound(f"no case {number}" + (" that you may see" if scoped else ""))
    return case


@dataclass(frozen=True)
class HouseholdView:
    """A household's personal data as a person may see it."""

    borrower_id: str
    name: str
    id_number: str
    phones: str
    address: str
    masked: bool


@selector
def household_view(person: Person, case: Case, *, unmask: bool = False) -> HouseholdView:
    """Masked unless ``unmask`` is asked for by someone who works the case (or the system
    actor); every unmasked view is recorded in the audit trail."""
    household = case.household
    may_unmask = access.may_see_personal_data(person, case)
    if unmask and may_unmask:
        record_personal_data_access(actor=person, what="household", case=case, rows=1)
        return HouseholdView(
            household.borrower_id,
            household.name,
            household.id_number,
            household.phones,
            household.address,
            masked=False,
        )
    if unmask:
        raise AccessDenied(
            f"personal data of case {case.number} is shown only to those who work the case"
        )
    return HouseholdView(
        household.borrower_id,
        mask_name(household.name) or "",
        mask_id_number(household.id_number) or "",
        ",".join(mask_phone(p.strip()) or "" for p in household.phones.split(",") if p.strip()),
        mask_address(household.address) or "",
        masked=True,
    )


@dataclass
class CaseDetail:
    """One case in full, for its page or ``npldesk cases show``."""

    case: Case
    household: HouseholdView
    works_case: bool
    loans: list[Any] = field(default_factory=list)
    investigations: list[Any] = field(default_factory=list)
    plans: list[Plan] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)
    promises: list[Any] = field(default_factory=list)
    repayment_plans: list[RepaymentPlan] = field(default_factory=list)
    legal_cases: list[LegalCase] = field(default_factory=list)
    writeoffs: list[WriteOff] = field(default_factory=list)
    recoveries: list[Recovery] = field(default_factory=list)
    history: list[AuditRecord] = field(default_factory=list)


@selector
def case_detail(person: Person, number: str, *, unmask: bool = False) -> CaseDetail:
    """Everything about one case, in a fixed number of queries."""
    case = case_get(person, number)
    return CaseDetail(
        case=case,
        household=household_view(person, case, unmask=unmask),
        works_case=access.works_case(person, case),
        loans=list(case.loans.order_by("loan_id")),
        investigations=list(case.investigations.select_related("investigator__user")),
        plans=list(
            case.plans.select_related("proposed_by__user").prefetch_related(
                "milestones__owner__user", "decisions__by__user"
            )
        ),
        activities=list(case.activities.select_related("person__user")),
        promises=list(case.promises.all()),
        repayment_plans=list(
            case.repayment_plans.prefetch_related(
                Prefetch("instalments", queryset=Instalment.objects.order_by("number"))
            ).order_by("-agreed_on")
        ),
        legal_cases=list(
            case.legal_cases.select_related("holder__user").prefetch_related("stages__by__user")
        ),
        writeoffs=list(case.writeoffs.prefetch_related("decisions__by__user")),
        recoveries=list(
            case.recoveries.select_related("entered_by__user", "confirmation__by__user")
        ),
        history=list(case.audit_records.order_by("at", "id")),
    )


# -- other objects, each as far as the person may see ---------------------------------------


@selector
def households_visible(person: Person) -> QuerySet[Household]:
    if access.is_system_actor(person):
        return Household.objects.all()
    return Household.objects.filter(cases__in=access.visible_cases(person)).distinct()


@selector
def recoveries_visible(person: Person) -> QuerySet[Recovery]:
    """The recovery ledger as far as the person's cases go."""
    return Recovery.objects.filter(case__in=cases_visible(person)).select_related("case")


@selector
def writeoffs_visible(person: Person) -> QuerySet[WriteOff]:
    return WriteOff.objects.filter(case__in=cases_visible(person)).select_related("case")


@selector
def transfer_packages_visible(person: Person) -> QuerySet[TransferPackage]:
    return TransferPackage.objects.filter(access.transfer_scope(person))


@selector
def teams_visible(person: Person) -> QuerySet[Team]:
    if access.is_system_actor(person):
        return Team.objects.select_related("leader__user")
    return Team.objects.filter(
        pk__in=Team.objects.filter(access.team_scope(person)).values("pk")
    ).select_related("leader__user")


@selector
def people_visible(person: Person) -> QuerySet[Person]:
    """Administrators and team leads see the people of their units (a lead chooses owners and
    team members among them); everyone sees themself; the system actor sees everyone."""
    people = Person.objects.select_related("user")
    if access.is_system_actor(person):
        return people.all()
    if person.active and person.has_role(Role.ADMIN, Role.TEAM_LEAD):
        return people.filter(
            pk__in=Person.objects.filter(access.in_units(person, "units__path")).values("pk")
        )
    return people.filter(pk=person.pk)


@selector
def people_list(person: Person) -> QuerySet[Person]:
    """The staff a person may see, by username, with their units and departments fetched (the
    ``users list`` rows). The system actor is no member of staff and is not listed."""
    return (
        people_visible(person)
        .exclude(user__username=SYSTEM_USERNAME)
        .prefetch_related("units", "departments")
        .order_by("user__username")
    )


@selector
def person_get(person: Person, username: str) -> Person:
    """One person by username, or ``NotFound`` (also when out of the reader's sight)."""
    found = people_visible(person).filter(user__username=username).first()
    if found is None:
        raise NotFound(f"no user {username!r}")
    return found


@selector
def team_list(person: Person) -> QuerySet[Team]:
    """The teams a person may see, by code, with leader, members and units fetched."""
    return (
        teams_visible(person)
        .select_related("leader__user")
        .prefetch_related("members__user", "units")
        .order_by("code")
    )


@selector
def team_get(person: Person, code: str) -> Team:
    """One team by code, or ``NotFound`` (also when out of the reader's sight)."""
    found = teams_visible(person).filter(code=code).first()
    if found is None:
        raise NotFound(f"no team {code!r}")
    return found


@selector
def units_visible(person: Person) -> QuerySet[Unit]:
    """The units of the person's scope (their units and those below; every unit for the
    system actor)."""
    units = Unit.objects.select_related("parent")
    if access.is_system_actor(person):
        return units.all()
    return units.filter(access.in_units(person, "path"))


@selector
def unit_get(person: Person, code: str) -> Unit:
    """A unit of the organisation by code, or ``NotFound``. The organisation tree is reference
    data every member of staff may read (a filter by unit still shows only the cases in the
    reader's scope)."""
    found = Unit.objects.filter(code=code).first()
    if found is None:
        raise NotFound(f"no unit {code!r}")
    return found


@selector
def departments_visible(person: Person) -> QuerySet[Department]:
    """The bank's departments (reference data every member of staff may read)."""
    return Department.objects.order_by("code")


# -- the worklist ----------------------------------------------------------------------------

# Why a case is on top of the worklist, most urgent first.
WORKLIST_REASONS = (
    "broken_promise",
    "plan_breached",
    "instalment_due",
    "hearing",
    "legal_alert",
    "promise_due",
    "deadline",
    "no_contact",
)


@selector
def worklist(
    person: Person, *, today: date, limit: int | None = 50, horizon_days: int = 14
) -> QuerySet[Case]:
    """A person's open cases (owned, or of a team they belong to or lead), ordered by what
    needs doing: broken promises, breached plans, instalments due, hearings, legal alerts,
    promises falling due, deadlines passed or near, no contact for ``no_contact_days``.

    Each case carries ``priority`` (its index in ``WORKLIST_REASONS``, or len for "nothing
    pressing") and ``urgent_on`` (the date that makes it urgent). One query.
    """
    params = casework_settings().params
    soon = today + timedelta(days=horizon_days)
    stale = today - timedelta(days=params.no_contact_days)
    team_ids = list(
        Team.objects.filter(Q(leader=person) | Q(members=person)).values_list("pk", flat=True)
    )
    mine = Q(owner=person) | Q(team_id__in=team_ids) if team_ids else Q(owner=person)
    rules = [
        (Q(broken_promises__gt=0), F("next_promise_due")),
        (Q(plan_breached=True), F("next_instalment_due")),
        (Q(next_instalment_due__lte=soon), F("next_instalment_due")),
        (Q(next_hearing_on__lte=soon), F("next_hearing_on")),
        (Q(legal_alert_on__lte=today), F("legal_alert_on")),
        (Q(next_promise_due__lte=soon), F("next_promise_due")),
        (Q(deadline__lte=today + timedelta(days=30)), F("deadline")),
        (Q(last_contact_on__isnull=True) | Q(last_contact_on__lt=stale), F("last_contact_on")),
    ]
    priority = When_(
        *[When(condition, then=Value(n)) for n, (condition, _) in enumerate(rules)],
        default=Value(len(rules)),
        output_field=IntegerField(),
    )
    urgent_on = When_(
        *[When(condition, then=when) for condition, when in rules],
        default=F("deadline"),
    )
    cases = (
        Case.objects.filter(mine, closed_on__isnull=True)
        .exclude(state=CaseState.RESOLVED)
        .select_related("household", "unit", "team")
        .annotate(priority=priority, urgent_on=urgent_on)
        .order_by("priority", F("urgent_on").asc(nulls_first=True), "-npl_balance", "number")
    )
    return cases[:limit] if limit is not None else cases


def worklist_reason(case: Case) -> str:
    """The worklist's reason for a case it returned (``priority`` annotated)."""
    priority = getattr(case, "priority", len(WORKLIST_REASONS))
    return WORKLIST_REASONS[priority] if priority < len(WORKLIST_REASONS) else "in_hand"
