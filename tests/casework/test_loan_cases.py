"""``loan_cases``: a listed loan's case as one reader sees it — only cases in their scope, and
"works it" exactly as ``works_case`` says of the loan's current case, for many loans in a fixed
number of queries; ``loans_worked`` (the API's lists) is the same rule."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from npldesk.casework import access, selectors
from npldesk.casework.models import Case
from tests.casework.factories import case_again, case_with_loan
from tests.casework.world import World, build_world, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(units: dict) -> World:
    return build_world(units)


def test_works_agrees_with_works_case_for_every_reader(world: World) -> None:
    other = case_with_loan(world.units["HB0201"], loan_id="L-OTHER", owner=world.outsider)
    loans = [world.loan_id, "L-OTHER", "L-NONE"]
    for reader in (
        world.officer,
        world.officer2,
        world.lead,
        world.outsider,
        world.leader,
        world.analyst,
        world.legal,
        world.finance,
    ):
        found = selectors.loan_cases(reader, loans)
        assert "L-NONE" not in found
        for loan, case in ((world.loan_id, world.case), ("L-OTHER", other)):
            readable = access.can_read_case(reader, case)
            assert (loan in found) == readable, (reader, loan)
            if readable:
                assert found[loan].number == case.number
                assert found[loan].works == access.works_case(reader, case), (reader, loan)


def test_many_loans_cost_the_queries_of_one(world: World) -> None:
    for n in range(30):
        case_with_loan(world.units["HB0101"], loan_id=f"L-{n}", owner=world.officer)
    selectors.loan_cases(world.lead, ["L-1"])  # the lead's units read once, as for any request
    with CaptureQueriesContext(connection) as one:
        selectors.loan_cases(world.lead, ["L-0"])
    with CaptureQueriesContext(connection) as many:
        found = selectors.loan_cases(world.lead, [f"L-{n}" for n in range(30)])
    assert len(many) == len(one)
    assert len(found) == 30 and all(case.works for case in found.values())
    assert Case.objects.count() == 31


def test_a_loan_turned_npl_again_is_worked_by_who_works_its_new_case(world: World) -> None:
    """The officer of the closed case, who still reads the new one (same unit), no longer works
    the loan: its personal data is for the new case's owner."""
    new_owner = person("officer", world.units["HB01"])
    later = case_again(world.case, owner=new_owner)
    for reader, works in ((world.officer, False), (new_owner, True), (world.lead, True)):
        found = selectors.loan_cases(reader, [world.loan_id])
        assert found[world.loan_id] == selectors.LoanCase(later.number, works), reader
        assert selectors.loans_worked(reader, [world.loan_id]) == (
            {world.loan_id} if works else set()
        )


def test_who_reads_only_the_loans_closed_case_does_not_work_the_loan(world: World) -> None:
    """A lead of the other county who owned the closed case reads it still (as its owner), and
    not the new one in HB0101: the loan shows the closed case, not worked."""
    world.case.owner = world.outsider
    world.case.save(update_fields=["owner"])
    case_again(world.case, owner=world.officer2)
    found = selectors.loan_cases(world.outsider, [world.loan_id])
    assert found == {world.loan_id: selectors.LoanCase(world.case.number, False)}
    assert selectors.loans_worked(world.outsider, [world.loan_id]) == set()
    # An inactive reader reads and works nothing.
    world.officer2.active = False
    world.officer2.save(update_fields=["active"])
    assert selectors.loan_cases(world.officer2, [world.loan_id]) == {}
