"""The work on a case: investigations, activities, promises, disposal plans and their
approval, milestones, repayment plans, and a household's contact details."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import F
from django.utils import timezone

from npldesk.casework import audit, conduct, validation
from npldesk.casework.access import Action, require
from npldesk.casework.choices import (
    CONTACT_KINDS,
    ActivityKind,
    ActivityParty,
    ActivityPurpose,
    CaseState,
    Outcome,
    PlanState,
    RepaymentPlanKind,
    RepaymentPlanState,
    Strategy,
)
from npldesk.casework.config import casework_settings
from npldesk.casework.errors import InvalidAction
from npldesk.casework.models import (
    Activity,
    Case,
    ConductException,
    Household,
    Instalment,
    Investigation,
    Milestone,
    Person,
    Plan,
    PlanDecision,
    Promise,
    RepaymentPlan,
)
from npldesk.casework.rules import strategy_tier
from npldesk.casework.services._common import compare_and_swap, refresh_case, to_money
from npldesk.core.i18n import translatable

ZERO = Decimal("0.00")


def _open_case(case: Case) -> None:
    if not case.is_open:
        raise InvalidAction(
            translatable(
                "case {case_number} is closed ({close_reason})",
                case_number=case.number,
                close_reason=case.close_reason,
            )
        )


def _advance(case: Case, to_state: str, *, from_states: set[str]) -> None:
    """Move a case forward as a side effect of the work (never backwards, never a conflict)."""
    if case.state in from_states:
        Case.objects.filter(pk=case.pk).update(state=to_state)
        case.state = to_state


@audit.service()
def investigation_record(
    *,
    actor: Person,
    case: Case,
    investigated_on: date,
    monthly_income: Decimal = ZERO,
    properties: Sequence[dict[str, Any]] = (),
    vehicles: Decimal = ZERO,
    deposits: Decimal = ZERO,
    business_assets: Decimal = ZERO,
    family_status: str = "",
    dependants: int = 0,
    income_source: str = "",
    employment_state: str = "",
    contactability: str = "",
    health: str = "",
    notes: str = "",
) -> Investigation:
    """Record what was found about the household; the case's ability is derived from it."""
    require(actor, Action.WORK_CASE, case)
    _open_case(case)
    validation.event_date(case, investigated_on, translatable("an investigation"))
    cleaned = []
    property_value = ZERO
    for number, item in enumerate(properties, start=1):
        value = to_money(item.get("estimated_value", 0))
        encumbrances = to_money(item.get("encumbrances", 0))
        if value < 0 or encumbrances < 0:
            raise InvalidAction(
                translatable("property {number}: amounts cannot be negative", number=number)
            )
        property_value += max(ZERO, value - encumbrances)
        cleaned.append(
            {
                "type": str(item.get("type", "")),
                "location": str(item.get("location", "")),
                "estimated_value": str(value),
                "encumbrances": str(encumbrances),
            }
        )
    amounts = [to_money(a) for a in (monthly_income, vehicles, deposits, business_assets)]
    if any(a < 0 for a in amounts):
        raise InvalidAction(translatable("income and assets cannot be negative"))
    income, vehicle_value, deposit_value, business_value = amounts
    investigation = Investigation.objects.create(
        case=case,
        investigated_on=investigated_on,
        investigator=actor,
        monthly_income=income,
        properties=cleaned,
        vehicles=vehicle_value,
        deposits=deposit_value,
        business_assets=business_value,
        unencumbered_assets=property_value + vehicle_value + deposit_value + business_value,
        family_status=family_status,
        dependants=dependants,
        income_source=income_source,
        employment_state=employment_state,
        contactability=contactability,
        health=health,
        notes=notes,
    )
    _advance(case, CaseState.INVESTIGATING, from_states={CaseState.OPENED})
    derived = refresh_case(case, today=investigated_on)
    audit.record(
        actor=actor,
        action="investigation_record",
        obj=investigation,
        case=case,
        after={"investigation": audit.snapshot(investigation), "case": derived},
    )
    return investigation


@audit.service()
def activity_record(
    *,
    actor: Person,
    case: Case,
    kind: str,
    outcome: str,
    occurred_at: datetime | None = None,
    occurred_on: date | None = None,
    party: str = ActivityParty.BORROWER,
    purpose: str = ActivityPurpose.COLLECTION,
    notes: str = "",
    attachments: Sequence[str] = (),
    promise_amount: Decimal | None = None,
    promise_due_on: date | None = None,
) -> Activity:
    """Log a contact or step; an outcome ``promise`` records the promise with it.

    ``occurred_at`` is the moment (a naive time is local to ``[conduct] timezone``); a step
    that is not a call or visit may give only its day, ``occurred_on``. The conduct rules
    (``casework/conduct.py``) refuse a contact that breaks one, naming the rule, unless a team
    lead's exception covers the case on that day.
    """
    require(actor, Action.WORK_CASE, case)
    _open_case(case)
    if kind not in ActivityKind.values:
        raise InvalidAction(
            translatable(
                "unknown activity kind {kind!r}: one of {choices}",
                kind=kind,
                choices=", ".join(ActivityKind.values),
            )
        )
    if kind == ActivityKind.DOCUMENT or outcome == Outcome.DRAFTED:
        raise InvalidAction(
            translatable("a legal document is drafted from the case's documents section")
        )
    if outcome not in Outcome.values:
        raise InvalidAction(
            translatable(
                "unknown outcome {outcome!r}: one of {choices}",
                outcome=outcome,
                choices=", ".join(Outcome.values),
            )
        )
    if party not in ActivityParty.values:
        raise InvalidAction(
            translatable(
                "unknown party {party!r}: one of {names}",
                party=party,
                names=", ".join(ActivityParty.values),
            )
        )
    if purpose not in ActivityPurpose.values:
        raise InvalidAction(
            translatable(
                "unknown purpose {purpose!r}: one of {names}",
                purpose=purpose,
                names=", ".join(ActivityPurpose.values),
            )
        )
    params = casework_settings().conduct
    local_at = params.local(occurred_at) if occurred_at is not None else None
    if local_at is not None:
        if occurred_on is not None and occurred_on != local_at.date():
            raise InvalidAction(
                translatable(
                    "the day {day} and the time {time} disagree",
                    day=occurred_on,
                    time=f"{local_at:%Y-%m-%d %H:%M}",
                )
            )
        occurred_on = local_at.date()
    if occurred_on is None:
        raise InvalidAction(
            translatable("an activity needs the time it took place (or at least its day)")
        )
    validation.event_date(case, occurred_on, translatable("an activity"))
    if (outcome == Outcome.PROMISE) != (promise_amount is not None and promise_due_on is not None):
        raise InvalidAction(
            translatable("an outcome 'promise' needs a promised amount and due date, and only it")
        )
    exception = (
        ConductException.objects.filter(
            case=case, starts_on__lte=occurred_on, ends_on__gte=occurred_on
        )
        .order_by("-granted_at")
        .first()
    )
    if exception is None:
        earlier = Activity.objects.filter(
            case__household_id=case.household_id,
            kind__in=CONTACT_KINDS,
            occurred_on__gte=occurred_on - timedelta(days=6),
            occurred_on__lte=occurred_on,
        ).values_list("occurred_on", flat=True)
        conduct.check(
            conduct.Contact(kind=kind, at=local_at, on=occurred_on, party=party, purpose=purpose),
            earlier=earlier,
            params=params,
        )
    activity = Activity.objects.create(
        case=case,
        kind=kind,
        occurred_on=occurred_on,
        occurred_at=local_at,
        party=party,
        purpose=purpose,
        person=actor,
        outcome=outcome,
        notes=notes,
        attachments=list(attachments),
        conduct_exception=exception,
    )
    after: dict[str, Any] = {"activity": audit.snapshot(activity)}
    if promise_amount is not None and promise_due_on is not None:
        if promise_due_on < occurred_on:
            raise InvalidAction(translatable("a promise falls due on or after the day it is made"))
        promise = Promise.objects.create(
            case=case,
            activity=activity,
            amount=validation.positive_amount(promise_amount, translatable("a promised amount")),
            made_on=occurred_on,
            due_on=promise_due_on,
        )
        after["promise"] = audit.snapshot(promise)
    _advance(case, CaseState.IN_PROGRESS, from_states={CaseState.PLAN_APPROVED})
    after["case"] = refresh_case(case, today=occurred_on)
    audit.record(actor=actor, action="activity_record", obj=activity, case=case, after=after)
    return activity


@audit.service()
def conduct_exception_grant(
    *, actor: Person, case: Case, starts_on: date, days: int, reason: str
) -> ConductException:
    """A team lead's documented exception to the conduct rules for one case, for ``days`` days
    from ``starts_on`` (at most ``conduct.MAX_EXCEPTION_DAYS``)."""
    require(actor, Action.MANAGE_CASE, case)
    _open_case(case)
    if not reason.strip():
        raise InvalidAction(
            translatable("an exception to the conduct rules needs its documented reason")
        )
    if isinstance(days, bool) or not 1 <= days <= conduct.MAX_EXCEPTION_DAYS:
        raise InvalidAction(
            translatable(
                "an exception covers 1 to {most} days, not {days}",
                most=conduct.MAX_EXCEPTION_DAYS,
                days=days,
            )
        )
    exception = ConductException.objects.create(
        case=case,
        granted_by=actor,
        granted_at=timezone.now(),
        starts_on=starts_on,
        ends_on=starts_on + timedelta(days=days - 1),
        reason=reason.strip(),
    )
    audit.record(
        actor=actor,
        action="conduct_exception_grant",
        obj=exception,
        case=case,
        after={"exception": audit.snapshot(exception)},
    )
    return exception


@audit.service()
def plan_propose(
    *,
    actor: Person,
    case: Case,
    strategy: str,
    reason: str,
    target_amount: Decimal,
    target_date: date,
    milestones: Sequence[tuple[str, Person, date]] = (),
) -> Plan:
    """Propose the household's disposal plan; an earlier proposal still open is superseded."""
    require(actor, Action.WORK_CASE, case)
    _open_case(case)
    if strategy not in Strategy.values:
        raise InvalidAction(translatable("unknown strategy {strategy!r}", strategy=strategy))
    if not reason.strip():
        raise InvalidAction(translatable("a plan needs the reason for its strategy"))
    target = to_money(target_amount, translatable("the target amount"))
    if target < 0:
        raise InvalidAction(
            translatable("the target amount cannot be negative, not {target}", target=target)
        )
    superseded = list(case.plans.filter(state=PlanState.PROPOSED).values_list("pk", flat=True))
    case.plans.filter(pk__in=superseded).update(state=PlanState.SUPERSEDED)
    plan = Plan.objects.create(
        case=case,
        strategy=strategy,
        reason=reason,
        target_amount=target,
        target_date=target_date,
        proposed_by=actor,
        proposed_at=timezone.now(),
    )
    PlanDecision.objects.create(
        plan=plan, decision=PlanState.PROPOSED, by=actor, at=plan.proposed_at
    )
    Milestone.objects.bulk_create(
        Milestone(plan=plan, task=task, owner=owner, due_on=due_on)
        for task, owner, due_on in milestones
    )
    _advance(
        case,
        CaseState.PLAN_PROPOSED,
        from_states={
            CaseState.OPENED,
            CaseState.INVESTIGATING,
            CaseState.PLAN_APPROVED,
            CaseState.IN_PROGRESS,
        },
    )
    audit.record(
        actor=actor,
        action="plan_propose",
        obj=plan,
        case=case,
        after={**audit.snapshot(plan), "milestones": len(milestones), "superseded": superseded},
    )
    return plan


@audit.service()
def plan_decide(*, actor: Person, plan: Plan, version: int, approve: bool, note: str) -> Plan:
    """A lead approves or rejects a proposed plan; approval sets the case's strategy."""
    case = plan.case
    require(actor, Action.MANAGE_CASE, case)
    _open_case(case)
    if plan.version != version:
        # Decided (or changed) since the caller read it: a conflict to reload, not a mistake.
        compare_and_swap(plan, version=version, what=f"plan {plan.pk}")
    if plan.state != PlanState.PROPOSED:
        raise InvalidAction(
            translatable(
                "plan {plan_id} is {plan_state}, not proposed",
                plan_id=plan.pk,
                plan_state=plan.state,
            )
        )
    if plan.proposed_by_id == actor.pk:
        raise InvalidAction(
            translatable(
                "plan {plan_id} is decided by someone other than who proposed it", plan_id=plan.pk
            )
        )
    decision = PlanState.APPROVED if approve else PlanState.REJECTED
    compare_and_swap(
        plan, version=version, what=translatable("plan {plan_id}", plan_id=plan.pk), state=decision
    )
    PlanDecision.objects.create(
        plan=plan, decision=decision, by=actor, at=timezone.now(), note=note
    )
    case_after: dict[str, Any] = {}
    # The case's state (and on approval its strategy) change: its version moves too, so that an
    # edit of the case someone opened before the decision fails instead of undoing it.
    # A plan decided while the case is already in progress or in court leaves its state alone.
    early = {CaseState.OPENED, CaseState.INVESTIGATING, CaseState.PLAN_PROPOSED}
    if approve:
        settings = casework_settings()
        tier = strategy_tier(plan.strategy, settings.policy, current=case.tier)
        changes: dict[str, Any] = {
            "strategy": plan.strategy,
            "overridden": sorted(set(case.overridden) | {"strategy"}),
        }
        if "tier" not in case.overridden:
            changes["tier"] = tier
        if "deadline" not in case.overridden:
            changes["deadline"] = settings.params.deadline(
                case.opened_on, changes.get("tier", case.tier)
            )
        if case.state in early:
            changes["state"] = CaseState.PLAN_APPROVED
    else:
        changes = {"state": CaseState.INVESTIGATING} if case.state in early else {}
    Case.objects.filter(pk=case.pk).update(version=F("version") + 1, **changes)
    case_after = {k: v for k, v in changes.items() if k != "overridden"}
    case.refresh_from_db()
    audit.record(
        actor=actor,
        action="plan_decide",
        obj=plan,
        case=case,
        before={"state": PlanState.PROPOSED},
        after={"state": decision, "case": case_after},
        reason=note,
    )
    return plan


@audit.service()
def milestone_complete(*, actor: Person, milestone: Milestone, done_on: date) -> Milestone:
    case = milestone.plan.case
    require(actor, Action.WORK_CASE, case)
    _open_case(case)
    if milestone.done_on is not None:
        raise InvalidAction(
            translatable(
                "milestone {milestone_task!r} is already done", milestone_task=milestone.task
            )
        )
    Milestone.objects.filter(pk=milestone.pk).update(done_on=done_on)
    milestone.done_on = done_on
    audit.record(
        actor=actor,
        action="milestone_complete",
        obj=milestone,
        case=case,
        before={"done_on": None},
        after={"done_on": done_on},
    )
    return milestone


@audit.service()
def repayment_plan_agree(
    *,
    actor: Person,
    case: Case,
    kind: str,
    agreed_on: date,
    instalments: Sequence[tuple[date, Decimal]],
    discount: Decimal = ZERO,
) -> RepaymentPlan:
    """Agree instalments (full, or a settlement with a discount); they are judged against
    recoveries from then on."""
    require(actor, Action.WORK_CASE, case)
    _open_case(case)
    if kind not in RepaymentPlanKind.values:
        raise InvalidAction(translatable("unknown repayment plan kind {kind!r}", kind=kind))
    if not instalments:
        raise InvalidAction(translatable("a repayment plan needs at least one instalment"))
    validation.event_date(case, agreed_on, translatable("a repayment plan"))
    dues = [due for due, _ in instalments]
    if dues != sorted(dues) or len(set(dues)) != len(dues) or dues[0] < agreed_on:
        raise InvalidAction(
            translatable("instalments fall due on distinct days, in order, after the agreement")
        )
    amounts = [
        validation.positive_amount(amount, translatable("instalment {n}", n=n))
        for n, (_, amount) in enumerate(instalments, 1)
    ]
    discount_value = to_money(discount, translatable("the discount"))
    if discount_value < 0:
        raise InvalidAction(
            translatable(
                "a discount cannot be negative, not {discount_value}", discount_value=discount_value
            )
        )
    validation.repayment_plan_amounts(case, kind, sum(amounts, ZERO), discount_value)
    if case.repayment_plans.filter(state=RepaymentPlanState.ACTIVE).exists():
        raise InvalidAction(
            translatable(
                "case {case_number} already has an active repayment plan", case_number=case.number
            )
        )
    plan = RepaymentPlan.objects.create(
        case=case,
        kind=kind,
        total=sum(amounts, ZERO),
        discount=discount_value,
        agreed_on=agreed_on,
    )
    Instalment.objects.bulk_create(
        Instalment(plan=plan, number=n, due_on=due, amount=amount)
        for n, (due, amount) in enumerate(zip(dues, amounts, strict=True), start=1)
    )
    derived = refresh_case(case, today=agreed_on)
    audit.record(
        actor=actor,
        action="repayment_plan_agree",
        obj=plan,
        case=case,
        after={**audit.snapshot(plan), "instalments": len(amounts), "case": derived},
    )
    return plan


@audit.service()
def repayment_plan_cancel(
    *,
    actor: Person,
    plan: RepaymentPlan,
    version: int,
    reason: str,
    cancelled_on: date | None = None,
) -> RepaymentPlan:
    """Cancel a plan; its instalments no longer count, so the case's signals (a breached
    plan, the next instalment due) are refreshed as of ``cancelled_on`` (today by default)."""
    case = plan.case
    require(actor, Action.MANAGE_CASE, case)
    if plan.version != version:
        # Changed since the caller read it: a conflict to reload, not a mistake.
        compare_and_swap(
            plan, version=version, what=translatable("repayment plan {plan_id}", plan_id=plan.pk)
        )
    if plan.state in {RepaymentPlanState.CANCELLED, RepaymentPlanState.COMPLETED}:
        raise InvalidAction(
            translatable(
                "repayment plan {plan_id} is {plan_state}", plan_id=plan.pk, plan_state=plan.state
            )
        )
    before = {"state": plan.state}
    compare_and_swap(
        plan,
        version=version,
        what=translatable("repayment plan {plan_id}", plan_id=plan.pk),
        state=RepaymentPlanState.CANCELLED,
    )
    derived = refresh_case(case, today=cancelled_on or timezone.localdate())
    audit.record(
        actor=actor,
        action="repayment_plan_cancel",
        obj=plan,
        case=case,
        before=before,
        after={"state": RepaymentPlanState.CANCELLED, "case": derived},
        reason=reason,
    )
    return plan


@audit.service()
def household_update_contact(
    *,
    actor: Person,
    household: Household,
    version: int,
    phones: str | None = None,
    address: str | None = None,
) -> Household:
    """Correct a household's phones or address (personal data: the audit keeps no values)."""
    case = household.cases.filter(closed_on__isnull=True).first()
    if case is None:
        raise InvalidAction(
            translatable(
                "household {borrower_id} has no open case", borrower_id=household.borrower_id
            )
        )
    require(actor, Action.WORK_CASE, case)
    changes = {k: v for k, v in {"phones": phones, "address": address}.items() if v is not None}
    if not changes:
        raise InvalidAction(translatable("nothing to change"))
    compare_and_swap(
        household,
        version=version,
        what=translatable("household {borrower_id}", borrower_id=household.borrower_id),
        **changes,
    )
    audit.record(
        actor=actor,
        action="household_update_contact",
        obj=household,
        case=case,
        after={"changed": sorted(changes)},
    )
    return household
