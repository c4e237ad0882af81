"""The API's access matrix, generated from the served schema: every operation × every role ×
a case of the person's units and one outside them × no token and a revoked one.

Without a live token every operation is 401. A case the person may not read is 404, whatever
the role; on a case the person reads, a refusal is 403 (the role), never 404. An operation
added without a sample request here fails ``test_every_operation_has_a_sample``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from npldesk.casework import access, selectors, services
from npldesk.casework.choices import Strategy
from npldesk.casework.models import Case, Job, Milestone, TransferPackage
from npldesk.web.api import api
from tests.casework.factories import case_with_loan
from tests.casework.world import World
from tests.casework.world import person as staff
from tests.web.api.conftest import ApiClient

ROLES = ("officer", "lead", "finance", "leader", "legal", "analyst", "admin", "outsider")
TODAY = date.today().isoformat()

Sample = Callable[[World, Any], tuple[str, str, dict[str, Any] | None]]


def _plan_id(case: Any) -> int:
    plan = case.plans.first()
    return 0 if plan is None else int(plan.pk)


def _recovery_id(case: Any) -> int:
    entry = case.recoveries.first()
    return 0 if entry is None else int(entry.pk)


def _first(related: Any) -> Any:
    return related.order_by("pk").first()


def _milestone_id(case: Any) -> int:
    milestone = Milestone.objects.filter(plan__case=case).order_by("pk").first()
    return 0 if milestone is None else int(milestone.pk)


def _package(case: Any) -> TransferPackage:
    return TransferPackage.objects.get(loans__case=case)


def _versioned(case: Any, related: str) -> tuple[int, int]:
    item = _first(getattr(case, related))
    return (0, 1) if item is None else (int(item.pk), int(item.version))


SAMPLES: dict[str, Sample] = {
    "cases_list": lambda w, case: ("get", f"/cases?unit={case.unit.code}", None),
    "case_show": lambda w, case: ("get", f"/cases/{case.number}", None),
    "worklist": lambda w, case: ("get", "/worklist", None),
    "activity_record": lambda w, case: (
        "post",
        f"/cases/{case.number}/activities",
        {"kind": "phone", "occurred_at": f"{TODAY}T10:00:00+08:00", "outcome": "contacted"},
    ),
    "recovery_enter": lambda w, case: (
        "post",
        f"/cases/{case.number}/recoveries",
        {
            "loan_id": case.loans.get().loan_id,
            "received_on": TODAY,
            "amount": "1.00",
            "source": "borrower",
        },
    ),
    "plan_decide": lambda w, case: (
        "post",
        f"/cases/{case.number}/plans/{_plan_id(case)}/decision",
        {"version": 1, "approve": True},
    ),
    "recovery_confirm": lambda w, case: (
        "post",
        f"/cases/{case.number}/recoveries/{_recovery_id(case)}/confirmation",
        None,
    ),
    "recovery_reverse": lambda w, case: (
        "post",
        f"/cases/{case.number}/recoveries/{_recovery_id(case)}/reversal",
        {"reversed_on": TODAY, "reason": "entered twice"},
    ),
    "case_close": lambda w, case: (
        "post",
        f"/cases/{case.number}/closing",
        {"version": case.version, "reason": "settled", "closed_on": TODAY},
    ),
    "people_list": lambda w, case: ("get", "/people", None),
    "household_show": lambda w, case: ("get", f"/cases/{case.number}/household", None),
    "investigation_record": lambda w, case: (
        "post",
        f"/cases/{case.number}/investigations",
        {"investigated_on": TODAY, "monthly_income": "3000.00"},
    ),
    "promise_create": lambda w, case: (
        "post",
        f"/cases/{case.number}/promises",
        {
            "occurred_at": f"{TODAY}T10:00:00+08:00",
            "amount": "100.00",
            "due_on": TODAY,
        },
    ),
    "plan_propose": lambda w, case: (
        "post",
        f"/cases/{case.number}/plans",
        {
            "strategy": "repayment_plan",
            "reason": "pays monthly",
            "target_amount": "1000.00",
            "target_date": TODAY,
            "milestones": [{"task": "visit", "due_on": TODAY}],
        },
    ),
    "milestone_complete": lambda w, case: (
        "post",
        f"/cases/{case.number}/milestones/{_milestone_id(case)}/completion",
        {"done_on": TODAY},
    ),
    "repayment_plan_agree": lambda w, case: (
        "post",
        f"/cases/{case.number}/repayment-plans",
        {
            "kind": "settlement",
            "agreed_on": TODAY,
            "instalments": [{"due_on": TODAY, "amount": "500.00"}],
        },
    ),
    "repayment_plan_cancel": lambda w, case: (
        "post",
        f"/cases/{case.number}/repayment-plans/{_versioned(case, 'repayment_plans')[0]}"
        "/cancellation",
        {"version": _versioned(case, "repayment_plans")[1], "reason": "moved away"},
    ),
    "legal_case_open": lambda w, case: (
        "post",
        f"/cases/{case.number}/legal-cases",
        {"court": "Synthetic District Court", "claim_amount": "1000.00", "opened_on": TODAY},
    ),
    "legal_case_advance": lambda w, case: (
        "post",
        f"/cases/{case.number}/legal-cases/{_versioned(case, 'legal_cases')[0]}/stages",
        {
            "version": _versioned(case, "legal_cases")[1],
            "stage": "filed",
            "entered_on": TODAY,
            "next_hearing_on": TODAY,
        },
    ),
    "legal_case_add_costs": lambda w, case: (
        "post",
        f"/cases/{case.number}/legal-cases/{_versioned(case, 'legal_cases')[0]}/costs",
        {"version": _versioned(case, "legal_cases")[1], "amount": "50.00"},
    ),
    "writeoff_prepare": lambda w, case: (
        "post",
        f"/cases/{case.number}/writeoffs",
        {
            "loan_id": case.loans.get().loan_id,
            "principal": "10.00",
            "prepared_on": TODAY,
            "reason": "exhausted",
        },
    ),
    "writeoff_decide": lambda w, case: (
        "post",
        f"/cases/{case.number}/writeoffs/{_versioned(case, 'writeoffs')[0]}/decision",
        {"version": _versioned(case, "writeoffs")[1], "approve": True},
    ),
    "transfers_list": lambda w, case: ("get", "/transfers", None),
    "transfer_prepare": lambda w, case: (
        "post",
        "/transfers",
        {
            "code": f"NEW-{case.number}",
            "buyer": "Synthetic AMC",
            "unit": case.unit.code,
            "cut_off_on": TODAY,
            "price": "10.00",
            "loans": [{"case_id": case.number, "loan_id": case.loans.get().loan_id}],
        },
    ),
    "transfer_approve": lambda w, case: (
        "post",
        f"/transfers/{_package(case).code}/approval",
        {"version": _package(case).version, "signed_on": TODAY},
    ),
    "case_override": lambda w, case: (
        "post",
        f"/cases/{case.number}/override",
        {"version": case.version, "reason": "court order", "tier": "long"},
    ),
    "case_assign": lambda w, case: (
        "post",
        f"/cases/{case.number}/assignment",
        {"version": case.version, "reason": "leave"},
    ),
    "case_reassign_bulk": lambda w, case: (
        "post",
        "/reassignments",
        {"cases": [{"case_id": case.number, "version": case.version}], "reason": "leave"},
    ),
    "tape_upload": lambda w, case: (
        "multipart",
        "/tape/uploads",
        {"file": SimpleUploadedFile("2020-01.csv", b"as_of,loan_id\n", "text/csv")},
    ),
    "tape_upload_show": lambda w, case: ("get", f"/tape/uploads/{_upload_id()}", None),
    "manifest": lambda w, case: ("get", "/manifest", None),
    "figures_quality": lambda w, case: (
        "get",
        f"/figures/quality?as_of=2020-01&unit={case.unit.code}",
        None,
    ),
    "figures_movement": lambda w, case: (
        "get",
        f"/figures/movement?as_of=2020-01&unit={case.unit.code}",
        None,
    ),
    "figures_migration": lambda w, case: (
        "get",
        f"/figures/migration?from=2019-12&to=2020-01&unit={case.unit.code}",
        None,
    ),
    "figures_list": lambda w, case: (
        "get",
        f"/figures/lists/top-npl?as_of=2020-01&pii=true&unit={case.unit.code}",
        None,
    ),
    "person_show": lambda w, case: ("get", f"/people/{case.owner.user.username}", None),
    "person_create": lambda w, case: (
        "post",
        "/people",
        {"username": "new", "name": "n", "roles": ["officer"], "units": [case.unit.code]},
    ),
    "person_update": lambda w, case: (
        "patch",
        f"/people/{case.owner.user.username}",
        {"version": case.owner.version, "active": True},
    ),
    "roles_list": lambda w, case: ("get", "/roles", None),
    "units_list": lambda w, case: ("get", "/units", None),
    "teams_list": lambda w, case: ("get", "/teams", None),
    "team_create": lambda w, case: (
        "post",
        "/teams",
        {
            "code": f"T{case.pk}",
            "name": "t",
            "kind": "task_force",
            "leader": case.owner.user.username,
            "units": [case.unit.code],
            "active_from": TODAY,
        },
    ),
    "team_set_members": lambda w, case: (
        "put",
        f"/teams/T{case.pk}/members",
        {"version": 1, "members": [case.owner.user.username]},
    ),
}
# Operations about the caller, not about a case: no case outside scope to ask for.
NOT_CASE_SCOPED = {"worklist", "people_list", "transfers_list"}
# Operations on a transfer package: their scope is the packages the person may see (finance,
# leaders and analysts of the package's unit), not the cases in it.
TRANSFER_SCOPED = {"transfer_approve"}
# Operations of the roles that may import (the tape page's): any other role is refused (403).
TAPE_OPERATIONS = {"tape_upload", "tape_upload_show", "manifest"}
TAPE_ROLES = {"analyst", "admin"}
# The figures: for the figures roles (403 for the others), of a unit in the caller's scope (404
# for any other).
FIGURES = {"figures_quality", "figures_movement", "figures_migration", "figures_list"}
FIGURE_ROLES = {"lead", "finance", "leader", "analyst", "outsider"}
# Administration: administrators only (403 for everyone else, whatever the object).
ADMINISTRATION = {
    "person_show",
    "person_create",
    "person_update",
    "roles_list",
    "units_list",
    "teams_list",
    "team_create",
    "team_set_members",
}


def _upload_id() -> int:
    job = Job.objects.filter(kind="tape_import").first()
    return 0 if job is None else int(job.pk)


def _operation_ids() -> set[str]:
    schema = api.get_openapi_schema()
    return {
        operation["operationId"]
        for operations in schema["paths"].values()
        for operation in operations.values()
    }


def test_every_operation_has_a_sample() -> None:
    assert _operation_ids() == set(SAMPLES)


def _objects_of(world: World, owner: Any, case: Any) -> None:
    """A ledger entry, a milestone, a repayment plan, a legal case, a write-off and a
    transfer package on ``case``, for the operations on them."""
    loan_id = case.loans.get().loan_id
    on = date(2020, 1, 2)
    services.recovery_enter(
        actor=owner,
        case=case,
        loan_id=loan_id,
        received_on=on,
        amount=Decimal(5),
        source="borrower",
    )
    services.plan_propose(
        actor=owner,
        case=case,
        strategy=Strategy.REPAYMENT_PLAN,
        reason="r",
        target_amount=Decimal(1),
        target_date=on,
        milestones=[("visit", owner, on)],
    )
    services.repayment_plan_agree(
        actor=owner,
        case=case,
        kind="settlement",
        agreed_on=on,
        instalments=[(date(2020, 2, 15), Decimal("1000.00"))],
    )
    # A case the legal desk may work: one with a legal strategy.
    Case.objects.filter(pk=case.pk).update(strategy=Strategy.TRACE_AND_LITIGATE)
    case.refresh_from_db()
    services.legal_case_open(
        actor=world.legal, case=case, court="Court", claim_amount=Decimal(1000), opened_on=on
    )
    services.writeoff_prepare(
        actor=world.finance,
        case=case,
        loan_id=loan_id,
        principal=Decimal(10),
        interest=Decimal(0),
        prepared_on=on,
        reason="matrix",
    )
    services.transfer_prepare(
        actor=world.finance,
        code=f"T-{case.number}",
        buyer="Synthetic AMC",
        unit=case.unit,
        cut_off_on=on,
        price=Decimal(10),
        loans=[(case, loan_id)],
    )


def _call(api_client: Any, sample: tuple[str, str, dict[str, Any] | None]) -> Any:
    method, path, body = sample
    if method == "get":
        return api_client.client.get(f"/api/v1{path}", headers=api_client.headers)
    if method == "multipart":
        return api_client.client.post(f"/api/v1{path}", body, headers=api_client.headers)
    return api_client.send(method, path, body or {})


@pytest.mark.parametrize("operation", sorted(SAMPLES))
def test_the_access_matrix(
    world: World, api_for, operation: str, request: pytest.FixtureRequest
) -> None:
    if operation in FIGURES:
        request.getfixturevalue("figures_home")
    stranger = staff("officer", world.units["HB02"])
    other = case_with_loan(world.units["HB0201"], owner=stranger)
    for owner, case in ((world.officer, world.case), (stranger, other)):
        _objects_of(world, owner, case)
    services.job_enqueue(
        actor=world.analyst, kind="tape_import", parameters={"file": "x.csv", "name": "x.csv"}
    )
    sample = SAMPLES[operation]
    assert _call(api_for(None), sample(world, world.case)).status_code == 401
    for role in ROLES:
        person = getattr(world, role)
        client = api_for(person)
        for case in (world.case, other):
            response = _call(client, sample(world, case))
            status = response.status_code
            assert status < 500, (role, response.content)
            if operation in TAPE_OPERATIONS:
                expected = (200, 202) if role in TAPE_ROLES else (403,)
                assert status in expected, (role, response.content)
            elif operation in FIGURES:
                visible = any(case.unit.path.startswith(unit.path) for unit in person.units.all())
                expected = (200 if visible else 404) if role in FIGURE_ROLES else 403
                assert status == expected, (role, case, response.content)
            elif operation in ADMINISTRATION:
                if role == "admin":
                    assert status in (200, 201, 404, 409, 422), (role, response.content)
                else:
                    assert status == 403, (role, response.content)
            elif operation in NOT_CASE_SCOPED:
                assert status == 200, (role, response.content)
            elif operation == "cases_list":
                # A unit the person may not see is 404; a visible one lists readable cases only.
                assert status in (200, 404), (role, status)
                numbers = [item["case_id"] for item in response.json().get("items", [])]
                assert all(access.can_read_case(person, case) for _ in numbers), role
            elif operation in TRANSFER_SCOPED:
                visible = (
                    selectors.transfer_packages_visible(person).filter(loans__case=case).exists()
                )
                assert (status != 404) == visible, (role, case, status, response.content)
            elif access.can_read_case(person, case):
                assert status in (200, 201, 403, 409, 422), (role, case, response.content)
            else:
                assert status == 404, (role, case, status)
    revoked = services.api_token_create(actor=world.officer, person=world.officer, name="gone")
    services.api_token_revoke(actor=world.officer, token=revoked.token)
    assert _call(ApiClient(revoked.secret), sample(world, world.case)).status_code == 401
