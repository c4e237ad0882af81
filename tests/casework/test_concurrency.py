"""Two people edit the same case at once: one wins, the other gets ``Conflict``, nothing is lost.

The threaded test runs two real connections against PostgreSQL, each in its own transaction,
so the second writer waits on the first's row lock. SQLite serialises writers on the whole
file (the second would fail with "database is locked", not wait on a row), so there only the
sequential version runs: two stale reads, then two writes.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection, connections, transaction

from npldesk.casework import services
from npldesk.casework.errors import Conflict
from npldesk.casework.models import AuditRecord, Case, Person, Unit
from tests.casework.factories import PersonFactory, case_with_loan

HOLD_SECONDS = 0.5


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

    threads = [
        threading.Thread(target=edit, args=("one", first_owner)),
        threading.Thread(target=edit, args=("two", second_owner)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
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
