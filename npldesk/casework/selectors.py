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
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from django.contrib.auth import get_user_model
from django.db.models import (
    Count,
    DateField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.expressions import RawSQL

from npldesk.casework import access, clocks
from npldesk.casework.audit import record_personal_data_access
from npldesk.casework.choices import SYSTEM_USERNAME, CaseState, Role, RunKind
from npldesk.casework.config import casework_settings
from npldesk.casework.errors import AccessDenied, NoActor, NotFound
from npldesk.casework.expressions import InSubquery
from npldesk.casework.models import (
    Activity,
    AuditRecord,
    Case,
    CaseLoan,
    Department,
    Document,
    Household,
    Instalment,
    Investigation,
    Job,
    LegalCase,
    LegalStageEntry,
    Milestone,
    Person,
    Plan,
    Promise,
    Recovery,
    ReminderDelivery,
    ReminderPack,
    RepaymentPlan,
    Run,
    RunStep,
    Team,
    TransferPackage,
    Unit,
    UnitLegalDetails,
    WriteOff,
)
from npldesk.core.i18n import translatable
from npldesk.core.masking import mask_address, mask_id_number, mask_name, mask_phone

if TYPE_CHECKING:
    from npldesk.casework.legaldocs import TapeLoan

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
            translatable(
                "the casework database has no system actor: run `npldesk init` to bring it up "
                "to date"
            )
        )
    return person


def login_with_person(user_id: Any) -> Any:
    """A login by its key, read together with its casework person (the sign-in backend's read
    of every request: ``person_signed_in`` then asks nothing more), or ``None``."""
    return get_user_model()._default_manager.select_related("person").filter(pk=user_id).first()


# A person's login, and the login's side of that one-to-one link (its person).
_PERSON_LOGIN = Person._meta.get_field("user")
_LOGIN_PERSON = _PERSON_LOGIN.remote_field


def person_signed_in(user: Any) -> Person | None:
    """The active person behind a signed-in login, or ``None`` (an anonymous visitor, or a
    login that is no member of staff). The system actor never signs in."""
    if user is None or not user.is_authenticated:
        return None
    if _LOGIN_PERSON.is_cached(user):
        # Read with the login by the request's sign-in backend (StaffBackend): no query.
        person: Person | None = getattr(user, _LOGIN_PERSON.get_accessor_name(), None)
    else:
        person = Person.objects.filter(user_id=user.pk).first()
    if person is None:
        return None
    # The login is the one the request already read: not joined and built a second time. Only
    # the person's side is set: a login kept by the caller asks again next time.
    _PERSON_LOGIN.set_cached_value(person, user)
    if not person.active or access.is_system_actor(person):
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
    return _case_read(person, number, Case.objects.all())


def _case_read(person: Person, number: str, cases: QuerySet[Case]) -> Case:
    """The case ``number`` of ``cases`` (with its household, unit, owner and team) if
    ``person`` may read it, else ``NotFound``.

    Read by its number, then checked: a case of a unit the person reads whole (most readers'
    cases) needs no scope in its query, whose terms cost more to build than the case to read.
    Anyone else's case is checked by the scope's query (``access.can_read_case``)."""
    case = (
        cases.select_related("household", "unit", "owner__user", "team")
        .filter(number=number)
        .first()
    )
    if case is not None and not access.can_read_case(person, case):
        case = None
    if case is None:
        scoped = not access.is_system_actor(person)
        raise NotFound(
            translatable("no case {number} that you may see", number=number)
            if scoped
            else translatable("no case {number}", number=number)
        )
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
            translatable(
                "personal data of case {case_number} is shown only to those who work the case",
                case_number=case.number,
            )
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


# The parts of a case that many cases lack: the case's own query says which it has, so a
# part it lacks costs no query of its own.
_CASE_PARTS: dict[str, Any] = {
    "investigations": Investigation,
    "plans": Plan,
    "activities": Activity,
    "promises": Promise,
    "repayment_plans": RepaymentPlan,
    "legal_cases": LegalCase,
    "writeoffs": WriteOff,
    "recoveries": Recovery,
}


@selector
def case_detail(person: Person, number: str, *, unmask: bool = False) -> CaseDetail:
    """Everything about one case, in a fixed number of queries at most (a part the case lacks,
    say its legal cases, is not queried)."""
    case = _case_read(
        person,
        number,
        Case.objects.annotate(
            **{
                f"has_{part}": Exists(model.objects.filter(case=OuterRef("pk")))
                for part, model in _CASE_PARTS.items()
            }
        ),
    )

    def part(name: str, rows: Callable[[], Iterable[Any]]) -> list[Any]:
        return list(rows()) if getattr(case, f"has_{name}") else []

    return CaseDetail(
        case=case,
        household=household_view(person, case, unmask=unmask),
        works_case=access.works_case(person, case),
        loans=list(case.loans.order_by("loan_id")),
        investigations=part(
            "investigations", lambda: case.investigations.select_related("investigator__user")
        ),
        plans=part(
            "plans",
            lambda: case.plans.select_related("proposed_by__user").prefetch_related(
                "milestones__owner__user", "decisions__by__user"
            ),
        ),
        activities=part(
            "activities", lambda: case.activities.select_related("person__user", "document")
        ),
        promises=part("promises", lambda: case.promises.all()),
        repayment_plans=part(
            "repayment_plans",
            lambda: case.repayment_plans.prefetch_related(
                Prefetch("instalments", queryset=Instalment.objects.order_by("number"))
            ).order_by("-agreed_on"),
        ),
        legal_cases=part(
            "legal_cases",
            lambda: case.legal_cases.select_related("holder__user").prefetch_related(
                "stages__by__user"
            ),
        ),
        writeoffs=part("writeoffs", lambda: case.writeoffs.prefetch_related("decisions__by__user")),
        recoveries=part(
            "recoveries",
            lambda: case.recoveries.select_related("entered_by__user", "confirmation__by__user"),
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
        raise NotFound(translatable("no user {username!r}", username=username))
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
        raise NotFound(translatable("no team {code!r}", code=code))
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
        raise NotFound(translatable("no unit {code!r}", code=code))
    return found


@selector
def unit_in_scope(person: Person, code: str) -> Unit:
    """A unit of the person's scope by code; ``NotFound`` for any other (figures of a unit are
    for the people who answer for it)."""
    found = units_visible(person).filter(code=code).first()
    if found is None:
        raise NotFound(translatable("no unit {code!r}", code=code))
    return found


@selector
def unit_children(person: Person, unit: Unit) -> QuerySet[Unit]:
    """The units directly below ``unit`` within the person's scope, in tree order."""
    return units_visible(person).filter(parent=unit)


@dataclass(frozen=True)
class LoanCase:
    """The case a listed loan belongs to, as one reader sees it."""

    number: str
    # The reader works the case: they may ask for its household's personal data.
    works: bool


LOAN_BATCH = 500


@selector
def loan_cases(person: Person, loan_ids: list[str]) -> dict[str, LoanCase]:
    """For each of ``loan_ids`` in a case the person may read: the latest such case's number,
    and whether the person works the loan. Two queries per 500 loans.

    Who works a loan is who works its current case (``access.works_case``): the latest case the
    loan belongs to, whether or not this reader may read it. A household has one open case at a
    time and a new one only once the last is closed, so that is the open case when there is one.
    Whoever worked an earlier, closed case of a loan that turned NPL again (its owner, its team,
    the holder of its legal case) does not work the loan now and sees its household's personal
    data masked, as anyone else who does not work its case (docs/casework-rules.md, "Personal
    data"; ADR 0026): personal data is for the work in hand, not for who once held the file."""
    found: dict[str, LoanCase] = {}
    wanted = sorted(set(loan_ids))
    # Each loan's latest case among all its cases, not only those the reader may read.
    latest = CaseLoan.objects.filter(loan_id=OuterRef("loan_id")).order_by("-case_id")
    for first in range(0, len(wanted), LOAN_BATCH):
        batch = wanted[first : first + LOAN_BATCH]
        links = list(
            CaseLoan.objects.filter(loan_id__in=batch, case__in=access.visible_cases(person))
            .annotate(current=Subquery(latest.values("case_id")[:1]))
            .order_by("case_id")
            .values_list("loan_id", "case__number", "current")
        )
        working = access.cases_worked(person, sorted({current for _, _, current in links}))
        # In case order: a loan's latest readable case is the one it keeps.
        for loan_id, number, current in links:
            found[loan_id] = LoanCase(number, current in working)
    return found


@selector
def loans_worked(person: Person, loan_ids: list[str]) -> set[str]:
    """Which of ``loan_ids`` the person works: those whose current case they work
    (``loan_cases``, which says why the current case and not any case of the loan). The loans
    whose household's personal data they may see unmasked."""
    return {loan_id for loan_id, case in loan_cases(person, loan_ids).items() if case.works}


@selector
def home_unit(person: Person) -> Unit | None:
    """The highest unit of the person's scope (where their figures start), if any."""
    units = sorted(units_visible(person), key=lambda unit: (unit.path.count("/"), unit.path))
    return units[0] if units else None


@selector
def case_counts_by_state(person: Person, *, unit: Unit | None = None) -> dict[str, int]:
    """How many of the cases the person may read are in each state (every state named), within
    ``unit``'s subtree when given."""
    if unit is None:
        cases = cases_visible(person)
    else:
        # Every case of the subtree in scope: counted from the unit index alone (its state in
        # it), without the scope's terms read against each case's row.
        whole = access.reads_whole_unit(person, unit)
        cases = Case.objects.all() if whole else cases_visible(person)
        # The subtree's units by id: the cases' unit index, no join of every case to its unit.
        cases = cases.filter(unit__in=Unit.objects.filter(path__startswith=unit.path).values("pk"))
    # ``COUNT(*)``, not of the key: the key is no column of the unit index.
    found = dict(cases.order_by().values_list("state").annotate(n=Count("*")))
    return {state: int(found.get(state, 0)) for state in CaseState.values}


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
    # Owned, or of the person's teams: each term is ranked apart (below), so each reads one
    # index (``Case``'s rank indexes) and no case's row.
    terms = [Q(owner=person)] + ([Q(team_id__in=team_ids)] if team_ids else [])
    # The rules in ``WORKLIST_REASONS``' order: the condition, its dates, the date it makes
    # urgent. Written as SQL of the case's own columns: a page builds the ranking three times
    # (each term and the page), and Django resolving and compiling it as expressions was a
    # third of the page's time in Python. No table the worklist joins has these column names.
    rules: list[tuple[str, tuple[date, ...], str]] = [
        ("broken_promises > 0", (), "next_promise_due"),
        ("plan_breached", (), "next_instalment_due"),
        ("next_instalment_due <= %s", (soon,), "next_instalment_due"),
        ("next_hearing_on <= %s", (soon,), "next_hearing_on"),
        ("legal_alert_on <= %s", (today,), "legal_alert_on"),
        ("next_promise_due <= %s", (soon,), "next_promise_due"),
        ("deadline <= %s", (today + timedelta(days=30),), "deadline"),
        ("(last_contact_on IS NULL OR last_contact_on < %s)", (stale,), "last_contact_on"),
    ]
    conditions = tuple(value for _, values, _ in rules for value in values)
    # The SQL is the constants above; every value in it is a parameter.
    priority = RawSQL(  # noqa: S611
        "CASE "
        + " ".join(f"WHEN {condition} THEN {n}" for n, (condition, _, _) in enumerate(rules))
        + f" ELSE {len(rules)} END",
        conditions,
        output_field=IntegerField(),
    )
    urgent_on = RawSQL(  # noqa: S611
        "CASE "
        + " ".join(f"WHEN {condition} THEN {urgent}" for condition, _, urgent in rules)
        + " ELSE deadline END",
        conditions,
        output_field=DateField(),
    )
    order = ("priority", F("urgent_on").asc(nulls_first=True), "-npl_balance", "number")

    def ranked(mine: Q) -> QuerySet[Case]:
        return (
            Case.objects.filter(mine, closed_on__isnull=True)
            .exclude(state=CaseState.RESOLVED)
            .annotate(priority=priority, urgent_on=urgent_on)
            .order_by(*order)
        )

    if limit is None:
        return ranked(functools.reduce(operator.or_, terms)).select_related(
            "household", "unit", "team"
        )
    # The first ``limit`` of all are among the first ``limit`` of each term: each term's are
    # ranked from its index alone (an ``OR`` of the terms would read every case's row), then
    # only the page's cases are joined to their household, unit and team.
    firsts = functools.reduce(
        operator.or_, [Q(InSubquery("pk", ranked(term).values("pk")[:limit])) for term in terms]
    )
    return ranked(firsts).select_related("household", "unit", "team")[:limit]


def worklist_reason(case: Case) -> str:
    """The worklist's reason for a case it returned (``priority`` annotated)."""
    priority = getattr(case, "priority", len(WORKLIST_REASONS))
    return WORKLIST_REASONS[priority] if priority < len(WORKLIST_REASONS) else "in_hand"


# -- the web's signed-in person ----------------------------------------------------------------


def database_ready() -> bool:
    """Whether the casework database answers (the health check; reads no data)."""
    from django.db import DatabaseError, connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return False
    return True


# -- the cases page: every filter of the web's case list ----------------------------------

CASE_SORTS = {
    "number": ("number",),
    "deadline": ("deadline", "number"),
    "-npl_balance": ("-npl_balance", "number"),
    "opened_on": ("opened_on", "number"),
    "state": ("state", "number"),
}


@dataclass(frozen=True)
class CaseFilters:
    """What a person filters the case list by; every field optional."""

    state: str | None = None
    unit: str | None = None
    team: str | None = None
    owner: str | None = None
    strategy: str | None = None
    tier: str | None = None
    legal_stage: str | None = None
    overdue: bool = False
    open_only: bool = True
    query: str | None = None
    sort: str = "number"


@selector
def case_filter(person: Person, filters: CaseFilters, *, today: date) -> QuerySet[Case]:
    """The cases page: ``case_list`` narrowed by every filter of the page.

    A unit, team or owner named outside the person's scope is ``NotFound`` (the page is then a
    404, as for any object out of scope); a filter that matches nothing is an empty list.
    ``query`` finds a household by borrower id, name or ID number (compared whole, the page
    shows them masked) or a case by its number.
    """
    if filters.unit and not units_visible(person).filter(code=filters.unit).exists():
        raise NotFound(
            translatable("no unit {filters_unit} that you may see", filters_unit=filters.unit)
        )
    if filters.team and not teams_visible(person).filter(code=filters.team).exists():
        raise NotFound(
            translatable("no team {filters_team} that you may see", filters_team=filters.team)
        )
    cases = case_list(
        person,
        state=filters.state,
        unit=filters.unit,
        owner=filters.owner,
        team=filters.team,
        open_only=filters.open_only,
    )
    if filters.strategy:
        cases = cases.filter(strategy=filters.strategy)
    if filters.tier:
        cases = cases.filter(tier=filters.tier)
    if filters.legal_stage:
        cases = cases.filter(legal_cases__stage=filters.legal_stage).distinct()
    if filters.overdue:
        cases = cases.filter(deadline__lt=today, closed_on__isnull=True)
    if filters.query:
        text = filters.query.strip()
        cases = cases.filter(
            Q(number=text)
            | Q(household__borrower_id=text)
            | Q(household__id_number=text)
            | Q(household__name=text)
        )
    return cases.order_by(*CASE_SORTS.get(filters.sort, CASE_SORTS["number"]))


@dataclass(frozen=True)
class WorklistItem:
    """One row of a person's worklist: the case, why it is there, and what is flagged."""

    case: Case
    reason: str
    urgent_on: date | None
    household_name: str
    deadline_passed: bool
    broken_promises: int
    plan_breached: bool


# What a worklist item shows (the web's page and the API's list): its cases are read with these
# columns only, not the whole of each case, household, unit and team.
WORKLIST_ITEM_FIELDS = (
    "number",
    "state",
    "strategy",
    "tier",
    "deadline",
    "broken_promises",
    "plan_breached",
    "npl_balance",
    "household__name",
    "household__borrower_id",
    "team__code",
)


@selector
def worklist_items(person: Person, *, today: date, limit: int | None = 50) -> list[WorklistItem]:
    """The worklist as a page shows it: reasons, flags, and the household's name masked."""
    cases = (
        worklist(person, today=today, limit=limit)
        .select_related(None)
        .select_related("household", "team")
        .only(*WORKLIST_ITEM_FIELDS)
    )
    return [
        WorklistItem(
            case=case,
            reason=worklist_reason(case),
            urgent_on=getattr(case, "urgent_on", None),
            household_name=mask_name(case.household.name) or case.household.borrower_id,
            deadline_passed=case.deadline < today,
            broken_promises=case.broken_promises,
            plan_breached=case.plan_breached,
        )
        for case in cases
    ]


@selector
def case_owner_candidates(person: Person, case: Case) -> list[Person]:
    """Who may own or join ``case`` (the rule of ``access.require_case_owner``): active people
    whose roles work cases and whose units cover its unit. For a lead's assignment form."""
    # Only people holding the case's unit or one above it can cover it: read those, not all.
    codes = [code for code in case.unit.path.split("/") if code]
    above = ["/" + "/".join(codes[: n + 1]) + "/" for n in range(len(codes))]
    holders = Person.objects.filter(units__path__in=above).values("pk")
    people = (
        Person.objects.filter(active=True, pk__in=holders)
        .select_related("user")
        .prefetch_related("units")
        .order_by("user__username")
    )
    return [candidate for candidate in people if access.may_own_case(candidate, case)]


@selector
def case_owner_get(person: Person, case: Case, username: str) -> Person:
    """One of ``case_owner_candidates`` by username, or ``NotFound``."""
    for candidate in case_owner_candidates(person, case):
        if candidate.user.get_username() == username:
            return candidate
    raise NotFound(
        translatable(
            "no user {username!r} who may own case {case_number}",
            username=username,
            case_number=case.number,
        )
    )


@dataclass(frozen=True)
class CaseRow:
    """A row of the case list as people see it: the household's name masked."""

    number: str
    household_name: str
    unit_name: str
    state: str
    strategy: str
    tier: str
    deadline: date
    past_deadline: bool
    owner_name: str | None
    npl_balance: Decimal


# What a row of the web's case list shows, read as values: not each case, household, unit,
# owner and login whole and built as objects (a page's rows were a third of the case list's
# time on the load benchmark's home, read whole).
CASE_ROW_FIELDS = (
    "number",
    "household__name",
    "unit__name",
    "state",
    "strategy",
    "tier",
    "deadline",
    "closed_on",
    "owner__name",
    "npl_balance",
)


def case_rows(cases: Any, *, today: date) -> list[CaseRow]:
    """Rows for a page of cases (the query set of a page of ``case_filter``'s), read with
    ``CASE_ROW_FIELDS``; an open case's deadline before ``today`` is past."""
    rows = cases.select_related(None).values_list(*CASE_ROW_FIELDS)
    return [
        CaseRow(
            number=number,
            household_name=mask_name(household_name) or "",
            unit_name=unit_name,
            state=state,
            strategy=strategy,
            tier=tier,
            deadline=deadline,
            past_deadline=closed_on is None and deadline < today,
            owner_name=owner_name,
            npl_balance=npl_balance,
        )
        for (
            number,
            household_name,
            unit_name,
            state,
            strategy,
            tier,
            deadline,
            closed_on,
            owner_name,
            npl_balance,
        ) in rows
    ]


# -- the planner's pipeline ------------------------------------------------------------------

# Legal stages at which a court is enforcing (or has been asked to enforce) a judgment: the
# planner counts their claims as expected cash (docs/planner.md).
ENFORCEMENT_STAGES = ("enforcement_applied", "enforcement")


@dataclass(frozen=True)
class PipelineHistory:
    """What the casework history says money due has turned into: sums for the planner's rates."""

    promised: Decimal  # promises already judged (kept or broken): amount
    promise_paid: Decimal  # … and what was paid on them
    instalments_due: Decimal  # instalments due by the day: amount
    instalments_paid: Decimal  # … and what was paid on them
    enforced_claims: Decimal  # claims of legal cases that reached an enforcement stage
    enforcement_recovered: Decimal  # court-enforcement recoveries of those cases
    written_off: Decimal  # principal of approved write-offs
    recovered_after_write_off: Decimal  # recoveries entered after write-off (net of reversals)


@dataclass(frozen=True)
class UnitPipeline:
    """One unit's open cases: money falling due by a day, and the balance of their loans."""

    promises_due: Decimal = Decimal(0)
    instalments_due: Decimal = Decimal(0)
    enforcement_claims: Decimal = Decimal(0)
    npl_balance: Decimal = Decimal(0)  # NPL balance of the loans of cases with any of the above


@dataclass(frozen=True)
class PlannerPipeline:
    """The casework the planner reads: per unit code the pipeline, and the history's sums."""

    units: dict[str, UnitPipeline]
    history: PipelineHistory


@selector
def planner_pipeline(person: Person, *, as_of: date, until: date) -> PlannerPipeline:
    """Open cases' promises and instalments falling due after ``as_of`` up to ``until`` (what
    is still unpaid of them), legal cases at an enforcement stage (claim less what the court
    has recovered), by the case's unit; and the history up to ``as_of`` the recovery rates are
    estimated from. A fixed number of queries, summed in the database."""
    from django.db.models import DecimalField, Sum
    from django.db.models.functions import Coalesce

    from npldesk.casework.choices import InstalmentState, PromiseState, WriteOffState

    zero = Value(Decimal(0), output_field=DecimalField(max_digits=18, decimal_places=2))

    def total(expression: Any) -> Any:
        return Coalesce(Sum(expression), zero)

    cases = cases_visible(person)
    open_cases = cases.filter(closed_on__isnull=True)
    units: dict[str, dict[str, Decimal]] = {}
    case_units: dict[int, str] = {}

    def add(unit: str, case_id: int, name: str, amount: Decimal) -> None:
        if amount > 0:
            units.setdefault(unit, {}).setdefault(name, Decimal(0))
            units[unit][name] += amount
            case_units[case_id] = unit

    for row in (
        Promise.objects.filter(
            case__in=open_cases,
            state=PromiseState.PENDING,
            due_on__gt=as_of,
            due_on__lte=until,
        )
        .values("case_id", "case__unit__code")
        .annotate(due=total(F("amount") - F("paid")))
    ):
        add(row["case__unit__code"], row["case_id"], "promises_due", row["due"])
    for instalment in (
        Instalment.objects.filter(
            plan__case__in=open_cases,
            plan__state="active",
            state__in=[InstalmentState.DUE, InstalmentState.LATE],
            due_on__lte=until,
        )
        .values("plan__case_id", "plan__case__unit__code")
        .annotate(due=total(F("amount") - F("paid")))
    ):
        add(
            instalment["plan__case__unit__code"],
            instalment["plan__case_id"],
            "instalments_due",
            instalment["due"],
        )
    enforced = LegalCase.objects.filter(case__in=open_cases, stage__in=ENFORCEMENT_STAGES)
    recovered_by_case = {
        row["case_id"]: row["recovered"]
        for row in Recovery.objects.filter(
            case__in=enforced.values("case_id"), source="court_enforcement"
        )
        .values("case_id")
        .annotate(recovered=total("amount"))
    }
    for legal in enforced.values("case_id", "case__unit__code").annotate(
        claim=total("claim_amount")
    ):
        left = legal["claim"] - recovered_by_case.get(legal["case_id"], Decimal(0))
        add(legal["case__unit__code"], legal["case_id"], "enforcement_claims", left)
    for pk, npl_balance in Case.objects.filter(pk__in=list(case_units)).values_list(
        "pk", "npl_balance"
    ):
        unit = case_units[pk]
        units[unit]["npl_balance"] = units[unit].get("npl_balance", Decimal(0)) + npl_balance

    judged = Promise.objects.filter(
        case__in=cases, state__in=[PromiseState.KEPT, PromiseState.BROKEN], due_on__lte=as_of
    ).aggregate(amount=total("amount"), paid=total("paid"))
    instalments = Instalment.objects.filter(plan__case__in=cases, due_on__lte=as_of).aggregate(
        amount=total("amount"), paid=total("paid")
    )
    reached = LegalCase.objects.filter(
        case__in=cases, stages__stage__in=ENFORCEMENT_STAGES, stages__entered_on__lte=as_of
    ).distinct()
    claims = LegalCase.objects.filter(pk__in=reached.values("pk")).aggregate(
        amount=total("claim_amount")
    )
    court = Recovery.objects.filter(
        case__in=reached.values("case_id"), source="court_enforcement", received_on__lte=as_of
    ).aggregate(amount=total("amount"))
    written = WriteOff.objects.filter(
        case__in=cases, state=WriteOffState.APPROVED, approved_on__lte=as_of
    ).aggregate(amount=total("principal"))
    after = Recovery.objects.filter(
        case__in=cases, after_write_off=True, received_on__lte=as_of
    ).aggregate(amount=total("amount"))
    return PlannerPipeline(
        units={code: UnitPipeline(**values) for code, values in units.items()},
        history=PipelineHistory(
            promised=judged["amount"],
            promise_paid=judged["paid"],
            instalments_due=instalments["amount"],
            instalments_paid=instalments["paid"],
            enforced_claims=claims["amount"],
            enforcement_recovered=court["amount"],
            written_off=written["amount"],
            recovered_after_write_off=after["amount"],
        ),
    )


# -- the boards: a team's, the legal desk's, finance's ----------------------------------------


@dataclass(frozen=True)
class MemberLoad:
    """What one member of a team carries: open cases owned, their NPL balance, deadlines past
    and broken promises among them."""

    person: Person
    is_leader: bool
    open_cases: int = 0
    npl_balance: Decimal = Decimal(0)
    overdue: int = 0
    broken_promises: int = 0


@dataclass(frozen=True)
class PlanWaiting:
    """A proposed plan and who must decide it next: the leader of the case's team, or any team
    lead of the case's unit when the case has no team."""

    plan: Plan
    case: Case
    proposed_by: Person
    decider: Person | None
    yours: bool  # the reader may decide it (a lead who can read the case and did not propose it)


@dataclass
class TeamBoard:
    """A team's board (``/teams/<code>/``)."""

    team: Team
    members: list[MemberLoad]
    unassigned: list[Case]  # open cases of the team's units without an owner or without a team
    overdue: list[Case]  # open cases of the team, deadline past
    plans: list[PlanWaiting]
    owners: list[Person]  # whom cases may be given to: the team's leader and members
    teams: list[Team]  # teams the reader may see (the target of a reassignment)


def _plans_waiting(person: Person, plans: QuerySet[Plan]) -> list[PlanWaiting]:
    may_decide = person.active and person.has_role(Role.TEAM_LEAD)
    return [
        PlanWaiting(
            plan=plan,
            case=plan.case,
            proposed_by=plan.proposed_by,
            decider=plan.case.team.leader if plan.case.team is not None else None,
            yours=may_decide
            and plan.proposed_by_id != person.pk
            and (plan.case.team is None or plan.case.team.leader_id == person.pk),
        )
        for plan in plans.select_related(
            "case__household", "case__unit", "case__team__leader__user", "proposed_by__user"
        ).order_by("proposed_at", "pk")
    ]


@selector
def plans_waiting(person: Person) -> list[PlanWaiting]:
    """Proposed plans of the open cases the person may read, oldest first, each saying who
    must decide it next and whether that is the reader ("waiting for you")."""
    return _plans_waiting(
        person,
        Plan.objects.filter(
            state="proposed", case__in=cases_visible(person), case__closed_on__isnull=True
        ),
    )


@selector
def team_board(person: Person, code: str, *, today: date) -> TeamBoard:
    """A team's board in a fixed number of queries, whatever the number of cases: members'
    load, cases of the team's units without owner or team, deadlines past, plans waiting."""
    from django.db.models import Count, Sum

    team = team_get(person, code)
    team = (
        Team.objects.select_related("leader__user")
        .prefetch_related(
            Prefetch("members", queryset=Person.objects.select_related("user")), "units"
        )
        .get(pk=team.pk)
    )
    people = [team.leader, *[m for m in team.members.all() if m.pk != team.leader_id]]
    visible = cases_visible(person).filter(closed_on__isnull=True)
    loads: dict[int, dict[str, Any]] = {
        row["owner_id"]: dict(row)
        for row in visible.filter(owner__in=[p.pk for p in people])
        .values("owner_id")
        .annotate(
            cases=Count("pk"),
            balance=Sum("npl_balance"),
            overdue=Count("pk", filter=Q(deadline__lt=today)),
            broken=Sum("broken_promises"),
        )
    }
    members = [
        MemberLoad(
            person=p,
            is_leader=p.pk == team.leader_id,
            open_cases=loads.get(p.pk, {}).get("cases", 0),
            npl_balance=loads.get(p.pk, {}).get("balance") or Decimal(0),
            overdue=loads.get(p.pk, {}).get("overdue", 0),
            broken_promises=loads.get(p.pk, {}).get("broken") or 0,
        )
        for p in people
    ]
    area = Q(pk__in=[])
    for path in access.team_area(team):
        area |= Q(unit__path__startswith=path)
    rows = visible.select_related("household", "unit", "owner__user", "team")
    return TeamBoard(
        team=team,
        members=members,
        unassigned=list(
            rows.filter(area)
            .filter(Q(owner__isnull=True) | Q(team__isnull=True))
            .order_by("deadline", "number")
        ),
        overdue=list(rows.filter(team=team, deadline__lt=today).order_by("deadline", "number")),
        plans=_plans_waiting(
            person, Plan.objects.filter(state="proposed", case__in=visible.filter(team=team))
        ),
        owners=people,
        teams=list(teams_visible(person).order_by("code")),
    )


@selector
def team_cases_for_reassignment(person: Person, numbers: list[str]) -> list[Case]:
    """The open cases named, as far as the person may read them (``NotFound`` for any other)."""
    cases = list(
        cases_visible(person)
        .filter(number__in=numbers, closed_on__isnull=True)
        .select_related("unit", "team", "household", "owner__user")
        .order_by("number")
    )
    missing = sorted(set(numbers) - {case.number for case in cases})
    if missing:
        raise NotFound(translatable("no open case {missing} that you may see", missing=missing[0]))
    return cases


# Legal cases that have not moved for this long are flagged as stalled.
LEGAL_STALL_DAYS = 90
HEARING_DAYS = 30
LEGAL_CLOCK_DAYS = 60
# The orders the board's open legal cases are read in: the limitation that runs out first (the
# default: expired ones, then those within the warning days), the enforcement deadline that
# does, or the case's number.
LEGAL_BOARD_ORDERS = ("limitation", "enforcement", "case")


@dataclass(frozen=True)
class LegalClock:
    """A date that expires on a legal case: the limitation period or a seizure."""

    legal_case: LegalCase
    kind: str  # "limitation" or "seizure_expiry"
    on: date


@dataclass(frozen=True)
class LegalCaseClocks:
    """An open legal case on the board with its clocks, by the case page's rules
    (``case_clocks``): the limitation of its case's loans that runs out first, and its
    judgment's enforcement deadline. A flag says ``expired`` once a clock's last day has
    passed, ``soon`` within the warning days, else nothing."""

    legal_case: LegalCase
    limitation: LoanClock | None  # None when the tape dates none of the case's loans
    enforcement: clocks.Clock | None  # None until a judgment took effect
    limitation_flag: str
    enforcement_flag: str


@dataclass
class LegalBoard:
    """The legal desk's board (``/legal/``)."""

    by_stage: list[tuple[str, int]]
    cases: list[LegalCase]
    hearings: list[LegalCase]
    stalled: list[LegalCase]
    clocks: list[LegalClock]
    rows: list[LegalCaseClocks]  # ``cases`` with their clocks, in ``order``
    order: str
    warning_days: int  # ``clock_warning_days``: the flags' "soon"
    tape_read: bool


def _open_legal_cases(person: Person) -> QuerySet[LegalCase]:
    from npldesk.casework.choices import LegalStage

    return LegalCase.objects.filter(case__in=cases_visible(person)).exclude(stage=LegalStage.CLOSED)


def _stalled(legal: Iterable[LegalCase], today: date) -> list[LegalCase]:
    return [item for item in legal if item.stage_since <= today - timedelta(days=LEGAL_STALL_DAYS)]


@selector
def legal_board(person: Person, *, today: date, order: str = LEGAL_BOARD_ORDERS[0]) -> LegalBoard:
    """Open legal cases of the cases the person may read, by stage; hearings within 30 days;
    cases whose stage has not moved for 90 days; typed limitation and seizure-expiry dates
    within 60 days; and every open legal case with its clocks (``LegalCaseClocks``) in
    ``order``, one of ``LEGAL_BOARD_ORDERS`` (an unknown one reads as the first). Seven queries
    for any number of cases, and the tape read for all their loans at once
    (``_legal_case_clocks``)."""
    from npldesk.casework.choices import LegalStage

    open_legal = _open_legal_cases(person)
    legal = list(
        open_legal.select_related("case__household", "case__unit", "holder__user").order_by(
            "case__number", "pk"
        )
    )
    counts: dict[str, int] = {}
    for item in legal:
        counts[item.stage] = counts.get(item.stage, 0) + 1
    clocks = [
        LegalClock(item, kind, on)
        for item in legal
        for kind, on in (
            ("limitation", item.limitation_date),
            ("seizure_expiry", item.seizure_expiry_date),
        )
        if on is not None and on <= today + timedelta(days=LEGAL_CLOCK_DAYS)
    ]
    hearings = [
        item
        for item in legal
        if item.next_hearing_on is not None
        and today <= item.next_hearing_on <= today + timedelta(days=HEARING_DAYS)
    ]
    warning_days = casework_settings().params.clock_warning_days
    rows, tape_read = _legal_case_clocks(open_legal, legal, today=today, warning_days=warning_days)
    if order not in LEGAL_BOARD_ORDERS:
        order = LEGAL_BOARD_ORDERS[0]
    if order == "limitation":
        rows.sort(key=lambda row: _soonest_first(row.limitation.clock if row.limitation else None))
    elif order == "enforcement":
        rows.sort(key=lambda row: _soonest_first(row.enforcement))
    return LegalBoard(
        by_stage=[(stage, counts[stage]) for stage in LegalStage.values if stage in counts],
        cases=legal,
        hearings=sorted(hearings, key=lambda item: (item.next_hearing_on, item.pk)),
        stalled=_stalled(legal, today),
        clocks=sorted(clocks, key=lambda clock: (clock.on, clock.legal_case.pk)),
        rows=rows,
        order=order,
        warning_days=warning_days,
        tape_read=tape_read,
    )


def _soonest_first(clock: clocks.Clock | None) -> tuple[bool, date]:
    """A sort key: the soonest last day first (so one already passed before any to come), a
    clock without one (interrupted, or none at all) after them. Python's sort is stable: the
    rows keep the case-number order within a day."""
    if clock is None or clock.last_day is None:
        return (True, date.max)
    return (False, clock.last_day)


def _board_flag(clock: clocks.Clock | None, warning_days: int) -> str:
    if clock is None or clock.days_left is None:
        return ""
    if clock.days_left < 0:
        return "expired"
    return "soon" if clock.days_left <= warning_days else ""


def _nearest_limitation(loans: list[LoanClock]) -> LoanClock | None:
    """The loan whose limitation runs out first; else one whose clock a filing stopped; None
    when the tape dates none of them."""
    dated = [(loan.clock.last_day, loan) for loan in loans if loan.clock and loan.clock.last_day]
    if dated:
        return min(dated, key=lambda pair: (pair[0], pair[1].loan_id))[1]
    return next((loan for loan in loans if loan.clock is not None), None)


def _by_case(rows: Iterable[Any], case_id: Callable[[Any], int]) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = {}
    for row in rows:
        grouped.setdefault(case_id(row), []).append(row)
    return grouped


def _legal_case_clocks(
    open_legal: QuerySet[LegalCase],
    legal: list[LegalCase],
    *,
    today: date,
    warning_days: int,
) -> tuple[list[LegalCaseClocks], bool]:
    """The clocks of the open legal cases ``legal`` (``open_legal``'s rows), by the rules the
    case page uses, read for all their cases at once: the cases' loans, and what restarts or
    stops the clocks (demands, promises, repayment plans, every legal stage, recoveries), one
    query each; the loans' maturity dates in one batch from the tape (``_tape_for_clocks``).
    Also whether the tape could be read."""
    if not legal:
        return [], True
    calendar = casework_settings().calendar
    cases = open_legal.values("case_id")
    loan_ids = _by_case(
        CaseLoan.objects.filter(case__in=cases).values_list("case_id", "loan_id").order_by(),
        lambda row: row[0],
    )
    activities = _by_case(
        Activity.objects.filter(case__in=cases, kind__in=_DEMAND_KINDS, outcome__in=_REACHED)
        .only("case", "kind", "outcome", "occurred_on")
        .order_by(),
        lambda activity: activity.case_id,
    )
    promises = _by_case(
        Promise.objects.filter(case__in=cases).only("case", "made_on").order_by(),
        lambda promise: promise.case_id,
    )
    repayment_plans = _by_case(
        RepaymentPlan.objects.filter(case__in=cases).only("case", "agreed_on").order_by(),
        lambda plan: plan.case_id,
    )
    # Every legal case's stages, the closed ones' too: a finished lawsuit's filing and end
    # stopped and restarted the case's limitation.
    stages = list(
        LegalStageEntry.objects.filter(legal_case__case__in=cases)
        .select_related("legal_case")
        .only("stage", "entered_on", "legal_case__case")
    )
    stages_by_case = _by_case(stages, lambda entry: entry.legal_case.case_id)
    stages_by_legal_case = _by_case(stages, lambda entry: entry.legal_case_id)
    recoveries = _by_case(
        Recovery.objects.filter(case__in=cases)
        .only("case", "loan_id", "received_on", "amount", "reverses")
        .order_by(),
        lambda recovery: recovery.case_id,
    )
    tape, tape_read = _tape_for_clocks(
        [loan_id for rows in loan_ids.values() for _, loan_id in rows], today
    )
    nearest: dict[int, LoanClock | None] = {}
    found = []
    for legal_case in legal:
        case_id = legal_case.case_id
        if case_id not in nearest:
            events = limitation_events(
                activities=activities.get(case_id, []),
                promises=promises.get(case_id, []),
                repayment_plans=repayment_plans.get(case_id, []),
                legal_stages=stages_by_case.get(case_id, []),
                recoveries=recoveries.get(case_id, []),
            )
            nearest[case_id] = _nearest_limitation(
                _loan_limitations(
                    [loan_id for _, loan_id in loan_ids.get(case_id, [])],
                    tape,
                    events,
                    today=today,
                    calendar=calendar,
                )
            )
        limitation = nearest[case_id]
        enforcement = _enforcement_clock(
            legal_case,
            stages_by_legal_case.get(legal_case.pk, []),
            today=today,
            calendar=calendar,
        )
        found.append(
            LegalCaseClocks(
                legal_case,
                limitation,
                enforcement,
                _board_flag(limitation.clock if limitation else None, warning_days),
                _board_flag(enforcement, warning_days),
            )
        )
    return found, tape_read


@dataclass(frozen=True)
class LossLoan:
    """A loss-class loan on the books with no write-off application yet: one to prepare."""

    case: Case
    loan: Any


@dataclass
class FinanceDesk:
    """Finance's desk (``/finance/``)."""

    to_prepare: list[LossLoan]
    to_review: list[WriteOff]
    to_approve: list[WriteOff]
    to_confirm: list[Recovery]


@selector
def finance_desk(person: Person) -> FinanceDesk:
    """Loss-class loans of open cases in scope with no live write-off application, write-offs
    waiting for review and for approval (each with who took the earlier steps), and recovery
    entries waiting for confirmation that the reader did not enter. Five queries."""
    from npldesk.casework.choices import WriteOffState
    from npldesk.casework.models import CaseLoan, WriteOffDecision

    visible = cases_visible(person)
    live = WriteOff.objects.exclude(state=WriteOffState.REJECTED)
    loans = (
        CaseLoan.objects.filter(
            case__in=visible.filter(closed_on__isnull=True), loan_class="loss", status="active"
        )
        .exclude(Exists(live.filter(case_id=OuterRef("case_id"), loan_id=OuterRef("loan_id"))))
        .select_related("case__household", "case__unit")
        .order_by("case__number", "loan_id")
    )
    pending = list(
        WriteOff.objects.filter(
            case__in=visible, state__in=[WriteOffState.PREPARED, WriteOffState.REVIEWED]
        )
        .select_related("case__household", "case__unit", "prepared_by__user")
        .prefetch_related(
            Prefetch(
                "decisions",
                queryset=WriteOffDecision.objects.select_related("by__user").order_by("at", "pk"),
            )
        )
        .order_by("prepared_on", "pk")
    )
    return FinanceDesk(
        to_prepare=[LossLoan(case=loan.case, loan=loan) for loan in loans],
        to_review=[w for w in pending if w.state == WriteOffState.PREPARED],
        to_approve=[w for w in pending if w.state == WriteOffState.REVIEWED],
        to_confirm=list(
            Recovery.objects.filter(
                case__in=visible, confirmation__isnull=True, reverses__isnull=True
            )
            .filter(reversed_by__isnull=True)
            .exclude(entered_by=person)
            .select_related("case__household", "entered_by__user")
            .order_by("received_on", "pk")
        ),
    )


@selector
def writeoff_get(person: Person, pk: int) -> WriteOff:
    """One write-off of a case the person may read, or ``NotFound``."""
    found = writeoffs_visible(person).select_related("case__unit").filter(pk=pk).first()
    if found is None:
        raise NotFound(translatable("no write-off {pk} that you may see", pk=pk))
    return found


@selector
def recovery_get(person: Person, pk: int) -> Recovery:
    """One recovery entry of a case the person may read, or ``NotFound``."""
    found = recoveries_visible(person).filter(pk=pk).first()
    if found is None:
        raise NotFound(translatable("no recovery {pk} that you may see", pk=pk))
    return found


@selector
def loss_loan_get(person: Person, number: str, loan_id: str) -> Case:
    """The open case ``number`` in the person's scope holding loan ``loan_id``, or
    ``NotFound``."""
    case = case_get(person, number)
    if not case.loans.filter(loan_id=loan_id).exists():
        raise NotFound(
            translatable("no loan {loan_id} in case {number}", loan_id=loan_id, number=number)
        )
    return case


@dataclass
class ReconciliationView:
    """The months a reconciliation can be asked for, and the one asked (``None`` when the
    home has fewer than two months imported or none was asked)."""

    months: list[date]
    as_of: date | None
    result: Any | None  # npldesk.casework.reconcile.Reconciliation


@selector
def reconciliation(person: Person, *, as_of: date | None) -> ReconciliationView:
    """Casework's recoveries against the movement's cash line for the month ending ``as_of``
    (``npldesk cases reconcile``: the whole bank's ledger, for finance and leaders); the latest
    month that has one before it when ``as_of`` is ``None``."""
    import os

    from npldesk.analytics.session import Analytics
    from npldesk.casework.reconcile import reconcile
    from npldesk.home import load_home

    if not access.is_system_actor(person) and not (
        person.active and person.has_role(Role.FINANCE, Role.LEADER)
    ):
        raise AccessDenied(translatable("the reconciliation is read by finance and leaders"))
    session = Analytics.for_home(load_home(os.environ.get("NPLDESK_HOME"), must_exist=False))
    months = session.months()[1:]
    if as_of is None and months:
        as_of = months[-1]
    if as_of is None or as_of not in months:
        return ReconciliationView(months=months, as_of=None, result=None)
    return ReconciliationView(months=months, as_of=as_of, result=reconcile(session, as_of))


@selector
def policy_table(person: Person) -> tuple[Any, ...]:
    """The policy table (segment → strategy → tier) the rules apply, first match first, as the
    home's ``npldesk.toml`` sets it. Administrators read it (it is changed in that file)."""
    if not access.is_system_actor(person) and not (person.active and person.has_role(Role.ADMIN)):
        raise AccessDenied(translatable("the policy table is read by administrators"))
    return casework_settings().policy


# -- accounts: API tokens -----------------------------------------------------------------


def _tokens_scope(person: Person) -> QuerySet[Any]:
    from npldesk.casework.models import ApiToken

    tokens = ApiToken.objects.select_related("person__user")
    if access.is_system_actor(person) or (person.active and person.has_role(Role.ADMIN)):
        return tokens
    return tokens.filter(person=person)


@selector
def api_tokens(person: Person, *, owner: Person | None = None) -> QuerySet[Any]:
    """API tokens with their last use: a person's own, an administrator's view of anyone's
    (``owner`` narrows to one person). The digest is never shown."""
    tokens = _tokens_scope(person)
    if owner is not None:
        tokens = tokens.filter(person=owner)
    return tokens.order_by("created_at", "id")


@selector
def api_token_get(person: Person, prefix: str) -> Any:
    """One token by the first characters of its secret (as ``api_tokens`` lists them)."""
    token = _tokens_scope(person).filter(prefix=prefix).first()
    if token is None:
        raise NotFound(translatable("no API token {prefix} that you may see", prefix=prefix))
    return token


@selector
def case_plan(person: Person, number: str, plan_id: int) -> Plan:
    """One plan of a case the person may read, or ``NotFound``."""
    case = case_get(person, number)
    plan = Plan.objects.filter(case=case, pk=plan_id).first()
    if plan is None:
        raise NotFound(
            translatable("no plan {plan_id} on case {number}", plan_id=plan_id, number=number)
        )
    plan.case = case
    return plan


@selector
def case_recovery(person: Person, number: str, recovery_id: int) -> Recovery:
    """One ledger entry of a case the person may read, or ``NotFound``."""
    case = case_get(person, number)
    entry = Recovery.objects.filter(case=case, pk=recovery_id).first()
    if entry is None:
        raise NotFound(
            translatable(
                "no recovery {recovery_id} on case {number}", recovery_id=recovery_id, number=number
            )
        )
    entry.case = case
    return entry


@selector
def case_milestone(person: Person, number: str, milestone_id: int) -> Milestone:
    """One milestone of a plan of a case the person may read, or ``NotFound``."""
    case = case_get(person, number)
    milestone = Milestone.objects.select_related("plan").filter(plan__case=case, pk=milestone_id)
    found = milestone.first()
    if found is None:
        raise NotFound(
            translatable(
                "no milestone {milestone_id} on case {number}",
                milestone_id=milestone_id,
                number=number,
            )
        )
    found.plan.case = case
    return found


@selector
def case_repayment_plan(person: Person, number: str, plan_id: int) -> RepaymentPlan:
    """One repayment plan of a case the person may read, or ``NotFound``."""
    case = case_get(person, number)
    plan = RepaymentPlan.objects.filter(case=case, pk=plan_id).first()
    if plan is None:
        raise NotFound(
            translatable(
                "no repayment plan {plan_id} on case {number}", plan_id=plan_id, number=number
            )
        )
    plan.case = case
    return plan


@selector
def case_legal_case(person: Person, number: str, legal_case_id: int) -> LegalCase:
    """One legal case of a case the person may read, or ``NotFound``."""
    case = case_get(person, number)
    legal_case = LegalCase.objects.filter(case=case, pk=legal_case_id).first()
    if legal_case is None:
        raise NotFound(
            translatable(
                "no legal case {legal_case_id} on case {number}",
                legal_case_id=legal_case_id,
                number=number,
            )
        )
    legal_case.case = case
    return legal_case


@selector
def case_writeoff(person: Person, number: str, writeoff_id: int) -> WriteOff:
    """One write-off application of a case the person may read, or ``NotFound``."""
    case = case_get(person, number)
    writeoff = WriteOff.objects.filter(case=case, pk=writeoff_id).first()
    if writeoff is None:
        raise NotFound(
            translatable(
                "no write-off {writeoff_id} on case {number}",
                writeoff_id=writeoff_id,
                number=number,
            )
        )
    writeoff.case = case
    return writeoff


@selector
def transfer_list(person: Person) -> QuerySet[TransferPackage]:
    """Transfer packages of the person's units (finance, leaders, analysts), newest first,
    with their unit and how many loans each holds, in one query."""
    return (
        transfer_packages_visible(person)
        .select_related("unit", "prepared_by__user", "approved_by__user")
        .annotate(loan_count=Count("loans"))
        .order_by("-cut_off_on", "code")
    )


@selector
def transfer_get(person: Person, code: str) -> TransferPackage:
    """One transfer package the person may see, or ``NotFound``."""
    package = transfer_packages_visible(person).select_related("unit").filter(code=code).first()
    if package is None:
        raise NotFound(translatable("no transfer package {code} that you may see", code=code))
    return package


# -- runs ----------------------------------------------------------------------------------

# Who follows the month-end runs: those who answer for the figures and the casework of the
# branch network (officers see their worklist, not the machinery that fills it).
RUN_READERS = frozenset({Role.ADMIN, Role.RISK_ANALYST, Role.LEADER, Role.TEAM_LEAD})


@selector
def runs_visible(person: Person) -> QuerySet[Run]:
    """The month-end runs, latest month first, for the system actor and ``RUN_READERS``."""
    runs = Run.objects.select_related("started_by__user").order_by("-as_of", "-started_at")
    if access.is_system_actor(person) or (person.active and person.has_role(*RUN_READERS)):
        return runs
    return runs.none()


@selector
def run_find(person: Person, as_of: date, *, kind: str = RunKind.MONTH_END) -> Run | None:
    """The run of ``kind`` for the month ``as_of``, or ``None`` when it never started."""
    return runs_visible(person).filter(kind=kind, as_of=as_of).first()


@selector
def run_get(person: Person, as_of: date, *, kind: str = RunKind.MONTH_END) -> Run:
    """The run of ``kind`` for ``as_of``, or ``NotFound`` naming the month."""
    run = run_find(person, as_of, kind=kind)
    if run is None:
        named = translatable("month-end") if kind == RunKind.MONTH_END else kind.replace("_", "-")
        raise NotFound(translatable("no {kind} run of {month}", kind=named, month=f"{as_of:%Y-%m}"))
    return run


@selector
def run_steps(person: Person, run: Run) -> list[RunStep]:
    """The steps ``run`` recorded, in the order they run."""
    if not runs_visible(person).filter(pk=run.pk).exists():
        raise NotFound(translatable("no run {run}", run=run))
    return list(RunStep.objects.filter(run=run).order_by("position"))


@selector
def latest_month_end_run(person: Person) -> Run | None:
    """The latest month's month-end run (for the tape page and the leader's dashboard: show
    ``run.summary()``), or ``None`` before the first run."""
    return runs_visible(person).filter(kind=RunKind.MONTH_END).first()


# -- jobs ----------------------------------------------------------------------------------


@selector
def jobs_visible(person: Person) -> QuerySet[Job]:
    """The jobs ``person`` may follow, latest first: their own, or every job for the system
    actor and ``RUN_READERS``."""
    jobs = Job.objects.select_related("created_by__user").order_by("-created_at", "-id")
    if access.is_system_actor(person) or (person.active and person.has_role(*RUN_READERS)):
        return jobs
    return jobs.filter(created_by=person)


@selector
def job_get(person: Person, job_id: int) -> Job:
    """One job ``person`` may follow, or ``NotFound``."""
    job = jobs_visible(person).filter(pk=job_id).first()
    if job is None:
        raise NotFound(translatable("no job {job_id}", job_id=job_id))
    return job


# -- clocks ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClockAlert:
    """A clock that runs out within the window (or has run out): what it is, on which case and
    legal case, its last day and what last set it going."""

    case_number: str
    legal_case_id: int
    clock: str  # "enforcement", or "limitation" for a date the legal desk typed
    last_day: date
    days_left: int
    state: str  # clocks.ClockState: due_60, due_30 or expired
    anchor_reason: str


# A legal stage entered counts for the enforcement clock as: an application stops it, the end of
# enforcement without full recovery lets it run again from that day.
_ENFORCEMENT_EVENTS = {
    "enforcement_applied": clocks.Event.FILING,
    "terminated_unrecovered": clocks.Event.PROCEEDINGS_END,
}


@selector
def clock_alerts(person: Person, *, today: date, within_days: int = 60) -> list[ClockAlert]:
    """The clocks of open legal cases the person may see that run out within ``within_days``
    of ``today`` or have run out, soonest first: the enforcement clock computed from the
    judgment (``casework/clocks.py``, the holiday calendar of ``[clocks]``), and a limitation
    date typed on the legal case. Alerts at 60 and 30 days (``state``) and on expiry."""
    calendar = casework_settings().calendar
    legal_cases = (
        LegalCase.objects.filter(case__in=cases_visible(person))
        .exclude(stage="closed")
        .select_related("case")
        .prefetch_related("stages")
        .order_by("pk")
    )
    alerts: list[ClockAlert] = []
    for legal_case in legal_cases:
        found: list[tuple[str, clocks.Clock]] = []
        enforcement = _enforcement_clock(
            legal_case, legal_case.stages.all(), today=today, calendar=calendar
        )
        if enforcement is not None:
            found.append(("enforcement", enforcement))
        if legal_case.limitation_date is not None:
            left = (legal_case.limitation_date - today).days
            found.append(
                (
                    "limitation",
                    clocks.Clock(
                        anchor=legal_case.limitation_date,
                        anchor_reason="typed",
                        last_day=legal_case.limitation_date,
                        state=clocks.state_for(left),
                        days_left=left,
                    ),
                )
            )
        for name, clock in found:
            if clock.last_day is None or clock.days_left is None:
                continue
            if clock.days_left <= within_days:
                alerts.append(
                    ClockAlert(
                        case_number=legal_case.case.number,
                        legal_case_id=legal_case.pk,
                        clock=name,
                        last_day=clock.last_day,
                        days_left=clock.days_left,
                        state=str(clock.state),
                        anchor_reason=clock.anchor_reason,
                    )
                )
    return sorted(alerts, key=lambda a: (a.last_day, a.case_number, a.clock))


# -- legal documents and the clocks of one case -----------------------------------------------


@selector
def case_documents(person: Person, detail: CaseDetail) -> list[Document]:
    """The legal documents drafted from the case of ``detail`` (``case_detail``'s for
    ``person``), latest first: each is an activity's, loaded with it (no query)."""
    documents = []
    for activity in detail.activities:
        try:
            documents.append(activity.document)
        except Document.DoesNotExist:
            continue
    return sorted(documents, key=lambda d: (d.generated_at, d.pk), reverse=True)


@dataclass(frozen=True)
class DocumentFile:
    document: Document
    path: Any  # pathlib.Path under the home
    filename: str
    content_type: str
    home: Any  # npldesk.home.Home the file is kept in (where its export is logged)


DOCUMENT_CONTENT_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


@selector
def document_file(person: Person, number: str, document_id: int, fmt: str) -> DocumentFile:
    """One file of a case's document, for someone who may see the household's personal data
    (those who work the case): the face records the export before it sends the file."""
    import os

    from npldesk.casework.legaldocs import TITLES
    from npldesk.home import load_home

    case = case_get(person, number)
    if not access.may_see_personal_data(person, case):
        raise AccessDenied(
            translatable(
                "{username} does not work case {case_number}: its documents show personal data",
                username=person.user.get_username(),
                case_number=case.number,
            )
        )
    document = Document.objects.filter(case=case, pk=document_id).first()
    if document is None or fmt not in DOCUMENT_CONTENT_TYPES or fmt not in document.files:
        raise NotFound(translatable("no document {document_id}", document_id=document_id))
    home = load_home(os.environ.get("NPLDESK_HOME"), must_exist=False)
    path = home.path / document.files[fmt]
    if not path.is_file():
        raise NotFound(
            translatable(
                "the file of document {document_id} is missing from the home",
                document_id=document_id,
            )
        )
    name = f"{case.number}-{TITLES[document.kind]}-{document.as_of.isoformat()}.{fmt}"
    return DocumentFile(document, path, name, DOCUMENT_CONTENT_TYPES[fmt], home)


@selector
def unit_legal_details_list(person: Person) -> list[tuple[Unit, UnitLegalDetails | None]]:
    """The units an admin administers, each with its legal details (or ``None``)."""
    if not (access.is_system_actor(person) or (person.active and person.has_role(Role.ADMIN))):
        return []
    units = [
        unit
        for unit in Unit.objects.order_by("path")
        if access.is_system_actor(person) or access.covers_unit(person, unit)
    ]
    details = {d.unit_id: d for d in UnitLegalDetails.objects.filter(unit__in=units)}
    return [(unit, details.get(unit.pk)) for unit in units]


@dataclass(frozen=True)
class LoanClock:
    """A loan's limitation clock, or why there is none (``missing``: no maturity known)."""

    loan_id: str
    maturity_date: date | None
    clock: clocks.Clock | None


@dataclass(frozen=True)
class EnforcementClock:
    legal_case: LegalCase
    clock: clocks.Clock


@dataclass(frozen=True)
class GuaranteePeriod:
    """A guarantor's guarantee period for one loan: six months from its due date (Civil Code
    art. 692), never restarted."""

    guarantor: str  # the guarantor's borrower id (not personal data)
    loan_id: str
    last_day: date
    days_left: int
    state: str


@dataclass
class CaseClocks:
    today: date
    loans: list[LoanClock] = field(default_factory=list)
    legal: list[EnforcementClock] = field(default_factory=list)
    guarantees: list[GuaranteePeriod] = field(default_factory=list)
    tape_read: bool = True


# Activities that count as a receipted demand reaching the debtor, and their outcomes that
# say it did.
_DEMAND_KINDS = frozenset({"letter", "lawyers_letter"})
_REACHED = frozenset({"contacted", "promise", "refusal", "payment", "dispute"})
_LIMITATION_STAGES = {
    "filed": clocks.Event.FILING,
    "closed": clocks.Event.PROCEEDINGS_END,
    "terminated_unrecovered": clocks.Event.PROCEEDINGS_END,
}


def limitation_events(
    *,
    activities: Iterable[Activity],
    promises: Iterable[Promise],
    repayment_plans: Iterable[RepaymentPlan],
    legal_stages: Iterable[LegalStageEntry],
    recoveries: Iterable[Recovery],
) -> dict[str, list[tuple[date, clocks.Event]]]:
    """The dated events of one case that restart or interrupt its loans' limitation, by loan id
    ("" for those of every loan): demands delivered, acknowledgements (promises, repayment
    plans agreed), partial payments (per loan, less those reversed), filings and the end of
    proceedings (the stages of every legal case of the case). The case page passes what
    ``case_detail`` loaded, the legal board what it read for all its cases at once: no query."""
    events: dict[str, list[tuple[date, clocks.Event]]] = {"": []}
    common = events[""]
    for activity in activities:
        if activity.kind in _DEMAND_KINDS and activity.outcome in _REACHED:
            common.append((activity.occurred_on, clocks.Event.DEMAND))
    for promise in promises:
        common.append((promise.made_on, clocks.Event.ACKNOWLEDGEMENT))
    for plan in repayment_plans:
        common.append((plan.agreed_on, clocks.Event.ACKNOWLEDGEMENT))
    for entry in legal_stages:
        if entry.stage in _LIMITATION_STAGES:
            common.append((entry.entered_on, _LIMITATION_STAGES[entry.stage]))
    ledger = list(recoveries)
    reversed_ids = {r.reverses_id for r in ledger if r.reverses_id is not None}
    for recovery in ledger:
        if recovery.amount > 0 and recovery.pk not in reversed_ids:
            events.setdefault(recovery.loan_id, []).append(
                (recovery.received_on, clocks.Event.PARTIAL_PAYMENT)
            )
    return events


def _loan_limitations(
    loan_ids: Iterable[str],
    tape: Mapping[str, TapeLoan],
    events: Mapping[str, list[tuple[date, clocks.Event]]],
    *,
    today: date,
    calendar: clocks.Calendar,
) -> list[LoanClock]:
    """Each loan's limitation clock on ``today``, by loan id: three years from its maturity
    date in ``tape`` as the case's ``events`` (``limitation_events``) restarted or stopped it;
    no clock for a loan the tape does not date."""
    found = []
    for loan_id in sorted(loan_ids):
        maturity = tape[loan_id].maturity_date if loan_id in tape else None
        clock = None
        if maturity is not None:
            clock = clocks.limitation(
                maturity=maturity,
                events=events.get("", []) + events.get(loan_id, []),
                as_of=today,
                calendar=calendar,
            )
        found.append(LoanClock(loan_id, maturity, clock))
    return found


def _enforcement_clock(
    legal_case: LegalCase,
    stages: Iterable[LegalStageEntry],
    *,
    today: date,
    calendar: clocks.Calendar,
) -> clocks.Clock | None:
    """A legal case's enforcement clock on ``today`` from its judgment's dates, stopped and
    restarted by its ``stages`` (``_ENFORCEMENT_EVENTS``); None until a judgment took effect."""
    if legal_case.judgment_effective_on is None:
        return None
    return clocks.enforcement(
        effective_on=legal_case.judgment_effective_on,
        performance_due_on=legal_case.performance_due_on,
        events=[
            (entry.entered_on, _ENFORCEMENT_EVENTS[entry.stage])
            for entry in stages
            if entry.stage in _ENFORCEMENT_EVENTS
        ],
        as_of=today,
        calendar=calendar,
    )


def _tape_for_clocks(loan_ids: Iterable[str], today: date) -> tuple[dict[str, TapeLoan], bool]:
    """The loans' rows in the latest snapshot on or before ``today`` that has each (for their
    maturity dates), read from the home's store for all of them at once, and whether the store
    could be read: without it a page still shows, less the loans' clocks."""
    import os

    from npldesk.casework.legaldocs import latest_tape_loans
    from npldesk.home import load_home
    from npldesk.tape.store import Store

    store = Store(load_home(os.environ.get("NPLDESK_HOME"), must_exist=False).store_path)
    try:
        return latest_tape_loans(store, today, loan_ids), True
    except Exception:  # a store that cannot be read: the page still shows
        return {}, False


@selector
def case_clocks(person: Person, detail: CaseDetail, *, today: date) -> CaseClocks:
    """The clocks running on the case of ``detail`` (``case_detail``'s, for ``person``) on
    ``today``: limitation per loan (from its maturity date in the latest tape snapshot that
    has it, and what last restarted it), enforcement per legal case with a judgment, and the
    guarantee period per guarantor and loan. Without a readable tape store the loans' clocks
    are left out (``tape_read`` false). One query (the guarantors) beyond ``detail``."""
    calendar = casework_settings().calendar
    result = CaseClocks(today=today)
    loan_ids = [loan.loan_id for loan in detail.loans]
    tape, result.tape_read = _tape_for_clocks(loan_ids, today)
    events = limitation_events(
        activities=detail.activities,
        promises=detail.promises,
        repayment_plans=detail.repayment_plans,
        legal_stages=[entry for item in detail.legal_cases for entry in item.stages.all()],
        recoveries=detail.recoveries,
    )
    result.loans = _loan_limitations(loan_ids, tape, events, today=today, calendar=calendar)
    for legal_case in sorted(detail.legal_cases, key=lambda item: item.pk):
        clock = _enforcement_clock(
            legal_case, legal_case.stages.all(), today=today, calendar=calendar
        )
        if clock is not None:
            result.legal.append(EnforcementClock(legal_case, clock))
    with_maturity = [loan for loan in result.loans if loan.maturity_date is not None]
    if with_maturity:
        for guarantor in detail.case.household.guarantors.order_by("borrower_id"):
            for loan in with_maturity:
                assert loan.maturity_date is not None
                period = clocks.guarantee(due_on=loan.maturity_date, as_of=today, calendar=calendar)
                assert period.last_day is not None
                assert period.days_left is not None
                result.guarantees.append(
                    GuaranteePeriod(
                        guarantor.borrower_id,
                        loan.loan_id,
                        period.last_day,
                        period.days_left,
                        str(period.state),
                    )
                )
    return result


# -- risk reminders ----------------------------------------------------------------------------

# The sections of a pack, in the order a reader meets them; the first two are loans of the
# tape's lists, the others cases (``reports.reminders`` builds them).
REMINDER_SECTIONS = (
    "new_npl",
    "early_warning",
    "deadline_past",
    "broken_promise",
    "plan_breached",
    "legal_stall",
    "legal_clock",
)


@dataclass(frozen=True)
class ReminderCaseItem:
    """An open case that a unit's pack names in one of its case sections."""

    section: str
    unit_path: str
    item: dict[str, Any]


@selector
def reminder_case_items(person: Person, *, today: date) -> list[ReminderCaseItem]:
    """The open cases the person may read that a reminder pack names as of ``today``: deadline
    past, broken promises, breached repayment plans, legal stages stalled for
    ``LEGAL_STALL_DAYS``, and limitation or enforcement clocks within ``LEGAL_CLOCK_DAYS``
    (``clock_alerts``); each with its unit's path, so a pack takes those of its subtree."""
    cases = list(
        cases_visible(person)
        .filter(closed_on__isnull=True)
        .filter(
            Q(deadline__lt=today)
            | Q(broken_promises__gt=0)
            | Q(plan_breached=True)
            | Q(legal_cases__isnull=False)
        )
        .select_related("household", "unit", "owner")
        .distinct()
        .order_by("number")
    )
    by_number = {case.number: case for case in cases}
    items: list[ReminderCaseItem] = []

    def add(section: str, case: Case, **details: Any) -> None:
        base = {
            "case": case.number,
            "household": case.household.borrower_id,
            "npl_balance": str(case.npl_balance),
            "owner": case.owner.name if case.owner is not None else "",
        }
        items.append(ReminderCaseItem(section, case.unit.path, base | details))

    for case in cases:
        if case.deadline < today:
            add("deadline_past", case, deadline=case.deadline.isoformat())
        if case.broken_promises > 0:
            add("broken_promise", case, broken_promises=case.broken_promises)
        if case.plan_breached:
            due = case.next_instalment_due
            add("plan_breached", case, instalment_due=None if due is None else due.isoformat())
    open_legal = _open_legal_cases(person).select_related("case").order_by("case__number", "pk")
    for legal_case in _stalled(open_legal, today):
        stalled = by_number.get(legal_case.case.number)
        if stalled is not None:
            add(
                "legal_stall",
                stalled,
                stage=legal_case.stage,
                stage_since=legal_case.stage_since.isoformat(),
            )
    for alert in clock_alerts(person, today=today, within_days=LEGAL_CLOCK_DAYS):
        clocked = by_number.get(alert.case_number)
        if clocked is not None:
            add(
                "legal_clock",
                clocked,
                clock=alert.clock,
                last_day=alert.last_day.isoformat(),
                days_left=alert.days_left,
                state=alert.state,
            )
    return items


@selector
def reminder_recipients(person: Person, unit: Unit) -> list[Person]:
    """The people a unit's pack goes to: the active staff who belong to the unit itself (a
    county branch's people get the county's pack, which covers its sub-branches)."""
    return list(
        Person.objects.filter(units=unit, active=True)
        .exclude(user__username=SYSTEM_USERNAME)
        .select_related("user")
        .order_by("user__username")
    )


@selector
def reminder_pack_find(person: Person, unit: Unit, as_of: date) -> ReminderPack | None:
    """The unit's pack for the month, if it was delivered (with its deliveries' people)."""
    return (
        ReminderPack.objects.filter(unit=unit, as_of=as_of)
        .prefetch_related("deliveries")
        .select_related("unit")
        .first()
    )


@selector
def reminder_deliveries_unmailed(person: Person, pack: ReminderPack) -> list[ReminderDelivery]:
    """The pack's deliveries whose e-mail notice has not gone yet."""
    return list(
        pack.deliveries.filter(emailed_at__isnull=True)
        .select_related("person__user")
        .order_by("person__user__username")
    )


@selector
def inbox(person: Person) -> QuerySet[ReminderDelivery]:
    """The reminder packs delivered to the person, latest month first."""
    return ReminderDelivery.objects.filter(person=person).select_related("pack__unit")


@selector
def inbox_unread(person: Person) -> int:
    """How many packs delivered to the person are not read yet."""
    return ReminderDelivery.objects.filter(person=person, read_at__isnull=True).count()


@selector
def inbox_delivery(person: Person, delivery_id: int) -> ReminderDelivery:
    """One pack delivered to the person; anyone else's is not found."""
    delivery = (
        ReminderDelivery.objects.filter(person=person, pk=delivery_id)
        .select_related("pack__unit", "person__user")
        .first()
    )
    if delivery is None:
        raise NotFound(translatable("no reminder {delivery_id} of yours", delivery_id=delivery_id))
    return delivery


@dataclass(frozen=True)
class ReminderSection:
    """One section of a pack as a reader sees it."""

    name: str
    items: list[dict[str, Any]]


@dataclass(frozen=True)
class ReminderPackView:
    """A pack for its reader: each item's household name masked unless the reader works the
    household's case (the unmasked names shown are recorded)."""

    delivery: ReminderDelivery
    pack: ReminderPack
    sections: list[ReminderSection]
    unmasked: int


@selector
def reminder_pack_view(person: Person, delivery: ReminderDelivery) -> ReminderPackView:
    """The pack of ``delivery`` (the person's own, from ``inbox_delivery``) with names as the
    person may see them. Three queries, plus one audit record when a name is shown unmasked."""
    if delivery.person_id != person.pk:
        raise NotFound(translatable("no reminder {pk} of yours", pk=delivery.pk))
    pack = delivery.pack
    sections = {name: list(pack.sections.get(name, [])) for name in REMINDER_SECTIONS}
    households = {
        str(item["household"])
        for items in sections.values()
        for item in items
        if item.get("household")
    }
    cases = list(
        Case.objects.filter(household__borrower_id__in=households)
        .select_related("household")
        .order_by("household_id", F("closed_on").desc(nulls_first=True), "-pk")
    )
    # The household's open case (else its latest): whoever works it sees the name.
    case_of: dict[str, Case] = {}
    for case in cases:
        case_of.setdefault(case.household.borrower_id, case)
    worked = access.cases_worked(person, [case.pk for case in case_of.values()])
    unmasked = 0
    shown: list[ReminderSection] = []
    for name, items in sections.items():
        rows = []
        for item in items:
            found = case_of.get(str(item.get("household") or ""))
            if found is None:
                # No case: nobody works the household; the tape's name, masked when built.
                display, masked = str(item.get("masked_name") or ""), True
            elif found.pk in worked:
                display, masked = found.household.name, False
                unmasked += 1 if display else 0
            else:
                display, masked = mask_name(found.household.name) or "", True
            rows.append(item | {"name": display, "masked": masked})
        shown.append(ReminderSection(name, rows))
    if unmasked:
        record_personal_data_access(
            actor=person,
            what=f"reminder pack {pack.unit.code} {pack.as_of:%Y-%m}",
            case=None,
            rows=unmasked,
        )
    return ReminderPackView(delivery, pack, shown, unmasked)


@dataclass(frozen=True)
class RecoveryTally:
    """Recoveries of one unit from one source, before or after write-off: in the month and in
    the year to date (reversals netted: a reversal is a negative entry)."""

    unit: str
    source: str
    after_write_off: bool
    month: Decimal
    year_to_date: Decimal


@dataclass(frozen=True)
class CaseworkFigures:
    """The casework of a unit's subtree as the monthly report shows it (``docs/reports.md``
    §8): open cases by state, strategy and tier, deadlines past, recoveries by unit and
    source, legal cases by stage."""

    open_by_state: dict[str, int]
    open_by_strategy: dict[str, int]
    open_by_tier: dict[str, int]
    open_cases: int
    deadlines_past: int
    recoveries: tuple[RecoveryTally, ...]
    legal_by_stage: dict[str, int]


@selector
def casework_figures(person: Person, *, unit: str, as_of: date) -> CaseworkFigures:
    """The casework of ``unit`` (in ``person``'s scope) and the units below it, at the
    month-end ``as_of``: cases open now (a case's state is today's: the casework keeps no
    month-end copies), deadlines before ``as_of``, recoveries received in the month ending
    ``as_of`` and since the start of its year, by the case's unit. Five queries, summed in the
    database."""
    from django.db.models import DecimalField, Q, Sum
    from django.db.models.functions import Coalesce

    from npldesk.casework.choices import LegalStage, Strategy, Tier
    from npldesk.casework.models import LegalCase

    top = unit_in_scope(person, unit)  # a unit's figures are for those who answer for it
    cases = cases_visible(person).filter(unit__path__startswith=top.path)
    # Open: not resolved (``cases list`` shows every case with its state).
    open_cases = cases.exclude(state=CaseState.RESOLVED)

    def counts(field_name: str, codes: list[str], rows: Any) -> dict[str, int]:
        found = dict(rows.order_by().values_list(field_name).annotate(n=Count("pk")))
        return {code: int(found.get(code, 0)) for code in codes}

    open_states = [state for state in CaseState.values if state != CaseState.RESOLVED]
    by_state = counts("state", open_states, open_cases)
    month_start = as_of.replace(day=1)
    year_start = date(as_of.year, 1, 1)
    zero = Value(Decimal(0), output_field=DecimalField(max_digits=18, decimal_places=2))
    recoveries = (
        Recovery.objects.filter(case__in=cases, received_on__gte=year_start, received_on__lte=as_of)
        .order_by()
        .values("case__unit__code", "source", "after_write_off")
        .annotate(
            month=Coalesce(Sum("amount", filter=Q(received_on__gte=month_start)), zero),
            year_to_date=Coalesce(Sum("amount"), zero),
        )
    )
    tallies = sorted(
        (
            RecoveryTally(
                unit=row["case__unit__code"],
                source=row["source"],
                after_write_off=row["after_write_off"],
                month=row["month"],
                year_to_date=row["year_to_date"],
            )
            for row in recoveries
        ),
        key=lambda t: (t.unit, t.source, t.after_write_off),
    )
    legal = LegalCase.objects.filter(case__in=cases)
    return CaseworkFigures(
        open_by_state=by_state,
        open_by_strategy=counts("strategy", Strategy.values, open_cases),
        open_by_tier=counts("tier", Tier.values, open_cases),
        open_cases=sum(by_state.values()),
        deadlines_past=open_cases.filter(deadline__lt=as_of).count(),
        recoveries=tuple(tallies),
        legal_by_stage=counts("stage", LegalStage.values, legal),
    )
