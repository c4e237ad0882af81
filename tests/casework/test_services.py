"""Casework services: what each one changes, what it refuses and with which message."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from npldesk.casework import services
from npldesk.casework.choices import (
    Ability,
    CaseState,
    InstalmentState,
    LegalStage,
    PlanState,
    PromiseState,
    RepaymentPlanState,
    Strategy,
    Tier,
    TransferState,
    Willingness,
    WriteOffState,
)
from npldesk.casework.errors import AccessDenied, Conflict, InvalidAction
from npldesk.casework.models import (
    AuditRecord,
    Case,
    Household,
    Instalment,
    LegalCase,
    LegalStageEntry,
    Milestone,
    Person,
    Plan,
    Promise,
    Recovery,
    RepaymentPlan,
    Team,
    Unit,
    WriteOffDecision,
)
from npldesk.casework.selectors import system_actor
from tests.casework.factories import HouseholdFactory, TeamFactory, case_with_loan
from tests.casework.world import OPENED, World, at, build_world, person, propose_plan, settle

D = Decimal


@pytest.fixture
def world(units: dict[str, Unit]) -> World:
    return build_world(units)


# -- cases ----------------------------------------------------------------------------------


def test_case_open_by_hand_derives_strategy_and_links_the_earlier_case(world: World) -> None:
    household = world.case.household
    Case.objects.filter(pk=world.case.pk).update(closed_on=OPENED, close_reason="repaid")
    case = services.case_open(
        actor=world.lead, household=household, opened_on=date(2020, 6, 30), reason="turned NPL"
    )
    assert case.number == f"{household.borrower_id}-2"
    assert case.previous_case_id == world.case.pk
    assert (case.strategy, case.tier, case.deadline) == (
        Strategy.INVESTIGATE,
        Tier.SHORT,
        date(2020, 9, 30),
    )


def test_case_open_refuses_a_second_open_case(world: World) -> None:
    with pytest.raises(InvalidAction, match="already has an open case"):
        services.case_open(
            actor=world.lead, household=world.case.household, opened_on=OPENED, reason="x"
        )


def test_case_open_refuses_a_household_outside_the_leads_units(world: World) -> None:
    household = HouseholdFactory(unit=world.units["HB0201"])
    with pytest.raises(AccessDenied, match="outside their units"):
        services.case_open(actor=world.lead, household=household, opened_on=OPENED, reason="x")
    with pytest.raises(AccessDenied, match="may not manage case"):
        services.case_open(actor=world.officer, household=household, opened_on=OPENED, reason="x")


def test_case_assign_changes_owner_and_version(world: World) -> None:
    case = services.case_assign(
        actor=world.lead,
        case=world.case,
        version=1,
        owner=world.officer2,
        team=None,
        reason="rebalance",
    )
    assert (case.owner_id, case.version) == (world.officer2.pk, 2)
    with pytest.raises(Conflict, match="version 1, it is now at version 2"):
        services.case_assign(
            actor=world.lead, case=case, version=1, owner=world.officer, team=None, reason="x"
        )


def test_case_assign_refuses_an_inactive_owner_and_an_officer(world: World) -> None:
    Person.objects.filter(pk=world.officer2.pk).update(active=False)
    world.officer2.refresh_from_db()
    with pytest.raises(InvalidAction, match="inactive"):
        services.case_assign(
            actor=world.lead, case=world.case, version=1, owner=world.officer2, team=None, reason=""
        )
    with pytest.raises(AccessDenied):
        services.case_assign(
            actor=world.officer,
            case=world.case,
            version=1,
            owner=world.officer,
            team=None,
            reason="",
        )


def test_case_reassign_bulk_changes_only_what_moves(world: World) -> None:
    other = case_with_loan(world.units["HB0101"], owner=world.officer2)
    team: Team = TeamFactory(leader=world.lead)
    changed = services.case_reassign_bulk(
        actor=world.lead, cases=[world.case, other], owner=world.officer2, team=None, reason="r"
    )
    assert changed == 1
    assert world.fresh().owner_id == world.officer2.pk
    assert Case.objects.get(pk=other.pk).version == 1
    services.case_reassign_bulk(
        actor=world.lead,
        cases=list(Case.objects.filter(pk__in=[world.case.pk, other.pk])),
        owner=world.officer2,
        team=team,
        reason="to the team",
    )
    assert set(Case.objects.values_list("team_id", flat=True)) == {team.pk}
    with pytest.raises(InvalidAction, match="no cases"):
        services.case_reassign_bulk(actor=world.lead, cases=[], owner=None, team=None, reason="")


def test_case_reassign_bulk_fails_whole_on_a_stale_case(world: World) -> None:
    other = case_with_loan(world.units["HB0101"], owner=world.officer)
    stale = Case.objects.get(pk=other.pk)
    Case.objects.filter(pk=other.pk).update(version=5)
    with pytest.raises(Conflict):
        services.case_reassign_bulk(
            actor=world.lead, cases=[world.case, stale], owner=world.officer2, team=None, reason=""
        )
    assert world.fresh().owner_id == world.officer.pk  # the first case's change rolled back
    assert not AuditRecord.objects.exists()


def test_case_override_sets_overridden_and_the_rules_leave_it_alone(world: World) -> None:
    case = services.case_override(
        actor=world.lead,
        case=world.case,
        version=1,
        reason="the household sells its shop next month",
        ability=Ability.ABLE,
        strategy=Strategy.WRITE_OFF,
    )
    assert sorted(case.overridden) == ["ability", "strategy"]
    assert (case.ability, case.strategy) == (Ability.ABLE, Strategy.WRITE_OFF)
    # Tier and deadline were not set: proposed from the (overridden) segment.
    assert case.tier == Tier.SHORT
    assert case.deadline == date(2020, 3, 31)
    # An investigation showing no means and three failed calls: ability and strategy stay.
    services.investigation_record(
        actor=world.officer, case=case, investigated_on=date(2020, 3, 1), monthly_income=D(0)
    )
    for day in (2, 3, 4):
        services.activity_record(
            actor=world.officer,
            case=case,
            kind="phone",
            occurred_at=at(date(2020, 3, day)),
            outcome="no_answer",
        )
    case = world.fresh()
    assert (case.ability, case.strategy) == (Ability.ABLE, Strategy.WRITE_OFF)
    assert case.willingness == Willingness.UNREACHABLE  # not overridden: derived
    assert case.tier == Tier.LONG  # proposed for able × unreachable


def test_case_override_refuses_without_reason_or_with_unknown_values(world: World) -> None:
    with pytest.raises(InvalidAction, match="needs a reason"):
        services.case_override(
            actor=world.lead, case=world.case, version=1, reason=" ", tier="long"
        )
    with pytest.raises(InvalidAction, match="nothing to override"):
        services.case_override(actor=world.lead, case=world.case, version=1, reason="r")
    with pytest.raises(InvalidAction, match="unknown tier 'eternal'"):
        services.case_override(
            actor=world.lead, case=world.case, version=1, reason="r", tier="eternal"
        )


def test_case_override_of_the_deadline_sticks(world: World) -> None:
    case = services.case_override(
        actor=world.lead, case=world.case, version=1, reason="court date", deadline=date(2021, 1, 1)
    )
    case = services.case_override(
        actor=world.lead, case=case, version=2, reason="bigger job", tier=Tier.LONG
    )
    assert (case.tier, case.deadline) == (Tier.LONG, date(2021, 1, 1))


def test_case_move_follows_the_case_life(world: World) -> None:
    case = services.case_move(
        actor=world.officer, case=world.case, version=1, state=CaseState.INVESTIGATING, reason=""
    )
    assert (case.state, case.version) == (CaseState.INVESTIGATING, 2)
    with pytest.raises(InvalidAction, match="cannot move from investigating to resolved"):
        services.case_move(
            actor=world.officer, case=case, version=2, state=CaseState.RESOLVED, reason=""
        )
    services.case_move(
        actor=world.officer, case=case, version=2, state=CaseState.PLAN_PROPOSED, reason=""
    )
    with pytest.raises(InvalidAction, match="plan_decide"):
        services.case_move(
            actor=world.officer, case=case, version=3, state=CaseState.PLAN_APPROVED, reason=""
        )


def test_case_close_by_hand(world: World) -> None:
    case = services.case_close(
        actor=world.lead,
        case=world.case,
        version=1,
        reason="settled",
        closed_on=date(2020, 5, 1),
        note="settlement paid",
    )
    assert (case.state, case.closed_on, case.close_reason) == (
        CaseState.RESOLVED,
        date(2020, 5, 1),
        "settled",
    )
    with pytest.raises(InvalidAction, match="is closed"):
        services.case_assign(
            actor=world.lead, case=case, version=2, owner=None, team=None, reason=""
        )


def test_case_close_refusals(world: World) -> None:
    with pytest.raises(InvalidAction, match="unknown close reason 'bored'"):
        services.case_close(
            actor=world.lead, case=world.case, version=1, reason="bored", closed_on=OPENED, note=""
        )
    with pytest.raises(InvalidAction, match="a closing dated 2019-01-01 is before case"):
        services.case_close(
            actor=world.lead,
            case=world.case,
            version=1,
            reason="settled",
            closed_on=date(2019, 1, 1),
            note="",
        )
    Case.objects.filter(pk=world.case.pk).update(strategy=Strategy.LITIGATION_ENFORCEMENT)
    world.case.refresh_from_db()
    services.legal_case_open(
        actor=world.legal, case=world.case, court="Xiangshan", claim_amount=D(1), opened_on=OPENED
    )
    with pytest.raises(InvalidAction, match="open legal case"):
        settle(world, on=OPENED)


# -- work -----------------------------------------------------------------------------------


def test_investigation_derives_ability_and_moves_the_case(world: World) -> None:
    investigation = services.investigation_record(
        actor=world.officer,
        case=world.case,
        investigated_on=date(2020, 1, 10),
        monthly_income=D("2000.00"),
        properties=[{"type": "flat", "estimated_value": "50000", "encumbrances": "40000"}],
        deposits=D("1000.00"),
    )
    assert investigation.unencumbered_assets == D("11000.00")
    case = world.fresh()
    # 24 000 + 11 000 = 35 % of 100 000: partly able, willing → repayment plan, medium.
    assert (case.ability, case.state) == (Ability.PARTLY_ABLE, CaseState.INVESTIGATING)
    assert (case.strategy, case.tier, case.deadline) == (
        Strategy.REPAYMENT_PLAN,
        Tier.MEDIUM,
        date(2020, 12, 31),
    )
    with pytest.raises(InvalidAction, match="cannot be negative"):
        services.investigation_record(
            actor=world.officer, case=world.case, investigated_on=OPENED, deposits=D("-1")
        )


def test_activity_with_a_promise_and_its_judgement(world: World) -> None:
    services.activity_record(
        actor=world.officer,
        case=world.case,
        kind="phone",
        occurred_at=at(date(2020, 1, 5)),
        outcome="promise",
        promise_amount=D("5000.00"),
        promise_due_on=date(2020, 1, 20),
    )
    promise = Promise.objects.get()
    assert promise.state == PromiseState.PENDING
    assert world.fresh().next_promise_due == date(2020, 1, 20)
    # A payment inside the grace, short of the amount by less than the tolerance (50).
    services.recovery_enter(
        actor=world.officer,
        case=world.case,
        loan_id=world.loan_id,
        received_on=date(2020, 1, 23),
        amount=D("4960.00"),
        source="borrower",
    )
    promise.refresh_from_db()
    assert (promise.state, promise.paid) == (PromiseState.KEPT, D("4960.00"))


def test_two_broken_promises_make_the_household_unwilling(world: World) -> None:
    for made, due in ((date(2020, 1, 5), date(2020, 1, 10)), (date(2020, 1, 6), date(2020, 1, 12))):
        services.activity_record(
            actor=world.officer,
            case=world.case,
            kind="visit",
            occurred_at=at(made),
            outcome="promise",
            promise_amount=D("100.00"),
            promise_due_on=due,
        )
    services.cases_judge(actor=system_actor(), today=date(2020, 1, 16))
    case = world.fresh()
    assert (case.broken_promises, case.willingness) == (2, Willingness.UNWILLING)
    # the promises turning broken are in the audit trail, with the segment they moved
    (record,) = AuditRecord.objects.filter(action="cases_judge")
    promises = {str(p.pk): PromiseState.BROKEN for p in Promise.objects.all()}
    assert record.after["promises"] == promises
    assert record.after["willingness"] == Willingness.UNWILLING


def test_activity_refusals(world: World) -> None:
    base = {"actor": world.officer, "case": world.case, "occurred_at": at(OPENED)}
    with pytest.raises(InvalidAction, match="unknown activity kind 'carrier_pigeon'"):
        services.activity_record(**base, kind="carrier_pigeon", outcome="contacted")
    with pytest.raises(InvalidAction, match="unknown outcome"):
        services.activity_record(**base, kind="phone", outcome="maybe")
    with pytest.raises(InvalidAction, match="needs a promised amount and due date"):
        services.activity_record(**base, kind="phone", outcome="promise")
    with pytest.raises(InvalidAction, match="on or after the day it is made"):
        services.activity_record(
            **base,
            kind="phone",
            outcome="promise",
            promise_amount=D(1),
            promise_due_on=OPENED - timedelta(days=1),
        )
    with pytest.raises(InvalidAction, match="more than zero"):
        services.activity_record(
            **base, kind="phone", outcome="promise", promise_amount=D(0), promise_due_on=OPENED
        )
    assert not AuditRecord.objects.exists()


def test_plan_approval_by_another_person_sets_the_strategy(world: World) -> None:
    plan = services.plan_propose(
        actor=world.officer,
        case=world.case,
        strategy=Strategy.REPAYMENT_PLAN,
        reason="income recovers in spring",
        target_amount=D("80000.00"),
        target_date=date(2020, 12, 31),
        milestones=[("agree instalments", world.officer, date(2020, 2, 1))],
    )
    case = world.fresh()
    assert case.state == CaseState.PLAN_PROPOSED
    version = case.version
    plan = services.plan_decide(actor=world.lead, plan=plan, version=1, approve=True, note="ok")
    case = world.fresh()
    assert plan.state == PlanState.APPROVED
    assert (case.strategy, case.state) == (Strategy.REPAYMENT_PLAN, CaseState.PLAN_APPROVED)
    assert "strategy" in case.overridden
    assert case.version == version + 1
    assert [d.decision for d in plan.decisions.all()] == [PlanState.PROPOSED, PlanState.APPROVED]
    # The rules no longer move the approved strategy.
    services.activity_record(
        actor=world.officer,
        case=case,
        kind="phone",
        occurred_at=at(date(2020, 2, 1)),
        outcome="refusal",
    )
    case = world.fresh()
    assert (case.strategy, case.state) == (Strategy.REPAYMENT_PLAN, CaseState.IN_PROGRESS)


def test_plan_is_decided_by_someone_other_than_its_proposer(world: World) -> None:
    plan = services.plan_propose(
        actor=world.lead,
        case=world.case,
        strategy=Strategy.WRITE_OFF,
        reason="nothing left",
        target_amount=D(0),
        target_date=date(2020, 12, 31),
    )
    with pytest.raises(InvalidAction, match="someone other than who proposed it"):
        services.plan_decide(actor=world.lead, plan=plan, version=1, approve=True, note="")
    with pytest.raises(AccessDenied):
        services.plan_decide(actor=world.officer, plan=plan, version=1, approve=True, note="")
    plan = services.plan_decide(actor=world.lead2, plan=plan, version=1, approve=False, note="no")
    assert plan.state == PlanState.REJECTED
    assert world.fresh().state == CaseState.INVESTIGATING
    with pytest.raises(InvalidAction, match="is rejected, not proposed"):
        services.plan_decide(actor=world.lead2, plan=plan, version=2, approve=True, note="")


def test_an_approved_write_off_plan_is_long_and_leaves_a_case_in_court_in_court(
    world: World,
) -> None:
    Case.objects.filter(pk=world.case.pk).update(state=CaseState.ESCALATED)
    plan = services.plan_propose(
        actor=world.officer,
        case=world.fresh(),
        strategy=Strategy.WRITE_OFF,
        reason="enforcement terminated, nothing left to recover on the books",
        target_amount=D(0),
        target_date=date(2022, 12, 31),
    )
    services.plan_decide(actor=world.lead, plan=plan, version=1, approve=True, note="agreed")
    case = world.fresh()
    assert (case.strategy, case.tier, case.state) == (
        Strategy.WRITE_OFF,
        "long",
        CaseState.ESCALATED,
    )
    assert case.deadline == date(case.opened_on.year + 3, case.opened_on.month, case.opened_on.day)


def test_a_new_proposal_supersedes_the_open_one(world: World) -> None:
    args = {
        "actor": world.officer,
        "case": world.case,
        "reason": "r",
        "target_amount": D(1),
        "target_date": OPENED,
    }
    first = services.plan_propose(**args, strategy=Strategy.REPAYMENT_PLAN)
    services.plan_propose(**args, strategy=Strategy.WRITE_OFF)
    assert Plan.objects.get(pk=first.pk).state == PlanState.SUPERSEDED
    with pytest.raises(InvalidAction, match="unknown strategy"):
        services.plan_propose(**args, strategy="hope")
    with pytest.raises(InvalidAction, match="cannot be negative"):
        services.plan_propose(**{**args, "target_amount": D(-1)}, strategy=Strategy.WRITE_OFF)


def test_a_stale_case_edit_fails_after_a_plan_decision(world: World) -> None:
    plan = propose_plan(world)
    stale = world.fresh()
    services.plan_decide(actor=world.lead, plan=plan, version=1, approve=True, note="")
    with pytest.raises(Conflict):
        services.case_move(
            actor=world.lead,
            case=stale,
            version=stale.version,
            state=CaseState.INVESTIGATING,
            reason="",
        )


def test_milestone_complete_once(world: World) -> None:
    plan = propose_plan(world, milestones=True)
    milestone = Milestone.objects.get(plan=plan)
    services.milestone_complete(actor=world.officer, milestone=milestone, done_on=OPENED)
    assert Milestone.objects.get().done_on == OPENED
    with pytest.raises(InvalidAction, match="already done"):
        services.milestone_complete(actor=world.officer, milestone=milestone, done_on=OPENED)


def test_milestone_of_a_closed_case_cannot_be_completed(world: World) -> None:
    plan = propose_plan(world, milestones=True)
    settle(world, on=OPENED)
    with pytest.raises(InvalidAction, match="is closed"):
        services.milestone_complete(
            actor=world.officer, milestone=Milestone.objects.get(plan=plan), done_on=OPENED
        )
    assert Milestone.objects.get().done_on is None


def agree(world: World, *dues: tuple[date, str]) -> RepaymentPlan:
    return services.repayment_plan_agree(
        actor=world.officer,
        case=world.case,
        kind="settlement",
        agreed_on=date(2020, 1, 1),
        instalments=[(due, D(amount)) for due, amount in dues],
        discount=D("20000.00"),
    )


def test_repayment_plan_breached_after_thirty_days_late(world: World) -> None:
    plan = agree(world, (date(2020, 2, 1), "1000.00"), (date(2020, 3, 1), "1000.00"))
    assert plan.total == D("2000.00")
    assert world.fresh().next_instalment_due == date(2020, 2, 1)
    services.recovery_enter(
        actor=world.officer,
        case=world.case,
        loan_id=world.loan_id,
        received_on=date(2020, 2, 1),
        amount=D("1000.00"),
        source="borrower",
    )
    first, second = Instalment.objects.order_by("number")
    assert (first.state, first.paid_on) == (InstalmentState.PAID, date(2020, 2, 1))
    services.cases_judge(actor=system_actor(), today=date(2020, 3, 31))  # 30 days late: not yet
    second.refresh_from_db()
    assert second.state == InstalmentState.LATE
    assert RepaymentPlan.objects.get().state == RepaymentPlanState.ACTIVE
    services.cases_judge(actor=system_actor(), today=date(2020, 4, 1))  # 31 days late
    second.refresh_from_db()
    assert second.state == InstalmentState.BREACHED
    assert RepaymentPlan.objects.get().state == RepaymentPlanState.BREACHED
    assert world.fresh().plan_breached
    breached = AuditRecord.objects.filter(action="cases_judge").last()
    assert breached is not None
    assert breached.after["repayment_plans"] == {str(plan.pk): RepaymentPlanState.BREACHED}
    assert breached.after["instalments"] == {str(second.pk): InstalmentState.BREACHED}


def test_cancelling_a_breached_plan_clears_the_case_signals(world: World) -> None:
    plan = agree(world, (date(2020, 2, 1), "1000.00"), (date(2020, 3, 1), "1000.00"))
    services.cases_judge(actor=system_actor(), today=date(2020, 4, 1))
    assert world.fresh().plan_breached
    services.repayment_plan_cancel(
        actor=world.lead,
        plan=RepaymentPlan.objects.get(pk=plan.pk),
        version=RepaymentPlan.objects.get(pk=plan.pk).version,
        reason="replaced by a settlement",
        cancelled_on=date(2020, 4, 2),
    )
    case = world.fresh()
    assert not case.plan_breached
    assert case.next_instalment_due is None
    record = AuditRecord.objects.filter(action="repayment_plan_cancel").get()
    assert record.after["state"] == RepaymentPlanState.CANCELLED


def test_repayment_plan_completed_when_every_instalment_is_paid(world: World) -> None:
    agree(world, (date(2020, 2, 1), "1000.00"))
    services.recovery_enter(
        actor=world.officer,
        case=world.case,
        loan_id=world.loan_id,
        received_on=date(2020, 1, 15),
        amount=D("995.00"),
        source="guarantor",
    )
    assert RepaymentPlan.objects.get().state == RepaymentPlanState.COMPLETED


def test_repayment_plan_refusals_and_cancel(world: World) -> None:
    with pytest.raises(InvalidAction, match="at least one instalment"):
        agree(world)
    with pytest.raises(InvalidAction, match="in order"):
        agree(world, (date(2020, 3, 1), "1"), (date(2020, 2, 1), "1"))
    with pytest.raises(InvalidAction, match="after the agreement"):
        agree(world, (date(2019, 12, 1), "1"))
    with pytest.raises(InvalidAction, match="instalment 2 must be more than zero"):
        agree(world, (date(2020, 2, 1), "1"), (date(2020, 3, 1), "0"))
    plan = agree(world, (date(2020, 2, 1), "1000.00"))
    with pytest.raises(InvalidAction, match="already has an active repayment plan"):
        agree(world, (date(2020, 2, 1), "1000.00"))
    with pytest.raises(AccessDenied):
        services.repayment_plan_cancel(actor=world.officer, plan=plan, version=1, reason="")
    plan = services.repayment_plan_cancel(actor=world.lead, plan=plan, version=1, reason="moved")
    assert plan.state == RepaymentPlanState.CANCELLED
    with pytest.raises(InvalidAction, match="is cancelled"):
        services.repayment_plan_cancel(actor=world.lead, plan=plan, version=2, reason="")
    agree(world, (date(2020, 2, 1), "1000.00"))  # a new plan once the old one is cancelled


def test_household_contact_update(world: World) -> None:
    household = world.case.household
    services.household_update_contact(
        actor=world.officer, household=household, version=1, phones="13900000000"
    )
    assert Household.objects.get(pk=household.pk).phones == "13900000000"
    record = AuditRecord.objects.get()
    assert record.after == {"changed": ["phones"]}
    assert "13900000000" not in str(record.before) + str(record.after)
    with pytest.raises(InvalidAction, match="nothing to change"):
        services.household_update_contact(actor=world.officer, household=household, version=2)
    with pytest.raises(AccessDenied):
        services.household_update_contact(
            actor=world.outsider, household=household, version=2, phones="1"
        )


# -- legal ----------------------------------------------------------------------------------


def legal_world(world: World) -> LegalCase:
    Case.objects.filter(pk=world.case.pk).update(strategy=Strategy.LAWYERS_LETTER_LITIGATION)
    world.case.refresh_from_db()
    return services.legal_case_open(
        actor=world.legal,
        case=world.case,
        court="Xiangshan District Court",
        claim_amount=D("100000.00"),
        opened_on=date(2020, 2, 1),
        limitation_date=date(2022, 2, 1),
    )


def test_legal_case_open_escalates_the_case(world: World) -> None:
    version = world.fresh().version
    legal_case = legal_world(world)
    case = world.fresh()
    assert (case.state, case.version) == (CaseState.ESCALATED, version + 1)
    assert legal_case.stage == LegalStage.PREPARING
    assert case.legal_alert_on == date(2020, 5, 1)  # 90 days without progress


def test_legal_case_open_refusals(world: World) -> None:
    with pytest.raises(AccessDenied, match="may not work legal"):
        services.legal_case_open(
            actor=world.legal, case=world.case, court="c", claim_amount=D(1), opened_on=OPENED
        )
    Case.objects.filter(pk=world.case.pk).update(strategy=Strategy.LITIGATION_ENFORCEMENT)
    world.case.refresh_from_db()
    with pytest.raises(InvalidAction, match="more than zero"):
        services.legal_case_open(
            actor=world.legal, case=world.case, court="c", claim_amount=D(0), opened_on=OPENED
        )
    with pytest.raises(InvalidAction, match="member of the legal desk"):
        services.legal_case_open(
            actor=world.legal,
            case=world.case,
            court="c",
            claim_amount=D(1),
            opened_on=OPENED,
            holder=world.officer,
        )


def test_legal_stage_moves_forward_only(world: World) -> None:
    legal_case = legal_world(world)
    legal_case = services.legal_case_advance(
        actor=world.legal,
        legal_case=legal_case,
        version=1,
        stage=LegalStage.HEARING,  # skips lawyer's letter and filing
        entered_on=date(2020, 3, 1),
        court_case_number="(2020)皖0603民初1号",
        next_hearing_on=date(2020, 4, 1),
    )
    assert (legal_case.stage, legal_case.version) == (LegalStage.HEARING, 2)
    assert world.fresh().next_hearing_on == date(2020, 4, 1)
    with pytest.raises(InvalidAction, match="at hearing: it cannot go to filed"):
        services.legal_case_advance(
            actor=world.legal,
            legal_case=legal_case,
            version=2,
            stage=LegalStage.FILED,
            entered_on=date(2020, 3, 2),
        )
    with pytest.raises(InvalidAction, match="on or after the day of the previous one"):
        services.legal_case_advance(
            actor=world.legal,
            legal_case=legal_case,
            version=2,
            stage=LegalStage.JUDGMENT,
            entered_on=date(2020, 2, 15),
        )
    with pytest.raises(InvalidAction, match="unknown legal stage"):
        services.legal_case_advance(
            actor=world.legal, legal_case=legal_case, version=2, stage="appeal", entered_on=OPENED
        )
    legal_case = services.legal_case_advance(
        actor=world.legal,
        legal_case=legal_case,
        version=2,
        stage=LegalStage.CLOSED,
        entered_on=date(2020, 6, 1),
    )
    assert legal_case.next_hearing_on is None
    with pytest.raises(InvalidAction, match="at closed"):
        services.legal_case_advance(
            actor=world.legal,
            legal_case=legal_case,
            version=3,
            stage=LegalStage.CLOSED,
            entered_on=date(2020, 6, 2),
        )
    stages = list(LegalStageEntry.objects.values_list("stage", flat=True))
    assert stages == [LegalStage.PREPARING, LegalStage.HEARING, LegalStage.CLOSED]
    # With the lawsuit closed the case can close.
    settle(world, on=date(2020, 6, 2))


def test_legal_costs_add_up(world: World) -> None:
    legal_case = legal_world(world)
    legal_case = services.legal_case_add_costs(
        actor=world.legal, legal_case=legal_case, version=1, amount=D("1200.50"), note="court fee"
    )
    legal_case = services.legal_case_add_costs(
        actor=world.legal, legal_case=legal_case, version=2, amount=D("300.00"), note="lawyer"
    )
    assert legal_case.costs == D("1500.50")
    with pytest.raises(InvalidAction, match="more than zero"):
        services.legal_case_add_costs(
            actor=world.legal, legal_case=legal_case, version=3, amount=D("-1"), note=""
        )
    with pytest.raises(InvalidAction, match="more than two decimal places"):
        services.legal_case_add_costs(
            actor=world.legal, legal_case=legal_case, version=3, amount=D("1.001"), note=""
        )


# -- ledger ---------------------------------------------------------------------------------


def enter(
    world: World, amount: str = "1000.00", received_on: date = date(2020, 1, 10), **kwargs: object
) -> Recovery:
    return services.recovery_enter(
        actor=kwargs.pop("actor", world.officer),
        case=world.case,
        loan_id=str(kwargs.pop("loan_id", world.loan_id)),
        received_on=received_on,
        amount=D(amount),
        source=str(kwargs.pop("source", "borrower")),
        **kwargs,  # type: ignore[arg-type]
    )


def test_recovery_enter_refusals(world: World) -> None:
    with pytest.raises(InvalidAction, match="more than zero"):
        enter(world, "-5.00")
    with pytest.raises(InvalidAction, match="not in the scope"):
        enter(world, loan_id="L-NOPE")
    with pytest.raises(InvalidAction, match="unknown source"):
        enter(world, source="lottery")
    with pytest.raises(InvalidAction, match="principal part"):
        enter(world, principal_part=D("2000.00"))
    with pytest.raises(AccessDenied):
        enter(world, actor=world.finance)


def test_a_closed_case_takes_money_received_up_to_its_closing_day_only(world: World) -> None:
    settle(world, on=date(2020, 1, 10))
    late_entry = enter(world)  # received on the closing day, entered afterwards
    assert late_entry.received_on == date(2020, 1, 10)
    with pytest.raises(InvalidAction, match=r"closed on 2020-01-10 \(settled\)"):
        enter(world, "500.00", received_on=date(2020, 1, 11))
    assert Recovery.objects.count() == 1


def test_recovery_after_write_off_follows_the_tape(world: World) -> None:
    world.case.loans.update(status="written_off")
    assert enter(world).after_write_off


def test_recovery_confirm_by_another_person(world: World) -> None:
    recovery = enter(world)
    with pytest.raises(AccessDenied):
        services.recovery_confirm(actor=world.officer2, recovery=recovery)
    own = enter(world, actor=world.lead)
    with pytest.raises(InvalidAction, match="someone other than who entered it"):
        services.recovery_confirm(actor=world.lead, recovery=own)
    confirmation = services.recovery_confirm(actor=world.finance, recovery=recovery)
    assert confirmation.by_id == world.finance.pk
    with pytest.raises(InvalidAction, match="already confirmed"):
        services.recovery_confirm(actor=world.lead, recovery=recovery)


def test_a_reversed_recovery_no_longer_keeps_a_promise(world: World) -> None:
    services.activity_record(
        actor=world.officer,
        case=world.case,
        kind="phone",
        occurred_at=at(date(2020, 1, 5)),
        outcome="promise",
        promise_amount=D("1000.00"),
        promise_due_on=date(2020, 1, 20),
    )
    recovery = enter(world)
    assert Promise.objects.get().state == PromiseState.KEPT
    services.recovery_reverse(
        actor=world.finance, recovery=recovery, reversed_on=date(2020, 1, 11), reason="bounced"
    )
    assert Promise.objects.get().state == PromiseState.PENDING
    services.cases_judge(actor=system_actor(), today=date(2020, 1, 24))
    assert Promise.objects.get().state == PromiseState.BROKEN


def writeoff(world: World) -> object:
    return services.writeoff_prepare(
        actor=world.finance,
        case=world.case,
        loan_id=world.loan_id,
        principal=D("100000.00"),
        interest=D("5000.00"),
        prepared_on=date(2020, 6, 1),
        reason="enforcement terminated",
    )


def test_writeoff_chain_prepared_reviewed_approved(world: World) -> None:
    application = writeoff(world)
    with pytest.raises(InvalidAction, match="already has a write-off application"):
        writeoff(world)
    decide = {"approve": True, "note": "", "on": OPENED}
    with pytest.raises(InvalidAction, match="different person"):
        services.writeoff_decide(actor=world.finance, writeoff=application, version=1, **decide)
    with pytest.raises(AccessDenied, match="system may not review writeoff"):
        services.writeoff_decide(actor=system_actor(), writeoff=application, version=1, **decide)
    # A prepared application waits for a finance officer's review: a leader cannot skip it.
    with pytest.raises(AccessDenied):
        services.writeoff_decide(actor=world.leader, writeoff=application, version=1, **decide)
    reviewed = services.writeoff_decide(
        actor=world.finance2,
        writeoff=application,
        version=1,
        approve=True,
        note="checked",
        on=OPENED,
    )
    assert (reviewed.state, reviewed.approved_on) == (WriteOffState.REVIEWED, None)
    # A reviewed one waits for a leader's approval.
    with pytest.raises(AccessDenied):
        services.writeoff_decide(actor=world.finance, writeoff=reviewed, version=2, **decide)
    approved = services.writeoff_decide(
        actor=world.leader,
        writeoff=reviewed,
        version=2,
        approve=True,
        note="approved",
        on=date(2020, 6, 30),
    )
    assert (approved.state, approved.approved_on) == (WriteOffState.APPROVED, date(2020, 6, 30))
    with pytest.raises(InvalidAction, match="nothing is left to decide"):
        services.writeoff_decide(actor=world.leader, writeoff=approved, version=3, **decide)
    steps = list(WriteOffDecision.objects.values_list("step", "by"))
    assert steps == [
        (WriteOffState.PREPARED, world.finance.pk),
        (WriteOffState.REVIEWED, world.finance2.pk),
        (WriteOffState.APPROVED, world.leader.pk),
    ]
    records = AuditRecord.objects.filter(action="writeoff_decide").order_by("id")
    assert [(r.before, r.after) for r in records] == [
        ({"state": "prepared"}, {"state": "reviewed"}),
        ({"state": "reviewed"}, {"state": "approved"}),
    ]


def test_writeoff_rejected_then_prepared_again(world: World) -> None:
    application = writeoff(world)
    rejected = services.writeoff_decide(
        actor=world.finance2,
        writeoff=application,
        version=1,
        approve=False,
        note="not yet",
        on=OPENED,
    )
    assert rejected.state == WriteOffState.REJECTED
    with pytest.raises(InvalidAction, match="nothing is left to decide"):
        services.writeoff_decide(
            actor=world.leader, writeoff=rejected, version=2, approve=True, note="", on=OPENED
        )
    writeoff(world)


def test_writeoff_refusals(world: World) -> None:
    base = {
        "actor": world.finance,
        "case": world.case,
        "loan_id": world.loan_id,
        "prepared_on": OPENED,
        "reason": "r",
    }
    with pytest.raises(InvalidAction, match=r"between zero and the balance 100000\.00"):
        services.writeoff_prepare(**base, principal=D("100000.01"), interest=D(0))
    with pytest.raises(InvalidAction, match="interest written off cannot be negative"):
        services.writeoff_prepare(**base, principal=D(1), interest=D(-1))
    world.case.loans.update(status="written_off")
    with pytest.raises(InvalidAction, match="no longer on the books"):
        services.writeoff_prepare(**base, principal=D(1), interest=D(0))


def test_transfer_prepared_by_finance_approved_by_a_leader(world: World) -> None:
    other = case_with_loan(world.units["HB0101"], balance="50000.00")
    loans = [(world.case, world.loan_id), (other, other.loans.get().loan_id)]
    base = {
        "actor": world.finance,
        "buyer": "Huarong AMC",
        "unit": world.units["HB"],
        "cut_off_on": date(2020, 6, 30),
    }
    with pytest.raises(InvalidAction, match="listed twice"):
        services.transfer_prepare(**base, code="P0", price=D(1), loans=[loans[0], loans[0]])
    package = services.transfer_prepare(**base, code="P1", price=D("45000.00"), loans=loans)
    assert package.book_value == D("150000.00")
    with pytest.raises(InvalidAction, match="already in another transfer package"):
        services.transfer_prepare(**base, code="P2", price=D(1), loans=loans[:1])
    with pytest.raises(AccessDenied):
        services.transfer_approve(
            actor=world.finance2, package=package, version=1, signed_on=OPENED, note=""
        )
    with pytest.raises(AccessDenied, match="system may not approve transfer"):
        services.transfer_approve(
            actor=system_actor(), package=package, version=1, signed_on=OPENED, note=""
        )
    package = services.transfer_approve(
        actor=world.leader, package=package, version=1, signed_on=date(2020, 7, 1), note="ok"
    )
    assert (package.state, package.approved_by_id) == (TransferState.APPROVED, world.leader.pk)
    with pytest.raises(InvalidAction, match="is approved"):
        services.transfer_approve(
            actor=world.leader, package=package, version=2, signed_on=OPENED, note=""
        )


# -- people ---------------------------------------------------------------------------------


def test_units_sync_adds_and_moves_units(world: World) -> None:
    counts = services.units_sync(
        actor=world.admin,
        org_units=[
            {"code": "HB0102", "name": "New sub-branch", "parent": "HB01", "level": "sub_branch"},
            {"code": "HB0201", "name": "Moved", "parent": "HB01", "level": "sub_branch"},
        ],
    )
    assert (counts["added"], counts["changed"]) == (1, 1)
    assert Unit.objects.get(code="HB0102").path == "/HB/HB01/HB0102/"
    assert Unit.objects.get(code="HB0201").path == "/HB/HB01/HB0201/"
    with pytest.raises(InvalidAction, match="unknown parent XX"):
        services.units_sync(
            actor=world.admin, org_units=[{"code": "Z", "name": "z", "parent": "XX"}]
        )
    with pytest.raises(InvalidAction, match="its own ancestor"):
        services.units_sync(
            actor=world.admin,
            org_units=[{"code": "A", "parent": "B"}, {"code": "B", "parent": "A"}],
        )


def test_person_create_and_update(world: World) -> None:
    person = services.person_create(
        actor=world.admin,
        username="zhang.wei",
        name="Zhang Wei",
        roles=["officer"],
        unit_codes=["HB01"],
        password="long-enough-password",
    )
    assert person.user.check_password("long-enough-password")
    with pytest.raises(InvalidAction, match="exists"):
        services.person_create(
            actor=world.admin,
            username="zhang.wei",
            name="",
            roles=["officer"],
            unit_codes=["HB01"],
            password="long-enough-password",
        )
    with pytest.raises(InvalidAction, match="unknown roles"):
        services.person_create(
            actor=world.admin,
            username="li",
            name="",
            roles=["king"],
            unit_codes=["HB01"],
            password="long-enough-password",
        )
    with pytest.raises(InvalidAction, match="unknown units: NOPE"):
        services.person_create(
            actor=world.admin,
            username="li",
            name="",
            roles=["officer"],
            unit_codes=["NOPE"],
            password="long-enough-password",
        )
    with pytest.raises(InvalidAction, match="at least 10 characters"):
        services.person_create(
            actor=world.admin,
            username="li",
            name="",
            roles=["officer"],
            unit_codes=["HB01"],
            password="short",
        )
    person = services.person_update(
        actor=world.admin, person=person, version=1, roles=["team_lead"], active=False
    )
    assert (person.roles, person.active) == (["team_lead"], False)
    person.user.refresh_from_db()
    assert not person.user.is_active
    with pytest.raises(InvalidAction, match="nothing to change"):
        services.person_update(actor=world.admin, person=person, version=2)
    with pytest.raises(AccessDenied):
        services.person_update(actor=world.lead, person=person, version=2, active=True)


def test_team_create_and_members(world: World) -> None:
    team = services.team_create(
        actor=world.admin,
        code="TF1",
        name="Task force",
        kind="task_force",
        leader=world.lead,
        members=[world.officer],
        unit_codes=["HB01"],
        active_from=OPENED,
    )
    with pytest.raises(InvalidAction, match="team TF1 exists"):
        services.team_create(
            actor=world.admin, code="TF1", name="", kind="task_force", leader=world.lead,
            active_from=OPENED,
        )  # fmt: skip
    with pytest.raises(InvalidAction, match="unknown team kind"):
        services.team_create(
            actor=world.admin, code="TF2", name="", kind="club", leader=world.lead,
            active_from=OPENED,
        )  # fmt: skip
    # The team's own leader sets its members; another lead may not.
    team = services.team_set_members(
        actor=world.lead, team=team, version=1, members=[world.officer, world.officer2]
    )
    assert set(team.members.all()) == {world.officer, world.officer2}
    with pytest.raises(AccessDenied):
        services.team_set_members(actor=world.lead2, team=team, version=2, members=[])


# -- who may own a case or join a team, four eyes on the ledger ------------------------------

# Who a lead of HB01 may not put on HB01's case or team, and why.
NOT_WORKERS = {
    "another county's officer": (("officer", "HB0201"), "outside"),
    "the leader": (("leader", "HB"), "only officers, team leads and legal staff"),
    "a risk analyst": (("risk_analyst", "HB"), "only officers, team leads and legal staff"),
    "an administrator": (("admin", "HB01"), "only officers, team leads and legal staff"),
}


@pytest.mark.parametrize("who", sorted(NOT_WORKERS))
def test_a_lead_cannot_make_an_owner_of_someone_who_may_not_work_the_case(
    world: World, who: str
) -> None:
    (role, unit), message = NOT_WORKERS[who]
    candidate = person(role, world.units[unit])
    with pytest.raises(InvalidAction, match=message):
        services.case_assign(
            actor=world.lead, case=world.case, version=1, owner=candidate, team=None, reason="r"
        )
    with pytest.raises(InvalidAction, match=message):
        services.case_reassign_bulk(
            actor=world.lead, cases=[world.case], owner=candidate, team=None, reason="r"
        )
    with pytest.raises(InvalidAction, match=message):
        services.case_open(
            actor=world.lead,
            household=HouseholdFactory(unit=world.units["HB0101"]),
            opened_on=OPENED,
            owner=candidate,
            reason="walk-in",
        )
    assert world.fresh().owner_id == world.officer.pk
    assert not AuditRecord.objects.exists()


@pytest.mark.parametrize("who", sorted(NOT_WORKERS))
def test_a_lead_cannot_make_a_team_member_of_someone_who_may_not_work_its_cases(
    world: World, who: str
) -> None:
    (role, unit), message = NOT_WORKERS[who]
    candidate = person(role, world.units[unit])
    team: Team = TeamFactory(leader=world.lead, members=[world.officer])
    team.units.set([world.units["HB01"]])
    with pytest.raises(InvalidAction, match=message):
        services.team_set_members(
            actor=world.lead, team=team, version=1, members=[world.officer, candidate]
        )
    with pytest.raises(InvalidAction, match=message):
        services.team_create(
            actor=world.admin,
            code="CT9",
            name="Clearing team 9",
            kind="clearing_team",
            leader=world.lead,
            members=[candidate],
            unit_codes=["HB01"],
            active_from=OPENED,
        )
    assert list(team.members.all()) == [world.officer]
    assert not Team.objects.filter(code="CT9").exists()


def test_team_members_and_leaders_come_from_the_units_the_team_works_in(world: World) -> None:
    city_legal = world.legal  # the city branch covers HB01
    sub_branch_officer = person("officer", world.units["HB0101"])
    team = services.team_create(
        actor=world.admin,
        code="CT1",
        name="Clearing team 1",
        kind="clearing_team",
        leader=world.lead,
        members=[world.officer, sub_branch_officer, city_legal],
        unit_codes=["HB01"],
        active_from=OPENED,
    )
    assert team.members.count() == 3
    with pytest.raises(InvalidAction, match="cannot be the leader of team CT2: only officers"):
        services.team_create(
            actor=world.admin, code="CT2", name="", kind="clearing_team", leader=world.leader,
            unit_codes=["HB01"], active_from=OPENED,
        )  # fmt: skip
    with pytest.raises(InvalidAction, match="cannot be the leader of team CT3: their units"):
        services.team_create(
            actor=world.admin, code="CT3", name="", kind="clearing_team", leader=world.outsider,
            unit_codes=["HB01"], active_from=OPENED,
        )  # fmt: skip
    # A task force covering no units works in its leader's units.
    with pytest.raises(InvalidAction, match="cannot be a member of team TF1"):
        services.team_create(
            actor=world.admin, code="TF1", name="", kind="task_force", leader=world.lead,
            members=[person("officer", world.units["HB0201"])], active_from=OPENED,
        )  # fmt: skip


def test_a_case_joins_only_a_team_that_works_in_its_unit(world: World) -> None:
    other_county: Team = TeamFactory(leader=world.outsider)
    other_county.units.set([world.units["HB02"]])
    with pytest.raises(InvalidAction, match="does not work in unit HB0101"):
        services.case_assign(
            actor=world.lead,
            case=world.case,
            version=1,
            owner=world.officer,
            team=other_county,
            reason="r",
        )
    own: Team = TeamFactory(leader=world.lead)
    own.units.set([world.units["HB01"]])
    services.case_assign(
        actor=world.lead, case=world.case, version=1, owner=world.officer2, team=own, reason="r"
    )
    assert (world.fresh().owner_id, world.fresh().team_id) == (world.officer2.pk, own.pk)


def test_nobody_reverses_a_recovery_they_entered(world: World) -> None:
    own = enter(world, actor=world.lead)
    with pytest.raises(InvalidAction, match="someone other than who entered it"):
        services.recovery_reverse(
            actor=world.lead, recovery=own, reversed_on=date(2020, 1, 11), reason="typo"
        )
    assert not Recovery.objects.filter(reverses=own).exists()
    reversal = services.recovery_reverse(
        actor=world.finance, recovery=own, reversed_on=date(2020, 1, 11), reason="typo"
    )
    assert (reversal.reverses_id, reversal.entered_by_id) == (own.pk, world.finance.pk)


# -- the keyword-only rule --------------------------------------------------------------


def test_services_refuse_positional_arguments(world: World) -> None:
    with pytest.raises(TypeError, match="keyword arguments only"):
        services.case_assign(world.lead, world.case, 1, None, None, "r")  # type: ignore[misc]
    assert world.fresh().version == 1


@pytest.mark.django_db
def test_refreshing_a_case_with_no_promise_plan_legal_case_or_investigation_reads_only_what_it_has(
    units: dict[str, Unit], django_assert_num_queries: Any
) -> None:
    # A refresh follows every write: which parts the case has, its recent activities, its last
    # contact (none in the window), and the update of its signals; no read of a part it lacks.
    from npldesk.casework.services._common import refresh_case

    case = case_with_loan(units["HB0101"])
    with django_assert_num_queries(4):
        refresh_case(case, today=date(2020, 1, 15))
