"""Two people edit the same case at once: one wins, the other gets ``Conflict``, nothing is lost.

The threaded test runs two real connections against PostgreSQL, each in its own transaction,
so the second writer waits on the first's row lock. SQLite serialises writers on the whole
file (the second would fail with "database is locked", not wait on a row), so there only the
sequential version runs: two stale reads, then two writes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections, transaction

from npldesk.casework import services
from npldesk.casework.errors import Conflict, InvalidAction
from npldesk.casework.models import AuditRecord, Case, Household, Person, Unit
from npldesk.casework.sync import cases_sync
from tests.casework.factories import (
    HouseholdFactory,
    PersonFactory,
    case_with_loan,
    system_actor_present,
)
from tests.casework.test_sync import loan

HOLD_SECONDS = 0.5
DEC = date(2019, 12, 31)


def run_together(*functions: Callable[[], None]) -> None:
    """Each function in a thread of its own (each with its own database connection)."""
    threads = [threading.Thread(target=function) for function in functions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)


def _people(units: dict[str, Unit]) -> tuple[Person, Person, Person]:
    def make(role: str) -> Person:
        person: Person = PersonFactory(roles=[role], units=[units["HB01"]], user__password="!")
        return person

    return make("team_lead"), make("officer"), make("officer")


def test_two_stale_edits_one_wins_the_other_conflicts(units: dict[str, Unit]) -> None:
    lead, first_owner, second_owner = _people(units)
    case = case_with_loan(units["HB0101"])
    read_by_one = Case.objects.get(pk=case.pk)
    read_by_two = Case.objects.get(pk=case.pk)
    services.case_assign(
        actor=lead,
        case=read_by_one,
        version=read_by_one.version,
        owner=first_owner,
        team=None,
        reason="first",
    )
    with pytest.raises(Conflict, match=r"changed by someone else.*version 1.*version 2.*reload"):
        services.case_assign(
            actor=lead,
            case=read_by_two,
            version=read_by_two.version,
            owner=second_owner,
            team=None,
            reason="second",
        )
    stored = Case.objects.get(pk=case.pk)
    assert (stored.owner_id, stored.version) == (first_owner.pk, 2)
    assert list(AuditRecord.objects.values_list("reason", flat=True)) == ["first"]


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs row locks between two connections: SQLite locks the whole database file",
)
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_edits_on_two_connections(units: dict[str, Unit]) -> None:
    lead, first_owner, second_owner = _people(units)
    case = case_with_loan(units["HB0101"])
    both_read = threading.Barrier(2, timeout=10)
    outcomes: dict[str, Any] = {}
    timings: dict[str, float] = {}

    def edit(name: str, owner: Person) -> None:
        try:
            mine = Case.objects.get(pk=case.pk)  # this thread's own connection
            both_read.wait()
            started = time.monotonic()
            # An outer transaction holds the row lock a little after the service's update, so
            # the other writer really waits on it.
            with transaction.atomic():
                outcomes[name] = services.case_assign(
                    actor=lead,
                    case=mine,
                    version=mine.version,
                    owner=owner,
                    team=None,
                    reason=name,
                )
                time.sleep(HOLD_SECONDS)
            timings[name] = time.monotonic() - started
        except Exception as exc:
            outcomes[name] = exc
            timings[name] = time.monotonic() - started
        finally:
            connections.close_all()

    run_together(lambda: edit("one", first_owner), lambda: edit("two", second_owner))
    assert set(outcomes) == {"one", "two"}
    winners = [name for name, outcome in outcomes.items() if isinstance(outcome, Case)]
    losers = [name for name, outcome in outcomes.items() if isinstance(outcome, Conflict)]
    assert len(winners) == 1, outcomes
    assert len(losers) == 1, outcomes
    (winner,), (loser,) = winners, losers
    assert "changed by someone else" in str(outcomes[loser])
    assert "reload it" in str(outcomes[loser])
    # The loser waited for the winner's lock rather than writing alongside it.
    assert timings[loser] >= HOLD_SECONDS * 0.8
    stored = Case.objects.get(pk=case.pk)
    expected_owner = first_owner if winner == "one" else second_owner
    assert (stored.owner_id, stored.version) == (expected_owner.pk, 2)
    records = list(AuditRecord.objects.all())
    assert [(r.action, r.reason) for r in records] == [("case_assign", winner)]


needs_two_writers = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs two connections writing at once: SQLite lets one writer at a time in",
)


def one_holding_while_the_other_runs(
    first: Callable[[], Any], second: Callable[[], Any]
) -> tuple[Any, Any, float]:
    """``first`` in a transaction kept open ``HOLD_SECONDS`` after it returns, ``second`` on
    another connection as soon as ``first`` has returned: their results (or the exceptions
    they raised) and how long ``second`` took."""
    first_done = threading.Event()
    outcomes: dict[str, Any] = {"seconds": 0.0}

    def hold() -> None:
        try:
            with transaction.atomic():
                outcomes["first"] = first()
                first_done.set()
                time.sleep(HOLD_SECONDS)  # the other comes while this is not yet committed
        except Exception as exc:
            outcomes["first"] = exc
        finally:
            first_done.set()
            connections.close_all()

    def follow() -> None:
        first_done.wait(timeout=10)
        started = time.monotonic()
        try:
            outcomes["second"] = second()
        except Exception as exc:
            outcomes["second"] = exc
        finally:
            outcomes["seconds"] = time.monotonic() - started
            connections.close_all()

    run_together(hold, follow)
    return outcomes["first"], outcomes["second"], outcomes["seconds"]


def _open_by_hand(household: Household) -> Callable[[], Case]:
    lead = PersonFactory(roles=["team_lead"], units=[household.unit], user__password="!")
    return lambda: services.case_open(
        actor=lead, household=household, opened_on=DEC, reason="walk-in"
    )


def _sync_b1() -> Callable[[], dict[str, Any]]:
    # A transactional test's flush removed the system actor made with the database.
    system = system_actor_present()
    return lambda: cases_sync(actor=system, as_of=DEC, loans=[loan("B1")])


@needs_two_writers
@pytest.mark.django_db(transaction=True)
def test_a_case_opened_by_hand_during_the_month_end_sync_is_taken_up_by_it(
    units: dict[str, Unit],
) -> None:
    household = HouseholdFactory(borrower_id="B1", unit=units["HB0101"])
    opened, synced, seconds = one_holding_while_the_other_runs(_open_by_hand(household), _sync_b1())
    assert isinstance(opened, Case), opened
    assert isinstance(synced, dict), synced  # not a unique-constraint failure
    assert synced["opened"] == 0
    assert seconds >= HOLD_SECONDS * 0.8  # it waited for the hand-opened case
    case = Case.objects.get(household=household, closed_on__isnull=True)
    assert case.pk == opened.pk
    assert case.synced_as_of == DEC  # the sync took the hand-opened case up
    assert case.npl_balance == Decimal("50000.00")


@needs_two_writers
@pytest.mark.django_db(transaction=True)
def test_a_case_opened_by_hand_while_the_sync_runs_waits_and_is_refused(
    units: dict[str, Unit],
) -> None:
    household = HouseholdFactory(borrower_id="B1", unit=units["HB0101"])
    sync, open_by_hand = _sync_b1(), _open_by_hand(household)
    synced, refused, seconds = one_holding_while_the_other_runs(sync, open_by_hand)
    assert isinstance(synced, dict), synced
    assert synced["opened"] == 1
    assert isinstance(refused, InvalidAction), refused  # not an IntegrityError
    assert "already has an open case" in str(refused)
    assert seconds >= HOLD_SECONDS * 0.8  # it waited for the sync to commit
    assert Case.objects.filter(household=household).count() == 1
