"""Money on a case: recoveries entered once per Idempotency-Key, confirmed and reversed, and
write-off applications with their steps (prepared, reviewed, approved by different people)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema, Status

from npldesk.casework import selectors, services
from npldesk.casework.choices import RecoverySource
from npldesk.casework.documents import day_text, money_text
from npldesk.casework.models import Person, Recovery, WriteOff
from npldesk.web.api.common import (
    PROBLEMS,
    Input,
    Problem,
    Versioned,
    api_write,
    idempotency_key,
    if_match,
    person,
)

router = Router(tags=["ledger"])


class RecoveryIn(Input):
    loan_id: str = Field(max_length=64)
    received_on: date
    amount: Decimal = Field(max_digits=18, decimal_places=2, gt=0)
    source: RecoverySource
    principal_part: Decimal | None = Field(None, max_digits=18, decimal_places=2, ge=0)
    note: str = Field("", max_length=5000)


class RecoveryOut(Schema):
    id: int
    case_id: str
    loan_id: str
    received_on: date
    amount: str
    principal_part: str
    source: str
    after_write_off: bool
    entered_by: str
    confirmed: bool


def _new_recovery(entry: Recovery, number: str, entered_by: Person) -> dict[str, Any]:
    """An entry just written (by ``entered_by``): finance has not confirmed it yet."""
    return {
        "id": entry.pk,
        "case_id": number,
        "loan_id": entry.loan_id,
        "received_on": day_text(entry.received_on),
        "amount": money_text(entry.amount),
        "principal_part": money_text(entry.principal_part),
        "source": entry.source,
        "after_write_off": entry.after_write_off,
        "entered_by": entered_by.user.get_username(),
        "confirmed": False,
    }


@router.post(
    "/cases/{number}/recoveries",
    response={201: RecoveryOut, **PROBLEMS},
    operation_id="recovery_enter",
)
def recovery_enter(
    request: HttpRequest,
    number: str,
    body: RecoveryIn,
    idempotency_key: str | None = idempotency_key(),
) -> Status[Any]:
    """Enter money received for a loan of the case; it waits for finance's confirmation.

    Send an ``Idempotency-Key``: the same key again returns the first response and enters
    nothing; the same key with another body is refused (422).
    """

    def enter(acting: Person) -> dict[str, Any]:
        case = selectors.case_get(acting, number)
        entry = services.recovery_enter(
            actor=acting,
            case=case,
            loan_id=body.loan_id,
            received_on=body.received_on,
            amount=body.amount,
            source=body.source,
            principal_part=body.principal_part,
            note=body.note,
        )
        return _new_recovery(entry, case.number, acting)

    return api_write(request, body, enter, status=201, idempotency_key=idempotency_key)


class ConfirmationOut(Schema):
    recovery_id: int
    confirmed_by: str


@router.post(
    "/cases/{number}/recoveries/{recovery_id}/confirmation",
    response={200: ConfirmationOut, **PROBLEMS},
    operation_id="recovery_confirm",
)
def recovery_confirm(request: HttpRequest, number: str, recovery_id: int) -> dict[str, Any]:
    """Finance or a lead confirms an entry; whoever entered it cannot (four eyes)."""
    acting = person(request)
    entry = selectors.case_recovery(acting, number, recovery_id)
    services.recovery_confirm(actor=acting, recovery=entry)
    return {"recovery_id": entry.pk, "confirmed_by": acting.user.get_username()}


class ReversalIn(Input):
    reversed_on: date
    reason: str = Field(min_length=1, max_length=5000)


@router.post(
    "/cases/{number}/recoveries/{recovery_id}/reversal",
    response={201: RecoveryOut, **PROBLEMS},
    operation_id="recovery_reverse",
)
def recovery_reverse(
    request: HttpRequest,
    number: str,
    recovery_id: int,
    body: ReversalIn,
    idempotency_key: str | None = idempotency_key(),
) -> Status[Any]:
    """Correct an entry with its exact opposite (never an edit); once per Idempotency-Key."""

    def reverse(acting: Person) -> dict[str, Any]:
        entry = selectors.case_recovery(acting, number, recovery_id)
        reversal = services.recovery_reverse(
            actor=acting, recovery=entry, reversed_on=body.reversed_on, reason=body.reason
        )
        return _new_recovery(reversal, number, acting)

    return api_write(request, body, reverse, status=201, idempotency_key=idempotency_key)


class WriteOffIn(Input):
    loan_id: str = Field(max_length=64)
    principal: Decimal = Field(max_digits=18, decimal_places=2, gt=0)
    interest: Decimal = Field(Decimal("0.00"), max_digits=18, decimal_places=2, ge=0)
    prepared_on: date
    reason: str = Field(min_length=1, max_length=5000)


class WriteOffStepOut(Schema):
    step: str
    by: str
    note: str


class WriteOffOut(Schema):
    id: int
    version: int
    case_id: str
    loan_id: str
    principal: str
    interest: str
    state: str
    prepared_on: date
    approved_on: date | None
    steps: list[WriteOffStepOut]


def _writeoff(writeoff: WriteOff, number: str) -> dict[str, Any]:
    writeoff.refresh_from_db()
    return {
        "id": writeoff.pk,
        "version": writeoff.version,
        "case_id": number,
        "loan_id": writeoff.loan_id,
        "principal": money_text(writeoff.principal),
        "interest": money_text(writeoff.interest),
        "state": writeoff.state,
        "prepared_on": day_text(writeoff.prepared_on),
        "approved_on": day_text(writeoff.approved_on),
        "steps": [
            {"step": d.step, "by": d.by.user.get_username(), "note": d.note}
            for d in writeoff.decisions.select_related("by__user").order_by("at", "id")
        ],
    }


@router.post(
    "/cases/{number}/writeoffs",
    response={201: WriteOffOut, **PROBLEMS},
    operation_id="writeoff_prepare",
)
def writeoff_prepare(
    request: HttpRequest,
    number: str,
    body: WriteOffIn,
    idempotency_key: str | None = idempotency_key(),
) -> Status[Any]:
    """Finance prepares a write-off application for a loan of the case; a second finance
    officer reviews it and a leader approves it. Once per Idempotency-Key."""

    def prepare(acting: Person) -> dict[str, Any]:
        case = selectors.case_get(acting, number)
        writeoff = services.writeoff_prepare(
            actor=acting,
            case=case,
            loan_id=body.loan_id,
            principal=body.principal,
            interest=body.interest,
            prepared_on=body.prepared_on,
            reason=body.reason,
        )
        return _writeoff(writeoff, case.number)

    return api_write(request, body, prepare, status=201, idempotency_key=idempotency_key)


class WriteOffDecisionIn(Versioned):
    approve: bool
    note: str = Field("", max_length=5000)


class WriteOffDecisionOn(WriteOffDecisionIn):
    decided_on: date | None = Field(
        None, description="The day of the decision (an approval's date); today by default"
    )


@router.post(
    "/cases/{number}/writeoffs/{writeoff_id}/decision",
    response={200: WriteOffOut, 409: Problem, **PROBLEMS},
    operation_id="writeoff_decide",
)
def writeoff_decide(
    request: HttpRequest,
    number: str,
    writeoff_id: int,
    body: WriteOffDecisionOn,
    if_match: str | None = if_match(),
    idempotency_key: str | None = idempotency_key(),
) -> Status[Any]:
    """The write-off's next step, approved or rejected, each by someone else: a second finance
    officer reviews a prepared one, a leader approves a reviewed one (the tape's
    ``written_off`` row is what takes the loan off the books). Once per Idempotency-Key; a
    stale ``version`` is a 409."""

    def decide(acting: Person, version: int) -> dict[str, Any]:
        writeoff = services.writeoff_decide(
            actor=acting,
            writeoff=selectors.case_writeoff(acting, number, writeoff_id),
            version=version,
            approve=body.approve,
            note=body.note,
            on=body.decided_on or timezone.localdate(),
        )
        return _writeoff(writeoff, number)

    return api_write(
        request, body, decide, status=200, if_match=if_match, idempotency_key=idempotency_key
    )
