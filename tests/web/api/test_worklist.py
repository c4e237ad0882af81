"""``/api/v1/worklist``: the caller's open cases, most urgent first, in a fixed number of
queries."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from npldesk.casework.selectors import worklist_items
from tests.casework.factories import case_with_loan
from tests.casework.world import World


def test_the_worklist_is_the_webs_with_names_masked(world: World, api_for) -> None:
    response = api_for(world.officer).get("/worklist")
    assert response.status_code == 200
    [item] = response.json()["items"]
    assert item["case_id"] == world.case.number
    assert item["household"] != world.case.household.name  # masked
    [expected] = worklist_items(world.officer, today=timezone.localdate())
    assert item["reason"] == expected.reason and response.json()["next"] is None


def test_someone_elses_cases_are_not_on_it(world: World, api_for) -> None:
    assert api_for(world.officer2).get("/worklist").json()["items"] == []


def test_the_worklist_takes_as_many_queries_for_two_cases_as_for_twenty(
    world: World, api_for
) -> None:
    api = api_for(world.officer)
    api.get("/worklist")

    def count(limit: int) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert len(api.get("/worklist", limit=limit).json()["items"]) == limit
        return len(queries)

    for _ in range(19):
        case_with_loan(world.units["HB0101"], owner=world.officer)
    assert count(2) == count(20)
