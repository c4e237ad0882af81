"""``/`` and ``/worklist/``: the officer's and the lead's day, most urgent first."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from npldesk.casework import selectors


@require_GET
def worklist(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    items = selectors.worklist_items(request.person, today=today)  # type: ignore[attr-defined]
    return render(request, "web/worklist/worklist.html", {"items": items, "today": today})
