"""``/legal/``: the legal desk's board (a read: stages are advanced on the case page);
``?order=`` reads its open legal cases soonest limitation first (the default), soonest
enforcement deadline first, or by case number (``selectors.LEGAL_BOARD_ORDERS``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from npldesk.casework import selectors
from npldesk.casework.choices import ClockWord, LegalStage
from npldesk.web.roles import for_page


@require_GET
@for_page("legal")
def legal_board(request: HttpRequest) -> HttpResponse:
    person = request.person  # type: ignore[attr-defined]
    today = timezone.localdate()
    board = selectors.legal_board(person, today=today, order=request.GET.get("order", ""))
    return render(
        request,
        "web/legal/board.html",
        {
            "board": board,
            "alerts": selectors.clock_alerts(person, today=today),
            "ClockWord": ClockWord,
            "today": today,
            "LegalStage": LegalStage,
            "stall_days": selectors.LEGAL_STALL_DAYS,
            "hearing_days": selectors.HEARING_DAYS,
            "clock_days": selectors.LEGAL_CLOCK_DAYS,
        },
    )
