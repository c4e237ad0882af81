"""``/api/v1/cases``: the web's filters, cursor pages of the CLI's rows, one case's document."""

from __future__ import annotations

from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext

from npldesk.casework.documents import case_document, case_row
from npldesk.casework.selectors import case_detail
from tests.casework.factories import case_with_loan
from tests.casework.world import World, propose_plan


def test_the_list_pages_with_a_cursor_through_every_visible_case(world: World, api_for) -> None:
    for _ in range(4):
        case_with_loan(world.units["HB0101"], owner=world.officer)
    case_with_loan(world.units["HB0201"])  # another county: the lead of HB01 never sees it
    api = api_for(world.lead)
    seen: list[str] = []
    cursor = None
    while True:
        response = api.get("/cases", limit=2, **({"cursor": cursor} if cursor else {}))
        assert response.status_code == 200, response.content
        page = response.json()
        seen += [item["case_id"] for item in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert len(seen) == 5 and seen == sorted(seen)
    first = api.get("/cases", limit=1).json()["items"][0]
    assert first == case_row(world.fresh())


def test_the_list_filters_as_the_web_does_and_sorts_by_balance(world: World, api_for) -> None:
    big = case_with_loan(world.units["HB0101"], owner=world.officer, npl_balance=Decimal("9e6"))
    api = api_for(world.officer)
    body = api.get("/cases", sort="-npl_balance", limit=1).json()
    assert body["items"][0]["case_id"] == big.number
    second = api.get("/cases", sort="-npl_balance", limit=1, cursor=body["next"]).json()
    assert second["items"][0]["case_id"] == world.case.number
    assert api.get("/cases", q=big.number).json()["items"][0]["case_id"] == big.number
    assert api.get("/cases", state="resolved").json()["items"] == []


def test_a_filter_outside_scope_is_404_and_a_bad_value_422_with_the_field(
    world: World, api_for
) -> None:
    api = api_for(world.officer)
    response = api.get("/cases", unit="HB02")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    response = api.get("/cases", state="nonsense", limit=0)
    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["errors"]}
    assert {"state", "limit"} <= fields
    assert api.get("/cases", cursor="@@not-a-cursor").status_code == 422


def test_one_case_is_the_clis_document_with_ids_and_versions(world: World, api_for) -> None:
    plan = propose_plan(world)
    response = api_for(world.officer).get(f"/cases/{world.case.number}")
    assert response.status_code == 200
    body = response.json()
    assert body == case_document(case_detail(world.officer, world.case.number))
    assert body["plan"]["id"] == plan.pk and body["plan"]["version"] == plan.version


def test_a_case_outside_scope_is_404(world: World, api_for) -> None:
    assert api_for(world.outsider).get(f"/cases/{world.case.number}").status_code == 404


def test_the_list_takes_as_many_queries_for_two_cases_as_for_twenty(world: World, api_for) -> None:
    api = api_for(world.lead)

    def count(limit: int) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert len(api.get("/cases", limit=limit).json()["items"]) == limit
        return len(queries)

    for _ in range(19):
        case_with_loan(world.units["HB0101"], owner=world.officer)
    api.get("/cases")  # the token's first use is written once; the counts are of later calls
    assert count(2) == count(20)


def test_two_closings_from_one_version_one_wins_the_other_is_409(world: World, api_for) -> None:
    version = world.fresh().version
    path = f"/cases/{world.case.number}/closing"
    body = {"version": version, "reason": "settled", "closed_on": "2020-03-01"}
    first = api_for(world.lead).post(path, body)
    assert first.status_code == 200, first.content
    second = api_for(world.lead2).post(path, {**body, "reason": "repaid"})
    assert second.status_code == 409
    assert second.json()["current_version"] == world.fresh().version
    assert world.fresh().close_reason == "settled"
