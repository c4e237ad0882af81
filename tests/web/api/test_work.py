"""Activities and plan decisions through ``/api/v1/``: roles (403), scope (404), stale (409)."""

from __future__ import annotations

from npldesk.casework.models import Activity, AuditRecord, Promise
from tests.casework.world import World, propose_plan

VISIT = {
    "kind": "visit",
    "occurred_at": "2020-01-05T10:00:00+08:00",
    "outcome": "contacted",
    "notes": "home",
}


def test_an_officer_logs_an_activity_with_a_promise(world: World, api_for) -> None:
    body = {
        **VISIT,
        "outcome": "promise",
        "promise_amount": "500.00",
        "promise_due_on": "2020-02-01",
    }
    response = api_for(world.officer).post(f"/cases/{world.case.number}/activities", body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["promise"]["amount"] == "500.00"
    assert Activity.objects.get().pk == data["id"] and Promise.objects.count() == 1
    record = AuditRecord.objects.get(action="activity_record")
    assert record.actor == world.officer


def test_an_activity_with_one_key_twice_is_written_once(world: World, api_for) -> None:
    api = api_for(world.officer)
    path = f"/cases/{world.case.number}/activities"
    first = api.post(path, VISIT, headers={"Idempotency-Key": "visit-1"})
    again = api.post(path, VISIT, headers={"Idempotency-Key": "visit-1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Activity.objects.count() == 1
    other = api.post(path, {**VISIT, "notes": "x"}, headers={"Idempotency-Key": "visit-1"})
    assert other.status_code == 422


def test_a_bad_activity_is_422_with_its_fields(world: World, api_for) -> None:
    response = api_for(world.officer).post(
        f"/cases/{world.case.number}/activities", {"kind": "fax", "occurred_on": "soon"}
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"kind", "occurred_on", "outcome"} <= fields


def test_a_case_outside_scope_is_404_and_a_role_that_may_not_is_403(world: World, api_for):
    path = f"/cases/{world.case.number}/activities"
    assert api_for(world.outsider).post(path, VISIT).status_code == 404
    response = api_for(world.analyst).post(path, VISIT)
    assert response.status_code == 403, response.content
    assert not Activity.objects.exists()


def test_two_decisions_from_one_version_one_wins_the_other_is_409(world: World, api_for):
    plan = propose_plan(world)
    path = f"/cases/{world.case.number}/plans/{plan.pk}/decision"
    first = api_for(world.lead).post(path, {"version": plan.version, "approve": True})
    assert first.status_code == 200, first.content
    assert first.json()["state"] == "approved"
    second = api_for(world.lead2).post(path, {"version": plan.version, "approve": False})
    assert second.status_code == 409
    assert second.json()["current_version"] == plan.version + 1
    plan.refresh_from_db()
    assert plan.state == "approved"


def test_a_stale_version_is_409_with_the_current_version(world: World, api_for) -> None:
    plan = propose_plan(world)
    path = f"/cases/{world.case.number}/plans/{plan.pk}/decision"
    response = api_for(world.lead).post(path, {"version": plan.version + 5, "approve": True})
    assert response.status_code == 409
    body = response.json()
    assert body["current_version"] == plan.version
    assert response["Content-Type"] == "application/problem+json"
    assert api_for(world.officer).post(path, {"version": 1, "approve": True}).status_code == 403
