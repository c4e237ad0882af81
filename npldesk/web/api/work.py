"""``/api/v1/cases/{number}/activities`` and plan decisions: the officer's and the lead's work."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Header, Router, Schema, Status

from npldesk.casework import selectors, services
from npldesk.casework.choices import ActivityKind, ActivityParty, ActivityPurpose, Outcome
from npldesk.casework.documents import day_text, money_text
from npldesk.web.api.common import PROBLEMS, Problem, once, person

router = Router(tags=["work"])


class ActivityIn(Schema):
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
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=200),
) -> Status[Any]:
    """Log a contact or step; the outcome ``promise`` records the promise with it."""
    acting = person(request)

    def write() -> tuple[int, Any]:
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
        return 201, {
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

    return once(request, idempotency_key, body.model_dump(mode="json"), write)


class DecisionIn(Schema):
    version: int = Field(ge=1, description="The plan's version as read")
    approve: bool
    note: str = Field("", max_length=5000)


class PlanOut(Schema):
    id: int
    version: int
    case_id: str
    strategy: str
    state: str


@router.post(
    "/cases/{number}/plans/{plan_id}/decision",
    response={200: PlanOut, 409: Problem, **PROBLEMS},
    operation_id="plan_decide",
)
def plan_decide(request: HttpRequest, number: str, plan_id: int, body: DecisionIn) -> Any:
    """A lead approves or rejects a proposed plan; a stale ``version`` is a 409."""
    acting = person(request)
    plan = selectors.case_plan(acting, number, plan_id)
    plan = services.plan_decide(
        actor=acting, plan=plan, version=body.version, approve=body.approve, note=body.note
    )
    plan.refresh_from_db()
    return {
        "id": plan.pk,
        "version": plan.version,
        "case_id": number,
        "strategy": plan.strategy,
        "state": plan.state,
    }
