"""``/api/v1/cases/{number}/legal-cases``: the legal desk opens a lawsuit or arbitration, moves
it through its stages (with the hearings and dates each sets) and books its costs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from npldesk.casework import selectors, services
from npldesk.casework.choices import LegalStage
from npldesk.casework.documents import day_text, money_text
from npldesk.casework.models import LegalCase, Person
from npldesk.web.api.common import (
    PROBLEMS,
    Input,
    Problem,
    Versioned,
    api_write,
    idempotency_key,
    if_match,
    referenced,
)

router = Router(tags=["legal"])


class LegalCaseOut(Schema):
    id: int
    version: int
    case_id: str
    court: str
    court_case_number: str
    lawyer: str
    holder: str
    stage: str
    stage_since: date
    claim_amount: str
    costs: str
    next_hearing_on: date | None
    limitation_date: date | None
    seizure_expiry_date: date | None
    judgment_effective_on: date | None
    performance_due_on: date | None


def _legal_case(legal_case: LegalCase, number: str) -> dict[str, Any]:
    legal_case.refresh_from_db()
    return {
        "id": legal_case.pk,
        "version": legal_case.version,
        "case_id": number,
        "court": legal_case.court,
        "court_case_number": legal_case.court_case_number,
        "lawyer": legal_case.lawyer,
        "holder": legal_case.holder.user.get_username(),
        "stage": legal_case.stage,
        "stage_since": day_text(legal_case.stage_since),
        "claim_amount": money_text(legal_case.claim_amount),
        "costs": money_text(legal_case.costs),
        "next_hearing_on": day_text(legal_case.next_hearing_on),
        "limitation_date": day_text(legal_case.limitation_date),
        "seizure_expiry_date": day_text(legal_case.seizure_expiry_date),
        "judgment_effective_on": day_text(legal_case.judgment_effective_on),
        "performance_due_on": day_text(legal_case.performance_due_on),
    }


class LegalCaseIn(Input):
    court: str = Field(min_length=1, max_length=200)
    claim_amount: Decimal = Field(max_digits=18, decimal_places=2, gt=0)
    opened_on: date
    lawyer: str = Field("", max_length=200)
    limitation_date: date | None = None
    holder: str | None = Field(
        None, max_length=150, description="Who of the legal desk holds it; the caller by default"
    )


@router.post(
    "/cases/{number}/legal-cases",
    response={201: LegalCaseOut, **PROBLEMS},
    operation_id="legal_case_open",
)
def legal_case_open(
    request: HttpRequest,
    number: str,
    body: LegalCaseIn,
    idempotency_key: str | None = idempotency_key(),
) -> Status[Any]:
    """The legal desk opens a lawsuit or arbitration; it escalates the case. Once per
    Idempotency-Key."""

    def open_legal_case(acting: Person) -> dict[str, Any]:
        case = selectors.case_get(acting, number)
        holder = body.holder
        legal_case = services.legal_case_open(
            actor=acting,
            case=case,
            court=body.court,
            claim_amount=body.claim_amount,
            opened_on=body.opened_on,
            lawyer=body.lawyer,
            limitation_date=body.limitation_date,
            holder=None
            if not holder
            else referenced("holder", lambda: selectors.person_get(acting, holder)),
        )
        return _legal_case(legal_case, case.number)

    return api_write(request, body, open_legal_case, status=201, idempotency_key=idempotency_key)


class StageIn(Versioned):
    stage: LegalStage = Field(
        description="The next stage, or the present one to record a hearing or a date only"
    )
    entered_on: date
    note: str = Field("", max_length=5000)
    court_case_number: str | None = Field(None, max_length=100)
    next_hearing_on: date | None = None
    seizure_expiry_date: date | None = None
    limitation_date: date | None = None
    judgment_effective_on: date | None = None
    performance_due_on: date | None = None


@router.post(
    "/cases/{number}/legal-cases/{legal_case_id}/stages",
    response={200: LegalCaseOut, 409: Problem, **PROBLEMS},
    operation_id="legal_case_advance",
)
def legal_case_advance(
    request: HttpRequest,
    number: str,
    legal_case_id: int,
    body: StageIn,
    if_match: str | None = if_match(),
) -> Status[Any]:
    """Enter the next stage (stages may be skipped, never gone back to), or at the same stage
    record the next hearing and the dates that expire; a stale ``version`` is a 409."""

    def advance(acting: Person, version: int) -> dict[str, Any]:
        legal_case = services.legal_case_advance(
            actor=acting,
            legal_case=selectors.case_legal_case(acting, number, legal_case_id),
            version=version,
            stage=body.stage,
            entered_on=body.entered_on,
            note=body.note,
            court_case_number=body.court_case_number or None,
            next_hearing_on=body.next_hearing_on,
            seizure_expiry_date=body.seizure_expiry_date,
            limitation_date=body.limitation_date,
            judgment_effective_on=body.judgment_effective_on,
            performance_due_on=body.performance_due_on,
        )
        return _legal_case(legal_case, number)

    return api_write(request, body, advance, status=200, if_match=if_match)


class CostIn(Versioned):
    amount: Decimal = Field(max_digits=18, decimal_places=2, gt=0)
    note: str = Field("", max_length=5000)


@router.post(
    "/cases/{number}/legal-cases/{legal_case_id}/costs",
    response={200: LegalCaseOut, 409: Problem, **PROBLEMS},
    operation_id="legal_case_add_costs",
)
def legal_case_add_costs(
    request: HttpRequest,
    number: str,
    legal_case_id: int,
    body: CostIn,
    if_match: str | None = if_match(),
    idempotency_key: str | None = idempotency_key(),
) -> Status[Any]:
    """Book court fees, lawyer's fees and other costs; once per Idempotency-Key, and a stale
    ``version`` is a 409."""

    def add_costs(acting: Person, version: int) -> dict[str, Any]:
        legal_case = services.legal_case_add_costs(
            actor=acting,
            legal_case=selectors.case_legal_case(acting, number, legal_case_id),
            version=version,
            amount=body.amount,
            note=body.note,
        )
        return _legal_case(legal_case, number)

    return api_write(
        request, body, add_costs, status=200, if_match=if_match, idempotency_key=idempotency_key
    )
