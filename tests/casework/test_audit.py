"""The audit trail and the append-only recovery ledger.

Every service in ``audit.SERVICES`` is called once in a valid setting: a non-bulk service
leaves exactly one record naming its actor, action and object; a bulk service one per object
it changed and one for the run. A service registered without a case here fails the walk.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import models, transaction
from django.utils import timezone

import npldesk.casework
from npldesk.casework import audit, services
from npldesk.casework.choices import LegalStage, Strategy
from npldesk.casework.errors import InvalidAction
from npldesk.casework.models import (
    AuditRecord,
    Case,
    Job,
    Milestone,
    Person,
    Recovery,
    ReminderDelivery,
    ReminderPack,
    Run,
    RunStep,
    Team,
    Unit,
)
from tests.casework.factories import TeamFactory, case_with_loan
from tests.casework.world import OPENED, World, at, build_world, propose_plan

D = Decimal


def _import_every_casework_module() -> None:
    """Register every service, wherever in casework it is defined."""
    for module in pkgutil.walk_packages(npldesk.casework.__path__, "npldesk.casework."):
        if ".migrations" not in module.name:
            importlib.import_module(module.name)


_import_every_casework_module()


@pytest.fixture
def world(units: dict[str, Unit]) -> World:
    return build_world(units)


@dataclass
class Call:
    """One valid call of a service: who acts, what is set up first, what the record says."""

    actor: Callable[[World], Person | None]
    run: Callable[[World, Person | None, Any], models.Model | Any]
    before: bool  # whether the record keeps the state before
    case: bool = True  # whether the record names the case
    # Set-up (through other services) done before the records are counted.
    prepare: Callable[[World], Any] = lambda world: None


def _legal_strategy(world: World) -> None:
    Case.objects.filter(pk=world.case.pk).update(strategy=Strategy.LITIGATION_ENFORCEMENT)
    world.case.refresh_from_db()


def _legal_case(world: World) -> Any:
    _legal_strategy(world)
    return services.legal_case_open(
        actor=world.legal, case=world.case, court="c", claim_amount=D(1), opened_on=OPENED
    )


def _recovery(world: World) -> Recovery:
    return services.recovery_enter(
        actor=world.officer,
        case=world.case,
        loan_id=world.loan_id,
        received_on=OPENED,
        amount=D("100.00"),
        source="borrower",
    )


def _repayment_plan(world: World) -> Any:
    return services.repayment_plan_agree(
        actor=world.officer,
        case=world.case,
        kind="settlement",
        agreed_on=OPENED,
        instalments=[(date(2020, 2, 1), D("10.00"))],
    )


def _writeoff(world: World, reviewed: bool = False) -> Any:
    writeoff = services.writeoff_prepare(
        actor=world.finance,
        case=world.case,
        loan_id=world.loan_id,
        principal=D(1),
        interest=D(0),
        prepared_on=OPENED,
        reason="r",
    )
    if reviewed:
        writeoff = services.writeoff_decide(
            actor=world.finance2, writeoff=writeoff, version=1, approve=True, note="", on=OPENED
        )
    return writeoff


def _package(world: World) -> Any:
    return services.transfer_prepare(
        actor=world.finance,
        code="P1",
        buyer="AMC",
        unit=world.units["HB"],
        cut_off_on=OPENED,
        price=D(1),
        loans=[(world.case, world.loan_id)],
    )


def _team(world: World) -> Team:
    team: Team = TeamFactory(leader=world.lead)
    return team


def _reopenable(world: World) -> Any:
    Case.objects.filter(pk=world.case.pk).update(closed_on=OPENED, close_reason="repaid")
    return world.case.household


def _milestone(world: World) -> Milestone:
    return Milestone.objects.get(plan=propose_plan(world, milestones=True))


def _token(world: World) -> Any:
    return services.api_token_create(actor=world.officer, person=world.officer, name="t").token


def _run(world: World) -> Run:
    return Run.objects.create(
        as_of=date(2020, 1, 31), parameters={}, started_at=timezone.now(), started_by=world.admin
    )


def _run_step(world: World) -> RunStep:
    return RunStep.objects.create(
        run=_run(world), name="sync", position=1, started_at=timezone.now()
    )


def _job(world: World) -> Job:
    return Job.objects.create(kind="judge", created_by=world.admin, created_at=timezone.now())


def _claimed_job(world: World) -> Job:
    return Job.objects.create(
        kind="judge",
        created_by=world.admin,
        created_at=timezone.now(),
        state="running",
        worker="w",
        attempts=1,
        lease_until=timezone.now() + timedelta(minutes=5),
    )


def _document_home(world: World) -> Any:
    """A home with the case's loan in the tape and the bank's legal details (set by an admin
    before the records are counted): a document can be drafted from the case."""
    import atexit
    import shutil
    import tempfile

    from npldesk.home import load_home
    from tests.casework.legaldocs_world import import_tape, legal_details

    folder = Path(tempfile.mkdtemp(prefix="npldesk-audit-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    import_tape(folder, world)
    legal_details(world)
    return load_home(folder, must_exist=False)


def _delivered(world: World) -> Any:
    """HB01's reminder pack delivered to the world's officer (test data, made directly)."""
    pack = ReminderPack.objects.create(
        unit=world.units["HB01"], as_of=OPENED, built_on=OPENED, built_at=timezone.now()
    )
    return ReminderDelivery.objects.create(
        pack=pack, person=world.officer, delivered_at=timezone.now()
    )


def lead(w: World) -> Person:
    return w.lead


def analyst(w: World) -> Person:
    return w.analyst


def officer(w: World) -> Person:
    return w.officer


def legal(w: World) -> Person:
    return w.legal


def admin(w: World) -> Person:
    return w.admin


CALLS: dict[str, Call] = {
    "reminder_pack_deliver": Call(
        analyst,
        lambda w, a, _: services.reminder_pack_deliver(
            actor=a,
            unit=w.units["HB01"],
            as_of=OPENED,
            built_on=OPENED,
            counts={"deadline_past": 0},
            sections={"deadline_past": []},
            people=[w.officer, w.lead],
        ),
        before=False,
        case=False,
    ),
    "reminder_pack_mailed": Call(
        analyst,
        lambda w, a, d: services.reminder_pack_mailed(
            actor=a, pack=d.pack, mailed={d.pk: "officer@bank.test"}
        ),
        before=False,
        case=False,
        prepare=_delivered,
    ),
    "reminder_delivery_read": Call(
        officer,
        lambda w, a, d: services.reminder_delivery_read(actor=a, delivery=d),
        before=False,
        case=False,
        prepare=_delivered,
    ),
    "reminder_delivery_acknowledge": Call(
        officer,
        lambda w, a, d: services.reminder_delivery_acknowledge(actor=a, delivery=d),
        before=True,
        case=False,
        prepare=_delivered,
    ),
    "job_enqueue": Call(
        admin,
        lambda w, a, _: services.job_enqueue(actor=a, kind="judge", parameters={}),
        before=False,
        case=False,
    ),
    "job_claim": Call(
        admin,
        lambda w, a, job: services.job_claim(actor=a, job=job, worker="w"),
        before=True,
        prepare=_job,
        case=False,
    ),
    "job_progress": Call(
        admin,
        lambda w, a, job: services.job_progress(
            actor=a, job=job, worker="w", text="half", fraction=0.5
        ),
        before=False,
        prepare=_claimed_job,
        case=False,
    ),
    "job_finish": Call(
        admin,
        lambda w, a, job: services.job_finish(actor=a, job=job, worker="w", result={"n": 1}),
        before=False,
        prepare=_claimed_job,
        case=False,
    ),
    "run_start": Call(
        admin,
        lambda w, a, _: services.run_start(actor=a, as_of=date(2020, 1, 31), parameters={}),
        before=False,
        case=False,
    ),
    "run_step_start": Call(
        admin,
        lambda w, a, run: services.run_step_start(actor=a, run=run, name="sync", position=1),
        before=False,
        prepare=_run,
        case=False,
    ),
    "run_step_finish": Call(
        admin,
        lambda w, a, step: services.run_step_finish(actor=a, step=step, counts={"opened": 1}),
        before=False,
        prepare=_run_step,
        case=False,
    ),
    "run_finish": Call(
        admin,
        lambda w, a, run: services.run_finish(actor=a, run=run),
        before=False,
        prepare=_run,
        case=False,
    ),
    "case_open": Call(
        lead,
        lambda w, a, household: services.case_open(
            actor=a, household=household, opened_on=date(2020, 2, 1), reason="r"
        ),
        before=False,
        prepare=_reopenable,
    ),
    "case_assign": Call(
        lead,
        lambda w, a, _: services.case_assign(
            actor=a, case=w.case, version=1, owner=w.officer2, team=None, reason="r"
        ),
        before=True,
    ),
    "case_override": Call(
        lead,
        lambda w, a, _: services.case_override(
            actor=a, case=w.case, version=1, reason="r", tier="long"
        ),
        before=True,
    ),
    "case_move": Call(
        officer,
        lambda w, a, _: services.case_move(
            actor=a, case=w.case, version=1, state="investigating", reason="r"
        ),
        before=True,
    ),
    "case_close": Call(
        lead,
        lambda w, a, _: services.case_close(
            actor=a, case=w.case, version=1, reason="settled", closed_on=OPENED, note="n"
        ),
        before=True,
    ),
    "investigation_record": Call(
        officer,
        lambda w, a, _: services.investigation_record(actor=a, case=w.case, investigated_on=OPENED),
        before=False,
    ),
    "activity_record": Call(
        officer,
        lambda w, a, _: services.activity_record(
            actor=a, case=w.case, kind="phone", occurred_at=at(OPENED), outcome="contacted"
        ),
        before=False,
    ),
    "conduct_exception_grant": Call(
        lead,
        lambda w, a, _: services.conduct_exception_grant(
            actor=a, case=w.case, starts_on=OPENED, days=7, reason="court order: visit at 07:30"
        ),
        before=False,
    ),
    "plan_propose": Call(
        officer,
        lambda w, a, _: services.plan_propose(
            actor=a,
            case=w.case,
            strategy=Strategy.WRITE_OFF,
            reason="r",
            target_amount=D(0),
            target_date=OPENED,
        ),
        before=False,
    ),
    "plan_decide": Call(
        lead,
        lambda w, a, plan: services.plan_decide(
            actor=a, plan=plan, version=1, approve=True, note="n"
        ),
        before=True,
        prepare=propose_plan,
    ),
    "milestone_complete": Call(
        officer,
        lambda w, a, milestone: services.milestone_complete(
            actor=a, milestone=milestone, done_on=OPENED
        ),
        before=True,
        prepare=_milestone,
    ),
    "repayment_plan_agree": Call(officer, lambda w, a, _: _repayment_plan(w), before=False),
    "repayment_plan_cancel": Call(
        lead,
        lambda w, a, plan: services.repayment_plan_cancel(
            actor=a, plan=plan, version=1, reason="r"
        ),
        before=True,
        prepare=_repayment_plan,
    ),
    "household_update_contact": Call(
        officer,
        lambda w, a, _: services.household_update_contact(
            actor=a, household=w.case.household, version=1, address="2 Synthetic Road"
        ),
        before=False,
    ),
    "document_generate": Call(
        officer,
        lambda w, a, home: services.document_generate(
            actor=a, case=w.case, kind="demand_notice", as_of=date(2020, 2, 15), home=home
        ),
        before=False,
        prepare=_document_home,
    ),
    "unit_legal_details_set": Call(
        admin,
        lambda w, a, _: services.unit_legal_details_set(
            actor=a,
            unit=w.units["HB01"],
            legal_name="濉溪县支行",
            address="濉溪路1号",
            legal_representative="赵六",
        ),
        before=False,
        case=False,
    ),
    "legal_case_open": Call(
        legal,
        lambda w, a, _: services.legal_case_open(
            actor=a, case=w.case, court="c", claim_amount=D(1), opened_on=OPENED
        ),
        before=False,
        prepare=_legal_strategy,
    ),
    "legal_case_advance": Call(
        legal,
        lambda w, a, legal_case: services.legal_case_advance(
            actor=a, legal_case=legal_case, version=1, stage=LegalStage.FILED, entered_on=OPENED
        ),
        before=True,
        prepare=_legal_case,
    ),
    "legal_case_add_costs": Call(
        legal,
        lambda w, a, legal_case: services.legal_case_add_costs(
            actor=a, legal_case=legal_case, version=1, amount=D(5), note="fee"
        ),
        before=True,
        prepare=_legal_case,
    ),
    "recovery_enter": Call(officer, lambda w, a, _: _recovery(w), before=False),
    "recovery_reverse": Call(
        lambda w: w.finance,
        lambda w, a, recovery: services.recovery_reverse(
            actor=a, recovery=recovery, reversed_on=OPENED, reason="bounced"
        ),
        before=False,
        prepare=_recovery,
    ),
    "recovery_confirm": Call(
        lambda w: w.finance,
        lambda w, a, recovery: services.recovery_confirm(actor=a, recovery=recovery).recovery,
        before=False,
        prepare=_recovery,
    ),
    "writeoff_prepare": Call(lambda w: w.finance, lambda w, a, _: _writeoff(w), before=False),
    "writeoff_decide": Call(
        lambda w: w.leader,
        lambda w, a, writeoff: services.writeoff_decide(
            actor=a, writeoff=writeoff, version=2, approve=True, note="n", on=OPENED
        ),
        before=True,
        prepare=lambda w: _writeoff(w, reviewed=True),
    ),
    "transfer_prepare": Call(
        lambda w: w.finance, lambda w, a, _: _package(w), before=False, case=False
    ),
    "transfer_approve": Call(
        lambda w: w.leader,
        lambda w, a, package: services.transfer_approve(
            actor=a, package=package, version=1, signed_on=OPENED, note="n"
        ),
        before=True,
        case=False,
        prepare=_package,
    ),
    "units_sync": Call(
        admin,
        lambda w, a, _: services.units_sync(actor=a, org_units=[{"code": "HB03", "parent": "HB"}]),
        before=False,
        case=False,
    ),
    "person_create": Call(
        admin,
        lambda w, a, _: services.person_create(
            actor=a,
            username="new.person",
            name="New",
            roles=["officer"],
            unit_codes=["HB01"],
            password="long-enough-password",
        ),
        before=False,
        case=False,
    ),
    "person_update": Call(
        admin,
        lambda w, a, _: services.person_update(actor=a, person=w.officer2, version=1, active=False),
        before=True,
        case=False,
    ),
    "team_create": Call(
        admin,
        lambda w, a, _: services.team_create(
            actor=a, code="TF", name="TF", kind="task_force", leader=w.lead, active_from=OPENED
        ),
        before=False,
        case=False,
    ),
    "team_set_members": Call(
        lead,
        lambda w, a, team: services.team_set_members(
            actor=a, team=team, version=1, members=[w.officer]
        ),
        before=True,
        case=False,
        prepare=_team,
    ),
    "api_token_create": Call(
        officer,
        lambda w, a, _: services.api_token_create(actor=a, person=a, name="laptop"),
        before=False,
        case=False,
    ),
    "api_token_revoke": Call(
        admin,
        lambda w, a, token: services.api_token_revoke(actor=a, token=token),
        before=False,
        case=False,
        prepare=_token,
    ),
}

# Bulk services: tested below, or in the module named (which must exist).
BULK_TESTED_HERE = {"case_reassign_bulk", "cases_judge"}
BULK_TESTED_ELSEWHERE = {"cases_sync": "tests/casework/test_sync.py"}


def test_every_registered_service_has_a_case_in_the_walk() -> None:
    assert set(services.__all__) <= set(audit.SERVICES)
    single = {name for name, info in audit.SERVICES.items() if not info.bulk}
    bulk = {name for name, info in audit.SERVICES.items() if info.bulk}
    assert single - set(CALLS) == set(), "a service without an audit case: add it to CALLS"
    assert set(CALLS) - single == set(), "CALLS names a service that is gone or became bulk"
    missing_bulk = bulk - BULK_TESTED_HERE - set(BULK_TESTED_ELSEWHERE)
    assert missing_bulk == set(), "a bulk service nobody tests for its audit records"
    root = Path(__file__).resolve().parents[2]
    for name, module in BULK_TESTED_ELSEWHERE.items():
        if name in bulk:
            assert (root / module).is_file(), f"{name}'s audit test {module} is missing"


def test_every_action_has_words_for_people() -> None:
    """The case page's history names each action in the page's language (``AuditAction``)."""
    from npldesk.casework.choices import AuditAction

    bulk = {f"{name}_run" for name, info in audit.SERVICES.items() if info.bulk}
    assert set(audit.SERVICES) | bulk | {"cases_sync"} <= set(AuditAction.values)


def _ledger() -> list[tuple[Any, ...]]:
    return [tuple(row.values()) for row in Recovery.objects.order_by("pk").values()]


@pytest.mark.parametrize("name", sorted(CALLS))
def test_a_service_writes_exactly_one_audit_record(name: str, world: World) -> None:
    call = CALLS[name]
    actor = call.actor(world)
    prepared = call.prepare(world)
    earlier = set(AuditRecord.objects.values_list("pk", flat=True))
    ledger_before = _ledger()
    result = call.run(world, actor, prepared)
    new = list(AuditRecord.objects.exclude(pk__in=earlier))
    assert len(new) == 1, f"{name} wrote {len(new)} audit records"
    record = new[0]
    assert record.action == name
    assert actor is not None
    assert record.actor_id == actor.pk
    assert record.actor_name == actor.user.get_username()
    assert record.after is not None
    assert (record.before is not None) == call.before, f"{name}: before {record.before!r}"
    if isinstance(result, models.Model):
        assert record.object_type == result._meta.model_name
        expected_id = result.number if isinstance(result, Case) else str(result.pk)
        assert record.object_id == expected_id
    assert (record.case_id is not None) == call.case
    # No service edits or deletes a ledger entry: what was there is still there, unchanged.
    assert _ledger()[: len(ledger_before)] == ledger_before


def test_each_walked_call_writes_one_record_and_no_more(world: World) -> None:
    """The record count of one call, measured without any set-up in between."""
    marker = AuditRecord.objects.count()
    services.case_assign(
        actor=world.lead, case=world.case, version=1, owner=world.officer2, team=None, reason="r"
    )
    assert AuditRecord.objects.count() == marker + 1
    record = AuditRecord.objects.get()
    assert record.before == {"owner_id": world.officer.pk, "team_id": None}
    assert record.after == {"owner_id": world.officer2.pk, "team_id": None}
    assert (record.object_type, record.object_id, record.reason) == ("case", world.case.number, "r")


def test_a_failed_service_leaves_no_record_and_no_change(world: World) -> None:
    with pytest.raises(InvalidAction):
        services.case_close(
            actor=world.lead, case=world.case, version=1, reason="bored", closed_on=OPENED, note=""
        )
    assert not AuditRecord.objects.exists()
    assert world.fresh().version == 1


def test_a_service_never_calls_another(world: World) -> None:
    @audit.service()
    def nested_probe(*, actor: Person) -> None:
        services.case_move(
            actor=actor, case=world.case, version=1, state="investigating", reason=""
        )

    with pytest.raises(RuntimeError, match="never calls another service"):
        nested_probe(actor=world.lead)
    audit.SERVICES.pop("nested_probe")


def test_a_service_without_its_record_is_rolled_back(world: World) -> None:
    @audit.service()
    def silent_probe(*, actor: Person, case: Case) -> None:
        Case.objects.filter(pk=case.pk).update(state="investigating")

    with pytest.raises(RuntimeError, match="wrote 0 audit records, not one"):
        silent_probe(actor=world.lead, case=world.case)
    audit.SERVICES.pop("silent_probe")
    assert world.fresh().state == "opened"


def test_records_are_written_by_services_only(world: World) -> None:
    with pytest.raises(RuntimeError, match="by services only"):
        audit.record(actor=world.lead, action="x", object_type="x", object_id="1")


def test_audit_records_are_never_edited(world: World) -> None:
    services.case_move(
        actor=world.officer, case=world.case, version=1, state="investigating", reason=""
    )
    record = AuditRecord.objects.get()
    record.reason = "rewritten"
    with pytest.raises(PermissionError, match="never edited"):
        record.save()


# -- bulk services ------------------------------------------------------------------------


def test_bulk_reassignment_writes_one_record_per_changed_case_and_one_for_the_run(
    world: World,
) -> None:
    others = [case_with_loan(world.units["HB0101"], owner=world.officer) for _ in range(2)]
    unchanged = case_with_loan(world.units["HB0101"], owner=world.officer2)
    services.case_reassign_bulk(
        actor=world.lead,
        cases=[world.case, *others, unchanged],
        owner=world.officer2,
        team=None,
        reason="rebalance",
    )
    per_case = AuditRecord.objects.filter(action="case_reassign_bulk")
    assert sorted(per_case.values_list("case_id", flat=True)) == sorted(
        c.pk for c in [world.case, *others]
    )
    assert all(r.before == {"owner_id": world.officer.pk, "team_id": None} for r in per_case)
    assert all(r.actor_id == world.lead.pk for r in per_case)
    run = AuditRecord.objects.get(action="case_reassign_bulk_run")
    assert run.after is not None
    assert (run.after["cases"], run.after["changed"]) == (4, 3)
    assert AuditRecord.objects.count() == 4


def test_cases_judge_writes_one_record_per_moved_case_and_one_for_the_run(world: World) -> None:
    moving = case_with_loan(world.units["HB0101"])
    for case in (world.case, moving):
        Case.objects.filter(pk=case.pk).update(strategy=Strategy.WRITE_OFF)
    Case.objects.filter(pk=moving.pk).update(closed_on=OPENED, close_reason="repaid")
    services.cases_judge(actor=world.analyst, today=date(2020, 1, 15))
    per_case = list(AuditRecord.objects.filter(action="cases_judge"))
    assert [r.case_id for r in per_case] == [world.case.pk]  # the closed case is left alone
    assert per_case[0].after == {"strategy": Strategy.INVESTIGATE}
    run = AuditRecord.objects.get(action="cases_judge_run")
    assert run.after == {"changed": 1}
    assert run.actor_id == world.analyst.pk
    # Nothing moved on a second run: only the run's record.
    services.cases_judge(actor=world.analyst, today=date(2020, 1, 15))
    assert AuditRecord.objects.filter(action="cases_judge").count() == 1
    assert AuditRecord.objects.filter(action="cases_judge_run").count() == 2


# -- the append-only ledger --------------------------------------------------------------


def test_a_ledger_entry_cannot_be_edited_or_deleted_through_the_model(world: World) -> None:
    entry = _recovery(world)
    entry.amount = D("1.00")
    with pytest.raises(PermissionError, match="append-only"):
        entry.save()
    with pytest.raises(PermissionError, match="append-only"):
        entry.save(update_fields=["amount"])
    with pytest.raises(PermissionError, match="append-only"):
        entry.delete()
    with pytest.raises(PermissionError, match="append-only"):
        Recovery.objects.filter(pk=entry.pk).update(amount=D("1.00"))
    with pytest.raises(PermissionError, match="append-only"):
        Recovery.objects.filter(pk=entry.pk).delete()
    with pytest.raises(PermissionError, match="append-only"):
        world.case.recoveries.update(amount=D("1.00"))
    with pytest.raises(PermissionError, match="append-only"), transaction.atomic():
        Recovery.objects.bulk_update([entry], ["amount"])
    assert Recovery.objects.get().amount == D("100.00")


def test_a_correction_is_a_linked_negative_reversal_entered_once(world: World) -> None:
    entry = _recovery(world)
    reversal = services.recovery_reverse(
        actor=world.finance, recovery=entry, reversed_on=date(2020, 1, 2), reason="bounced"
    )
    assert (reversal.amount, reversal.principal_part) == (D("-100.00"), D("-100.00"))
    assert reversal.reverses_id == entry.pk
    assert (reversal.loan_id, reversal.source) == (entry.loan_id, entry.source)
    assert Recovery.objects.count() == 2
    with pytest.raises(InvalidAction, match="already reversed"):
        services.recovery_reverse(
            actor=world.finance, recovery=entry, reversed_on=date(2020, 1, 3), reason="again"
        )
    with pytest.raises(InvalidAction, match="a reversal is not reversed"):
        services.recovery_reverse(
            actor=world.finance, recovery=reversal, reversed_on=date(2020, 1, 3), reason="undo"
        )
    with pytest.raises(InvalidAction, match="needs a reason"):
        services.recovery_reverse(
            actor=world.finance, recovery=_recovery(world), reversed_on=OPENED, reason=" "
        )
    assert Recovery.objects.count() == 3
