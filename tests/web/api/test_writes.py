"""Every write of ``/api/v1/``: the right role does it with one service call and its one audit
record; a role that may not is 403 and writes nothing. Writes on an existing object take the
version read in the body or as ``If-Match``; a stale one is a 409 with the current version."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from npldesk.casework import services
from npldesk.casework.choices import Strategy
from npldesk.casework.models import (
    AuditRecord,
    Case,
    LegalCase,
    Promise,
    RepaymentPlan,
    TransferPackage,
    WriteOff,
    WriteOffDecision,
)
from tests.casework.factories import case_with_loan
from tests.casework.world import World, propose_plan

DAY = date(2020, 1, 6)


def _legal_desk_case(world: World) -> str:
    """The world's case given a legal strategy: the legal desk works it."""
    Case.objects.filter(pk=world.case.pk).update(strategy=Strategy.TRACE_AND_LITIGATE)
    return world.case.number


def _legal_case(world: World) -> LegalCase:
    _legal_desk_case(world)
    return services.legal_case_open(
        actor=world.legal,
        case=world.fresh(),
        court="Synthetic District Court",
        claim_amount=Decimal("100000.00"),
        opened_on=DAY,
    )


def _writeoff(world: World, *, reviewed: bool = False) -> WriteOff:
    writeoff = services.writeoff_prepare(
        actor=world.finance,
        case=world.fresh(),
        loan_id=world.loan_id,
        principal=Decimal("100000.00"),
        interest=Decimal("0.00"),
        prepared_on=DAY,
        reason="recovery exhausted",
    )
    if reviewed:
        services.writeoff_decide(
            actor=world.finance2,
            writeoff=writeoff,
            version=1,
            approve=True,
            note="checked",
            on=DAY,
        )
        writeoff.refresh_from_db()
    return writeoff


def _package(world: World) -> TransferPackage:
    return services.transfer_prepare(
        actor=world.finance,
        code="AMC-1",
        buyer="Synthetic AMC",
        unit=world.units["HB01"],
        cut_off_on=DAY,
        price=Decimal("30000.00"),
        loans=[(world.fresh(), world.loan_id)],
    )


def _repayment_plan(world: World) -> RepaymentPlan:
    return services.repayment_plan_agree(
        actor=world.officer,
        case=world.fresh(),
        kind="settlement",
        agreed_on=DAY,
        instalments=[(date(2020, 2, 1), Decimal("5000.00"))],
    )


@dataclass(frozen=True)
class Write:
    """Who may do it, the request it takes once the world is set up, and its audit action."""

    role: str
    request: Callable[[World], tuple[str, dict[str, Any]]]
    action: str
    status: int = 200
    # A write of many objects: its audit records after the first (one per object, the run's).
    more: tuple[str, ...] = ()


def _n(world: World) -> str:
    return world.case.number


WRITES: dict[str, Write] = {
    "activity_record": Write(
        "officer",
        lambda w: (
            f"/cases/{_n(w)}/activities",
            {"kind": "visit", "occurred_at": "2020-01-06T10:00:00+08:00", "outcome": "contacted"},
        ),
        "activity_record",
        201,
    ),
    "investigation_record": Write(
        "officer",
        lambda w: (
            f"/cases/{_n(w)}/investigations",
            {
                "investigated_on": "2020-01-06",
                "monthly_income": "3000.00",
                "properties": [
                    {"type": "flat", "estimated_value": "500000.00", "encumbrances": "100000.00"}
                ],
            },
        ),
        "investigation_record",
        201,
    ),
    "promise_create": Write(
        "officer",
        lambda w: (
            f"/cases/{_n(w)}/promises",
            {
                "occurred_at": "2020-01-06T10:00:00+08:00",
                "amount": "500.00",
                "due_on": "2020-02-01",
            },
        ),
        "activity_record",
        201,
    ),
    "plan_propose": Write(
        "officer",
        lambda w: (
            f"/cases/{_n(w)}/plans",
            {
                "strategy": "repayment_plan",
                "reason": "pays monthly from wages",
                "target_amount": "60000.00",
                "target_date": "2020-12-31",
                "milestones": [
                    {"task": "visit", "due_on": "2020-02-01"},
                    {"task": "agree instalments", "due_on": "2020-03-01"},
                ],
            },
        ),
        "plan_propose",
        201,
    ),
    "plan_decide": Write(
        "lead",
        lambda w: (
            f"/cases/{_n(w)}/plans/{propose_plan(w).pk}/decision",
            {"version": 1, "approve": True},
        ),
        "plan_decide",
    ),
    "milestone_complete": Write(
        "officer",
        lambda w: (
            f"/cases/{_n(w)}/milestones/"
            f"{propose_plan(w, milestones=True).milestones.get().pk}/completion",
            {"done_on": "2020-01-06"},
        ),
        "milestone_complete",
    ),
    "repayment_plan_agree": Write(
        "officer",
        lambda w: (
            f"/cases/{_n(w)}/repayment-plans",
            {
                "kind": "settlement",
                "agreed_on": "2020-01-06",
                "discount": "40000.00",
                "instalments": [
                    {"due_on": "2020-02-01", "amount": "30000.00"},
                    {"due_on": "2020-03-01", "amount": "30000.00"},
                ],
            },
        ),
        "repayment_plan_agree",
        201,
    ),
    "repayment_plan_cancel": Write(
        "lead",
        lambda w: (
            f"/cases/{_n(w)}/repayment-plans/{_repayment_plan(w).pk}/cancellation",
            {"version": 1, "reason": "the household moved", "cancelled_on": "2020-01-07"},
        ),
        "repayment_plan_cancel",
    ),
    "legal_case_open": Write(
        "legal",
        lambda w: (
            f"/cases/{_legal_desk_case(w)}/legal-cases",
            {
                "court": "Synthetic District Court",
                "claim_amount": "100000.00",
                "opened_on": "2020-01-06",
            },
        ),
        "legal_case_open",
        201,
    ),
    "legal_case_advance": Write(
        "legal",
        lambda w: (
            f"/cases/{_n(w)}/legal-cases/{_legal_case(w).pk}/stages",
            {
                "version": 1,
                "stage": "filed",
                "entered_on": "2020-01-07",
                "court_case_number": "(2020) 01 Min Chu 1",
                "next_hearing_on": "2020-03-02",
            },
        ),
        "legal_case_advance",
    ),
    "legal_case_add_costs": Write(
        "legal",
        lambda w: (
            f"/cases/{_n(w)}/legal-cases/{_legal_case(w).pk}/costs",
            {"version": 1, "amount": "1200.00", "note": "court fee"},
        ),
        "legal_case_add_costs",
    ),
    "recovery_enter": Write(
        "officer",
        lambda w: (
            f"/cases/{_n(w)}/recoveries",
            {
                "loan_id": w.loan_id,
                "received_on": "2020-01-06",
                "amount": "10.00",
                "source": "borrower",
            },
        ),
        "recovery_enter",
        201,
    ),
    "writeoff_prepare": Write(
        "finance",
        lambda w: (
            f"/cases/{_n(w)}/writeoffs",
            {
                "loan_id": w.loan_id,
                "principal": "100000.00",
                "prepared_on": "2020-01-06",
                "reason": "recovery exhausted",
            },
        ),
        "writeoff_prepare",
        201,
    ),
    # The review (a second finance officer) and the approval (a leader) are the one decision
    # operation: the write-off's state says which step it takes.
    "writeoff_decide": Write(
        "leader",
        lambda w: (
            f"/cases/{_n(w)}/writeoffs/{_writeoff(w, reviewed=True).pk}/decision",
            {"version": 2, "approve": True, "decided_on": "2020-01-08"},
        ),
        "writeoff_decide",
    ),
    "transfer_prepare": Write(
        "finance",
        lambda w: (
            "/transfers",
            {
                "code": "AMC-1",
                "buyer": "Synthetic AMC",
                "unit": "HB01",
                "cut_off_on": "2020-01-06",
                "price": "30000.00",
                "loans": [{"case_id": _n(w), "loan_id": w.loan_id}],
            },
        ),
        "transfer_prepare",
        201,
    ),
    "transfer_approve": Write(
        "leader",
        lambda w: (
            f"/transfers/{_package(w).code}/approval",
            {"version": 1, "signed_on": "2020-01-08"},
        ),
        "transfer_approve",
    ),
    "case_override": Write(
        "lead",
        lambda w: (
            f"/cases/{_n(w)}/override",
            {"version": 1, "reason": "court order", "tier": "long"},
        ),
        "case_override",
    ),
    "case_assign": Write(
        "lead",
        lambda w: (
            f"/cases/{_n(w)}/assignment",
            {"version": 1, "owner": w.officer2.user.get_username(), "reason": "leave"},
        ),
        "case_assign",
    ),
    "case_reassign_bulk": Write(
        "lead",
        lambda w: (
            "/reassignments",
            {
                "cases": [{"case_id": _n(w), "version": 1}],
                "owner": w.officer2.user.get_username(),
                "reason": "rebalancing",
            },
        ),
        "case_reassign_bulk",
        more=("case_reassign_bulk_run",),
    ),
    "case_close": Write(
        "lead",
        lambda w: (
            f"/cases/{_n(w)}/closing",
            {"version": 1, "reason": "settled", "closed_on": "2020-01-06"},
        ),
        "case_close",
    ),
}


def test_every_write_of_the_schema_is_here() -> None:
    from tests.web.api.test_access import ADMINISTRATION, FIGURES, SAMPLES

    reads = {"cases_list", "case_show", "worklist", "people_list", "household_show"}
    confirmations = {"recovery_confirm", "recovery_reverse"}  # tests/web/api/test_ledger.py
    tape = {"tape_upload", "tape_upload_show", "manifest"}  # tests/web/api/test_tape.py
    # The figures (reads) and administration: tests/web/api/test_figures.py and
    # test_administration.py.
    own = tape | FIGURES | ADMINISTRATION
    assert set(SAMPLES) - reads - {"transfers_list"} - confirmations - own == set(WRITES)


def test_the_api_offers_every_write_of_the_case_page() -> None:
    from tests.web.urltable import WRITES as WEB_WRITES

    web = {write.action for name, write in WEB_WRITES.items() if name.startswith("web:case_")} - {
        "personal_data_view",  # a read the web records, not a write
        # A legal document is drafted and downloaded on the case page; the API serves no files.
        "document_generate",
    }
    api = {write.action for write in WRITES.values()} | {"recovery_confirm", "recovery_reverse"}
    assert sorted(web - api) == []


@pytest.mark.parametrize("operation", sorted(WRITES))
def test_the_right_role_writes_once_with_one_audit_record(
    world: World, api_for, operation: str
) -> None:
    write = WRITES[operation]
    path, body = write.request(world)
    analyst, api = api_for(world.analyst), api_for(getattr(world, write.role))
    before = AuditRecord.objects.count()
    refused = analyst.post(path, body)
    assert refused.status_code == 403, refused.content
    assert refused["Content-Type"] == "application/problem+json"
    response = api.post(path, body)
    assert response.status_code == write.status, response.content
    records = AuditRecord.objects.order_by("id")[before:]
    assert [r.action for r in records] == [write.action, *write.more]
    assert records[0].actor == getattr(world, write.role)


def test_a_plan_is_proposed_with_its_milestones(world: World, api_for) -> None:
    path, body = WRITES["plan_propose"].request(world)
    plan = api_for(world.officer).post(path, body).json()
    assert [m["task"] for m in plan["milestones"]] == ["visit", "agree instalments"]
    assert {m["owner"] for m in plan["milestones"]} == {world.officer.user.get_username()}
    assert plan["state"] == "proposed" and plan["version"] == 1
    body["milestones"][0]["owner"] = "nobody-here"
    response = api_for(world.officer).post(path, body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "milestones.0.owner"


def test_a_repayment_plan_has_its_instalments_to_the_fen(world: World, api_for) -> None:
    path, body = WRITES["repayment_plan_agree"].request(world)
    plan = api_for(world.officer).post(path, body).json()
    assert plan["total"] == "60000.00" and plan["discount"] == "40000.00"
    assert [(i["number"], i["amount"]) for i in plan["instalments"]] == [
        (1, "30000.00"),
        (2, "30000.00"),
    ]
    assert RepaymentPlan.objects.get().instalments.count() == 2


def test_a_write_off_is_prepared_reviewed_and_approved_by_three_people(
    world: World, api_for
) -> None:
    path, body = WRITES["writeoff_prepare"].request(world)
    writeoff = api_for(world.finance).post(path, body).json()
    step = f"/cases/{_n(world)}/writeoffs/{writeoff['id']}"
    own = api_for(world.finance).post(f"{step}/decision", {"version": 1, "approve": True})
    assert own.status_code == 422  # the preparer may not review it
    reviewed = api_for(world.finance2).post(f"{step}/decision", {"version": 1, "approve": True})
    assert reviewed.json()["state"] == "reviewed"
    approved = api_for(world.leader).post(
        f"{step}/decision", {"approve": True}, headers={"If-Match": '"2"'}
    )
    assert approved.status_code == 200, approved.content
    assert approved.json()["state"] == "approved"
    assert [s["step"] for s in approved.json()["steps"]] == ["prepared", "reviewed", "approved"]


def test_a_legal_case_records_its_hearing_at_the_same_stage(world: World, api_for) -> None:
    legal_case = _legal_case(world)
    path = f"/cases/{_n(world)}/legal-cases/{legal_case.pk}/stages"
    api = api_for(world.legal)
    filed = api.post(path, {"version": 1, "stage": "filed", "entered_on": "2020-01-07"}).json()
    hearing = api.post(
        path,
        {
            "version": filed["version"],
            "stage": "filed",
            "entered_on": "2020-01-08",
            "next_hearing_on": "2020-03-02",
        },
    )
    assert hearing.status_code == 200, hearing.content
    assert hearing.json()["next_hearing_on"] == "2020-03-02"
    assert hearing.json()["stage_since"] == "2020-01-07"
    backwards = api.post(
        path,
        {"version": hearing.json()["version"], "stage": "preparing", "entered_on": "2020-01-09"},
    )
    assert backwards.status_code == 422


def test_if_match_carries_the_version_and_a_stale_one_is_409(world: World, api_for) -> None:
    path = f"/cases/{_n(world)}/override"
    body = {"reason": "court order", "tier": "long"}
    api = api_for(world.lead)
    stale = api.post(path, body, headers={"If-Match": '"7"'})
    assert stale.status_code == 409
    assert stale["Content-Type"] == "application/problem+json"
    assert stale.json()["current_version"] == 1
    done = api.post(path, body, headers={"If-Match": 'W/"1"'})
    assert done.status_code == 200, done.content
    assert done.json()["version"] == 2 and done.json()["tier"] == "long"
    assert world.fresh().tier == "long"


@pytest.mark.parametrize(
    ("headers", "body_version", "field"),
    [
        ({}, None, "version"),
        ({"If-Match": "soon"}, None, "If-Match"),
        ({"If-Match": '"1'}, None, "If-Match"),
        ({"If-Match": '"0"'}, None, "If-Match"),
        ({"If-Match": '"1"'}, 2, "version"),
    ],
)
def test_a_missing_or_unreadable_version_is_422_naming_it(
    world: World, api_for, headers: dict[str, str], body_version: int | None, field: str
) -> None:
    body: dict[str, Any] = {"reason": "court order", "tier": "long"}
    if body_version is not None:
        body["version"] = body_version
    response = api_for(world.lead).post(f"/cases/{_n(world)}/override", body, headers=headers)
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert world.fresh().version == 1


# The writes on an existing object: they name the version read.
VERSIONED_WRITES = (
    "case_assign",
    "case_close",
    "case_override",
    "legal_case_add_costs",
    "legal_case_advance",
    "plan_decide",
    "repayment_plan_cancel",
    "transfer_approve",
    "writeoff_decide",
)


@pytest.mark.parametrize("operation", VERSIONED_WRITES)
def test_the_version_is_input_checked_before_the_object_is_looked_up(
    world: World, api_for, operation: str
) -> None:
    path, body = WRITES[operation].request(world)
    outsider = api_for(world.outsider)
    unversioned = outsider.post(path, {k: v for k, v in body.items() if k != "version"})
    assert unversioned.status_code == 422, unversioned.content
    assert [e["field"] for e in unversioned.json()["errors"]] == ["version"]
    # With the version, the same caller is told the object is not there for them.
    assert outsider.post(path, body).status_code == 404


def test_two_updates_from_one_version_one_wins_the_other_is_409(world: World, api_for) -> None:
    path = f"/cases/{_n(world)}/override"
    first = api_for(world.lead).post(path, {"version": 1, "reason": "r", "tier": "long"})
    second = api_for(world.lead2).post(path, {"version": 1, "reason": "r", "tier": "short"})
    assert first.status_code == 200, first.content
    assert second.status_code == 409 and second.json()["current_version"] == 2
    assert world.fresh().tier == "long"
    assert AuditRecord.objects.filter(action="case_override").count() == 1


def test_a_write_off_step_from_a_stale_version_is_409_not_a_wrong_state(
    world: World, api_for
) -> None:
    writeoff = _writeoff(world)
    path = f"/cases/{_n(world)}/writeoffs/{writeoff.pk}/decision"
    first = api_for(world.finance2).post(path, {"version": 1, "approve": True, "note": "ok"})
    assert first.status_code == 200
    late = api_for(world.finance2).post(path, {"version": 1, "approve": False, "note": "no"})
    assert late.status_code == 409 and late.json()["current_version"] == 2
    writeoff.refresh_from_db()
    assert writeoff.state == "reviewed"
    assert [d.note for d in WriteOffDecision.objects.order_by("id")] == ["recovery exhausted", "ok"]


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_overrides_from_one_version_one_wins(units, api_for) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("two connections writing at once: PostgreSQL only (SQLite serialises)")
    from tests.casework.world import build_world

    world = build_world(units)
    path = f"/cases/{_n(world)}/override"
    barrier = threading.Barrier(2)
    answers: list[Any] = []

    def override(lead: Any, tier: str) -> None:
        api = api_for(lead)
        try:
            barrier.wait()
            answers.append(api.post(path, {"version": 1, "reason": "r", "tier": tier}))
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=override, args=(world.lead, "long")),
        threading.Thread(target=override, args=(world.lead2, "short")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 409]
    winner = next(a for a in answers if a.status_code == 200).json()
    assert world.fresh().tier == winner["tier"] and world.fresh().version == 2
    assert AuditRecord.objects.filter(action="case_override").count() == 1


def test_a_promise_posted_twice_with_one_key_is_one_promise(world: World, api_for) -> None:
    path, body = WRITES["promise_create"].request(world)
    api = api_for(world.officer)
    first = api.post(path, body, headers={"Idempotency-Key": "promise-1"})
    again = api.post(path, body, headers={"Idempotency-Key": "promise-1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and first.json()["amount"] == "500.00"
    assert Promise.objects.count() == 1
    other = api.post(path, {**body, "amount": "600.00"}, headers={"Idempotency-Key": "promise-1"})
    assert other.status_code == 422
    assert Promise.objects.count() == 1


def test_a_write_off_step_sent_twice_with_one_key_is_taken_once(world: World, api_for) -> None:
    writeoff = _writeoff(world)
    path = f"/cases/{_n(world)}/writeoffs/{writeoff.pk}/decision"
    api = api_for(world.finance2)
    key = {"Idempotency-Key": "review-1"}
    first = api.post(path, {"version": 1, "approve": True}, headers=key)
    again = api.post(path, {"version": 1, "approve": True}, headers=key)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert AuditRecord.objects.filter(action="writeoff_decide").count() == 1
    # The version may come as If-Match instead: the same request, the same answer.
    same = api.post(path, {"approve": True}, headers={**key, "If-Match": '"1"'})
    assert same.status_code == 200 and same.json() == first.json()
    other = api.post(path, {"version": 1, "approve": False}, headers=key)
    assert other.status_code == 422
    assert WriteOffDecision.objects.filter(writeoff=writeoff).count() == 2


def test_a_write_off_prepared_twice_with_one_key_is_one_application(world: World, api_for):
    path, body = WRITES["writeoff_prepare"].request(world)
    api = api_for(world.finance)
    first = api.post(path, body, headers={"Idempotency-Key": "wo-1"})
    again = api.post(path, body, headers={"Idempotency-Key": "wo-1"})
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert WriteOff.objects.count() == 1


def test_errors_come_in_the_callers_language(world: World, api_for) -> None:
    api = api_for(world.lead)
    api.headers["Accept-Language"] = "zh-hans"
    response = api.post(
        f"/cases/{_n(world)}/override", {"version": 9, "reason": "r", "tier": "long"}
    )
    assert response.status_code == 409
    body = response.json()
    assert body["title"] == "已被他人修改"
    assert "version" not in body["detail"] and body["current_version"] == 1
    missing = api.post(f"/cases/{_n(world)}/override", {"reason": "r", "tier": "long"})
    assert (
        missing.json()["errors"][0]["message"]
        != 'Give the version you read: "version" or If-Match.'
    )


def test_an_unknown_owner_is_422_on_its_field(world: World, api_for) -> None:
    response = api_for(world.lead).post(
        f"/cases/{_n(world)}/assignment", {"version": 1, "owner": "nobody-here", "reason": "r"}
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["owner"]
    assert world.fresh().owner == world.officer


def test_the_transfer_list_takes_as_many_queries_for_two_packages_as_for_twenty(
    world: World, api_for
) -> None:
    api = api_for(world.finance)
    for n in range(20):
        case = case_with_loan(world.units["HB0101"], owner=world.officer)
        services.transfer_prepare(
            actor=world.finance,
            code=f"AMC-{n:02}",
            buyer="Synthetic AMC",
            unit=world.units["HB01"],
            cut_off_on=DAY,
            price=Decimal("10.00"),
            loans=[(case, case.loans.get().loan_id)],
        )

    def count(limit: int) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert len(api.get("/transfers", limit=limit).json()["items"]) == limit
        return len(queries)

    api.get("/transfers")  # the token's first use is recorded once
    assert count(2) == count(20)
    first = api.get("/transfers", limit=15).json()
    rest = api.get("/transfers", limit=15, cursor=first["next"]).json()
    codes = [item["code"] for item in first["items"] + rest["items"]]
    assert codes == [f"AMC-{n:02}" for n in range(20)] and rest["next"] is None
    assert {item["loans"] for item in first["items"]} == {1}
    assert {item["book_value"] for item in first["items"]} == {"100000.00"}
    assert api_for(world.officer).get("/transfers").json()["items"] == []


def test_text_with_a_nul_character_is_422_on_its_field(world: World, api_for) -> None:
    path, body = WRITES["investigation_record"].request(world)
    response = api_for(world.officer).post(path, {**body, "employment_state": "a\x00b"})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["employment_state"]
    approval = {"version": 1, "signed_on": "2020-01-08"}
    refused = api_for(world.leader).post("/transfers/A%00B/approval", approval)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "code"
    assert api_for(world.officer).get("/cases", q="a\x00").status_code == 422


def test_a_reassignment_of_many_cases_fails_whole_on_one_stale_case(world: World, api_for) -> None:
    second = case_with_loan(world.units["HB0101"], owner=world.officer)
    body = {
        "cases": [{"case_id": _n(world), "version": 1}, {"case_id": second.number, "version": 1}],
        "owner": world.officer2.user.get_username(),
        "reason": "rebalancing",
    }
    Case.objects.filter(pk=second.pk).update(version=2)  # someone else changed it meanwhile
    api = api_for(world.lead)
    stale = api.post("/reassignments", body)
    assert stale.status_code == 409, stale.content
    assert world.fresh().owner == world.officer
    body["cases"][1]["version"] = 2
    done = api.post("/reassignments", body)
    assert done.status_code == 200, done.content
    assert done.json()["changed"] == 2
    assert {item["owner"] for item in done.json()["items"]} == {world.officer2.user.get_username()}
