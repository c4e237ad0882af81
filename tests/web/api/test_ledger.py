"""Recoveries through ``/api/v1/``: one ledger entry and one audit record per Idempotency-Key."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from npldesk.casework.models import AuditRecord, IdempotencyRecord, Recovery
from tests.casework.world import World


def _body(world: World, amount: str = "1000.00") -> dict[str, str]:
    return {
        "loan_id": world.loan_id,
        "received_on": "2020-01-10",
        "amount": amount,
        "source": "borrower",
    }


def test_a_recovery_posted_twice_with_one_key_is_one_entry(world: World, api_for) -> None:
    api = api_for(world.officer)
    path = f"/cases/{world.case.number}/recoveries"
    first = api.post(path, _body(world), headers={"Idempotency-Key": "pay-7"})
    assert first.status_code == 201, first.content
    again = api.post(path, _body(world), headers={"Idempotency-Key": "pay-7"})
    assert again.status_code == 201 and again.json() == first.json()
    assert Recovery.objects.count() == 1
    assert AuditRecord.objects.filter(action="recovery_enter").count() == 1
    assert first.json()["amount"] == "1000.00" and first.json()["entered_by"]


def test_one_key_with_another_body_is_422_and_writes_nothing(world: World, api_for) -> None:
    api = api_for(world.officer)
    path = f"/cases/{world.case.number}/recoveries"
    assert api.post(path, _body(world), headers={"Idempotency-Key": "k"}).status_code == 201
    other = api.post(path, _body(world, "2.00"), headers={"Idempotency-Key": "k"})
    assert other.status_code == 422
    assert Recovery.objects.count() == 1


def test_a_refused_write_keeps_no_key(world: World, api_for) -> None:
    api = api_for(world.officer)
    path = f"/cases/{world.case.number}/recoveries"
    bad = {**_body(world), "loan_id": "NOPE"}
    assert api.post(path, bad, headers={"Idempotency-Key": "k2"}).status_code == 422
    assert not IdempotencyRecord.objects.exists()
    assert api.post(path, _body(world), headers={"Idempotency-Key": "k2"}).status_code == 201


def test_keys_are_per_person(world: World, api_for) -> None:
    path = f"/cases/{world.case.number}/recoveries"
    for person in (world.officer, world.lead):
        response = api_for(person).post(path, _body(world), headers={"Idempotency-Key": "same"})
        assert response.status_code == 201
    assert Recovery.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_of_one_key_make_one_entry(units, api_for) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("two connections writing at once: PostgreSQL only (SQLite serialises)")
    from tests.casework.world import build_world

    world = build_world(units)
    api = api_for(world.officer)
    path = f"/cases/{world.case.number}/recoveries"
    statuses: list[int] = []
    barrier = threading.Barrier(2)

    def post() -> None:
        try:
            barrier.wait()
            statuses.append(
                api.post(path, _body(world), headers={"Idempotency-Key": "race"}).status_code
            )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [201, 201]
    assert Recovery.objects.count() == 1
    assert AuditRecord.objects.filter(action="recovery_enter").count() == 1


def test_finance_confirms_and_reverses_an_entry_four_eyes(world: World, api_for) -> None:
    path = f"/cases/{world.case.number}/recoveries"
    entry = api_for(world.officer).post(path, _body(world)).json()
    own = api_for(world.officer).post(f"{path}/{entry['id']}/confirmation", None)
    assert own.status_code == 403  # an officer may not confirm
    confirmed = api_for(world.finance).post(f"{path}/{entry['id']}/confirmation", None)
    assert confirmed.status_code == 200, confirmed.content
    reversal = api_for(world.finance).post(
        f"{path}/{entry['id']}/reversal",
        {"reversed_on": "2020-01-11", "reason": "entered twice"},
        headers={"Idempotency-Key": "rev-1"},
    )
    assert reversal.status_code == 201, reversal.content
    assert reversal.json()["amount"] == "-1000.00"
    assert Recovery.objects.count() == 2
    assert api_for(world.finance).post(f"{path}/999999/confirmation", None).status_code == 404
