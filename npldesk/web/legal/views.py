"""``/legal/``: the legal desk's board (a read: stages are advanced on the case page)."""

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
    today = timezone.localdate()
    board = selectors.legal_board(request.person, today=today)  # type: ignore[attr-defined]
    return render(
        request,
        "web/legal/board.html",
        {
            "board": board,
            "alerts": selectors.clock_alerts(request.person, today=today),  # type: ignore[attr-defined]
            "ClockWord": ClockWord,
            "today": today,
            "LegalStage": LegalStage,
            "stall_days": selectors.LEGAL_STALL_DAYS,
            "hearing_days": selectors.HEARING_DAYS,
            "clock_days": selectors.LEGAL_CLOCK_DAYS,
        },
    )
