"""The officer's and the lead's work on a case: activities and promises, disposal plans with
their milestones and decisions, repayment plans with their instalments."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from npldesk.casework import selectors, services
from npldesk.casework.choices import (
    ActivityKind,
    ActivityParty,
    ActivityPurpose,
    Outcome,
    RepaymentPlanKind,
    Strategy,
)
from npldesk.casework.documents import day_text, money_text
from npldesk.casework.models import Activity, Person, Plan, RepaymentPlan
from npldesk.web.api.common import (
    PROBLEMS,
    Input,
    Problem,
    Versioned,
    api_write,
    idempotency_key,
    if_match,
    person,
    referenced,
)

router = Router(tags=["work"])


class ActivityIn(Input):
    kind: ActivityKind
    # The moment of the contact (calls and visits need it: the conduct rules' contact hours);
    # another step may give only its day.
    occurred_at: datetime | None = None
    occurred_on: date | None = None
    party: ActivityParty = ActivityParty.BORROWER
    purpose: ActivityPurpose = ActivityPurpose.COLLECTION
    outcome: Outcome
    notes: str = Field("", max_length=5000)
    promise_amount: Decimal | None = Field(None, max_digits=18, decimal_places=2, gt=0)
    promise_due_on: date | None = None


class ActivityOut(Schema):
    id: int
    case_id: str
    kind: str
    occurred_on: date
    occurred_at: datetime | None
    party: str
    purpose: str
    outcome: str
    person: str
    promise: dict[str, Any] | None


@router.post(
    "/cases/{number}/activities",
    response={201: ActivityOut, **PROBLEMS},
    operation_id="activity_record",
)
def activity_record(
    request: HttpRequest,
    number: str,
    body: ActivityIn,
    idempotency_key: str | None = idempotency_key(),
) -> Status[Any]:
    """Log a contact or step; the outcome ``promise`` records the promise with it."""

    def record(acting: Person) -> dict[str, Any]:
        case = selectors.case_get(acting, number)
        activity = services.activity_record(
            actor=acting,
            case=case,
            kind=body.kind,
            occurred_at=body.occurred_at,
            occurred_on=body.occurred_on,
            party=body.party,
            purpose=body.purpose,
            outcome=body.outcome,
            notes=body.notes,
            promise_amount=body.promise_amount,
            promise_due_on=body.promise_due_on,
        )
        promise = activity.promises.first()
        return {
            "id": activity.pk,
            "case_id": case.number,
            "kind": activity.kind,
            "occurred_on": day_text(activity.occurred_on),
            "occurred_at": None
            if activity.occurred_at is None
            else activity.occurred_at.isoformat(timespec="minutes"),
            "party": activity.party,
            "purpose": activity.purpose,
            "outcome": activity.outcome,
            "person": acting.user.get_username(),
            "promise": None
            if promise is None
            else {
                "id": promise.pk,
                "amount": money_text(promise.amount),
                "due_on": day_text(promise.due_on),
            },
        }

    return api_write(request, body, record, status=201, idempotency_key=idempotency_key)


class PromiseIn(Input):
    kind: ActivityKind = Field(
        ActivityKind.PHONE, description="The contact the promise was made in"
    )
    occurred_at: datetime | None = None
    occurred_on: date | None = None
    party: ActivityParty = ActivityParty.BORROWER
    purpose: ActivityPurpose = ActivityPurpose.COLLECTION
    amount: Decimal = Field(max_digits=18, decimal_places=2, gt=0)
    due_on: date
    notes: str = Field("", max_length=5000)


class PromiseOut(Schema):
    id: int
    case_id: str
    activity_id: int
    amount: str
    made_on: date
    due_on: date
    state: str


@router.post(
    "/cases/{number}/promises",
    response={201: PromiseOut, **PROBLEMS},
    operation_id="promise_create",
)
def promise_create(
    request: HttpRequest,
    number: str,
    body: PromiseIn,
    idempotency_key: str | None = idempotency_key(),
) -> Status[Any]:
    """Record a promise to pay, with the contact it was made in (an activity whose outcome is
    ``promise``); it is judged kept or broken against recoveries. Once per Idempotency-Key."""

    def create(acting: Person) -> dict[str, Any]:
        case = selectors.case_get(acting, number)
        activity: Activity = services.activity_record(
            actor=acting,
            case=case,
            kind=body.kind,
            occurred_at=body.occurred_at,
            occurred_on=body.occurred_on,
            party=body.party,
            purpose=body.purpose,
            outcome=Outcome.PROMISE,
            notes=body.notes,
            promise_amount=body.amount,
            promise_due_on=body.due_on,
        )
        promise = activity.promises.get()
        return {
            "id": promise.pk,
            "case_id": case.number,
            "activity_id": activity.pk,
            "amount": money_text(promise.amount),
            "made_on": day_text(promise.made_on),
            "due_on": day_text(promise.due_on),
            "state": promise.state,
        }

    return api_write(request, body, create, status=201, idempotency_key=idempotency_key)


class MilestoneIn(Input):
    task: str = Field(min_length=1, max_length=200)
    due_on: date
    owner: str | None = Field(
        None, max_length=150, description="Who does it (a username); the proposer by default"
    )


class ProposalIn(Input):
    strategy: Strategy
    reason: str = Field(min_length=1, max_length=5000)
    target_amount: Decimal = Field(max_digits=18, decimal_places=2, ge=0)
    target_date: date
    milestones: list[MilestoneIn] = Field(default_factory=list, max_length=50)


class MilestoneOut(Schema):
    id: int
    task: str
    owner: str
    due_on: date
    done_on: date | None


class PlanOut(Schema):
    id: int
    version: int
    case_id: str
    strategy: str
    state: str
    milestones: list[MilestoneOut]


def _plan(plan: Plan, number: str) -> dict[str, Any]:
    return {
        "id": plan.pk,
        "version": plan.version,
        "case_id": number,
        "strategy": plan.strategy,
        "state": plan.state,
        "milestones": [
            {
                "id": m.pk,
                "task": m.task,
                "owner": m.owner.user.get_username(),
                "due_on": day_text(m.due_on),
                "done_on": day_text(m.done_on),
            }
            for m in plan.milestones.select_related("owner__user").order_by("due_on", "id")
        ],
    }


def _milestone_owner(acting: Person, n: int, username: str | None) -> Person:
    if not username:
        return acting
    return referenced(f"milestones.{n}.owner", lambda: selectors.person_get(acting, username))


@router.post(
    "/cases/{number}/plans",
    response={201: PlanOut, **PROBLEMS},
    operation_id="plan_propose",
)
def plan_propose(
    request: HttpRequest,
    number: str,
    body: ProposalIn,
    idempotency_key: str | None = idempotency_key(),
) -> Status[Any]:
    """Propose the household's disposal plan with its milestones; an earlier proposal still
    open is superseded. Once per Idempotency-Key."""

    def propose(acting: Person) -> dict[str, Any]:
        case = selectors.case_get(acting, number)
        milestones = [
            (m.task, _milestone_owner(acting, n, m.owner), m.due_on)
            for n, m in enumerate(body.milestones)
        ]
        plan = services.plan_propose(
            actor=acting,
            case=case,
            strategy=body.strategy,
            reason=body.reason,
            target_amount=body.target_amount,
            target_date=body.target_date,
            milestones=milestones,
        )
        return _plan(plan, case.number)

    return api_write(request, body, propose, status=201, idempotency_key=idempotency_key)


class DecisionIn(Versioned):
    approve: bool
    note: str = Field("", max_length=5000)


@router.post(
    "/cases/{number}/plans/{plan_id}/decision",
    response={200: PlanOut, 409: Problem, **PROBLEMS},
    operation_id="plan_decide",
)
def plan_decide(
    request: HttpRequest,
    number: str,
    plan_id: int,
    body: DecisionIn,
    if_match: str | None = if_match(),
) -> Status[Any]:
    """A lead approves or rejects a proposed plan; a stale ``version`` is a 409."""

    def decide(acting: Person, version: int) -> dict[str, Any]:
        plan = services.plan_decide(
            actor=acting,
            plan=selectors.case_plan(acting, number, plan_id),
            version=version,
            approve=body.approve,
            note=body.note,
        )
        plan.refresh_from_db()
        return _plan(plan, number)

    return api_write(request, body, decide, status=200, if_match=if_match)


class MilestoneDoneIn(Input):
    done_on: date


@router.post(
    "/cases/{number}/milestones/{milestone_id}/completion",
    response={200: MilestoneOut, **PROBLEMS},
    operation_id="milestone_complete",
)
def milestone_complete(
    request: HttpRequest, number: str, milestone_id: int, body: MilestoneDoneIn
) -> dict[str, Any]:
    """Mark a milestone of the case's plan done (once: done again is a 422)."""
    acting = person(request)
    milestone = services.milestone_complete(
        actor=acting,
        milestone=selectors.case_milestone(acting, number, milestone_id),
        done_on=body.done_on,
    )
    return {
        "id": milestone.pk,
        "task": milestone.task,
        "owner": milestone.owner.user.get_username(),
        "due_on": day_text(milestone.due_on),
        "done_on": day_text(milestone.done_on),
    }


class InstalmentIn(Input):
    due_on: date
    amount: Decimal = Field(max_digits=18, decimal_places=2, gt=0)


class RepaymentPlanIn(Input):
    kind: RepaymentPlanKind
    agreed_on: date
    instalments: list[InstalmentIn] = Field(min_length=1, max_length=360)
    discount: Decimal = Field(Decimal("0.00"), max_digits=18, decimal_places=2, ge=0)


class InstalmentOut(Schema):
    id: int
    number: int
    due_on: date
    amount: str
    paid: str
    state: str


class RepaymentPlanOut(Schema):
    id: int
    version: int
    case_id: str
    kind: str
    state: str
    total: str
    discount: str
    agreed_on: date
    instalments: list[InstalmentOut]


def _repayment_plan(plan: RepaymentPlan, number: str) -> dict[str, Any]:
    return {
        "id": plan.pk,
        "version": plan.version,
        "case_id": number,
        "kind": plan.kind,
        "state": plan.state,
        "total": money_text(plan.total),
        "discount": money_text(plan.discount),
        "agreed_on": day_text(plan.agreed_on),
        "instalments": [
            {
                "id": i.pk,
                "number": i.number,
                "due_on": day_text(i.due_on),
                "amount": money_text(i.amount),
                "paid": money_text(i.paid),
                "state": i.state,
            }
            for i in plan.instalments.order_by("number")
        ],
    }


@router.post(
    "/cases/{number}/repayment-plans",
    response={201: RepaymentPlanOut, **PROBLEMS},
    operation_id="repayment_plan_agree",
)
def repayment_plan_agree(
    request: HttpRequest,
    number: str,
    body: RepaymentPlanIn,
    idempotency_key: str | None = idempotency_key(),
) -> Status[Any]:
    """Agree instalments with the household (full, or a settlement with a discount); they are
    judged against recoveries from then on. Once per Idempotency-Key."""

    def agree(acting: Person) -> dict[str, Any]:
        case = selectors.case_get(acting, number)
        plan = services.repayment_plan_agree(
            actor=acting,
            case=case,
            kind=body.kind,
            agreed_on=body.agreed_on,
            instalments=[(i.due_on, i.amount) for i in body.instalments],
            discount=body.discount,
        )
        return _repayment_plan(plan, case.number)

    return api_write(request, body, agree, status=201, idempotency_key=idempotency_key)


class CancellationIn(Versioned):
    reason: str = Field(min_length=1, max_length=5000)
    cancelled_on: date | None = None


@router.post(
    "/cases/{number}/repayment-plans/{plan_id}/cancellation",
    response={200: RepaymentPlanOut, 409: Problem, **PROBLEMS},
    operation_id="repayment_plan_cancel",
)
def repayment_plan_cancel(
    request: HttpRequest,
    number: str,
    plan_id: int,
    body: CancellationIn,
    if_match: str | None = if_match(),
) -> Status[Any]:
    """A lead cancels a repayment plan with a reason; a stale ``version`` is a 409."""

    def cancel(acting: Person, version: int) -> dict[str, Any]:
        plan = services.repayment_plan_cancel(
            actor=acting,
            plan=selectors.case_repayment_plan(acting, number, plan_id),
            version=version,
            reason=body.reason,
            cancelled_on=body.cancelled_on,
        )
        return _repayment_plan(plan, number)

    return api_write(request, body, cancel, status=200, if_match=if_match)
