"""``/api/v1/cases/{number}/recoveries``: money received, entered once per Idempotency-Key."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Header, Router, Schema, Status

from npldesk.casework import selectors, services
from npldesk.casework.choices import RecoverySource
from npldesk.casework.documents import day_text, money_text
from npldesk.web.api.common import PROBLEMS, once, person

router = Router(tags=["ledger"])


class RecoveryIn(Schema):
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


@router.post(
    "/cases/{number}/recoveries",
    response={201: RecoveryOut, **PROBLEMS},
    operation_id="recovery_enter",
)
def recovery_enter(
    request: HttpRequest,
    number: str,
    body: RecoveryIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=200),
) -> Status[Any]:
    """Enter money received for a loan of the case; it waits for finance's confirmation.

    Send an ``Idempotency-Key``: the same key again returns the first response and enters
    nothing; the same key with another body is refused (422).
    """
    acting = person(request)

    def write() -> tuple[int, Any]:
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
        return 201, {
            "id": entry.pk,
            "case_id": case.number,
            "loan_id": entry.loan_id,
            "received_on": day_text(entry.received_on),
            "amount": money_text(entry.amount),
            "principal_part": money_text(entry.principal_part),
            "source": entry.source,
            "after_write_off": entry.after_write_off,
            "entered_by": acting.user.get_username(),
            "confirmed": False,
        }

    return once(request, idempotency_key, body.model_dump(mode="json"), write)


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


class ReversalIn(Schema):
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
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=200),
) -> Status[Any]:
    """Correct an entry with its exact opposite (never an edit); once per Idempotency-Key."""
    acting = person(request)

    def write() -> tuple[int, Any]:
        entry = selectors.case_recovery(acting, number, recovery_id)
        reversal = services.recovery_reverse(
            actor=acting, recovery=entry, reversed_on=body.reversed_on, reason=body.reason
        )
        return 201, {
            "id": reversal.pk,
            "case_id": number,
            "loan_id": reversal.loan_id,
            "received_on": day_text(reversal.received_on),
            "amount": money_text(reversal.amount),
            "principal_part": money_text(reversal.principal_part),
            "source": reversal.source,
            "after_write_off": reversal.after_write_off,
            "entered_by": acting.user.get_username(),
            "confirmed": False,
        }

    return once(request, idempotency_key, body.model_dump(mode="json"), write)
