"""``/api/v1/cases/{number}/household`` and its investigations: what was found about the
household, read masked, and a new investigation recorded."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from npldesk.casework import selectors, services
from npldesk.casework.documents import day_text, money_text
from npldesk.casework.models import Investigation, Person
from npldesk.web.api.common import PROBLEMS, Input, api_write, idempotency_key, person

router = Router(tags=["households"])


def _money() -> Any:
    return Field(Decimal("0.00"), max_digits=18, decimal_places=2, ge=0)


class InvestigationOut(Schema):
    id: int
    investigated_on: date
    investigator: str
    family_status: str
    dependants: int
    income_source: str
    employment_state: str
    monthly_income: str
    vehicles: str
    deposits: str
    business_assets: str
    unencumbered_assets: str
    contactability: str


class HouseholdOut(Schema):
    case_id: str
    borrower_id: str
    name: str = Field(description="Masked unless asked for on the web by who works the case")
    id_number: str
    phones: str
    address: str
    masked: bool
    version: int
    investigations: list[InvestigationOut]


def _investigation(item: Investigation) -> dict[str, Any]:
    return {
        "id": item.pk,
        "investigated_on": day_text(item.investigated_on),
        "investigator": item.investigator.user.get_username(),
        "family_status": item.family_status,
        "dependants": item.dependants,
        "income_source": item.income_source,
        "employment_state": item.employment_state,
        "monthly_income": money_text(item.monthly_income),
        "vehicles": money_text(item.vehicles),
        "deposits": money_text(item.deposits),
        "business_assets": money_text(item.business_assets),
        "unencumbered_assets": money_text(item.unencumbered_assets),
        "contactability": item.contactability,
    }


@router.get(
    "/cases/{number}/household",
    response={200: HouseholdOut, **PROBLEMS},
    operation_id="household_show",
)
def household_show(request: HttpRequest, number: str) -> dict[str, Any]:
    """The case's household, personal data masked, with its investigations newest first."""
    detail = selectors.case_detail(person(request), number)
    household = detail.household
    return {
        "case_id": detail.case.number,
        "borrower_id": household.borrower_id,
        "name": household.name,
        "id_number": household.id_number,
        "phones": household.phones,
        "address": household.address,
        "masked": household.masked,
        "version": detail.case.household.version,
        "investigations": [_investigation(item) for item in detail.investigations],
    }


class PropertyIn(Input):
    type: str = Field("", max_length=100)
    location: str = Field("", max_length=200)
    estimated_value: Decimal = _money()
    encumbrances: Decimal = _money()


class InvestigationIn(Input):
    investigated_on: date
    family_status: str = Field("", max_length=200)
    dependants: int = Field(0, ge=0, le=100)
    income_source: str = Field("", max_length=200)
    employment_state: str = Field("", max_length=200)
    monthly_income: Decimal = _money()
    properties: list[PropertyIn] = Field(default_factory=list, max_length=50)
    vehicles: Decimal = _money()
    deposits: Decimal = _money()
    business_assets: Decimal = _money()
    contactability: str = Field("", max_length=200)
    health: str = Field("", max_length=200)
    notes: str = Field("", max_length=5000)


@router.post(
    "/cases/{number}/investigations",
    response={201: InvestigationOut, **PROBLEMS},
    operation_id="investigation_record",
)
def investigation_record(
    request: HttpRequest,
    number: str,
    body: InvestigationIn,
    idempotency_key: str | None = idempotency_key(),
) -> Status[Any]:
    """Record what was found about the household; the case's ability is derived from it.
    Once per Idempotency-Key."""

    def record(acting: Person) -> dict[str, Any]:
        investigation = services.investigation_record(
            actor=acting,
            case=selectors.case_get(acting, number),
            investigated_on=body.investigated_on,
            family_status=body.family_status,
            dependants=body.dependants,
            income_source=body.income_source,
            employment_state=body.employment_state,
            monthly_income=body.monthly_income,
            properties=[item.model_dump() for item in body.properties],
            vehicles=body.vehicles,
            deposits=body.deposits,
            business_assets=body.business_assets,
            contactability=body.contactability,
            health=body.health,
            notes=body.notes,
        )
        return _investigation(investigation)

    return api_write(request, body, record, status=201, idempotency_key=idempotency_key)
