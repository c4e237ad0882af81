"""Factories for casework tests: a small organisation tree, people with roles, households and
cases with loans. Built directly (test data), never through services, so that a test of a
service sees only that service's own audit record."""

from __future__ import annotations

import importlib
from datetime import date
from decimal import Decimal
from typing import Any

import factory
from django.apps import apps
from django.contrib.auth import get_user_model

from npldesk.casework.choices import CaseKind, CaseState, CloseReason, Strategy, Tier
from npldesk.casework.models import Case, CaseLoan, Household, Person, Team, Unit
from npldesk.casework.selectors import system_actor

# The test tree: a city branch with two county branches, each with one sub-branch.
TREE = (
    ("HB", None, "city"),
    ("HB01", "HB", "county"),
    ("HB0101", "HB01", "sub_branch"),
    ("HB02", "HB", "county"),
    ("HB0201", "HB02", "sub_branch"),
)


def build_tree() -> dict[str, Unit]:
    units: dict[str, Unit] = {}
    for code, parent, level in TREE:
        parent_unit = units.get(parent) if parent else None
        path = (parent_unit.path if parent_unit else "/") + f"{code}/"
        units[code], _ = Unit.objects.get_or_create(
            code=code,
            defaults={"name": f"Unit {code}", "parent": parent_unit, "level": level, "path": path},
        )
    return units


def system_actor_present() -> Person:
    """The system actor. The database is made with it (migration 0003); a transactional
    test's flush empties every table, so it is made again here the way the migration makes
    it."""
    migration = importlib.import_module("npldesk.casework.migrations.0003_system_actor")
    migration.create(apps, None)
    return system_actor()


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("correct-horse-battery")


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Staff {n}")
    roles: Any = factory.LazyFunction(lambda: ["officer"])

    @factory.post_generation
    def units(self, create: bool, extracted: list[Unit] | None, **kwargs: Any) -> None:
        if create and extracted:
            self.units.set(extracted)  # type: ignore[attr-defined]


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"T{n:03d}")
    name = factory.Sequence(lambda n: f"Clearing team {n}")
    kind = "clearing_team"
    leader = factory.SubFactory(PersonFactory, roles=["team_lead"])
    active_from = date(2019, 1, 1)

    @factory.post_generation
    def members(self, create: bool, extracted: list[Person] | None, **kwargs: Any) -> None:
        if create and extracted:
            self.members.set(extracted)  # type: ignore[attr-defined]

    @factory.post_generation
    def units(self, create: bool, extracted: list[Unit] | None, **kwargs: Any) -> None:
        if create and extracted:
            self.units.set(extracted)  # type: ignore[attr-defined]


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    borrower_id = factory.Sequence(lambda n: f"B{n:07d}")
    name = factory.Sequence(lambda n: f"Synthetic Household {n}")
    id_number = "340602199001011234"
    phones = "13800000000"
    address = "1 Synthetic Road, Huaibei"
    unit: Any = None


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case

    household = factory.SubFactory(HouseholdFactory)
    number = factory.LazyAttribute(lambda o: f"{o.household.borrower_id}-1")
    kind = CaseKind.NPL
    unit = factory.LazyAttribute(lambda o: o.household.unit)
    strategy = Strategy.INVESTIGATE
    tier = Tier.SHORT
    opened_on = date(2019, 12, 31)
    deadline = date(2020, 3, 31)
    npl_balance = Decimal("100000.00")
    balance = Decimal("100000.00")


def case_with_loan(
    unit: Unit, *, loan_id: str | None = None, balance: str = "100000.00", **fields: Any
) -> Case:
    """An open NPL case in ``unit`` with one active NPL loan in scope."""
    household = HouseholdFactory(unit=unit)
    case: Case = CaseFactory(household=household, **fields)
    CaseLoan.objects.create(
        case=case,
        loan_id=loan_id or f"L-{household.borrower_id}",
        product="personal_business",
        org_unit=unit.code,
        principal_balance=Decimal(balance),
        days_past_due=120,
        loan_class="substandard",
        is_npl=True,
        as_of=date(2019, 12, 31),
        owed=Decimal(balance),
        owed_as_of=date(2019, 12, 31),
    )
    return case


def case_again(
    earlier: Case,
    *,
    closed_on: date = date(2020, 1, 10),
    opened_on: date = date(2020, 1, 31),
    **fields: Any,
) -> Case:
    """The household of ``earlier`` NPL again after ``earlier`` closed (repaid on
    ``closed_on``): a new case opened on ``opened_on``, linked to it and holding the same loans,
    as the sync opens one."""
    earlier.state, earlier.closed_on = CaseState.RESOLVED, closed_on
    earlier.close_reason = CloseReason.REPAID
    earlier.save(update_fields=["state", "closed_on", "close_reason"])
    later: Case = CaseFactory(
        household=earlier.household,
        number=f"{earlier.household.borrower_id}-2",
        previous_case=earlier,
        opened_on=opened_on,
        **fields,
    )
    for loan in earlier.loans.all():
        loan.pk, loan.case = None, later
        loan.save()
    return later
