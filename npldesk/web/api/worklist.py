"""``/api/v1/worklist``: the caller's open cases, most urgent first, with why."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from npldesk.casework import selectors
from npldesk.casework.documents import day_text, money_text
from npldesk.web.api.common import MAX_PAGE, PROBLEMS, Input, person

router = Router(tags=["worklist"])


class WorklistQuery(Input):
    limit: int = Field(50, ge=1, le=MAX_PAGE)


class WorklistItemOut(Schema):
    case_id: str
    reason: str
    urgent_on: date | None
    household: str = Field(description="The household's name, masked")
    state: str
    strategy: str
    tier: str
    deadline: date
    deadline_passed: bool
    broken_promises: int
    plan_breached: bool
    npl_balance: str | None
    team: str | None


class WorklistOut(Schema):
    items: list[WorklistItemOut]
    next: str | None = None


@router.get("/worklist", response={200: WorklistOut, **PROBLEMS}, operation_id="worklist")
def worklist(request: HttpRequest, query: Query[WorklistQuery]) -> dict[str, Any]:
    """The caller's worklist as the web shows it (one page: the most urgent ``limit``)."""
    items = selectors.worklist_items(person(request), today=timezone.localdate(), limit=query.limit)
    return {
        "items": [
            {
                "case_id": item.case.number,
                "reason": item.reason,
                "urgent_on": day_text(item.urgent_on),
                "household": item.household_name,
                "state": item.case.state,
                "strategy": item.case.strategy,
                "tier": item.case.tier,
                "deadline": day_text(item.case.deadline),
                "deadline_passed": item.deadline_passed,
                "broken_promises": item.broken_promises,
                "plan_breached": item.plan_breached,
                "npl_balance": money_text(item.case.npl_balance),
                "team": item.case.team.code if item.case.team is not None else None,
            }
            for item in items
        ],
        "next": None,
    }
