"""Query-count baselines: a page costs the same number of queries for 2 items as for 50, so a
query per row (an N+1) fails here. The worklist and the case list grow by cases; the case page
by activities, promises, recoveries, plans and milestones on the one case."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from npldesk.casework.choices import Role, Strategy
from npldesk.casework.models import Activity, Case, Milestone, Person, Plan, Promise, Recovery, Unit
from tests.casework.factories import case_with_loan
from tests.casework.world import person

FEW, MANY = 2, 50
# The queries each page costs today (sessions, the person, the page's reads): a change that
# adds one says why here. +1 each for the navigation's count of unread risk reminders.
BASELINE = {"worklist": 9, "cases": 10, "case": 26}
ON = date(2019, 12, 31)


def _signed_in(member: Person) -> Client:
    client = Client()
    client.force_login(member.user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def _queries(client: Client, address: str, shows: str) -> int:
    client.get(address)  # the session and caches warmed, as for a person mid-day
    with CaptureQueriesContext(connection) as captured:
        response = client.get(address)
    assert response.status_code == 200
    assert shows in response.content.decode()
    return len(captured)


def _history(case: Case, officer: Person, items: int) -> None:
    """``items`` activities each with a promise, recoveries and plans with a milestone each."""
    loan = case.loans.get().loan_id
    now = timezone.now()
    for n in range(items):
        day = ON - timedelta(days=n)
        activity = Activity.objects.create(
            case=case, kind="visit", occurred_on=day, person=officer, outcome="promise"
        )
        Promise.objects.create(
            case=case, activity=activity, amount=Decimal(100), made_on=day, due_on=ON
        )
        Recovery.objects.create(
            case=case,
            loan_id=loan,
            received_on=day,
            amount=Decimal(10),
            principal_part=Decimal(10),
            source="borrower",
            entered_by=officer,
            entered_at=now,
        )
        plan = Plan.objects.create(
            case=case,
            strategy=Strategy.REPAYMENT_PLAN,
            reason="r",
            target_amount=Decimal(1),
            target_date=ON,
            proposed_by=officer,
            proposed_at=now,
            state="rejected",
        )
        Milestone.objects.create(plan=plan, task="visit", owner=officer, due_on=ON)


def _counts(units: dict[str, Unit], page: Callable[[int], tuple[Client, str, str]]) -> list[int]:
    return [_queries(*page(items)) for items in (FEW, MANY)]


@pytest.mark.django_db
def test_the_worklist_costs_the_same_for_2_and_for_50_cases(units: dict[str, Unit]) -> None:
    def page(items: int) -> tuple[Client, str, str]:
        officer = person(Role.OFFICER, units["HB01"])
        cases = [case_with_loan(units["HB0101"], owner=officer) for _ in range(items)]
        return _signed_in(officer), "/worklist/", cases[-1].number

    few, many = _counts(units, page)
    assert few == many <= BASELINE["worklist"]


@pytest.mark.django_db
def test_the_case_list_costs_the_same_for_2_and_for_50_cases(units: dict[str, Unit]) -> None:
    def page(items: int) -> tuple[Client, str, str]:
        officer = person(Role.OFFICER, units["HB01"])
        cases = [case_with_loan(units["HB0101"], owner=officer) for _ in range(items)]
        return _signed_in(officer), "/cases/", cases[0].number

    few, many = _counts(units, page)
    assert few == many <= BASELINE["cases"]


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.OFFICER, Role.TEAM_LEAD, Role.FINANCE])
def test_the_case_page_costs_the_same_for_2_and_for_50_entries(
    units: dict[str, Unit], role: str
) -> None:
    def page(items: int) -> tuple[Client, str, str]:
        officer = person(Role.OFFICER, units["HB01"])
        case = case_with_loan(units["HB0101"], owner=officer)
        _history(case, officer, items)
        viewer = officer if role == Role.OFFICER else person(role, units["HB01"])
        return _signed_in(viewer), f"/cases/{case.number}/", case.number

    few, many = _counts(units, page)
    assert few == many <= BASELINE["case"]
