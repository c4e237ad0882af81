"""The access matrix of docs/casework-rules.md ("Who may see and do what"): for every role,
every kind of object, in the person's own unit and in another unit, reading and writing —
allowed or denied, through the selectors and the services."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.test import RequestFactory
from django.utils import timezone

from npldesk.casework import access, audit, selectors, services, sync
from npldesk.casework.choices import Role, Strategy, WriteOffState
from npldesk.casework.errors import AccessDenied, InvalidAction, NoActor
from npldesk.casework.models import (
    Activity,
    AuditRecord,
    Case,
    Investigation,
    Person,
    Plan,
    PlanDecision,
    Promise,
    Recovery,
    RepaymentPlan,
    Team,
    TransferPackage,
    Unit,
    WriteOff,
)
from npldesk.core.system import current_user
from tests.casework.factories import PersonFactory, TeamFactory, case_with_loan
from tests.casework.world import at

ROLES = tuple(Role)
TODAY = date(2020, 1, 15)


@dataclass
class World:
    """What one side of the matrix holds: a case with every kind of object, in one unit."""

    unit: Unit
    county: Unit
    case: Case
    staff: Person
    investigation: Investigation
    activity: Activity
    promise: Promise
    plan: Plan
    repayment_plan: RepaymentPlan
    recovery: Recovery
    writeoff: WriteOff
    reviewed_writeoff: WriteOff
    transfer: TransferPackage
    team: Team


def build_world(units: dict[str, Unit], county: str, sub: str) -> World:
    """Objects made directly (fixtures, not the subject): a case in ``sub`` with everything."""
    unit = units[sub]
    staff = PersonFactory(roles=["officer"], units=[unit])
    case = case_with_loan(unit, strategy=Strategy.LAWYERS_LETTER_LITIGATION)
    case_with_second_loan = case.loans.get()
    # A second loan with nothing on it, for a new write-off application.
    free_loan = case.loans.get()
    free_loan.pk, free_loan.loan_id = None, f"{free_loan.loan_id}-2"
    free_loan.save()
    now = timezone.now()
    activity = Activity.objects.create(
        case=case, kind="phone", occurred_on=TODAY, person=staff, outcome="promise"
    )
    plan = Plan.objects.create(
        case=case,
        strategy=Strategy.REPAYMENT_PLAN,
        reason="fixture",
        target_amount=Decimal("10"),
        target_date=date(2020, 6, 30),
        proposed_by=staff,
        proposed_at=now,
    )
    PlanDecision.objects.create(plan=plan, decision="proposed", by=staff, at=now)
    recovery = Recovery(
        case=case,
        loan_id=case_with_second_loan.loan_id,
        received_on=TODAY,
        amount=Decimal("100"),
        principal_part=Decimal("100"),
        source="borrower",
        entered_by=staff,
        entered_at=now,
    )
    recovery.save(force_insert=True)
    reviewed = WriteOff.objects.create(
        case=case,
        loan_id=case_with_second_loan.loan_id,
        principal=Decimal("50"),
        reason="fixture",
        prepared_by=staff,
        prepared_on=TODAY,
        state=WriteOffState.REVIEWED,
    )
    transfer = TransferPackage.objects.create(
        code=f"TP-{sub}",
        buyer="Synthetic AMC",
        unit=units[county],
        cut_off_on=TODAY,
        prepared_by=staff,
    )
    team = TeamFactory(leader=staff)
    team.units.set([units[county]])
    return World(
        unit=unit,
        county=units[county],
        case=case,
        staff=staff,
        investigation=Investigation.objects.create(
            case=case, investigated_on=TODAY, investigator=staff
        ),
        activity=activity,
        promise=Promise.objects.create(
            case=case, activity=activity, amount=Decimal("100"), made_on=TODAY, due_on=TODAY
        ),
        plan=plan,
        repayment_plan=RepaymentPlan.objects.create(
            case=case, kind="full", total=Decimal("100"), agreed_on=TODAY, state="completed"
        ),
        recovery=recovery,
        writeoff=reviewed,
        reviewed_writeoff=reviewed,
        transfer=transfer,
        team=team,
    )


# -- reads: is the object in what the selectors give the person? --------------------------

CASE_READERS = frozenset(
    {Role.OFFICER, Role.TEAM_LEAD, Role.LEGAL, Role.FINANCE, Role.RISK_ANALYST, Role.LEADER}
)

READS: dict[str, tuple[Callable[[Person, World], bool], frozenset[str]]] = {
    "case": (lambda p, w: selectors.case_list(p).filter(pk=w.case.pk).exists(), CASE_READERS),
    "household": (
        lambda p, w: selectors.households_visible(p).filter(pk=w.case.household_id).exists(),
        CASE_READERS,
    ),
    "investigation": (
        lambda p, w: _detail(p, w, lambda d: w.investigation in d.investigations),
        CASE_READERS,
    ),
    "activity": (lambda p, w: _detail(p, w, lambda d: w.activity in d.activities), CASE_READERS),
    "promise": (lambda p, w: _detail(p, w, lambda d: w.promise in d.promises), CASE_READERS),
    "plan": (lambda p, w: _detail(p, w, lambda d: w.plan in d.plans), CASE_READERS),
    "repayment_plan": (
        lambda p, w: _detail(p, w, lambda d: w.repayment_plan in d.repayment_plans),
        CASE_READERS,
    ),
    "recovery": (
        lambda p, w: selectors.recoveries_visible(p).filter(pk=w.recovery.pk).exists(),
        CASE_READERS,
    ),
    "writeoff": (
        lambda p, w: selectors.writeoffs_visible(p).filter(pk=w.writeoff.pk).exists(),
        CASE_READERS,
    ),
    "transfer_package": (
        lambda p, w: selectors.transfer_packages_visible(p).filter(pk=w.transfer.pk).exists(),
        frozenset({Role.FINANCE, Role.LEADER, Role.RISK_ANALYST}),
    ),
    "team": (
        lambda p, w: selectors.teams_visible(p).filter(pk=w.team.pk).exists(),
        frozenset(ROLES),
    ),
    "person": (
        lambda p, w: selectors.people_visible(p).filter(pk=w.staff.pk).exists(),
        # Leads see the people of their units: they choose owners and team members among them.
        frozenset({Role.ADMIN, Role.TEAM_LEAD}),
    ),
}


def _detail(person: Person, world: World, check: Callable[[selectors.CaseDetail], bool]) -> bool:
    try:
        return check(selectors.case_detail(person, world.case.number))
    except selectors.NotFound:
        return False


# -- writes: does the service let the person do it? ---------------------------------------


def _write_case(p: Person, w: World) -> Any:
    return services.case_override(
        actor=p, case=w.case, version=w.case.version, tier="long", reason="matrix"
    )


WRITES: dict[str, tuple[Callable[[Person, World], Any], frozenset[str]]] = {
    "case": (_write_case, frozenset({Role.TEAM_LEAD})),
    "household": (
        lambda p, w: services.household_update_contact(
            actor=p,
            household=w.case.household,
            version=w.case.household.version,
            address="2 Synthetic Road",
        ),
        frozenset({Role.OFFICER, Role.TEAM_LEAD}),
    ),
    "investigation": (
        lambda p, w: services.investigation_record(
            actor=p, case=w.case, investigated_on=TODAY, monthly_income=Decimal("3000.00")
        ),
        frozenset({Role.OFFICER, Role.TEAM_LEAD}),
    ),
    "activity": (
        lambda p, w: services.activity_record(
            actor=p, case=w.case, kind="visit", occurred_at=at(TODAY), outcome="contacted"
        ),
        frozenset({Role.OFFICER, Role.TEAM_LEAD}),
    ),
    "promise": (
        lambda p, w: services.activity_record(
            actor=p,
            case=w.case,
            kind="phone",
            occurred_at=at(TODAY),
            outcome="promise",
            promise_amount=Decimal("800.00"),
            promise_due_on=date(2020, 2, 1),
        ),
        frozenset({Role.OFFICER, Role.TEAM_LEAD}),
    ),
    "plan": (
        lambda p, w: services.plan_propose(
            actor=p,
            case=w.case,
            strategy=Strategy.REPAYMENT_PLAN,
            reason="matrix",
            target_amount=Decimal("5000.00"),
            target_date=date(2020, 12, 31),
        ),
        frozenset({Role.OFFICER, Role.TEAM_LEAD}),
    ),
    "plan_approval": (
        lambda p, w: services.plan_decide(
            actor=p, plan=w.plan, version=w.plan.version, approve=True, note="matrix"
        ),
        frozenset({Role.TEAM_LEAD}),
    ),
    "repayment_plan": (
        lambda p, w: services.repayment_plan_agree(
            actor=p,
            case=w.case,
            kind="settlement",
            agreed_on=TODAY,
            instalments=[(date(2020, 2, 15), Decimal("1000.00"))],
        ),
        frozenset({Role.OFFICER, Role.TEAM_LEAD}),
    ),
    "legal_case": (
        lambda p, w: services.legal_case_open(
            actor=p,
            case=w.case,
            court="Synthetic District Court",
            claim_amount=Decimal("1000"),
            opened_on=TODAY,
        ),
        frozenset({Role.LEGAL}),
    ),
    "recovery": (
        lambda p, w: services.recovery_enter(
            actor=p,
            case=w.case,
            loan_id=w.recovery.loan_id,
            received_on=TODAY,
            amount=Decimal("10.00"),
            source="borrower",
        ),
        frozenset({Role.OFFICER, Role.TEAM_LEAD}),
    ),
    "recovery_confirmation": (
        lambda p, w: services.recovery_confirm(actor=p, recovery=w.recovery),
        frozenset({Role.TEAM_LEAD, Role.FINANCE}),
    ),
    "writeoff": (
        lambda p, w: services.writeoff_prepare(
            actor=p,
            case=w.case,
            loan_id=f"{w.recovery.loan_id}-2",
            principal=Decimal("10.00"),
            interest=Decimal("0.00"),
            prepared_on=TODAY,
            reason="matrix",
        ),
        frozenset({Role.FINANCE}),
    ),
    "writeoff_approval": (
        lambda p, w: services.writeoff_decide(
            actor=p,
            writeoff=w.reviewed_writeoff,
            version=w.reviewed_writeoff.version,
            approve=True,
            note="matrix",
            on=TODAY,
        ),
        frozenset({Role.LEADER}),
    ),
    "transfer_package": (
        lambda p, w: services.transfer_prepare(
            actor=p,
            code=f"NEW-{w.county.code}",
            buyer="Synthetic AMC",
            unit=w.county,
            cut_off_on=TODAY,
            price=Decimal("10.00"),
            loans=[(w.case, w.recovery.loan_id)],
        ),
        frozenset({Role.FINANCE}),
    ),
    "transfer_approval": (
        lambda p, w: services.transfer_approve(
            actor=p, package=w.transfer, version=w.transfer.version, signed_on=TODAY, note="m"
        ),
        frozenset({Role.LEADER}),
    ),
    "team": (
        lambda p, w: services.team_set_members(
            actor=p, team=w.team, version=w.team.version, members=[w.staff]
        ),
        frozenset({Role.ADMIN}),
    ),
    "person": (
        lambda p, w: services.person_create(
            actor=p,
            username=f"new-{w.unit.code}",
            name="New Staff",
            roles=["officer"],
            unit_codes=[w.unit.code],
            password="a-long-enough-password",
        ),
        frozenset({Role.ADMIN}),
    ),
}


@pytest.fixture
def worlds(units: dict[str, Unit]) -> dict[str, World]:
    return {
        "own": build_world(units, "HB01", "HB0101"),
        "other": build_world(units, "HB02", "HB0201"),
    }


def person_with(role: str, units: dict[str, Unit]) -> Person:
    """Someone with ``role`` in county HB01 who is not the owner of anything."""
    return PersonFactory(roles=[role], units=[units["HB01"]])


@pytest.mark.django_db
@pytest.mark.parametrize("side", ["own", "other"])
@pytest.mark.parametrize("kind", sorted(READS))
@pytest.mark.parametrize("role", ROLES)
def test_read(
    role: str, kind: str, side: str, units: dict[str, Unit], worlds: dict[str, World]
) -> None:
    read, allowed_roles = READS[kind]
    expected = side == "own" and role in allowed_roles
    assert read(person_with(role, units), worlds[side]) is expected


@pytest.mark.django_db
@pytest.mark.parametrize("side", ["own", "other"])
@pytest.mark.parametrize("kind", sorted(WRITES))
@pytest.mark.parametrize("role", ROLES)
def test_write(
    role: str, kind: str, side: str, units: dict[str, Unit], worlds: dict[str, World]
) -> None:
    write, allowed_roles = WRITES[kind]
    person = person_with(role, units)
    world = worlds[side]
    expected = side == "own" and role in allowed_roles
    if expected:
        write(person, world)
        return
    with pytest.raises(AccessDenied):
        write(person, world)


# -- the system actor: month-end jobs and the command line ---------------------------------

# Of the writes, the system actor administers (people, teams, units) and syncs; nothing else.
SYSTEM_WRITES = frozenset({"team", "person"})


@pytest.mark.django_db
@pytest.mark.parametrize("side", ["own", "other"])
@pytest.mark.parametrize("kind", sorted(READS))
def test_the_system_actor_reads_everything(kind: str, side: str, worlds: dict[str, World]) -> None:
    read, _ = READS[kind]
    assert read(selectors.system_actor(), worlds[side]) is True


@pytest.mark.django_db
@pytest.mark.parametrize("side", ["own", "other"])
@pytest.mark.parametrize("kind", sorted(WRITES))
def test_the_system_actor_administers_and_works_no_case(
    kind: str, side: str, worlds: dict[str, World]
) -> None:
    write, _ = WRITES[kind]
    system = selectors.system_actor()
    if kind in SYSTEM_WRITES:
        write(system, worlds[side])
        return
    with pytest.raises(AccessDenied, match="system may not"):
        write(system, worlds[side])


@pytest.mark.django_db
def test_the_signed_in_person_is_read_in_one_query_with_the_login_already_read(
    units: dict[str, Unit], django_assert_num_queries: Any
) -> None:
    officer = PersonFactory(roles=["officer"], units=[units["HB"]])
    login = get_user_model().objects.get(pk=officer.user_id)
    with django_assert_num_queries(1):
        found = selectors.person_signed_in(login)
    assert found is not None and found.pk == officer.pk
    # Every request asks this: the login it already holds is the person's, not read again.
    assert found.user is login
    officer.active = False
    officer.save(update_fields=["active"])
    assert selectors.person_signed_in(login) is None


@pytest.mark.django_db
def test_the_system_actor_cannot_sign_in(units: dict[str, Unit]) -> None:
    system = selectors.system_actor()
    assert system.user.get_username() == "system"
    assert not system.user.is_active and not system.user.has_usable_password()
    assert not system.active
    # Sign-in goes through the lockout backend, which needs the request it throttles.
    request = RequestFactory().post("/login/")
    assert authenticate(request, username="system", password="") is None
    assert selectors.person_signed_in(system.user) is None
    # It cannot be given a role, made active or moved to a unit either.
    admin = PersonFactory(roles=["admin"], units=[units["HB"]])
    with pytest.raises(InvalidAction, match="system actor is no member of staff"):
        services.person_update(actor=admin, person=system, version=system.version, active=True)
    with pytest.raises(InvalidAction, match="unknown roles"):
        services.person_create(
            actor=admin,
            username="mimic",
            name="Mimic",
            roles=["system"],
            unit_codes=["HB"],
            password="a-long-enough-password",
        )


@pytest.mark.django_db
def test_the_system_actor_sees_personal_data_only_on_request_and_recorded(
    worlds: dict[str, World],
) -> None:
    system = selectors.system_actor()
    case = worlds["own"].case
    assert not access.works_case(system, case)
    assert selectors.case_detail(system, case.number).household.masked
    assert not AuditRecord.objects.filter(action="personal_data_view").exists()
    assert not selectors.case_detail(system, case.number, unmask=True).household.masked
    view = AuditRecord.objects.get(action="personal_data_view")
    assert (view.actor, view.actor_name) == (system, f"system:{current_user()}")


@pytest.mark.django_db
def test_four_eyes_decisions_are_never_the_system_actors() -> None:
    with pytest.raises(InvalidAction, match="decision of a named person"):
        access.require_named_person(selectors.system_actor(), "a write-off's approval")


# -- nobody acts anonymously ----------------------------------------------------------------


def _takes_person_first(function: Callable[..., Any]) -> bool:
    parameters = list(inspect.signature(function).parameters)
    return bool(parameters) and parameters[0] == "person"


def test_every_service_and_selector_is_registered() -> None:
    """A new service or selector cannot escape the refusal below: each one is in its registry."""
    assert set(services.__all__) | {sync.cases_sync.__name__} <= set(audit.SERVICES)
    public = {
        name: function
        for name, function in vars(selectors).items()
        if inspect.isfunction(function)
        and function.__module__ == selectors.__name__
        and not name.startswith("_")
    }
    readers = {name for name, function in public.items() if _takes_person_first(function)}
    assert readers == set(selectors.SELECTORS)
    assert len(selectors.SELECTORS) >= 15


@pytest.mark.django_db
def test_no_service_or_selector_runs_without_a_person(units: dict[str, Unit]) -> None:
    case = case_with_loan(units["HB0101"])
    before = AuditRecord.objects.count(), Case.objects.get(pk=case.pk).version
    for _name, info in sorted(audit.SERVICES.items()):
        for call in ({"actor": None}, {}):
            with pytest.raises(NoActor, match="act as a signed-in person, or as the system actor"):
                info.function(**call)
    for name, select in sorted(selectors.SELECTORS.items()):
        with pytest.raises(NoActor, match=name):
            select(None, case.number)
        with pytest.raises(NoActor):
            select(person=None)
    assert (AuditRecord.objects.count(), Case.objects.get(pk=case.pk).version) == before
    with pytest.raises(NoActor):
        access.require(None, access.Action.WORK_CASE, case)
    with pytest.raises(NoActor):
        audit.record_personal_data_access(actor=None, what="list", case=None, rows=1)  # type: ignore[arg-type]


def test_the_case_scope_reads_each_case_once_without_a_subquery_over_cases(
    units: dict[str, Unit],
) -> None:
    """A person who reads a case on several grounds at once (their unit, owner, member and
    leader of its team) sees it once, and their scope filters the cases' own columns: no
    ``DISTINCT`` and no second scan of every case (the case list's count, docs/benchmarks.md)."""
    officer = PersonFactory(roles=["officer", "team_lead"], units=[units["HB01"]])
    led = TeamFactory(leader=officer, members=[officer], units=[units["HB01"]])
    joined = TeamFactory(members=[officer], units=[units["HB01"]])
    case_with_loan(units["HB01"], owner=officer, team=led)
    case_with_loan(units["HB01"], team=joined)
    case_with_loan(units["HB01"])
    elsewhere = [u for code, u in units.items() if not u.path.startswith(units["HB01"].path)]
    case_with_loan(elsewhere[-1], owner=officer)
    case_with_loan(elsewhere[-1], team=joined)
    case_with_loan(elsewhere[-1])

    visible = access.visible_cases(officer)

    assert visible.count() == 5
    assert len(list(visible)) == 5
    sql = str(visible.query).upper()
    assert "DISTINCT" not in sql
    assert sql.count('FROM "CASEWORK_CASE"') == 1


@pytest.mark.django_db
def test_a_unit_reader_reads_a_case_of_their_unit_without_the_scope_query(
    units: dict[str, Unit], django_assert_num_queries: Any
) -> None:
    # Every casework write checks access: the usual answer (a case of the reader's own units)
    # is worked out from the case's unit, and the scope query is kept for the rest.
    reader = PersonFactory(roles=[Role.OFFICER], units=[units["HB01"]], user__password="!")
    own = Case.objects.select_related("unit").get(pk=case_with_loan(units["HB0101"]).pk)
    other = Case.objects.select_related("unit").get(pk=case_with_loan(units["HB02"]).pk)
    access.unit_paths(reader)  # the person's units, read once per request in practice
    with django_assert_num_queries(0):
        assert access.can_read_case(reader, own) is True
    with django_assert_num_queries(1):
        assert access.can_read_case(reader, other) is False
