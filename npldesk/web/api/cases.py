"""``/api/v1/cases``: the case list with the web's filters, one case as the CLI's document."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import date
from typing import Any, Literal

from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from npldesk.casework import selectors, services
from npldesk.casework.choices import (
    Ability,
    CaseState,
    CloseReason,
    LegalStage,
    Strategy,
    Tier,
    Willingness,
)
from npldesk.casework.documents import case_document, case_row
from npldesk.casework.errors import InvalidAction
from npldesk.casework.models import Case, Person
from npldesk.casework.selectors import CaseFilters
from npldesk.web.api.common import (
    MAX_PAGE,
    PROBLEMS,
    Input,
    Problem,
    Versioned,
    api_write,
    if_match,
    person,
    referenced,
)

router = Router(tags=["cases"])

SortKey = Literal["number", "deadline", "-npl_balance", "opened_on", "state"]
# The field each sort orders by before the case number (which breaks ties and is unique).
SORT_FIELD = {
    "deadline": "deadline",
    "-npl_balance": "npl_balance",
    "opened_on": "opened_on",
    "state": "state",
}


class CaseListQuery(Input):
    state: CaseState | None = None
    unit: str | None = Field(None, max_length=32)
    team: str | None = Field(None, max_length=32)
    owner: str | None = Field(None, max_length=150)
    strategy: Strategy | None = None
    tier: Tier | None = None
    legal_stage: LegalStage | None = None
    overdue: bool = False
    closed: bool = Field(False, description="Include closed cases")
    q: str | None = Field(None, max_length=100, description="Case number, borrower id or name")
    sort: SortKey = "number"
    limit: int = Field(50, ge=1, le=MAX_PAGE)
    cursor: str | None = Field(None, max_length=500)


class CaseRowOut(Schema):
    case_id: str
    household: str
    kind: str
    state: str
    segment: str
    strategy: str
    tier: str
    deadline: str | None
    owner: str | None
    team: str | None
    npl_balance: str | None


class CasePage(Schema):
    items: list[CaseRowOut]
    next: str | None


def _cursor_for(case: Case, sort: str) -> str:
    field = SORT_FIELD.get(sort)
    value = None if field is None else getattr(case, field)
    text = json.dumps([None if value is None else str(value), case.number])
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _after(cases: QuerySet[Case], cursor: str, sort: str) -> QuerySet[Case]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, number = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(number, str) or not (value is None or isinstance(value, str)):
            raise ValueError(cursor)
    except (ValueError, binascii.Error, UnicodeDecodeError, TypeError) as exc:
        raise InvalidAction("cursor: not a cursor this API gave out") from exc
    field = SORT_FIELD.get(sort)
    if field is None or value is None:
        return cases.filter(number__gt=number)
    beyond = "lt" if sort.startswith("-") else "gt"
    try:
        return cases.filter(
            Q(**{f"{field}__{beyond}": value}) | Q(**{field: value}, number__gt=number)
        )
    except Exception as exc:  # a value of the wrong type for the field
        raise InvalidAction("cursor: not a cursor this API gave out") from exc


@router.get("/cases", response={200: CasePage, **PROBLEMS}, operation_id="cases_list")
def cases_list(request: HttpRequest, filters: Query[CaseListQuery]) -> dict[str, Any]:
    """Cases the caller may read, filtered as on the web's case list, a page at a time."""
    cases = selectors.case_filter(
        person(request),
        CaseFilters(
            state=filters.state,
            unit=filters.unit,
            team=filters.team,
            owner=filters.owner,
            strategy=filters.strategy,
            tier=filters.tier,
            legal_stage=filters.legal_stage,
            overdue=filters.overdue,
            open_only=not filters.closed,
            query=filters.q,
            sort=filters.sort,
        ),
        today=timezone.localdate(),
    )
    if filters.cursor:
        cases = _after(cases, filters.cursor, filters.sort)
    page = list(cases[: filters.limit + 1])
    more = len(page) > filters.limit
    page = page[: filters.limit]
    return {
        "items": [case_row(case) for case in page],
        "next": _cursor_for(page[-1], filters.sort) if more and page else None,
    }


@router.get("/cases/{number}", response={200: dict[str, Any], **PROBLEMS}, operation_id="case_show")
def case_show(request: HttpRequest, number: str) -> dict[str, Any]:
    """One case in full (``npldesk cases show --format json``), personal data masked."""
    return case_document(selectors.case_detail(person(request), number))


class CaseWrittenOut(CaseRowOut):
    version: int = Field(description="The case's version after the write")


def _written(acting: Any, number: str) -> dict[str, Any]:
    case = selectors.case_get(acting, number)
    return {**case_row(case), "version": case.version}


class CloseIn(Versioned):
    reason: CloseReason
    closed_on: date
    note: str = Field("", max_length=5000)


@router.post(
    "/cases/{number}/closing",
    response={200: CaseWrittenOut, 409: Problem, **PROBLEMS},
    operation_id="case_close",
)
def case_close(
    request: HttpRequest, number: str, body: CloseIn, if_match: str | None = if_match()
) -> Status[Any]:
    """A lead closes a case with a reason; a stale ``version`` is a 409."""

    def close(acting: Person, version: int) -> dict[str, Any]:
        case = services.case_close(
            actor=acting,
            case=selectors.case_get(acting, number),
            version=version,
            reason=body.reason,
            closed_on=body.closed_on,
            note=body.note,
        )
        return _written(acting, case.number)

    return api_write(request, body, close, status=200, if_match=if_match)


class OverrideIn(Versioned):
    reason: str = Field(min_length=1, max_length=5000, description="Why the rules are overridden")
    ability: Ability | None = None
    willingness: Willingness | None = None
    strategy: Strategy | None = None
    tier: Tier | None = None
    deadline: date | None = None


@router.post(
    "/cases/{number}/override",
    response={200: CaseWrittenOut, 409: Problem, **PROBLEMS},
    operation_id="case_override",
)
def case_override(
    request: HttpRequest, number: str, body: OverrideIn, if_match: str | None = if_match()
) -> Status[Any]:
    """A lead sets segment, strategy, tier or deadline by hand, with a reason; the rules then
    leave what was set alone. A stale ``version`` is a 409."""

    def override(acting: Person, version: int) -> dict[str, Any]:
        case = services.case_override(
            actor=acting,
            case=selectors.case_get(acting, number),
            version=version,
            reason=body.reason,
            ability=body.ability,
            willingness=body.willingness,
            strategy=body.strategy,
            tier=body.tier,
            deadline=body.deadline,
        )
        return _written(acting, case.number)

    return api_write(request, body, override, status=200, if_match=if_match)


class AssignmentIn(Versioned):
    owner: str | None = Field(None, max_length=150, description="The new owner's username")
    team: str | None = Field(None, max_length=32, description="The new team's code")
    reason: str = Field("", max_length=5000)


@router.post(
    "/cases/{number}/assignment",
    response={200: CaseWrittenOut, 409: Problem, **PROBLEMS},
    operation_id="case_assign",
)
def case_assign(
    request: HttpRequest, number: str, body: AssignmentIn, if_match: str | None = if_match()
) -> Status[Any]:
    """A lead gives the case to another owner (and team); none of either takes it away."""

    def assign(acting: Person, version: int) -> dict[str, Any]:
        case = selectors.case_get(acting, number)
        owner, team = body.owner, body.team
        case = services.case_assign(
            actor=acting,
            case=case,
            version=version,
            owner=None
            if not owner
            else referenced("owner", lambda: selectors.case_owner_get(acting, case, owner)),
            team=None if not team else referenced("team", lambda: selectors.team_get(acting, team)),
            reason=body.reason,
        )
        return _written(acting, case.number)

    return api_write(request, body, assign, status=200, if_match=if_match)


class ReassignedCaseIn(Input):
    case_id: str = Field(max_length=64)
    version: int = Field(ge=1, description="The case's version as read")


class ReassignmentIn(Input):
    cases: list[ReassignedCaseIn] = Field(min_length=1, max_length=MAX_PAGE)
    owner: str | None = Field(None, max_length=150, description="The new owner's username")
    team: str | None = Field(None, max_length=32, description="The new team's code")
    reason: str = Field(min_length=1, max_length=5000)


class ReassignmentOut(Schema):
    changed: int = Field(description="How many cases changed hands")
    items: list[CaseWrittenOut]


@router.post(
    "/reassignments",
    response={200: ReassignmentOut, 409: Problem, **PROBLEMS},
    operation_id="case_reassign_bulk",
)
def case_reassign_bulk(request: HttpRequest, body: ReassignmentIn) -> dict[str, Any]:
    """A lead gives many cases to another owner (and team) at once, each at the version read:
    one case changed since fails the whole batch with a 409 and changes none."""
    acting = person(request)
    chosen = {item.case_id: item.version for item in body.cases}
    cases = selectors.team_cases_for_reassignment(acting, list(chosen))
    for case in cases:
        # The batch is compared against what the caller read, not what the database holds now.
        case.version = chosen[case.number]
    owner, team = body.owner, body.team
    changed = services.case_reassign_bulk(
        actor=acting,
        cases=cases,
        owner=None
        if not owner
        else referenced("owner", lambda: selectors.case_owner_get(acting, cases[0], owner)),
        team=None if not team else referenced("team", lambda: selectors.team_get(acting, team)),
        reason=body.reason,
    )
    return {
        "changed": changed,
        "items": [
            {**case_row(case), "version": case.version}
            for case in selectors.team_cases_for_reassignment(acting, list(chosen))
        ],
    }
