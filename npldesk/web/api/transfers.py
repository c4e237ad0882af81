"""``/api/v1/transfers``: packages of NPLs sold to an asset-management company, prepared by
finance and approved by a leader (someone else)."""

from __future__ import annotations

import base64
import binascii
from datetime import date
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema, Status

from npldesk.casework import selectors, services
from npldesk.casework.documents import day_text, money_text
from npldesk.casework.errors import InvalidAction
from npldesk.casework.models import Person, TransferPackage
from npldesk.web.api.common import (
    MAX_PAGE,
    PROBLEMS,
    Input,
    Problem,
    Versioned,
    api_write,
    idempotency_key,
    if_match,
    person,
)

router = Router(tags=["transfers"])


class TransferOut(Schema):
    code: str
    version: int
    buyer: str
    unit: str
    state: str
    cut_off_on: date
    signed_on: date | None
    price: str
    book_value: str
    loans: int
    prepared_by: str
    approved_by: str | None


def _transfer(package: TransferPackage, loans: int) -> dict[str, Any]:
    return {
        "code": package.code,
        "version": package.version,
        "buyer": package.buyer,
        "unit": package.unit.code,
        "state": package.state,
        "cut_off_on": day_text(package.cut_off_on),
        "signed_on": day_text(package.signed_on),
        "price": money_text(package.price),
        "book_value": money_text(package.book_value),
        "loans": loans,
        "prepared_by": package.prepared_by.user.get_username(),
        "approved_by": None
        if package.approved_by is None
        else package.approved_by.user.get_username(),
    }


class TransferListQuery(Input):
    limit: int = Field(50, ge=1, le=MAX_PAGE)
    cursor: str | None = Field(None, max_length=200)


class TransferPage(Schema):
    items: list[TransferOut]
    next: str | None


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
        offset = int(text)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidAction("cursor: not a cursor this API gave out") from exc
    if offset < 0:
        raise InvalidAction("cursor: not a cursor this API gave out")
    return offset


@router.get("/transfers", response={200: TransferPage, **PROBLEMS}, operation_id="transfers_list")
def transfers_list(request: HttpRequest, query: Query[TransferListQuery]) -> dict[str, Any]:
    """Transfer packages of the caller's units (finance, leaders, analysts), newest first."""
    start = _offset(query.cursor)
    page = list(selectors.transfer_list(person(request))[start : start + query.limit + 1])
    more = len(page) > query.limit
    page = page[: query.limit]
    following = str(start + len(page)).encode()
    return {
        "items": [_transfer(package, package.loan_count) for package in page],  # type: ignore[attr-defined]
        "next": base64.urlsafe_b64encode(following).decode().rstrip("=") if more else None,
    }


class TransferLoanIn(Input):
    case_id: str = Field(max_length=64)
    loan_id: str = Field(max_length=64)


class TransferIn(Input):
    code: str = Field(min_length=1, max_length=32)
    buyer: str = Field(min_length=1, max_length=200)
    unit: str = Field(max_length=32, description="The unit whose NPLs the package holds")
    cut_off_on: date
    price: Decimal = Field(max_digits=18, decimal_places=2, ge=0)
    loans: list[TransferLoanIn] = Field(min_length=1, max_length=5000)


@router.post(
    "/transfers",
    response={201: TransferOut, **PROBLEMS},
    operation_id="transfer_prepare",
)
def transfer_prepare(
    request: HttpRequest,
    body: TransferIn,
    idempotency_key: str | None = idempotency_key(),
) -> Status[Any]:
    """Finance puts NPLs of its unit into a package for sale. A case or unit the caller may not
    see is a 404. Once per Idempotency-Key."""

    def prepare(acting: Person) -> dict[str, Any]:
        unit = selectors.unit_in_scope(acting, body.unit)
        loans = [(selectors.case_get(acting, item.case_id), item.loan_id) for item in body.loans]
        package = services.transfer_prepare(
            actor=acting,
            code=body.code,
            buyer=body.buyer,
            unit=unit,
            cut_off_on=body.cut_off_on,
            price=body.price,
            loans=loans,
        )
        return _transfer(package, len(loans))

    return api_write(request, body, prepare, status=201, idempotency_key=idempotency_key)


class TransferApprovalIn(Versioned):
    signed_on: date
    note: str = Field("", max_length=5000)


@router.post(
    "/transfers/{code}/approval",
    response={200: TransferOut, 409: Problem, **PROBLEMS},
    operation_id="transfer_approve",
)
def transfer_approve(
    request: HttpRequest,
    body: TransferApprovalIn,
    code: str = Path(max_length=32, pattern=r"^[^\x00]+$"),
    if_match: str | None = if_match(),
) -> Status[Any]:
    """A leader approves the sale (not whoever prepared it); the loans leave the books when the
    tape shows them ``transferred``. A stale ``version`` is a 409."""

    def approve(acting: Person, version: int) -> dict[str, Any]:
        package = services.transfer_approve(
            actor=acting,
            package=selectors.transfer_get(acting, code),
            version=version,
            signed_on=body.signed_on,
            note=body.note,
        )
        package.refresh_from_db()
        return _transfer(package, package.loans.count())

    return api_write(request, body, approve, status=200, if_match=if_match)
