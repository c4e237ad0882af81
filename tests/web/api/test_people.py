"""``/api/v1/people``: an administrator sees the staff of their units, an officer themselves."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.casework.world import World, person


def test_an_admin_lists_the_staff_of_their_units(world: World, api_for) -> None:
    response = api_for(world.admin).get("/people")
    assert response.status_code == 200
    names = {item["username"] for item in response.json()["items"]}
    assert world.officer.user.get_username() in names
    assert world.outsider.user.get_username() in names  # HB02 is inside the admin's HB


def test_an_officer_sees_only_themselves(world: World, api_for) -> None:
    items = api_for(world.officer).get("/people").json()["items"]
    assert [item["username"] for item in items] == [world.officer.user.get_username()]


def test_the_list_takes_the_same_queries_for_more_people(world: World, api_for) -> None:
    api = api_for(world.admin)
    api.get("/people")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api.get("/people").status_code == 200
        return len(queries)

    before = count()
    for _ in range(10):
        person("officer", world.units["HB0101"])
    assert count() == before
